import type { EventType } from '@orrery/proto';

/** One entry of a user's recent-interactions list. */
export interface RecentEntry {
  /** DomainEvent.sequence: identifies the event (strictly increasing per user). */
  readonly sequence: bigint;
  readonly type: EventType;
  /** Event.value (the rating of a RATING; 0 otherwise matters not). */
  readonly value: number;
  readonly occurredMs: number;
  readonly itemId: string;
}

// Compact on purpose (a user keeps ~200 of these): `<seq b36>|<type>|<ms b36>|<value or empty>|<item id>`,
// e.g. `2n9c|2|m3x1q8ab||item-42` ≈ 20 bytes + the item id. The item id comes last so it may contain '|'.

/** The list value of a recent entry. */
export function encodeRecentEntry(entry: RecentEntry): string {
  const value = entry.value === 0 || !Number.isFinite(entry.value) ? '' : String(entry.value);
  return `${entry.sequence.toString(36)}|${entry.type}|${Math.max(0, Math.trunc(entry.occurredMs)).toString(36)}|${value}|${entry.itemId}`;
}

/** Parses a recent-list value; undefined for a malformed one (skipped, never fatal). */
export function decodeRecentEntry(encoded: string): RecentEntry | undefined {
  // indexOf rather than split: a projector batch decodes tens of thousands of these.
  const typeAt = encoded.indexOf('|') + 1;
  const occurredAt = typeAt > 0 ? encoded.indexOf('|', typeAt) + 1 : 0;
  const valueAt = occurredAt > 0 ? encoded.indexOf('|', occurredAt) + 1 : 0;
  const itemAt = valueAt > 0 ? encoded.indexOf('|', valueAt) + 1 : 0;
  if (itemAt === 0) return undefined;
  const sequence = parseBase36BigInt(encoded.slice(0, typeAt - 1));
  const value = encoded.slice(valueAt, itemAt - 1);
  const entry: RecentEntry = {
    sequence: sequence ?? 0n,
    type: Number(encoded.slice(typeAt, occurredAt - 1)) as EventType,
    occurredMs: parseInt(encoded.slice(occurredAt, valueAt - 1), 36),
    value: value === '' ? 0 : Number(value),
    itemId: encoded.slice(itemAt),
  };
  return sequence !== undefined && Number.isInteger(entry.type) && Number.isFinite(entry.occurredMs) && Number.isFinite(entry.value) && entry.itemId ? entry : undefined;
}

/** Base-36 digits → bigint (undefined when not base 36); up to 10 digits (< 2^53) through a double. */
function parseBase36BigInt(text: string): bigint | undefined {
  if (!/^[0-9a-z]+$/.test(text)) return undefined;
  if (text.length <= 10) return BigInt(parseInt(text, 36));
  let result = 0n;
  for (const digit of text) result = result * 36n + BigInt(parseInt(digit, 36));
  return result;
}
