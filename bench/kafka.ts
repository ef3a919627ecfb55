/**
 * `npm run bench`, Kafka part: what tidemark gets out of a real broker,
 * measured in one run against one development broker (KRaft, started here
 * from the cached jars and stopped at the end):
 *
 *   a. @platformatic/kafka, the client KafkaLog uses: produce N records of
 *      100 bytes (idempotent, acks=-1, sends of 1 000 records awaited one
 *      after another, as KafkaLog.append does), then consume them back with
 *      raw read_committed fetches (as KafkaLog reads) and with the client's
 *      Consumer stream;
 *   b. Kafka's own tools from the same jars on the same broker:
 *      ProducerPerformance (acks=all, idempotent by default) and
 *      ConsumerPerformance (read_committed) over N records of 100 bytes;
 *   c. a stateful topology end to end with exactly-once on Kafka: N2 JSON
 *      records appended through KafkaLog, then a catch-up run of a tumbling
 *      window count per key (one Kafka transaction per task and commit,
 *      holding outputs, changelog and checkpoint). Its output is checked
 *      against counts computed by hand from the input, so the bench fails
 *      rather than report the speed of a wrong result.
 *
 * Every topic has BENCH_KAFKA_PARTITIONS partitions. Environment:
 *   BENCH_KAFKA_RECORDS      records of cases a and b (default 500 000)
 *   BENCH_KAFKA_EOS_RECORDS  records of case c (default 100 000)
 *   BENCH_KAFKA_PARTITIONS   partitions of every topic, one task each in case c (default 4)
 * Without Java 17+ (and Maven, to fetch the jars once) it prints why and
 * exits 0: the bench is not a test.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import { Application, Serdes, StreamsBuilder, TimeWindows, type AppendRecord, type Windowed } from '../src/index.ts';
import { KafkaLog } from '../src/kafka.ts';
import { partitionForKey } from '../src/semantics.ts';
import { javaCommand, kafkaPrerequisites, startKafkaBroker, type KafkaBroker } from '../src/dev-broker/index.ts';
import { envInt } from './env.ts';

const records = envInt('BENCH_KAFKA_RECORDS', 500_000);
const eosRecords = envInt('BENCH_KAFKA_EOS_RECORDS', 100_000);
const partitions = envInt('BENCH_KAFKA_PARTITIONS', 4);

const RECORD_BYTES = 100;
/** Records per send of case a, as one KafkaLog.append of that many. */
const SEND_CHUNK = 1000;
/** Kafka's default max.partition.fetch.bytes; KafkaLog fetches with the same. */
const PARTITION_FETCH_BYTES = 1 << 20;
const FETCH_BYTES = 8 << 20;
const READ_COMMITTED = 1;
const RAW_TOPIC = 'bench-client';
const JAVA_TOPIC = 'bench-java';
const WARM_TOPIC = 'bench-warm';
// Case c: KEYS keys in turn, event time +STEP_MS per record, tumbling windows of WINDOW_MS: every key is in every window.
const EOS_IN = 'bench-eos-in';
const EOS_OUT = 'bench-eos-out';
const EOS_APP = 'bench-eos';
const KEYS = 100;
const STEP_MS = 1;
const WINDOW_MS = 1000;
const EVENT_TIME_0 = Date.UTC(2025, 0, 1);
const APPEND_CHUNK = 5000;

// ---------------------------------------------------------------------------
// Formatting, as in the other benches.

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtRate = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(1)} k/s`);
const fmtMbs = (bytesPerS: number): string => `${(bytesPerS / 1024 / 1024).toFixed(1)} MB/s`;
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`kafka bench: expected ${what}`);
}

interface Measured {
  readonly records: number;
  readonly ms: number;
  /** Payload bytes (values) per second, as Kafka's tools count MB. */
  readonly bytesPerS: number;
  readonly note: string;
}

const measured = (n: number, ms: number, note: string, bytes = n * RECORD_BYTES): Measured => ({ records: n, ms, bytesPerS: bytes / (ms / 1000), note });
const rate = (m: Measured): number => m.records / (m.ms / 1000);

// ---------------------------------------------------------------------------
// a. @platformatic/kafka

async function createTopics(bootstrap: string, topics: readonly string[]): Promise<void> {
  const admin = new Admin({ clientId: 'tidemark-bench', bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({ topics: [...topics], partitions, replicas: 1 });
    // Until every partition has a leader in the metadata.
    for (let i = 0; i < 100; i++) {
      const md = await admin.metadata({ topics: [...topics], forceUpdate: true });
      if (topics.every((t) => md.topics.get(t)?.partitions.every((p) => p.leader >= 0))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`topics ${topics.join(', ')} have no leader after 10 s`);
  } finally {
    await admin.close();
  }
}

async function endOffsets(bootstrap: string, topic: string): Promise<number> {
  const admin = new Admin({ clientId: 'tidemark-bench', bootstrapBrokers: [bootstrap] });
  try {
    const [t] = await admin.listOffsets({ topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, timestamp: -1n })) }] });
    return (t?.partitions ?? []).reduce((n, p) => n + Number(p.offset), 0);
  } finally {
    await admin.close();
  }
}

async function produce(bootstrap: string, n: number): Promise<Measured> {
  const producer = new Producer({ clientId: 'tidemark-bench', bootstrapBrokers: [bootstrap], idempotent: true, acks: -1 });
  try {
    // Connection, metadata and producer id before the clock starts, as for a long-lived KafkaLog.
    await producer.send({ messages: [{ topic: WARM_TOPIC, partition: 0, value: Buffer.from('warm-up') }] });
    const value = Buffer.alloc(RECORD_BYTES, 'x');
    const chunk = Array.from({ length: SEND_CHUNK }, (_, i) => ({ topic: RAW_TOPIC, partition: i % partitions, value }));
    const t0 = performance.now();
    for (let i = 0; i < n; i += SEND_CHUNK) await producer.send({ messages: i + SEND_CHUNK <= n ? chunk : chunk.slice(0, n - i) });
    return measured(n, performance.now() - t0, `sends of ${fmtInt(SEND_CHUNK)} awaited in turn, idempotent, acks=-1`);
  } finally {
    await producer.close();
  }
}

/** Raw Fetch requests for every partition at once, read_committed, as KafkaLog reads. */
async function consumeRaw(bootstrap: string, n: number): Promise<Measured> {
  const consumer = new Consumer({ clientId: 'tidemark-bench', bootstrapBrokers: [bootstrap], groupId: 'tidemark-bench-raw' });
  try {
    const md = await consumer.metadata({ topics: [RAW_TOPIC] });
    const meta = md.topics.get(RAW_TOPIC)!;
    const offsets = Array.from({ length: partitions }, () => 0n);
    let count = 0;
    const t0 = performance.now();
    while (count < n) {
      const response = await consumer.fetch({
        node: meta.partitions[0]!.leader,
        isolationLevel: READ_COMMITTED,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: FETCH_BYTES,
        topics: [{ topicId: meta.id, partitions: offsets.map((o, p) => ({ partition: p, currentLeaderEpoch: -1, fetchOffset: o, lastFetchedEpoch: -1, partitionMaxBytes: PARTITION_FETCH_BYTES })) }],
      });
      for (const p of response.responses[0]?.partitions ?? []) {
        if (p.errorCode !== 0) throw new Error(`fetch ${RAW_TOPIC}/${p.partitionIndex}: Kafka error code ${p.errorCode}`);
        const batches = (p.records ?? []) as unknown as readonly { firstOffset: bigint; lastOffsetDelta: number; records: readonly unknown[] }[];
        for (const b of batches) {
          count += b.records.length;
          offsets[p.partitionIndex] = b.firstOffset + BigInt(b.lastOffsetDelta) + 1n;
        }
      }
    }
    check(count === n, `${fmtInt(n)} records fetched, got ${fmtInt(count)}`);
    return measured(n, performance.now() - t0, `Fetch of all ${partitions} partitions at once, ${PARTITION_FETCH_BYTES >> 20} MiB per partition, read_committed`);
  } finally {
    await consumer.close(true);
  }
}

/** The client's Consumer stream in a new group, from the earliest offsets: the time includes joining the group. */
async function consumeStream(bootstrap: string, n: number): Promise<Measured> {
  const consumer = new Consumer({
    clientId: 'tidemark-bench',
    bootstrapBrokers: [bootstrap],
    groupId: `tidemark-bench-stream-${Date.now()}`,
    isolationLevel: READ_COMMITTED,
    maxWaitTime: 100,
    maxBytes: FETCH_BYTES,
    maxBytesPerPartition: PARTITION_FETCH_BYTES,
  });
  try {
    const t0 = performance.now();
    const stream = await consumer.consume({ topics: [RAW_TOPIC], mode: 'earliest', autocommit: false });
    let count = 0;
    for await (const _message of stream) if (++count >= n) break;
    const ms = performance.now() - t0;
    await stream.close();
    check(count === n, `${fmtInt(n)} records from the Consumer stream, got ${fmtInt(count)}`);
    return measured(n, ms, 'consume() in a new group from earliest, for await; group join included');
  } finally {
    await consumer.close(true);
  }
}

// ---------------------------------------------------------------------------
// b. Kafka's own tools

function runJava(libsDir: string, mainClass: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(javaCommand(), ['-cp', join(libsDir, '*'), mainClass, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${mainClass} exited with ${code}:\n${(err || out).slice(-2000)}`))));
  });
}

async function producerPerformance(broker: KafkaBroker, n: number): Promise<Measured> {
  const out = await runJava(broker.libsDir, 'org.apache.kafka.tools.ProducerPerformance', [
    '--bootstrap-server', broker.bootstrap, '--topic', JAVA_TOPIC, '--num-records', String(n), '--record-size', String(RECORD_BYTES), '--throughput', '-1', '--command-property', 'acks=all',
  ]);
  // "500000 records sent, 412371.1 records/sec (39.33 MB/sec), 35.2 ms avg latency, …"
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(out);
  if (m === null) throw new Error(`no summary line in ProducerPerformance's output:\n${out.slice(-2000)}`);
  check(Number(m[1]) === n, `ProducerPerformance to send ${n} records, it sent ${m[1]}`);
  return measured(n, (n / Number(m[2])) * 1000, 'acks=all (idempotent by default), its default batching: batch.size 16 KiB, linger.ms 5');
}

async function consumerPerformance(broker: KafkaBroker, n: number): Promise<{ total: Measured; fetch: Measured }> {
  const out = await runJava(broker.libsDir, 'org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server', broker.bootstrap, '--topic', JAVA_TOPIC, '--num-records', String(n), '--command-property', 'isolation.level=read_committed', '--timeout', '60000',
  ]);
  // Header then one CSV line: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const lines = out.trim().split('\n');
  const header = lines.findIndex((l) => l.includes('nMsg.sec'));
  const names = lines[header]?.split(',').map((s) => s.trim()) ?? [];
  const values = lines[header + 1]?.split(',').map((s) => s.trim()) ?? [];
  const field = (name: string): number => {
    const v = Number(values[names.indexOf(name)]);
    if (!Number.isFinite(v) || names.indexOf(name) < 0) throw new Error(`no ${name} in ConsumerPerformance's output:\n${out.slice(-2000)}`);
    return v;
  };
  const consumed = field('data.consumed.in.nMsg');
  check(consumed >= n, `ConsumerPerformance to read ${n} records, it read ${consumed}`);
  return {
    total: measured(n, (n / field('nMsg.sec')) * 1000, 'read_committed, new group; nMsg.sec: group join included'),
    fetch: measured(n, (n / field('fetch.nMsg.sec')) * 1000, 'fetch.nMsg.sec: after the group join'),
  };
}

// ---------------------------------------------------------------------------
// c. A tumbling window count per key, exactly-once on Kafka

interface Reading {
  readonly sensor: string;
  readonly seq: number;
  readonly celsius: number;
}

const keySerde = Serdes.string();
const readingSerde = Serdes.json<Reading>();
const windowedSerde = Serdes.json<Windowed<string>>();
const countSerde = Serdes.json<number>();

function eosInput(n: number): AppendRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const sensor = `sensor-${String(i % KEYS).padStart(3, '0')}`;
    const key = new TextEncoder().encode(sensor);
    return { stream: EOS_IN, partition: partitionForKey(key, partitions), key, value: readingSerde.serialize({ sensor, seq: i, celsius: 20 + (i % 17) / 4 }), eventTime: EVENT_TIME_0 + i * STEP_MS };
  });
}

/**
 * The results by hand: per partition (one task, one stream time), a window
 * [start, end) is emitted once the partition's largest event time reaches
 * its end (no grace); its count is the key's records in it.
 */
function expectedCounts(input: readonly AppendRecord[]): Map<string, number> {
  const maxTime = new Map<number, number>();
  for (const r of input) maxTime.set(r.partition, Math.max(maxTime.get(r.partition) ?? -Infinity, r.eventTime!));
  const counts = new Map<string, number>();
  for (const r of input) {
    const start = Math.floor(r.eventTime! / WINDOW_MS) * WINDOW_MS;
    if (maxTime.get(r.partition)! < start + WINDOW_MS) continue; // still open at the end of the run
    const k = `${keySerde.deserialize(r.key)}@${start}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

interface EosResult {
  readonly append: Measured;
  readonly run: Measured;
  /** From the start of the run to its first record processed: creating topics, restoring, opening a transactional producer per task. */
  readonly prepareMs: number;
  readonly commits: number;
  readonly windows: number;
  readonly keys: number;
  readonly results: number;
}

async function exactlyOnce(bootstrap: string, n: number): Promise<EosResult> {
  const input = eosInput(n);
  const valueBytes = input.reduce((b, r) => b + (r.value?.byteLength ?? 0), 0);
  const expected = expectedCounts(input);
  const builder = new StreamsBuilder();
  builder
    .stream<string, Reading>(EOS_IN, { key: keySerde, value: readingSerde })
    .groupByKey()
    .windowedBy(TimeWindows.ofSize(WINDOW_MS))
    .count({ emit: 'final' })
    .to(EOS_OUT);
  const log = await KafkaLog.open({ bootstrap });
  try {
    await log.createStreams([{ stream: EOS_IN, partitions }]);
    const t0 = performance.now();
    for (let i = 0; i < input.length; i += APPEND_CHUNK) await log.append(input.slice(i, i + APPEND_CHUNK));
    const append = measured(n, performance.now() - t0, `KafkaLog.append of ${fmtInt(APPEND_CHUNK)} JSON records at a time (~${fmtInt(valueBytes / n)} B values, event-time header)`, valueBytes);

    const t1 = performance.now();
    // Progress every 10 ms tells when the first record was processed: before it, the run prepares (topics, restore, a transactional producer per task).
    let firstProcessed: number | undefined;
    const onProgress = (p: { processed: number }): void => {
      if (firstProcessed === undefined && p.processed > 0) firstProcessed = performance.now();
    };
    const summary = await new Application(builder.build(), { applicationId: EOS_APP, log }).run({ mode: 'catch-up', onProgress, progressIntervalMs: 10 });
    const runMs = performance.now() - t1;
    const prepareMs = (firstProcessed ?? t1) - t1;
    check(summary.processed === n, `${fmtInt(n)} records processed, got ${fmtInt(summary.processed)}`);
    check(summary.lateRecords === 0, `no late record (in order input), got ${summary.lateRecords}`);

    const output = (await log.readStream(EOS_OUT)).flat().filter((r) => r.control === undefined);
    const got = new Map<string, number>();
    for (const r of output) {
      const w = windowedSerde.deserialize(r.key);
      const k = `${w.key}@${w.start}`;
      check(!got.has(k), `one result per key and window (final emission), ${k} came twice`);
      got.set(k, countSerde.deserialize(r.value));
    }
    const windows = new Set([...expected.keys()].map((k) => k.slice(k.indexOf('@') + 1))).size;
    const keys = new Set([...expected.keys()].map((k) => k.slice(0, k.indexOf('@')))).size;
    check(output.length > 0, 'some window results');
    check(expected.size === windows * keys, `by hand: every key in every closed window (${windows} × ${keys}), got ${expected.size}`);
    check(got.size === expected.size, `${fmtInt(expected.size)} results (${windows} windows × ${keys} keys), got ${fmtInt(got.size)}`);
    for (const [k, c] of expected) check(got.get(k) === c, `count ${c} for ${k}, got ${got.get(k)}`);
    return { append, run: measured(n, runMs, `catch-up run, ${partitions} tasks, commits every 100 ms; ${seconds(prepareMs)} of it before the first record`, valueBytes), prepareMs, commits: summary.commits, windows, keys, results: got.size };
  } finally {
    await log.close();
  }
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const prerequisites = kafkaPrerequisites();
  if (!prerequisites.ok) {
    console.log(`tidemark kafka bench skipped: ${prerequisites.reason}`);
    return;
  }
  const started = Date.now();
  const load0 = loadavg()[0]!;
  console.log(`tidemark kafka bench — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${load0.toFixed(1)}`);
  process.stderr.write('  starting the development broker … ');
  const broker = await startKafkaBroker({});
  process.stderr.write(`${broker.bootstrap} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  try {
    console.log(
      `one Kafka ${broker.libsDir.split('/').at(-2)} broker (KRaft, 127.0.0.1, started by the bench; its JVM shares the machine with the clients); ` +
        `${partitions} partitions per topic; ${fmtInt(records)} records of ${RECORD_BYTES} B for a and b, ${fmtInt(eosRecords)} for c\n`,
    );
    await createTopics(broker.bootstrap, [RAW_TOPIC, JAVA_TOPIC, WARM_TOPIC]);
    const step = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
      process.stderr.write(`  ${what} … `);
      const t = Date.now();
      const r = await f();
      process.stderr.write(`${((Date.now() - t) / 1000).toFixed(1)} s\n`);
      return r;
    };
    const produced = await step('a. produce (@platformatic/kafka)', () => produce(broker.bootstrap, records));
    check((await endOffsets(broker.bootstrap, RAW_TOPIC)) === records, `${fmtInt(records)} records in ${RAW_TOPIC}`);
    const raw = await step('a. consume, raw fetch', () => consumeRaw(broker.bootstrap, records));
    const stream = await step('a. consume, Consumer stream', () => consumeStream(broker.bootstrap, records));
    const javaProduced = await step('b. ProducerPerformance', () => producerPerformance(broker, records));
    const javaConsumed = await step('b. ConsumerPerformance', () => consumerPerformance(broker, records));
    const eos = await step('c. exactly-once tumbling count (append, then run)', () => exactlyOnce(broker.bootstrap, eosRecords));

    const row = (name: string, m: Measured, ratio: string): string[] => [name, fmtInt(m.records), seconds(m.ms), fmtRate(rate(m)), fmtMbs(m.bytesPerS), ratio, m.note];
    const vs = (m: Measured, base: Measured, what: string): string => `${pct(rate(m) / rate(base))} of ${what}`;
    console.log(
      table([
        ['case', 'records', 'time', 'records/s', 'MB/s', 'ratio', 'how'],
        row('a. produce, @platformatic/kafka', produced, vs(produced, javaProduced, 'b. producer')),
        row('a. consume, raw fetch', raw, vs(raw, javaConsumed.total, 'b. consumer')),
        row('a. consume, Consumer stream', stream, vs(stream, javaConsumed.total, 'b. consumer')),
        row('b. ProducerPerformance (Java)', javaProduced, '(baseline)'),
        row('b. ConsumerPerformance (Java)', javaConsumed.total, '(baseline)'),
        row('b. ConsumerPerformance, fetch only', javaConsumed.fetch, ''),
        row('c. KafkaLog.append', eos.append, vs(eos.append, produced, 'a. produce')),
        row('c. tumbling count, exactly-once', eos.run, vs(eos.run, raw, 'a. raw fetch')),
        row('c. the same, after its first record', measured(eos.run.records, eos.run.ms - eos.prepareMs, 'the run less its preparation (to within 10 ms)', (eos.run.bytesPerS * eos.run.ms) / 1000), vs(measured(eos.run.records, eos.run.ms - eos.prepareMs, ''), raw, 'a. raw fetch')),
      ]),
    );
    console.log('');
    console.log('MB/s: value bytes only (100 B per record in a and b; the JSON values in c), as Kafka\'s tools count; time: from the first request to the last record, connections and producer ids set up before.');
    console.log(
      `c: ${fmtInt(eosRecords)} readings of ${KEYS} sensors in turn, event time +${STEP_MS} ms each, keyed by sensor (murmur2 partitions as Kafka's); ` +
        `groupByKey().windowedBy(TimeWindows.ofSize(${WINDOW_MS})).count({ emit: 'final' }); the run reads its input with raw read_committed fetches, restores nothing (a new application), ` +
        `and commits ${fmtInt(eos.commits)} times (each a Kafka transaction per task with outputs, changelog writes and checkpoint).`,
    );
    console.log(`check: ${fmtInt(eos.results)} window results = ${eos.windows} closed windows × ${eos.keys} keys, every count equal to the one computed by hand from the input (the last window of each task stays open).`);
  } finally {
    process.stderr.write('  stopping the broker … ');
    await broker.stop();
    rmSync(broker.dataDir, { recursive: true, force: true });
    process.stderr.write('done\n');
  }
  const load1 = loadavg()[0]!;
  console.log(
    `\n(kafka bench took ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${cpus().length} CPUs` +
      `${Math.max(load0, load1) > cpus().length ? ': other processes competed for the CPU, wall-clock figures are noisy' : ''})`,
  );
}

await main();
