// What one projector chunk costs, step by step (prints figures; not a test): the snapshot read, the
// plan, and the apply (merge, encode, script), in CPU µs per event of this process and of the Redis
// server (INFO cpu), with the recent-list heads (recent-heads.ts) and catalog facts (catalog-facts.ts) kept in memory and without,
// interleaved, after `--history` interactions a user. Synthetic interactions of 10,000 users over 2,000 items, in a Redis prefix of its own
// (removed at the end). Nothing else should use Redis meanwhile: its CPU is read for the whole server.
// With --by-kind, then the apply script's Redis time by operation kind (sorted sets, hashes, lists…).
// Run: npm run build && node apps/projector/dist/bench-chunk.js [--chunk 1400] [--rounds 60] [--history 30] [--by-kind]
//      (engines: bash infra/local/stack.sh up; eval "$(bash infra/local/stack.sh env)")
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { integerOption, parseOptions, readCommandLine, readConfig } from '@orrery/config';
import { controlKeys, coVisitLookBack, createRedis, luaScript, projectionKeys, runScript, unlinkKeys, type LuaScript } from '@orrery/projections';
import { DomainEventSchema, EventType, type DomainEvent } from '@orrery/proto';
import { APPLY_SCRIPT, scriptCalls } from './apply-script';
import { costSnapshot } from './bench-cost';
import { planBatch, type IncomingEvent } from './plan';
import { RecentHeads } from './recent-heads';
import { redisProjectionStore } from './store';

const USERS = 10_000;
const ITEMS = 2_000;
const STEPS = ['snapshot', 'plan', 'apply'] as const;
type Step = (typeof STEPS)[number];

const USAGE = 'usage: node apps/projector/dist/bench-chunk.js [--chunk 1400] [--rounds 60] [--history 30] [--by-kind]';

function options(argv: readonly string[]): { chunk: number; rounds: number; history: number; byKind: boolean } {
  const { values } = parseOptions({
    args: [...argv],
    options: { chunk: { type: 'string', default: '1400' }, rounds: { type: 'string', default: '60' }, history: { type: 'string', default: '30' }, 'by-kind': { type: 'boolean', default: false } },
  });
  return { chunk: integerOption('chunk', values.chunk, 1), rounds: integerOption('rounds', values.rounds, 1), history: integerOption('history', values.history, 1), byKind: values['by-kind'] };
}

/** The apply script's operation codes (apply-script.ts) by what they write, and how far each operation reaches. */
const SCRIPT_KINDS = [
  ["op == 'Z'", 'sorted sets (co-visits, affinity)', 'i = i + 4 + 3 * ops[i + 3]'],
  ["op == 'H'", 'hashes (stats, popularity)', 'i = i + 3 + 4 * ops[i + 2]'],
  ["(op == 'L' or op == 'U')", 'recent and seen lists', 'i = i + 4 + ops[i + 3]'],
  ["op == 'V'", 'trending rankings', 'i = i + 5 + 3 * ops[i + 4]'],
  ["op == 'P'", 'HyperLogLogs', 'i = i + 3 + ops[i + 2]'],
].map(([test, name, next]) => [{ test: test!, next: next! }, name!] as const);

/** APPLY_SCRIPT, but the operations `kind` names are stepped over without a Redis call. */
function scriptSkipping(kind: { readonly test: string; readonly next: string }): LuaScript {
  const dispatch = "  local op, key = ops[i], KEYS[ops[i + 1]]\n  if op == 'H' then";
  if (!APPLY_SCRIPT.source.includes(dispatch)) throw new Error("bench-chunk: the apply script's operation dispatch changed; update scriptSkipping");
  return luaScript(APPLY_SCRIPT.source.replace(dispatch, `  local op, key = ops[i], KEYS[ops[i + 1]]\n  if ${kind.test} then ${kind.next}\n  elseif op == 'H' then`));
}

async function main(): Promise<void> {
  const commandLine = readCommandLine(process.argv.slice(2), USAGE, options);
  if ('exitCode' in commandLine) return void (process.exitCode = commandLine.exitCode);
  const { chunk, rounds, history, byKind } = commandLine.options;
  const config = readConfig();
  const redis = createRedis(config, 'bench-chunk');
  const base = `orrery-bench-chunk-${process.pid}`;
  const control = controlKeys(base);
  const depth = coVisitLookBack(config.projection.coVisitPartners, config.projection.recentLimit);
  let sequence = 0n;
  let state = 7;
  const random = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const types = [EventType.VIEW, EventType.VIEW, EventType.VIEW, EventType.CLICK, EventType.PURCHASE];
  const incoming = (event: DomainEvent): IncomingEvent => ({ event, source: 'bench/0', messageTimestampMs: Date.now() });
  const interactions = (count: number): IncomingEvent[] =>
    Array.from({ length: count }, () =>
      incoming(
        create(DomainEventSchema, {
          sequence: ++sequence,
          committedAt: timestampFromMs(Date.now()),
          payload: {
            case: 'interaction',
            value: { eventId: randomUUID(), userId: `user-${Math.floor(random() * USERS)}`, itemId: `item-${Math.floor(random() ** 2 * ITEMS)}`, type: types[Math.floor(random() * types.length)]!, occurredAt: timestampFromMs(Date.now() - 60_000) },
          },
        }),
      ),
    );
  const cost = new Map<string, Record<Step, { node: number; redis: number }>>();
  const measure = async <T>(variant: string, step: Step, work: () => Promise<T> | T): Promise<T> => {
    const before = await costSnapshot(redis);
    const result = await work();
    const after = await costSnapshot(redis);
    const totals = cost.get(variant) ?? { snapshot: { node: 0, redis: 0 }, plan: { node: 0, redis: 0 }, apply: { node: 0, redis: 0 } };
    totals[step].node += (after.processCpuMs - before.processCpuMs) * 1000;
    totals[step].redis += (after.redisCpuMs - before.redisCpuMs) * 1000;
    cost.set(variant, totals);
    return result;
  };
  // Each variant writes a projection of its own: the heads one keeps must be what it applied.
  const variant = (name: string, version: number, kept: boolean) => {
    const keys = projectionKeys(`${base}:v${version}`);
    const heads = kept ? new RecentHeads(USERS, depth) : undefined;
    return { name, keys, store: redisProjectionStore(redis, keys, control, config.projection, 'event', kept ? ITEMS : 0), heads };
  };
  const variants = [variant('read from Redis', 1, false), variant('kept in memory', 2, true)];
  try {
    const catalog = Array.from({ length: ITEMS }, (_, index) =>
      incoming(create(DomainEventSchema, { sequence: ++sequence, committedAt: timestampFromMs(Date.now()), payload: { case: 'itemUpserted', value: { itemId: `item-${index}`, categories: [`c${index % 20}`] } } })),
    );
    const applyChunk = async (events: IncomingEvent[], { name, keys, store, heads }: (typeof variants)[number], measured: boolean): Promise<void> => {
      const step = <T>(step: Step, work: () => Promise<T> | T): Promise<T> => (measured ? measure(name, step, work) : Promise.resolve(work()));
      const generation = heads?.generation ?? 0;
      const snapshot = await step('snapshot', () => store.readSnapshot(events, heads));
      const planned = await step('plan', () => planBatch(events, snapshot, keys, control, config.projection));
      await step('apply', () => store.applyAll(planned.outcomes.flatMap((outcome) => (outcome.kind === 'plan' ? [outcome.plan] : []))));
      heads?.remember(planned.recent, generation);
    };
    // The same events go to both: the catalog, then `history` interactions a user on average (a
    // projection in use: its recent lists as deep as the snapshot reads), then the measured chunks.
    // In turn first and second: the garbage one variant leaves is collected while the next one runs.
    let turn = 0;
    const both = async (events: IncomingEvent[], measured: boolean): Promise<void> => {
      turn += 1;
      for (const each of turn % 2 === 0 ? variants : [...variants].reverse()) await applyChunk(events, each, measured);
    };
    for (let first = 0; first < ITEMS; first += 500) await both(catalog.slice(first, first + 500), false);
    for (let applied = 0; applied < history * USERS; applied += 2_000) {
      await both(interactions(2_000), false);
      process.stderr.write(`\rhistory: ${applied + 2_000}/${history * USERS} events`);
    }
    process.stderr.write('\n');
    for (let round = 0; round < rounds; round += 1) {
      await both(interactions(chunk), true);
      if ((round + 1) % 10 === 0) process.stderr.write(`\rmeasured: ${round + 1}/${rounds} rounds`);
    }
    process.stderr.write('\n');
    const events = chunk * rounds;
    process.stdout.write(`CPU µs per event, chunks of ${chunk} interactions, ${rounds} of each variant, interleaved (each first in every other round) (${USERS} users, ${ITEMS} items)\n`);
    process.stdout.write(`| step | ${variants.map(({ name }) => `${name}: projector | Redis`).join(' | ')} |\n| --- |${' --- | --- |'.repeat(variants.length)}\n`);
    for (const step of STEPS) {
      const cells = variants.map(({ name }) => {
        const spent = cost.get(name)![step];
        return `${(spent.node / events).toFixed(1)} | ${(spent.redis / events).toFixed(1)}`;
      });
      process.stdout.write(`| ${step} | ${cells.join(' | ')} |\n`);
    }
    if (byKind) {
      // The apply script's Redis time by operation kind: the same projection, chunks applied by
      // variants of the script that skip one kind's writes (their keys fall behind by those chunks).
      const { keys, store } = variants[0]!;
      const kindVariants = [['all', APPLY_SCRIPT], ...SCRIPT_KINDS.map(([kind, name]) => [name, scriptSkipping(kind)] as const)] as const;
      const spent = new Map<string, number>();
      for (let round = 0; round < rounds; round += 1) {
        for (const [name, script] of kindVariants) {
          const chunkEvents = interactions(chunk);
          const plans = planBatch(chunkEvents, await store.readSnapshot(chunkEvents), keys, control, config.projection).outcomes.flatMap((outcome) => (outcome.kind === 'plan' ? [outcome.plan] : []));
          const [call] = scriptCalls(plans, keys, 'event');
          const before = await costSnapshot(redis);
          const found = await runScript(redis, script, call!.keys, call!.args);
          spent.set(name, (spent.get(name) ?? 0) + ((await costSnapshot(redis)).redisCpuMs - before.redisCpuMs) / 1000);
          if (Array.isArray(found) && found.length > 0) throw new Error(`the ${name} variant found its chunk applied already`);
        }
        if ((round + 1) % 10 === 0) process.stderr.write(`\rby kind: ${round + 1}/${rounds} rounds`);
      }
      process.stderr.write('\n');
      const all = spent.get('all')!;
      process.stdout.write(`\nThe apply script's Redis CPU µs per event by operation kind (all, and what skipping each kind's writes saves; ${rounds} chunks of ${chunk} each)\n| writes | µs per event |\n| --- | --- |\n`);
      process.stdout.write(`| all | ${((all * 1e6) / events).toFixed(1)} |\n`);
      for (const [, name] of SCRIPT_KINDS) process.stdout.write(`| ${name} | ${(((all - spent.get(name)!) * 1e6) / events).toFixed(1)} |\n`);
    }
  } finally {
    await unlinkKeys(redis, `${base}*`);
    await redis.quit();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
