import { Pool } from 'pg';
import { readConfig } from '@orrery/config';
import { generateSyntheticDataset } from '@orrery/ml';
import { listModelVersions, loadChampion } from '@orrery/models';
import { migrate } from '@orrery/store';
import { createLogger } from '@orrery/telemetry';
import { createTestDatabase, dropTestDatabase } from '@orrery/testing';
import { trainOnce, type TrainResult } from '../src/train';
import { seedEventStore } from './seed';

const logger = createLogger('trainer-test', 'warn');
let databaseUrl: string;
let pool: Pool;
const printed: string[] = [];
const options = () => ({ pool, factors: 16, iterations: 6, print: (text: string) => void printed.push(text) });

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  pool = new Pool({ connectionString: databaseUrl });
  await migrate(pool);
});

afterAll(async () => {
  await pool.end();
  await dropTestDatabase(databaseUrl);
});

function registered(result: TrainResult): Extract<TrainResult, { status: 'registered' }> {
  if (result.status !== 'registered') throw new Error(`training was skipped: ${result.reason}`);
  return result;
}

it('when the event store holds fewer than three events per user, nothing is registered', async () => {
  await pool.query(
    `INSERT INTO events (event_id, user_id, item_id, type, value, occurred_at)
     VALUES ('e1', 'u1', 'i1', 'view', 0, now()), ('e2', 'u1', 'i2', 'click', 0, now())`,
  );
  const result = await trainOnce(readConfig(), logger, options());
  expect(result.status).toBe('skipped');
  expect(await listModelVersions(pool)).toEqual([]);
  await pool.query('TRUNCATE events');
});

describe('on a history with planted tastes', () => {
  beforeAll(async () => {
    await seedEventStore(pool, generateSyntheticDataset({ users: 600, items: 900, seed: 11 }));
  });

  it('a run registers a version whose NDCG@10 beats the popularity baseline, and promotes it as the first champion', async () => {
    const result = registered(await trainOnce(readConfig(), logger, options()));
    const ndcg = result.metrics['ndcg@10'] ?? 0;
    const baseline = result.metrics['baseline.ndcg@10'] ?? 1;
    expect(ndcg).toBeGreaterThan(baseline);
    expect(result.metrics['hitRate@10']).toBeGreaterThan(result.metrics['baseline.hitRate@10'] ?? 1);
    expect(result.promotion).toMatchObject({ promoted: true, reason: 'no champion yet' });

    const champion = await loadChampion(pool);
    expect(champion?.version).toBe(result.version);
    expect(champion?.metrics['ndcg@10']).toBeCloseTo(ndcg, 10);
    expect(champion?.itemIds.length).toBeGreaterThan(100);
    expect(champion?.rankerOnnx.length).toBeGreaterThan(0);
    expect(printed.join('\n')).toContain('PROMOTED');
    console.log(printed.join('\n'));
  });

  it('retraining on the same history gives an equal model, which is compared on the same split and not promoted', async () => {
    const champion = await loadChampion(pool);
    const result = registered(await trainOnce(readConfig(), logger, options()));
    expect(result.splitId).toBe(champion?.splitId);
    expect(result.championMetrics?.version).toBe(champion?.version);
    expect(result.championMetrics?.metrics['ndcg@10']).toBeCloseTo(result.metrics['ndcg@10'] ?? -1, 6);
    expect(result.promotion?.promoted).toBe(false);
    expect((await loadChampion(pool))?.version).toBe(champion?.version);
    expect((await listModelVersions(pool)).map((summary) => summary.status).sort()).toEqual(['candidate', 'champion']);
  });
});

describe('a worse challenger', () => {
  it('when a run learns a weaker model (2 factors, 1 sweep) on the same history, it is registered but not promoted', async () => {
    const champion = await loadChampion(pool);
    expect(champion).toBeDefined();
    const result = registered(await trainOnce(readConfig(), logger, { ...options(), factors: 2, iterations: 1, seed: 7 }));
    expect(result.splitId).toBe(champion?.splitId);
    expect(result.metrics['ndcg@10']).toBeLessThan(result.championMetrics?.metrics['ndcg@10'] ?? -1);
    expect(result.promotion).toMatchObject({ promoted: false });
    expect(result.promotion?.reason).toContain('is not better than');
    expect((await loadChampion(pool))?.version).toBe(champion?.version);
  });
});

describe('a schedule', () => {
  it('when no interaction came since the last run, the run trains and registers nothing', async () => {
    const before = await listModelVersions(pool, 100);
    const champion = await loadChampion(pool);
    const result = await trainOnce(readConfig(), logger, { ...options(), unlessSplit: champion?.splitId });
    expect(result).toMatchObject({ status: 'skipped', reason: `no interaction since the last run (split ${champion?.splitId})` });
    expect(await listModelVersions(pool, 100)).toEqual(before);
  });

  it('after a run, versions beyond the champion and the --keep-versions newest are deleted', async () => {
    const champion = await loadChampion(pool);
    const result = registered(await trainOnce(readConfig(), logger, { ...options(), skipPromotion: true, keepVersions: 1 }));
    const kept = await listModelVersions(pool, 100);
    expect(kept.map((summary) => summary.version).sort()).toEqual([champion?.version, result.version].sort());
  });
});
