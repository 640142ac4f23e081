// The one Lua script that applies an event's operations exactly once, and the pure encoding of a
// plan into its KEYS and ARGV.
import { pack } from 'msgpackr';
import { EVENT_SCOPE_TAG, hashTagOf, logAddExp, luaScript, type LuaScript, type ProjectionKeys } from '@orrery/projections';
import type { EventPlan, Op, StreamPosition } from './plan';

/**
 * Applies a batch of events exactly once, in one atomic script, or nothing of it. KEYS[1] is the
 * slot's watermark hash: per source (a Kafka partition, `<topic>/<partition>`), the highest commit
 * sequence applied from it. A partition carries its events in increasing sequence and a resend copies
 * an event with its sequence, so an event at or below its source's watermark is a redelivery. The
 * caller sends, per source, the first and last sequence of the batch's events (increasing within the
 * batch, see encodeCall); if a watermark is at or past its first, nothing is written and the script
 * returns the pairs (source, watermark) it found, so the caller drops the events at or below them
 * and sends the rest again (mergeOperations over the remaining events). Otherwise the merged
 * operations run, each source's watermark moves to its last sequence, and the script returns an
 * empty array. Memory is two fields per partition and slot (the watermark and its chain field, below),
 * however many events are applied.
 *
 * Chaining (the live projector plans a chunk while Redis applies the one before it, see
 * apply-chunk.ts): ARGV[2] names the call (a token unique to it, or ''), and each source's chain field
 * (`chain:<source>`) is set to it with the watermark, so it names the last call that moved that
 * source. A call planned on what an earlier call was to leave sends, per source they share, that
 * call's token as `after`: when a chain field differs (the earlier call wrote nothing, or only part of
 * it after finding redeliveries, or failed), nothing is written and the script returns the status
 * BEHIND. ARGV[3] = the number of counter checks, then per check (index in KEYS of its hash, field,
 * value, '' for absent): the counts the plan's facts were read at (the catalog change count, the
 * forget count). When one differs (a catalog change or a forget applied since, by any projector),
 * nothing is written and the status is STALE.
 * The operation list's shape (codes, key indexes, counts, length) is checked before anything is
 * written because Redis does not roll a failing script back.
 *
 * The operations arrive merged per key (mergeOperations, in JavaScript: the script's own work is one
 * Redis command or two per key, not an interpretation of every event): log-space sums into a ZSET
 * (read with ZMSCORE, log-add-exp, one ZADD, one trim), the same on a trending ZSET for the members
 * not in its hidden set (SMISMEMBER), a HASH's counters, log-space sums and maxima (one HMGET, one
 * HSET), list pushes (one LPUSH, and LTRIM only past the cap), a bounded most-recent-first set (LREM per
 * value, stopping at its one earlier copy, one LPUSH, LTRIM past the cap), HyperLogLog adds (one PFADD), and the order-sensitive writes as they come.
 *
 * ARGV[1] = the operations, ARGV[2..] = the chain (above), then (source, first sequence, last
 * sequence, after) per source. The operations are one MessagePack array
 * (cmsgpack.unpack'ed by the script) holding, per operation, its code, index into KEYS and operands:
 *   Z key keep n member×n (logWeight member)×n      V key hiddenKey keep n member×n (logWeight member)×n
 *   H key n field×n mode×n (field value)×n, mode i (add) | l (log-add) | m (max)
 *   L key keep n value×n (pushed in order)   U key keep n value×n (each once, oldest first)
 *   P key n element×n     R key n (field value)×(n/2): the hash becomes exactly these fields
 *   A key member (SADD)   S key member (SREM)   X key member (ZREM)   D key (DEL)
 * A ZSET's members and a HASH's fields come twice: alone, the arguments of the read (ZMSCORE,
 * SMISMEMBER, HMGET), then in pairs that become the write's arguments (ZADD, HSET) where they lie,
 * each weight or value overwritten by the new score or text (a maximum not exceeded: by the text
 * read, so the field keeps it): the script builds no argument table per key (building tables and
 * calling functions are most of its own Lua work, besides the Redis commands it runs).
 * Numbers travel as MessagePack numbers (weights as float64), so neither side formats or parses them
 * as text, and a chunk's 100,000+ operands are one bulk string instead of as many command arguments
 * (which cost ioredis and Redis an object each). Numbers the script hands to Redis commands are
 * written with 17 significant digits (Redis' own conversion; Lua's tostring keeps 14), counters
 * as integers.
 */
/** The prefix of a source's chain field in a watermark hash (a source, `<topic>/<partition>`, holds no colon: Kafka topic names cannot). */
export const CHAIN_FIELD_PREFIX = 'chain:';

export const APPLY_SCRIPT: LuaScript = luaScript(`
local call, unpack, tonumber, KEYS, ARGV = redis.call, unpack, tonumber, KEYS, ARGV
local function invalid(what) return redis.error_reply('projection batch: ' .. what) end
local token, checks = ARGV[2], tonumber(ARGV[3])
if not checks or checks < 0 or checks % 1 ~= 0 then return invalid('no counter check count after the token') end
-- The first (source, first, last, after) quadruple.
local quadruples = 4 + 3 * checks
if #ARGV < quadruples + 3 or (#ARGV - quadruples + 1) % 4 ~= 0 then return invalid('no (source, first, last, after) quadruples after the operations and the chain') end
for at = 4, quadruples - 1, 3 do
  if not KEYS[tonumber(ARGV[at])] then return invalid('a counter check names no key') end
end
local sources, firsts, afters, chained = {}, {}, {}, false
for a = quadruples, #ARGV, 4 do
  local first, last = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  if not first or not last or first > last then return invalid('bad sequence range of source ' .. ARGV[a]) end
  sources[#sources + 1], firsts[#firsts + 1], afters[#afters + 1] = ARGV[a], first, ARGV[a + 3]
  if ARGV[a + 3] ~= '' then chained = true end
end
local decoded, ops = pcall(cmsgpack.unpack, ARGV[1])
if not decoded or type(ops) ~= 'table' then return invalid('the operations are not a MessagePack array') end
local size = #ops
-- What is wrong with the list's shape, or nil. A count that is not a number fails the arithmetic.
local function malformed()
  local i = 1
  while i <= size do
    local op = ops[i]
    if not KEYS[ops[i + 1]] then return 'op ' .. tostring(op) .. ' names no key' end
    if op == 'H' then i = i + 3 + 4 * ops[i + 2]
    elseif op == 'L' or op == 'U' then i = i + 4 + ops[i + 3]
    elseif op == 'Z' then i = i + 4 + 3 * ops[i + 3]
    elseif op == 'P' or op == 'R' then i = i + 3 + ops[i + 2]
    elseif op == 'V' then
      if not KEYS[ops[i + 2]] then return 'op V names no hidden key' end
      i = i + 5 + 3 * ops[i + 4]
    elseif op == 'A' or op == 'S' or op == 'X' then i = i + 3
    elseif op == 'D' then i = i + 2
    else return 'op ' .. tostring(op) .. ' is unknown' end
  end
  if i ~= size + 1 then return 'truncated operation list' end
end
local checked, problem = pcall(malformed)
if not checked then return invalid('an operation has no count') end
if problem then return invalid(problem) end

-- The watermarks, then (for a chained call) the chain fields, in one read. A call planned on what an
-- earlier call was to leave applies only after that call, in full: each source's chain field names
-- the last call that moved its watermark.
local fields = {unpack(sources)}
if chained then
  for n, source in ipairs(sources) do fields[#sources + n] = '${CHAIN_FIELD_PREFIX}' .. source end
end
local applied = call('HMGET', KEYS[1], unpack(fields))
if chained then
  for n = 1, #sources do
    if afters[n] ~= '' and applied[#sources + n] ~= afters[n] then return redis.status_reply('BEHIND') end
  end
end
local found, moved = {}, {}
for n, source in ipairs(sources) do
  local watermark = tonumber(applied[n])
  if watermark and watermark >= firsts[n] then
    found[#found + 1] = source
    found[#found + 1] = applied[n]
  end
  -- The last sequence as sent (text): a Lua number would keep only 14 digits.
  moved[#moved + 1] = source
  moved[#moved + 1] = ARGV[quadruples + 4 * n - 2]
  if token ~= '' then
    moved[#moved + 1] = '${CHAIN_FIELD_PREFIX}' .. source
    moved[#moved + 1] = token
  end
end
if #found > 0 then return found end
for at = 4, quadruples - 1, 3 do
  if (call('HGET', KEYS[tonumber(ARGV[at])], ARGV[at + 1]) or '') ~= ARGV[at + 2] then return redis.status_reply('STALE') end
end
call('HSET', KEYS[1], unpack(moved))

local log, exp, format = math.log, math.exp, string.format
local function lse(a, b)
  if a < b then a, b = b, a end
  return a + log(1 + exp(b - a))
end
-- log-add-exp the pairs (weight member) at scorePairs[p + 1 .. p + 2 * count] into the ZSET, their members
-- also at members[m + 1 .. m + count]: each weight becomes its member's score where it lies.
local function addScores(key, keep, count, members, m, scorePairs, p)
  if count == 0 then return end
  local old = call('ZMSCORE', key, unpack(members, m + 1, m + count))
  for n = 1, count do
    if old[n] then scorePairs[p + 2 * n - 1] = lse(tonumber(old[n]), scorePairs[p + 2 * n - 1]) end
  end
  if call('ZADD', key, unpack(scorePairs, p + 1, p + 2 * count)) > 0 then call('ZREMRANGEBYRANK', key, '0', -keep - 1) end
end

local i = 1
while i <= size do
  local op, key = ops[i], KEYS[ops[i + 1]]
  if op == 'H' then
    local count = ops[i + 2]
    local modes = i + 2 + count
    local p = modes + count
    local old = call('HMGET', key, unpack(ops, i + 3, modes))
    for n = 1, count do
      local mode, at = ops[modes + n], p + 2 * n
      local value, previous = ops[at], tonumber(old[n])
      if mode == 'i' then
        ops[at] = format('%d', (previous or 0) + value)
      elseif mode == 'l' then
        if previous then ops[at] = lse(previous, value) end
      elseif previous and not (value > previous) then
        ops[at] = old[n]
      end
    end
    call('HSET', key, unpack(ops, p + 1, p + 2 * count))
    i = p + 2 * count + 1
  elseif op == 'L' or op == 'U' then
    local keep, count = ops[i + 2], ops[i + 3]
    if op == 'U' then
      -- Each value is in the list at most once (only this op writes it): LREM stops at that one.
      for n = i + 4, i + 3 + count do call('LREM', key, '1', ops[n]) end
    end
    if call('LPUSH', key, unpack(ops, i + 4, i + 3 + count)) > keep then call('LTRIM', key, '0', keep - 1) end
    i = i + 4 + count
  elseif op == 'Z' then
    local count = ops[i + 3]
    addScores(key, ops[i + 2], count, ops, i + 3, ops, i + 3 + count)
    i = i + 4 + 3 * count
  elseif op == 'P' then
    local count = ops[i + 2]
    call('PFADD', key, unpack(ops, i + 3, i + 2 + count))
    i = i + 3 + count
  elseif op == 'V' then
    local keep, count = ops[i + 3], ops[i + 4]
    local m, p = i + 4, i + 4 + count
    if count > 0 then
      local flags = call('SMISMEMBER', KEYS[ops[i + 2]], unpack(ops, m + 1, m + count))
      local visible, scorePairs = {}, {}
      for n = 1, count do
        if flags[n] == 0 then
          visible[#visible + 1] = ops[m + n]
          scorePairs[#scorePairs + 1] = ops[p + 2 * n - 1]
          scorePairs[#scorePairs + 1] = ops[p + 2 * n]
        end
      end
      if #visible < count then addScores(key, keep, #visible, visible, 0, scorePairs, 0)
      else addScores(key, keep, count, ops, m, ops, p) end
    end
    i = i + 5 + 3 * count
  elseif op == 'R' then
    local count = ops[i + 2]
    call('DEL', key)
    if count > 0 then call('HSET', key, unpack(ops, i + 3, i + 2 + count)) end
    i = i + 3 + count
  elseif op == 'D' then
    call('DEL', key)
    i = i + 2
  else
    local command = op == 'A' and 'SADD' or op == 'S' and 'SREM' or 'ZREM'
    call(command, key, ops[i + 2])
    i = i + 3
  end
end
return {}
`);

/**
 * How an event's operations are grouped into scripts. `event`: one script for a whole batch, with one
 * watermark hash — atomic and the cheapest, but it touches several hash tags, so only for a standalone
 * Redis. `slot`: one script per hash tag, each with its slot's own watermarks — Redis Cluster-safe;
 * each part is exactly-once on its own, and a part left unapplied by a crash is applied on
 * redelivery (plans are deterministic, see coVisitPartners).
 */
export type ScriptScope = 'event' | 'slot';

/** One event's part of a script call: its position in the stream and its operations in the call's slot. */
export interface ScriptPart {
  /** Index (into the plans given to scriptCalls) of the event. */
  readonly index: number;
  readonly position: StreamPosition;
  readonly ops: readonly Op[];
}

/** How a script call is chained to the call before it (see APPLY_SCRIPT). */
export interface ScriptChain {
  /** Names the call: the chain field of every source it moves is set to it ('' sets none). */
  readonly token: string;
  /** The call this one was planned after: on the sources it moved, the call applies only if they still name it. */
  readonly after?: { readonly token: string; readonly sources: ReadonlySet<string> };
  /** Counts the plan's facts were read at (null: nothing counted yet), each checked in the script. */
  readonly counts?: readonly CounterCheck[];
}

/** A count (a field of a hash) a plan depends on: the call applies only if it is still `value`. */
export interface CounterCheck {
  readonly key: string;
  readonly field: string;
  readonly value: string | null;
}

/** One EVALSHA of APPLY_SCRIPT. */
export interface ScriptCall {
  /** The slot's watermark hash. */
  readonly watermarks: string;
  /** Every part the call is for, in order. */
  readonly parts: readonly ScriptPart[];
  /**
   * The parts the script applies (all or none): those above every earlier part of their source — a
   * part at or below one is a copy of an event within the batch (a relay resend).
   */
  readonly sent: readonly ScriptPart[];
  readonly keys: readonly string[];
  /** The MessagePack-encoded operations, the chain, then (source, first, last, after) per source (see APPLY_SCRIPT). */
  readonly args: readonly (string | Buffer)[];
}

/**
 * Encodes plans, in order, into the script calls that apply them: one call for `event` scope; one
 * per hash tag for `slot` (each carrying, in order, the part of every plan that falls in its slot).
 */
export function scriptCalls(plans: readonly EventPlan[], keys: ProjectionKeys, scope: ScriptScope, chain: ScriptChain = { token: '' }): ScriptCall[] {
  if (scope === 'event') {
    const parts = plans.map((plan, index) => ({ index, position: plan.position, ops: plan.ops }));
    return [encodeCall(keys.applied(EVENT_SCOPE_TAG), parts, chain)];
  }
  if (chain.after !== undefined || chain.counts !== undefined) throw new Error('only a call in event scope is chained to another');
  const byTag = new Map<string, ScriptPart[]>();
  plans.forEach((plan, index) => {
    const parts = new Map<string, Op[]>();
    for (const op of plan.ops) {
      const tag = hashTagOf(op.key);
      const part = parts.get(tag);
      if (part) part.push(op);
      else parts.set(tag, [op]);
    }
    for (const [tag, ops] of parts) {
      const events = byTag.get(tag) ?? [];
      events.push({ index, position: plan.position, ops });
      byTag.set(tag, events);
    }
  });
  return [...byTag.entries()].map(([tag, parts]) => encodeCall(keys.applied(tag), parts, chain));
}

/**
 * The call applying `parts` against the watermark hash `watermarks` (a part at or below an earlier
 * part of its source is left out): the watermark hash first in KEYS, then the keys of the parts'
 * operations, merged by mergeOperations.
 */
export function encodeCall(watermarks: string, parts: readonly ScriptPart[], chain: ScriptChain): ScriptCall {
  const ranges = new Map<string, { first: bigint; last: bigint }>();
  const sent = parts.filter(({ position: { source, sequence } }) => {
    const range = ranges.get(source);
    if (range === undefined) ranges.set(source, { first: sequence, last: sequence });
    else if (sequence > range.last) range.last = sequence;
    else return false;
    return true;
  });
  const keys = [watermarks];
  const indexOf = new Map([[watermarks, 1]]);
  const keyIndex = (key: string): number => {
    let index = indexOf.get(key);
    if (index === undefined) {
      keys.push(key);
      index = keys.length;
      indexOf.set(key, index);
    }
    return index;
  };
  const operands: (string | number)[] = [];
  for (const op of mergeOperations(sent.map((part) => part.ops))) {
    switch (op.kind) {
      case 'scores': {
        operands.push(op.hiddenKey === undefined ? 'Z' : 'V', keyIndex(op.key));
        if (op.hiddenKey !== undefined) operands.push(keyIndex(op.hiddenKey));
        operands.push(op.keep, op.logWeights.size);
        for (const member of op.logWeights.keys()) operands.push(member);
        for (const [member, logWeight] of op.logWeights) operands.push(logWeight, member);
        break;
      }
      case 'fields':
        operands.push('H', keyIndex(op.key), op.fields.size);
        for (const field of op.fields.keys()) operands.push(field);
        for (const { mode } of op.fields.values()) operands.push(mode);
        for (const [field, { value }] of op.fields) operands.push(field, value);
        break;
      case 'push':
        operands.push(op.unique ? 'U' : 'L', keyIndex(op.key), op.keep, op.values.length, ...op.values);
        break;
      case 'hll':
        operands.push('P', keyIndex(op.key), op.elements.size, ...op.elements);
        break;
      case 'hreplace':
        operands.push('R', keyIndex(op.key), op.fields.length * 2, ...op.fields.flat());
        break;
      case 'sadd':
      case 'srem':
      case 'zrem':
        operands.push(op.kind === 'sadd' ? 'A' : op.kind === 'srem' ? 'S' : 'X', keyIndex(op.key), op.member);
        break;
      case 'del':
        operands.push('D', keyIndex(op.key));
        break;
      default: {
        const unknown: never = op;
        throw new Error(`unknown merged projection op ${JSON.stringify(unknown)}`);
      }
    }
  }
  const counts = chain.counts ?? [];
  const args: (string | Buffer)[] = [pack(operands), chain.token, String(counts.length)];
  for (const { key, field, value } of counts) args.push(String(keyIndex(key)), field, value ?? '');
  const { after } = chain;
  for (const [source, { first, last }] of ranges) args.push(source, String(first), String(last), after?.sources.has(source) ? after.token : '');
  return { watermarks, parts, sent, keys, args };
}

/** A write of the merged form: one per key for the commutative updates, order-sensitive ones as they are. */
export type MergedOp =
  /** log-add-exp each member's weight into the ZSET (members in `hiddenKey` left out), then keep the `keep` highest. */
  | { readonly kind: 'scores'; readonly key: string; readonly hiddenKey: string | undefined; readonly keep: number; readonly logWeights: ReadonlyMap<string, number> }
  /** Per field: add (i), log-add-exp (l) or keep the maximum (m). */
  | { readonly kind: 'fields'; readonly key: string; readonly fields: ReadonlyMap<string, { readonly mode: 'i' | 'l' | 'm'; readonly value: number }> }
  /** LPUSH `values` in order and keep the newest `keep`; `unique`: each value once (oldest first here), moved to the head. */
  | { readonly kind: 'push'; readonly key: string; readonly unique: boolean; readonly keep: number; readonly values: readonly string[] }
  | { readonly kind: 'hll'; readonly key: string; readonly elements: ReadonlySet<string> }
  | Extract<Op, { kind: 'hreplace' | 'sadd' | 'srem' | 'zrem' | 'del' }>;

type Pending =
  | { kind: 'scores'; key: string; hiddenKey: string | undefined; keep: number; logWeights: Map<string, number> }
  | { kind: 'fields'; key: string; fields: Map<string, { mode: 'i' | 'l' | 'm'; value: number }> }
  | { kind: 'push'; key: string; unique: boolean; keep: number; values: string[] }
  | { kind: 'hll'; key: string; elements: Set<string> };

/**
 * Merges the operations of events (in order) into what applying them one after another does:
 * commutative updates (log-space sums, counters, maxima, HyperLogLog adds, list pushes) accumulate
 * per key and are written once per key, at the end; an order-sensitive operation (hreplace, del,
 * sadd, srem, zrem) first writes what is pending on its key, and a change of a hidden set first writes
 * the trending updates it filters, so every key sees its updates in event order. Caps are enforced
 * once per key per batch (a ZSET may exceed its cap by the members added in one batch until its trim).
 */
export function mergeOperations(opsOfEvents: readonly (readonly Op[])[]): MergedOp[] {
  const merged: MergedOp[] = [];
  const pending = new Map<string, Pending>();
  // Pending trending keys per hidden set that filters them.
  const filteredBy = new Map<string, Set<string>>();
  const flush = (key: string): void => {
    const entry = pending.get(key);
    if (!entry) return;
    pending.delete(key);
    if (entry.kind === 'scores' && entry.hiddenKey !== undefined) filteredBy.get(entry.hiddenKey)?.delete(key);
    if (entry.kind === 'push' && entry.unique) {
      // Each value once, at its latest position, oldest first (pushed last = newest at the head).
      const latest = [...new Set([...entry.values].reverse())].reverse();
      merged.push({ ...entry, values: latest });
    } else {
      merged.push(entry);
    }
  };
  const pendingOf = <K extends Pending['kind']>(key: string, kind: K, create: () => Extract<Pending, { kind: K }>): Extract<Pending, { kind: K }> => {
    const entry = pending.get(key);
    if (entry?.kind === kind) return entry as Extract<Pending, { kind: K }>;
    flush(key);
    const created = create();
    pending.set(key, created);
    return created;
  };
  const addScore = (key: string, hiddenKey: string | undefined, member: string, logWeight: number, keep: number): void => {
    let entry = pendingOf(key, 'scores', () => ({ kind: 'scores', key, hiddenKey, keep, logWeights: new Map() }));
    if (entry.hiddenKey !== hiddenKey) {
      flush(key);
      entry = pendingOf(key, 'scores', () => ({ kind: 'scores', key, hiddenKey, keep, logWeights: new Map() }));
    }
    if (hiddenKey !== undefined) {
      const filtered = filteredBy.get(hiddenKey) ?? new Set<string>();
      filtered.add(key);
      filteredBy.set(hiddenKey, filtered);
    }
    entry.keep = keep;
    const known = entry.logWeights.get(member);
    entry.logWeights.set(member, known === undefined ? logWeight : logAddExp(known, logWeight));
  };
  const setField = (key: string, field: string, mode: 'i' | 'l' | 'm', value: number): void => {
    const { fields } = pendingOf(key, 'fields', () => ({ kind: 'fields', key, fields: new Map() }));
    const known = fields.get(field);
    if (known === undefined || known.mode !== mode) fields.set(field, { mode, value });
    else fields.set(field, { mode, value: mode === 'i' ? known.value + value : mode === 'l' ? logAddExp(known.value, value) : Math.max(known.value, value) });
  };
  const push = (key: string, unique: boolean, value: string, keep: number): void => {
    let entry = pendingOf(key, 'push', () => ({ kind: 'push', key, unique, keep, values: [] }));
    if (entry.unique !== unique) {
      flush(key);
      entry = pendingOf(key, 'push', () => ({ kind: 'push', key, unique, keep, values: [] }));
    }
    entry.keep = keep;
    entry.values.push(value);
  };

  for (const ops of opsOfEvents) {
    for (const op of ops) {
      switch (op.kind) {
        case 'zlse':
          addScore(op.key, undefined, op.member, op.logWeight, op.keep);
          break;
        case 'zlseVisible':
          addScore(op.key, op.hiddenKey, op.member, op.logWeight, op.keep);
          break;
        case 'hlse':
          setField(op.key, op.field, 'l', op.logWeight);
          break;
        case 'hincrby':
          setField(op.key, op.field, 'i', op.by);
          break;
        case 'hmax':
          setField(op.key, op.field, 'm', op.value);
          break;
        case 'lpushTrim':
          push(op.key, false, op.value, op.keep);
          break;
        case 'lpushUniqueTrim':
          push(op.key, true, op.value, op.keep);
          break;
        case 'pfadd':
          pendingOf(op.key, 'hll', () => ({ kind: 'hll', key: op.key, elements: new Set() })).elements.add(op.element);
          break;
        case 'sadd':
        case 'srem':
          // The trending updates this hidden set filters are checked against it as it was before.
          for (const key of [...(filteredBy.get(op.key) ?? [])]) flush(key);
          flush(op.key);
          merged.push(op);
          break;
        case 'hreplace':
        case 'zrem':
        case 'del':
          flush(op.key);
          merged.push(op);
          break;
        default: {
          const unknown: never = op;
          throw new Error(`unknown projection op ${JSON.stringify(unknown)}`);
        }
      }
    }
  }
  for (const key of [...pending.keys()]) flush(key);
  return merged;
}
