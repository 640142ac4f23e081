export { deleteItem, upsertItems, upsertUsers } from './catalog';
export { firstOccurrences, lastOccurrences } from './dedupe';
export { forgetUser } from './erasure';
export { appendEvents } from './event-store';
export { eventTypeFromStored, storedEventType, type StoredEventType } from './event-types';
export { COMMIT_ORDER_LOCK, lockCommitOrder, MIGRATION_LOCK, OUTBOX_RELAY_LOCK } from './locks';
export { DEFAULT_MIGRATIONS_DIR, migrate, type MigrateOptions } from './migrate';
export {
  allocateAbove,
  insertOutbox,
  OUTBOX_CHANNEL,
  readOutboxLag,
  readRelayPosition,
  readUnpublished,
  resequenceFacts,
  takeUnpublished,
  tryBecomeOutboxRelay,
  underCommitOrderLock,
  type OutboxRow,
} from './outbox';
export { createPool } from './pool';
export { inTransaction, isRefusedData, pgErrorCode } from './transaction';
