// Training rows of the ranker: for each user's next item (the held-in target), the candidates the
// recommender would have ranked at that moment, labelled 1 for the target and 0 for a sample of the
// others. Features come from the history before the targets only, so nothing leaks forward.

import { createSeededRandom, RANKING_FEATURES, type Interaction } from '@orrery/ml';
import { candidatesForUser, featureRows, type IndexedEmbeddings } from './candidates';
import type { Catalog, HistorySnapshot } from './history';

export interface RankerRows {
  /** rows × RANKING_FEATURES.length, row-major. */
  readonly rows: Float32Array;
  readonly labels: Uint8Array;
  /** Users whose target was among their candidates (the ones that contribute rows). */
  readonly users: number;
  /** Users whose target no source proposed (the ranker cannot help them). */
  readonly missedUsers: number;
}

export interface RankerRowsOptions {
  /** Negatives sampled per user; default 10. */
  readonly negativesPerUser?: number;
  readonly seed?: number;
  readonly candidatesPerSource?: number;
}

/** Builds labelled rows from `targets` (one next interaction per user) against `snapshot` (the history before them). */
export function buildRankerRows(
  targets: readonly Interaction[],
  snapshot: HistorySnapshot,
  embeddings: IndexedEmbeddings,
  catalog: Catalog,
  options: RankerRowsOptions = {},
): RankerRows {
  const negativesPerUser = options.negativesPerUser ?? 10;
  const random = createSeededRandom(options.seed ?? 17);
  const width = RANKING_FEATURES.length;
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  let users = 0;
  let missedUsers = 0;
  for (const target of targets) {
    const candidates = candidatesForUser(target.userId, snapshot, embeddings, catalog, options.candidatesPerSource);
    const positive = candidates.findIndex((candidate) => candidate.itemId === target.itemId);
    if (positive < 0) {
      missedUsers++;
      continue;
    }
    users++;
    const others = candidates.filter((_, index) => index !== positive);
    // Partial Fisher–Yates: a uniform sample of the other candidates.
    const take = Math.min(negativesPerUser, others.length);
    for (let i = 0; i < take; i++) {
      const j = i + random.int(others.length - i);
      [others[i], others[j]] = [others[j] as (typeof others)[number], others[i] as (typeof others)[number]];
    }
    const chosen = [candidates[positive] as (typeof candidates)[number], ...others.slice(0, take)];
    chunks.push(featureRows(target.userId, chosen, snapshot, catalog));
    labels.push(1, ...new Array<number>(take).fill(0));
  }
  const rows = new Float32Array(labels.length * width);
  let offset = 0;
  for (const chunk of chunks) {
    rows.set(chunk, offset);
    offset += chunk.length;
  }
  return { rows, labels: Uint8Array.from(labels), users, missedUsers };
}
