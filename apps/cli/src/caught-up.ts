// Waiting for the projector to apply what was ingested, so measurements start on a settled platform.
import { createClient } from '@orrery/grpc';
import { QueryService } from '@orrery/proto';
import { eventually } from '@orrery/testing';

/** Each user's last item by time (ties: the later in input order). */
export function lastItemByUser(events: readonly { readonly userId: string; readonly itemId: string; readonly occurredAt: number }[]): Map<string, string> {
  const last = new Map<string, { itemId: string; at: number }>();
  for (const event of events) {
    const previous = last.get(event.userId);
    if (!previous || event.occurredAt >= previous.at) last.set(event.userId, { itemId: event.itemId, at: event.occurredAt });
  }
  return new Map([...last].map(([userId, { itemId }]) => [userId, itemId]));
}

/**
 * Resolves once the query service shows every user's last event among their recent items (events
 * are keyed by user, so this covers every partition the users' events went to).
 */
export async function waitUntilProjected(queryAddress: string, lastItems: ReadonlyMap<string, string>, timeoutMs = 120_000): Promise<void> {
  const query = createClient(QueryService, queryAddress, { timeoutMs: 10_000 });
  const pending = [...lastItems];
  try {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let entry = pending.pop(); entry; entry = pending.pop()) {
          const [userId, itemId] = entry;
          await eventually(() => query.getUserContext({ userId, recentLimit: 20 }), {
            accept: (context) => context.recent.some((interaction) => interaction.itemId === itemId),
            timeoutMs,
            intervalMs: 100,
            what: `the projection of ${userId}'s events`,
          });
        }
      }),
    );
  } finally {
    query.close();
  }
}
