// Score calls of concurrent requests, merged: the feature matrices of the calls made in one turn of
// the event loop go to scoring as one ScoreRequest (their rows one after the other), and each caller
// gets the scores of its own rows. A round trip to scoring costs ~0.25 ms of CPU in the recommender
// and ~0.15 ms in scoring whatever its size, so when requests bunch up (a burst, or a backlog after a
// pause) they share one. A call alone is sent as it is, at the end of the turn it was made in.
import { context, startMergedCallSpans, type Context } from '@orrery/telemetry';
import type { CallLimits, FeatureMatrix, Scorer, Scores } from './ports';

/** Rows merged into one request at most (scoring takes up to 20 000; one Recommend sends a few hundred). */
export const MAX_MERGED_ROWS = 5_000;

/** One caller's share of a merged request. */
interface WaitingCall {
  readonly matrix: FeatureMatrix;
  readonly limits: CallLimits;
  /** The context (the request's trace) the call was made in. */
  readonly caller: Context;
  resolve(scores: Scores): void;
  reject(error: unknown): void;
}

/**
 * Splits calls, in order, into groups that can share a request: consecutive calls of the same
 * feature schema and count, at most `maxRows` rows together (a larger call is a group of its own).
 */
export function mergeableGroups<T extends { readonly matrix: FeatureMatrix }>(calls: readonly T[], maxRows = MAX_MERGED_ROWS): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let rows = 0;
  for (const call of calls) {
    const first = group[0]?.matrix;
    const fits = first !== undefined && first.schema === call.matrix.schema && first.featureCount === call.matrix.featureCount && rows + call.matrix.rows <= maxRows;
    if (!fits && group.length > 0) {
      groups.push(group);
      group = [];
      rows = 0;
    }
    group.push(call);
    rows += call.matrix.rows;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** The matrices' rows one after the other, as one matrix (all of one schema and feature count). */
export function concatenateRows(matrices: readonly FeatureMatrix[]): FeatureMatrix {
  const [first] = matrices;
  if (!first) throw new Error('no matrices to concatenate');
  const values = new Float32Array(matrices.reduce((sum, matrix) => sum + matrix.values.length, 0));
  let offset = 0;
  for (const matrix of matrices) {
    if (matrix.schema !== first.schema || matrix.featureCount !== first.featureCount) throw new Error('matrices of different feature schemas cannot be concatenated');
    values.set(matrix.values, offset);
    offset += matrix.values.length;
  }
  return { rows: matrices.reduce((sum, matrix) => sum + matrix.rows, 0), featureCount: first.featureCount, values, schema: first.schema };
}

/** The scores of concatenated rows, split back into one Scores per matrix of `rowCounts` rows; throws when the count does not add up. */
export function splitScores(scores: Scores, rowCounts: readonly number[]): Scores[] {
  const total = rowCounts.reduce((sum, rows) => sum + rows, 0);
  if (scores.scores.length !== total) throw new Error(`returned ${scores.scores.length} scores for ${total} candidates`);
  let offset = 0;
  return rowCounts.map((rows) => {
    const part = scores.scores.slice(offset, offset + rows);
    offset += rows;
    return { scores: part, modelVersion: scores.modelVersion };
  });
}

/**
 * A Scorer over `scorer` that collects the calls made until the event loop's check phase
 * (`schedule`, default setImmediate) and sends each mergeable group as one call, with the longest
 * of the group's deadlines (each caller still enforces its own: callDownstream). A failed call fails
 * every caller in it. A lone call is passed through unchanged.
 *
 * Each request goes in the trace of its group's first caller (not of the turn's first call, which
 * the flush runs in); each other caller of a merged request gets a `scoring request` span of its
 * own in its own trace (startMergedCallSpans: `orrery.merged.calls`, `orrery.merged.rows`,
 * `orrery.merged_into.trace_id`), to which the request's span links.
 */
export function mergingScorer(scorer: Scorer, schedule: (flush: () => void) => void = setImmediate): Scorer {
  let waiting: WaitingCall[] = [];

  const send = (group: readonly WaitingCall[]): void => {
    if (group.length === 1) {
      const [call] = group as [WaitingCall];
      context.with(call.caller, () => scorer.score(call.matrix, call.limits)).then(call.resolve, call.reject);
      return;
    }
    const matrix = concatenateRows(group.map((call) => call.matrix));
    const spans = startMergedCallSpans('scoring request', group.map((call) => call.caller), { 'rpc.system': 'zeromq', 'orrery.merged.rows': matrix.rows });
    const limits = { timeoutMs: Math.max(...group.map((call) => call.limits.timeoutMs)), links: spans.links };
    context
      .with(group[0]!.caller, () => scorer.score(matrix, limits))
      .then((scores) => splitScores(scores, group.map((call) => call.matrix.rows)))
      .then(
        (parts) => {
          spans.end();
          group.forEach((call, index) => call.resolve(parts[index]!));
        },
        (error: unknown) => {
          spans.end(error);
          group.forEach((call) => call.reject(error));
        },
      );
  };

  const flush = (): void => {
    const calls = waiting;
    waiting = [];
    for (const group of mergeableGroups(calls)) send(group);
  };

  return {
    score: (matrix, limits) =>
      new Promise<Scores>((resolve, reject) => {
        if (waiting.length === 0) schedule(flush);
        waiting.push({ matrix, limits, caller: context.active(), resolve, reject });
      }),
  };
}
