// Test helpers: DomainEvents as the command side's outbox relay publishes them.
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Producer } from 'kafkajs';
import { domainEventKey, encodeDomainEvent } from '@orrery/kafka';
import { DomainEventSchema, EventType, type DomainEvent } from '@orrery/proto';

let nextSequence = 1n;

/** A sequence number higher than every one handed out before (the event store's commit order). */
export function sequence(): bigint {
  nextSequence += 1n;
  return nextSequence;
}

/** An interaction DomainEvent. */
export function interaction(init: { userId: string; itemId: string; type?: EventType; value?: number; occurredMs?: number; eventId?: string }): DomainEvent {
  const occurredMs = init.occurredMs ?? Date.now();
  const seq = sequence();
  return create(DomainEventSchema, {
    sequence: seq,
    committedAt: timestampFromMs(Math.max(Date.now(), occurredMs)),
    payload: {
      case: 'interaction',
      value: {
        eventId: init.eventId ?? `ev-${seq}-${Math.random().toString(36).slice(2, 8)}`,
        userId: init.userId,
        itemId: init.itemId,
        type: init.type ?? EventType.VIEW,
        value: init.value ?? 0,
        occurredAt: timestampFromMs(occurredMs),
      },
    },
  });
}

/** An item_upserted DomainEvent. */
export function itemUpserted(init: { itemId: string; categories?: string[]; hidden?: boolean; publishedMs?: number; tags?: string[] }): DomainEvent {
  return create(DomainEventSchema, {
    sequence: sequence(),
    committedAt: timestampFromMs(Date.now()),
    payload: {
      case: 'itemUpserted',
      value: {
        itemId: init.itemId,
        categories: init.categories ?? [],
        tags: init.tags ?? [],
        hidden: init.hidden ?? false,
        ...(init.publishedMs === undefined ? {} : { publishedAt: timestampFromMs(init.publishedMs) }),
      },
    },
  });
}

/** A user_upserted DomainEvent. */
export function userUpserted(userId: string, attributes: Record<string, string>): DomainEvent {
  return create(DomainEventSchema, { sequence: sequence(), committedAt: timestampFromMs(Date.now()), payload: { case: 'userUpserted', value: { userId, attributes } } });
}

/** An item_deleted DomainEvent. */
export function itemDeleted(itemId: string): DomainEvent {
  return create(DomainEventSchema, { sequence: sequence(), committedAt: timestampFromMs(Date.now()), payload: { case: 'itemDeleted', value: { itemId } } });
}

/** A user_forgotten DomainEvent. */
export function userForgotten(userId: string): DomainEvent {
  return create(DomainEventSchema, { sequence: sequence(), committedAt: timestampFromMs(Date.now()), payload: { case: 'userForgotten', value: { userId } } });
}

/** `events` without `userId`'s interactions: what a deployment that never saw that user is fed. */
export function withoutInteractionsOf(userId: string, events: readonly DomainEvent[]): DomainEvent[] {
  return events.filter((event) => event.payload.case !== 'interaction' || event.payload.value.userId !== userId);
}

/** Publishes events in order, keyed as the outbox relay keys them, with an optional traceparent header. */
export async function publish(producer: Producer, topic: string, events: readonly DomainEvent[], traceparent?: string): Promise<void> {
  await producer.send({
    topic,
    messages: events.map((event) => ({
      key: domainEventKey(event),
      value: encodeDomainEvent(event),
      ...(traceparent ? { headers: { traceparent } } : {}),
    })),
  });
}

/** A deterministic pseudo-random number generator in [0, 1) (a linear congruential one). */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** A deterministic pseudo-random stream: `users` users browsing items i0… in sessions over the last 3 days. */
export function browsingStream(count: number, users: number, items: number, seed: number): DomainEvent[] {
  const next = seededRandom(seed);
  const minute = 60_000;
  const types = [EventType.VIEW, EventType.VIEW, EventType.VIEW, EventType.CLICK, EventType.ADD_TO_CART, EventType.PURCHASE, EventType.LIKE, EventType.DISLIKE];
  const clock = new Map<string, number>();
  const t0 = Date.now() - 3 * 24 * 60 * minute;
  return Array.from({ length: count }, () => {
    const userId = `u${Math.floor(next() * users)}`;
    const at = (clock.get(userId) ?? t0) + Math.floor(next() * 40 * minute);
    clock.set(userId, at);
    return interaction({ userId, itemId: `i${Math.floor(next() * items)}`, type: types[Math.floor(next() * types.length)]!, occurredMs: at });
  });
}
