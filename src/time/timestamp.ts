/**
 * Rule (DESIGN 4.1): a timestamp is valid when it is a finite, non-negative
 * integer number of milliseconds since the epoch. Missing (null/undefined),
 * NaN, fractional and negative values are invalid.
 */
export function isValidTimestamp(t: unknown): t is number {
  return typeof t === 'number' && Number.isSafeInteger(t) && t >= 0;
}

/** Why a timestamp is invalid, in words for an error message; undefined when it is valid. */
export function whyInvalidTimestamp(t: unknown): string | undefined {
  if (t === null || t === undefined) return 'missing';
  if (typeof t !== 'number') return `not a number (${typeof t} ${JSON.stringify(t)})`;
  if (!Number.isFinite(t)) return `not finite (${t})`;
  if (!Number.isInteger(t)) return `not an integer (${t})`;
  if (t < 0) return `negative (${t})`;
  if (!Number.isSafeInteger(t)) return `beyond the safe integer range (${t})`;
  return undefined;
}

/** The smallest possible timestamp; the stream time of a task that has processed nothing. */
export const NO_TIMESTAMP = -1;
