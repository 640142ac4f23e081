export { upsertItems, upsertUsers } from './catalog';
export { firstOccurrences, lastOccurrences } from './dedupe';
export { appendEvents } from './event-store';
export { eventTypeFromStored, storedEventType, type StoredEventType } from './event-types';
export { lockPartitionKeys, MIGRATION_LOCK, OUTBOX_RELAY_LOCK, PARTITION_KEY_LOCK } from './locks';
export { DEFAULT_MIGRATIONS_DIR, migrate, type MigrateOptions } from './migrate';
export { deleteOutbox, insertOutbox, OUTBOX_CHANNEL, readOutbox, readOutboxLag, tryBecomeOutboxRelay, type OutboxRow } from './outbox';
export { createPool } from './pool';
export { inTransaction, pgErrorCode } from './transaction';
