import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { traceCommand, type TracePolling } from './trace-command';

const FAST: TracePolling = { settledMs: 150, pollMs: 20 };

/** A URL on a local port nothing listens on. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };
  await new Promise((closed) => server.close(closed));
  return `http://127.0.0.1:${port}`;
}

/** The exit code and what `orrery trace` printed. */
async function run(jaegerUrl: string, args: string[], polling: TracePolling = FAST): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    return { code: await traceCommand(jaegerUrl, args, polling), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('orrery trace, before it reads anything', () => {
  let nowhere: string;
  beforeAll(async () => {
    nowhere = await closedPortUrl();
  });

  it.each([
    [['not-a-trace'], '"not-a-trace" is not a trace id'],
    [['4bf92f3577b34da6a3ce929d0e0e4736', '0af7651916cd43dd8448eb211c80319c'], 'one trace id at a time, not 2'],
    [['4bf92f3577b34da6a3ce929d0e0e4736', '--service', 'recommender'], 'a trace id or --service, not both'],
    [['4bf92f3577b34da6a3ce929d0e0e4736', '--wait', 'soon'], '--wait must be a whole number from 0 to 600, got "soon"'],
    [['--service', 'recommender', '--limit', '0'], '--limit must be a whole number from 1 to 1000, got "0"'],
    [['--service', 'recommender', '--lookback', '1w'], '--lookback must be a duration: a whole number and a unit, s, m, h or d (e.g. 15m, 1h, 2d), got "1w"'],
    [['--last'], '--operation, --last and --slowest search the traces of a --service'],
    [['--slowest'], '--operation, --last and --slowest search the traces of a --service'],
    [['--service', 'recommender', '--last', '--slowest'], '--last or --slowest, not both'],
    [['--service', 'recommender', '--slowest', '--limit', '10001'], '--limit must be a whole number from 1 to 10000, got "10001"'],
    [['4bf92f3577b34da6a3ce929d0e0e4736', '--slowest'], 'a trace id or --service, not both'],
    [['--colour'], "Unknown option '--colour'"],
    [['--service', 'recommender', '--svg', 'x.svg'], '--attributes, --expand, --svg and --wait are for drawing one trace: name it, or add --last or --slowest'],
    [['--service', 'recommender', '--last', '--limit', '5'], '--last draws the newest trace; --limit is for the list and --slowest'],
    [[], 'name a trace id, or --service NAME to list its newest traces'],
  ])('refuses %p with exit code 2, saying what is wrong, and the usage', async (args, message) => {
    const { code, out, err } = await run(nowhere, args);
    expect(code).toBe(2);
    expect(err).toContain(`orrery trace: ${message}`);
    expect(err).toContain('trace <trace id> [--attributes]');
    expect(out).toBe('');
  });

  it('prints its usage for --help, with exit code 0', async () => {
    const { code, out, err } = await run(nowhere, ['--service', 'x', '--help']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toMatch(/^orrery trace <trace id> \[--attributes\]/);
    expect(out).toContain('--last draws the newest one');
  });

  it('says which Jaeger it cannot reach, with exit code 1', async () => {
    const { code, err } = await run(nowhere, ['4bf92f3577b34da6a3ce929d0e0e4736', '--wait', '0']);
    expect(code).toBe(1);
    expect(err).toContain(`cannot reach Jaeger's query API at ${nowhere}`);
    expect(err).toMatch(/\(connect ECONNREFUSED 127\.0\.0\.1:\d+\); is the platform up \(npm start\)\? ORRERY_JAEGER_QUERY_URL names another Jaeger/);
  });
});

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const NOW_US = Date.now() * 1000;

/** A span as Jaeger's JSON has it: `at` ms after NOW_US, of the service of process p1 (recommender) or p2 (scoring). */
function rawSpan(spanID: string, operationName: string, at: number, took: number, parent?: string, processID = 'p1'): object {
  return { spanID, operationName, processID, startTime: NOW_US + at * 1000, duration: took * 1000, references: parent ? [{ refType: 'CHILD_OF', spanID: parent }] : [], tags: [] };
}

function rawTrace(traceID: string, spans: object[]): object {
  return { traceID, spans, processes: { p1: { serviceName: 'recommender', tags: [] }, p2: { serviceName: 'scoring', tags: [] } } };
}

/** A fake of Jaeger's query API: `answer` gets each request's URL and returns the JSON to send (undefined: 404). */
async function fakeJaeger(answer: (url: URL) => object | undefined): Promise<{ url: string; requests: URL[]; close(): Promise<void> }> {
  const requests: URL[] = [];
  const server: Server = createHttpServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://jaeger');
    requests.push(url);
    const body = answer(url);
    response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body ?? { errors: [{ code: 404, msg: 'trace not found' }] }));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((closed) => server.close(() => closed())) };
}

describe('orrery trace against a Jaeger query API', () => {
  const whole = [rawSpan('a', 'grpc.orrery.v1.RecommendationService/Recommend', 0, 20), rawSpan('b', 'scoring request', 5, 10, 'a'), rawSpan('c', 'scoring serve', 6, 4, 'b', 'p2')];

  it('polls until the spans stop arriving, then draws the whole trace', async () => {
    let polls = 0;
    // Not there at first, then the recommender's spans, then scoring's as well.
    const jaeger = await fakeJaeger((url) => {
      if (url.pathname !== `/api/traces/${ID}`) return undefined;
      polls += 1;
      return polls <= 2 ? undefined : { data: [rawTrace(ID, whole.slice(0, polls <= 4 ? 2 : 3))] };
    });
    try {
      const { code, out, err } = await run(jaeger.url, [ID]);
      expect({ code, err }).toEqual({ code: 0, err: '' });
      expect(out).toMatch(new RegExp(`^trace ${ID}: 20\\.00 ms, 3 spans, 2 services \\(recommender, scoring\\)`));
      expect(out).toMatch(/└─ scoring serve/);
      expect(polls).toBeGreaterThan(5);
    } finally {
      await jaeger.close();
    }
  });

  it('draws what there is when --wait is up while spans still arrive, and says so', async () => {
    let polls = 0;
    const jaeger = await fakeJaeger(() => ({ data: [rawTrace(ID, whole.slice(0, Math.min(3, ++polls)))] }));
    try {
      const { code, out, err } = await run(jaeger.url, [ID, '--wait', '0']);
      expect(code).toBe(0);
      expect(out).toContain('1 span, 1 service');
      expect(err).toContain(`(spans of trace ${ID} were still arriving after 0 s: run it again for the rest)`);
    } finally {
      await jaeger.close();
    }
  });

  it('says a trace Jaeger does not hold is not there, with exit code 1', async () => {
    const jaeger = await fakeJaeger(() => undefined);
    try {
      const { code, out, err } = await run(jaeger.url, [`00-${ID}-00f067aa0ba902b7-01`, '--wait', '0']);
      expect({ code, out }).toEqual({ code: 1, out: '' });
      expect(err).toContain(`trace ${ID} is not in Jaeger at ${jaeger.url} (waited 0 s)`);
    } finally {
      await jaeger.close();
    }
  });

  it('lists the traces a search finds, newest first, asking Jaeger for the service, operation, limit and time window', async () => {
    const older = rawTrace('0af7651916cd43dd8448eb211c80319c', [rawSpan('x', 'grpc.orrery.v1.RecommendationService/Recommend', -60_000, 7)]);
    const newer = rawTrace(ID, whole);
    const jaeger = await fakeJaeger((url) => (url.pathname === '/api/traces' ? { data: [older, rawTrace('00000000000000000000000000000001', []), newer] } : undefined));
    try {
      const { code, out } = await run(jaeger.url, ['--service', 'recommender', '--operation', 'grpc.orrery.v1.RecommendationService/Recommend', '--limit', '5', '--lookback', '15m']);
      expect(code).toBe(0);
      const lines = out.split('\n');
      expect(lines[1]).toMatch(new RegExp(`  ${ID} +20\\.00 +3 +0  recommender,scoring  recommender: grpc\\.orrery\\.v1\\.RecommendationService/Recommend$`));
      expect(lines[2]).toMatch(/  0af7651916cd43dd8448eb211c80319c +7\.00 +1 +0  recommender +recommender: grpc\.orrery\.v1\.RecommendationService\/Recommend$/);
      expect(out).not.toContain('00000000000000000000000000000001');
      const query = jaeger.requests[0]!.searchParams;
      expect([query.get('service'), query.get('operation'), query.get('limit')]).toEqual(['recommender', 'grpc.orrery.v1.RecommendationService/Recommend', '5']);
      const [start, end] = [Number(query.get('start')), Number(query.get('end'))];
      expect(end - start).toBe(15 * 60 * 1_000_000);
      expect(Math.abs(end - Date.now() * 1000)).toBeLessThan(60 * 1_000_000);
    } finally {
      await jaeger.close();
    }
  });

  it('draws the newest trace a search finds with --last, and writes its waterfall with --svg', async () => {
    const older = rawTrace('0af7651916cd43dd8448eb211c80319c', [rawSpan('x', 'old call', -60_000, 7)]);
    const jaeger = await fakeJaeger((url) => {
      if (url.pathname === '/api/traces') return { data: [older, rawTrace(ID, whole)] };
      return url.pathname === `/api/traces/${ID}` ? { data: [rawTrace(ID, whole)] } : undefined;
    });
    const svg = join(mkdtempSync(join(tmpdir(), 'orrery-trace-')), 'trace.svg');
    try {
      const { code, out, err } = await run(jaeger.url, ['--service', 'recommender', '--last', '--svg', svg]);
      expect({ code, err }).toEqual({ code: 0, err: '' });
      expect(out).toMatch(new RegExp(`^trace ${ID}: `));
      expect(out).toContain(`waterfall: ${svg}`);
      expect(readFileSync(svg, 'utf8')).toMatch(new RegExp(`^<svg[^]*trace ${ID}: 20\\.00 ms, 3 spans[^]*</svg>\n$`));
      expect(jaeger.requests[0]!.searchParams.get('limit')).toBe('20');
    } finally {
      await jaeger.close();
    }
  });

  it('draws the longest of the traces a search finds with --slowest, after their p50 and p99 (≤max where too few traces tell one)', async () => {
    const quick = (traceID: string, took: number): object => rawTrace(traceID, [rawSpan('q', 'grpc.orrery.v1.RecommendationService/Recommend', -1_000, took)]);
    const found = [quick('00000000000000000000000000000003', 5), rawTrace(ID, whole), quick('00000000000000000000000000000004', 7), quick('00000000000000000000000000000005', 6)];
    const jaeger = await fakeJaeger((url) => {
      if (url.pathname === '/api/traces') return { data: found };
      return url.pathname === `/api/traces/${ID}` ? { data: [rawTrace(ID, whole)] } : undefined;
    });
    try {
      const { code, out, err } = await run(jaeger.url, ['--service', 'recommender', '--operation', 'grpc.orrery.v1.RecommendationService/Recommend', '--slowest', '--lookback', '5m']);
      expect({ code, err }).toEqual({ code: 0, err: '' });
      const [heading, , drawn] = out.split('\n');
      expect(heading).toBe('the slowest of the newest 4 traces of recommender "grpc.orrery.v1.RecommendationService/Recommend" in the last 5m: 20.00 ms (p50 ≤max, p99 ≤max ms)');
      expect(drawn).toMatch(new RegExp(`^trace ${ID}: 20\\.00 ms, 3 spans`));
      expect(jaeger.requests[0]!.searchParams.get('limit')).toBe('1000');
      const withLimit = await run(jaeger.url, ['--service', 'recommender', '--slowest', '--limit', '4000']);
      expect(withLimit.code).toBe(0);
      expect(jaeger.requests.find((request, index) => index > 0 && request.pathname === '/api/traces')!.searchParams.get('limit')).toBe('4000');
    } finally {
      await jaeger.close();
    }
  });

  it('says when a service has no traces, naming the services Jaeger knows, with exit code 1', async () => {
    const jaeger = await fakeJaeger((url) => (url.pathname === '/api/services' ? { data: ['scoring', 'recommender'] } : { data: [] }));
    try {
      const { code, err } = await run(jaeger.url, ['--service', 'recomender']);
      expect(code).toBe(1);
      expect(err).toContain(`no traces of recomender in the last 1h in Jaeger at ${jaeger.url}. Jaeger has no spans of "recomender" at all; its services: recommender, scoring.`);
    } finally {
      await jaeger.close();
    }
  });
});
