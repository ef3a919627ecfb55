import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { murmur2, partitionForKey, toPositive } from '../../src/runtime/partitioner.ts';

// Test vectors are taken from Kafka's own tests and from librdkafka's, which
// checks itself against the Java client. Only the data is reproduced here.
//
// [kafka-utils]   apache/kafka @ 1eb7644349cb07139d6a3c1ad1986979647cac99
//                 clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java (testMurmur2)
// [kafka-fk-join] apache/kafka @ 1eb7644349cb07139d6a3c1ad1986979647cac99
//                 streams/src/test/java/org/apache/kafka/streams/integration/KTableKTableForeignKeyInnerJoinMultiIntegrationTest.java
//                 ("Partitions pre-computed using the default Murmur2 hash", 3 partitions)
// [kafka-collector] apache/kafka @ 1eb7644349cb07139d6a3c1ad1986979647cac99
//                 streams/src/test/java/org/apache/kafka/streams/processor/internals/RecordCollectorTest.java
//                 (shouldSendWithNoPartition: 9 string keys, 3 partitions, default partitioner)
// [rdk-murmur2]   confluentinc/librdkafka @ 4c3b017c3de8d9c10de12b9eec0ea688e8d5787d
//                 src/rdmurmur2.c (unittest_murmur2, java_murmur2_results)
// [rdk-0048]      confluentinc/librdkafka @ 4c3b017c3de8d9c10de12b9eec0ea688e8d5787d
//                 tests/0048-partitioner.c (do_test_partitioners, "murmur2" expectations,
//                 computed with tests/java/Murmur2Cli = toPositive(Utils.murmur2(key)))

const utf8 = new TextEncoder();
const bytes = (s: string): Uint8Array => utf8.encode(s);

/** [kafka-utils] key → Utils.murmur2(key) as a Java int. */
const KAFKA_UTILS_MURMUR2: ReadonlyArray<readonly [string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

/** [rdk-murmur2] key → Java murmur2 result, as the int32 bit pattern librdkafka asserts. */
const RDKAFKA_JAVA_MURMUR2: ReadonlyArray<readonly [string, number]> = [
  ['kafka', 0xd067cf64],
  ['giberish123456789', 0x8f552b0c],
  ['1234', 0x9fc97b14],
  ['234', 0xe7c009ca],
  ['34', 0x873930da],
  ['4', 0x5a4b5ca1],
  ['PreAmbleWillBeRemoved,ThePrePartThatIs', 0x78424f1c],
  ['reAmbleWillBeRemoved,ThePrePartThatIs', 0x4a62b377],
  ['eAmbleWillBeRemoved,ThePrePartThatIs', 0xe0e4e09e],
  ['AmbleWillBeRemoved,ThePrePartThatIs', 0x62b8b43f],
  ['', 0x106e08d9],
];

/** [rdk-0048] key → toPositive(murmur2(key)); librdkafka expects partition = value % partition count. */
const RDKAFKA_POSITIVE_HASH: ReadonlyArray<readonly [string, number]> = [
  ['', 0x106e08d9],
  ['23456', 0x058d780f],
  ['this is another string with more length to it perhaps', 0x4f7703da],
  ['hejsan', 0x5ec19395],
];
/** [rdk-0048] the partition counts that test uses (quick mode and full mode). */
const RDKAFKA_PARTITION_COUNTS = [7, 17];

/** [kafka-fk-join] key → partition of 3 under Kafka's default partitioner. */
const KAFKA_FK_JOIN_PARTITIONS_OF_3: ReadonlyArray<readonly [string, number]> = [
  ['0', 2],
  ['1', 0],
  ['2', 2],
  ['3', 2],
  ['4', 1],
  ['5', 0],
  ['6', 1],
  ['7', 0],
  ['8', 0],
  ['9', 2],
];

/**
 * [kafka-collector] keys sent to a 3-partition topic, and the resulting last offset per
 * partition (3, 2, 1), i.e. 4, 3 and 2 records on partitions 0, 1 and 2.
 */
const KAFKA_COLLECTOR_KEYS = ['3', '9', '27', '81', '243', '28', '82', '244', '245'];
const KAFKA_COLLECTOR_COUNTS_OF_3 = [4, 3, 2];

test("murmur2 matches Kafka's Utils.murmur2 test vectors", () => {
  for (const [key, expected] of KAFKA_UTILS_MURMUR2) {
    assert.equal(murmur2(bytes(key)), expected, `murmur2(${JSON.stringify(key)})`);
  }
});

test("murmur2 matches the Java murmur2 results librdkafka checks against (every tail length, empty input)", () => {
  for (const [key, expected] of RDKAFKA_JAVA_MURMUR2) {
    // librdkafka compares int32 bit patterns; murmur2 returns the signed Java int.
    assert.equal(murmur2(bytes(key)), expected | 0, `murmur2(${JSON.stringify(key)})`);
  }
});

test('murmur2 returns a signed 32-bit integer, as Java does', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
      const h = murmur2(data);
      assert.ok(Number.isInteger(h) && h >= -0x80000000 && h <= 0x7fffffff);
    }),
  );
});

test("murmur2 reads only the view's bytes, not the rest of its buffer", () => {
  const backing = bytes('xxPreAmbleWillBeRemoved,ThePrePartThatIsyy');
  const view = backing.subarray(2, backing.length - 2);
  assert.equal(murmur2(view), murmur2(bytes('PreAmbleWillBeRemoved,ThePrePartThatIs')));
  assert.equal(murmur2(view), 0x78424f1c | 0);
});

test("toPositive clears the sign bit (n & 0x7fffffff), as Kafka's Utils.toPositive", () => {
  assert.equal(toPositive(0), 0);
  assert.equal(toPositive(42), 42);
  assert.equal(toPositive(0x7fffffff), 0x7fffffff);
  assert.equal(toPositive(-1), 0x7fffffff);
  assert.equal(toPositive(-0x80000000), 0); // not Math.abs: Integer.MIN_VALUE maps to 0
  assert.equal(toPositive(-973932308), -973932308 & 0x7fffffff);
  for (const [key, expected] of RDKAFKA_POSITIVE_HASH) {
    assert.equal(toPositive(murmur2(bytes(key))), expected, `toPositive(murmur2(${JSON.stringify(key)}))`);
  }
});

test("partitionForKey is toPositive(murmur2(key)) mod partitions, as Kafka's default partitioner", () => {
  for (const [key, positiveHash] of RDKAFKA_POSITIVE_HASH) {
    for (const n of RDKAFKA_PARTITION_COUNTS) {
      assert.equal(partitionForKey(bytes(key), n), positiveHash % n, `${JSON.stringify(key)} of ${n}`);
    }
  }
  for (const [key, hash] of [...KAFKA_UTILS_MURMUR2, ...RDKAFKA_JAVA_MURMUR2]) {
    for (const n of [1, 2, 3, 7, 12, 17, 100, 0x7fffffff]) {
      assert.equal(partitionForKey(bytes(key), n), ((hash | 0) & 0x7fffffff) % n, `${JSON.stringify(key)} of ${n}`);
    }
  }
});

test("partitionForKey puts keys on the partitions Kafka Streams' tests expect", () => {
  for (const [key, partition] of KAFKA_FK_JOIN_PARTITIONS_OF_3) {
    assert.equal(partitionForKey(bytes(key), 3), partition, `key ${JSON.stringify(key)}`);
  }
  const counts = [0, 0, 0];
  for (const key of KAFKA_COLLECTOR_KEYS) counts[partitionForKey(bytes(key), 3)]! += 1;
  assert.deepEqual(counts, KAFKA_COLLECTOR_COUNTS_OF_3);
});

test('partitionForKey rejects a partition count that is not a positive integer', () => {
  for (const n of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => partitionForKey(bytes('k'), n), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /numPartitions must be a positive integer/);
      return true;
    });
  }
});

test('partitionForKey is always in [0, n) and stable for equal keys', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 10_000 }), (key, n) => {
      const p = partitionForKey(key, n);
      assert.ok(Number.isInteger(p) && p >= 0 && p < n, `partition ${p} of ${n}`);
      // An equal key in a different array (and a different offset of a larger buffer) maps the same.
      const padded = new Uint8Array(key.length + 3);
      padded.set(key, 1);
      assert.equal(partitionForKey(Uint8Array.from(key), n), p);
      assert.equal(partitionForKey(padded.subarray(1, 1 + key.length), n), p);
    }),
    { numRuns: 500 },
  );
});
