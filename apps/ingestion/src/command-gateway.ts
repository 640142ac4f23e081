import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { ServiceError, status, toServiceError } from '@orrery/grpc';
import { CommandReplySchema, CommandRequestSchema, type CommandReply, type Event, type Item, type User } from '@orrery/proto';
import type { Link } from '@orrery/telemetry';
import type { ZmqRequestClient } from '@orrery/zmq';
import type { InFlightBudget } from '@orrery/grpc';

/**
 * The calls of other traces an append carries besides its own: one traceparent per event ('' for an
 * event of the call it is made in) and a link to each other call's span. Calls merged by coalescer.ts,
 * or events a client batched from several traces (TrackBatchRequest.traceparents; the client linked them).
 */
export interface MergedCalls {
  readonly traceparents: readonly string[];
  readonly links: readonly Link[];
}

/** The command side as ingestion sees it: each call resolves once the entries are durably committed. */
export interface CommandGateway {
  /** One duplicate flag per event, in order. `merged`: the events of other calls' traces among them. */
  appendEvents(events: readonly Event[], timeoutMs: number, merged?: MergedCalls): Promise<boolean[]>;
  /** How many entries were applied. */
  upsertItems(items: readonly Item[], timeoutMs: number): Promise<number>;
  upsertUsers(users: readonly User[], timeoutMs: number): Promise<number>;
  /** True when the catalog knew the item (it is now removed and tombstoned). */
  deleteItem(itemId: string, timeoutMs: number): Promise<boolean>;
  /** How many of the user's events were erased from the event store. */
  forgetUser(userId: string, timeoutMs: number): Promise<number>;
}

/** The gateway with every appendEvents counted against the in-flight budget (waits or RESOURCE_EXHAUSTED when full). */
export function withInFlightBudget(gateway: CommandGateway, budget: InFlightBudget): CommandGateway {
  return { ...gateway, appendEvents: (events, timeoutMs, merged) => budget.run(events.length, () => gateway.appendEvents(events, timeoutMs, merged)) };
}

/** The CommandGateway over ZeroMQ (command.proto messages). */
export function zmqCommandGateway(client: ZmqRequestClient): CommandGateway {
  const send = async (command: MessageInitShape<typeof CommandRequestSchema>['command'], timeoutMs: number, merged?: MergedCalls): Promise<CommandReply> => {
    let body: Buffer;
    try {
      body = await client.request(toBinary(CommandRequestSchema, create(CommandRequestSchema, { command })), timeoutMs, merged?.links);
    } catch (error) {
      throw commandFailure(error);
    }
    const reply = fromBinary(CommandReplySchema, body);
    if (reply.errorCode !== 0) throw new ServiceError(reply.errorCode, reply.errorMessage);
    return reply;
  };
  return {
    appendEvents: async (events, timeoutMs, merged) => {
      const reply = await send({ case: 'appendEvents', value: { events: [...events], traceparents: merged ? [...merged.traceparents] : [] } }, timeoutMs, merged);
      if (reply.duplicates.length !== events.length) {
        throw new ServiceError(status.INTERNAL, `command answered ${reply.duplicates.length} duplicate flags for ${events.length} events`);
      }
      return reply.duplicates;
    },
    upsertItems: async (items, timeoutMs) => (await send({ case: 'upsertItems', value: { items: [...items] } }, timeoutMs)).applied,
    upsertUsers: async (users, timeoutMs) => (await send({ case: 'upsertUsers', value: { users: [...users] } }, timeoutMs)).applied,
    deleteItem: async (itemId, timeoutMs) => (await send({ case: 'deleteItem', value: { itemId } }, timeoutMs)).applied > 0,
    forgetUser: async (userId, timeoutMs) => (await send({ case: 'forgetUser', value: { userId } }, timeoutMs)).applied,
  };
}

function commandFailure(error: unknown): ServiceError {
  const serviceError = toServiceError(error);
  switch (serviceError.code) {
    // No answer in time: the entries may or may not have been committed. Retrying with the same
    // ids is safe, since command dedupes event ids and upserts are idempotent.
    case status.DEADLINE_EXCEEDED:
    case status.UNAVAILABLE:
      return new ServiceError(status.UNAVAILABLE, `command did not confirm the commit (${serviceError.message}); retry with the same event ids (an event sent without event_id gets a new one on every try)`);
    default:
      return serviceError;
  }
}
