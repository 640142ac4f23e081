// The one Lua script that applies an event's operations exactly once, and the pure encoding of a
// plan into its KEYS and ARGV.
import { hashTagOf, luaScript, type LuaScript, type ProjectionKeys } from '@orrery/projections';
import type { EventPlan, Op } from './plan';

/**
 * Applies a batch of events' operations, each event exactly once, in one atomic script. For each
 * event, its applied-marker is SET NX with a TTL; if it existed (a redelivery) the event's operations
 * are skipped. Operations are validated before anything is written because Redis does not roll a
 * failing script back.
 *
 * Commutative updates are merged across the batch before they touch Redis, which is what makes a
 * batch cheap: log-space sums on one ZSET member or hash field (zlse, hlse: log-add-exp, see
 * libs/projections/src/decay.ts), counters (hincrby), maxima (hmax), HyperLogLog adds and pushes
 * onto one list are accumulated per key and written once per key at the end (ZMSCORE + one ZADD +
 * one trim per ZSET). An order-sensitive operation (hreplace, del, sadd, srem, zrem) first writes
 * what is pending on its key, so every key sees its operations in batch order; zlse_visible checks
 * the hidden set when it is met (sadd/srem of that set are immediate). Caps are enforced once per
 * key per batch (a ZSET may exceed its cap by the members added in one batch until its trim at the end).
 * Scores are written with 17 significant digits (Lua's default number-to-string keeps 14).
 *
 * ARGV[1] = marker TTL in seconds, ARGV[2] = number of events; then per event: index of its marker in
 * KEYS, number of ARGV entries of its operations, then per operation: name, index into KEYS,
 * argument count, arguments. Returns one 1 (applied) or 0 (duplicate) per event.
 */
export const APPLY_SCRIPT: LuaScript = luaScript(`
local known = { zlse = true, zlse_visible = true, hlse = true, hincrby = true, hmax = true, hreplace = true,
  lpush_trim = true, lpush_unique_trim = true, pfadd = true, sadd = true, srem = true, zrem = true, del = true }
local function invalid(what) return redis.error_reply('projection batch: ' .. what) end
local i = 3
for e = 1, tonumber(ARGV[2]) do
  if not KEYS[tonumber(ARGV[i])] then return invalid('event ' .. e .. ' names no marker key') end
  local stop = i + 2 + tonumber(ARGV[i + 1])
  local j = i + 2
  while j < stop do
    if not known[ARGV[j]] or not KEYS[tonumber(ARGV[j + 1])] then
      return invalid('op ' .. tostring(ARGV[j]) .. ' is unknown or names no key')
    end
    j = j + 3 + tonumber(ARGV[j + 2])
  end
  if j ~= stop then return invalid('event ' .. e .. ' has a malformed op list') end
  i = stop
end
if i ~= #ARGV + 1 then return invalid('trailing arguments') end

local function num(x) return string.format('%.17g', x) end
local function lse(a, b)
  if a < b then a, b = b, a end
  return a + math.log(1 + math.exp(b - a))
end

-- Pending merged writes per key, and the order keys were first met in.
local pending, order = {}, {}
local function entry(key, kind)
  local p = pending[key]
  if not p then
    p = { kind = kind, names = {}, values = {}, kinds = {}, list = {} }
    pending[key] = p
    order[#order + 1] = key
  end
  return p
end
local function flush(key)
  local p = pending[key]
  if not p then return end
  pending[key] = nil
  if p.kind == 'z' then
    local old = redis.call('ZMSCORE', key, unpack(p.names))
    local args = {}
    for n, member in ipairs(p.names) do
      local w = p.values[member]
      if old[n] then w = lse(tonumber(old[n]), w) end
      args[#args + 1] = num(w)
      args[#args + 1] = member
    end
    if redis.call('ZADD', key, unpack(args)) > 0 then redis.call('ZREMRANGEBYRANK', key, 0, -p.keep - 1) end
  elseif p.kind == 'h' then
    local reads, sets = {}, {}
    for _, field in ipairs(p.names) do
      if p.kinds[field] == 'incr' then
        redis.call('HINCRBY', key, field, p.values[field])
      else
        reads[#reads + 1] = field
      end
    end
    if #reads > 0 then
      local old = redis.call('HMGET', key, unpack(reads))
      for n, field in ipairs(reads) do
        local value, previous = p.values[field], tonumber(old[n])
        if p.kinds[field] == 'lse' then
          if previous then value = lse(previous, value) end
          sets[#sets + 1] = field
          sets[#sets + 1] = num(value)
        elseif not previous or value > previous then
          sets[#sets + 1] = field
          sets[#sets + 1] = p.raw[field]
        end
      end
      if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
    end
  elseif p.kind == 'l' then
    redis.call('LPUSH', key, unpack(p.list))
    redis.call('LTRIM', key, 0, p.keep - 1)
  elseif p.kind == 'u' then
    -- Each value once, at its latest position: remove it wherever it is, push oldest first.
    local seen, latest = {}, {}
    for n = #p.list, 1, -1 do
      local value = p.list[n]
      if not seen[value] then
        seen[value] = true
        latest[#latest + 1] = value
      end
    end
    local push = {}
    for n = #latest, 1, -1 do
      redis.call('LREM', key, 0, latest[n])
      push[#push + 1] = latest[n]
    end
    redis.call('LPUSH', key, unpack(push))
    redis.call('LTRIM', key, 0, p.keep - 1)
  elseif p.kind == 'p' then
    redis.call('PFADD', key, unpack(p.list))
  end
end
local function addZ(key, member, weight, keep)
  local p = entry(key, 'z')
  p.keep = keep
  local old = p.values[member]
  if old then
    p.values[member] = lse(old, weight)
  else
    p.names[#p.names + 1] = member
    p.values[member] = weight
  end
end
local function addH(key, field, kind, value, raw)
  local p = entry(key, 'h')
  p.raw = p.raw or {}
  local old = p.values[field]
  if old == nil then
    p.names[#p.names + 1] = field
    p.kinds[field] = kind
    p.values[field] = value
    p.raw[field] = raw
  elseif kind == 'incr' then
    p.values[field] = old + value
  elseif kind == 'lse' then
    p.values[field] = lse(old, value)
  elseif value > old then
    p.values[field] = value
    p.raw[field] = raw
  end
end

local results = {}
i = 3
for e = 1, tonumber(ARGV[2]) do
  local stop = i + 2 + tonumber(ARGV[i + 1])
  if redis.call('SET', KEYS[tonumber(ARGV[i])], '1', 'NX', 'EX', ARGV[1]) then
    results[e] = 1
    local j = i + 2
    while j < stop do
      local op, key, a, n = ARGV[j], KEYS[tonumber(ARGV[j + 1])], j + 3, tonumber(ARGV[j + 2])
      if op == 'zlse' then
        addZ(key, ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]))
      elseif op == 'zlse_visible' then
        if redis.call('SISMEMBER', KEYS[tonumber(ARGV[a])], ARGV[a + 1]) == 0 then
          addZ(key, ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]))
        end
      elseif op == 'hlse' then
        addH(key, ARGV[a], 'lse', tonumber(ARGV[a + 1]), nil)
      elseif op == 'hincrby' then
        addH(key, ARGV[a], 'incr', tonumber(ARGV[a + 1]), nil)
      elseif op == 'hmax' then
        addH(key, ARGV[a], 'max', tonumber(ARGV[a + 1]), ARGV[a + 1])
      elseif op == 'lpush_trim' then
        local p = entry(key, 'l')
        p.keep = tonumber(ARGV[a + 1])
        p.list[#p.list + 1] = ARGV[a]
      elseif op == 'lpush_unique_trim' then
        local p = entry(key, 'u')
        p.keep = tonumber(ARGV[a + 1])
        p.list[#p.list + 1] = ARGV[a]
      elseif op == 'pfadd' then
        local p = entry(key, 'p')
        p.list[#p.list + 1] = ARGV[a]
      else
        flush(key)
        if op == 'hreplace' then
          redis.call('DEL', key)
          if n > 0 then redis.call('HSET', key, unpack(ARGV, a, a + n - 1)) end
        elseif op == 'sadd' then
          redis.call('SADD', key, ARGV[a])
        elseif op == 'srem' then
          redis.call('SREM', key, ARGV[a])
        elseif op == 'zrem' then
          redis.call('ZREM', key, ARGV[a])
        elseif op == 'del' then
          redis.call('DEL', key)
        end
      end
      j = a + n
    end
  else
    results[e] = 0
  end
  i = stop
end
for _, key in ipairs(order) do flush(key) end
return results
`);

/**
 * How an event's operations are grouped into scripts. `event`: one script, one marker — atomic and
 * the cheapest, but it touches several hash tags, so only for a standalone Redis. `slot`: one script
 * per hash tag, each with its own marker of the event in that slot — Redis Cluster-safe; each part
 * is exactly-once on its own, and a part left unapplied by a crash is applied on redelivery
 * (plans are deterministic, see coVisitPartners).
 */
export type ScriptScope = 'event' | 'slot';

/** One EVALSHA of APPLY_SCRIPT. */
export interface ScriptCall {
  readonly keys: readonly string[];
  readonly args: readonly string[];
  /** Indices (into the plans given to scriptCalls) of the events this call carries, in its result order. */
  readonly events: readonly number[];
}

/**
 * Encodes plans, in order, into the script calls that apply them: one call for `event` scope; one
 * per hash tag for `slot` (each carrying, in order, the part of every plan that falls in its slot).
 */
export function scriptCalls(plans: readonly EventPlan[], keys: ProjectionKeys, scope: ScriptScope, appliedTtlSeconds: number): ScriptCall[] {
  if (scope === 'event') {
    return [encodeCall(plans.map((plan, index) => ({ index, markerKey: keys.applied(plan.homeTag, plan.appliedId), ops: plan.ops })), appliedTtlSeconds)];
  }
  const byTag = new Map<string, { index: number; markerKey: string; ops: Op[] }[]>();
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
      events.push({ index, markerKey: keys.applied(tag, plan.appliedId), ops });
      byTag.set(tag, events);
    }
  });
  return [...byTag.values()].map((events) => encodeCall(events, appliedTtlSeconds));
}

function encodeCall(events: readonly { readonly index: number; readonly markerKey: string; readonly ops: readonly Op[] }[], ttlSeconds: number): ScriptCall {
  const keys: string[] = [];
  const indexOf = new Map<string, number>();
  const keyIndex = (key: string): string => {
    let index = indexOf.get(key);
    if (index === undefined) {
      keys.push(key);
      index = keys.length;
      indexOf.set(key, index);
    }
    return String(index);
  };
  const args: string[] = [String(ttlSeconds), String(events.length)];
  for (const event of events) {
    const header = args.length;
    args.push(keyIndex(event.markerKey), '0');
    encodeOps(event.ops, args, keyIndex);
    args[header + 1] = String(args.length - header - 2);
  }
  return { keys, args, events: events.map((event) => event.index) };
}

function encodeOps(ops: readonly Op[], args: string[], keyIndex: (key: string) => string): void {
  const emit = (name: string, key: string, operands: readonly string[]): void => {
    args.push(name, keyIndex(key), String(operands.length), ...operands);
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'zlse':
        emit('zlse', op.key, [op.member, String(op.logWeight), String(op.keep)]);
        break;
      case 'zlseVisible':
        emit('zlse_visible', op.key, [keyIndex(op.hiddenKey), op.member, String(op.logWeight), String(op.keep)]);
        break;
      case 'hlse':
        emit('hlse', op.key, [op.field, String(op.logWeight)]);
        break;
      case 'hincrby':
        emit('hincrby', op.key, [op.field, String(op.by)]);
        break;
      case 'hmax':
        emit('hmax', op.key, [op.field, String(op.value)]);
        break;
      case 'hreplace':
        emit('hreplace', op.key, op.fields.flat());
        break;
      case 'lpushTrim':
        emit('lpush_trim', op.key, [op.value, String(op.keep)]);
        break;
      case 'lpushUniqueTrim':
        emit('lpush_unique_trim', op.key, [op.value, String(op.keep)]);
        break;
      case 'pfadd':
        emit('pfadd', op.key, [op.element]);
        break;
      case 'sadd':
      case 'srem':
      case 'zrem':
        emit(op.kind, op.key, [op.member]);
        break;
      case 'del':
        emit('del', op.key, []);
        break;
      default: {
        const unknown: never = op;
        throw new Error(`unknown projection op ${JSON.stringify(unknown)}`);
      }
    }
  }
}
