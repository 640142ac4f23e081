// Test helper: a throwaway single-node Kafka (KRaft, its own ports and data directory) that a test may
// SIGKILL and restart without disturbing the shared engines. Runs the jars infra/local/stack.sh
// fetched into .orrery/kafka/libs, with the stack's broker settings.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { eventually } from '@orrery/testing';

const REPO_ROOT = resolve(__dirname, '../../..');
const LIBS = join(REPO_ROOT, '.orrery', 'kafka', 'libs');
const SETTINGS = join(REPO_ROOT, 'infra', 'local', 'kafka', 'server.properties');

/** A private Kafka broker. */
export interface PrivateKafka {
  /** host:port of its PLAINTEXT listener. */
  readonly broker: string;
  /** Kills the broker process (SIGKILL: no controlled shutdown) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same data directory and ports; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Kills it and removes its files. */
  destroy(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

/** Formats and starts a private broker on `port` (controller on `controllerPort`). */
export async function startPrivateKafka(port: number, controllerPort: number): Promise<PrivateKafka> {
  if (!existsSync(LIBS)) throw new Error(`no Kafka jars in ${LIBS}: run \`bash infra/local/stack.sh up\` (npm test does) first`);
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const root = mkdtempSync('/tmp/orrery-private-kafka-');
  const settings = join(root, 'server.properties');
  writeFileSync(
    settings,
    readFileSync(SETTINGS, 'utf8')
      .replaceAll('127.0.0.1:19092', `127.0.0.1:${port}`)
      .replaceAll('127.0.0.1:19093', `127.0.0.1:${controllerPort}`)
      .concat(`\nlog.dirs=${join(root, 'data')}\n`),
  );
  const classpath = ['-cp', `${LIBS}/*`];
  // As stack.sh's kafka_cluster_id: never starting with '-', which the tool's parser takes for an option.
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  const format = spawnSync(java, [...classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', settings], { encoding: 'utf8' });
  if (format.status !== 0) throw new Error(`kafka storage format failed: ${format.stderr || format.stdout}`);

  let broker: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    broker = spawn(java, ['-Xmx256m', `-Dkafka.logs.dir=${root}`, ...classpath, 'kafka.Kafka', settings], { stdio: 'ignore' });
    await eventually(() => portOpen(port), { timeoutMs: 90_000, intervalMs: 200, what: `private Kafka on port ${port}` });
  };
  const kill = async (): Promise<void> => {
    const running = broker;
    broker = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((done) => running.once('exit', done));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    broker: `127.0.0.1:${port}`,
    kill,
    start,
    destroy: async () => {
      await kill();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
