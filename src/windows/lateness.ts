/**
 * Rule (DESIGN 4.5, stream-time mode): a window `[start, end)` with grace
 * `grace` is closed once `streamTime >= end + grace`; from then on a record
 * for it is late, and with `final` emission its result is emitted.
 */
export function isWindowClosed(end: number, grace: number, streamTime: number): boolean {
  return streamTime >= end + grace;
}

/**
 * Rule (DESIGN 4.5): a record is a late record when it is late for every
 * window it belongs to. `closed` lists, per window of the record, whether
 * that window is closed. A record with no window at all is not late.
 */
export function isLateRecord(closed: readonly boolean[]): boolean {
  return closed.length > 0 && closed.every((c) => c);
}

/**
 * Rule (DESIGN 4.5, watermark mode): a window `[start, end)` fires once the
 * watermark reaches its last instant: `watermark >= end − 1`.
 */
export function isWindowFired(end: number, watermark: number): boolean {
  return watermark >= end - 1;
}

/**
 * Rule (DESIGN 4.5, watermark mode): a window `[start, end)` is closed — a
 * record for it is late, its state may go — once
 * `watermark >= end − 1 + allowedLateness`. Until then a record for a fired
 * window updates it, and with `final` emission re-emits its result.
 */
export function isWindowExpired(end: number, allowedLateness: number, watermark: number): boolean {
  return watermark >= end - 1 + allowedLateness;
}
