import type { MessageInitShape } from '@bufbuild/protobuf';
import { invalidArgument } from '@orrery/grpc';
import type {
  DeleteItemResponseSchema,
  Event,
  ForgetUserResponseSchema,
  TrackRequest,
  Item,
  TrackBatchRequest,
  TrackBatchResponseSchema,
  TrackResponseSchema,
  UpsertItemsResponseSchema,
  UpsertUsersResponseSchema,
  User,
} from '@orrery/proto';
import type { CommandGateway, MergedCalls } from './command-gateway';
import { checkBatchSize, checkId, checkTraceparents, describeFieldError, LIMITS, splitBatch, validateEvent, validateItem, validateUser, type Defaults } from './validation';

/** What the use cases need: the command side and how to fill in defaults. */
export interface IngestDependencies {
  readonly commands: CommandGateway;
  readonly defaults: () => Defaults;
}

/** Stores one event; INVALID_ARGUMENT naming the field when it is invalid (nothing is written). */
export async function track(deps: IngestDependencies, event: Event | undefined, timeoutMs: number): Promise<MessageInitShape<typeof TrackResponseSchema>> {
  const checked = validateEvent(event, 'event', deps.defaults());
  if (!checked.ok) throw invalidArgument(checked.error.field, checked.error.problem);
  const [duplicate] = await deps.commands.appendEvents([checked.value], timeoutMs);
  return { eventId: checked.value.eventId, duplicate: duplicate === true };
}

/**
 * Stores the valid events of a batch in one command and lists the refused ones with their index.
 * An event with a traceparent of its own (`request.traceparents`) reaches command in that trace
 * instead of the request's; a batch whose traceparents are not one per event is refused whole.
 */
export async function trackBatch(
  deps: IngestDependencies,
  request: Pick<TrackBatchRequest, 'events' | 'traceparents'>,
  timeoutMs: number,
): Promise<MessageInitShape<typeof TrackBatchResponseSchema>> {
  refuseOversized(request.events.length, 'events');
  const problem = checkTraceparents(request.traceparents, request.events.length);
  if (problem) throw invalidArgument(problem.field, problem.problem);
  const defaults = deps.defaults();
  const { valid, rejected } = splitBatch(request.events, 'events', (event, path) => validateEvent(event, path, defaults));
  if (valid.length > 0) await deps.commands.appendEvents(valid, timeoutMs, ownTraces(request.traceparents, rejected));
  return { accepted: valid.length, rejected };
}

/** The traceparents of a batch's valid events, as the calls of other traces they carry (none when no event has one). */
function ownTraces(traceparents: readonly string[], rejected: readonly { readonly index: number }[]): MergedCalls | undefined {
  if (!traceparents.some(Boolean)) return undefined;
  const refused = new Set(rejected.map((rejection) => rejection.index));
  return { traceparents: traceparents.filter((_, index) => !refused.has(index)), links: [] };
}

/** Events of a TrackStream sent to command at once (the next chunk is read while one is committing). */
export const STREAM_CHUNK = 2_000;

/**
 * Stores a client stream of events in chunks of STREAM_CHUNK, one command each; answers once all
 * are committed, counting them like TrackBatch (`index` from the first message of the stream).
 * At most LIMITS.stream events per stream: a longer one is refused (INVALID_ARGUMENT) once the
 * first LIMITS.stream are committed, saying how many were stored. When a chunk fails the call
 * fails: earlier chunks stay committed, so the client resends the stream with the same event ids
 * (stored once).
 */
export async function trackStream(
  deps: IngestDependencies,
  requests: AsyncIterable<TrackRequest>,
  timeoutMs: () => number,
): Promise<MessageInitShape<typeof TrackBatchResponseSchema>> {
  let accepted = 0;
  const rejected: { index: number; reason: string }[] = [];
  let chunk: Event[] = [];
  // At most one chunk committing while the next one fills up.
  let committing: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await committing;
    if (chunk.length === 0) return;
    const events = chunk;
    chunk = [];
    committing = deps.commands.appendEvents(events, timeoutMs()).then(() => void (accepted += events.length));
    // Awaited by the next flush; this only keeps a failure from being reported as unhandled meanwhile.
    committing.catch(() => undefined);
  };
  let index = 0;
  let defaults = deps.defaults();
  for await (const request of requests) {
    if (index >= LIMITS.stream) {
      // The events before the limit were sent to command chunk by chunk: they are stored (the last
      // chunk too, before the answer), and the refusal says so, since it cannot say "nothing written".
      await flush();
      await committing;
      throw invalidArgument(
        'events',
        `at most ${LIMITS.stream} per stream: events[0..${LIMITS.stream - 1}] were handled (${accepted} stored, ${rejected.length} refused), events[${LIMITS.stream}] onwards were not; send those in another stream`,
      );
    }
    const checked = validateEvent(request.event, `events[${index}]`, defaults);
    if (checked.ok) chunk.push(checked.value);
    else rejected.push({ index, reason: describeFieldError(checked.error) });
    index += 1;
    if (chunk.length >= STREAM_CHUNK) {
      await flush();
      defaults = deps.defaults();
    }
  }
  await flush();
  await committing;
  return { accepted, rejected };
}

/** Removes an item from the catalog (tombstoned, ItemDeleted published); `deleted` is false when the catalog did not know it. */
export async function deleteItem(deps: IngestDependencies, itemId: string, timeoutMs: number): Promise<MessageInitShape<typeof DeleteItemResponseSchema>> {
  const problem = checkId(itemId, 'item_id');
  if (problem) throw invalidArgument(problem.field, problem.problem);
  return { deleted: await deps.commands.deleteItem(itemId, timeoutMs) };
}

/** Erases a user's events from the event store and publishes UserForgotten so projections erase theirs. */
export async function forgetUser(deps: IngestDependencies, userId: string, timeoutMs: number): Promise<MessageInitShape<typeof ForgetUserResponseSchema>> {
  const problem = checkId(userId, 'user_id');
  if (problem) throw invalidArgument(problem.field, problem.problem);
  return { eventsErased: BigInt(await deps.commands.forgetUser(userId, timeoutMs)) };
}

/** Upserts the valid items of a batch in one command and lists the refused ones with their index. */
export async function upsertItems(deps: IngestDependencies, items: readonly Item[], timeoutMs: number): Promise<MessageInitShape<typeof UpsertItemsResponseSchema>> {
  refuseOversized(items.length, 'items');
  const { valid, rejected } = splitBatch(items, 'items', validateItem);
  const upserted = valid.length > 0 ? await deps.commands.upsertItems(valid, timeoutMs) : 0;
  return { upserted, rejected };
}

/** Upserts the valid users of a batch in one command and lists the refused ones with their index. */
export async function upsertUsers(deps: IngestDependencies, users: readonly User[], timeoutMs: number): Promise<MessageInitShape<typeof UpsertUsersResponseSchema>> {
  refuseOversized(users.length, 'users');
  const { valid, rejected } = splitBatch(users, 'users', validateUser);
  const upserted = valid.length > 0 ? await deps.commands.upsertUsers(valid, timeoutMs) : 0;
  return { upserted, rejected };
}

function refuseOversized(count: number, field: string): void {
  const problem = checkBatchSize(count, field);
  if (problem) throw invalidArgument(problem.field, problem.problem);
}
