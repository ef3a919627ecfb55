import type { TimeWindow } from './window.ts';

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
  readonly kind = 'sliding';
  readonly timeDifference: number;
  readonly graceMs: number;

  private constructor(timeDifference: number, grace: number) {
    if (!Number.isSafeInteger(timeDifference) || timeDifference < 0) throw new RangeError(`SlidingWindows: timeDifference must be a non-negative integer, got ${timeDifference}`);
    if (!Number.isSafeInteger(grace) || grace < 0) throw new RangeError(`SlidingWindows: grace must be a non-negative integer, got ${grace}`);
    this.timeDifference = timeDifference;
    this.graceMs = grace;
  }

  static ofTimeDifference(timeDifference: number): SlidingWindows {
    return new SlidingWindows(timeDifference, 0);
  }

  grace(grace: number): SlidingWindows {
    return new SlidingWindows(this.timeDifference, grace);
  }
}

/** Rule: the left window of a record at `t` is `[t − d, t]`, i.e. `[t − d, t + 1)`. */
export function leftWindow(t: number, d: number): TimeWindow {
  return { start: t - d, end: t + 1 };
}

/** Rule: the right window of a record at `t` is `[t + 1, t + d + 1]`, i.e. `[t + 1, t + d + 2)`; it exists when another record falls in it. */
export function rightWindow(t: number, d: number): TimeWindow {
  return { start: t + 1, end: t + d + 2 };
}

/**
 * Rule: the sliding windows present for a set of record timestamps (one
 * key): every record's left window, and the right window of each record
 * that has a later record within `d + 1`. Sorted by start; no duplicates.
 */
export function slidingWindowsOf(timestamps: readonly number[], d: number): TimeWindow[] {
  const sorted = [...new Set(timestamps)].sort((a, b) => a - b);
  const starts = new Set<number>();
  for (let i = 0; i < sorted.length; i++) {
    const t = sorted[i]!;
    starts.add(t - d);
    const next = sorted[i + 1];
    if (next !== undefined && next <= t + d + 1) starts.add(t + 1);
  }
  return [...starts].sort((a, b) => a - b).map((s) => ({ start: s, end: s + d + 1 }));
}
