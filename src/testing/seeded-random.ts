/**
 * A small, fast, seedable pseudo-random generator (mulberry32), for
 * workloads and tests that must be the same in every run: `Math.random`
 * cannot be seeded.
 *
 * @example
 * const random = seededRandom(42);
 * const jitter = Math.floor(random() * 1000); // the same sequence for seed 42, always
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
