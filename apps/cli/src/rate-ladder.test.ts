import { percentiles } from '@orrery/metrics';
import { UsageError } from '@orrery/config';
import { highestRateWithin, ladderTable, parseLadder, parseRates, RECOMMEND_LADDER, renderLadderSvg, stepFromGhzReport, type GhzReport, type LadderKind, type LadderStep } from './rate-ladder';

function step(askedRate: number, latenciesMs: readonly number[], changes: Partial<LadderStep> = {}): LadderStep {
  return { askedRate, achievedRate: askedRate, latency: percentiles(latenciesMs), errors: 0, degraded: 0, cpuMsPerUnit: { recommender: 1.5, scoring: 0.3 }, ...changes };
}

/** A call of a ghz report: sent `sentMs` after the run's start, answered `latencyMs` later. */
function ghzCall(sentMs: number, latencyMs: number, status = 'OK', error?: string): GhzReport['details'][number] {
  return { timestamp: new Date(Date.UTC(2026, 10, 29, 13) + sentMs + latencyMs).toISOString(), latency: latencyMs * 1e6, status, ...(error === undefined ? {} : { error }) };
}

/** `size` latencies of `typical` ms, the slowest `slow` of them at `tail` ms (1,000: enough for a p99, not a p999). */
function sample(typical: number, slow: number, tail: number, size = 1_000): number[] {
  return Array.from({ length: size }, (_, index) => (index < slow ? tail : typical));
}

describe('rate ladder', () => {
  it('parses rising whole rates, and off as no ladder', () => {
    expect(parseLadder('50, 100,200')).toEqual([50, 100, 200]);
    expect(parseLadder('off')).toEqual([]);
  });

  it('parses the rising rates of another option, naming it when they are wrong', () => {
    expect(parseRates('--rate', '1000, 2000,5000')).toEqual([1000, 2000, 5000]);
    expect(parseRates('--rate', '5000')).toEqual([5000]);
    expect(() => parseRates('--rate', 'off')).toThrow('--rate takes rising whole rates separated by commas, got "off" in "off"');
    expect(() => parseRates('--rate', '2000,1000')).toThrow('--rate rates must rise, got 2000 then 1000');
    // A usage error: orrery prints it with the command's usage and exits 2.
    expect(() => parseRates('--rate', '2000,1000')).toThrow(UsageError);
    expect(() => parseLadder('5,x')).toThrow(UsageError);
  });

  it.each([
    ['500,50', /must rise, got 500 then 50/],
    ['100,100', /must rise/],
    ['100,abc', /got "abc"/],
    ['100,,200', /got ""/],
    ['0', /got "0"/],
    ['12.5', /got "12.5"/],
  ])('refuses --ladder %s and says why', (text, message) => {
    expect(() => parseLadder(text)).toThrow(message);
  });

  it('reports the highest rate whose p99 is under the goal, even above a step that missed it', () => {
    const steps = [step(100, sample(2, 0, 0)), step(200, sample(2, 20, 30)), step(300, sample(3, 5, 30)), step(500, sample(4, 20, 40))];
    expect(steps[1]!.latency.p99).toBe(30);
    expect(highestRateWithin(steps, 10)).toBe(300);
  });

  it('does not count a step with errors, or one that fell short of its rate, as within the goal', () => {
    expect(highestRateWithin([step(100, sample(2, 0, 0)), step(200, sample(2, 0, 0), { errors: 1 })], 10)).toBe(100);
    expect(highestRateWithin([step(100, sample(2, 0, 0)), step(200, sample(2, 0, 0), { achievedRate: 150 })], 10)).toBe(100);
    expect(highestRateWithin([step(100, sample(9, 20, 12))], 10)).toBeUndefined();
    expect(highestRateWithin([step(100, [])], 10)).toBeUndefined();
  });

  it('judges a step too small for a p99 on its maximum: within the goal only when every call was', () => {
    // 300 calls: their nearest-rank p99 (2 ms) is not a p99, the one slow call is past the goal.
    expect(highestRateWithin([step(100, sample(2, 1, 12, 300))], 10)).toBeUndefined();
    expect(highestRateWithin([step(100, sample(2, 0, 0, 300)), step(200, sample(2, 1, 12, 300))], 10)).toBe(100);
  });

  it('tabulates each step with its sample size, its maximum and the CPU per request of every process group', () => {
    const steps = [step(100, sample(2, 1, 9)), step(200, sample(3, 0, 0), { cpuMsPerUnit: { recommender: 0.9 } }), step(300, sample(3, 11, 50, 10_000))];
    const table = ladderTable(steps, 'req').split('\n');
    expect(table[0]).toBe('| asked req/s | sent req/s | n | p50 ms | p99 ms | p999 ms | max ms | errors | degraded | recommender CPU ms/req | scoring CPU ms/req |');
    expect(table[2]).toBe('| 100 | 100 | 1000 | 2.00 | 2.00 | ≤max | 9.00 | 0 | 0 | 1.500 | 0.300 |');
    expect(table[3]).toBe('| 200 | 200 | 1000 | 3.00 | 3.00 | ≤max | 3.00 | 0 | 0 | 0.900 |  |');
    expect(table[4]).toBe('| 300 | 300 | 10000 | 3.00 | 3.00 | 50.00 | 50.00 | 0 | 0 | 1.500 | 0.300 |');
  });

  it('prints no percentile of a step without a single latency', () => {
    expect(ladderTable([step(100, [], { errors: 500 })], 'req').split('\n')[2]).toBe('| 100 | 100 | 0 | — | — | — | — | 500 | 0 | 1.500 | 0.300 |');
  });

  it('names the rates and CPU of an event ladder per event, and plots its own goal', () => {
    const lag: LadderKind = { latency: 'Ack → applied', unit: 'event', p99GoalMs: 100 };
    const steps = [step(1000, sample(40, 20, 130), { degraded: undefined, cpuMsPerUnit: { projector: 0.35 } }), step(5000, sample(900, 0, 0), { achievedRate: 4100, degraded: undefined, cpuMsPerUnit: { projector: 0.1 } })];
    const table = ladderTable(steps, 'event').split('\n');
    expect(table[0]).toBe('| asked events/s | sent events/s | n | p50 ms | p99 ms | p999 ms | max ms | errors | degraded | projector CPU ms/event |');
    expect(table[3]).toBe('| 5000 | 4100 | 1000 | 900.00 | 900.00 | ≤max | 900.00 | 0 |  | 0.100 |');
    const svg = renderLadderSvg(steps, lag, 'lag');
    expect(svg).toContain('goal: p99 &lt; 100 ms');
    expect(svg).toContain('events/s asked (open loop)');
    expect(svg).toContain('<title>1000 events/s p99 130.00 ms</title>');
  });

  it('makes a step of a ghz JSON report: percentiles of the OK calls, other statuses as errors', () => {
    // 100 calls at 50/s, one every 20 ms.
    const details = [
      ...Array.from({ length: 98 }, (_, index) => ghzCall(index * 20, 2)),
      ghzCall(98 * 20, 40),
      ghzCall(99 * 20, 5_000, 'DeadlineExceeded', 'rpc error: code = DeadlineExceeded'),
    ];
    const step = stepFromGhzReport({ options: { rps: 50 }, details }, { recommender: 3.2 });
    expect(step).toMatchObject({ askedRate: 50, achievedRate: 50, errors: 1, errorReasons: '1× rpc error: code = DeadlineExceeded', cpuMsPerUnit: { recommender: 3.2 } });
    expect(step.latency).toMatchObject({ count: 99, p50: 2, p99: 40, max: 40 });
    expect(step.degraded).toBeUndefined();
    expect(ladderTable([step], 'req').split('\n')[2]).toBe('| 50 | 50 | 99 | 2.00 | ≤max | ≤max | 40.00 | 1 |  | 3.200 |');
    expect(() => stepFromGhzReport({ options: {}, details: [] }, {})).toThrow(/no --rps/);
  });

  it('reads a ghz step whose calls left on time as at its rate, however late the last answer came', () => {
    // The last of 500 calls at 100/s answered 2 s after the step: ghz's count ÷ total would read 71/s.
    const details = Array.from({ length: 500 }, (_, index) => ghzCall(index * 10, index === 499 ? 2_000 : 3));
    const step = stepFromGhzReport({ options: { rps: 100 }, details }, {});
    expect(step.achievedRate).toBe(100);
    expect(highestRateWithin([{ ...step, latency: percentiles(sample(3, 0, 0)) }], 10)).toBe(100);
  });

  it('reads a ghz step whose calls left late at the rate they left at', () => {
    const details = Array.from({ length: 500 }, (_, index) => ghzCall(index * 12.5, 3));
    expect(stepFromGhzReport({ options: { rps: 100 }, details }, {}).achievedRate).toBeCloseTo(80.2, 1);
  });

  it('plots p50, p99 and p999 by rate on a log axis, with the goal line', () => {
    const svg = renderLadderSvg([step(100, sample(2, 2, 30, 100)), step(500, sample(4, 20, 8))], RECOMMEND_LADDER, 'ladder <test>');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('ladder &lt;test&gt;');
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg).toContain('goal: p99 &lt; 10 ms');
    // Log axis from 1 to 100 ms over 260 px: 10 ms sits halfway, at y = 40 + 130.
    expect(svg).toMatch(/<line x1="60" x2="700" y1="170\.0" y2="170\.0" stroke="#c0392b"/);
    expect(svg).toContain('fill="#d9822b" stroke="#d9822b"><title>500 req/s p99 8.00 ms</title>');
  });

  it('plots a percentile of a step too small for it as a hollow marker at the step\'s maximum', () => {
    const svg = renderLadderSvg([step(100, sample(2, 2, 30, 100)), step(500, sample(4, 20, 8))], RECOMMEND_LADDER, 'ladder');
    expect(svg).toContain('fill="white" stroke="#d9822b"><title>100 req/s p99 ≤ max 30.00 ms (n=100)</title>');
    expect(svg).toContain('fill="white" stroke="#9b59b6"><title>500 req/s p999 ≤ max 8.00 ms (n=1000)</title>');
  });
});
