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
  const parts = encoded.split('|');
  if (parts.length < 5) return undefined;
  const [sequence, type, occurred, value] = parts as [string, string, string, string];
  const itemId = parts.slice(4).join('|');
  try {
    const entry: RecentEntry = {
      sequence: parseBase36BigInt(sequence),
      type: Number(type) as EventType,
      occurredMs: parseInt(occurred, 36),
      value: value === '' ? 0 : Number(value),
      itemId,
    };
    return Number.isInteger(entry.type) && Number.isFinite(entry.occurredMs) && Number.isFinite(entry.value) && itemId ? entry : undefined;
  } catch {
    return undefined;
  }
}

function parseBase36BigInt(text: string): bigint {
  if (!/^[0-9a-z]+$/.test(text)) throw new Error(`not base 36: ${text}`);
  let result = 0n;
  for (const digit of text) result = result * 36n + BigInt(parseInt(digit, 36));
  return result;
}
