/**
 * The few words a topology node is described by (`describeTopology`,
 * `tidemark describe`): what the DSL writes into a node's `describe` when it
 * makes it, from the same windows, clocks and retentions the node runs with.
 *
 * @module
 */
import type { EventClock } from '../time/event-clock.ts';
import type { TimeWindows } from '../windows/time-windows.ts';
import type { SlidingWindows } from '../windows/sliding-windows.ts';
import type { SessionWindows } from '../windows/session-windows.ts';
import type { EmitStrategy, LatePolicy } from '../windows/emission.ts';
import type { JoinWindows } from '../joins/join-windows.ts';

const UNITS = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1_000, 's'],
] as const;

/**
 * A duration of event time in the largest unit that divides it exactly, so
 * that nothing is rounded away: `90 s`, not `1.5 min`.
 *
 * @example
 * durationLabel(300_000) // '5 min'
 * durationLabel(1_500)   // '1500 ms'
 */
export function durationLabel(ms: number): string {
  for (const [unit, name] of UNITS) if (ms !== 0 && ms % unit === 0) return `${ms / unit} ${name}`;
  return `${ms} ms`;
}

/** Which clock a window or join closes on, as the docs name them. */
export function clockLabel(clock: EventClock): string {
  return clock === 'stream-time' ? 'on stream time' : 'on the watermark';
}

/**
 * Windows in words: `tumbling 1 min`, `hopping 1 min every 10 s`, `sliding
 * 30 s`, `session gap 5 min`, each with its grace (and a non-zero offset).
 */
export function windowsLabel(w: TimeWindows | SlidingWindows | SessionWindows): string {
  if (w.kind === 'session') return `session windows, gap ${durationLabel(w.gap)}, grace ${durationLabel(w.graceMs)}`;
  if (w.kind === 'sliding') return `sliding windows of ${durationLabel(w.timeDifference)}, grace ${durationLabel(w.graceMs)}`;
  const shape = w.advance === w.size ? `tumbling windows of ${durationLabel(w.size)}` : `hopping windows of ${durationLabel(w.size)} every ${durationLabel(w.advance)}`;
  return `${shape}${w.offset === 0 ? '' : ` from offset ${w.offset}`}, grace ${durationLabel(w.graceMs)}`;
}

/** A windowed aggregation: its windows, the clock they close on, what it emits and where late records go. */
export function windowedAggregateLabel(windows: TimeWindows | SlidingWindows | SessionWindows, clock: EventClock, emit: EmitStrategy, late: LatePolicy): string {
  return `window aggregate: ${windowsLabel(windows)}, ${clockLabel(clock)}; emits ${emit === 'final' ? 'final results' : 'updates'}; late records ${lateLabel(late)}`;
}

/** A stream–stream join: its windows (before/after the left record), grace and clock. */
export function streamJoinLabel(kind: string, windows: JoinWindows, clock: EventClock, late: LatePolicy): string {
  return `${kind} join of two streams: right records from ${durationLabel(windows.beforeMs)} before to ${durationLabel(windows.afterMs)} after the left one, grace ${durationLabel(windows.graceMs)}, ${clockLabel(clock)}; late records ${lateLabel(late)}`;
}

/** Where late records go. */
export function lateLabel(late: LatePolicy): string {
  return late === 'drop' ? 'dropped' : `to ${late.sideOutput}`;
}
