/**
 * Keyed partitioning, bit-for-bit compatible with Apache Kafka's Java client.
 *
 * A record with a non-null key goes to partition
 * `toPositive(murmur2(keyBytes)) % numPartitions`, the rule of Kafka's default
 * (built-in) partitioner. Because the rule and the hash match Kafka's exactly,
 * a keyed stream keeps every key on the same partition number when its data is
 * moved to a Kafka topic with the same partition count, and vice versa.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's `org.apache.kafka.common.utils.Utils.murmur2`: 32-bit MurmurHash2 with
 * seed `0x9747b28c`, reading the input as little-endian 4-byte blocks.
 *
 * Returns the hash as a signed 32-bit integer, exactly the `int` Java computes
 * (for example `murmur2(utf8("21")) === -973932308`), so results can be compared
 * with Kafka's directly. Matching Kafka's hash is what keeps a key on the same
 * partition when data moves between tidemark and Kafka.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const tail = length & ~3;

  for (let i = 0; i < tail; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }

  // The last 1-3 bytes, as Java's fall-through `switch (length % 4)`.
  const rest = length & 3;
  if (rest !== 0) {
    if (rest === 3) h ^= data[tail + 2]! << 16;
    if (rest >= 2) h ^= data[tail + 1]! << 8;
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's `Utils.toPositive`: `n & 0x7fffffff`, i.e. clear the sign bit of a
 * 32-bit integer. Unlike `Math.abs` it maps `-2147483648` to `0`, never to a
 * negative number, and it is the step Kafka applies to the hash before taking
 * the modulus — so using it keeps partition numbers identical to Kafka's.
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/**
 * The partition of a record with a non-null key: `toPositive(murmur2(keyBytes)) % numPartitions`,
 * the rule of Kafka's default partitioner (`BuiltInPartitioner.partitionForKey`).
 * It matches Kafka's, so data keeps its partition when moved to a Kafka topic
 * with the same number of partitions. The result is in `[0, numPartitions)`.
 *
 * @throws RangeError if `numPartitions` is not a positive integer.
 */
export function partitionForKey(keyBytes: Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions <= 0) {
    throw new RangeError(`numPartitions must be a positive integer, got ${String(numPartitions)}`);
  }
  return (murmur2(keyBytes) & 0x7fffffff) % numPartitions;
}
