// infra/dev/ghz.sh (npm run bench:ghz) run against a stand-in ghz that records its arguments, in a copy of
// the script's corner of the repository (its .orrery output goes there, not into this checkout's).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', '..', 'infra', 'dev', 'ghz.sh');

/**
 * A stand-in process list: `ss` shows `listening` on the recommender's port, `pgrep -P` gives `children`,
 * and ORRERY_PROC_ROOT holds a `stat` of each pid in `ticks` (utime + stime); `duringRun`, the same, is
 * what the ghz of a ladder step leaves behind (a worker replaced while it ran).
 */
interface FakeProcesses {
  readonly listening: number;
  readonly children: readonly number[];
  readonly ticks: Readonly<Record<number, number>>;
  readonly duringRun: { readonly children: readonly number[]; readonly ticks: Readonly<Record<number, number>> };
}

/** Shell lines that lay out `children` and the /proc stat of each pid of `ticks` (utime the ticks, stime 0), the old ones removed. */
function layOut(root: string, children: readonly number[], ticks: Readonly<Record<number, number>>): string {
  const proc = join(root, 'proc');
  const stats = Object.entries(ticks).map(([pid, used]) => `mkdir -p ${proc}/${pid} && echo '${pid} (node) S 1 1 1 0 -1 0 0 0 0 0 ${used} 0 0 0' > ${proc}/${pid}/stat`);
  return [`rm -rf ${proc} && mkdir -p ${proc}`, `printf '%s\n' ${children.join(' ')} > ${join(root, 'children')}`, ...stats].join('\n');
}

/** Runs ghz.sh with `args`; returns the argument list of each ghz call it made, what it wrote to stderr and each ladder step's `<rate>.cpu.json`. */
function runGhzScript(args: readonly string[], processes?: FakeProcesses): { calls: string[][]; stderr: string; ladderCpu: Record<string, Record<string, number>> } {
  const root = mkdtempSync(join(tmpdir(), 'orrery-ghz-script-'));
  try {
    for (const dir of ['infra/dev', 'infra/local', 'apps/cli/dist', 'bin', 'proc']) mkdirSync(join(root, dir), { recursive: true });
    copyFileSync(SCRIPT, join(root, 'infra/dev/ghz.sh'));
    copyFileSync(join(dirname(SCRIPT), 'process-cpu.sh'), join(root, 'infra/dev/process-cpu.sh'));
    if (processes) {
      writeFileSync(join(root, 'bin/ss'), `#!/usr/bin/env bash
[[ "$2" == "sport = :1" ]] && echo 'LISTEN 0 511 127.0.0.1:1 0.0.0.0:* users:(("node",pid=${processes.listening},fd=20))'
exit 0
`);
      writeFileSync(join(root, 'bin/pgrep'), `#!/usr/bin/env bash
[[ "$2" == "${processes.listening}" ]] && grep . ${join(root, 'children')}
exit 0
`);
      writeFileSync(join(root, 'during-run.sh'), layOut(root, processes.duringRun.children, processes.duringRun.ticks));
      spawnSync('bash', ['-c', layOut(root, processes.children, processes.ticks)]);
      for (const tool of ['ss', 'pgrep']) chmodSync(join(root, 'bin', tool), 0o755);
    }
    writeFileSync(join(root, 'infra/local/stack.sh'), '# stand-in: no engine variables\n');
    writeFileSync(join(root, 'apps/cli/dist/main.js'), '// stand-in for `orrery bench ghz-ladder-report`\n');
    const calls = join(root, 'ghz-calls.jsonl');
    // The stand-in ghz: a JSON report for -O json (a ladder step), else the summary line the script reads.
    writeFileSync(
      join(root, 'bin/ghz'),
      `#!/usr/bin/env node
const args = process.argv.slice(2);
require('fs').appendFileSync(${JSON.stringify(calls)}, JSON.stringify(args) + '\\n');
if (args.includes('-O') && require('fs').existsSync(${JSON.stringify(join(root, 'during-run.sh'))})) require('child_process').execFileSync('bash', [${JSON.stringify(join(root, 'during-run.sh'))}]);
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
        ORRERY_SCORING_ZMQ_ENDPOINT: 'tcp://127.0.0.1:2',
        ORRERY_PROC_ROOT: join(root, 'proc'),
        ORRERY_METRICS_PORT_SCORING: '1',
        ORRERY_BENCH_WRITE_RATE: '0',
      },
    });
    if (run.status !== 0) throw new Error(`ghz.sh failed (${run.status}): ${run.stderr}`);
    const ladderDir = join(root, '.orrery/ghz-ladder');
    const cpuFiles = existsSync(ladderDir) ? readdirSync(ladderDir).filter((file) => file.endsWith('.cpu.json')) : [];
    return {
      calls: readFileSync(calls, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[]),
      stderr: run.stderr,
      ladderCpu: Object.fromEntries(cpuFiles.map((file) => [file, JSON.parse(readFileSync(join(ladderDir, file), 'utf8')) as Record<string, number>])),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Runs ghz.sh with `args`; returns the argument list of each ghz call it made. */
function ghzCalls(args: readonly string[]): string[][] {
  return runGhzScript(args).calls;
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

describe('the CPU npm run bench:ghz counts', () => {
  it('lists the recommender\'s processes again after each ladder step: a worker replaced mid-step is counted, the one gone reported', () => {
    // The primary (100) and its worker 101 at the start; during the step 101 exits, having used 20 more
    // ticks that are lost with it, and 102 replaces it and uses 30. Counted: 100's 10 and 102's 30.
    const { stderr, ladderCpu } = runGhzScript(['--ladder', '50', '--ladder-seconds', '1'], {
      listening: 100,
      children: [101],
      ticks: { 100: 50, 101: 200 },
      duringRun: { children: [102], ticks: { 100: 60, 102: 30 } },
    });
    const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
    // The stand-in ghz reports one call: CPU ms per request = ticks × 1000 ÷ ticks per second.
    expect(ladderCpu['50.cpu.json']!.recommender).toBeCloseTo((40 * 1000) / ticksPerSecond, 6);
    expect(stderr).toContain("recommender: 1 process(es) started during the run (counted from their start) and 1 exited (what they used after the run began is lost with them: recommender's CPU is a lower bound)");
    expect(stderr).not.toContain('scoring:');
  });
});
