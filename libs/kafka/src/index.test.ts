import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { DomainEventSchema, EventType } from '@orrery/proto';
import { decodeDomainEvent, domainEventKey, encodeDomainEvent } from './index';

describe('domain event wire format', () => {
  it('when an interaction is encoded and decoded, it is unchanged and keyed by its user', () => {
    const event = create(DomainEventSchema, {
      sequence: 42n,
      committedAt: timestampFromMs(1_764_400_000_123),
      payload: {
        case: 'interaction',
        value: { eventId: 'e1', userId: 'user-1', itemId: 'item-9', type: EventType.RATING, value: 4.5, occurredAt: timestampFromMs(1_764_399_999_000), context: { page: 'home' } },
      },
    });
    const decoded = decodeDomainEvent(encodeDomainEvent(event));
    // Every field, not only the sequence and the payload's kind.
    expect(decoded).toEqual(event);
    expect(domainEventKey(decoded)).toBe('user-1');
  });

  it('when an item changes, the event is keyed by the item', () => {
    const event = create(DomainEventSchema, { sequence: 1n, payload: { case: 'itemUpserted', value: { itemId: 'item-3' } } });
    expect(domainEventKey(event)).toBe('item:item-3');
  });
});
