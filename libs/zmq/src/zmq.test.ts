import { pino } from 'pino';
import { Dealer } from 'zeromq';
import { ServiceError, status } from '@orrery/grpc';
import { metricsText } from '@orrery/metrics';
import { isPayloadTooLarge, serveZmqRequests, ZmqRequestClient, type RunningZmqServer } from './index';

const logger = pino({ level: 'silent' });

describe('ZeroMQ request/reply', () => {
  let server: RunningZmqServer;
  const endpoint = `ipc:///tmp/orrery-zmq-test-${process.pid}`;
  /** How many requests reached the handler. */
  let handled = 0;

  beforeAll(async () => {
    server = await serveZmqRequests({
      endpoint,
      name: 'echo',
      logger,
      maxPayloadBytes: 1024,
      handler: async (payload) => {
        handled += 1;
        const text = payload.toString();
        if (text === 'bad') throw new ServiceError(status.INVALID_ARGUMENT, 'payload: bad');
        if (text.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, 50));
        return Buffer.from(text.toUpperCase());
      },
    });
  });
  afterAll(() => server.close());

  it('when many requests are in flight, each gets its own reply', async () => {
    const client = new ZmqRequestClient({ endpoint, name: 'echo', timeoutMs: 2_000 });
    const words = Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? `slow-${i}` : `w-${i}`));
    const replies = await Promise.all(words.map((word) => client.request(Buffer.from(word))));
    expect(replies.map(String)).toEqual(words.map((word) => word.toUpperCase()));
    await client.close();
  });

  it('when the handler refuses, the client gets the status and message', async () => {
    const client = new ZmqRequestClient({ endpoint, name: 'echo', timeoutMs: 2_000 });
    const refusal = client.request(Buffer.from('bad'));
    await expect(refusal).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, message: 'payload: bad' });
    expect(isPayloadTooLarge(await refusal.catch((error: unknown) => error))).toBe(false);
    await client.close();
  });

  it('when nobody answers, the request fails with DEADLINE_EXCEEDED', async () => {
    const client = new ZmqRequestClient({ endpoint: `ipc:///tmp/orrery-nobody-${process.pid}`, name: 'nobody', timeoutMs: 50 });
    await expect(client.request(Buffer.from('x'))).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    await client.close();
  });

  it('when a payload is over the limit, the server answers INVALID_ARGUMENT naming both sizes without handling it, and keeps serving', async () => {
    const client = new ZmqRequestClient({ endpoint, name: 'echo', timeoutMs: 2_000 });
    const handledBefore = handled;
    const refusal = client.request(Buffer.alloc(1025, 'a'));
    await expect(refusal).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, message: 'payload of 1025 bytes exceeds the limit of 1024 bytes' });
    expect(isPayloadTooLarge(await refusal.catch((error: unknown) => error))).toBe(true);
    expect(handled).toBe(handledBefore);
    expect(String(await client.request(Buffer.alloc(1024, 'b')))).toBe('B'.repeat(1024));
    await client.close();
  });

  it('when a frame is far over the limit, ZeroMQ drops that peer and the server keeps serving others', async () => {
    const huge = new ZmqRequestClient({ endpoint, name: 'echo', timeoutMs: 300 });
    await expect(huge.request(Buffer.alloc(1024 * 8, 'a'))).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    await huge.close();
    const client = new ZmqRequestClient({ endpoint, name: 'echo', timeoutMs: 2_000 });
    expect(String(await client.request(Buffer.from('fine')))).toBe('FINE');
    await client.close();
  });

  it('when a request is malformed, the server answers INVALID_ARGUMENT and keeps serving', async () => {
    const raw = new Dealer();
    raw.connect(endpoint);
    await raw.send(['id-1', 'only-two-frames']);
    const [requestId, code] = (await raw.receive()) as Buffer[];
    expect(requestId!.toString()).toBe('id-1');
    expect(Number(code!.toString())).toBe(status.INVALID_ARGUMENT);
    raw.close();
    const client = new ZmqRequestClient({ endpoint, name: 'echo', timeoutMs: 2_000 });
    expect(String(await client.request(Buffer.from('still')))).toBe('STILL');
    await client.close();
  });

  it('when probed, a live server answers without calling the handler, and a missing one does not answer in time', async () => {
    const client = new ZmqRequestClient({ endpoint, name: 'echo', timeoutMs: 2_000 });
    try {
      const handledBefore = handled;
      await expect(client.probe(1_000)).resolves.toBeUndefined();
      expect(handled).toBe(handledBefore);
      // An empty payload is an ordinary request, seen by the handler.
      expect(String(await client.request(Buffer.alloc(0)))).toBe('');
      expect(handled).toBe(handledBefore + 1);
    } finally {
      await client.close();
    }
    const nobody = new ZmqRequestClient({ endpoint: `ipc:///tmp/orrery-nobody-probe-${process.pid}`, name: 'nobody', timeoutMs: 50 });
    await expect(nobody.probe(50)).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    await nobody.close();
  });

  it('when requests are answered, the server and client request metrics count them by status, refusals before the handler too', async () => {
    const client = new ZmqRequestClient({ endpoint, name: 'echo', timeoutMs: 2_000 });
    const count = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    try {
      const refused = 'orrery_rpc_server_requests_total{transport="zeromq",method="echo",code="INVALID_ARGUMENT"}';
      const beforeRefusals = await metricsText();
      await expect(client.request(Buffer.alloc(1025, 'a'))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      const raw = new Dealer();
      raw.connect(endpoint);
      await raw.send(['id-2', 'only-two-frames']);
      await raw.receive();
      raw.close();
      expect(count(await metricsText(), refused)).toBe(count(beforeRefusals, refused) + 2);

      const before = await metricsText();
      await client.request(Buffer.from('counted'));
      await expect(client.request(Buffer.from('bad'))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      const after = await metricsText();
      for (const series of [
        'orrery_rpc_server_requests_total{transport="zeromq",method="echo",code="OK"}',
        refused,
        'orrery_rpc_client_duration_seconds_count{transport="zeromq",method="echo",code="OK"}',
      ]) {
        expect([series, count(after, series)]).toEqual([series, count(before, series) + 1]);
      }
    } finally {
      await client.close();
    }
  });
});
