// A small seeded PRNG so that datasets, model initialisation and sampling are reproducible: the same
// seed gives the same numbers on every machine (Math.random cannot be seeded).

/** A deterministic source of random numbers. */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (mean 0, variance 1). */
  normal(): number;
  /** Index drawn with probability proportional to `weights[i]` (weights ≥ 0, sum > 0). */
  pick(weights: ArrayLike<number>): number;
}

/** Returns a PRNG (mulberry32) whose sequence depends only on `seed`. */
export function createSeededRandom(seed: number): SeededRandom {
  let state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      // Box–Muller; 1 - u keeps the logarithm finite.
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    pick: (weights) => {
      let total = 0;
      for (let i = 0; i < weights.length; i++) total += weights[i] as number;
      let target = next() * total;
      for (let i = 0; i < weights.length; i++) {
        target -= weights[i] as number;
        if (target < 0) return i;
      }
      return weights.length - 1;
    },
  };
}
