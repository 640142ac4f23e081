// The ZeroMQ client of scoring implementing the pipeline's Scorer, converting protobuf messages to
// plain data at the edge.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { encodeFeatureMatrix } from '@orrery/ml';
import { ScoreReplySchema, ScoreRequestSchema } from '@orrery/proto';
import { ZmqRequestClient } from '@orrery/zmq';
import type { Scorer } from './ports';

/** The scoring service as the recommender sees it. */
export type ScoringClient = Scorer & { close(): Promise<void> };

/** A ZeroMQ client of scoring at `endpoint` implementing Scorer; a reply with an error rejects. */
export function createScoringClient(endpoint: string, timeoutMs: number): ScoringClient {
  const client = new ZmqRequestClient({ endpoint, name: 'scoring', timeoutMs });
  return {
    score: async (matrix, limits) => {
      const request = create(ScoreRequestSchema, { featureCount: matrix.featureCount, featureMatrix: encodeFeatureMatrix(matrix.values), featureSchema: matrix.schema });
      // Decoded inside the request's span, so a reply carrying scoring's error marks it failed.
      const reply = await client.requestDecoded(
        toBinary(ScoreRequestSchema, request),
        (body) => {
          const decoded = fromBinary(ScoreReplySchema, body);
          if (decoded.error) throw new Error(decoded.error);
          return decoded;
        },
        limits.timeoutMs,
        limits.links,
      );
      return { scores: reply.scores, modelVersion: reply.modelVersion };
    },
    close: () => client.close(),
  };
}
