// The scoring service: a ZeroMQ ROUTER answering ScoreRequest with ScoreReply, one ONNX run per
// candidate batch, on the registry's champion ranker (hot-swapped on promotion).

import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import type { Pool } from 'pg';
import type { OrreryConfig } from '@orrery/config';
import { invalidArgument } from '@orrery/grpc';
import { watchChampion, type ChampionWatch } from '@orrery/models';
import { ScoreReplySchema, ScoreRequestSchema } from '@orrery/proto';
import { createPool, migrate } from '@orrery/store';
import { trace, type Logger } from '@orrery/telemetry';
import { serveZmqRequests, type RunningZmqServer } from '@orrery/zmq';
import { ModelSlot, type LoadedRanker } from './model-slot';
import { validateScoreRequest, type ScoreBatch } from './validation';

/** The reply error when no model was promoted yet (the recommender then ranks without the model). */
export const NO_MODEL = 'no model';

export interface RunningScoring {
  /** Version currently served ('' before the first champion). */
  modelVersion(): string;
  close(): Promise<void>;
}

export interface ScoringOptions {
  /** Fallback poll of the registry in ms (LISTEN/NOTIFY is the fast path); default config.modelPollIntervalMs. */
  readonly pollIntervalMs?: number;
}

/** Scores a valid batch with `model`, or says why it cannot (reply error, not a failed request). */
export async function scoreBatch(model: LoadedRanker | undefined, batch: ScoreBatch): Promise<MessageInitShape<typeof ScoreReplySchema>> {
  if (!model) return { error: NO_MODEL };
  if (batch.featureSchema !== model.featureSchema) {
    return { modelVersion: model.version, error: `feature schema ${batch.featureSchema} does not match model ${model.version}'s ${model.featureSchema}` };
  }
  if (batch.featureCount !== model.ranker.featureCount) {
    throw invalidArgument('feature_count', `model ${model.version} takes ${model.ranker.featureCount} features, got ${batch.featureCount}`);
  }
  const scores = await model.ranker.score(batch.features, batch.rowCount);
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
  let watch: ChampionWatch | undefined;
  let server: RunningZmqServer | undefined;
  try {
    await migrate(pool, { logger });
    watch = await watchChampion(
      pool,
      async (model) => {
        await slot.load(model);
        logger.info({ modelVersion: model.version, featureSchema: model.featureSchema }, 'scoring: model swapped');
      },
      { pollIntervalMs: options.pollIntervalMs ?? config.modelPollIntervalMs, logger },
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
        if (reply.error) span?.setAttribute('orrery.score_error', reply.error);
        return toBinary(ScoreReplySchema, create(ScoreReplySchema, reply));
      },
    });
  } catch (error) {
    await server?.close();
    await watch?.close();
    await slot.close();
    await pool.end();
    throw error;
  }
  const running = server;
  return {
    modelVersion: () => slot.version(),
    close: async () => {
      await running.close();
      await watch?.close();
      await slot.close();
      await pool.end();
    },
  };
}
