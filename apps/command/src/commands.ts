import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Pool } from 'pg';
import { ServiceError, status } from '@orrery/grpc';
import { CommandReplySchema, CommandRequestSchema, EventType, type CommandReply, type CommandRequest } from '@orrery/proto';
import { deleteItem, forgetUser, inTransaction, isRefusedData, upsertItems, upsertUsers } from '@orrery/store';
import type { AppendEvents } from './append-lane';

/** Decodes a ZeroMQ payload into a command; INVALID_ARGUMENT when it is not one. */
export function decodeCommand(payload: Uint8Array): CommandRequest {
  try {
    return fromBinary(CommandRequestSchema, payload);
  } catch {
    throw new ServiceError(status.INVALID_ARGUMENT, 'payload: not a serialized orrery.v1.CommandRequest');
  }
}

/**
 * The first way a command breaks the contract "entries are validated and normalised by
 * ingestion" (message names the field), or undefined. A last line of defence, not validation:
 * ingestion gives clients the precise reasons.
 */
export function contractViolation(request: CommandRequest): string | undefined {
  const { command } = request;
  switch (command.case) {
    case 'appendEvents':
      if (command.value.traceparents.length > 0 && command.value.traceparents.length !== command.value.events.length) {
        return `append_events.traceparents: ${command.value.traceparents.length} for ${command.value.events.length} events (none, or one per event)`;
      }
      for (const [index, event] of command.value.events.entries()) {
        const field = `append_events.events[${index}]`;
        if (!event.eventId) return `${field}.event_id: must be assigned`;
        if (!event.userId) return `${field}.user_id: must not be empty`;
        if (!event.itemId) return `${field}.item_id: must not be empty`;
        if (event.type === EventType.UNSPECIFIED || !(event.type in EventType)) return `${field}.type: must be a known type`;
        if (!Number.isFinite(event.value)) return `${field}.value: must be finite`;
        if (!event.occurredAt) return `${field}.occurred_at: must be set`;
      }
      return undefined;
    case 'upsertItems':
      for (const [index, item] of command.value.items.entries()) {
        if (!item.itemId) return `upsert_items.items[${index}].item_id: must not be empty`;
      }
      return undefined;
    case 'upsertUsers':
      for (const [index, user] of command.value.users.entries()) {
        if (!user.userId) return `upsert_users.users[${index}].user_id: must not be empty`;
      }
      return undefined;
    case 'deleteItem':
      return command.value.itemId ? undefined : 'delete_item.item_id: must not be empty';
    case 'forgetUser':
      return command.value.userId ? undefined : 'forget_user.user_id: must not be empty';
    case undefined:
      return 'command: must be set';
    default: {
      const unknown: never = command;
      return `command: unknown kind ${String(unknown)}`;
    }
  }
}

/** Where commands are executed: the pool for catalog commands, and the group-committing append lane. */
export interface CommandStore {
  readonly pool: Pool;
  readonly appendEvents: AppendEvents;
}

/**
 * Executes one command in one Postgres transaction (facts + outbox rows; appends possibly together
 * with other append commands) and returns the reply once it has committed. Store failures become
 * UNAVAILABLE: nothing was committed, and the caller may retry with the same ids.
 */
export async function executeCommand(store: CommandStore, request: CommandRequest, traceparent: string): Promise<CommandReply> {
  const { pool } = store;
  const violation = contractViolation(request);
  if (violation) throw new ServiceError(status.INVALID_ARGUMENT, violation);
  const { command } = request;
  try {
    switch (command.case) {
      case 'appendEvents': {
        // An event of a call merged into this command continues that call's trace, not this command's.
        const traceparents = command.value.events.map((_, index) => command.value.traceparents[index] || traceparent);
        const duplicates = await store.appendEvents(command.value.events, traceparents);
        return create(CommandReplySchema, { duplicates, applied: duplicates.filter((duplicate) => !duplicate).length });
      }
      case 'upsertItems':
        return create(CommandReplySchema, { applied: await inTransaction(pool, (tx) => upsertItems(tx, command.value.items, traceparent)) });
      case 'upsertUsers':
        return create(CommandReplySchema, { applied: await inTransaction(pool, (tx) => upsertUsers(tx, command.value.users, traceparent)) });
      case 'deleteItem': {
        const deleted = await inTransaction(pool, (tx) => deleteItem(tx, command.value.itemId, traceparent));
        return create(CommandReplySchema, { applied: deleted ? 1 : 0 });
      }
      case 'forgetUser':
        return create(CommandReplySchema, { applied: await inTransaction(pool, (tx) => forgetUser(tx, command.value.userId, traceparent)) });
      case undefined:
        throw new ServiceError(status.INVALID_ARGUMENT, 'command: must be set');
      default: {
        const unknown: never = command;
        throw new ServiceError(status.INVALID_ARGUMENT, `command: unknown kind ${String(unknown)}`);
      }
    }
  } catch (error) {
    throw storeFailure(error);
  }
}

/** Serialises a reply for the ZeroMQ body. */
export function encodeReply(reply: CommandReply): Uint8Array {
  return toBinary(CommandReplySchema, reply);
}

function storeFailure(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isRefusedData(error)) return new ServiceError(status.INVALID_ARGUMENT, `event store refused the command: ${message}`);
  return new ServiceError(status.UNAVAILABLE, `event store unavailable: ${message}`);
}
