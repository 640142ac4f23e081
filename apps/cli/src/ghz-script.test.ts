// infra/dev/ghz.sh (npm run bench:ghz) run against a stand-in ghz that records its arguments, in a copy of
// the script's corner of the repository (its .orrery output goes there, not into this checkout's).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', '..', 'infra', 'dev', 'ghz.sh');

/** Runs ghz.sh with `args`; returns the argument list of each ghz call it made. */
function ghzCalls(args: readonly string[]): string[][] {
  const root = mkdtempSync(join(tmpdir(), 'orrery-ghz-script-'));
  try {
    for (const dir of ['infra/dev', 'infra/local', 'apps/cli/dist', 'bin']) mkdirSync(join(root, dir), { recursive: true });
    copyFileSync(SCRIPT, join(root, 'infra/dev/ghz.sh'));
    writeFileSync(join(root, 'infra/local/stack.sh'), '# stand-in: no engine variables\n');
    writeFileSync(join(root, 'apps/cli/dist/main.js'), '// stand-in for `orrery bench ghz-ladder-report`\n');
    const calls = join(root, 'ghz-calls.jsonl');
    // The stand-in ghz: a JSON report for -O json (a ladder step), else the summary line the script reads.
    writeFileSync(
      join(root, 'bin/ghz'),
      `#!/usr/bin/env node
const args = process.argv.slice(2);
require('fs').appendFileSync(${JSON.stringify(calls)}, JSON.stringify(args) + '\\n');
console.log(args.includes('-O') ? JSON.stringify({ options: { rps: 1 }, count: 1, total: 1e9, details: [] }) : 'Count:\\t0');
`,
    );
    chmodSync(join(root, 'bin/ghz'), 0o755);
    const run = spawnSync('bash', [join(root, 'infra/dev/ghz.sh'), ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${join(root, 'bin')}:${process.env.PATH ?? ''}`,
        // Nothing listens there: no process of this machine is measured, no metrics are read.
        ORRERY_RECOMMENDER_ADDRESS: '127.0.0.1:1',
        ORRERY_SCORING_ZMQ_ENDPOINT: 'tcp://127.0.0.1:1',
        ORRERY_METRICS_PORT_SCORING: '1',
        ORRERY_BENCH_WRITE_RATE: '0',
      },
    });
    if (run.status !== 0) throw new Error(`ghz.sh failed (${run.status}): ${run.stderr}`);
    return readFileSync(calls, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('npm run bench:ghz', () => {
  it('sends each call at a rate when it is due (--async), not when one of the -c workers is free', () => {
    const [byDefault] = ghzCalls([]);
    expect(byDefault).toEqual(expect.arrayContaining(['--rps', '500', '-c', '8', '--async']));
    const [given] = ghzCalls(['--rps', '300', '-c', '16', '--connections', '4', '-n', '5000']);
    expect(given).toContain('--async');
    const [short] = ghzCalls(['-r', '300', '-n', '3000']);
    expect(short).toContain('--async');
  });

  it('runs every call of a ladder, the warm-up too, as an open loop', () => {
    const calls = ghzCalls(['--ladder', '50,100', '--ladder-seconds', '1']);
    expect(calls).toHaveLength(3);
    for (const call of calls) expect(call).toContain('--async');
  });

  it('leaves a closed loop (no rate) closed, and does not repeat a --async given', () => {
    expect(ghzCalls(['-c', '16', '--connections', '4', '-z', '20s'])[0]).not.toContain('--async');
    expect(ghzCalls(['--rps', '300', '--async', '-n', '3000'])[0]!.filter((arg) => arg === '--async')).toHaveLength(1);
    expect(ghzCalls(['--ladder', '50', '--ladder-seconds', '1', '--async', '-c', '8'])[1]!.filter((arg) => arg === '--async')).toHaveLength(1);
  });
});
