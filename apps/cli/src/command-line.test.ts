import { bufferedOutput, UsageError } from '@orrery/config';
import { COMMANDS, commandUsage, runCommandLine, USAGE, type Command, type CommandHandlers } from './command-line';

/** Handlers that record what ran, and an output that keeps what was written. */
function fakeCommandLine() {
  const ran: Array<{ command: Command; args: string[] }> = [];
  const handlers = Object.fromEntries(COMMANDS.map((command) => [command, (args: string[]) => (ran.push({ command, args }), 0)])) as CommandHandlers;
  const output = bufferedOutput();
  return { ran, handlers, written: output.written, run: (...argv: string[]) => runCommandLine(argv, handlers, output) };
}

describe('orrery command line', () => {
  it.each(COMMANDS.map((command) => [command]))('when --help follows %s, its usage is printed and the command does not run', async (command) => {
    const cli = fakeCommandLine();
    await expect(cli.run(command, '--help')).resolves.toBe(0);
    await expect(cli.run(command, '--users', '5', '-h')).resolves.toBe(0);
    expect(cli.ran).toEqual([]);
    expect(cli.written.out).toContain(`orrery ${command}`);
    expect(cli.written.out).not.toContain('Commands:');
  });

  it('when down or status is given an argument, it is refused and nothing is stopped or listed', async () => {
    const cli = fakeCommandLine();
    await expect(cli.run('down', '--all')).resolves.toBe(2);
    await expect(cli.run('status', 'now')).resolves.toBe(2);
    expect(cli.ran).toEqual([]);
    expect(cli.written.err).toBe('orrery down takes no arguments, got "--all" (orrery down --help)\norrery status takes no arguments, got "now" (orrery status --help)\n');
  });

  it('a command gets the arguments after its name, --help after -- included', async () => {
    const cli = fakeCommandLine();
    await expect(cli.run('train', '--no-promote', '--factors', '32')).resolves.toBe(0);
    await expect(cli.run('down')).resolves.toBe(0);
    await expect(cli.run('import', '--', '--help')).resolves.toBe(0);
    expect(cli.ran).toEqual([
      { command: 'train', args: ['--no-promote', '--factors', '32'] },
      { command: 'down', args: [] },
      { command: 'import', args: ['--', '--help'] },
    ]);
  });

  it("when a command's option is wrong, it says which with the command's usage and exit code 2; other errors go through", async () => {
    const cli = fakeCommandLine();
    const refusing = { ...cli.handlers, seed: () => Promise.reject(new UsageError('--users must be a positive integer, got "x"')) };
    const output = bufferedOutput();
    await expect(runCommandLine(['seed', '--users', 'x'], refusing, output)).resolves.toBe(2);
    expect(output.written).toEqual({ out: '', err: `orrery seed: --users must be a positive integer, got "x"\n\n${commandUsage('seed')}` });
    const failing = { ...cli.handlers, seed: () => Promise.reject(new Error('ingestion unreachable')) };
    await expect(runCommandLine(['seed'], failing, output)).rejects.toThrow('ingestion unreachable');
  });

  it('when the command is unknown, it says so with exit code 2; help and no command print the whole usage', async () => {
    const cli = fakeCommandLine();
    await expect(cli.run('stop')).resolves.toBe(2);
    expect(cli.written.err.split('\n')[0]).toBe('unknown command "stop"');
    await expect(cli.run()).resolves.toBe(0);
    await expect(cli.run('help', 'seed')).resolves.toBe(0);
    expect(cli.written.out).toBe(`${USAGE}${commandUsage('seed')}`);
    expect(cli.ran).toEqual([]);
  });

  it("a command's usage holds each of its entries and their descriptions", () => {
    const bench = commandUsage('bench');
    expect(bench).toMatch(/^orrery bench \[--seconds N\]/);
    expect(bench).toContain('        [--ladder R1,R2,…|off]');
    expect(bench).toContain('orrery bench ghz-ladder-report DIR');
    expect(bench).toContain('orrery bench ingest [--seconds N]');
    expect(bench).not.toContain('write-load');
    expect(commandUsage('down')).toBe('orrery down               stop the services started by `up`\n');
  });
});
