import type { EventClock } from '../time/event-clock.ts';
import type { EmitStrategy } from './emission.ts';

/**
 * Rule: a window `[start, end)` with lateness `lateness` is closed once the
 * event clock's `now` reaches `end + lateness`; from then on a record for it
 * is late. `now` is stream time, or the watermark plus one
 * (`eventClockNow`), so in watermark mode a window is closed once
 * `W >= end − 1 + lateness`. The lateness is the windows' grace (Flink's
 * allowed lateness in watermark mode).
 */
export function isWindowClosed(end: number, lateness: number, now: number): boolean {
  return now >= end + lateness;
}

/**
 * The inverse of {@link isWindowClosed}, for scans over windows kept in time
 * order: the largest end of a window closed at `now`.
 * `isWindowClosed(end, lateness, now)` holds exactly when
 * `end <= lastClosedEnd(lateness, now)`.
 */
export function lastClosedEnd(lateness: number, now: number): number {
  return now - lateness;
}

/**
 * Rule: how long after its end a window emitting `final` results fires. In
 * stream-time mode when it closes (after its grace); in watermark mode as soon
 * as the watermark passes its end (`W >= end − 1`), the records within the
 * allowed lateness then updating the fired result.
 */
export function fireDelay(clock: EventClock, lateness: number): number {
  return clock === 'stream-time' ? lateness : 0;
}

/**
 * Rule: with `final` emission, a window has fired once it is closed on its
 * fire delay (see {@link fireDelay}): `now >= end + fireDelay(clock, lateness)`.
 */
export function isWindowFired(end: number, lateness: number, clock: EventClock, now: number): boolean {
  return isWindowClosed(end, fireDelay(clock, lateness), now);
}

/**
 * Rule: a window emitting `final` results fires before it closes — and
 * re-emits when a record within its lateness updates it — only in watermark
 * mode with a lateness above zero.
 */
export function firesBeforeClosing(emit: EmitStrategy, lateness: number, clock: EventClock): boolean {
  return emit === 'final' && fireDelay(clock, lateness) < lateness;
}

/**
 * Rule: how long after its end a window's state is kept: its lateness, and
 * with `updates` emission the retention asked for on top. With `final`
 * emission the state goes once the window closed, its result out: nothing
 * can update it any more. Retention never reopens a window.
 */
export function stateLateness(emit: EmitStrategy, lateness: number, retentionMs: number): number {
  return emit === 'updates' ? lateness + retentionMs : lateness;
}

/**
 * Rule: a record is a late record when it is late for every window it
 * belongs to. `closed` lists, per window of the record, whether that window
 * is closed. A record with no window at all is not late.
 */
export function isLateRecord(closed: readonly boolean[]): boolean {
  return closed.length > 0 && closed.every((c) => c);
}
