/**
 * tidemark's keyed partitioning against the real Kafka Java client, through
 * the jars the project fetches for its development broker:
 *
 * 1. murmur2 and partitionForKey agree with Kafka's `Utils.murmur2` and
 *    `BuiltInPartitioner.partitionForKey` (what KafkaProducer's default
 *    partitioner calls for a keyed record) on a few thousand keys — the bytes
 *    tidemark's serdes make of strings (non-ASCII, emoji), JSON values and
 *    numbers, random raw bytes, the empty key — and partition counts 1..64.
 * 2. End to end on a broker: a Java KafkaProducer (default partitioner, no
 *    partition given) and a tidemark topology's `to()` write the same keys to
 *    topics of the same partition count; every key is on the same partition
 *    number in both.
 *
 * The Java program is this test's own, written to a temporary directory and
 * run as a single-file source (`java -cp '<libs>/*' PartitionerCheck.java`).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { Admin } from '@platformatic/kafka';
import { Application, Serdes, StreamsBuilder } from '../../src/index.ts';
import { KafkaLog } from '../../src/kafka.ts';
import { partitionForKey } from '../../src/semantics.ts';
import { murmur2, toPositive } from '../../src/runtime/partitioner.ts';
import { ensureKafkaJars, javaCommand } from '../../src/dev-broker/index.ts';
import { kafkaBroker, skippedWithoutKafka } from '../fixtures/kafka.ts';

const run = promisify(execFile);

/** The test's Java side: `hash <in> <out>` and `produce <in> <out> <bootstrap> <topic>...`. */
const JAVA_SOURCE = String.raw`
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;

public class PartitionerCheck {
  public static void main(String[] args) throws Exception {
    HexFormat hex = HexFormat.of();
    List<String> lines = Files.readAllLines(Path.of(args[1]), StandardCharsets.US_ASCII);
    StringBuilder out = new StringBuilder();
    if (args[0].equals("hash")) {
      // Each line: "<partitions>:<key hex>"; each answer: "<murmur2> <toPositive> <partitionForKey>".
      for (String line : lines) {
        int colon = line.indexOf(':');
        int partitions = Integer.parseInt(line.substring(0, colon));
        byte[] key = hex.parseHex(line.substring(colon + 1));
        int hash = Utils.murmur2(key);
        out.append(hash).append(' ').append(Utils.toPositive(hash)).append(' ')
            .append(BuiltInPartitioner.partitionForKey(key, partitions)).append('\n');
      }
    } else if (args[0].equals("produce")) {
      // Each line: "<key hex>"; each answer: "<topic> <partition> <key hex>", from the producer's RecordMetadata.
      Properties props = new Properties();
      props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[3]);
      props.put(ProducerConfig.CLIENT_ID_CONFIG, "tidemark-partitioner-test");
      props.put(ProducerConfig.ACKS_CONFIG, "all");
      props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      List<String> sent = new ArrayList<>();
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
        for (int t = 4; t < args.length; t++) {
          for (String line : lines) {
            // No partition: KafkaProducer's default (built-in) partitioner places the keyed record.
            acks.add(producer.send(new ProducerRecord<>(args[t], hex.parseHex(line), "java".getBytes(StandardCharsets.UTF_8))));
            sent.add(line);
          }
        }
        producer.flush();
        for (int i = 0; i < acks.size(); i++) {
          RecordMetadata m = acks.get(i).get();
          out.append(m.topic()).append(' ').append(m.partition()).append(' ').append(sent.get(i)).append('\n');
        }
      }
    } else {
      throw new IllegalArgumentException("unknown mode " + args[0]);
    }
    Files.writeString(Path.of(args[2]), out.toString(), StandardCharsets.US_ASCII);
  }
}
`;

/** Java 17+ and the Kafka jars, or undefined after `t.skip(reason)` (a failure under TIDEMARK_REQUIRE_KAFKA=1). */
async function kafkaJars(t: TestContext): Promise<string | undefined> {
  return skippedWithoutKafka(t) ? undefined : ensureKafkaJars();
}

/** Runs PartitionerCheck.java in a temporary directory; `input` lines go to a file, the answer lines come back. */
async function runJava(libs: string, mode: 'hash' | 'produce', input: readonly string[], extra: readonly string[] = []): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-partitioner-'));
  try {
    writeFileSync(join(dir, 'PartitionerCheck.java'), JAVA_SOURCE);
    writeFileSync(join(dir, 'in.txt'), input.map((l) => `${l}\n`).join(''));
    const args = ['-Xshare:auto', '-XX:TieredStopAtLevel=1', '-cp', join(libs, '*'), join(dir, 'PartitionerCheck.java'), mode, join(dir, 'in.txt'), join(dir, 'out.txt'), ...extra];
    try {
      await run(javaCommand(), args, { cwd: dir, timeout: 60_000, maxBuffer: 16 << 20 });
    } catch (e) {
      const err = e as Error & { stderr?: string; stdout?: string };
      throw new Error(`java PartitionerCheck ${mode} failed: ${err.message}\n${err.stderr ?? ''}${err.stdout ?? ''}`, { cause: e });
    }
    const out = readFileSync(join(dir, 'out.txt'), 'ascii').split('\n');
    out.pop(); // after the last newline
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

const stringSerde = Serdes.string<string>();
const jsonSerde = Serdes.json<unknown>();

/** Strings rich in what UTF-8 makes multi-byte: accents, combining marks, CJK, emoji (astral, ZWJ sequences, flags, skin tones). */
const unicodeString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
  fc
    .array(fc.constantFrom('a', 'Z', '0', ' ', '-', 'é', 'e\u0301', 'ß', 'ключ', '键', 'キー', 'مفتاح', '🦊', '👩‍👩‍👧', '🇳🇱', '👍🏽', '\u0000', '\u{10FFFF}'), { maxLength: 12 })
    .map((parts) => parts.join('')),
);

/** A JSON value as the json serde writes it: never null (a null key is not hashed). */
const jsonKeyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ user: unicodeString, region: fc.constantFrom('eu', 'us', 'ap'), n: fc.integer() }),
  fc.array(fc.oneof(fc.integer(), unicodeString), { maxLength: 4 }),
).filter((v) => v !== null);

/** A number key as the json serde writes it (integers, doubles, edge values). */
const numberKey = fc.oneof(
  fc.integer(),
  fc.integer({ min: 0, max: 1000 }),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1, -1, 0.1, 1e21, -2147483648, 2147483647, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, Number.MAX_VALUE),
);

/** What a key is before its serde, so the topology can write it with that serde. */
type KeySpec = { readonly shape: 'string'; readonly s: string } | { readonly shape: 'json'; readonly j: unknown } | { readonly shape: 'bytes'; readonly hex: string };

const keySpec: fc.Arbitrary<KeySpec> = fc.oneof(
  { weight: 3, arbitrary: unicodeString.map((s): KeySpec => ({ shape: 'string', s })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 100_000 }).map((n): KeySpec => ({ shape: 'string', s: `user-${n}` })) },
  { weight: 2, arbitrary: jsonKeyValue.map((j): KeySpec => ({ shape: 'json', j })) },
  { weight: 1, arbitrary: numberKey.map((j): KeySpec => ({ shape: 'json', j })) },
  { weight: 1, arbitrary: fc.integer({ min: -1000, max: 1000 }).map((n): KeySpec => ({ shape: 'string', s: String(n) })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b): KeySpec => ({ shape: 'bytes', hex: hexOf(b) })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 1024 }).map((b): KeySpec => ({ shape: 'bytes', hex: hexOf(b) })) },
  { weight: 1, arbitrary: fc.constantFrom<KeySpec>({ shape: 'bytes', hex: '' }, { shape: 'string', s: '' }) },
);

/** The key bytes tidemark's serdes make of a key. */
function keyBytes(k: KeySpec): Uint8Array {
  const bytes = k.shape === 'string' ? stringSerde.serialize(k.s) : k.shape === 'json' ? jsonSerde.serialize(k.j) : Buffer.from(k.hex, 'hex');
  assert.ok(bytes !== null, `a key of shape ${k.shape} serialized to null`);
  return new Uint8Array(bytes);
}

test("murmur2 and partitionForKey agree with the Java client's Utils.murmur2 and BuiltInPartitioner.partitionForKey", { timeout: 300_000 }, async (t) => {
  const libs = await kafkaJars(t);
  if (libs === undefined) return;

  const partitions = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 64 }) }, { weight: 1, arbitrary: fc.constantFrom(97, 1000, 0x7fffffff) });
  const cases = fc.sample(fc.tuple(keySpec, partitions), { seed: 20_240_611, numRuns: 4000 }).map(([k, n]) => ({ k, n, bytes: keyBytes(k) }));
  // Every partition count of 1..64 with the empty key and with each tail length (key length mod 4).
  for (let n = 1; n <= 64; n++) cases.push({ k: { shape: 'bytes', hex: '' }, n, bytes: new Uint8Array(0) });
  for (const s of ['a', 'ab', 'abc', 'abcd', 'é🦊', '👩‍👩‍👧']) for (const n of [1, 2, 3, 16, 64]) cases.push({ k: { shape: 'string', s }, n, bytes: keyBytes({ shape: 'string', s }) });

  const shapes = new Set(cases.map((c) => `${c.k.shape}/${c.bytes.length % 4}`));
  assert.equal(shapes.size, 12, `every shape with every tail length: ${[...shapes].sort().join(', ')}`);
  assert.ok(cases.some((c) => c.k.shape === 'string' && /\p{Extended_Pictographic}/u.test(c.k.s)), 'some keys hold emoji');
  assert.ok(cases.some((c) => c.bytes.some((b) => b >= 0x80)), 'some bytes have the high bit set (signed in Java)');

  const answers = await runJava(libs, 'hash', cases.map((c) => `${c.n}:${hexOf(c.bytes)}`));
  assert.equal(answers.length, cases.length);
  const mismatches: string[] = [];
  cases.forEach((c, i) => {
    const [hash, positive, partition] = answers[i]!.split(' ').map(Number) as [number, number, number];
    const ours = [murmur2(c.bytes), toPositive(murmur2(c.bytes)), partitionForKey(c.bytes, c.n)];
    if (ours[0] !== hash || ours[1] !== positive || ours[2] !== partition) {
      mismatches.push(`${c.k.shape} key ${hexOf(c.bytes) || '(empty)'} of ${c.n}: tidemark ${ours.join(' ')}, Java ${hash} ${positive} ${partition}`);
    }
  });
  assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} of ${cases.length} keys differ from Kafka's Java client`);
  t.diagnostic(`${cases.length} keys (${new Set(cases.map((c) => hexOf(c.bytes))).size} distinct) match Kafka's Java client`);
});

test("a tidemark topology's to() puts every key on the partition a Java KafkaProducer with the default partitioner does", { timeout: 300_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const libs = await ensureKafkaJars();

  // One key per distinct byte string: a string and a JSON number may serialize alike.
  const byHex = new Map<string, KeySpec>();
  for (const k of fc.sample(keySpec, { seed: 77, numRuns: 400 })) byHex.set(hexOf(keyBytes(k)), k);
  byHex.set('', { shape: 'string', s: '' });
  const keys = [...byHex];

  const runId = `partitioner-${process.pid}-${Date.now().toString(36)}`;
  const counts = [7, 24];
  const input = `${runId}-in`;
  const javaTopic = (n: number): string => `${runId}-java-${n}`;
  const tidemarkTopic = (n: number): string => `${runId}-tidemark-${n}`;
  const topics = [input, ...counts.flatMap((n) => [javaTopic(n), tidemarkTopic(n)])];

  const klog = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    await klog.createStreams([{ stream: input, partitions: 3 }, ...counts.flatMap((n) => [{ stream: javaTopic(n), partitions: n }, { stream: tidemarkTopic(n), partitions: n }])]);

    // Java: KafkaProducer, no partition given, byte[] keys.
    const javaSent = await runJava(libs, 'produce', keys.map(([hex]) => hex), [broker.bootstrap, ...counts.map(javaTopic)]);
    assert.equal(javaSent.length, keys.length * counts.length);

    // tidemark: the keys as values of an unkeyed input (spread over 3 tasks); the topology makes them keys with their serdes and writes them with to().
    const encoder = new TextEncoder();
    await klog.append(keys.map(([, k], i) => ({ stream: input, partition: i % 3, key: null, value: encoder.encode(JSON.stringify(k)), headers: {}, eventTime: 1_000 + i })));
    const b = new StreamsBuilder();
    const specs = b.stream<string | null, KeySpec>(input, { key: Serdes.string<string | null>(), value: Serdes.json<KeySpec>() });
    const branches = specs
      .split()
      .branch('string', (_, v) => v.shape === 'string')
      .branch('json', (_, v) => v.shape === 'json')
      .defaultBranch('bytes');
    const keyed = [
      branches.string.selectKey((_, v) => (v.shape === 'string' ? v.s : ''), Serdes.string<string>()),
      branches.json.selectKey((_, v) => (v.shape === 'json' ? v.j : 0), Serdes.json<unknown>()),
      branches.bytes.selectKey((_, v): Uint8Array | null => (v.shape === 'bytes' ? new Uint8Array(Buffer.from(v.hex, 'hex')) : null), Serdes.bytes()),
    ];
    for (const stream of keyed) for (const n of counts) stream.to(tidemarkTopic(n));
    const summary = await new Application(b.build(), { applicationId: `${runId}-app`, log: klog }).run({ mode: 'catch-up', commitIntervalMs: 50 });
    assert.equal(summary.processed, keys.length);

    const placement = async (topic: string): Promise<Map<string, number>> => {
      const where = new Map<string, number>();
      for (const [p, records] of (await klog.readStream(topic)).entries()) {
        for (const r of records) {
          assert.ok(r.key !== null, `a record of ${topic}/${p} has no key`);
          const hex = hexOf(r.key);
          assert.ok(!where.has(hex), `key ${hex} twice in ${topic}`);
          where.set(hex, p);
        }
      }
      return where;
    };
    for (const n of counts) {
      const java = await placement(javaTopic(n));
      const ours = await placement(tidemarkTopic(n));
      assert.deepEqual([...java.keys()].sort(), keys.map(([hex]) => hex).sort(), `the keys of ${javaTopic(n)}`);
      assert.deepEqual([...ours.keys()].sort(), keys.map(([hex]) => hex).sort(), `the keys of ${tidemarkTopic(n)}: the serdes' bytes`);
      // What the Java producer reported agrees with what was read back.
      for (const line of javaSent.filter((l) => l.startsWith(`${javaTopic(n)} `))) {
        const [, p, hex = ''] = line.split(' ');
        assert.equal(java.get(hex), Number(p), `Java's RecordMetadata for ${hex}`);
      }
      const differ = keys.filter(([hex]) => java.get(hex) !== ours.get(hex)).map(([hex, k]) => `${k.shape} ${hex || '(empty)'}: Java ${java.get(hex)}, tidemark ${ours.get(hex)}`);
      assert.deepEqual(differ.slice(0, 20), [], `${differ.length} of ${keys.length} keys on another partition of ${n} than Java's`);
      assert.ok(new Set(ours.values()).size === n, `the keys spread over all ${n} partitions`);
    }
    t.diagnostic(`${keys.length} keys, ${counts.join(' and ')} partitions: same placement as Kafka's Java producer`);
  } finally {
    await klog.close();
    const admin = new Admin({ clientId: 'tidemark-partitioner-test', bootstrapBrokers: [broker.bootstrap] });
    try {
      const existing = new Set(await admin.listTopics());
      const mine = [...topics, `${runId}-app-checkpoints`, `${runId}-app-audit`].filter((s) => existing.has(s));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    } finally {
      await admin.close();
    }
  }
});
