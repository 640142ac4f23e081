import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Pool } from 'pg';
import { status } from '@grpc/grpc-js';
import { readConfig, type OrreryConfig } from '@orrery/config';
import {
  createSeededRandom,
  encodeFeatureMatrix,
  exportRankerToOnnx,
  RANKING_FEATURE_SCHEMA,
  RANKING_FEATURES,
  scoreWithRanker,
  trainRanker,
  type RankerModel,
} from '@orrery/ml';
import { promoteIfBetter, registerModel } from '@orrery/models';
import { ScoreReplySchema, ScoreRequestSchema, type ScoreReply } from '@orrery/proto';
import { migrate } from '@orrery/store';
import { createLogger } from '@orrery/telemetry';
import { createTestDatabase, dropTestDatabase, eventually, uniqueName } from '@orrery/testing';
import { ZmqRequestClient } from '@orrery/zmq';
import { NO_MODEL, startScoring, type RunningScoring } from '../src/service';

const logger = createLogger('scoring-test', 'warn');
// Spans in memory: scoring's server span of a request is checked without Jaeger.
const spans = new InMemorySpanExporter();
const tracing = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
tracing.register();
const width = RANKING_FEATURES.length;
let databaseUrl: string;
let pool: Pool;
let scoring: RunningScoring;
let client: ZmqRequestClient;

/** A ranker whose label depends on feature `column`, so two seeds/columns give visibly different scores. */
function ranker(column: number, seed: number): RankerModel {
  const random = createSeededRandom(seed);
  const n = 600;
  const rows = Float32Array.from({ length: n * width }, () => random.normal());
  const labels = Uint8Array.from({ length: n }, (_, i) => ((rows[i * width + column] as number) + 0.3 * random.normal() > 0 ? 1 : 0));
  return trainRanker(rows, labels, width);
}

/** Registers a version with this ranker (not promoted). */
function register(model: RankerModel, ndcg: number) {
  return registerModel(pool, {
    metrics: { 'ndcg@10': ndcg },
    splitId: 'split-scoring-test',
    featureSchema: model.featureSchema,
    factors: 1,
    itemIds: ['item-a'],
    itemVectors: new Float32Array([1]),
    itemNorms: new Float32Array([1]),
    rankerOnnx: exportRankerToOnnx(model),
  });
}

async function promote(model: RankerModel, ndcg: number): Promise<string> {
  const registered = await register(model, ndcg);
  const decision = await promoteIfBetter(pool, registered.version, 'ndcg@10');
  if (!decision.promoted) throw new Error(decision.reason);
  return registered.version;
}

async function score(features: Float32Array, featureSchema = RANKING_FEATURE_SCHEMA, featureCount = width): Promise<ScoreReply> {
  const request = create(ScoreRequestSchema, { featureCount, featureMatrix: encodeFeatureMatrix(features), featureSchema });
  return fromBinary(ScoreReplySchema, await client.request(toBinary(ScoreRequestSchema, request)));
}

function candidates(count: number, seed: number): Float32Array {
  const random = createSeededRandom(seed);
  return Float32Array.from({ length: count * width }, () => random.normal());
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  pool = new Pool({ connectionString: databaseUrl });
  await migrate(pool);
  const config: OrreryConfig = { ...readConfig(), postgresUrl: databaseUrl, scoringZmqEndpoint: `ipc:///tmp/${uniqueName('orrery-scoring')}` };
  // A long fallback poll: within the test only LISTEN/NOTIFY can bring a promotion in.
  scoring = await startScoring(config, logger, { pollIntervalMs: 600_000 });
  client = new ZmqRequestClient({ endpoint: config.scoringZmqEndpoint, name: 'scoring-test', timeoutMs: 5_000 });
});

afterAll(async () => {
  await client?.close();
  await scoring?.close();
  await pool?.end();
  await dropTestDatabase(databaseUrl);
  await tracing.shutdown();
});

it('before any model is promoted, a request is answered with the error "no model", and its server span is marked failed with it', async () => {
  spans.reset();
  const reply = await score(candidates(3, 1));
  expect(reply.error).toBe(NO_MODEL);
  expect(reply.scores).toEqual([]);
  const serve = await eventually(async () => spans.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER && span.name === 'scoring serve'));
  expect(serve.status).toEqual({ code: SpanStatusCode.ERROR, message: NO_MODEL });
});

describe('with a champion ranker', () => {
  const first = ranker(0, 1);
  let firstVersion: string;
  beforeAll(async () => {
    firstVersion = await promote(first, 0.1);
    await eventually(async () => (await score(candidates(1, 2))).modelVersion, { accept: (version) => version === firstVersion, what: 'the first model' });
  });

  it('returns one score per candidate, equal to the TypeScript ranker within 1e-5', async () => {
    const batch = candidates(250, 3);
    const reply = await score(batch);
    expect(reply.error).toBe('');
    expect(reply.modelVersion).toBe(firstVersion);
    expect(reply.scores).toHaveLength(250);
    const expected = scoreWithRanker(first, batch);
    reply.scores.forEach((value, i) => expect(Math.abs(value - (expected[i] as number))).toBeLessThan(1e-5));
  });

  it('an empty batch gets an empty list of scores', async () => {
    expect(await score(new Float32Array(0))).toMatchObject({ scores: [], modelVersion: firstVersion, error: '' });
  });

  it('refuses features built on another schema, with the reason in the reply', async () => {
    const reply = await score(candidates(2, 4), 'ranking-v0-legacy');
    expect(reply.scores).toEqual([]);
    expect(reply.error).toContain('ranking-v0-legacy');
    expect(reply.error).toContain(RANKING_FEATURE_SCHEMA);
  });

  it('malformed batches are INVALID_ARGUMENT naming the field', async () => {
    const expectInvalid = (reply: Promise<unknown>, field: string) =>
      expect(reply).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, message: expect.stringContaining(field) });
    await expectInvalid(score(candidates(2, 5).subarray(0, width * 2 - 1)), 'feature_matrix: holds 15 values, not a multiple of feature_count 8');
    const partialValue = create(ScoreRequestSchema, { featureCount: width, featureMatrix: new Uint8Array(4 * width + 2), featureSchema: RANKING_FEATURE_SCHEMA });
    await expectInvalid(client.request(toBinary(ScoreRequestSchema, partialValue)), 'feature_matrix: holds 34 bytes');
    await expectInvalid(score(candidates(1, 5), RANKING_FEATURE_SCHEMA, 0), 'feature_count');
    await expectInvalid(score(candidates(1, 5), ''), 'feature_schema');
    await expectInvalid(score(Float32Array.from([NaN, ...candidates(1, 6).subarray(1)])), 'feature_matrix[0]');
    await expectInvalid(score(candidates(2, 7).subarray(0, 2 * (width - 1)), RANKING_FEATURE_SCHEMA, width - 1), 'feature_count');
    await expectInvalid(client.request(Buffer.from([0xff, 0xff, 0xff])), 'payload');
  });

  it('when another ranker is promoted, scores come from it without a restart', async () => {
    const second = ranker(5, 2);
    const secondVersion = await promote(second, 0.2);
    const batch = candidates(40, 8);
    const reply = await eventually(() => score(batch), { accept: (answer) => answer.modelVersion === secondVersion, what: 'the second model' });
    const expected = scoreWithRanker(second, batch);
    reply.scores.forEach((value, i) => expect(Math.abs(value - (expected[i] as number))).toBeLessThan(1e-5));
    const old = scoreWithRanker(first, batch);
    expect(reply.scores.some((value, i) => Math.abs(value - (old[i] as number)) > 1e-3)).toBe(true);
    expect(scoring.modelVersion()).toBe(secondVersion);
  });
});

describe('shadow scoring of a challenger', () => {
  let shadowing: RunningScoring;
  let shadowClient: ZmqRequestClient;

  beforeAll(async () => {
    const endpoint = `ipc:///tmp/${uniqueName('orrery-scoring-shadow')}`;
    shadowing = await startScoring({ ...readConfig(), postgresUrl: databaseUrl, scoringZmqEndpoint: endpoint, shadowChallenger: true }, logger, { pollIntervalMs: 600_000 });
    shadowClient = new ZmqRequestClient({ endpoint, name: 'scoring-shadow-test', timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await shadowClient?.close();
    await shadowing?.close();
  });

  it('when a challenger is registered but not promoted, batches are also scored by it, answered by the champion, and the rank correlation recorded', async () => {
    const champion = shadowing.modelVersion();
    expect(champion).not.toBe('');
    const challengerModel = ranker(3, 9);
    const challenger = await register(challengerModel, 0.01);
    await shadowing.refreshShadow();

    const batch = candidates(60, 10);
    const request = create(ScoreRequestSchema, { featureCount: width, featureMatrix: encodeFeatureMatrix(batch), featureSchema: RANKING_FEATURE_SCHEMA });
    const reply = fromBinary(ScoreReplySchema, await shadowClient.request(toBinary(ScoreRequestSchema, request)));
    expect(reply.modelVersion).toBe(champion);
    const challengerScores = scoreWithRanker(challengerModel, batch);
    expect(reply.scores.some((value, i) => Math.abs(value - (challengerScores[i] as number)) > 1e-3)).toBe(true);

    const figures = shadowing.shadow();
    expect(figures.version).toBe(challenger.version);
    expect(figures.batches).toBe(1);
    expect(figures.meanRankCorrelation).toBeGreaterThanOrEqual(-1);
    expect(figures.meanRankCorrelation).toBeLessThan(0.999);
  });
});
