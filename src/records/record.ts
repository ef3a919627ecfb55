/**
 * Records and their three clocks.
 *
 * A record read from a log carries, side by side, the producer's `eventTime`,
 * the broker's `brokerTime` and this consumer's `ingestTime`. `timestamp` is
 * the one the source's timestamp extractor chose for processing.
 */

/** Record headers: string names to UTF-8 string values. */
export type Headers = Readonly<Record<string, string>>;

/** A record as stored in a log partition: raw bytes and the clocks the log knows. */
export interface LogRecord {
  /** The stream (topic) the record is in. */
  readonly stream: string;
  /** Its partition of the stream. */
  readonly partition: number;
  /** Its position in the partition: 0, 1, 2, … in append order. */
  readonly offset: number;
  /** The key's bytes; null when the record has no key. */
  readonly key: Uint8Array | null;
  /** The value's bytes; null for a tombstone (a delete). */
  readonly value: Uint8Array | null;
  /** The record's headers. */
  readonly headers: Headers;
  /** Time set by the producer (Kafka CreateTime); null when the producer set none. */
  readonly eventTime: number | null;
  /** Time the log appended the record (Kafka LogAppendTime). */
  readonly brokerTime: number | null;
  /**
   * Set on control records, which never reach user code as data: a
   * `watermark` record carries a producer task's watermark: how far that
   * task promises its event time has gone in this partition.
   */
  readonly control?: 'watermark';
}

/** A log record as received by a consumer: `ingestTime` is when this consumer got it. */
export interface ConsumedRecord extends LogRecord {
  /** When this consumer fetched the record, by the run's clock (epoch ms). */
  readonly ingestTime: number;
}

/** A deserialized record flowing through a topology. */
export interface StreamRecord<K = unknown, V = unknown> {
  /** The stream the record was read from (for a record an operator made: its input's). */
  readonly stream: string;
  /** The partition it was read from. */
  readonly partition: number;
  /** Its offset in that partition. */
  readonly offset: number;
  /** The deserialized key. */
  readonly key: K;
  /** The deserialized value. */
  readonly value: V;
  /** The record's headers. */
  readonly headers: Headers;
  /** Time set by the producer; null when it set none. */
  readonly eventTime: number | null;
  /** Time the log appended it; null when the log does not stamp one (a CreateTime Kafka topic). */
  readonly brokerTime: number | null;
  /** When this consumer fetched it. */
  readonly ingestTime: number;
  /** The record's time as used for processing, chosen by the timestamp extractor. */
  readonly timestamp: number;
}

/** Where a record sits: `stream/partition@offset`, the form used in every error and audit line. */
export function describePosition(r: { stream: string; partition: number; offset: number }): string {
  return `${r.stream}/${r.partition}@${r.offset}`;
}
