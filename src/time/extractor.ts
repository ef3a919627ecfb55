/**
 * Timestamp extractors: each source chooses which time of a
 * record is its `timestamp` — the producer's event time, the broker's append
 * time, this consumer's ingest time, a field of the value, or any function.
 */

/** What an extractor sees: the deserialized record and its three clocks. */
export interface ExtractionInput<K = unknown, V = unknown> {
  /** The deserialized key. */
  readonly key: K;
  /** The deserialized value. */
  readonly value: V;
  /** Time set by the producer; null when it set none. */
  readonly eventTime: number | null;
  /** Time the log appended the record; null when the log stamps none. */
  readonly brokerTime: number | null;
  /** When this consumer fetched the record (wall clock). */
  readonly ingestTime: number;
}

/**
 * Chooses a record's `timestamp`, the time it is processed at: what stream
 * time, windows and watermarks go by. What it returns is checked (a
 * non-negative safe integer); an invalid one is handled by the source's
 * {@link InvalidTimestampPolicy}. Build one with {@link Extractors}.
 */
export interface TimestampExtractor<K = unknown, V = unknown> {
  /** How this extractor is named in errors and audit lines, e.g. `field(ts)`. */
  readonly name: string;
  /** The field an invalid timestamp is blamed on in error messages. */
  readonly field: string;
  /**
   * True when the timestamp depends on wall-clock time (ingest time): every
   * use is then a nondeterministic decision, counted and audited.
   */
  readonly readsWallClock: boolean;
  /** Returns the candidate timestamp; it is validated afterwards. */
  extract(input: ExtractionInput<K, V>): unknown;
}

/** The producer's event time (Kafka CreateTime). */
export function eventTimeExtractor(): TimestampExtractor {
  return { name: 'eventTime', field: 'eventTime', readsWallClock: false, extract: (r) => r.eventTime };
}

/** The broker's append time (Kafka LogAppendTime). */
export function brokerTimeExtractor(): TimestampExtractor {
  return { name: 'brokerTime', field: 'brokerTime', readsWallClock: false, extract: (r) => r.brokerTime };
}

/** This consumer's wall-clock receive time: never reproducible, so every use is audited. */
export function ingestTimeExtractor(): TimestampExtractor {
  return { name: 'ingestTime', field: 'ingestTime', readsWallClock: true, extract: (r) => r.ingestTime };
}

/**
 * ISO-8601 dates and date-times (`2024-05-01`, `2024-05-01T12:00:00.250Z`,
 * `…+02:00`). Anything else is not a timestamp: `Date.parse` alone would
 * also accept strings like `"5"` or `"hello 2020"`.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses an ISO-8601 string to epoch milliseconds; NaN when it is not one.
 * A date-time without an offset is read as UTC, never in the machine's time
 * zone, so that the result does not depend on where the consumer runs.
 */
function parseIsoTimestamp(s: string): number {
  const m = ISO_8601.exec(s);
  if (m === null) return NaN;
  return Date.parse(m[1] !== undefined && m[4] === undefined ? `${s}Z` : s);
}

/**
 * A field of the value, by dotted path (`"meta.ts"`). A number is taken as
 * epoch milliseconds; a string is parsed as an ISO-8601 date (a date-time
 * without an offset is UTC); any other string is an invalid timestamp.
 */
export function fieldExtractor(path: string): TimestampExtractor {
  const parts = path.split('.');
  return {
    name: `field(${path})`,
    field: `value.${path}`,
    readsWallClock: false,
    extract: (r) => {
      let v: unknown = r.value;
      for (const p of parts) {
        if (v === null || typeof v !== 'object') return undefined;
        v = (v as Record<string, unknown>)[p];
      }
      if (typeof v === 'string') {
        const parsed = parseIsoTimestamp(v);
        return Number.isNaN(parsed) ? v : parsed;
      }
      return v;
    },
  };
}

/** Any function of the record and its clocks. */
export function functionExtractor<K, V>(
  fn: (input: ExtractionInput<K, V>) => unknown,
  name = 'function',
): TimestampExtractor<K, V> {
  return { name, field: name, readsWallClock: false, extract: fn };
}

/**
 * The built-in timestamp extractors: which time of a record is its
 * `timestamp`.
 *
 * @example
 * builder.stream<string, Reading>('readings', { timestamp: Extractors.field('ts') });
 * builder.stream<string, Order>('orders', { timestamp: Extractors.fn(({ value }) => value.placedAt, 'placedAt') });
 */
export const Extractors = {
  /** The producer's event time (Kafka CreateTime): the default. */
  eventTime: eventTimeExtractor,
  /** The log's append time (Kafka LogAppendTime). */
  brokerTime: brokerTimeExtractor,
  /** This consumer's fetch time: never reproducible, so every use is counted and audited as nondeterministic. */
  ingestTime: ingestTimeExtractor,
  /**
   * A field of the value, by dotted path (`'meta.ts'`): a number is epoch
   * milliseconds, a string an ISO-8601 date or date-time (UTC when it has
   * no offset); anything else is an invalid timestamp.
   */
  field: fieldExtractor,
  /** Any function of the record and its clocks; `name` (default `function`) names it in errors and audit lines. */
  fn: functionExtractor,
} as const;
