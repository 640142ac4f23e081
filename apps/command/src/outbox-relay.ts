import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import type { Kafka, Message, Producer } from 'kafkajs';
import { retryAfterFailure, type BackoffPolicy, type RetryAfterFailure } from '@orrery/config';
import { ensureTopic, historyDeletingSettings, keepWholeHistoryCommand, partitionAsGiven } from '@orrery/kafka';
import { allocateAbove, OUTBOX_CHANNEL, readRelayPosition, readUnpublished, takeUnpublished, tryBecomeOutboxRelay, underCommitOrderLock, type OutboxRow } from '@orrery/store';
import { context, contextFromTraceparent, currentTraceparent, recordError, SpanKind, trace, tracer, type Logger, type Span } from '@orrery/telemetry';
import { highestSequence, readPublishedTails, SEQUENCE_HEADER, tailsOfThisStore, type PublishedTails } from './published-tails';
import { moveReusedSequences } from './reused-sequences';
import { Wakeup } from './wakeup';

export interface OutboxRelayOptions {
  readonly postgresUrl: string;
  readonly kafka: Kafka;
  readonly topic: string;
  readonly partitions: number;
  /** Rows per Kafka send. */
  readonly batchSize: number;
  /** Fallback poll when no NOTIFY arrives (lost notification, another writer without the trigger…). */
  readonly pollIntervalMs: number;
  /**
   * After a drain that sent facts, how long to wait at most before the next one, in ms (see
   * lingerAfter: a drain of FULL_LINGER_FACTS or more waits all of it, a smaller one in proportion).
   * Facts committed meanwhile go out together: fewer statements, Kafka requests and projector chunks
   * per fact under load, at the price of up to this much latency; a fact after a quiet spell is sent
   * at once.
   */
  readonly lingerMs: number;
  readonly logger: Logger;
}

/** A drain of this many facts or more (a busy stream) is followed by the whole linger. */
export const FULL_LINGER_FACTS = 50;

/**
 * How long the relay waits after a drain that sent `facts`: `maxLingerMs` in proportion to the facts,
 * all of it from FULL_LINGER_FACTS on. Waiting pays only when facts arrive fast enough to fill the
 * next drain (each drain costs its statements, a Kafka request and a projector chunk whatever its
 * size); in a trickle the wait would only add latency. At 5,000 events/s in 50-event commits a 25 ms
 * linger took the pipeline's CPU from 320–345 to 294–338 µs per event (the command 84–97 → 66–84);
 * with it proportional, a fact every 10 ms waits 0.5 ms behind the one before, not 25.
 */
export function lingerAfter(facts: number, maxLingerMs: number): number {
  return facts <= 0 ? 0 : Math.min(maxLingerMs, (maxLingerMs * facts) / FULL_LINGER_FACTS);
}

/**
 * How long the relay waits, after a drain whose last send is not recorded yet, before a drain that
 * records it when no commit wakes it first (so an idle relay's position and outbox catch up at once).
 */
const RECORD_WHEN_IDLE_MS = 50;

/** How far a relay session has sent facts to Kafka, and how far it has recorded that in relay_position. */
interface Sent {
  readonly through: string;
  readonly recorded: string;
}

export interface OutboxRelay {
  /** Publishes what is committed, then stops and releases the relay lock, producer and connection. */
  stop(): Promise<void>;
}

/**
 * Starts publishing the outbox to Kafka in sequence order. Only one relay publishes at a time
 * (session advisory lock); the others wait as standbys.
 *
 * It publishes the facts after its durable position (relay_position), interactions straight from
 * the event store and catalog facts from the outbox, merged in sequence order. No gap is ever
 * skipped: writers hold the commit-order lock until they have committed, so no row can appear
 * below the position later (libs/store locks.ts).
 *
 * Each message carries its sequence (header orrery-sequence). A session first reads the sequence each
 * partition ends with: the store hands out no sequence at or below the highest of them (allocateAbove:
 * a store restored from a backup would reuse the sequences of commits it lost), facts committed since
 * such a loss that took a lost commit's sequence get new ones after it (moveReusedSequences), and facts still
 * unpublished that are there already (sent by a session whose acknowledgement was lost: relay killed,
 * broker crashed) are skipped. Delivery stays at-least-once (a resend inside one producer session can
 * still copy a fact, with its sequence); consumers take a fact at or below the highest sequence they
 * applied from its partition for a copy.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { logger } = options;
  const wakeup = new Wakeup();
  let stopping = false;

  const session = async (): Promise<void> => {
    const client = new Client({ connectionString: options.postgresUrl, application_name: 'orrery-outbox-relay' });
    // A lost connection surfaces as a failed query in the loop below; without a listener it would crash the process.
    client.on('error', (error) => logger.warn({ err: error }, 'outbox relay: postgres connection failed'));
    let producer: Producer | undefined;
    try {
      await client.connect();
      // Everything the relay reads is a few rows after a sequence, which the primary keys serve. Until
      // Postgres has analyzed a young or fast-growing event store, it estimates "sequence > $1" at a
      // third of the table and scans all of it, every drain (measured: 9,000-row scans, ~1.4 ms a drain,
      // in the first minute of a new store at 1,000 events/s, growing with the table). Without JIT: the
      // cost that steers the planner away from seq scans (on the one-row relay_position too) would
      // otherwise cross the JIT thresholds, and compiling took ~200 ms a query. The relay's own writes
      // (its position, published outbox rows) need not wait for the WAL flush: a crash that loses
      // them only makes the next session send those facts again, and it skips what is on Kafka.
      await client.query('SET enable_seqscan = off; SET jit = off; SET synchronous_commit = off');
      while (!(await tryBecomeOutboxRelay(client))) {
        if (stopping) return;
        await wakeup.wait(options.pollIntervalMs);
      }
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      client.on('notification', () => wakeup.signal());
      await ensureTopic(options.kafka, options.topic, options.partitions);
      // Reported, not altered: how long a shared cluster keeps data is the operator's decision (disk
      // budget, ACLs the relay should not need), and altering it would not bring back what is gone.
      const deleting = await historyDeletingSettings(options.kafka, options.topic);
      if (deleting.length > 0) {
        const settings = deleting.map(({ name, value }) => `${name}=${value}`).join(', ');
        logger.warn(
          { topic: options.topic, settings: deleting, fix: keepWholeHistoryCommand(options.topic) },
          `outbox relay: the events topic deletes history (${settings}); a rebuild or a new consumer group would replay only what is left — make it keep everything: ${keepWholeHistoryCommand(options.topic)}`,
        );
      }
      // Every message carries its partition (tails.partitionOf, as kafkajs' default partitioner would place it).
      producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: partitionAsGiven });
      await producer.connect();
      // What each partition ends with: no new fact may take a sequence Kafka holds, and facts waiting
      // at start may be on Kafka already (a previous session's send whose ack was lost), to be
      // skipped instead of published twice.
      const published = await readPublishedTails(options.kafka, options.topic);
      if (published.partitions !== options.partitions) {
        logger.warn(
          { topic: options.topic, partitions: published.partitions, configured: options.partitions },
          `outbox relay: the events topic has ${published.partitions} partitions and ORRERY_EVENTS_TOPIC_PARTITIONS asks for ${options.partitions}; the topic is used as it is (the setting applies when the relay creates it). Changing the partition count of a topic in use moves users to other partitions, so a user's events from before and after the change could be projected out of order`,
        );
      }
      const highest = highestSequence([...published.last.values()].map((tail) => tail.sequence));
      const position = await readRelayPosition(client);
      const factAt = async (sequence: bigint): Promise<Buffer | undefined> => {
        const [fact] = await readUnpublished(client, String(sequence - 1n), 1);
        return fact && BigInt(fact.sequence) === sequence ? fact.payload : undefined;
      };
      // Under the commit-order lock, so that no fact commits between the check and the fix.
      const { allocated, tails, foreign, moved } = await underCommitOrderLock(client, async () => {
        const allocated = await allocateAbove(client, highest);
        const { tails, foreign } = await tailsOfThisStore(published, BigInt(position), factAt);
        const moved = foreign.length > 0 ? await moveReusedSequences(client, options.kafka, options.topic, published, foreign, BigInt(position)) : new Map<bigint, bigint>();
        return { allocated, tails, foreign, moved };
      });
      if (allocated !== undefined) {
        logger.warn(
          { topic: options.topic, allocated: String(allocated), published: String(highest) },
          `outbox relay: the event store had handed out sequences through ${allocated} while Kafka holds facts up to ${highest} (store restored or failed over?); new facts now take sequences above ${highest}`,
        );
      }
      if (foreign.length > 0) {
        logger.warn({ topic: options.topic, partitions: foreign }, 'outbox relay: a partition ends with a fact this event store does not hold at that sequence (store restored or failed over?); publishing its backlog again');
      }
      if (moved.size > 0) {
        const [first, last] = [[...moved.keys()][0]!, [...moved.keys()].at(-1)!];
        logger.warn(
          { topic: options.topic, facts: moved.size, from: String(first), to: String(last), now: `${moved.get(first)}..${moved.get(last)}` },
          `outbox relay: ${moved.size} unpublished facts had taken sequences of lost commits that Kafka holds (${first}..${last}); they now follow them, from ${moved.get(first)}`,
        );
      }
      logger.info({ topic: options.topic, partitionsWithTail: tails.last.size }, 'outbox relay: publishing');
      // This session alone moves the position (it holds the relay lock), so it is read once.
      let sent: Sent = { through: position, recorded: position };
      for (;;) {
        const drained = await drain(client, producer, tails, sent);
        sent = drained.sent;
        if (stopping) {
          if (sent.recorded !== sent.through) await takeUnpublished(client, sent.through, sent.through, 0);
          return;
        }
        const lingerMs = lingerAfter(drained.facts, options.lingerMs);
        if (lingerMs > 0) await delay(lingerMs);
        // A send not recorded yet is recorded by the next drain's first statement: the next commit's
        // notification brings it under load; when none comes, a drain after RECORD_WHEN_IDLE_MS does.
        await wakeup.wait(sent.recorded === sent.through ? options.pollIntervalMs : Math.min(options.pollIntervalMs, RECORD_WHEN_IDLE_MS));
      }
    } finally {
      await producer?.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'outbox relay: producer disconnect failed'));
      // Closing the session releases the relay lock.
      await client.end().catch(() => undefined);
    }
  };

  // Pipelined: while batch N is being sent to Kafka, one statement records batch N-1 as published
  // (moves the position, deletes its outbox rows) and reads batch N+1 (the facts after N). Sends
  // stay sequential, so each key's facts reach Kafka in sequence order. A drain's last send is
  // recorded by the first statement of the next drain, and a read shorter than a batch took every fact
  // committed at that moment, so it is sent without reading on: under a steady trickle each drain is
  // one statement and one Kafka send (it was three statements). A crash before a send is recorded
  // costs nothing: the next session skips the facts the partitions' tails show on Kafka already.
  /** Publishes every fact committed after `sent.through`; returns how far it sent and recorded, and how many facts it read. */
  const drain = async (client: Client, producer: Producer, tails: PublishedTails, sent: Sent): Promise<{ sent: Sent; facts: number }> => {
    let { through: published, recorded } = sent;
    let next = recorded === published ? await readUnpublished(client, published, options.batchSize) : await takeUnpublished(client, published, published, options.batchSize);
    recorded = published;
    let facts = 0;
    while (next.length > 0) {
      facts += next.length;
      const sending = next.at(-1)!.sequence;
      if (next.length < options.batchSize) {
        await publish(producer, tails, next);
        published = sending;
        break;
      }
      const [send, read] = await Promise.allSettled([publish(producer, tails, next), takeUnpublished(client, published, sending, options.batchSize)]);
      if (send.status === 'rejected') throw send.reason;
      if (read.status === 'rejected') throw read.reason;
      recorded = published;
      published = sending;
      next = read.value;
    }
    return { sent: { through: published, recorded }, facts };
  };

  const publish = async (producer: Producer, tails: PublishedTails, rows: readonly OutboxRow[]): Promise<void> => {
    // One producer span per command that stored rows of this send (rows of a command share its
    // traceparent), child of that command, so each event's trace runs ingestion → command → relay →
    // consumers; the span's traceparent goes into the header of each of its messages. Per command
    // rather than per event: spans are most of the relay's cost per event otherwise.
    const spans = new Map<string, { span: Span; header: string; count: number }>();
    const message = (row: OutboxRow, partition: number): Message => {
      let producerSpan = spans.get(row.traceparent);
      if (!producerSpan) {
        const parent = contextFromTraceparent(row.traceparent);
        const span = tracer().startSpan(
          `${options.topic} publish`,
          { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': options.topic, 'orrery.sequence': row.sequence } },
          parent,
        );
        producerSpan = { span, header: context.with(trace.setSpan(parent, span), currentTraceparent), count: 0 };
        spans.set(row.traceparent, producerSpan);
      }
      producerSpan.count += 1;
      return {
        key: row.key,
        value: row.payload,
        partition,
        headers: producerSpan.header ? { traceparent: producerSpan.header, [SEQUENCE_HEADER]: row.sequence } : { [SEQUENCE_HEADER]: row.sequence },
      };
    };
    const messages: Message[] = [];
    for (const row of rows) {
      const partition = tails.partitionOf(row.key);
      const sequence = BigInt(row.sequence);
      if (sequence <= (tails.last.get(partition)?.sequence ?? -1n)) continue; // on Kafka already
      messages.push(message(row, partition));
    }
    if (messages.length === 0) return;
    for (const { span, count } of spans.values()) span.setAttribute('messaging.batch.message_count', count);
    try {
      await producer.send({ topic: options.topic, messages, acks: -1 });
    } catch (error) {
      for (const { span } of spans.values()) recordError(span, error);
      throw error;
    } finally {
      for (const { span } of spans.values()) span.end();
    }
  };

  // From twice the poll interval, doubling up to 32 times it and never over 30 s; from twice the poll
  // interval again once a session ran that long without failing (a session ends only on a failure or a stop).
  const failureBackoff: BackoffPolicy = { initialMs: 2 * options.pollIntervalMs, maxMs: Math.min(30_000, 32 * options.pollIntervalMs) };
  const running = (async () => {
    // The pause after the last failed session (none yet: undefined).
    let retry: RetryAfterFailure | undefined;
    while (!stopping) {
      try {
        await session();
      } catch (error) {
        if (stopping) {
          logger.warn({ err: error }, 'outbox relay: stopped before the outbox was empty; the rows stay for the next relay');
          break;
        }
        retry = retryAfterFailure(retry, Date.now(), failureBackoff);
        logger.error({ err: error, failures: retry.failures, retryInMs: retry.pauseMs }, 'outbox relay: failed; retrying');
        await wakeup.wait(retry.pauseMs);
      }
    }
  })();

  return {
    stop: async () => {
      stopping = true;
      wakeup.signal();
      await running;
    },
  };
}
