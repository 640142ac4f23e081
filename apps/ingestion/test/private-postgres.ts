// Test helper: a throwaway Postgres server (initdb into a temp dir, its own port) that a test may
// crash and restart without disturbing the shared engines. Needs the server binaries
// (/usr/lib/postgresql/*/bin) and, when run as root, the `postgres` system user.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

/** A private Postgres server. */
export interface PrivatePostgres {
  /** URL of its `orrery` database (user orrery, trust auth). */
  readonly url: string;
  /** Stops it abruptly (`pg_ctl stop -m immediate`: no checkpoint, crash recovery on the next start). */
  crash(): void;
  start(): void;
  /** Stops it and removes its files. */
  destroy(): void;
}

function binaries(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  if (versions.length === 0) throw new Error('no Postgres server binaries in /usr/lib/postgresql');
  return join('/usr/lib/postgresql', versions.at(-1)!, 'bin');
}

/** Creates and starts a private Postgres on `port`. */
export function startPrivatePostgres(port: number): PrivatePostgres {
  const bin = binaries();
  const root = mkdtempSync('/tmp/orrery-private-pg-');
  const data = join(root, 'data');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(root, uid, gid);
  }
  chmodSync(root, 0o755);
  const run = (tool: string, args: string[]): void => {
    const command = asRoot ? 'runuser' : join(bin, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
    const result = spawnSync(command, argv, { cwd: '/', encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'orrery', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${root} -c fsync=on -c max_connections=50`;
  const start = (): void => run('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-o', options, '-w', 'start']);
  start();
  run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'orrery', 'orrery']);
  return {
    url: `postgres://orrery@127.0.0.1:${port}/orrery`,
    crash: () => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    destroy: () => {
      spawnSync(asRoot ? 'runuser' : join(bin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'] : ['-D', data, '-m', 'immediate', 'stop'], { cwd: '/' });
      rmSync(root, { recursive: true, force: true });
    },
  };
}
