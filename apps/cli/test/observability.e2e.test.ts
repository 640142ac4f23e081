import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readConfig, METRICS_SERVICES } from '@orrery/config';
import { createClient, type Client } from '@orrery/grpc';
import { EventType, IngestService, RecommendationService } from '@orrery/proto';
import { eventually } from '@orrery/testing';
import { startIsolatedPlatform, type IsolatedPlatform } from '../src/isolated-platform';
import { isAlive } from '../src/platform';
import { seedDemoData, type SeedResult } from '../src/seed';
import { fetchTrace, sampledTraceContext, searchTraces, type JaegerTrace } from '../src/jaeger';
import { rootSpan } from '../src/trace-view';
import { descendsFrom, findSpan } from './jaeger';
import { scrape, sumOf, type MetricSample } from '../src/prometheus-text';

jest.setTimeout(300_000);

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

describe('operators see every hop: traces in Jaeger and metrics of every service, on a whole platform', () => {
  let platform: IsolatedPlatform;
  let seeded: SeedResult;
  let ingest: Client<typeof IngestService>;
  let recommender: Client<typeof RecommendationService>;
  let jaeger: string;

  beforeAll(async () => {
    platform = await startIsolatedPlatform();
    jaeger = readConfig(platform.env).jaegerQueryUrl;
    seeded = await seedDemoData({ ingestAddress: platform.ingestAddress, users: 150, items: 120, eventsPerUser: 20, seed: 11, progress: false });
    platform.train();
    ingest = createClient(IngestService, platform.ingestAddress, { timeoutMs: 10_000 });
    recommender = createClient(RecommendationService, platform.recommenderAddress, { timeoutMs: 10_000 });
    // Serving the trained model, with the projections caught up with the seed.
    await eventually(() => recommender.recommend({ userId: seeded.dataset.users[0]!.userId, count: 10 }), {
      accept: (reply) => reply.items.length === 10 && reply.modelVersion !== '' && !reply.degraded,
      timeoutMs: 60_000,
      what: 'a non-degraded recommendation from the trained model',
    });
  });

  afterAll(async () => {
    ingest?.close();
    recommender?.close();
    await platform?.stop();
  });

  const traced = sampledTraceContext;

  /** The lines `orrery trace <args>` prints (the built CLI, as an operator runs it; it fails the test unless it exits 0). */
  const orreryTrace = async (args: string[]): Promise<string[]> => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, '..', 'dist', 'main.js'), 'trace', ...args], { env: { ...process.env, ...platform.env } });
    return stdout.split('\n');
  };

  const traceHolding = (traceId: string, holds: (trace: JaegerTrace) => boolean, what: string): Promise<JaegerTrace> =>
    eventually(() => fetchTrace(jaeger, traceId), { accept: holds, timeoutMs: 30_000, intervalMs: 500, what });

  it('when an event is tracked, one trace runs from ingestion over ZeroMQ to command and Postgres, and through the outbox and Kafka to the projector applying it in Redis', async () => {
    const { traceId, metadata } = traced();
    const userId = `trace-user-${hex(4)}`;
    const itemId = seeded.dataset.items[3]!.itemId;
    await ingest.track({ event: { userId, itemId, type: EventType.CLICK } }, { metadata });

    // Each process exports its spans in its own batches: wait until every hop's span has arrived.
    const hops: [string, string | RegExp][] = [
      ['ingestion', 'grpc.orrery.v1.IngestService/Track'],
      ['ingestion', 'command request'],
      ['command', 'command serve'],
      ['command', /^pg\.query:orrery-append-events/], // the append, a named statement
      ['command', / publish$/],
      ['projector', 'projector apply'],
      ['projector', /^evalsha|^eval$/],
    ];
    const trace = await traceHolding(traceId, (candidate) => hops.every(([service, operation]) => findSpan(candidate, service, operation)), `trace ${traceId} with every hop from ingestion to the projector's Redis write`);
    const track = findSpan(trace, 'ingestion', 'grpc.orrery.v1.IngestService/Track')!;
    expect(track.tags).toMatchObject({ 'orrery.user_id': userId, 'orrery.item_id': itemId });
    const commandRequest = findSpan(trace, 'ingestion', 'command request')!;
    const commandServe = findSpan(trace, 'command', 'command serve')!;
    const insert = findSpan(trace, 'command', /^pg\.query:orrery-append-events/)!;
    const publish = findSpan(trace, 'command', / publish$/)!;
    const apply = findSpan(trace, 'projector', 'projector apply')!;
    const redisWrite = findSpan(trace, 'projector', /^evalsha|^eval$/)!;
    for (const span of [commandRequest, commandServe, insert, publish, apply, redisWrite]) expect(span).toBeDefined();
    // One causal chain: each hop is a child of the one before, across ZeroMQ, the outbox and Kafka.
    expect(descendsFrom(trace, commandServe, commandRequest)).toBe(true);
    expect(descendsFrom(trace, commandRequest, track)).toBe(true);
    expect(descendsFrom(trace, insert, commandServe)).toBe(true);
    expect(descendsFrom(trace, publish, commandServe)).toBe(true);
    expect(apply.parentSpanIds).toEqual([publish.spanId]);
    expect(descendsFrom(trace, redisWrite, apply)).toBe(true);
    expect(apply.tags).toMatchObject({ 'span.kind': 'consumer', 'orrery.projector.outcome': 'applied', 'orrery.user_id': userId });
    expect(publish.tags).toMatchObject({ 'span.kind': 'producer', 'messaging.system': 'kafka' });

    for (const service of ['ingestion', 'command', 'projector']) {
      expect(trace.resources.get(service)).toMatchObject({ 'service.namespace': 'orrery', 'service.version': expect.stringMatching(/^\d+\.\d+\.\d+/), 'service.instance.id': expect.stringMatching(/.+:\d+$/) });
    }

    // `orrery trace` draws it: each hop on a later line than the one before, and further right (under it).
    const drawing = await orreryTrace([traceId]);
    expect(drawing[0]).toMatch(new RegExp(`^trace ${traceId}: [\\d.]+ ms, \\d+ spans, 3 services \\(ingestion, command, projector\\)`));
    const drawn = [/grpc\.orrery\.v1\.IngestService\/Track/, /command request/, /command serve/, /[\w.-]+ publish/, /projector apply/, /evalsha|eval\b/].map((hop) => {
      const line = drawing.findIndex((text) => hop.test(text));
      return { hop: String(hop), line, column: line < 0 ? -1 : drawing[line]!.search(hop) };
    });
    for (const [before, after] of drawn.slice(0, -1).map((hop, index) => [hop, drawn[index + 1]!] as const)) {
      expect(before.line).toBeGreaterThanOrEqual(0);
      expect({ hop: after.hop, below: after.line > before.line, further: after.column > before.column }).toEqual({ hop: after.hop, below: true, further: true });
    }
    // …and lists it among the newest traces of ingestion's Track.
    const listed = await orreryTrace(['--service', 'ingestion', '--operation', 'grpc.orrery.v1.IngestService/Track', '--limit', '20']);
    expect(listed.some((line) => line.includes(traceId) && line.includes('ingestion,command,projector'))).toBe(true);
  });

  it('when Recommend is traced, the trace holds the recommender, its Redis reads and in-process ANN search, and scoring over ZeroMQ, with candidate counts and the model version', async () => {
    const { traceId, metadata } = traced();
    const userId = seeded.dataset.users[2]!.userId;
    const reply = await recommender.recommend({ userId, count: 10 }, { metadata });
    const trace = await traceHolding(
      traceId,
      (candidate) =>
        [
          findSpan(candidate, 'recommender', 'grpc.orrery.v1.RecommendationService/Recommend'),
          findSpan(candidate, 'recommender', 'scoring request'),
          findSpan(candidate, 'scoring', 'scoring serve'),
          findSpan(candidate, 'recommender', 'ann search'),
          findSpan(candidate, 'recommender', 'redis read user'),
        ].every(Boolean),
      `trace ${traceId} with every service of a Recommend`,
    );
    const root = findSpan(trace, 'recommender', 'grpc.orrery.v1.RecommendationService/Recommend')!;
    expect(root.tags).toMatchObject({ 'orrery.user_id': userId, 'orrery.model_version': reply.modelVersion, 'orrery.degraded': false, 'orrery.results': reply.items.length });
    expect(Number(root.tags['orrery.candidates.merged'])).toBeGreaterThan(0);
    const scoringServe = findSpan(trace, 'scoring', 'scoring serve')!;
    expect(descendsFrom(trace, scoringServe, findSpan(trace, 'recommender', 'scoring request')!)).toBe(true);
    expect(scoringServe.tags).toMatchObject({ 'orrery.model_version': reply.modelVersion });
    expect(findSpan(trace, 'recommender', 'ann search')!.tags).toMatchObject({ 'orrery.ann.kind': 'for_user', 'orrery.model_version': reply.modelVersion, 'orrery.hits': expect.any(Number) });
    // A read is one span, not one per Redis command (withReadSpan).
    const userRead = findSpan(trace, 'recommender', 'redis read user')!;
    expect(userRead.tags).toMatchObject({ 'db.system.name': 'redis' });
    expect(trace.spans.some((span) => span.parentSpanIds.includes(userRead.spanId))).toBe(false);
    expect(trace.spans.some((span) => span.service === 'recommender' && /^(lrange|hgetall|zrevrange|hmget|smismember|evalsha)$/.test(span.operationName))).toBe(false);
  });

  it('when the services are under load, every service\'s metrics endpoint shows its series moving', async () => {
    const scrapeAll = async (): Promise<Map<string, MetricSample[]>> =>
      new Map(await Promise.all(METRICS_SERVICES.map(async (service) => [service, await scrape(platform.metricsUrls[service])] as const)));
    const before = await scrapeAll();
    const users = seeded.dataset.users.slice(0, 20).map((user) => user.userId);
    for (const [index, userId] of users.entries()) {
      await ingest.trackBatch({ events: [{ userId, itemId: seeded.dataset.items[index]!.itemId, type: EventType.VIEW }, { userId, itemId: seeded.dataset.items[index + 1]!.itemId, type: EventType.CLICK }] });
      await recommender.recommend({ userId, count: 10 });
      await recommender.similarItems({ itemId: seeded.dataset.items[index]!.itemId, count: 5 });
    }

    // Each entry: service, series, labels; its value must grow between the two scrapes.
    const moving: [string, string, Record<string, string>][] = [
      ['ingestion', 'orrery_rpc_server_requests_total', { transport: 'grpc', method: 'orrery.v1.IngestService/TrackBatch', code: 'OK' }],
      ['ingestion', 'orrery_rpc_server_duration_seconds_count', { method: 'orrery.v1.IngestService/TrackBatch' }],
      ['ingestion', 'orrery_ingest_acks_total', { kind: 'event', outcome: 'stored' }],
      ['ingestion', 'orrery_rpc_client_duration_seconds_count', { transport: 'zeromq', method: 'command', code: 'OK' }],
      ['command', 'orrery_rpc_server_requests_total', { transport: 'zeromq', method: 'command', code: 'OK' }],
      ['command', 'orrery_rpc_server_duration_seconds_bucket', { method: 'command', le: '+Inf' }],
      ['projector', 'orrery_projection_freshness_seconds_count', { from: 'committed' }],
      ['projector', 'orrery_projected_events_total', { outcome: 'applied' }],
      ['projector', 'orrery_projector_chunk_events_count', {}],
      ['scoring', 'orrery_rpc_server_requests_total', { transport: 'zeromq', method: 'scoring', code: 'OK' }],
      ['scoring', 'orrery_scoring_run_duration_seconds_count', {}],
      ['recommender', 'orrery_rpc_server_requests_total', { method: 'orrery.v1.RecommendationService/Recommend', code: 'OK' }],
      ['recommender', 'orrery_rpc_client_duration_seconds_count', { transport: 'zeromq', method: 'scoring', code: 'OK' }],
      ['recommender', 'orrery_ann_search_duration_seconds_count', { kind: 'for_user' }],
      ['recommender', 'orrery_ann_search_duration_seconds_count', { kind: 'similar_to' }],
    ];
    const after = await eventually(scrapeAll, {
      accept: (scraped) => moving.every(([service, name, labels]) => sumOf(scraped.get(service)!, name, labels) > sumOf(before.get(service)!, name, labels)),
      timeoutMs: 20_000,
      intervalMs: 500,
      what: 'every series to move under load',
    });
    for (const [service, name, labels] of moving) expect([service, name, labels, sumOf(after.get(service)!, name, labels)]).toEqual([service, name, labels, expect.any(Number)]);

    // Gauges sampled periodically: present, with the values an idle-after-load platform has.
    const modelVersion = (await recommender.recommend({ userId: users[0]!, count: 5 })).modelVersion;
    const sampled = await eventually(scrapeAll, {
      accept: (scraped) =>
        sumOf(scraped.get('vector')!, 'orrery_model_in_use', { version: modelVersion }) === 1 &&
        sumOf(scraped.get('scoring')!, 'orrery_model_in_use', { version: modelVersion }) === 1 &&
        scraped.get('projector')!.some((sample) => sample.name === 'orrery_kafka_consumer_lag_messages') &&
        sumOf(scraped.get('projector')!, 'orrery_kafka_consumer_lag_messages') === 0 &&
        sumOf(scraped.get('command')!, 'orrery_outbox_pending_rows') === 0 &&
        scraped.get('command')!.some((sample) => sample.name === 'orrery_outbox_oldest_age_seconds'),
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'model versions in use, zero consumer lag and an empty outbox once the load is absorbed',
    });
    expect(sumOf(sampled.get('ingestion')!, 'orrery_dependency_up', { dependency: 'command' })).toBe(1);
    expect(sumOf(sampled.get('query')!, 'orrery_dependency_up', { dependency: 'redis' })).toBe(1);
    for (const service of METRICS_SERVICES) expect(sampled.get(service)!.some((sample) => sample.name === 'process_cpu_seconds_total' && sample.labels.service === service)).toBe(true);
  });

  it("the recommender's background refresh of its shared reads is a trace of its own, not part of the request that found them due", async () => {
    // Values read after 60–80% of the cache's TTL (10 s) are refreshed in the background: keep asking until one is.
    // Jaeger may hold other platforms' traces: only this recommender's count (service.instance.id is host:pid).
    const pid = platform.services.find((service) => service.name === 'recommender')!.pid;
    const ofThisRecommender = (trace: JaegerTrace): boolean => String(trace.resources.get('recommender')?.['service.instance.id']).endsWith(`:${pid}`);
    const refresh = await eventually(
      async () => {
        await recommender.recommend({ userId: seeded.dataset.users[5]!.userId, count: 10 });
        return (await searchTraces(jaeger, { service: 'recommender', operation: 'shared reads refresh', limit: 20, lookbackMs: 300_000 })).find(ofThisRecommender);
      },
      { accept: (found) => found !== undefined, timeoutMs: 60_000, intervalMs: 1_000, what: "a trace of the recommender's shared reads refresh" },
    );
    const root = rootSpan(refresh!)!;
    expect(root).toMatchObject({ service: 'recommender', operationName: 'shared reads refresh', parentSpanIds: [] });
    expect(Number(root.tags['orrery.cache.keys'])).toBeGreaterThan(0);
    // Its Redis reads are in it, a span per read.
    expect(refresh!.spans.some((span) => span.parentSpanIds.includes(root.spanId) && span.tags['db.system.name'] === 'redis' && /^redis read /.test(span.operationName))).toBe(true);
  });

  // Last: it stops scoring for good.
  it('when scoring is down, Recommend still answers, degraded, and its trace shows the failed scoring call as an error span', async () => {
    const scoring = platform.services.find((service) => service.name === 'scoring')!;
    process.kill(scoring.pid, 'SIGKILL');
    await eventually(async () => !isAlive(scoring.pid), { what: 'scoring to be gone' });
    const { traceId, metadata } = traced();
    const reply = await recommender.recommend({ userId: seeded.dataset.users[3]!.userId, count: 10 }, { metadata });
    expect(reply.degraded).toBe(true);
    expect(reply.degradedReasons.some((reason) => reason.startsWith('scoring unavailable'))).toBe(true);
    expect(reply.items.length).toBe(10);

    const trace = await traceHolding(
      traceId,
      (candidate) => Boolean(findSpan(candidate, 'recommender', 'scoring request') && findSpan(candidate, 'recommender', 'grpc.orrery.v1.RecommendationService/Recommend')),
      `trace ${traceId} with the scoring call`,
    );
    expect(findSpan(trace, 'recommender', 'scoring request')!.tags).toMatchObject({ error: true, 'otel.status_code': 'ERROR' });
    expect(findSpan(trace, 'scoring', 'scoring serve')).toBeUndefined();
    const root = findSpan(trace, 'recommender', 'grpc.orrery.v1.RecommendationService/Recommend')!;
    expect(root.tags).toMatchObject({ 'orrery.degraded': true });
    expect(String(root.tags['orrery.degraded_reasons'])).toContain('scoring unavailable');
    // `orrery trace` marks the failed call, and why it failed.
    const drawing = await orreryTrace([traceId]);
    expect(drawing.find((line) => /[├└]─ scoring request\b/.test(line))).toMatch(/ ✗ \S/);

    const metrics = await scrape(platform.metricsUrls.recommender);
    expect(sumOf(metrics, 'orrery_degraded_answers_total', { part: 'scoring' })).toBeGreaterThan(0);
    expect(sumOf(metrics, 'orrery_rpc_client_duration_seconds_count', { transport: 'zeromq', method: 'scoring', code: 'DEADLINE_EXCEEDED' })).toBeGreaterThan(0);
  });
});
