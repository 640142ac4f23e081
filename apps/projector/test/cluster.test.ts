// The projections on a real 3-master Redis Cluster (ORRERY_REDIS_CLUSTER: ioredis' cluster client,
// one script per hash tag) equal those on a standalone Redis for the same events, and query reads them.
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createClient, type Client } from '@orrery/grpc';
import { createRedis, projectionKeys, scanKeys, tagKeyPattern, type RedisClient } from '@orrery/projections';
import { EventType, QueryService, type DomainEvent } from '@orrery/proto';
import { createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import type { Cluster } from 'ioredis';
import { startQuery, type RunningQuery } from '../../query/src/service';
import { groupLag } from '../src/rebuild';
import { startProjector, type RunningProjector } from '../src/service';
import { interaction, itemDeleted, itemUpserted, publish, userForgotten } from './domain-events';
import { clusterUnavailableReason, startLocalRedisCluster, type LocalRedisCluster } from './redis-cluster';
import { canonicalModel, deleteModel } from './redis-state';

jest.setTimeout(180_000);

const unavailable = clusterUnavailableReason();
if (unavailable) console.warn(`Redis Cluster tests skipped: ${unavailable}`);
const describeWithCluster = unavailable ? describe.skip : describe;

const logger = createLogger('cluster-test', 'warn');
const MINUTE = 60_000;
let cluster: LocalRedisCluster;
let standalone: OrreryConfig;
let clustered: OrreryConfig;
let producer: Producer;
let admin: Admin;
let standaloneRedis: RedisClient;
let clusterRedis: RedisClient;
const projectors: RunningProjector[] = [];
let query: RunningQuery;
let client: Client<typeof QueryService>;

async function phase(events: readonly DomainEvent[]): Promise<void> {
  await publish(producer, standalone.eventsTopic, events);
  await eventually(async () => (await groupLag(admin, standalone.eventsTopic, standalone.projectorGroup)) === 0 && (await groupLag(admin, standalone.eventsTopic, clustered.projectorGroup)) === 0, {
    what: 'both projectors to catch up',
    timeoutMs: 60_000,
  });
}

describeWithCluster('projections on a Redis Cluster', () => {
  beforeAll(async () => {
    cluster = await startLocalRedisCluster();
    const base = { ...readConfig(), eventsTopic: await createTestTopic(2), eventsTopicPartitions: 2, tracingEnabled: false, queryAddress: '127.0.0.1:0' };
    standalone = { ...base, projectorGroup: uniqueName('standalone'), redisPrefix: uniqueName('standalone') };
    clustered = { ...base, projectorGroup: uniqueName('clustered'), redisPrefix: uniqueName('clustered'), redisUrl: cluster.url, redisCluster: true };
    const kafka = new Kafka({ clientId: 'cluster-test', brokers: [...base.kafkaBrokers], logLevel: logLevel.NOTHING });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    standaloneRedis = createRedis(standalone, 'cluster-test');
    clusterRedis = createRedis(clustered, 'cluster-test');
    projectors.push(await startProjector(standalone, logger), await startProjector(clustered, logger));
    query = await startQuery(clustered, logger);
    client = createClient(QueryService, `127.0.0.1:${query.port}`);
  });

  afterAll(async () => {
    client?.close();
    await query?.close();
    for (const projector of projectors) await projector.close();
    await Promise.all([producer?.disconnect(), admin?.disconnect()]);
    if (standaloneRedis) {
      await deleteModel(standaloneRedis, standalone.redisPrefix);
      await standaloneRedis.quit();
    }
    await clusterRedis?.quit();
    await cluster?.stop();
    if (standalone) await deleteTestTopic(standalone.eventsTopic);
  });

  it('when the same events (with redeliveries, a deletion and a forgotten user) are projected, the cluster holds what a standalone Redis holds, spread over every master', async () => {
    expect(clusterRedis.isCluster).toBe(true);
    await phase(Array.from({ length: 15 }, (_, index) => itemUpserted({ itemId: `i${index}`, categories: [index % 2 ? 'odd' : 'even'] })));
    const t = Date.now() - 60 * MINUTE;
    const events = Array.from({ length: 1_500 }, (_, index) =>
      interaction({ userId: `u${index % 20}`, itemId: `i${(index * 7) % 15}`, type: [EventType.VIEW, EventType.CLICK, EventType.PURCHASE][index % 3]!, occurredMs: t + index * 1_000 }),
    );
    await phase([...events, ...events.slice(0, 100)]); // the first 100 redelivered
    await phase([itemDeleted('i4')]);
    await phase([interaction({ userId: 'u1', itemId: 'i5', occurredMs: t + 2_000_000 }), userForgotten('u2')]);

    const [onStandalone, onCluster] = await Promise.all([canonicalModel(standaloneRedis, standalone.redisPrefix, { watermarks: false }), canonicalModel(clusterRedis, clustered.redisPrefix, { watermarks: false })]);
    expect(Object.keys(onStandalone).length).toBeGreaterThan(50);
    expect(onCluster).toEqual(onStandalone);
    const perMaster = await Promise.all((clusterRedis as Cluster).nodes('master').map(async (node) => (await node.scan('0', 'MATCH', `${clustered.redisPrefix}:*`, 'COUNT', 100_000))[1].length));
    expect(perMaster.every((count) => count > 0)).toBe(true);

    const keys = projectionKeys(clustered.redisPrefix);
    expect(await scanKeys(clusterRedis, tagKeyPattern(clustered.redisPrefix, keys.user('u2').tag))).toEqual([]);
    expect((await client.getUserContext({ userId: 'u2' })).known).toBe(false);
    const u1 = await client.getUserContext({ userId: 'u1' });
    expect(u1.seenItemIds[0]).toBe('i5');
    expect(u1.eventCounts).toEqual({ VIEW: 26n, CLICK: 25n, PURCHASE: 25n }); // 75 interleaved + the later VIEW; redeliveries not counted
    expect((await client.getItems({ itemIds: ['i4'] })).items[0]).toMatchObject({ exists: false, deleted: true });
    expect((await client.getTrending({ category: 'even', count: 100 })).items.map((item) => item.itemId)).not.toContain('i4');
    expect((await client.getCoVisited({ itemIds: ['i5'], countPerItem: 100 })).items.map((item) => item.itemId)).not.toContain('i4');
    expect((await client.getCoVisited({ itemIds: ['i5'] })).items.length).toBeGreaterThan(0);
  });
});
