/**
 * Wall clocks are passed in, never read inside the core: whatever reads
 * wall-clock time takes a `Clock`, so tests and the test driver run on
 * virtual time and a production run's reads of it can be audited.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The machine's wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: virtual time for tests and the test driver. */
export class ManualClock implements Clock {
  #now: number;
  /** @param start the clock's first reading, in ms since the epoch (default 0). */
  constructor(start = 0) {
    this.#now = start;
  }
  /** The clock's current reading. */
  now(): number {
    return this.#now;
  }
  /** Moves the clock forward by `ms` (never backwards). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.#now += ms;
  }
  /** Sets the clock to `now` (which may be earlier: a wall clock can be set back). */
  set(now: number): void {
    this.#now = now;
  }
}
