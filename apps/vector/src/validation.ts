// Request validation of VectorService: bounded, non-empty ids and a positive count, or
// INVALID_ARGUMENT naming the field.

import { idProblem, invalidArgument } from '@orrery/grpc';

/** Largest count a caller may ask for (the recommender asks up to 1 500 candidates). */
export const MAX_COUNT = 2_000;
export const MAX_ID_LENGTH = 256;
/** Recent items beyond FOLD_IN_RECENT_LIMIT are ignored anyway; this only bounds the request. */
export const MAX_RECENT_ITEMS = 200;
export const MAX_EXCLUDED_ITEMS = 10_000;

export interface SearchForUserQuery {
  readonly recentItemIds: readonly string[];
  readonly count: number;
  readonly excludeItemIds: readonly string[];
}

export interface SimilarToQuery {
  readonly itemId: string;
  readonly count: number;
}

function validateCount(count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw invalidArgument('count', `must be between 1 and ${MAX_COUNT}, got ${count}`);
  return count;
}

/** Ingestion's rule: non-empty, not blank, at most MAX_ID_LENGTH characters (code points), no control characters. */
function validateId(field: string, id: string): string {
  const problem = idProblem(id, MAX_ID_LENGTH);
  if (problem) throw invalidArgument(field, problem);
  return id;
}

function validateIds(field: string, ids: readonly string[], max: number): readonly string[] {
  if (ids.length > max) throw invalidArgument(field, `must hold at most ${max} ids, got ${ids.length}`);
  ids.forEach((id, index) => validateId(`${field}[${index}]`, id));
  return ids;
}

/** Validates a SearchForUserRequest; throws INVALID_ARGUMENT naming the field. */
export function validateSearchForUser(request: { readonly recentItemIds: readonly string[]; readonly count: number; readonly excludeItemIds: readonly string[] }): SearchForUserQuery {
  return {
    recentItemIds: validateIds('recent_item_ids', request.recentItemIds, MAX_RECENT_ITEMS),
    count: validateCount(request.count),
    excludeItemIds: validateIds('exclude_item_ids', request.excludeItemIds, MAX_EXCLUDED_ITEMS),
  };
}

/** Validates a SimilarToRequest; throws INVALID_ARGUMENT naming the field. */
export function validateSimilarTo(request: { readonly itemId: string; readonly count: number }): SimilarToQuery {
  return { itemId: validateId('item_id', request.itemId), count: validateCount(request.count) };
}
