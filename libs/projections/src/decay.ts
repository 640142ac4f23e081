// Exponential time decay that stays correct without ever rewriting stored scores.
//
// A decayed score at time `now` is S(now) = Σ wᵢ · 2^(−(now − tᵢ)/h). Storing S itself would need
// every member of a ZSET rescored as time passes. Instead each contribution is anchored at a fixed
// epoch T0: S(now) = 2^(−(now − T0)/h) · Σ wᵢ · 2^((tᵢ − T0)/h). The sum on the right never changes
// with `now`, so it can be accumulated with one atomic update per event, and because the factor in
// front is the same for every member, ranking by the stored sum is ranking by S(now).
//
// The anchored terms grow by 2× per half-life (2^365 after a year at a 3-day half-life, overflow
// of a double after ~8 years), so they are stored in log space: L = ln Σ wᵢ·e^(λ(tᵢ−T0)) with
// λ = ln2/h, accumulated with log-add-exp (L' = logAddExp(L, ln w + λ(t−T0))), which stays a
// modest number forever (≈ 84 after a year at h = 3 days) and keeps full precision. The price:
// log space only holds positive weights, so negative signals (DISLIKE) contribute nothing.

/** The fixed anchor of every decayed score (2024-01-01T00:00:00Z). Changing it invalidates stored scores. */
export const DECAY_EPOCH_MS = Date.UTC(2024, 0, 1);

const HOUR_MS = 3_600_000;

/** Half-life in hours → ms (config carries hours). */
export function halfLifeMs(hours: number): number {
  return hours * HOUR_MS;
}

/** ln of `weight` anchored at `atMs`: the log-space term one event adds. `weight` must be > 0. */
export function logDecayedWeight(weight: number, atMs: number, halfLife: number): number {
  if (!(weight > 0)) throw new RangeError(`decayed weight must be positive, got ${weight}`);
  return Math.log(weight) + (Math.LN2 * (atMs - DECAY_EPOCH_MS)) / halfLife;
}

/** ln(e^a + e^b) without overflow: the log-space sum of two anchored scores. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const high = Math.max(a, b);
  return high + Math.log1p(Math.exp(Math.min(a, b) - high));
}

/** The decayed value at `nowMs` of a stored log-space score (0 for no score). */
export function decayedValue(logScore: number | undefined, nowMs: number, halfLife: number): number {
  if (logScore === undefined || !Number.isFinite(logScore)) return 0;
  return Math.exp(logScore - (Math.LN2 * (nowMs - DECAY_EPOCH_MS)) / halfLife);
}
