import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (apps/cli/dist/ or apps/cli/src/ → ../../..). */
export const REPO_ROOT = resolve(__dirname, '../../..');

/** Every long-running service, in start order (each one's dependencies start before it). */
export const SERVICES = ['command', 'ingestion', 'projector', 'query', 'vector', 'scoring', 'recommender'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** A started service process. */
export interface ServiceProcess {
  readonly name: ServiceName;
  readonly pid: number;
  readonly logFile: string;
}

export interface StartOptions {
  /** Environment of the services (the Orrery variables select endpoints, ports, database…). */
  readonly env: NodeJS.ProcessEnv;
  /** Folder for `<service>.log`. */
  readonly logDir: string;
  /** Detached processes outlive the caller (npm start); attached ones are killed with it (tests). */
  readonly detached: boolean;
  readonly readyTimeoutMs?: number;
  readonly onProgress?: (line: string) => void;
  /** Start only these services (in SERVICES order); default every one. */
  readonly only?: readonly ServiceName[];
  /** Node flags for every service, after its own NODE_FLAGS (e.g. `--cpu-prof` for a benchmark). */
  readonly nodeFlags?: readonly string[];
}

/**
 * V8 flags per service. The projector's plans are short-lived (~30 operations and their keys per
 * event): a 64 MB young generation (V8's default is 16 MB) scavenges a quarter as often and cut its
 * CPU per event by ~6% (3 interleaved runs of 60,000 events in 60-event chunks). The recommender keeps
 * V8's default: with 64 MB it used ~4% less CPU per request in a closed loop (1,456–1,487 against
 * 1,412 req/s), but at 500 req/s its p99 was longer (median 22 ms over 10 ghz runs, against 17 ms over
 * 9): a bigger young generation makes each scavenge, and the queue behind it, longer. It runs
 * without allocation-site pretenuring: V8 otherwise decides, in some runs and not others, to allocate
 * some per-request object literals straight in the old generation, and everything
 * they point to then survives every scavenge until the next mark-sweep (at 500 req/s: 1.4 MB promoted
 * per scavenge against 0.6 without, the scavenge pause 4.2 against 1.9 ms).
 * Cluster workers inherit the flags. Run the services another way? Pass the same flags to node.
 */
export const NODE_FLAGS: Readonly<Partial<Record<ServiceName, readonly string[]>>> = {
  projector: ['--max-semi-space-size=64'],
  recommender: ['--no-allocation-site-pretenuring'],
};

/** Starts the services in order, each once its predecessor logged `ready`; returns their processes. */
export async function startServices(options: StartOptions): Promise<ServiceProcess[]> {
  mkdirSync(options.logDir, { recursive: true });
  const started: ServiceProcess[] = [];
  for (const name of SERVICES.filter((service) => !options.only || options.only.includes(service))) {
    const entry = serviceEntry(name);
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
    const logFile = join(options.logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', ...(NODE_FLAGS[name] ?? []), ...(options.nodeFlags ?? []), entry], {
      cwd: REPO_ROOT,
      env: { ...options.env, ORRERY_SERVICE: name },
      stdio: ['ignore', fd, fd],
      detached: options.detached,
    });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${name}`);
    if (options.detached) child.unref();
    const service = { name, pid: child.pid, logFile };
    started.push(service);
    try {
      await waitUntilReady(service, options.readyTimeoutMs ?? 60_000);
    } catch (error) {
      await stopServices(started);
      throw error;
    }
    options.onProgress?.(`${name.padEnd(12)} ready (pid ${child.pid}, log ${logFile})`);
  }
  return started;
}

/** Waits until the service's log has a `ready` line from its own pid; fails if it exits first. */
async function waitUntilReady(service: ServiceProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const marker = `"pid":${service.pid},`;
  while (Date.now() < deadline) {
    const log = readFileSync(service.logFile, 'utf8');
    if (log.split('\n').some((line) => line.includes(marker) && line.includes('"msg":"ready"'))) return;
    if (!isAlive(service.pid)) {
      throw new Error(`${service.name} exited during start-up; last log lines:\n${log.split('\n').slice(-15).join('\n')}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${service.name} was not ready within ${timeoutMs} ms (log: ${service.logFile})`);
}

/** Sends SIGTERM to the services in reverse order and waits for each to exit (SIGKILL after graceMs). */
export async function stopServices(services: readonly ServiceProcess[], graceMs = 10_000): Promise<void> {
  for (const service of [...services].reverse()) {
    if (!isAlive(service.pid)) continue;
    process.kill(service.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(service.pid) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
    if (isAlive(service.pid)) process.kill(service.pid, 'SIGKILL');
  }
}

/** True while a process with this pid runs (and is not a zombie we could reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Where `orrery up` records the detached services of this checkout. */
export const PIDS_FILE = join(REPO_ROOT, '.orrery', 'run', 'services.json');

/** Records detached services so `orrery down` can stop them. */
export function writeServiceRecord(services: readonly ServiceProcess[]): void {
  mkdirSync(join(REPO_ROOT, '.orrery', 'run'), { recursive: true });
  writeFileSync(PIDS_FILE, JSON.stringify(services, null, 2));
}

/** The script a service runs: apps/<name>/dist/main.js of the checkout at `root`. */
export function serviceEntry(name: ServiceName, root = REPO_ROOT): string {
  return join(root, 'apps', name, 'dist', 'main.js');
}

/**
 * The detached services recorded by `orrery up` (in `file`, of the checkout at `root`) that still
 * run. A recorded pid that runs another program is not one: after a reboot, or once the pids wrap,
 * the record outlives its processes and their pids go to others, which `orrery down` then sent
 * SIGTERM (and SIGKILL) while `orrery up` took them for the services and started none.
 */
export function readServiceRecord(file = PIDS_FILE, root = REPO_ROOT): ServiceProcess[] {
  if (!existsSync(file)) return [];
  const services = JSON.parse(readFileSync(file, 'utf8')) as ServiceProcess[];
  return services.filter((service) => isAlive(service.pid) && runsScript(service.pid, serviceEntry(service.name, root)));
}

/** Whether process `pid` runs `script` (an argument of its command line); true where /proc cannot tell (not Linux). */
function runsScript(pid: number, script: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(script);
  } catch {
    return !existsSync('/proc/self/cmdline');
  }
}

/** Forgets the record of detached services. */
export function clearServiceRecord(): void {
  rmSync(PIDS_FILE, { force: true });
}
