/**
 * What `produce` can keep exactly. JSON.parse quietly rounds a number to the
 * nearest double (`9007199254740993` becomes `…992`, `1e400` Infinity, which
 * JSON then writes as `null`), TextEncoder replaces a lone surrogate by
 * U+FFFD, Date.parse rolls `2024-02-30` over to March 1. Each would append
 * something other than what the line says, so each is found here and
 * refused with a message naming the field.
 */
import { keptExactly } from '../records/exact-number.ts';

/** Numbers of a parsed line whose text JSON.parse did not keep exactly: per holder object, key → source text. */
export type InexactNumbers = WeakMap<object, Map<string, string>>;

/** An inexact number found in a field: where, as written, and what it would have become. */
export interface Inexact {
  /** `value.readings[2].celsius`, `key`, `eventTime`. */
  readonly path: string;
  readonly source: string;
  readonly parsed: number;
}

/**
 * JSON.parse, also returning the numbers that did not survive it exactly
 * (found by the reviver's access to each number's source text).
 */
export function parseJsonKeepingSource(text: string): { value: unknown; inexact: InexactNumbers } {
  const inexact: InexactNumbers = new WeakMap();
  const value: unknown = JSON.parse(text, function (this: object, key: string, v: unknown, context?: { source?: string }) {
    if (typeof v === 'number' && context?.source !== undefined && !keptExactly(context.source, v)) {
      let keys = inexact.get(this);
      if (keys === undefined) inexact.set(this, (keys = new Map()));
      keys.set(key, context.source);
    }
    return v;
  });
  return { value, inexact };
}

/** The first inexact number in `holder[key]` (depth first, in order), or undefined. */
export function findInexact(holder: object, key: string, path: string, inexact: InexactNumbers): Inexact | undefined {
  const source = inexact.get(holder)?.get(key);
  const v = (holder as Record<string, unknown>)[key];
  if (source !== undefined) return { path, source, parsed: v as number };
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const found = findInexact(v, String(i), `${path}[${i}]`, inexact);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const k of Object.keys(v)) {
    const found = findInexact(v, k, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, inexact);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The message for a number of a JSON key or value that cannot be kept: what JSON would store instead. */
export function inexactValueMessage(found: Inexact): string {
  if (!Number.isFinite(found.parsed)) return `${found.path} ${found.source} is not a finite number (it would be stored as null)`;
  return `${found.path} ${found.source} cannot be kept exactly (it would be stored as ${JSON.stringify(found.parsed)})`;
}

/**
 * The message for an eventTime that cannot be kept, or undefined when it
 * can. `source` is its text on the line (undefined when kept exactly).
 * Epoch milliseconds are integers up to 2^53 - 1; anything else that is
 * exact (negative, fractional) is kept, for a topology's invalid-timestamp
 * policy to see.
 */
export function eventTimeMessage(t: number, source: string | undefined): string | undefined {
  const written = source ?? String(t);
  if (!Number.isFinite(t)) return `eventTime ${written} is not a finite number (it would be stored as ${t})`;
  if (source !== undefined && ((Number.isInteger(t) && !Number.isSafeInteger(t)) || /^-?\d+$/.test(source))) return `eventTime ${written} is not a safe integer (it would be stored as ${t})`;
  if (source !== undefined) return `eventTime ${written} cannot be kept exactly (it would be stored as ${t})`;
  if (Number.isInteger(t) && !Number.isSafeInteger(t)) return `eventTime ${written} is not a safe integer (epoch milliseconds are at most ${Number.MAX_SAFE_INTEGER})`;
  return undefined;
}

/** A UTF-16 surrogate without its other half: a string holding one is not well-formed Unicode (String#isWellFormed, ES2024). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Undefined when `s` is well-formed Unicode (it can be written as UTF-8
 * exactly); else the message, naming `what` and the lone surrogate.
 */
export function unicodeMessage(s: string, what: string): string | undefined {
  const lone = LONE_SURROGATE.exec(s);
  if (lone === null) return undefined;
  return `${what} is not valid Unicode (a lone surrogate \\u${lone[0].charCodeAt(0).toString(16)}): it cannot be stored as UTF-8`;
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * ISO-8601 to epoch ms; without an offset it is UTC, as the field extractor
 * reads it, never local time. NaN if it is not one, or names a day or time
 * that does not exist (`2024-02-30`, `25:00`), which Date.parse would roll
 * over; throws when it is more precise than a millisecond (Date.parse would
 * drop the rest).
 */
export function parseIsoDateTime(s: string): number {
  const m = ISO_8601.exec(s);
  if (m === null) return NaN;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', offset] = m as unknown as string[];
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > daysInMonth) return NaN;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return NaN;
  if (/[1-9]/.test(fraction!.slice(3))) throw new Error(`"eventTime" ${JSON.stringify(s)} is more precise than a millisecond (it would be stored as ${Date.parse(m[4] !== undefined && offset === undefined ? `${s}Z` : s)})`);
  return Date.parse(m[4] !== undefined && offset === undefined ? `${s}Z` : s);
}
