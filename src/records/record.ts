/**
 * Records and their three clocks (DESIGN 4.1).
 *
 * A record read from a log carries, side by side, the producer's `eventTime`,
 * the broker's `brokerTime` and this consumer's `ingestTime`. `timestamp` is
 * the one the source's timestamp extractor chose for processing.
 */

/** Record headers: string names to UTF-8 string values. */
export type Headers = Readonly<Record<string, string>>;

/** A record as stored in a log partition: raw bytes and the clocks the log knows. */
export interface LogRecord {
  readonly stream: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: Headers;
  /** Time set by the producer (Kafka CreateTime); null when the producer set none. */
  readonly eventTime: number | null;
  /** Time the log appended the record (Kafka LogAppendTime). */
  readonly brokerTime: number | null;
  /**
   * Set on control records, which never reach user code as data: a
   * `watermark` record carries a producer task's watermark (DESIGN 4.10).
   */
  readonly control?: 'watermark';
}

/** A log record as received by a consumer: `ingestTime` is when this consumer got it. */
export interface ConsumedRecord extends LogRecord {
  readonly ingestTime: number;
}

/** A deserialized record flowing through a topology. */
export interface StreamRecord<K = unknown, V = unknown> {
  readonly stream: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: K;
  readonly value: V;
  readonly headers: Headers;
  readonly eventTime: number | null;
  readonly brokerTime: number | null;
  readonly ingestTime: number;
  /** The record's time as used for processing, chosen by the timestamp extractor. */
  readonly timestamp: number;
}

/** Where a record sits: `stream/partition@offset`, the form used in every error and audit line. */
export function describePosition(r: { stream: string; partition: number; offset: number }): string {
  return `${r.stream}/${r.partition}@${r.offset}`;
}
