import { create } from '@bufbuild/protobuf';
import { DomainEventSchema, EventType } from '@orrery/proto';
import { decodeDomainEvent, domainEventKey, encodeDomainEvent } from './index';

describe('domain event wire format', () => {
  it('when an interaction is encoded and decoded, it is unchanged and keyed by its user', () => {
    const event = create(DomainEventSchema, {
      sequence: 42n,
      payload: { case: 'interaction', value: { eventId: 'e1', userId: 'user-1', itemId: 'item-9', type: EventType.CLICK, value: 1 } },
    });
    const decoded = decodeDomainEvent(encodeDomainEvent(event));
    expect(decoded.sequence).toBe(42n);
    expect(decoded.payload.case).toBe('interaction');
    expect(domainEventKey(decoded)).toBe('user-1');
  });

  it('when an item changes, the event is keyed by the item', () => {
    const event = create(DomainEventSchema, { sequence: 1n, payload: { case: 'itemUpserted', value: { itemId: 'item-3' } } });
    expect(domainEventKey(event)).toBe('item:item-3');
  });
});
