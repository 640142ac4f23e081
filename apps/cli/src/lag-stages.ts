// Where the write side's lag goes, read back from Jaeger: for each event of a traced batch, the time
// from the command's reply (committed) to the relay's Kafka send, the send itself, from Kafka to the
// projector's apply, and the apply. The services' own spans say it; nothing is added to them.
import { describeLatencies, percentiles, type Percentiles } from '@orrery/metrics';
import type { JaegerSpan } from './jaeger';

/** What lagStages reads of a span. */
export type TimedSpan = Pick<JaegerSpan, 'service' | 'operationName' | 'startMs' | 'endMs' | 'tags'>;

/** The stages of one event's way from commit to applied, in ms (see lagStages). */
export interface EventStages {
  /** The command's reply (its append committed) → the start of the relay's Kafka send holding the event. */
  readonly toRelaySend: number;
  /** The relay's Kafka send (until the broker acknowledged it). */
  readonly kafkaSend: number;
  /** Kafka acknowledged → the projector's apply of the event began: fetch, waiting for earlier chunks, snapshot read, plan. */
  readonly toApply: number;
  /** The projector's apply (the Redis script and what follows it for the chunk). */
  readonly apply: number;
  /** The command's reply → the apply ended. */
  readonly total: number;
}

export const STAGE_NAMES: Readonly<Record<keyof EventStages, string>> = {
  toRelaySend: 'commit → relay sends',
  kafkaSend: 'Kafka send',
  toApply: 'Kafka → projector applies (fetch, queue, snapshot, plan)',
  apply: 'apply',
  total: 'commit → applied',
};

const COMMAND_SPAN = 'command serve';
const PUBLISH_SPAN = / publish$/;
const APPLY_SPAN = 'projector apply';

const sequenceOf = (span: TimedSpan, tag: string): bigint | undefined => {
  const value = span.tags[tag];
  return typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : undefined;
};

/**
 * How many events an apply span saw applied: a span covers the events of one publish span that one
 * script call applied (`messaging.batch.message_count`, one when absent), less the redelivered ones
 * (`orrery.projector.duplicates`, or all when its outcome is `duplicate`); none when the call was
 * refused and the events planned again (`replanned`: a later span applies them).
 */
function appliedEventsOf(apply: TimedSpan): number {
  const outcome = apply.tags['orrery.projector.outcome'];
  if (outcome === 'duplicate' || outcome === 'replanned') return 0;
  const count = Number(apply.tags['messaging.batch.message_count'] ?? 1);
  const duplicates = Number(apply.tags['orrery.projector.duplicates'] ?? 0);
  return Number.isInteger(count) && Number.isInteger(duplicates) ? Math.max(0, count - duplicates) : 0;
}

/**
 * The stages of every applied event of one traced batch's trace. The relay starts one publish span per
 * command and send, tagged with the first sequence of that command in it (`orrery.sequence`); the events
 * of an apply span (its first sequence, `orrery.event.sequence`) went out in the publish span with the
 * highest such sequence at or below it, and each of them counts once (appliedEventsOf). Events without a command span (their batch was merged into another's command)
 * or without a publish span at or below them give no stages.
 */
export function lagStages(spans: readonly TimedSpan[]): EventStages[] {
  const command = spans.find((span) => span.service === 'command' && span.operationName === COMMAND_SPAN);
  if (!command) return [];
  const publishes = spans
    .filter((span) => span.service === 'command' && PUBLISH_SPAN.test(span.operationName))
    .map((span) => ({ span, first: sequenceOf(span, 'orrery.sequence') }))
    .filter((entry): entry is { span: TimedSpan; first: bigint } => entry.first !== undefined)
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const stages: EventStages[] = [];
  for (const apply of spans) {
    if (apply.service !== 'projector' || apply.operationName !== APPLY_SPAN) continue;
    const sequence = sequenceOf(apply, 'orrery.event.sequence');
    const publish = sequence === undefined ? undefined : publishes.filter(({ first }) => first <= sequence).at(-1)?.span;
    if (!publish) continue;
    const stage = {
      toRelaySend: publish.startMs - command.endMs,
      kafkaSend: publish.endMs - publish.startMs,
      toApply: apply.startMs - publish.endMs,
      apply: apply.endMs - apply.startMs,
      total: apply.endMs - command.endMs,
    };
    for (let event = appliedEventsOf(apply); event > 0; event--) stages.push(stage);
  }
  return stages;
}

/** Percentiles of each stage over the events of every trace. */
export function stagePercentiles(stages: readonly EventStages[]): Record<keyof EventStages, Percentiles> {
  const of = (stage: keyof EventStages): Percentiles => percentiles(stages.map((event) => event[stage]));
  return { toRelaySend: of('toRelaySend'), kafkaSend: of('kafkaSend'), toApply: of('toApply'), apply: of('apply'), total: of('total') };
}

/** One line per stage: `  name: p50 … ms | p90 … | p99 … | max … ms (n=…)` (describeLatencies: ≤max where too few events for a percentile). */
export function formatStages(stages: readonly EventStages[]): string[] {
  const summary = stagePercentiles(stages);
  return (Object.keys(STAGE_NAMES) as (keyof EventStages)[]).map((stage) => `  ${STAGE_NAMES[stage]}: ${describeLatencies(summary[stage], ['p50', 'p90', 'p99'], 1)}`);
}
