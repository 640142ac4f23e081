// The scoring service: a ZeroMQ ROUTER answering ScoreRequest with ScoreReply, one ONNX run per
// candidate batch, on the registry's champion ranker (hot-swapped on promotion).

import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import type { Pool } from 'pg';
import type { OrreryConfig } from '@orrery/config';
import { invalidArgument } from '@orrery/grpc';
import { scoringBatchRows, scoringRunDuration } from '@orrery/metrics';
import { listModelVersions, loadModelVersion, watchChampion, type ChampionWatch } from '@orrery/models';
import { ScoreReplySchema, ScoreRequestSchema } from '@orrery/proto';
import { createPool, migrate } from '@orrery/store';
import { recordError, trace, type Logger } from '@orrery/telemetry';
import { serveZmqRequests, type RunningZmqServer } from '@orrery/zmq';
import { ModelSlot, type LoadedRanker } from './model-slot';
import { pickChallenger, ShadowStats, spearmanRankCorrelation, type ShadowSummary } from './shadow';
import { validateScoreRequest, type ScoreBatch } from './validation';

/** The reply error when no model was promoted yet (the recommender then ranks without the model). */
export const NO_MODEL = 'no model';

export interface RunningScoring {
  /** Version currently served ('' before the first champion). */
  modelVersion(): string;
  /** Shadow scoring figures of the current challenger (version '' when shadowing is off or nothing was shadowed yet). */
  shadow(): ShadowSummary;
  /** Looks for a newer challenger to shadow now (also done on the registry poll and after promotions). */
  refreshShadow(): Promise<void>;
  close(): Promise<void>;
}

export interface ScoringOptions {
  /** Fallback poll of the registry in ms (LISTEN/NOTIFY is the fast path); default config.modelPollIntervalMs. */
  readonly pollIntervalMs?: number;
}

/** Batches between two log lines of the shadow figures. */
const SHADOW_LOG_EVERY = 1_000;

/** Scores a valid batch with `model`, or says why it cannot (reply error, not a failed request). */
export async function scoreBatch(model: LoadedRanker | undefined, batch: ScoreBatch): Promise<MessageInitShape<typeof ScoreReplySchema>> {
  if (!model) return { error: NO_MODEL };
  if (batch.featureSchema !== model.featureSchema) {
    return { modelVersion: model.version, error: `feature schema ${batch.featureSchema} does not match model ${model.version}'s ${model.featureSchema}` };
  }
  if (batch.featureCount !== model.ranker.featureCount) {
    throw invalidArgument('feature_count', `model ${model.version} takes ${model.ranker.featureCount} features, got ${batch.featureCount}`);
  }
  const timer = scoringRunDuration.startTimer();
  const scores = await model.ranker.score(batch.features, batch.rowCount);
  timer();
  scoringBatchRows.observe(batch.rowCount);
  return { scores: Array.from(scores), modelVersion: model.version };
}

function decodeRequest(payload: Buffer) {
  try {
    return fromBinary(ScoreRequestSchema, payload);
  } catch {
    throw invalidArgument('payload', 'is not an orrery.v1.ScoreRequest');
  }
}

/** Starts the ROUTER on config.scoringZmqEndpoint, serving the champion and following promotions. */
export async function startScoring(config: OrreryConfig, logger: Logger, options: ScoringOptions = {}): Promise<RunningScoring> {
  const pool: Pool = createPool(config, logger, 4);
  const slot = new ModelSlot();
  const challenger = new ModelSlot();
  const shadowStats = new ShadowStats();
  const pollIntervalMs = options.pollIntervalMs ?? config.modelPollIntervalMs;
  let championSchema: { version: string; featureSchema: string } | undefined;
  let shadowCheck: Promise<void> = Promise.resolve();
  // Serialised like the champion's watch, so two checks never load challengers at once.
  const refreshShadow = (): Promise<void> => {
    if (!config.shadowChallenger) return Promise.resolve();
    const next = shadowCheck.then(async () => {
      const picked = pickChallenger(await listModelVersions(pool, 20), championSchema);
      if (!picked) {
        // Promoted (or superseded by the champion): nothing left to compare with.
        if (challenger.version() !== '') await challenger.close();
        return;
      }
      if (picked.version === challenger.version()) return;
      const model = await loadModelVersion(pool, picked.version);
      if (!model) return;
      await challenger.load(model);
      logger.info({ modelVersion: model.version, champion: championSchema?.version }, 'scoring: shadowing challenger');
    });
    shadowCheck = next.catch((error: unknown) => logger.warn({ err: error }, 'scoring: could not load the challenger to shadow'));
    return next;
  };
  const shadowTimer = config.shadowChallenger ? setInterval(() => void refreshShadow().catch(() => undefined), pollIntervalMs) : undefined;
  shadowTimer?.unref();
  let watch: ChampionWatch | undefined;
  let server: RunningZmqServer | undefined;
  try {
    await migrate(pool, { logger });
    watch = await watchChampion(
      pool,
      async (model) => {
        await slot.load(model);
        championSchema = { version: model.version, featureSchema: model.featureSchema };
        logger.info({ modelVersion: model.version, featureSchema: model.featureSchema }, 'scoring: model swapped');
        void refreshShadow().catch(() => undefined);
      },
      { pollIntervalMs, logger },
    );
    server = await serveZmqRequests({
      endpoint: config.scoringZmqEndpoint,
      name: 'scoring',
      logger,
      handler: async (payload) => {
        const batch = validateScoreRequest(decodeRequest(payload));
        const reply = await slot.use((model) => scoreBatch(model, batch));
        const span = trace.getActiveSpan();
        span?.setAttributes({ 'orrery.model_version': reply.modelVersion ?? '', 'orrery.candidates': batch.rowCount });
        if (reply.error) {
          // Answered (the caller ranks without the model), but the request failed: the span says so.
          span?.setAttribute('orrery.score_error', reply.error);
          if (span) recordError(span, new Error(reply.error));
        }
        const championScores = reply.scores;
        if (config.shadowChallenger && championScores && challenger.version() !== '') {
          // Scored inline (one more ONNX run on the same batch): the figures then sit in this request's span.
          const shadowed = await challenger.use(async (model) => (model ? { version: model.version, reply: await scoreBatch(model, batch) } : undefined));
          if (shadowed?.reply.scores) {
            const correlation = spearmanRankCorrelation(championScores, shadowed.reply.scores);
            shadowStats.record(shadowed.version, correlation);
            span?.setAttributes({ 'orrery.shadow.model_version': shadowed.version, ...(correlation === undefined ? {} : { 'orrery.shadow.rank_correlation': correlation }) });
            const summary = shadowStats.summary();
            if (summary.batches % SHADOW_LOG_EVERY === 0) logger.info({ shadow: summary, champion: reply.modelVersion }, 'scoring: shadow figures');
          }
        }
        return toBinary(ScoreReplySchema, create(ScoreReplySchema, reply));
      },
    });
  } catch (error) {
    clearInterval(shadowTimer);
    await server?.close();
    await watch?.close();
    await shadowCheck;
    await slot.close();
    await challenger.close();
    await pool.end();
    throw error;
  }
  const running = server;
  return {
    modelVersion: () => slot.version(),
    shadow: () => shadowStats.summary(),
    refreshShadow,
    close: async () => {
      clearInterval(shadowTimer);
      await running.close();
      await watch?.close();
      await shadowCheck;
      await slot.close();
      await challenger.close();
      await pool.end();
    },
  };
}
