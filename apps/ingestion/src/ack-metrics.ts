import { ingestAcks } from '@orrery/metrics';
import type { CommandGateway } from './command-gateway';

/** The gateway, counting every entry command confirmed (orrery_ingest_acks_total): what ingestion acks. */
export function countingAcks(gateway: CommandGateway): CommandGateway {
  return {
    ...gateway,
    appendEvents: async (events, timeoutMs, merged) => {
      const duplicates = await gateway.appendEvents(events, timeoutMs, merged);
      const duplicated = duplicates.filter(Boolean).length;
      ingestAcks.inc({ kind: 'event', outcome: 'stored' }, duplicates.length - duplicated);
      if (duplicated > 0) ingestAcks.inc({ kind: 'event', outcome: 'duplicate' }, duplicated);
      return duplicates;
    },
    upsertItems: async (items, timeoutMs) => {
      const applied = await gateway.upsertItems(items, timeoutMs);
      ingestAcks.inc({ kind: 'item', outcome: 'stored' }, items.length);
      return applied;
    },
    upsertUsers: async (users, timeoutMs) => {
      const applied = await gateway.upsertUsers(users, timeoutMs);
      ingestAcks.inc({ kind: 'user', outcome: 'stored' }, users.length);
      return applied;
    },
  };
}
