/**
 * A window: the half-open interval `[start, end)` of event time .
 * Session windows are kept as their inclusive bounds `[firstTs, lastTs]`
 * and use `end = lastTs + gap + 1` only for closing (see `session-windows.ts`).
 */
export interface TimeWindow {
  /** The first instant the window covers. */
  readonly start: number;
  /** The first instant after it. */
  readonly end: number;
}

/** A windowed key, as results of windowed aggregations are keyed (Kafka Streams' `Windowed<K>`). */
export interface Windowed<K> {
  /** The record key the window aggregates. */
  readonly key: K;
  /** The window's start (a session's first record's timestamp). */
  readonly start: number;
  /** The window's exclusive end (a session's last record's timestamp, inclusive). */
  readonly end: number;
}

/** Java's `Math.floorMod`: the remainder with the sign of the divisor, so time before the epoch aligns too. */
export function floorMod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/**
 * Rule: windows are epoch-aligned — the latest window start at
 * or before `ts` on the grid `offset + k·step` is `ts − floorMod(ts − offset, step)`.
 */
export function alignedStart(ts: number, step: number, offset: number): number {
  return ts - floorMod(ts - offset, step);
}

/**
 * The earliest window start at or after `t` on the grid `offset + k·step`:
 * the latest start at or before `t + step − 1` ({@link alignedStart}).
 */
export function nextAlignedStart(t: number, step: number, offset: number): number {
  return alignedStart(t + step - 1, step, offset);
}

/** Whether the window `[start, end)` contains the instant `t`. */
export function windowContains(window: TimeWindow, t: number): boolean {
  return window.start <= t && t < window.end;
}

/** The timestamp of a window's result: the last instant it covers, `end − 1` . */
export function resultTimestamp(window: TimeWindow): number {
  return window.end - 1;
}
