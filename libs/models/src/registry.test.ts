import { Pool } from 'pg';
import { migrate } from '@orrery/store';
import { createTestDatabase, dropTestDatabase, eventually } from '@orrery/testing';
import type { ModelVersion, NewModelVersion } from './model';
import {
  listModelVersions,
  loadChampion,
  promoteIfBetter,
  pruneModelVersions,
  recordEvaluation,
  registerModel,
} from './registry';
import { watchChampion } from './watch';

let databaseUrl: string;
let pool: Pool;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  pool = new Pool({ connectionString: databaseUrl });
  await migrate(pool);
});

afterAll(async () => {
  await pool.end();
  await dropTestDatabase(databaseUrl);
});

let versionCounter = 0;
function model(ndcg: number, splitId = 'split-a', overrides: Partial<NewModelVersion> = {}): NewModelVersion {
  versionCounter += 1;
  return {
    version: `m-test-${versionCounter}`,
    metrics: { 'ndcg@10': ndcg, 'hitRate@10': ndcg * 2 },
    splitId,
    featureSchema: 'ranking-v1',
    factors: 2,
    itemIds: ['a', 'b', 'c'],
    itemVectors: new Float32Array([1, 0, 0, 1, Math.SQRT1_2, Math.SQRT1_2]),
    itemNorms: new Float32Array([2, 0.5, 1]),
    rankerOnnx: new Uint8Array([8, 7, 18, 4]),
    ...overrides,
  };
}

async function champions(): Promise<string[]> {
  return (await listModelVersions(pool, 1000)).filter((summary) => summary.status === 'champion').map((summary) => summary.version);
}

beforeEach(async () => {
  await pool.query('TRUNCATE model_versions CASCADE');
});

it('when there is no champion, the first registered model is promoted and loads back intact', async () => {
  const first = await registerModel(pool, model(0.2));
  expect(first.status).toBe('candidate');
  expect(await loadChampion(pool)).toBeUndefined();

  const decision = await promoteIfBetter(pool, first.version, 'ndcg@10');
  expect(decision.promoted).toBe(true);

  const champion = await loadChampion(pool);
  expect(champion?.version).toBe(first.version);
  expect(champion?.status).toBe('champion');
  expect(champion?.promotedAt).toBeInstanceOf(Date);
  expect(champion?.itemIds).toEqual(['a', 'b', 'c']);
  expect(Array.from(champion?.itemVectors ?? [])).toEqual(Array.from(new Float32Array([1, 0, 0, 1, Math.SQRT1_2, Math.SQRT1_2])));
  expect(Array.from(champion?.itemNorms ?? [])).toEqual([2, 0.5, 1]);
  expect(Array.from(champion?.rankerOnnx ?? [])).toEqual([8, 7, 18, 4]);
  expect(champion?.metrics['ndcg@10']).toBe(0.2);
});

it('a worse or equal challenger is not promoted; a strictly better one is, and the old champion retires', async () => {
  const champion = await registerModel(pool, model(0.2));
  await promoteIfBetter(pool, champion.version, 'ndcg@10');

  const worse = await registerModel(pool, model(0.15));
  expect((await promoteIfBetter(pool, worse.version, 'ndcg@10')).promoted).toBe(false);
  const equal = await registerModel(pool, model(0.2));
  expect((await promoteIfBetter(pool, equal.version, 'ndcg@10')).promoted).toBe(false);
  expect(await champions()).toEqual([champion.version]);

  const better = await registerModel(pool, model(0.25));
  const decision = await promoteIfBetter(pool, better.version, 'ndcg@10');
  expect(decision).toMatchObject({ promoted: true, previousChampion: { version: champion.version, value: 0.2 } });
  expect(await champions()).toEqual([better.version]);
  const statuses = Object.fromEntries((await listModelVersions(pool, 100)).map((summary) => [summary.version, summary.status]));
  expect(statuses[champion.version]).toBe('retired');
  expect(statuses[worse.version]).toBe('candidate');
});

it('a challenger measured on another split is compared with the champion re-evaluated on that split', async () => {
  const champion = await registerModel(pool, model(0.5, 'split-old'));
  await promoteIfBetter(pool, champion.version, 'ndcg@10');

  // 0.3 < 0.5, but on a different (harder) split: without the champion's figure there, no promotion.
  const challenger = await registerModel(pool, model(0.3, 'split-new'));
  const unknown = await promoteIfBetter(pool, challenger.version, 'ndcg@10');
  expect(unknown.promoted).toBe(false);
  expect(unknown.reason).toContain('split-new');

  await recordEvaluation(pool, champion.version, 'split-new', { 'ndcg@10': 0.28 });
  const decision = await promoteIfBetter(pool, challenger.version, 'ndcg@10');
  expect(decision).toMatchObject({ promoted: true, previousChampion: { version: champion.version, value: 0.28 } });
});

it('when the ranking features changed since the champion was trained, a challenger that beats the popularity baseline replaces it; one that does not is refused', async () => {
  // The champion was evaluated on split-old only: a challenger of its own schema cannot beat it on split-new.
  const champion = await registerModel(pool, model(0.5, 'split-old', { featureSchema: 'ranking-v1' }));
  await promoteIfBetter(pool, champion.version, 'ndcg@10');
  const sameSchema = await registerModel(pool, model(0.4, 'split-new', { metrics: { 'ndcg@10': 0.4, 'baseline.ndcg@10': 0.1 } }));
  expect((await promoteIfBetter(pool, sameSchema.version, 'ndcg@10')).promoted).toBe(false);

  const belowBaseline = await registerModel(pool, model(0.08, 'split-new', { featureSchema: 'ranking-v2', metrics: { 'ndcg@10': 0.08, 'baseline.ndcg@10': 0.1 } }));
  const refused = await promoteIfBetter(pool, belowBaseline.version, 'ndcg@10');
  expect(refused.promoted).toBe(false);
  expect(refused.reason).toContain('not better than the popularity baseline');
  expect(await champions()).toEqual([champion.version]);

  const aboveBaseline = await registerModel(pool, model(0.3, 'split-new', { featureSchema: 'ranking-v2', metrics: { 'ndcg@10': 0.3, 'baseline.ndcg@10': 0.1 } }));
  const decision = await promoteIfBetter(pool, aboveBaseline.version, 'ndcg@10');
  expect(decision).toMatchObject({ promoted: true, previousChampion: { version: champion.version, value: undefined } });
  expect(decision.reason).toContain('another feature schema');
  expect(await champions()).toEqual([aboveBaseline.version]);
});

it('pruning keeps the champion and the newest versions and deletes the rest with their evaluations', async () => {
  const champion = await registerModel(pool, model(0.5));
  await promoteIfBetter(pool, champion.version, 'ndcg@10');
  const older = [];
  for (const ndcg of [0.1, 0.2, 0.3]) older.push(await registerModel(pool, model(ndcg)));
  await recordEvaluation(pool, older[0]!.version, 'split-b', { 'ndcg@10': 0.1 });
  const newest = await registerModel(pool, model(0.4));

  expect(await pruneModelVersions(pool, 2)).toEqual([older[0]!.version, older[1]!.version]);
  expect((await listModelVersions(pool, 100)).map((summary) => summary.version).sort()).toEqual([champion.version, older[2]!.version, newest.version].sort());
  expect((await pool.query('SELECT 1 FROM model_evaluations WHERE version = $1', [older[0]!.version])).rowCount).toBe(0);
  expect(await pruneModelVersions(pool, 2)).toEqual([]);
  await expect(pruneModelVersions(pool, 0)).rejects.toThrow('keep must be a positive integer');
});

it('when several better challengers are promoted at once, exactly one champion remains', async () => {
  const registered = await Promise.all([0.3, 0.4, 0.5, 0.6].map((ndcg) => registerModel(pool, model(ndcg))));
  await Promise.all(registered.map((summary) => promoteIfBetter(pool, summary.version, 'ndcg@10')));
  expect((await champions()).length).toBe(1);
});

it('a model whose vectors do not match its items is refused, and a missing metric is an error', async () => {
  await expect(registerModel(pool, model(0.2, 'split-a', { itemVectors: new Float32Array(5) }))).rejects.toThrow(/expected 3 items × 2 factors/);
  const registered = await registerModel(pool, model(0.2));
  await expect(promoteIfBetter(pool, registered.version, 'auc')).rejects.toThrow(/no metric auc/);
  await expect(promoteIfBetter(pool, 'm-nope', 'ndcg@10')).rejects.toThrow(/not registered/);
  expect(await listModelVersions(pool)).toHaveLength(1);
});

it('a watcher hands over the current champion, then each newly promoted one', async () => {
  const first = await registerModel(pool, model(0.2));
  await promoteIfBetter(pool, first.version, 'ndcg@10');
  const seen: string[] = [];
  // A long poll interval: only LISTEN/NOTIFY can deliver the promotion within the test.
  const watch = await watchChampion(pool, (loaded: ModelVersion) => void seen.push(loaded.version), { pollIntervalMs: 600_000 });
  try {
    expect(seen).toEqual([first.version]);
    const second = await registerModel(pool, model(0.3));
    await promoteIfBetter(pool, second.version, 'ndcg@10');
    await eventually(async () => seen, { accept: (versions) => versions.includes(second.version), what: 'the promoted version' });
    expect(seen).toEqual([first.version, second.version]);
    expect(watch.current()).toBe(second.version);
  } finally {
    await watch.close();
  }
});

it('a watcher started before any champion picks up the first promotion', async () => {
  const seen: string[] = [];
  const watch = await watchChampion(pool, (loaded) => void seen.push(loaded.version), { pollIntervalMs: 600_000 });
  try {
    expect(seen).toEqual([]);
    const first = await registerModel(pool, model(0.2));
    await promoteIfBetter(pool, first.version, 'ndcg@10');
    await eventually(async () => seen, { accept: (versions) => versions.length === 1, what: 'the first champion' });
    expect(seen).toEqual([first.version]);
  } finally {
    await watch.close();
  }
});

it('a champion the service fails to apply is retried at the next check, and the watcher keeps running', async () => {
  const first = await registerModel(pool, model(0.2));
  await promoteIfBetter(pool, first.version, 'ndcg@10');
  let attempts = 0;
  const watch = await watchChampion(
    pool,
    () => {
      attempts += 1;
      if (attempts === 1) throw new Error('cannot load this one');
    },
    { pollIntervalMs: 600_000 },
  );
  try {
    expect(attempts).toBe(1);
    expect(watch.current()).toBeUndefined();
    await watch.refresh();
    expect(attempts).toBe(2);
    expect(watch.current()).toBe(first.version);
  } finally {
    await watch.close();
  }
});
