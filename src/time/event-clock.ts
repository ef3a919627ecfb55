/**
 * An operator's notion of event-time "now" (DESIGN glossary): the task's
 * stream time (Kafka Streams' model), or its input watermark (Flink's).
 * Window operators and event-time timers take it as a parameter, over the
 * same window, state and lateness code.
 */
export type EventClock = 'stream-time' | 'watermark';

/**
 * The event clock read as one number, so that one rule serves both clocks
 * (DESIGN 4.3, 4.5): stream time as it is; a watermark W as W + 1, the first
 * instant still to come. A window `[start, end)` is then closed (late) once
 * `now >= end + lateness` in both modes: `streamTime >= end + grace`, and
 * `W >= end − 1 + allowedLateness`.
 */
export function eventClockNow(clock: EventClock, streamTime: number, watermark: number): number {
  return clock === 'stream-time' ? streamTime : watermark + 1;
}

/**
 * How long after its end a window fires with `final` emission: in
 * stream-time mode when it closes (after `grace`); in watermark mode as
 * soon as the watermark passes its end (`W >= end − 1`), records within the
 * allowed lateness then updating the fired result.
 */
export function fireDelay(clock: EventClock, lateness: number): number {
  return clock === 'stream-time' ? lateness : 0;
}
