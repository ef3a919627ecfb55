/**
 * An operator's notion of event-time "now": the task's stream time (Kafka
 * Streams' model), or its input watermark (Flink's). Window operators and
 * event-time timers take it as a parameter, over the same window, state and
 * lateness code.
 */
export type EventClock = 'stream-time' | 'watermark';

/**
 * Rule: the event clock read as one number, "event time now", the one
 * reading windows and timers share: stream time as it is; a watermark `W` as
 * `W + 1`, the first instant still to come. A window `[start, end)` is then
 * closed once `now >= end + lateness` on both clocks, and an event-time timer
 * at `t` fires once `now >= t`. With `Watermarks.monotonic()` (W = the
 * largest timestamp − 1) both clocks read the same on ordered input.
 */
export function eventClockNow(clock: EventClock, streamTime: number, watermark: number): number {
  return clock === 'stream-time' ? streamTime : watermark + 1;
}

/**
 * Rule: an event-time timer at `time` is due once event time now (see
 * {@link eventClockNow}) reaches it: `now >= time` — the moment a window
 * ending at `time`, without lateness, closes. On the watermark, a timer at
 * `t` fires once `W >= t − 1`: once no record before `t` can still come on
 * time (Flink fires it one millisecond later, at `W >= t`).
 */
export function isTimerDue(time: number, now: number): boolean {
  return now >= time;
}
