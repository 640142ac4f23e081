// Applies a chunk of Kafka messages to one projection version: decode, read what the plans depend
// on (one round trip), plan (pure), run every plan's exactly-once script (one pipelined round trip,
// in order). Used by the live consumer (one partition's chunk) and by the rebuild's ordered replay
// (messages of every partition merged in commit order).
import { randomBytes } from 'node:crypto';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { KafkaMessage } from 'kafkajs';
import type { OrreryConfig } from '@orrery/config';
import { decodeDomainEvent } from '@orrery/kafka';
import type { DomainEvent } from '@orrery/proto';
import { projectedEvents, projectionFreshness, projectorChainedChunks, projectorChunkEvents } from '@orrery/metrics';
import { watermarkSource, type ControlKeys, type ProjectionKeys } from '@orrery/projections';
import { context as contexts, contextFromKafkaHeaders, mayBeRecorded, SpanKind, traceparentOfKafkaHeaders, withSpan, type Attributes, type Context, type Logger, type SpanOptions } from '@orrery/telemetry';
import type { Freshness } from './freshness';
import { planBatch, type EventPlan, type IncomingEvent, type PlannedBatch, type PlannedEvent } from './plan';
import type { RecentHeads } from './recent-heads';
import type { ApplyOutcome, ProjectionStore } from './store';

/** A message with where it came from. */
export interface PartitionMessage {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

/** What the apply step writes to its span (a no-op when untraced). */
interface AttributeSink {
  setAttribute(key: string, value: string | number): unknown;
}

/** Options of chunkProjector. */
export interface ChunkProjectorOptions {
  /**
   * Consumer spans continuing the events' traces (default true; a replay turns it off): one per
   * producer span (the relay's, per command and send) whose events a call applies.
   */
  readonly traced?: boolean;
  /** The recent-list heads this projector applied (the live consumer's; see recent-heads.ts), kept up to date here. */
  readonly heads?: RecentHeads;
}

/** A chunk handed to the projector. */
export interface ChunkHandle {
  /** Settles (never rejects) once the chunk's script calls are on their way to Redis, or it will send none: the next chunk may start. */
  readonly sent: Promise<void>;
  /** Settles once the chunk is applied, and every chunk handed in before it; rejects when it or one of those failed. */
  readonly done: Promise<void>;
}

/** What a chunk leaves for the chunk handed in after it. */
interface ChunkInFlight {
  readonly sent: Promise<void>;
  readonly done: Promise<void>;
  settled: boolean;
  /** Why it failed: every chunk after it is refused with this (set before it is settled). */
  failure?: { readonly error: unknown };
  /**
   * Set when the chunk's plans went to Redis in one call named `token` (interactions only): the next
   * chunk may be planned on the lists it leaves and chained to that call, before it is applied.
   */
  base?: ChunkBase;
}

/** A call a chunk sent, and the lists its plan leaves once that call is applied in full. */
interface ChunkBase {
  readonly token: string;
  /** The sources (partitions) of its events. */
  readonly sources: ReadonlySet<string>;
  readonly lists: PlannedBatch['recent'];
  /** The heads' generation its plan started from: after a forgetting, nothing is planned on its lists. */
  readonly generation: number;
}

/** The recent lists a chunk leaves (as RecentHeads.remember takes them) and the heads' generation before its snapshot. */
interface ListsLeft {
  readonly lists: PlannedBatch['recent'];
  readonly generation: number;
}

/**
 * A function applying chunks of messages (in the order given) to the projection `keys` names. A chunk
 * handed in while the one before is still being applied waits until that one's script is sent; then,
 * if both hold only interactions and everything its plan depends on is in memory (the recent lists
 * the chunk before leaves, the heads kept, the catalog facts held), it is planned and sent at once,
 * chained to the call before it (apply-script.ts): so the projector plans while Redis applies. When the
 * script refuses it (that call was not applied in full, a catalog change came between, a redelivery),
 * it is planned again from a snapshot read once the chunk before is applied. Otherwise it waits for
 * that and is applied as usual. A chunk is done only after the chunk before it, and fails when that
 * one failed; once a chunk has failed, every chunk handed in after it is refused (make a new
 * chunkProjector to go on: the live consumer has one per consumer session, see service.ts).
 */
export function chunkProjector(
  store: ProjectionStore,
  keys: ProjectionKeys,
  control: ControlKeys,
  config: OrreryConfig,
  logger: Logger,
  recorders: readonly Freshness[],
  options: ChunkProjectorOptions = {},
): (entries: readonly PartitionMessage[]) => ChunkHandle {
  const { traced = true, heads } = options;
  const untraced: AttributeSink = { setAttribute: () => undefined };
  // A group whose trace was not sampled (recorded false) gets no span at all: not even its attributes are built.
  const apply = <T>(parent: Context, recorded: boolean, spanOptions: () => SpanOptions, work: (span: AttributeSink) => Promise<T>): Promise<T> =>
    recorded ? withSpan('projector apply', { ...spanOptions(), parent }, work) : work(untraced);
  // Script calls are named `<instance>.<n>`: unique to this projector's calls, and across its restarts.
  const instance = randomBytes(6).toString('hex');
  let callsNamed = 0;
  const nextToken = (): string => `${instance}.${(callsNamed += 1)}`;
  let latest: ChunkInFlight | undefined;

  type Incoming = { readonly topic: string; readonly partition: number; readonly message: KafkaMessage; readonly event: IncomingEvent };
  const decode = (entries: readonly PartitionMessage[]): Incoming[] => {
    const incoming: Incoming[] = [];
    for (const { topic, partition, message } of entries) {
      if (!message.value) {
        logger.warn({ topic, partition, offset: message.offset }, 'empty message skipped');
        continue;
      }
      try {
        incoming.push({ topic, partition, message, event: { event: decodeDomainEvent(message.value), source: watermarkSource(topic, partition), messageTimestampMs: Number(message.timestamp) } });
      } catch (error) {
        // A message that cannot be decoded never will be: skipping it beats blocking the partition.
        logger.error({ topic, partition, offset: message.offset, err: error }, 'undecodable domain event skipped');
      }
    }
    return incoming;
  };

  type Planned = { readonly index: number; readonly plan: EventPlan; readonly occurredMs: number | undefined };
  /** Positions (in a call's plans) of events that continue one producer span, and the context they continue. */
  type TraceGroup = { readonly parent: Context; readonly recorded: boolean; readonly positions: number[] };

  /**
   * The call's events grouped by the producer span they continue (their `traceparent` header: the
   * relay gives the events of one command in one send one span), each group to get one consumer span,
   * the first group one whose trace is recorded. Untraced (a replay), all of them make one group that
   * is not recorded, and no header is read.
   */
  const traceGroups = (incoming: readonly Incoming[], entries: readonly Planned[]): TraceGroup[] => {
    const positions = entries.map((_, position) => position);
    if (!traced) return [{ parent: contexts.active(), recorded: false, positions }];
    const byTraceparent = new Map<string, number[]>();
    for (const position of positions) {
      const traceparent = traceparentOfKafkaHeaders(incoming[entries[position]!.index]!.message.headers);
      const group = byTraceparent.get(traceparent);
      if (group) group.push(position);
      else byTraceparent.set(traceparent, [position]);
    }
    const groups = [...byTraceparent.values()].map((group): TraceGroup => {
      const parent = contextFromKafkaHeaders(incoming[entries[group[0]!]!.index]!.message.headers);
      return { parent, recorded: mayBeRecorded(parent), positions: group };
    });
    const firstRecorded = groups.findIndex((group) => group.recorded);
    if (firstRecorded > 0) groups.unshift(...groups.splice(firstRecorded, 1));
    return groups;
  };

  /**
   * A group's span attributes: where its events came from (the partition and first offset only when
   * they share a partition: a rebuild's chunks merge partitions), their lowest and highest sequence,
   * and what they all share.
   */
  const groupAttributes = (incoming: readonly Incoming[], entries: readonly Planned[], positions: readonly number[]): Attributes => {
    const first = incoming[entries[positions[0]!]!.index]!;
    let kind: string = first.event.event.payload.case ?? 'none';
    let lowest = first.event.event.sequence;
    let highest = lowest;
    let onePartition = true;
    const shared = { userId: undefined as string | undefined, itemId: undefined as string | undefined };
    for (const [n, position] of positions.entries()) {
      const { topic, partition, event } = incoming[entries[position]!.index]!;
      const { payload, sequence } = event.event;
      if ((payload.case ?? 'none') !== kind) kind = 'mixed';
      if (sequence < lowest) lowest = sequence;
      if (sequence > highest) highest = sequence;
      if (topic !== first.topic || partition !== first.partition) onePartition = false;
      const interaction = payload.case === 'interaction' ? payload.value : undefined;
      // What every event so far shares: the first event's value, until one differs.
      shared.userId = n === 0 || interaction?.userId === shared.userId ? interaction?.userId : undefined;
      shared.itemId = n === 0 || interaction?.itemId === shared.itemId ? interaction?.itemId : undefined;
    }
    const { userId, itemId } = shared;
    return {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': first.topic,
      ...(onePartition ? { 'messaging.destination.partition.id': String(first.partition), 'messaging.kafka.offset': first.message.offset } : {}),
      'messaging.batch.message_count': positions.length,
      'orrery.event.sequence': lowest.toString(),
      'orrery.event.last_sequence': highest.toString(),
      'orrery.event.kind': kind,
      'orrery.projector.batch_size': entries.length,
      ...(userId !== undefined ? { 'orrery.user_id': userId } : {}),
      ...(itemId !== undefined ? { 'orrery.item_id': itemId } : {}),
    };
  };

  /**
   * Counts what was applied and records its freshness, and gives each group of `entries` that
   * continue one producer span (traceGroups) one span, covering the batch they were applied in.
   * Sends the batch (before this returns) from inside the span of the first group: one whose trace is
   * recorded when any is, so that its Redis call joins it. Resolves to false when the batch was refused (a chained
   * call: nothing written).
   */
  const record = (
    incoming: readonly Incoming[],
    entries: readonly Planned[],
    unapplied: Set<DomainEvent>,
    send: () => Promise<readonly ApplyOutcome[] | undefined>,
  ): Promise<boolean> => {
    let sent: Promise<readonly ApplyOutcome[] | undefined> | undefined;
    // Sent synchronously (the order of scripts is the order of chunks); a throw becomes the batch's failure.
    const sendNow = (): Promise<readonly ApplyOutcome[] | undefined> => {
      try {
        return send();
      } catch (error) {
        return Promise.reject(error);
      }
    };
    const outcomesOf = (): Promise<readonly ApplyOutcome[] | undefined> => (sent ??= sendNow());
    const spans = Promise.all(
      traceGroups(incoming, entries).map(({ parent, recorded, positions }) =>
        apply(
          parent,
          recorded,
          () => ({ kind: SpanKind.CONSUMER, attributes: groupAttributes(incoming, entries, positions) }),
          async (span) => {
            const outcomes = await outcomesOf();
            if (outcomes === undefined) {
              span.setAttribute('orrery.projector.outcome', 'replanned');
              return;
            }
            const counts = new Map<ApplyOutcome, number>();
            const now = Date.now();
            let largestLagMs: number | undefined;
            for (const position of positions) {
              const result = outcomes[position]!;
              const { occurredMs } = entries[position]!;
              const { event } = incoming[entries[position]!.index]!.event;
              counts.set(result, (counts.get(result) ?? 0) + 1);
              if (result !== 'applied') unapplied.add(event);
              if (result === 'duplicate') continue;
              const committedMs = event.committedAt ? timestampMs(event.committedAt) : undefined;
              for (const recorder of recorders) recorder.record(now, occurredMs, committedMs);
              if (occurredMs !== undefined) projectionFreshness.observe({ from: 'occurred' }, Math.max(0, now - occurredMs) / 1000);
              if (committedMs === undefined) continue;
              projectionFreshness.observe({ from: 'committed' }, Math.max(0, now - committedMs) / 1000);
              largestLagMs = Math.max(largestLagMs ?? -Infinity, now - committedMs);
            }
            for (const [outcome, count] of counts) projectedEvents.inc({ outcome }, count);
            span.setAttribute('orrery.projector.outcome', counts.size === 1 ? [...counts.keys()][0]! : 'mixed');
            span.setAttribute('orrery.projector.duplicates', counts.get('duplicate') ?? 0);
            if (largestLagMs !== undefined) span.setAttribute('orrery.projector.lag_from_commit_ms', largestLagMs);
          },
        ),
      ),
    );
    void outcomesOf();
    return spans.then(() => outcomesOf()).then((outcomes) => outcomes !== undefined);
  };

  /** Logs and counts the skipped events; the plans, in order. */
  const plansOf = (incoming: readonly Incoming[], outcomes: readonly PlannedEvent[]): Planned[] => {
    const plans: Planned[] = [];
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.kind === 'skip') {
        const { topic, partition, message } = incoming[index]!;
        logger[outcome.routine ? 'debug' : 'warn']({ topic, partition, offset: message.offset, reason: outcome.reason }, 'domain event skipped');
        projectedEvents.inc({ outcome: 'skipped' });
        continue;
      }
      plans.push({ index, plan: outcome.plan, occurredMs: outcome.occurredMs });
    }
    return plans;
  };

  /**
   * The lists a chunk leaves as Redis holds them: a redelivered event is planned against the
   * snapshot, which may differ from what it was planned against the first time (a deleted item added
   * again since), so the user of an event not applied in full is read from Redis next time.
   */
  const listsLeft = (recent: PlannedBatch['recent'], unapplied: ReadonlySet<DomainEvent>): PlannedBatch['recent'] => {
    if (unapplied.size === 0) return recent;
    const lists = new Map(recent);
    for (const event of unapplied) {
      if (event.payload.case === 'interaction' || event.payload.case === 'userForgotten') lists.set(event.payload.value.userId, undefined);
    }
    return lists;
  };

  /**
   * Plans the chunk on what is in memory and sends it chained to the call `before` left. Resolves to
   * the lists it leaves, or undefined when it could not be planned so or the script refused it.
   */
  const applyChained = async (incoming: readonly Incoming[], before: ChunkBase, chunk: ChunkInFlight, heads: RecentHeads, sent: () => void): Promise<ListsLeft | undefined> => {
    const generation = heads.generation;
    // The heads were forgotten since the chunk before was planned: its lists may predate what forgot them.
    if (before.generation !== generation) return undefined;
    const events = incoming.map((entry) => entry.event);
    const memory = store.snapshotInMemory(events, (userId) => (before.lists.has(userId) ? before.lists.get(userId) : heads.get(userId)));
    if (memory === undefined) return undefined;
    const { outcomes, recent } = planBatch(events, memory.snapshot, keys, control, config.projection);
    const plans = plansOf(incoming, outcomes);
    const token = nextToken();
    chunk.base = { token, sources: new Set(plans.map(({ plan }) => plan.position.source)), lists: recent, generation };
    const unapplied = new Set<DomainEvent>();
    const applying = record(incoming, plans, unapplied, () =>
      store.applyAfter(
        plans.map(({ plan }) => plan),
        { token, after: before, counts: memory.counts },
      ),
    );
    sent();
    if (await applying) return { lists: listsLeft(recent, unapplied), generation };
    chunk.base = undefined;
    projectorChainedChunks.inc({ outcome: 'replanned' });
    return undefined;
  };

  /** Reads the snapshot, plans and applies the chunk; resolves to the lists it leaves. `sent` is called once its last script is sent. */
  const applyRead = async (incoming: readonly Incoming[], chunk: ChunkInFlight, sent: () => void): Promise<ListsLeft> => {
    const generation = heads?.generation ?? 0;
    const events = incoming.map((entry) => entry.event);
    const snapshot = await store.readSnapshot(events, heads);
    const planned = planBatch(events, snapshot, keys, control, config.projection);
    const { outcomes } = planned;
    // A user with a tombstone is read from Redis again every time (with it): a plan from memory would
    // not know to skip their events before it (store.snapshotInMemory).
    const recent = new Map(planned.recent);
    for (const userId of snapshot.forgotten.keys()) if (recent.has(userId)) recent.set(userId, undefined);
    const plans = plansOf(incoming, outcomes);
    // Events whose plan the watermarks dropped, in whole or in part (a redelivery).
    const unapplied = new Set<DomainEvent>();
    // Consecutive plans go to Redis together (store.applyAll: one script per slot, commutative
    // updates merged); a plan that deletes watermarks (a forgotten user) is applied alone, after the
    // plans before it and before those after it.
    const interactionsOnly = events.every(({ event }) => event.payload.case === 'interaction');
    let run: Planned[] = [];
    const flushRun = async (last: boolean): Promise<void> => {
      if (run.length === 0) return;
      const entries = run;
      run = [];
      const token = nextToken();
      if (last && interactionsOnly) chunk.base = { token, sources: new Set(entries.map(({ plan }) => plan.position.source)), lists: recent, generation };
      const applying = record(incoming, entries, unapplied, () => store.applyAll(entries.map((entry) => entry.plan), token));
      if (last) sent();
      await applying;
    };
    for (const entry of plans) {
      if (!entry.plan.deletesWatermarks) {
        run.push(entry);
        continue;
      }
      await flushRun(false);
      run = [entry];
      await flushRun(false);
    }
    await flushRun(true);
    return { lists: listsLeft(recent, unapplied), generation };
  };

  return (entries) => {
    const previous = latest;
    const before = previous !== undefined && !previous.settled ? previous : undefined;
    let markSent!: () => void;
    const sent = new Promise<void>((resolve) => (markSent = resolve));
    let finish!: { resolve(): void; reject(error: unknown): void };
    const done = new Promise<void>((resolve, reject) => (finish = { resolve, reject }));
    const chunk: ChunkInFlight = { sent, done, settled: false };
    const run = async (): Promise<void> => {
      try {
        // A chunk after a failed one may hold later events of its partitions: applying it would move
        // their watermarks past events never applied.
        if (previous?.failure) throw previous.failure.error;
        const incoming = decode(entries);
        // Scripts go to Redis in the order their chunks were handed in.
        if (before) await before.sent;
        let left: ListsLeft | undefined;
        if (incoming.length > 0) {
          projectorChunkEvents.observe(incoming.length);
          const base = before?.settled === false ? before.base : undefined;
          left = heads && base ? await applyChained(incoming, base, chunk, heads, markSent) : undefined;
          if (left) projectorChainedChunks.inc({ outcome: 'applied' });
          else {
            if (before) await before.done;
            left = await applyRead(incoming, chunk, markSent);
          }
        }
        // The chunk before may still be finishing: this one is done after it, and what it leaves is remembered after.
        if (before) await before.done;
        if (left) heads?.remember(left.lists, left.generation);
      } catch (error) {
        // What Redis holds of a failed chunk is unknown: every head is read again.
        heads?.forgetAll();
        chunk.failure = { error };
        throw error;
      } finally {
        markSent();
        chunk.settled = true;
      }
    };
    latest = chunk;
    run().then(finish.resolve, finish.reject);
    return { sent, done };
  };
}
