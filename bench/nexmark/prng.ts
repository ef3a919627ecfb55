/**
 * The generator's random numbers: a small PRNG seeded per event from the
 * run's seed and the event's id, so that an event's content depends on
 * nothing but those two (Beam seeds a `java.util.Random` with the event id
 * for the same reason: any event can be made alone, in any order, by any
 * number of generators). Not `java.util.Random`: the numbers differ from
 * Beam's, the distributions are the same.
 */

/** Mixes a 32-bit value (a finalizer: every input bit reaches every output bit). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A seeded stream of random numbers (mulberry32 steps over a 32-bit state). */
export class EventRandom {
  #state: number;

  /**
   * The numbers of event `eventId` in the run of `seed`; `salt` tells apart
   * independent streams of one event (its content, its delivery delay).
   */
  constructor(seed: number, eventId: number, salt = 0) {
    const lo = eventId >>> 0;
    const hi = Math.floor(eventId / 0x1_0000_0000) >>> 0;
    this.#state = mix32(mix32(mix32(seed >>> 0) ^ lo) ^ mix32(hi + 0x9e3779b9 * (salt + 1)));
  }

  /** 32 random bits, unsigned. */
  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67_108_864 + lo) / 9_007_199_254_740_992;
  }

  /** An integer in [0, n), uniform, for 0 < n <= 2^32 (rejection keeps it unbiased). */
  nextInt(n: number): number {
    if (!(n > 0 && n <= 0x1_0000_0000 && Number.isInteger(n))) throw new RangeError(`nextInt: bound must be an integer in (0, 2^32], got ${n}`);
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }
}
