import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readServiceRecord, serviceEntry } from './platform';

describe('readServiceRecord', () => {
  let root: string;
  let service: ChildProcess | undefined;
  let stranger: ChildProcess | undefined;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'orrery-record-'));
  });

  afterEach(() => {
    service?.kill('SIGKILL');
    stranger?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  /** A process that idles running `script` (created first), as a service or another program would. */
  function runScript(script: string): ChildProcess {
    mkdirSync(join(script, '..'), { recursive: true });
    writeFileSync(script, 'setInterval(() => undefined, 60_000);\n');
    const child = spawn(process.execPath, [script], { stdio: 'ignore' });
    if (child.pid === undefined) throw new Error(`could not start ${script}`);
    return child;
  }

  it('when a recorded pid now runs another program (reused after a reboot), the service is not taken for running', () => {
    service = runScript(serviceEntry('command', root));
    stranger = runScript(join(root, 'elsewhere', 'main.js'));
    const file = join(root, 'services.json');
    writeFileSync(
      file,
      JSON.stringify([
        { name: 'command', pid: service.pid, logFile: join(root, 'command.log') },
        { name: 'ingestion', pid: stranger.pid, logFile: join(root, 'ingestion.log') },
        { name: 'projector', pid: process.pid, logFile: join(root, 'projector.log') },
      ]),
    );
    expect(readServiceRecord(file, root).map((recorded) => recorded.name)).toEqual(['command']);
  });
});
