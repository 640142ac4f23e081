import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createClient, type Client } from '@orrery/grpc';
import { RecommendationService } from '@orrery/proto';
import { eventually } from '@orrery/testing';
import { startIsolatedPlatform, type IsolatedPlatform } from '../src/isolated-platform';
import { scrape, sumOf } from '../src/prometheus-text';

jest.setTimeout(180_000);

const WORKERS = 2;
const CONNECTIONS = 4;
const CALLS_PER_CONNECTION = 15;
const POPULAR = 'orrery.v1.RecommendationService/Popular';

/** The pids of a process's children (the node:cluster workers of the recommender's primary). */
function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
}

/**
 * Which of `pids` own an established TCP connection on local port `port` (the workers that accepted
 * them): socket inodes from /proc/net/tcp{,6} matched with each process's open descriptors — no
 * tool (ss, lsof) that a fresh machine may lack.
 */
function connectionOwners(port: number, pids: readonly number[]): number[] {
  const ESTABLISHED = '01';
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localPort = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
      if (localPort === port && fields[3] === ESTABLISHED && fields[9]) inodes.add(fields[9]);
    }
  }
  const socketInode = (link: string): string | undefined => {
    try {
      return /^socket:\[(\d+)\]$/.exec(readlinkSync(link))?.[1];
    } catch {
      return undefined; // closed between listing and reading
    }
  };
  const ownsOne = (pid: number): boolean => readdirSync(`/proc/${pid}/fd`).some((fd) => inodes.has(socketInode(`/proc/${pid}/fd/${fd}`) ?? ''));
  return pids.filter(ownsOne).sort((a, b) => a - b);
}

// The recommender with ORRERY_RECOMMENDER_WORKERS=2: node:cluster workers share the port, the
// primary supervises them and serves their summed metrics.
describe('recommender in cluster mode', () => {
  let platform: IsolatedPlatform;
  let primary: number;
  let port: number;
  let clients: Client<typeof RecommendationService>[];
  const popularCalls = async (): Promise<number> => sumOf(await scrape(platform.metricsUrls.recommender), 'orrery_rpc_server_requests_total', { method: POPULAR, code: 'OK' });

  beforeAll(async () => {
    platform = await startIsolatedPlatform({ ORRERY_RECOMMENDER_WORKERS: String(WORKERS) }, ['recommender']);
    primary = platform.services.find((service) => service.name === 'recommender')!.pid;
    port = Number(platform.recommenderAddress.split(':').at(-1));
    // One connection each (not grpc-js' shared one): the primary hands connections to the workers in turn.
    clients = Array.from({ length: CONNECTIONS }, () => createClient(RecommendationService, platform.recommenderAddress, { timeoutMs: 10_000, ownConnection: true }));
  });
  afterAll(async () => {
    for (const client of clients ?? []) client.close();
    await platform?.stop();
  });

  it('when calls are spread over the workers, the primary’s /metrics shows their sum', async () => {
    expect(childPids(primary)).toHaveLength(WORKERS);
    for (let round = 0; round < CALLS_PER_CONNECTION; round += 1) await Promise.all(clients.map((client) => client.popular({ count: 5 })));
    // Both workers answered some of them.
    expect(connectionOwners(port, childPids(primary))).toEqual(childPids(primary));
    expect(await popularCalls()).toBe(CONNECTIONS * CALLS_PER_CONNECTION);
  });

  it('when a worker is killed, another takes its place and every connection is answered again', async () => {
    const before = childPids(primary);
    const [victim, survivor] = before as [number, number];
    process.kill(victim, 'SIGKILL');
    const after = await eventually(async () => childPids(primary), { accept: (pids) => pids.length === WORKERS && !pids.includes(victim), what: 'a replacement worker', timeoutMs: 60_000 });
    expect(after).toContain(survivor);
    // A client whose connection the dead worker held reconnects (to whichever worker the primary picks).
    for (const client of clients) await eventually(() => client.popular({ count: 5 }), { what: 'Popular answered after the kill', timeoutMs: 30_000 });
  });
});
