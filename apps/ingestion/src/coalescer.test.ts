import { create } from '@bufbuild/protobuf';
import { EventSchema, type Event } from '@orrery/proto';
import { payloadTooLarge } from '@orrery/zmq';
import type { CommandGateway, MergedCalls } from './command-gateway';
import { withCoalescedAppends } from './coalescer';

const event = (eventId: string): Event => create(EventSchema, { eventId, userId: 'u', itemId: 'i' });

/** A gateway whose appends finish when the test says so; duplicates = ids seen before. */
function controllableGateway() {
  const calls: { events: readonly Event[]; merged: MergedCalls | undefined; finish: () => void; fail: (error: Error) => void }[] = [];
  const seen = new Set<string>();
  const gateway: CommandGateway = {
    appendEvents: (events, _timeoutMs, merged) =>
      new Promise((resolve, reject) => {
        calls.push({
          events,
          merged,
          finish: () =>
            resolve(
              events.map((e) => {
                const duplicate = seen.has(e.eventId);
                seen.add(e.eventId);
                return duplicate;
              }),
            ),
          fail: reject,
        });
      }),
    upsertItems: async () => 0,
    upsertUsers: async () => 0,
    deleteItem: async () => false,
    forgetUser: async () => 0,
  };
  return { gateway, calls };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('coalesced appends', () => {
  it('when the gateway is idle, a request goes at once on its own', async () => {
    const { gateway, calls } = controllableGateway();
    const coalesced = withCoalescedAppends(gateway, { maxInFlight: 1, maxEvents: 100 });
    const reply = coalesced.appendEvents([event('a')], 1_000);
    expect(calls.map((call) => call.events.map((e) => e.eventId))).toEqual([['a']]);
    calls[0]!.finish();
    expect(await reply).toEqual([false]);
  });

  it('when requests arrive while commands are busy, they go as one command and each gets its own flags', async () => {
    const { gateway, calls } = controllableGateway();
    const coalesced = withCoalescedAppends(gateway, { maxInFlight: 1, maxEvents: 100 });
    const first = coalesced.appendEvents([event('a')], 1_000);
    const second = coalesced.appendEvents([event('b'), event('a')], 1_000);
    const third = coalesced.appendEvents([event('c')], 1_000);
    calls[0]!.finish();
    await settle();
    expect(calls.map((call) => call.events.map((e) => e.eventId))).toEqual([['a'], ['b', 'a', 'c']]);
    calls[1]!.finish();
    expect(await Promise.all([first, second, third])).toEqual([[false], [false, true], [false]]);
  });

  it('when queued requests exceed maxEvents, they are split into several commands', async () => {
    const { gateway, calls } = controllableGateway();
    const coalesced = withCoalescedAppends(gateway, { maxInFlight: 1, maxEvents: 3 });
    const replies = [coalesced.appendEvents([event('x')], 1_000), ...['a', 'b', 'c', 'd'].map((id) => coalesced.appendEvents([event(id)], 1_000))];
    calls[0]!.finish();
    await settle();
    calls[1]!.finish();
    await settle();
    calls[2]!.finish();
    await Promise.all(replies);
    expect(calls.map((call) => call.events.map((e) => e.eventId))).toEqual([['x'], ['a', 'b', 'c'], ['d']]);
  });

  it('when a merged command fails, every request in it fails with that error', async () => {
    const { gateway, calls } = controllableGateway();
    const coalesced = withCoalescedAppends(gateway, { maxInFlight: 1, maxEvents: 100 });
    const first = coalesced.appendEvents([event('a')], 1_000);
    const merged = [coalesced.appendEvents([event('b')], 1_000), coalesced.appendEvents([event('c')], 1_000)];
    calls[0]!.finish();
    await first;
    await settle();
    calls[1]!.fail(new Error('command down'));
    await expect(Promise.all(merged.map((reply) => reply.catch((error: Error) => error.message)))).resolves.toEqual(['command down', 'command down']);
  });

  it('when command refuses a merged command as too large, each request in it goes alone and gets its own answer', async () => {
    const { gateway, calls } = controllableGateway();
    const coalesced = withCoalescedAppends(gateway, { maxInFlight: 1, maxEvents: 100 });
    const first = coalesced.appendEvents([event('a')], 1_000);
    const merged = [coalesced.appendEvents([event('b'), event('c')], 1_000), coalesced.appendEvents([event('d')], 1_000)];
    calls[0]!.finish();
    await first;
    await settle();
    calls[1]!.fail(payloadTooLarge(3_000, 2_000));
    await settle();
    expect(calls.map((call) => call.events.map((e) => e.eventId))).toEqual([['a'], ['b', 'c', 'd'], ['b', 'c'], ['d']]);
    calls[2]!.finish();
    calls[3]!.fail(payloadTooLarge(2_500, 2_000));
    expect(await merged[0]).toEqual([false, false]);
    await expect(merged[1]).rejects.toMatchObject({ message: 'payload of 2500 bytes exceeds the limit of 2000 bytes' });
  });

  it('when a request brings events of other traces (a client batch), it keeps their traceparents, alone or merged', async () => {
    const { gateway, calls } = controllableGateway();
    const coalesced = withCoalescedAppends(gateway, { maxInFlight: 1, maxEvents: 100 });
    const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const alone = coalesced.appendEvents([event('a1'), event('a2')], 1_000, { traceparents: ['', TRACEPARENT], links: [] });
    const merged = [coalesced.appendEvents([event('b')], 1_000), coalesced.appendEvents([event('c1'), event('c2')], 1_000, { traceparents: [TRACEPARENT, ''], links: [] })];
    expect(calls[0]!.merged?.traceparents).toEqual(['', TRACEPARENT]);
    calls[0]!.finish();
    await alone;
    await settle();
    expect(calls[1]!.events.map((e) => e.eventId)).toEqual(['b', 'c1', 'c2']);
    // c2 has none of its own: it goes with its caller's (here, without a registered tracer, an empty one).
    expect(calls[1]!.merged?.traceparents).toEqual(['', TRACEPARENT, '']);
    calls[1]!.finish();
    await Promise.all(merged);
  });
});
