/**
 * Rule: a timestamp is valid when it is a finite, non-negative
 * integer number of milliseconds since the epoch. Missing (null/undefined),
 * NaN, fractional and negative values are invalid.
 */
export function isValidTimestamp(t: unknown): t is number {
  return typeof t === 'number' && Number.isSafeInteger(t) && t >= 0;
}

/** Why a timestamp is invalid, in words for an error message; undefined when it is valid. */
export function whyInvalidTimestamp(t: unknown): string | undefined {
  if (t === null || t === undefined) return 'missing';
  if (typeof t !== 'number') return `not a number (${typeof t} ${describeValue(t)})`;
  if (!Number.isFinite(t)) return `not finite (${t})`;
  if (!Number.isInteger(t)) return `not an integer (${t})`;
  if (t < 0) return `negative (${t})`;
  if (!Number.isSafeInteger(t)) return `beyond the safe integer range (${t})`;
  return undefined;
}

/**
 * A short rendering of any value for an error message. `JSON.stringify`
 * alone throws on a bigint (an int64 decoder's timestamp) or a cyclic object,
 * and would paste a whole large value into the message.
 */
function describeValue(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v));
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The smallest possible timestamp; the stream time of a task that has processed nothing. */
export const NO_TIMESTAMP = -1;
