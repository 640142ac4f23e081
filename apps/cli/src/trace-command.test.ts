import { createServer } from 'node:net';
import { traceCommand } from './trace-command';

/** A URL on a local port nothing listens on. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };
  await new Promise((closed) => server.close(closed));
  return `http://127.0.0.1:${port}`;
}

/** The exit code and what `orrery trace` printed. */
async function run(jaegerUrl: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    return { code: await traceCommand(jaegerUrl, args), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('orrery trace, before it reads anything', () => {
  let nowhere: string;
  beforeAll(async () => {
    nowhere = await closedPortUrl();
  });

  it.each([
    [['not-a-trace'], '"not-a-trace" is not a trace id'],
    [['4bf92f3577b34da6a3ce929d0e0e4736', '0af7651916cd43dd8448eb211c80319c'], 'one trace id at a time, not 2'],
    [['4bf92f3577b34da6a3ce929d0e0e4736', '--service', 'recommender'], 'a trace id or --service, not both'],
    [['4bf92f3577b34da6a3ce929d0e0e4736', '--wait', 'soon'], '--wait "soon" must be a whole number from 0 to 600'],
    [['--service', 'recommender', '--limit', '0'], '--limit "0" must be a whole number from 1 to 1000'],
    [['--service', 'recommender', '--lookback', '1w'], '--lookback "1w" is not a duration'],
    [['--last'], '--operation and --last search the traces of a --service'],
    [['--colour'], "Unknown option '--colour'"],
    [[], 'name a trace id, or --service NAME to list its newest traces'],
  ])('refuses %p with exit code 2, saying what is wrong, and the usage', async (args, message) => {
    const { code, out, err } = await run(nowhere, args);
    expect(code).toBe(2);
    expect(err).toContain(`orrery trace: ${message}`);
    expect(err).toContain('trace <trace id> [--attributes]');
    expect(out).toBe('');
  });

  it('says which Jaeger it cannot reach, with exit code 1', async () => {
    const { code, err } = await run(nowhere, ['4bf92f3577b34da6a3ce929d0e0e4736', '--wait', '0']);
    expect(code).toBe(1);
    expect(err).toContain(`cannot reach Jaeger's query API at ${nowhere}`);
    expect(err).toMatch(/\(connect ECONNREFUSED 127\.0\.0\.1:\d+\); is the platform up \(npm start\)\? ORRERY_JAEGER_QUERY_URL names another Jaeger/);
  });
});
