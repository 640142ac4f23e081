import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { EventSchema, EventType, ItemSchema, UserSchema, type Event } from '@orrery/proto';
import { checkBatchSize, describeFieldError, LIMITS, splitBatch, validateEvent, validateItem, validateUser, type Checked } from './validation';

const NOW = Date.UTC(2025, 5, 1, 12);
const defaults = { now: NOW, newEventId: () => 'generated-id' };

function event(overrides: Omit<MessageInitShape<typeof EventSchema>, '$typeName'> = {}): Event {
  return create(EventSchema, { eventId: 'e-1', userId: 'u-1', itemId: 'i-1', type: EventType.CLICK, value: 1, ...overrides });
}

function errorOf<T>(checked: Checked<T>): string {
  if (checked.ok) throw new Error('expected a refusal');
  return describeFieldError(checked.error);
}

describe('event validation', () => {
  it('when an event is valid, it is accepted unchanged', () => {
    const checked = validateEvent(event({ occurredAt: timestampFromMs(NOW - 1000), context: { page: 'home' } }), 'event', defaults);
    expect(checked.ok && checked.value).toMatchObject({ eventId: 'e-1', userId: 'u-1', itemId: 'i-1', type: EventType.CLICK, value: 1, context: { page: 'home' } });
    expect(checked.ok && timestampMs(checked.value.occurredAt!)).toBe(NOW - 1000);
  });

  it('when event_id is empty, one is generated; when occurred_at is missing, it is now', () => {
    const checked = validateEvent(event({ eventId: '' }), 'event', defaults);
    expect(checked.ok && checked.value.eventId).toBe('generated-id');
    expect(checked.ok && timestampMs(checked.value.occurredAt!)).toBe(NOW);
  });

  it('when the event is missing, the refusal names it', () => {
    expect(errorOf(validateEvent(undefined, 'event', defaults))).toBe('event: must be set');
  });

  it.each([
    ['user_id is empty', { userId: '' }, 'event.user_id: must not be empty'],
    ['user_id is 257 characters', { userId: 'x'.repeat(257) }, 'event.user_id: must be at most 256 characters'],
    ['user_id has a NUL', { userId: 'a\u0000b' }, 'event.user_id: must not contain control characters'],
    ['user_id is blank', { userId: '   ' }, 'event.user_id: must not be blank'],
    ['item_id is empty', { itemId: '' }, 'event.item_id: must not be empty'],
    ['item_id has a line break', { itemId: 'line\nbreak' }, 'event.item_id: must not contain control characters'],
    ['event_id is a tab', { eventId: '\t' }, 'event.event_id: must not contain control characters'],
    ['event_id is blank', { eventId: ' ' }, 'event.event_id: must not be blank'],
    ['event_id is 257 characters', { eventId: 'e'.repeat(257) }, 'event.event_id: must be at most 256 characters'],
  ])('when %s, the refusal names the field', (_case, overrides, message) => {
    expect(errorOf(validateEvent(event(overrides), 'event', defaults))).toBe(message);
  });

  it('when an id is 256 characters counted as code points, it is accepted', () => {
    expect(validateEvent(event({ userId: '🙂'.repeat(256) }), 'event', defaults).ok).toBe(true);
    expect(errorOf(validateEvent(event({ userId: `a${'🙂'.repeat(256)}` }), 'event', defaults))).toBe('event.user_id: must be at most 256 characters');
  });

  it('when the type is unspecified or unknown, it is refused', () => {
    expect(errorOf(validateEvent(event({ type: EventType.UNSPECIFIED }), 'event', defaults))).toBe('event.type: must be specified');
    expect(errorOf(validateEvent(event({ type: 99 as EventType }), 'event', defaults))).toBe('event.type: unknown event type 99');
  });

  it('when the value is not finite, it is refused', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(errorOf(validateEvent(event({ value }), 'event', defaults))).toBe('event.value: must be a finite number');
    }
  });

  it('when occurred_at is too far in the future, before 2000 or malformed, it is refused', () => {
    const day = LIMITS.futureMs;
    expect(validateEvent(event({ occurredAt: timestampFromMs(NOW + day) }), 'event', defaults).ok).toBe(true);
    expect(errorOf(validateEvent(event({ occurredAt: timestampFromMs(NOW + day + 1) }), 'event', defaults))).toBe('event.occurred_at: must not be more than 1 day in the future');
    expect(errorOf(validateEvent(event({ occurredAt: timestampFromMs(Date.UTC(1999, 11, 31)) }), 'event', defaults))).toBe('event.occurred_at: must not be before 2000-01-01');
    expect(errorOf(validateEvent(event({ occurredAt: { seconds: 1_700_000_000n, nanos: 1_000_000_000 } }), 'event', defaults))).toBe(
      'event.occurred_at: nanos must be within 0..999999999',
    );
  });

  it('when the context is too large or has bad entries, the refusal names the entry', () => {
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    expect(validateEvent(event({ context: Object.fromEntries(Object.entries(tooMany).slice(0, 64)) }), 'event', defaults).ok).toBe(true);
    expect(errorOf(validateEvent(event({ context: tooMany }), 'event', defaults))).toBe('event.context: at most 64 entries');
    expect(errorOf(validateEvent(event({ context: { '': 'v' } }), 'event', defaults))).toBe('event.context[""]: key must not be empty');
    expect(errorOf(validateEvent(event({ context: { ['k'.repeat(129)]: 'v' } }), 'event', defaults))).toMatch(/^event\.context\["k{64}…"\]: key must be at most 128 characters$/);
    expect(errorOf(validateEvent(event({ context: { page: 'x'.repeat(1025) } }), 'event', defaults))).toBe('event.context["page"]: value must be at most 1024 characters');
    expect(errorOf(validateEvent(event({ context: { page: 'a\u0000' } }), 'event', defaults))).toBe(
      'event.context["page"]: value must not contain control characters other than tab and line breaks',
    );
    expect(validateEvent(event({ context: { note: 'two\nlines\tand tab' } }), 'event', defaults).ok).toBe(true);
  });

  it('when the context is over 16384 characters in total, it is refused even with every entry in bounds', () => {
    const entries = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v'.repeat(1021)]));
    expect(validateEvent(event({ context: entries(16) }), 'event', defaults).ok).toBe(true);
    expect(errorOf(validateEvent(event({ context: entries(17) }), 'event', defaults))).toBe('event.context: at most 16384 characters of keys and values in total');
  });
});

describe('batch validation', () => {
  it('when a batch mixes valid and invalid events, the invalid ones are listed by index with the field', () => {
    const split = splitBatch([event(), event({ type: EventType.UNSPECIFIED }), event({ eventId: 'e-2' }), event({ userId: '' })], 'events', (entry, path) =>
      validateEvent(entry, path, defaults),
    );
    expect(split.valid.map((entry) => entry.eventId)).toEqual(['e-1', 'e-2']);
    expect(split.rejected).toEqual([
      { index: 1, reason: 'events[1].type: must be specified' },
      { index: 3, reason: 'events[3].user_id: must not be empty' },
    ]);
  });

  it('when a batch has more than 10000 entries, it is refused as a whole', () => {
    expect(checkBatchSize(10_000, 'events')).toBeUndefined();
    expect(describeFieldError(checkBatchSize(10_001, 'events')!)).toBe('events: at most 10000 per batch');
  });
});

describe('catalog validation', () => {
  it('when an item is valid, it is accepted', () => {
    const checked = validateItem(create(ItemSchema, { itemId: 'i-1', categories: ['books'], tags: ['new'], attributes: { title: 'Dune' }, publishedAt: timestampFromMs(0), hidden: true }), 'items[0]');
    expect(checked.ok && checked.value).toMatchObject({ itemId: 'i-1', categories: ['books'], tags: ['new'], attributes: { title: 'Dune' }, hidden: true });
  });

  it.each([
    ['item_id is empty', { itemId: '' }, 'items[2].item_id: must not be empty'],
    ['it has 33 categories', { itemId: 'i', categories: Array.from({ length: 33 }, (_, i) => `c${i}`) }, 'items[2].categories: at most 32 entries'],
    ['a category is empty', { itemId: 'i', categories: ['ok', ''] }, 'items[2].categories[1]: must not be empty'],
    ['a tag is 129 characters', { itemId: 'i', tags: ['t'.repeat(129)] }, 'items[2].tags[0]: must be at most 128 characters'],
    ['it has 33 tags', { itemId: 'i', tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, 'items[2].tags: at most 32 entries'],
    ['a category is listed twice', { itemId: 'i', categories: ['jazz', 'books', 'jazz'] }, 'items[2].categories[2]: repeats items[2].categories[0]'],
    ['a tag is listed twice', { itemId: 'i', tags: ['new', 'new'] }, 'items[2].tags[1]: repeats items[2].tags[0]'],
    ['an attribute key is a control character', { itemId: 'i', attributes: { '\u0007': 'x' } }, 'items[2].attributes["\\u0007"]: key must not contain control characters'],
    ['published_at is before 1900', { itemId: 'i', publishedAt: timestampFromMs(Date.UTC(1899, 11, 31)) }, 'items[2].published_at: must be between 1900-01-01 and 2200-01-01'],
    ['published_at is in 2200', { itemId: 'i', publishedAt: timestampFromMs(Date.UTC(2200, 0, 1)) }, 'items[2].published_at: must be between 1900-01-01 and 2200-01-01'],
    ['published_at is after year 9999', { itemId: 'i', publishedAt: { seconds: 300_000_000_000n, nanos: 0 } }, 'items[2].published_at: must be between years 1 and 9999'],
  ])('when an item is refused because %s, the refusal names the field', (_case, init, message) => {
    expect(errorOf(validateItem(create(ItemSchema, init), 'items[2]'))).toBe(message);
  });

  it('when a user is invalid, the refusal names the field', () => {
    expect(validateUser(create(UserSchema, { userId: 'u-1', attributes: { country: 'NZ' } }), 'users[0]').ok).toBe(true);
    expect(errorOf(validateUser(create(UserSchema, { userId: ' ' }), 'users[0]'))).toBe('users[0].user_id: must not be blank');
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    expect(errorOf(validateUser(create(UserSchema, { userId: 'u-1', attributes: tooMany }), 'users[0]'))).toBe('users[0].attributes: at most 64 entries');
  });
});
