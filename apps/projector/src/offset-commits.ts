// The projector's Kafka offset commits. An offset says where a consumer of the group resumes, not what
// is applied (each slot's watermark in Redis says that, and makes a redelivered event change nothing),
// so it need not follow every chunk. One commit per chunk was a Kafka request, a write to
// __consumer_offsets and a wake-up of the projector each: at 1,000 events/s in 10-event batches
// (`bench ingest --rate 1000 --phases lag`) Kafka spent 146–169 µs of CPU per event and the projector
// 308–348, against 99–107 and 273–295 with a commit at most every second (docs/benchmarks.md). What a crash leaves
// uncommitted, at most an interval's events, is delivered again and counts once.
import { setTimeout as delay } from 'node:timers/promises';

/** A partition's next offset to read (the last applied + 1), as kafkajs commits it. */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** The offsets one commit will carry, and the callers waiting for it. */
interface Round {
  readonly offsets: Map<string, PartitionOffset>;
  readonly done: Promise<void>;
  readonly resolve: () => void;
}

function newRound(): Round {
  let resolve!: () => void;
  const done = new Promise<void>((settle) => (resolve = settle));
  return { offsets: new Map(), done, resolve };
}

/**
 * Commits each partition's latest applied offset: one commit in flight at a time, carrying every
 * partition's latest (kafkajs retries a commit, so an earlier one sent alongside a later one could
 * land after it), and at most one every `intervalMs` (0: as soon as the one before is done).
 * `commit` should not throw: a failed commit only means those events come again (the caller logs it).
 */
export class OffsetCommits {
  private collecting: Round | undefined;
  private running = false;
  private lastCommitAt = -Infinity;
  private atOnce = false;
  /** Ends the wait for the interval in progress, if any. */
  private waiting: AbortController | undefined;

  constructor(
    private readonly commit: (offsets: PartitionOffset[]) => Promise<void>,
    private readonly intervalMs: number,
    /** A monotonic clock in ms: a step of the wall clock must not stretch a wait. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Records that a partition's messages before `offset` are applied; resolves once the commit carrying
   * it is done (or dropped, see discardPending). A commit carries each partition's highest offset recorded
   * for it: chunks delivered again after a rejoin never take a partition's offset back.
   */
  after(offset: PartitionOffset): Promise<void> {
    const round = (this.collecting ??= newRound());
    const key = `${offset.topic}/${offset.partition}`;
    const recorded = round.offsets.get(key);
    if (recorded === undefined || BigInt(offset.offset) > BigInt(recorded.offset)) round.offsets.set(key, offset);
    if (!this.running) void this.run();
    return round.done;
  }

  /**
   * Drops the offsets not committed yet, answering their callers: the consumer joined its group again
   * (its partitions may be another member's now, and a commit held back until after the join would land
   * in the new generation and could move that member's committed offset back) or was replaced. What is
   * dropped is at most an interval of events, delivered again to whoever owns the partition, as no-ops.
   */
  discardPending(): void {
    const round = this.collecting;
    this.collecting = undefined;
    round?.resolve();
    this.waiting?.abort();
  }

  /** From now on, commits what is pending without waiting for the interval (the consumer is closing). */
  commitAtOnce(): void {
    this.atOnce = true;
    this.waiting?.abort();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.collecting) {
        await this.intervalPassed();
        const round = this.collecting;
        if (!round) break; // discarded while waiting
        this.collecting = undefined;
        this.lastCommitAt = this.now();
        try {
          await this.commit([...round.offsets.values()]);
        } catch {
          // Not committed: those events come again, and the watermarks make that change nothing.
        } finally {
          round.resolve();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async intervalPassed(): Promise<void> {
    const waitMs = this.lastCommitAt + this.intervalMs - this.now();
    if (waitMs <= 0 || this.atOnce) return;
    this.waiting = new AbortController();
    // Unreferenced: a wait never keeps the process alive (close() commits at once anyway). Aborted: it ends early.
    await delay(waitMs, undefined, { signal: this.waiting.signal, ref: false }).catch(() => undefined);
    this.waiting = undefined;
  }
}
