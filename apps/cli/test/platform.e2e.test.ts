import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Metadata, status } from '@grpc/grpc-js';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Client as PgClient } from 'pg';
import type { Client } from '@orrery/grpc';
import { EventType, IngestService, RecommendationService, type RecommendResponse } from '@orrery/proto';
import { readConfig } from '@orrery/config';
import { eventually } from '@orrery/testing';
import type { SeedResult } from '../src/seed';
import type { IsolatedPlatform } from '../src/isolated-platform';
import { REPO_ROOT } from '../src/platform';
import { startSeededPlatform, type SeededPlatform } from './seeded-platform';
import { shellCommandsUnder } from './readme-examples';

jest.setTimeout(300_000);

describe('Orrery end to end, on real Postgres, Kafka, Redis and Jaeger', () => {
  let running: SeededPlatform;
  let platform: IsolatedPlatform;
  let seeded: SeedResult;
  let ingest: Client<typeof IngestService>;
  let recommender: Client<typeof RecommendationService>;
  let database: PgClient;
  const categoryOf = new Map<string, string>();
  const categoriesOf = new Map<string, readonly string[]>();
  const hidden = new Set<string>();

  beforeAll(async () => {
    running = await startSeededPlatform({ seed: 7 });
    ({ platform, seeded, ingest, recommender, database } = running);
    for (const item of seeded.dataset.items) {
      categoryOf.set(item.itemId, item.categories[0]!);
      categoriesOf.set(item.itemId, item.categories);
      if (item.hidden) hidden.add(item.itemId);
    }
  });

  afterAll(() => running?.stop());

  const countEvents = async (): Promise<number> => Number((await database.query('SELECT count(*)::int AS n FROM events')).rows[0].n);

  it('when a new user views items of one category, the next recommendations follow them and exclude what was viewed', async () => {
    const userId = `e2e-user-${randomBytes(4).toString('hex')}`;
    const before = await recommender.recommend({ userId, count: 10 });
    expect(before.items.length).toBe(10);

    const category = 'jazz';
    const viewed = seeded.dataset.items.filter((item) => item.categories[0] === category && !item.hidden).slice(0, 4).map((item) => item.itemId);
    const now = Date.now();
    for (const [index, itemId] of viewed.entries()) {
      await ingest.track({ event: { userId, itemId, type: EventType.VIEW, occurredAt: timestampFromMs(now - (viewed.length - index) * 1_000) } });
    }

    const share = (reply: RecommendResponse): number => reply.items.filter((item) => categoryOf.get(item.itemId) === category).length / reply.items.length;
    const after = await eventually(() => recommender.recommend({ userId, count: 10 }), {
      // One user's events are applied in order, so once the last view shows in a reason, every view is projected.
      accept: (reply) => reply.items.length === 10 && share(reply) >= 0.5 && reply.items.some((item) => item.reasons.some((reason) => reason.endsWith(`:${viewed.at(-1)}`))),
      what: `recommendations of ${userId} to follow the ${category} views`,
    });
    expect(share(after)).toBeGreaterThan(share(before));
    expect(after.degraded).toBe(false);
    expect(after.modelVersion).not.toBe('');
    const ids = after.items.map((item) => item.itemId);
    for (const itemId of viewed) expect(ids).not.toContain(itemId);
    const explained = after.items.filter((item) => item.reasons.some((reason) => viewed.some((v) => reason.endsWith(`:${v}`))));
    expect(explained.length).toBeGreaterThan(0);
  });

  it('when recommending for anyone, hidden items never appear', async () => {
    expect(hidden.size).toBeGreaterThan(0);
    const replies: RecommendResponse[] = [await recommender.popular({ count: 100 })];
    for (const user of seeded.dataset.users.slice(0, 20)) replies.push(await recommender.recommend({ userId: user.userId, count: 50 }));
    for (const item of seeded.dataset.items.slice(0, 10)) replies.push(await recommender.similarItems({ itemId: item.itemId, count: 50 }));
    const returned = replies.flatMap((reply) => reply.items.map((item) => item.itemId));
    expect(returned.length).toBeGreaterThan(500);
    expect(returned.filter((itemId) => hidden.has(itemId))).toEqual([]);
  });

  it('when a filter is given, every returned item satisfies it', async () => {
    const reply = await recommender.recommend({ userId: seeded.dataset.users[0]!.userId, count: 20, filter: { includeCategories: ['books'] } });
    expect(reply.items.length).toBeGreaterThan(0);
    for (const item of reply.items) expect(categoriesOf.get(item.itemId)).toContain('books');
    const excluding = await recommender.recommend({ userId: seeded.dataset.users[0]!.userId, count: 50, filter: { excludeCategories: ['books'], excludeItemIds: [reply.items[0]!.itemId] } });
    expect(excluding.items.length).toBeGreaterThan(0);
    for (const item of excluding.items) expect(categoriesOf.get(item.itemId)).not.toContain('books');
  });

  it('when input is bad, the status is INVALID_ARGUMENT naming the field and nothing is written', async () => {
    const stored = await countEvents();
    await expect(ingest.track({ event: { userId: '', itemId: 'item-0001', type: EventType.VIEW } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('user_id') });
    await expect(ingest.track({ event: { userId: 'u', itemId: 'item-0001', type: EventType.UNSPECIFIED } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('type') });
    await expect(ingest.track({ event: { userId: 'u', itemId: 'item-0001', type: EventType.RATING, value: Number.NaN } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('value') });
    await expect(recommender.recommend({ userId: 'u', count: -1 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('count') });
    await expect(recommender.recommend({ userId: '', count: 5 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('user_id') });
    await expect(recommender.similarItems({ itemId: '', count: 5 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('item_id') });
    expect(await countEvents()).toBe(stored);
  });

  it('when the same event id arrives twice, it is stored once', async () => {
    const eventId = randomUUID();
    const event = { eventId, userId: 'e2e-dup-user', itemId: 'item-0003', type: EventType.CLICK };
    expect(await ingest.track({ event })).toMatchObject({ eventId, duplicate: false });
    expect(await ingest.track({ event })).toMatchObject({ eventId, duplicate: true });
    const rows = await database.query('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [eventId]);
    expect(rows.rows[0].n).toBe(1);
  });

  it('when a Recommend call is traced, Jaeger holds one trace with the recommender (its in-process ANN search included) and scoring spans', async () => {
    const traceId = randomBytes(16).toString('hex');
    const metadata = new Metadata();
    metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
    await recommender.recommend({ userId: seeded.dataset.users[1]!.userId, count: 10 }, { metadata });

    const jaeger = readConfig(platform.env).jaegerQueryUrl;
    type JaegerTrace = { data?: { processes: Record<string, { serviceName: string }>; spans: { operationName: string }[] }[] };
    const servicesAndOperations = await eventually(
      async () => {
        const response = await fetch(`${jaeger}/api/traces/${traceId}`);
        if (!response.ok) return new Set<string>();
        const body = (await response.json()) as JaegerTrace;
        const found = body.data?.[0];
        return new Set([...Object.values(found?.processes ?? {}).map((process) => process.serviceName), ...(found?.spans ?? []).map((span) => span.operationName)]);
      },
      { accept: (names) => ['recommender', 'scoring', 'ann search'].every((name) => names.has(name)), timeoutMs: 30_000, intervalMs: 500, what: `trace ${traceId} in Jaeger` },
    );
    expect([...servicesAndOperations]).toEqual(expect.arrayContaining(['recommender', 'scoring', 'ann search']));
  });

  // Last: the examples write (an item, a user's events) and erase (that item, that user).
  it("when the README's grpcurl examples are run as written, each succeeds and answers what the README says", async () => {
    const run = promisify(execFile);
    const grpcurl = (await run('bash', [join(REPO_ROOT, 'infra', 'dev', 'go-tool.sh'), 'grpcurl'], { timeout: 240_000 })).stdout.trim();
    const examples = shellCommandsUnder(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), '## Calling the APIs');
    // What each example must answer, keyed by a part of its command; every example needs one, so a
    // new example in the README fails here until this says what it returns.
    const json = (output: string): Record<string, unknown> => JSON.parse(output) as Record<string, unknown>;
    const items = (output: string): unknown[] => (json(output).items as unknown[] | undefined) ?? [];
    const expectations: [string, (output: string) => void][] = [
      [' list', (output) => expect(output.split('\n')).toEqual(expect.arrayContaining(['orrery.v1.IngestService', 'orrery.v1.CatalogService']))],
      ['Health/Check', (output) => expect(json(output)).toEqual({ status: 'SERVING' })],
      ['IngestService/Track\n', (output) => expect(json(output).eventId).toMatch(/^[0-9a-f-]{36}$/)],
      ['IngestService/TrackBatch', (output) => expect(json(output)).toEqual({ accepted: 1, rejected: [{ index: 1, reason: 'events[1].user_id: must not be empty' }] })],
      ['UpsertItems', (output) => expect(json(output)).toEqual({ upserted: 1 })],
      ['IngestService/TrackStream', (output) => expect(json(output)).toEqual({ accepted: 2 })],
      ['DeleteItem', (output) => expect(json(output)).toEqual({ deleted: true })],
      // u1's event of the batch and its two of the stream.
      ['ForgetUser', (output) => expect(json(output)).toEqual({ eventsErased: '3' })],
      ['"user_id":"user-0007","count":5}\'', (output) => expect(items(output)).toHaveLength(5)],
      ['include_categories', (output) => {
        expect(items(output)).toHaveLength(5);
        for (const item of items(output)) expect(categoriesOf.get((item as { itemId: string }).itemId)).toContain('jazz');
      }],
      ['SimilarItems', (output) => expect(items(output)).toHaveLength(5)],
      ['Popular', (output) => expect(items(output)).toHaveLength(5)],
    ];
    const used = new Set<string>();
    for (const example of examples) {
      const matching = expectations.filter(([part]) => `${example}\n`.includes(part));
      expect({ example, matching: matching.map(([part]) => part) }).toEqual({ example, matching: [expect.any(String)] });
      const [part, check] = matching[0]!;
      used.add(part);
      const command = example
        .replaceAll('grpcurl ', `${grpcurl} `)
        .replaceAll('127.0.0.1:50051', platform.ingestAddress)
        .replaceAll('127.0.0.1:50052', platform.recommenderAddress);
      const { stdout } = await run('bash', ['-o', 'pipefail', '-c', command], { timeout: 30_000 });
      check(stdout.trim());
    }
    expect([...used].sort()).toEqual(expectations.map(([part]) => part).sort());
  });
});
