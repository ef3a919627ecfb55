/**
 * Event times as people read them on the timeline's axis: epoch
 * milliseconds as UTC dates and times (`2025-06-01`, `12:00:30`), abstract
 * units as numbers; and the round steps between ticks in either.
 *
 * Always UTC and never the locale, so that a picture is the same bytes on
 * every machine.
 *
 * @module
 */

/** Epoch milliseconds from 1973 to 5138: a time in this range is taken for a date. */
const EPOCH_FROM = 1e11;
const EPOCH_TO = 1e14;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Whether `t` looks like epoch milliseconds (1973 to 5138). */
export function isEpochLike(t: number): boolean {
  return t >= EPOCH_FROM && t < EPOCH_TO;
}

/** `2025-06-01`. */
export function dateOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** `12:00:30`, or `12:00:30.250` when the time is not on a whole second. */
export function timeOfDay(t: number): string {
  const iso = new Date(t).toISOString();
  return t % SECOND === 0 ? iso.slice(11, 19) : iso.slice(11, 23);
}

/** `2025-06-01 12:00:30` (`.250` when not on a whole second): ISO 8601 with a space, UTC. */
export function dateTime(t: number): string {
  return `${dateOf(t)} ${timeOfDay(t)}`;
}

/** Tick steps for dates: round numbers of milliseconds, seconds, minutes, hours and days. */
const DATE_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY,
];

/** 1, 2 or 5 times a power of ten, at least `rough` and at least 1 (times are integers). */
export function niceStep(rough: number): number {
  if (!(rough > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const m = rough / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/** The least round date step at least `rough`: 15 s, 5 min, 6 h, 2 days…; beyond two weeks, a round number of days. */
export function niceDateStep(rough: number): number {
  return DATE_STEPS.find((s) => s >= rough) ?? niceStep(rough / DAY) * DAY;
}

/**
 * A date tick's label at the resolution of its step: `2025-06-01` for steps
 * of a day or more, else the time of day to the minute (`12:05`), the second
 * (`12:05:30`) or the millisecond (`12:05:30.250`).
 */
export function dateTickLabel(t: number, step: number): string {
  const iso = new Date(t).toISOString();
  if (step >= DAY) return iso.slice(0, 10);
  if (step >= MINUTE) return iso.slice(11, 16);
  if (step >= SECOND) return iso.slice(11, 19);
  return iso.slice(11, 23);
}

/**
 * A span of event time in words, for the gap an axis break leaves out:
 * `3 days`, `5 h`, `12 min`, `40 s`, `250 ms` for dates; the number otherwise.
 *
 * @example
 * spanText(3 * 86_400_000 + 5, true) // '3 days'
 * spanText(9_900, false)              // '9900'
 */
export function spanText(span: number, dates: boolean): string {
  if (!dates) return String(span);
  for (const [unit, name] of [[DAY, ' day'], [HOUR, ' h'], [MINUTE, ' min'], [SECOND, ' s']] as const) {
    if (span < unit) continue;
    const n = Math.round(span / unit);
    return `${n}${name}${unit === DAY && n !== 1 ? 's' : ''}`;
  }
  return `${span} ms`;
}
