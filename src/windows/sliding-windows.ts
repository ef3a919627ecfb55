import { lastClosedEnd } from './lateness.ts';
import { windowContains, type TimeWindow } from './window.ts';

/**
 * Record-anchored sliding windows (Kafka Streams' `SlidingWindows`): a
 * window exists only where records are. Two records share a window when
 * their timestamps differ by at most `timeDifference`. Each record at `t`
 * has a *left* window `[t − d, t]`; a record at `t` followed by another
 * within `(t, t + d + 1]` also has a *right* window `[t + 1, t + d + 1]`.
 * Bounds are inclusive as in Kafka Streams; as half-open intervals the
 * windows are `[t − d, t + 1)` and `[t + 1, t + d + 2)`.
 *
 * Unlike Kafka Streams, a record before `d` (near the epoch) has its own
 * left window starting before 0 rather than a shared `[0, d]` window: the
 * rule stays the same for every record.
 *
 * @example
 * SlidingWindows.ofTimeDifference(5_000).grace(1_000)
 */
export class SlidingWindows {
  /** Which kind of windows these are: `'sliding'`. */
  readonly kind = 'sliding';
  /** The largest difference, in ms, between the timestamps of two records of one window. */
  readonly timeDifference: number;
  /** How long after its end a window still takes records. */
  readonly graceMs: number;

  private constructor(timeDifference: number, grace: number) {
    if (!Number.isSafeInteger(timeDifference) || timeDifference < 0) throw new RangeError(`SlidingWindows: timeDifference must be a non-negative integer, got ${timeDifference}`);
    if (!Number.isSafeInteger(grace) || grace < 0) throw new RangeError(`SlidingWindows: grace must be a non-negative integer, got ${grace}`);
    this.timeDifference = timeDifference;
    this.graceMs = grace;
  }

  /**
   * Windows of records at most `timeDifference` ms apart, no grace.
   *
   * @example
   * SlidingWindows.ofTimeDifference(5_000)
   */
  static ofTimeDifference(timeDifference: number): SlidingWindows {
    return new SlidingWindows(timeDifference, 0);
  }

  /** Accepts records up to `grace` ms after a window's end. */
  grace(grace: number): SlidingWindows {
    return new SlidingWindows(this.timeDifference, grace);
  }
}

/** The sliding window of time difference `d` starting at `start`: `[start, start + d]`, i.e. `[start, start + d + 1)`. */
export function slidingWindowAt(start: number, d: number): TimeWindow {
  return { start, end: start + d + 1 };
}

/** Rule: the left window of a record at `t` is `[t − d, t]`, i.e. `[t − d, t + 1)`. */
export function leftWindow(t: number, d: number): TimeWindow {
  return slidingWindowAt(t - d, d);
}

/** Rule: the right window of a record at `t` is `[t + 1, t + d + 1]`, i.e. `[t + 1, t + d + 2)`; it exists when another record falls in it. */
export function rightWindow(t: number, d: number): TimeWindow {
  return slidingWindowAt(t + 1, d);
}

/** Whether the right window of a record at `t` exists among the timestamps `others`: a later record falls in it. */
export function hasRightWindow(t: number, others: readonly number[], d: number): boolean {
  const right = rightWindow(t, d);
  return others.some((u) => windowContains(right, u));
}

/**
 * Rule: the sliding windows present for a set of record timestamps (one
 * key): every record's left window, and the right window of each record
 * that has a later record within `d + 1`. Sorted by start; no duplicates.
 */
export function slidingWindowsOf(timestamps: readonly number[], d: number): TimeWindow[] {
  const unique = [...new Set(timestamps)];
  const starts = new Set<number>();
  for (const t of unique) {
    starts.add(leftWindow(t, d).start);
    if (hasRightWindow(t, unique, d)) starts.add(rightWindow(t, d).start);
  }
  return [...starts].sort((a, b) => a - b).map((s) => slidingWindowAt(s, d));
}

/**
 * The starts of the windows containing `t` among those present for the
 * timestamps `near` (a key's record timestamps within `d + 1` of `t`, `t`
 * included): the windows of {@link slidingWindowsOf} that contain `t`, found
 * from the few records that can make them.
 */
export function slidingStartsContaining(t: number, near: readonly number[], d: number): number[] {
  const starts = new Set<number>();
  for (const q of near) {
    if (windowContains(leftWindow(q, d), t)) starts.add(leftWindow(q, d).start);
    if (windowContains(rightWindow(q, d), t) && hasRightWindow(q, near, d)) starts.add(rightWindow(q, d).start);
  }
  return [...starts].sort((a, b) => a - b);
}

/**
 * The inverse of the closing rule for sliding windows kept by start: every
 * window `[s, s + d]` with `s < closedStartsBelow(d, lateness, now)` is closed
 * at `now` (`isWindowClosed`), and no other.
 */
export function closedStartsBelow(d: number, lateness: number, now: number): number {
  return lastClosedEnd(lateness, now) - d;
}

/**
 * Rule: a record at `q` is still needed — by the windows containing it, and
 * by its right window, whose existence it decides — until the last window
 * that can still accept a record of that right window closes: the right
 * window of a record at `q + d`. So records below
 * `neededFrom(d, lateness, now)` can go.
 */
export function neededFrom(d: number, lateness: number, now: number): number {
  // rightWindow(q + d, d).start = q + d + 1 must be below closedStartsBelow for q to go.
  return closedStartsBelow(d, lateness, now) - d - 1;
}
