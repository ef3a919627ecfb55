/**
 * What a stream's operations are told: how `to()` and `repartition()`
 * write, the predicates of `filter` and `split`, and which partitioner a
 * stream's records keep by default.
 *
 * @module
 */
import type { StreamRecord } from '../records/record.ts';
import type { Serde } from '../records/serde.ts';
import type { StreamPartitioner } from '../runtime/topology.ts';

/** How `to()` writes. Serdes default to the stream's current ones. */
export interface SinkOptions<K, V> {
  /** How keys are written. */
  readonly key?: Serde<K>;
  /** How values are written. */
  readonly value?: Serde<V>;
  /** Default: Kafka's default partitioner on the key bytes (a null key stays on the task's partition number). */
  readonly partitioner?: (key: K, keyBytes: Uint8Array | null, value: V, partitions: number) => number;
  /** Partition count to create the stream with when it does not exist (default: the writing task count). */
  readonly partitions?: number;
}

/** How a repartition writes. */
export interface RepartitionOptions<K, V> {
  /** The internal stream is `<name>-repartition` (default: named after the node). */
  readonly name?: string;
  /** How keys are written to it (default: the stream's serde). */
  readonly key?: Serde<K>;
  /** How values are written to it (default: the stream's serde). */
  readonly value?: Serde<V>;
  /** Its partition count when it is created (default: the writing task count). */
  readonly partitions?: number;
}

/** Decides whether a record is kept (`filter`) or taken by a branch (`split`, `branch`), from its key, value and the whole record. */
export type Predicate<K, V> = (key: K, value: V, record: StreamRecord<K, V>) => boolean;

/** A merge of a stream with a partitioner of its own (windowed results) and one without: no single default fits both. */
export const MIXED_PARTITIONING = Symbol('mixed partitioning');

/** How a stream partitions when `to()` is given no partitioner: its own (windowed results), by the key (undefined), or with none that fits (a mixed merge). */
export type DefaultPartitioner = StreamPartitioner | typeof MIXED_PARTITIONING | undefined;

/**
 * The default partitioner of `a.merge(b)`: the inputs' common one. Two
 * windowed inputs partition by the inner key, and the merged stream
 * serializes keys with `a`'s serde, so `a`'s partitioner serves both; a
 * windowed input merged with a plain one has none that fits both.
 */
export function mergedPartitioner(a: DefaultPartitioner, b: DefaultPartitioner): DefaultPartitioner {
  if (a === MIXED_PARTITIONING || b === MIXED_PARTITIONING) return MIXED_PARTITIONING;
  if (a === undefined || b === undefined) return a === b ? undefined : MIXED_PARTITIONING;
  return a;
}

/** The partitioner a sink writing to `stream` uses: the one given, else the stream's own. */
export function sinkPartitioner(given: StreamPartitioner | undefined, own: DefaultPartitioner, stream: string): StreamPartitioner | undefined {
  if (given !== undefined) return given;
  if (own === MIXED_PARTITIONING) {
    throw new Error(`writing to ${stream}: the stream merges windowed results (partitioned by their inner key) with records partitioned by their whole key; give to() a partitioner`);
  }
  return own;
}
