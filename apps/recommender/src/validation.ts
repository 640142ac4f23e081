// Request validation: every public request is checked here before any downstream call, and turned
// into plain, bounded query objects the pipeline can trust.
import { idProblem, invalidArgument } from '@orrery/grpc';

export const DEFAULT_COUNT = 10;
export const MAX_COUNT = 500;
export const MAX_ID_LENGTH = 256;
export const MAX_FILTER_CATEGORIES = 100;
export const MAX_FILTER_ITEM_IDS = 1_000;
export const MAX_CONTEXT_ENTRIES = 64;
export const MAX_CONTEXT_VALUE_LENGTH = 1_024;

/** What the caller allows to be returned. */
export interface ItemFilter {
  /** When non-empty, an item must have at least one of these categories. */
  readonly includeCategories: ReadonlySet<string>;
  readonly excludeCategories: ReadonlySet<string>;
  readonly excludeItemIds: ReadonlySet<string>;
}

export interface RecommendQuery {
  readonly userId: string;
  readonly count: number;
  readonly filter: ItemFilter;
  readonly context: ReadonlyMap<string, string>;
}

export interface SimilarItemsQuery {
  readonly itemId: string;
  readonly count: number;
  readonly filter: ItemFilter;
}

export interface PopularQuery {
  readonly count: number;
  readonly filter: ItemFilter;
}

/** The wire shape of a Filter (the generated message satisfies it). */
export interface FilterInput {
  readonly includeCategories: readonly string[];
  readonly excludeCategories: readonly string[];
  readonly excludeItemIds: readonly string[];
}

export const NO_FILTER: ItemFilter = { includeCategories: new Set(), excludeCategories: new Set(), excludeItemIds: new Set() };

/** Validates a RecommendRequest; throws INVALID_ARGUMENT naming the field. */
export function validateRecommendRequest(request: {
  readonly userId: string;
  readonly count: number;
  readonly filter?: FilterInput | undefined;
  readonly context: Readonly<Record<string, string>>;
}): RecommendQuery {
  return {
    userId: validateId('user_id', request.userId),
    count: validateCount('count', request.count),
    filter: validateFilter('filter', request.filter),
    context: validateContext('context', request.context),
  };
}

/** Validates a SimilarItemsRequest; throws INVALID_ARGUMENT naming the field. */
export function validateSimilarItemsRequest(request: { readonly itemId: string; readonly count: number; readonly filter?: FilterInput | undefined }): SimilarItemsQuery {
  return {
    itemId: validateId('item_id', request.itemId),
    count: validateCount('count', request.count),
    filter: validateFilter('filter', request.filter),
  };
}

/** Validates a PopularRequest; throws INVALID_ARGUMENT naming the field. */
export function validatePopularRequest(request: { readonly count: number; readonly filter?: FilterInput | undefined }): PopularQuery {
  return { count: validateCount('count', request.count), filter: validateFilter('filter', request.filter) };
}

/** An id must be non-empty, not blank, at most 256 characters (code points) and free of control characters: ingestion's rule. */
export function validateId(field: string, value: string): string {
  const problem = idProblem(value, MAX_ID_LENGTH);
  if (problem) throw invalidArgument(field, problem);
  return value;
}

/** 0 means the default (10); negative or above 500 is refused. */
export function validateCount(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_COUNT) throw invalidArgument(field, `must be between 0 and ${MAX_COUNT}`);
  return value === 0 ? DEFAULT_COUNT : value;
}

/** Bounds each list of the filter and validates its entries; an absent filter allows everything. */
export function validateFilter(field: string, filter: FilterInput | undefined): ItemFilter {
  if (!filter) return NO_FILTER;
  return {
    includeCategories: validateIdList(`${field}.include_categories`, filter.includeCategories, MAX_FILTER_CATEGORIES),
    excludeCategories: validateIdList(`${field}.exclude_categories`, filter.excludeCategories, MAX_FILTER_CATEGORIES),
    excludeItemIds: validateIdList(`${field}.exclude_item_ids`, filter.excludeItemIds, MAX_FILTER_ITEM_IDS),
  };
}

function validateIdList(field: string, values: readonly string[], max: number): ReadonlySet<string> {
  if (values.length > max) throw invalidArgument(field, `must have at most ${max} entries, got ${values.length}`);
  values.forEach((value, index) => validateId(`${field}[${index}]`, value));
  return new Set(values);
}

function validateContext(field: string, context: Readonly<Record<string, string>>): ReadonlyMap<string, string> {
  const entries = Object.entries(context);
  if (entries.length > MAX_CONTEXT_ENTRIES) throw invalidArgument(field, `must have at most ${MAX_CONTEXT_ENTRIES} entries, got ${entries.length}`);
  for (const [key, value] of entries) {
    // The entry is named as ingestion names a context entry (`context["k\u0001"]: key must not contain …`).
    const entry = `${field}[${JSON.stringify(key)}]`;
    const keyProblem = idProblem(key, MAX_ID_LENGTH);
    if (keyProblem) throw invalidArgument(entry, `key ${keyProblem}`);
    if (value.length > MAX_CONTEXT_VALUE_LENGTH) throw invalidArgument(entry, `must be at most ${MAX_CONTEXT_VALUE_LENGTH} characters`);
  }
  return new Map(entries);
}
