/**
 * How the demo writes numbers, times of day and durations. (The CLI's
 * progress line writes counts and times the same way; the demo room cannot
 * import the CLI, so it has these of its own.)
 *
 * @module
 */

/** `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Time of day in UTC, `09:31:02Z`: stream time is event time, not this machine's local time. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`;
}

/** `5 min 33 s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
