// Every kind of bad input, through the public APIs: the status (or the batch's refusal) names the
// field, and nothing is written to the event store, the catalog or the outbox.
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Dealer } from 'zeromq';
import { status } from '@orrery/grpc';
import { EventSchema, EventType, ItemSchema, TrackBatchRequestSchema, TrackBatchResponseSchema, UserSchema } from '@orrery/proto';
import { ZmqRequestClient } from '@orrery/zmq';
import { startWriteSide, type WriteSide } from './harness';

type EventInit = Omit<MessageInitShape<typeof EventSchema>, '$typeName'>;
const good: EventInit = { eventId: 'r-ok', userId: 'u-1', itemId: 'i-1', type: EventType.CLICK, value: 1 };
const DAY = 24 * 60 * 60 * 1000;

const badEvents: [string, EventInit, string][] = [
  ['event_id has a control character', { eventId: 'a\u0001b' }, 'event_id: must not contain control characters'],
  ['event_id is blank', { eventId: '  ' }, 'event_id: must not be blank'],
  ['event_id is 257 characters', { eventId: 'e'.repeat(257) }, 'event_id: must be at most 256 characters'],
  ['user_id is empty', { userId: '' }, 'user_id: must not be empty'],
  ['user_id is 257 characters', { userId: 'u'.repeat(257) }, 'user_id: must be at most 256 characters'],
  ['user_id has a NUL', { userId: 'a\u0000' }, 'user_id: must not contain control characters'],
  ['item_id is empty', { itemId: '' }, 'item_id: must not be empty'],
  ['item_id is blank', { itemId: '\u00a0 ' }, 'item_id: must not be blank'],
  ['type is unspecified', { type: EventType.UNSPECIFIED }, 'type: must be specified'],
  ['type is unknown', { type: 42 as EventType }, 'type: unknown event type 42'],
  ['value is NaN', { value: Number.NaN }, 'value: must be a finite number'],
  ['value is infinite', { value: Number.NEGATIVE_INFINITY }, 'value: must be a finite number'],
  ['occurred_at is before 2000', { occurredAt: timestampFromMs(Date.UTC(1999, 0, 1)) }, 'occurred_at: must not be before 2000-01-01'],
  ['occurred_at is 2 days ahead', { occurredAt: timestampFromMs(Date.now() + 2 * DAY) }, 'occurred_at: must not be more than 1 day in the future'],
  ['occurred_at has out-of-range nanos', { occurredAt: { seconds: 1_700_000_000n, nanos: -1 } }, 'occurred_at: nanos must be within 0..999999999'],
  ['context has 65 entries', { context: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, 'context: at most 64 entries'],
  ['context is over 16384 characters', { context: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])) }, 'context: at most 16384 characters of keys and values in total'],
  ['a context value is 1025 characters', { context: { page: 'x'.repeat(1025) } }, 'context["page"]: value must be at most 1024 characters'],
  ['a context key is empty', { context: { '': 'x' } }, 'context[""]: key must not be empty'],
];

describe('refused input writes nothing', () => {
  let side: WriteSide;
  // The outbox drains asynchronously; the commit sequence moves with every fact written.
  const written = async () => [await side.count('events'), await side.count('items'), await side.count('users'), await side.lastSequence()];

  beforeAll(async () => {
    side = await startWriteSide();
    // Something in every table, so "unchanged" is not "still empty".
    await side.ingest.track({ event: good });
    await side.catalog.upsertItems({ items: [{ itemId: 'i-1' }] });
    await side.catalog.upsertUsers({ users: [{ userId: 'u-1' }] });
  });
  afterAll(() => side?.stop());

  it.each(badEvents)('when %s, Track answers INVALID_ARGUMENT naming event.<field> and nothing is written', async (_case, overrides, problem) => {
    const before = await written();
    await expect(side.ingest.track({ event: { ...good, eventId: `r-${_case.length}`, ...overrides } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: `event.${problem}` });
    expect(await written()).toEqual(before);
  });

  it.each(badEvents)('when %s, TrackBatch and TrackStream list it as refused and nothing is written', async (_case, overrides, problem) => {
    const before = await written();
    const batch = await side.ingest.trackBatch({ events: [{ ...good, ...overrides }] });
    expect(batch).toMatchObject({ accepted: 0, rejected: [{ index: 0, reason: `events[0].${problem}` }] });
    const stream = await side.ingest.trackStream([{ event: { ...good, ...overrides } }]);
    expect(stream).toMatchObject({ accepted: 0, rejected: [{ index: 0, reason: `events[0].${problem}` }] });
    expect(await written()).toEqual(before);
  });

  it('when Track has no event, it answers INVALID_ARGUMENT and nothing is written', async () => {
    const before = await written();
    await expect(side.ingest.track({})).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'event: must be set' });
    await expect(side.ingest.trackStream([{}])).resolves.toMatchObject({ accepted: 0, rejected: [{ index: 0, reason: 'events[0]: must be set' }] });
    expect(await written()).toEqual(before);
  });

  it('when a batch has 10001 events, it is refused as a whole with INVALID_ARGUMENT and nothing is written', async () => {
    const before = await written();
    const events = Array.from({ length: 10_001 }, (_, i) => ({ ...good, eventId: `big-${i}` }));
    await expect(side.ingest.trackBatch({ events })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'events: at most 10000 per batch' });
    await expect(side.catalog.upsertItems({ items: Array.from({ length: 10_001 }, (_, i) => ({ itemId: `it-${i}` })) })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'items: at most 10000 per batch',
    });
    expect(await written()).toEqual(before);
  });

  it.each([
    ['an empty item_id', { itemId: '' }, 'items[0].item_id: must not be empty'],
    ['a line break in item_id', { itemId: 'a\nb' }, 'items[0].item_id: must not contain control characters'],
    ['33 categories', { itemId: 'x', categories: Array.from({ length: 33 }, (_, i) => `c${i}`) }, 'items[0].categories: at most 32 entries'],
    ['a blank tag', { itemId: 'x', tags: [' '] }, 'items[0].tags[0]: must not be blank'],
    ['a category listed twice', { itemId: 'x', categories: ['jazz', 'jazz'] }, 'items[0].categories[1]: repeats items[0].categories[0]'],
    ['an attribute value with a NUL', { itemId: 'x', attributes: { title: 'a\u0000' } }, 'items[0].attributes["title"]: value must not contain control characters other than tab and line breaks'],
    ['published_at before 1900', { itemId: 'x', publishedAt: timestampFromMs(Date.UTC(1850, 0, 1)) }, 'items[0].published_at: must be between 1900-01-01 and 2200-01-01'],
  ] as [string, MessageInitShape<typeof ItemSchema>, string][])('when an item has %s, UpsertItems lists it as refused and nothing is written', async (_case, item, reason) => {
    const before = await written();
    expect(await side.catalog.upsertItems({ items: [item] })).toMatchObject({ upserted: 0, rejected: [{ index: 0, reason }] });
    expect(await written()).toEqual(before);
  });

  it.each([
    ['an empty user_id', { userId: '' }, 'users[0].user_id: must not be empty'],
    ['a 257-character user_id', { userId: 'u'.repeat(257) }, 'users[0].user_id: must be at most 256 characters'],
    ['65 attributes', { userId: 'x', attributes: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, 'users[0].attributes: at most 64 entries'],
  ] as [string, MessageInitShape<typeof UserSchema>, string][])('when a user has %s, UpsertUsers lists it as refused and nothing is written', async (_case, user, reason) => {
    const before = await written();
    expect(await side.catalog.upsertUsers({ users: [user] })).toMatchObject({ upserted: 0, rejected: [{ index: 0, reason }] });
    expect(await written()).toEqual(before);
  });

  it('when a ZeroMQ batch has only invalid events, the reply lists them and nothing is written', async () => {
    const emitter = new ZmqRequestClient({ endpoint: side.config.ingestZmqEndpoint, name: 'emitter', timeoutMs: 10_000 });
    try {
      const before = await written();
      const payload = toBinary(TrackBatchRequestSchema, create(TrackBatchRequestSchema, { events: badEvents.map(([, overrides]) => ({ ...good, ...overrides })) }));
      const reply = fromBinary(TrackBatchResponseSchema, await emitter.request(payload));
      expect(reply.accepted).toBe(0);
      expect(reply.rejected.map((rejection) => rejection.reason)).toEqual(badEvents.map(([, , problem], index) => `events[${index}].${problem}`));
      expect(await written()).toEqual(before);
    } finally {
      await emitter.close();
    }
  });

  it('when ZeroMQ frames are malformed (too few or too many frames, a 65-byte request id, a garbage payload), each gets an error reply, nothing is written, and the endpoint keeps serving', async () => {
    const raw = new Dealer({ linger: 0 });
    raw.connect(side.config.ingestZmqEndpoint);
    try {
      const before = await written();
      const cases: [string, (string | Buffer)[], string][] = [
        ['too few', ['id-1', 'payload-only'], 'expected 3 frames (request id, traceparent, payload), got 2'],
        ['too many', ['id-2', '', 'a', 'b'], 'expected 3 frames (request id, traceparent, payload), got 4'],
        ['long id', ['i'.repeat(65), '', 'x'], 'request id frame must be 1..64 bytes'],
        ['garbage payload', ['id-4', '', Buffer.from([0x0a, 0xff, 0xff])], 'payload: not a serialized orrery.v1.TrackBatchRequest'],
      ];
      for (const [, frames, message] of cases) {
        await raw.send(frames);
        const reply = (await raw.receive()) as Buffer[];
        expect([Number(reply[1]!.toString()), reply[2]!.toString()]).toEqual([status.INVALID_ARGUMENT, message]);
      }
      expect(await written()).toEqual(before);
      expect(await side.ingest.track({ event: { ...good, eventId: 'r-after-garbage' } })).toMatchObject({ duplicate: false });
    } finally {
      raw.close();
    }
  });
});
