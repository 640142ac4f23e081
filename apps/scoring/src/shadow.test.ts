import type { ModelSummary } from '@orrery/models';
import { pickChallenger, ShadowStats, spearmanRankCorrelation } from './shadow';

describe('spearmanRankCorrelation', () => {
  it('is 1 for the same order, −1 for the reverse, whatever the scale', () => {
    expect(spearmanRankCorrelation([0.1, 0.5, 0.9], [10, 20, 300])).toBeCloseTo(1);
    expect(spearmanRankCorrelation([0.1, 0.5, 0.9], [3, 2, 1])).toBeCloseTo(-1);
  });

  it('gives tied scores their mean rank, and is undefined for a constant or one-row list', () => {
    expect(spearmanRankCorrelation([1, 2, 3, 4], [1, 1, 2, 2])).toBeCloseTo(0.894, 3);
    expect(spearmanRankCorrelation([1, 1, 1], [1, 2, 3])).toBeUndefined();
    expect(spearmanRankCorrelation([1], [2])).toBeUndefined();
    expect(() => spearmanRankCorrelation([1, 2], [1])).toThrow(RangeError);
  });
});

describe('pickChallenger', () => {
  const summary = (version: string, status: ModelSummary['status'], featureSchema = 'schema-a'): ModelSummary =>
    ({ version, status, featureSchema, createdAt: new Date(0), promotedAt: undefined, retiredAt: undefined, metrics: {}, splitId: 's', factors: 2, itemCount: 3 });

  it('picks the newest candidate registered after the champion on its feature schema', () => {
    const champion = { version: 'm-2', featureSchema: 'schema-a' };
    expect(pickChallenger([summary('m-5', 'candidate', 'schema-b'), summary('m-4', 'candidate'), summary('m-3', 'candidate'), summary('m-2', 'champion')], champion)?.version).toBe('m-4');
    expect(pickChallenger([summary('m-2', 'champion'), summary('m-1', 'candidate')], champion)).toBeUndefined();
    expect(pickChallenger([summary('m-1', 'candidate')], undefined)).toBeUndefined();
  });
});

describe('ShadowStats', () => {
  it('averages the correlations of the current challenger and restarts for a new one', () => {
    const stats = new ShadowStats();
    stats.record('m-3', 0.5);
    stats.record('m-3', 1);
    stats.record('m-3', undefined);
    expect(stats.summary()).toEqual({ version: 'm-3', batches: 3, meanRankCorrelation: 0.75 });
    stats.record('m-4', 0.2);
    expect(stats.summary()).toEqual({ version: 'm-4', batches: 1, meanRankCorrelation: 0.2 });
  });
});
