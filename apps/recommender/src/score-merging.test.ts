import type { CallLimits, FeatureMatrix, Scorer, Scores } from './ports';
import { concatenateRows, mergeableGroups, mergingScorer, splitScores } from './score-merging';

const matrix = (rows: number, first: number, schema = 's1', featureCount = 2): FeatureMatrix => ({
  rows,
  featureCount,
  schema,
  values: Float32Array.from({ length: rows * featureCount }, (_, index) => first + index),
});
const limits = (timeoutMs: number): CallLimits => ({ timeoutMs });

/** A scorer whose score of a row is the row's first feature; records what it was sent. */
function recordingScorer(fail?: Error): Scorer & { calls: { rows: number; timeoutMs: number }[] } {
  const calls: { rows: number; timeoutMs: number }[] = [];
  return {
    calls,
    score: async (sent, callLimits): Promise<Scores> => {
      calls.push({ rows: sent.rows, timeoutMs: callLimits.timeoutMs });
      if (fail) throw fail;
      return { scores: Array.from({ length: sent.rows }, (_, row) => sent.values[row * sent.featureCount]!), modelVersion: 'm1' };
    },
  };
}

/** Runs the flush the merging scorer scheduled, by hand. */
function manualSchedule(): { schedule: (flush: () => void) => void; flush: () => void } {
  let pending: (() => void) | undefined;
  return { schedule: (flush) => void (pending = flush), flush: () => pending?.() };
}

describe('merging the score calls of concurrent requests', () => {
  it('when several calls are made in one turn, scoring gets one request and each caller the scores of its own rows', async () => {
    const scorer = recordingScorer();
    const turn = manualSchedule();
    const merging = mergingScorer(scorer, turn.schedule);
    const answers = Promise.all([merging.score(matrix(2, 0), limits(50)), merging.score(matrix(3, 100), limits(80)), merging.score(matrix(1, 200), limits(60))]);
    turn.flush();
    expect(await answers).toEqual([
      { scores: [0, 2], modelVersion: 'm1' },
      { scores: [100, 102, 104], modelVersion: 'm1' },
      { scores: [200], modelVersion: 'm1' },
    ]);
    expect(scorer.calls).toEqual([{ rows: 6, timeoutMs: 80 }]);
  });

  it('when a call is alone in its turn, it is sent as it is', async () => {
    const scorer = recordingScorer();
    const merging = mergingScorer(scorer);
    expect(await merging.score(matrix(2, 7), limits(40))).toEqual({ scores: [7, 9], modelVersion: 'm1' });
    expect(await merging.score(matrix(1, 3), limits(40))).toEqual({ scores: [3], modelVersion: 'm1' });
    expect(scorer.calls).toEqual([{ rows: 2, timeoutMs: 40 }, { rows: 1, timeoutMs: 40 }]);
  });

  it('when the merged call fails, every caller in it fails with that error', async () => {
    const merging = mergingScorer(recordingScorer(new Error('scoring: no reply')));
    const answers = await Promise.allSettled([merging.score(matrix(1, 0), limits(50)), merging.score(matrix(1, 1), limits(50))]);
    expect(answers).toEqual([
      { status: 'rejected', reason: new Error('scoring: no reply') },
      { status: 'rejected', reason: new Error('scoring: no reply') },
    ]);
  });

  it('when scoring returns fewer scores than the merged rows, every caller fails instead of getting another caller’s scores', async () => {
    const short: Scorer = { score: async () => ({ scores: [1, 2], modelVersion: 'm1' }) };
    const merging = mergingScorer(short);
    const answers = await Promise.allSettled([merging.score(matrix(2, 0), limits(50)), merging.score(matrix(1, 1), limits(50))]);
    expect(answers.map((answer) => answer.status)).toEqual(['rejected', 'rejected']);
    expect((answers[0] as PromiseRejectedResult).reason).toEqual(new Error('returned 2 scores for 3 candidates'));
  });
});

describe('which calls share a request', () => {
  const call = (rows: number, schema = 's1', featureCount = 2): { matrix: FeatureMatrix } => ({ matrix: matrix(rows, 0, schema, featureCount) });

  it('keeps consecutive calls of one schema and feature count together up to the row limit', () => {
    const calls = [call(3), call(3), call(3), call(2, 's2'), call(2, 's2', 3), call(9)];
    expect(mergeableGroups(calls, 6).map((group) => group.map((c) => calls.indexOf(c)))).toEqual([[0, 1], [2], [3], [4], [5]]);
  });

  it('concatenates rows in order and splits scores back by row counts', () => {
    const merged = concatenateRows([matrix(1, 0), matrix(2, 10)]);
    expect({ rows: merged.rows, values: Array.from(merged.values) }).toEqual({ rows: 3, values: [0, 1, 10, 11, 12, 13] });
    expect(splitScores({ scores: [5, 6, 7], modelVersion: 'm' }, [1, 2])).toEqual([
      { scores: [5], modelVersion: 'm' },
      { scores: [6, 7], modelVersion: 'm' },
    ]);
    expect(() => concatenateRows([matrix(1, 0), matrix(1, 0, 's2')])).toThrow('different feature schemas');
  });
});
