import { lastClosedEnd } from './lateness.ts';
import { alignedStart, type TimeWindow } from './window.ts';

/**
 * Tumbling (`advance == size`) and hopping (`advance < size`) windows of
 * event time, aligned to `offset`. Kafka Streams calls both
 * `TimeWindows`; Flink calls hopping windows "sliding".
 *
 * @example
 * TimeWindows.ofSize(10_000).advanceBy(2_000).grace(1_000)
 */
export class TimeWindows {
  /** Which kind of windows these are: `'time'`. */
  readonly kind = 'time';
  /** A window's length, in ms. */
  readonly size: number;
  /** The distance between two window starts, in ms (`size` for tumbling windows). */
  readonly advance: number;
  /** Where the grid of window starts is aligned: starts are `offset + k·advance`. */
  readonly offset: number;
  /** How long after its end a window still takes records: the grace (the allowed lateness on the watermark). */
  readonly graceMs: number;

  private constructor(size: number, advance: number, offset: number, grace: number) {
    assertPositive('size', size);
    assertPositive('advance', advance);
    if (advance > size) throw new RangeError(`TimeWindows: advance (${advance}) must not exceed size (${size})`);
    if (!Number.isSafeInteger(offset)) throw new RangeError(`TimeWindows: offset must be an integer, got ${offset}`);
    if (!Number.isSafeInteger(grace) || grace < 0) throw new RangeError(`TimeWindows: grace must be a non-negative integer, got ${grace}`);
    this.size = size;
    this.advance = advance;
    this.offset = offset;
    this.graceMs = grace;
  }

  /**
   * Tumbling windows of `size` ms, no grace.
   *
   * @example
   * TimeWindows.ofSize(60_000) // [0, 60000), [60000, 120000), …
   */
  static ofSize(size: number): TimeWindows {
    return new TimeWindows(size, size, 0, 0);
  }

  /** Hopping windows: a new window every `advance` ms. */
  advanceBy(advance: number): TimeWindows {
    return new TimeWindows(this.size, advance, this.offset, this.graceMs);
  }

  /** Aligns window starts to `offset` instead of the epoch (may be negative). */
  withOffset(offset: number): TimeWindows {
    return new TimeWindows(this.size, this.advance, offset, this.graceMs);
  }

  /**
   * Accepts records up to `grace` ms after a window's end: the window
   * closes once event time now reaches `end + grace` (on the watermark, the
   * allowed lateness).
   */
  grace(grace: number): TimeWindows {
    return new TimeWindows(this.size, this.advance, this.offset, grace);
  }

  /**
   * Every window containing `ts`, oldest first.
   *
   * @example
   * TimeWindows.ofSize(10).advanceBy(5).windowsFor(12) // [{ start: 5, end: 15 }, { start: 10, end: 20 }]
   */
  windowsFor(ts: number): TimeWindow[] {
    return timeWindowsFor(ts, this.size, this.advance, this.offset);
  }
}

/**
 * Rule: a record at `ts` belongs to every window
 * `[s, s + size)` with `s` on the grid `offset + k·advance` and
 * `s <= ts < s + size`. A record exactly at a window's end belongs to the next.
 */
export function timeWindowsFor(ts: number, size: number, advance: number, offset: number): TimeWindow[] {
  const last = alignedStart(ts, advance, offset);
  const windows: TimeWindow[] = [];
  for (let s = last - Math.floor((size - 1 - (ts - last)) / advance) * advance; s <= last; s += advance) {
    if (s + size > ts) windows.push({ start: s, end: s + size });
  }
  return windows;
}

/** The window of `size` starting at `start`: `[start, start + size)`. */
export function timeWindowAt(start: number, size: number): TimeWindow {
  return { start, end: start + size };
}

/**
 * The inverse of the closing rule for windows of one size, kept in start
 * order: every window `[s, s + size)` with `s < firstOpenStart(size,
 * lateness, now)` is closed at `now` (`isWindowClosed`), and no other.
 */
export function firstOpenStart(size: number, lateness: number, now: number): number {
  return lastClosedEnd(lateness, now) - size + 1;
}

function assertPositive(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`TimeWindows: ${what} must be a positive integer, got ${n}`);
}
