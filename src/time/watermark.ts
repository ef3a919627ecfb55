/**
 * Watermarks (DESIGN 4.3): W(t) says "no more records with timestamp <= t
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
  readonly name: string;
  next(watermark: number, record: StreamRecord<K, V>): number;
}

/**
 * How a source's watermarks are made: by a generator from the records, or
 * read from the watermark records the stream's producers wrote into it
 * (DESIGN 4.10). `idlenessMs`: a partition (or producer) without records
 * for that long, by the wall clock, in real-time mode, stops holding the
 * watermark back until it has data again — a nondeterministic decision.
 */
export type WatermarkStrategy<K = unknown, V = unknown> =
  | { readonly kind: 'generated'; readonly generator: WatermarkGenerator<K, V>; readonly idlenessMs: number | undefined }
  | { readonly kind: 'from-stream'; readonly idlenessMs: number | undefined };

/** Rule: a watermark never decreases: the larger of the current one and a candidate. */
export function advanceWatermark(watermark: number, candidate: number): number {
  return candidate > watermark ? candidate : watermark;
}

/**
 * Rule (DESIGN 4.3): the watermark of an operator with several inputs is the
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

function generated<K, V>(generator: WatermarkGenerator<K, V>, idlenessMs?: number): WatermarkStrategy<K, V> & { withIdleness(ms: number): WatermarkStrategy<K, V> } {
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
  monotonic<K = unknown, V = unknown>() {
    return generated<K, V>({ name: 'monotonic', next: (w, r) => advanceWatermark(w, boundedOutOfOrdernessWatermark(r.timestamp, 0)) });
  },
  /** Records may be up to `d` ms behind the newest: W = maxTimestamp − d − 1. */
  boundedOutOfOrderness<K = unknown, V = unknown>(d: number) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`boundedOutOfOrderness: the bound must be a non-negative integer of milliseconds, got ${d}`);
    return generated<K, V>({ name: `boundedOutOfOrderness(${d})`, next: (w, r) => advanceWatermark(w, boundedOutOfOrdernessWatermark(r.timestamp, d)) });
  },
  /** Some records carry a watermark: `extract` returns it, or undefined for records that carry none. */
  punctuated<K = unknown, V = unknown>(extract: (record: StreamRecord<K, V>) => number | undefined) {
    return generated<K, V>({ name: 'punctuated', next: (w, r) => advanceWatermark(w, extract(r) ?? w) });
  },
  /** A user-defined generator. */
  custom<K = unknown, V = unknown>(generator: WatermarkGenerator<K, V>) {
    return generated<K, V>({ name: generator.name, next: (w, r) => advanceWatermark(w, generator.next(w, r)) });
  },
  /** Watermarks written into the stream by its producers (tidemark applications, or external producers through the producer API). */
  fromStream(): WatermarkStrategy & { withIdleness(ms: number): WatermarkStrategy } {
    return { kind: 'from-stream', idlenessMs: undefined, withIdleness: (ms: number) => ({ kind: 'from-stream', idlenessMs: checkIdleness(ms) }) };
  },
};
