/**
 * Watermarks: W(t) says "no more records with timestamp <= t
 * are expected" on an input. A source partition's watermark comes from a
 * generator fed with the records processed from it, in processing order —
 * never from a wall-clock timer — so that it is a function of the input.
 *
 * @module
 */
import type { StreamRecord } from '../records/record.ts';

/** The watermark of an input that has promised nothing yet. */
export const NO_WATERMARK = Number.MIN_SAFE_INTEGER;
/** The watermark of an input that has ended: every window may fire. */
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;

/**
 * Computes a source partition's watermark from its records. `next` is a
 * pure function: the partition's watermark after `record`, given the one
 * before it. Its result is clamped so the watermark never decreases, and
 * the watermark is the only state kept (and checkpointed) per partition.
 *
 * @example
 * // A watermark carried in the records themselves (Flink's punctuated generators):
 * const fromField: WatermarkGenerator = { name: 'field wm', next: (w, r) => (r.value as { wm?: number }).wm ?? w };
 */
export interface WatermarkGenerator<K = unknown, V = unknown> {
  /** How the generator is named in the run's output and audit lines. */
  readonly name: string;
  /** The partition's watermark after `record`, given `watermark`, the one before it ({@link NO_WATERMARK} at first). */
  next(watermark: number, record: StreamRecord<K, V>): number;
}

/**
 * How a source's watermarks are made: by a generator from the records, or
 * read from the watermark records the stream's producers wrote into it
 * (every tidemark task writes them into the streams it writes, in watermark
 * mode). Made by {@link Watermarks}.
 */
export type WatermarkStrategy<K = unknown, V = unknown> =
  | {
      /** Made from the records by `generator`. */
      readonly kind: 'generated';
      /** The generator, fed each partition's records in processing order. */
      readonly generator: WatermarkGenerator<K, V>;
      /**
       * Real-time mode: a partition without records for this many ms of
       * wall-clock time stops holding the watermark back until it has data
       * again (a nondeterministic decision, audited); undefined: never.
       */
      readonly idlenessMs: number | undefined;
    }
  | {
      /** Read from the watermark records the stream's producers wrote. */
      readonly kind: 'from-stream';
      /**
       * Real-time mode: a producer task without records for this many ms of
       * wall-clock time stops holding the watermark back until it writes
       * again (a nondeterministic decision, audited); undefined: never.
       */
      readonly idlenessMs: number | undefined;
    };

/** A watermark strategy that can still be given an idleness timeout: what {@link Watermarks} returns. */
export type WatermarkStrategyWithIdleness<K = unknown, V = unknown> = WatermarkStrategy<K, V> & {
  /**
   * The same strategy where, in real-time mode, a partition (or, with
   * `fromStream()`, a producer task) without records for `ms` ms of
   * wall-clock time stops holding the watermark back until it has data
   * again: Flink's `withIdleness`. Each such declaration is a
   * nondeterministic decision, counted and audited; catch-up runs never
   * declare idleness.
   */
  withIdleness(ms: number): WatermarkStrategy<K, V>;
};

/** Rule: a watermark never decreases: the larger of the current one and a candidate. */
export function advanceWatermark(watermark: number, candidate: number): number {
  return candidate > watermark ? candidate : watermark;
}

/**
 * Rule: the watermark of an operator with several inputs is the
 * minimum over the inputs that are not idle. When every input is idle there
 * is no minimum: undefined, and the operator's watermark stays where it is.
 */
export function combineWatermarks(inputs: readonly { readonly watermark: number; readonly idle: boolean }[]): number | undefined {
  let min: number | undefined;
  for (const i of inputs) if (!i.idle && (min === undefined || i.watermark < min)) min = i.watermark;
  return min;
}

/** Rule: `boundedOutOfOrderness(d)` — W = maxTimestamp − d − 1 (records up to `d` behind the newest are still on time). */
export function boundedOutOfOrdernessWatermark(maxTimestamp: number, d: number): number {
  return maxTimestamp - d - 1;
}

function generated<K, V>(generator: WatermarkGenerator<K, V>, idlenessMs?: number): WatermarkStrategyWithIdleness<K, V> {
  return { kind: 'generated', generator, idlenessMs, withIdleness: (ms: number) => generated(generator, checkIdleness(ms)) };
}

function checkIdleness(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`idleness must be a positive integer of milliseconds, got ${ms}`);
  return ms;
}

/**
 * The watermark strategies of a source.
 *
 * @example
 * builder.stream('bids', { timestamp: Extractors.field('ts'), watermarks: Watermarks.boundedOutOfOrderness(5_000).withIdleness(60_000) });
 * builder.stream('enriched-bids', { watermarks: Watermarks.fromStream() });
 */
export const Watermarks = {
  /** Timestamps never decrease: W = maxTimestamp − 1 (Flink's `forMonotonousTimestamps`). */
  monotonic<K = unknown, V = unknown>(): WatermarkStrategyWithIdleness<K, V> {
    return generated<K, V>({ name: 'monotonic', next: (w, r) => advanceWatermark(w, boundedOutOfOrdernessWatermark(r.timestamp, 0)) });
  },
  /** Records may be up to `d` ms behind the newest: W = maxTimestamp − d − 1. */
  boundedOutOfOrderness<K = unknown, V = unknown>(d: number): WatermarkStrategyWithIdleness<K, V> {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`boundedOutOfOrderness: the bound must be a non-negative integer of milliseconds, got ${d}`);
    return generated<K, V>({ name: `boundedOutOfOrderness(${d})`, next: (w, r) => advanceWatermark(w, boundedOutOfOrdernessWatermark(r.timestamp, d)) });
  },
  /** Some records carry a watermark: `extract` returns it, or undefined for records that carry none. */
  punctuated<K = unknown, V = unknown>(extract: (record: StreamRecord<K, V>) => number | undefined): WatermarkStrategyWithIdleness<K, V> {
    return generated<K, V>({ name: 'punctuated', next: (w, r) => advanceWatermark(w, extract(r) ?? w) });
  },
  /** A user-defined generator. */
  custom<K = unknown, V = unknown>(generator: WatermarkGenerator<K, V>): WatermarkStrategyWithIdleness<K, V> {
    return generated<K, V>({ name: generator.name, next: (w, r) => advanceWatermark(w, generator.next(w, r)) });
  },
  /** Watermarks written into the stream by its producers (tidemark applications, or external producers through the producer API). */
  fromStream(): WatermarkStrategyWithIdleness {
    return { kind: 'from-stream', idlenessMs: undefined, withIdleness: (ms: number) => ({ kind: 'from-stream', idlenessMs: checkIdleness(ms) }) };
  },
};
