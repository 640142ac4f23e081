// The one Lua script that applies an event's operations exactly once, and the pure encoding of a
// plan into its KEYS and ARGV.
import { hashTagOf, luaScript, type LuaScript, type ProjectionKeys } from '@orrery/projections';
import type { EventPlan, Op } from './plan';

/**
 * KEYS[1] is the event's applied-marker. If it exists the event was applied before (a redelivery)
 * and nothing changes; otherwise it is set with a TTL and every operation runs — atomically, since
 * Redis runs a script without interleaving. Operations are validated before anything is written
 * because Redis does not roll a failing script back. Log-space sums (log-add-exp) are explained in
 * libs/projections/src/decay.ts. Scores are written with 17 significant digits (Lua's default
 * number-to-string keeps 14).
 * ARGV[1] = marker TTL in seconds; then per operation: name, index into KEYS, argument count, arguments.
 * Returns 1 when applied, 0 for a duplicate.
 */
export const APPLY_SCRIPT: LuaScript = luaScript(`
local known = { zlse = true, zlse_visible = true, hlse = true, hincrby = true, hmax = true, hreplace = true,
  lpush_trim = true, lpush_unique_trim = true, pfadd = true, sadd = true, srem = true, zrem = true, del = true }
local i = 2
while i <= #ARGV do
  if not known[ARGV[i]] or not KEYS[tonumber(ARGV[i + 1])] then
    return redis.error_reply('projection op ' .. tostring(ARGV[i]) .. ' is unknown or names no key')
  end
  i = i + 3 + tonumber(ARGV[i + 2])
end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end

local function num(x) return string.format('%.17g', x) end
local function lse(a, b)
  if a < b then a, b = b, a end
  return a + math.log(1 + math.exp(b - a))
end
local function zlse(key, member, weight, keep)
  local old = redis.call('ZSCORE', key, member)
  if old then weight = lse(tonumber(old), weight) end
  redis.call('ZADD', key, num(weight), member)
  redis.call('ZREMRANGEBYRANK', key, 0, -keep - 1)
end

i = 2
while i <= #ARGV do
  local op, key, a, n = ARGV[i], KEYS[tonumber(ARGV[i + 1])], i + 3, tonumber(ARGV[i + 2])
  if op == 'zlse' then
    zlse(key, ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]))
  elseif op == 'zlse_visible' then
    if redis.call('SISMEMBER', KEYS[tonumber(ARGV[a])], ARGV[a + 1]) == 0 then
      zlse(key, ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]))
    end
  elseif op == 'hlse' then
    local weight = tonumber(ARGV[a + 1])
    local old = redis.call('HGET', key, ARGV[a])
    if old then weight = lse(tonumber(old), weight) end
    redis.call('HSET', key, ARGV[a], num(weight))
  elseif op == 'hincrby' then
    redis.call('HINCRBY', key, ARGV[a], ARGV[a + 1])
  elseif op == 'hmax' then
    local old = tonumber(redis.call('HGET', key, ARGV[a]))
    if not old or tonumber(ARGV[a + 1]) > old then redis.call('HSET', key, ARGV[a], ARGV[a + 1]) end
  elseif op == 'hreplace' then
    redis.call('DEL', key)
    if n > 0 then redis.call('HSET', key, unpack(ARGV, a, a + n - 1)) end
  elseif op == 'lpush_trim' then
    redis.call('LPUSH', key, ARGV[a])
    redis.call('LTRIM', key, 0, tonumber(ARGV[a + 1]) - 1)
  elseif op == 'lpush_unique_trim' then
    redis.call('LREM', key, 0, ARGV[a])
    redis.call('LPUSH', key, ARGV[a])
    redis.call('LTRIM', key, 0, tonumber(ARGV[a + 1]) - 1)
  elseif op == 'pfadd' then
    redis.call('PFADD', key, ARGV[a])
  elseif op == 'sadd' then
    redis.call('SADD', key, ARGV[a])
  elseif op == 'srem' then
    redis.call('SREM', key, ARGV[a])
  elseif op == 'zrem' then
    redis.call('ZREM', key, ARGV[a])
  elseif op == 'del' then
    redis.call('DEL', key)
  end
  i = a + n
end
return 1
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
}

/** Encodes a plan into the script calls that apply it (one for `event` scope, one per hash tag for `slot`). */
export function scriptCalls(plan: EventPlan, keys: ProjectionKeys, scope: ScriptScope, appliedTtlSeconds: number): ScriptCall[] {
  if (scope === 'event') return [encodeCall(keys.applied(plan.homeTag, plan.appliedId), plan.ops, appliedTtlSeconds)];
  const byTag = new Map<string, Op[]>();
  for (const op of plan.ops) {
    const tag = hashTagOf(op.key);
    byTag.set(tag, [...(byTag.get(tag) ?? []), op]);
  }
  return [...byTag].map(([tag, ops]) => encodeCall(keys.applied(tag, plan.appliedId), ops, appliedTtlSeconds));
}

function encodeCall(markerKey: string, ops: readonly Op[], ttlSeconds: number): ScriptCall {
  const keys = [markerKey];
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
  const args: string[] = [String(ttlSeconds)];
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
  return { keys, args };
}
