import type { MessageInitShape } from '@bufbuild/protobuf';
import { invalidArgument } from '@orrery/grpc';
import type {
  Event,
  Item,
  TrackBatchResponseSchema,
  TrackResponseSchema,
  UpsertItemsResponseSchema,
  UpsertUsersResponseSchema,
  User,
} from '@orrery/proto';
import type { CommandGateway } from './command-gateway';
import { checkBatchSize, splitBatch, validateEvent, validateItem, validateUser, type Defaults } from './validation';

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

/** Stores the valid events of a batch in one command and lists the refused ones with their index. */
export async function trackBatch(deps: IngestDependencies, events: readonly Event[], timeoutMs: number): Promise<MessageInitShape<typeof TrackBatchResponseSchema>> {
  refuseOversized(events.length, 'events');
  const defaults = deps.defaults();
  const { valid, rejected } = splitBatch(events, 'events', (event, path) => validateEvent(event, path, defaults));
  if (valid.length > 0) await deps.commands.appendEvents(valid, timeoutMs);
  return { accepted: valid.length, rejected };
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
