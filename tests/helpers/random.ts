/**
 * A seeded pseudo-random generator for tests that shuffle or fuzz, so a failure can be replayed:
 * each such test prints its seed, and `TEST_SEED=<seed>` runs it again with the same choices.
 */

export interface Random {
  seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** A whole number in [0, max). */
  int(max: number): number;
  /** A whole number in [min, max]. */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A new array with the items in random order. */
  shuffle<T>(items: readonly T[]): T[];
}

/** The seed from `TEST_SEED`, or a fresh one; printed so a failing run can be repeated. */
export function seededRandom(testName: string): Random {
  const fromEnv = Deno.env.get("TEST_SEED");
  const seed = fromEnv ? Number(fromEnv) >>> 0 : crypto.getRandomValues(new Uint32Array(1))[0];
  console.log(`${testName}: seed ${seed} (repeat with TEST_SEED=${seed})`);
  return randomFrom(seed);
}

/** mulberry32: small, fast and good enough to choose test cases. */
export function randomFrom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  return {
    seed,
    next,
    int,
    between: (min, max) => min + int(max - min + 1),
    pick: (items) => items[int(items.length)],
    chance: (p) => next() < p,
    shuffle(items) {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
}
