import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticDataset } from '@orrery/ml';
import { runLiveEvaluation } from '../src/eval';
import { EVAL_RECOMMENDERS, ndcgRatio } from '../src/eval-report';

jest.setTimeout(300_000);

describe('orrery eval, through the live API of an isolated platform', () => {
  it('when the synthetic data set with planted tastes is replayed, served NDCG@10 is at least 1.5× popularity', async () => {
    const dataset = generateSyntheticDataset({ users: 300, items: 240, eventsPerUser: 30, seed: 7, startTime: Date.now() - 30 * 86_400_000, spanDays: 29 });
    const outDir = mkdtempSync(join(tmpdir(), 'orrery-eval-'));
    const summary = await runLiveEvaluation({ name: 'synthetic-test', dataset, outDir, progress: false });

    expect(summary.evaluatedUsers).toBeGreaterThan(250);
    expect(summary.modelVersion).not.toBe('');
    expect(summary.rows.map((row) => row.name)).toEqual([EVAL_RECOMMENDERS.served, EVAL_RECOMMENDERS.popularity, EVAL_RECOMMENDERS.coVisitation]);
    const popularity = summary.rows.find((row) => row.name === EVAL_RECOMMENDERS.popularity)!;
    expect(popularity.ndcgAt10).toBeGreaterThan(0);
    // A loose floor (the demo-size run measures ~8×): a regression in retrieval or ranking fails it.
    expect(ndcgRatio(summary, EVAL_RECOMMENDERS.popularity)).toBeGreaterThanOrEqual(1.5);
    expect(readFileSync(join(outDir, 'eval-synthetic-test.md'), 'utf8')).toContain('| served (Recommend) |');
    expect(existsSync(join(outDir, 'eval-synthetic-test.svg'))).toBe(true);
  });
});
