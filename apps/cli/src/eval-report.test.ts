import { EVAL_RECOMMENDERS, ndcgRatio, renderBarChartSvg, renderMarkdown, scoreLists, type EvalSummary } from './eval-report';

describe('eval report', () => {
  const cases = [
    { userId: 'a', relevantItemIds: ['x'] },
    { userId: 'b', relevantItemIds: ['y'] },
  ];

  it('when the next item is first for one user and 15th for the other, HitRate@10 is ½ and Recall@20 is 1', () => {
    const lateList = [...Array.from({ length: 14 }, (_, index) => `f${index}`), 'y'];
    const row = scoreLists('m', cases, [['x', 'q'], lateList], 100);
    expect(row.hitRateAt10).toBe(0.5);
    expect(row.ndcgAt10).toBe(0.5);
    expect(row.recallAt20).toBe(1);
    expect(row.coverageAt10).toBeCloseTo(12 / 100);
  });

  const summary: EvalSummary = {
    dataset: 'tiny',
    users: 2,
    items: 100,
    trainEvents: 10,
    evaluatedUsers: 2,
    modelVersion: 'v1',
    rows: [
      { name: EVAL_RECOMMENDERS.served, hitRateAt10: 0.5, ndcgAt10: 0.3, recallAt20: 0.6, coverageAt10: 0.2 },
      { name: EVAL_RECOMMENDERS.popularity, hitRateAt10: 0.1, ndcgAt10: 0.1, recallAt20: 0.2, coverageAt10: 0.05 },
      { name: EVAL_RECOMMENDERS.coVisitation, hitRateAt10: 0.3, ndcgAt10: 0.2, recallAt20: 0.4, coverageAt10: 0.1 },
    ],
  };

  it('when rendered, the markdown has one table row per recommender and the ratio to popularity', () => {
    expect(ndcgRatio(summary, EVAL_RECOMMENDERS.popularity)).toBeCloseTo(3);
    const markdown = renderMarkdown(summary, 'eval-tiny.svg', new Date(0));
    expect(markdown).toContain('| served (Recommend) | 0.500 | 0.300 | 0.600 | 0.200 |');
    expect(markdown).toContain('**3.00×** popularity');
    expect(markdown).toContain('![metrics by recommender](eval-tiny.svg)');
  });

  it('when rendered, the chart is an SVG with one bar per recommender and metric', () => {
    const svg = renderBarChartSvg(summary);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(12);
  });
});
