/**
 * Large commits on Kafka: a commit whose output to one partition is bigger
 * than a record batch may be (the topic's max.message.bytes, 1 MB by
 * default) is split over several produce requests of one transaction, so a
 * catch-up over megabytes of input writes what the embedded log writes; a
 * single output record over its topic's limit is a dead letter naming the
 * input that made it. Topic creation errors carry the broker's reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { Application, EmbeddedLog, ManualClock, Serdes, StreamsBuilder, fingerprintPartitions, fingerprintStream, type AppendRecord, type Log, type TaskStorage, type Topology } from '../../src/index.ts';
import { KafkaLog } from '../../src/kafka.ts';
import { kafkaBroker, resetTopics } from '../fixtures/kafka.ts';

const utf8 = new TextEncoder();
const IN = 'large-in';
const OUT = 'large-out';

/** Pass-through: every input record to the output, as it is. */
function passThrough(): Topology {
  const b = new StreamsBuilder();
  b.stream<string, string>(IN, { key: Serdes.string(), value: Serdes.string() }).to(OUT, { key: Serdes.string(), value: Serdes.string() });
  return b.build();
}

/** Stateful: per key, the count so far and the latest value; its changelog gets a write as big as each record. */
function latestPerKey(): Topology {
  const b = new StreamsBuilder();
  b.stream<string, string>(IN, { key: Serdes.string(), value: Serdes.string() })
    .groupByKey()
    .aggregate(() => '0:', (_k, v, agg) => `${Number(agg.slice(0, agg.indexOf(':'))) + 1}:${v}`, { name: 'latest', value: Serdes.string() })
    .to(OUT, { key: Serdes.string(), value: Serdes.string() });
  return b.build();
}

/** `count` records of about `bytes` bytes each, on `keys` keys, in one partition; distinct values, so that order shows. */
function bigRecords(count: number, bytes: number, keys: number, from = 0): AppendRecord[] {
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    const head = `${i}:`;
    return { stream: IN, partition: 0, key: utf8.encode(`k${i % keys}`), value: utf8.encode(head + String.fromCharCode(97 + (i % 26)).repeat(bytes - head.length)), headers: {}, eventTime: 1000 + i };
  });
}

/** A whole catch-up for each batch of input in turn (the second one restores the first's state), committing once at the end of each. */
async function runPhases(logs: { current: Log & TaskStorage }, topology: () => Topology, app: string, phases: readonly AppendRecord[][], reopen?: () => Promise<Log & TaskStorage>): Promise<void> {
  for (const [i, records] of phases.entries()) {
    if (i > 0 && reopen !== undefined) {
      await logs.current.close();
      logs.current = await reopen();
    }
    await logs.current.append(records);
    // One commit per phase: the whole phase's output, changelog and checkpoint go in one transaction.
    await new Application(topology(), { applicationId: app, log: logs.current }).run({ mode: 'catch-up', commitIntervalMs: 600_000 });
  }
}

async function embeddedFingerprint(topology: () => Topology, app: string, phases: readonly AppendRecord[][]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-large-ref-'));
  try {
    const log = await EmbeddedLog.open({ dataDir: dir, clock: new ManualClock(0) });
    try {
      log.ensureStream(IN, 1);
      await runPhases({ current: log }, topology, app, phases);
      return fingerprintStream(log, OUT);
    } finally {
      await log.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function kafkaFingerprint(bootstrap: string, topology: () => Topology, app: string, phases: readonly AppendRecord[][]): Promise<string> {
  await resetTopics(bootstrap);
  const logs: { current: Log & TaskStorage } = { current: await KafkaLog.open({ bootstrap }) };
  try {
    await (logs.current as KafkaLog).createStreams([{ stream: IN, partitions: 1 }]);
    // A new connection for each phase after the first: its state comes from the changelog only.
    await runPhases(logs, topology, app, phases, () => KafkaLog.open({ bootstrap }));
    return fingerprintPartitions(await (logs.current as KafkaLog).readStream(OUT));
  } finally {
    await logs.current.close();
  }
}

const CASES = [
  { name: '2,000 records of 1 KB', phases: () => [bigRecords(2000, 1024, 1000), bigRecords(20, 1024, 1000, 2000)] },
  { name: '2 records of 700 KB', phases: () => [bigRecords(2, 700 * 1024, 2), bigRecords(1, 700 * 1024, 2, 2)] },
];

for (const c of CASES) {
  test(`a Kafka catch-up of ${c.name} in one partition, committed at once, writes what the embedded log writes (pass-through and stateful)`, { timeout: 300_000 }, async (t) => {
    const broker = await kafkaBroker(t);
    if (broker === undefined) return;
    for (const [name, topology] of [['pass-through', passThrough], ['latest per key', latestPerKey]] as const) {
      const app = `large-${name.replaceAll(' ', '-')}`;
      const expected = await embeddedFingerprint(topology, app, c.phases());
      assert.equal(await kafkaFingerprint(broker.bootstrap, topology, app, c.phases()), expected, `${name}: the output's fingerprint`);
    }
  });
}

test("records to a topic with a small max.message.bytes are split into batches that fit it (read from the topic's config)", { timeout: 120_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const phases = (): AppendRecord[][] => [bigRecords(300, 1000, 300)];
  const expected = await embeddedFingerprint(passThrough, 'large-small-topic', phases());
  await resetTopics(broker.bootstrap);
  await createSmallTopic(broker.bootstrap, OUT, 20_000);
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    await log.createStreams([{ stream: IN, partitions: 1 }]);
    await runPhases({ current: log }, passThrough, 'large-small-topic', phases());
    assert.equal(fingerprintPartitions(await log.readStream(OUT)), expected);
  } finally {
    await log.close();
  }
});

/** Creates `topic` (one partition) with its own max.message.bytes, as an operator would. */
async function createSmallTopic(bootstrap: string, topic: string, maxMessageBytes: number): Promise<void> {
  const admin = new Admin({ clientId: 'tidemark-test', bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({ topics: [{ topic, partitions: 1, replicas: 1 }], configs: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] });
  } finally {
    await admin.close();
  }
}

test('a single output record over its topic\'s max.message.bytes is a dead letter naming the input that made it; the run goes on', { timeout: 120_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  await createSmallTopic(broker.bootstrap, OUT, 20_000);
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    await log.createStreams([{ stream: IN, partitions: 1 }]);
    const records = bigRecords(6, 1000, 6);
    records[3] = { ...records[3]!, key: utf8.encode('huge'), value: utf8.encode('x'.repeat(30_000)) };
    await log.append(records);
    const summary = await new Application(passThrough(), { applicationId: 'large-limit', log }).run({ mode: 'catch-up', commitIntervalMs: 600_000 });
    assert.equal(summary.deadLettered, 1);
    await log.refreshStreams();
    const out = (await log.readStream(OUT)).flat().filter((r) => r.control === undefined);
    assert.deepEqual(out.map((r) => new TextDecoder().decode(r.key!)), [0, 1, 2, 4, 5].map((i) => new TextDecoder().decode(records[i]!.key!)), 'every other record is written, in order');
    const dead = (await log.readStream('large-limit.dead-letter')).flat();
    assert.equal(dead.length, 1);
    const h = dead[0]!.headers;
    assert.deepEqual([h['tidemark.source.stream'], h['tidemark.source.partition'], h['tidemark.source.offset'], h['tidemark.error.field']], [IN, '0', '3', 'output']);
    assert.match(h['tidemark.error']!, new RegExp(`^output record to ${OUT}/0 \\(key 4 bytes, value 30000 bytes, from sink-${OUT}-\\d+\\) cannot be written: \\d+ bytes as a Kafka record batch, over the max\\.message\\.bytes 20000 of topic ${OUT}$`));
    t.diagnostic(h['tidemark.error']!);
    assert.equal(log.readAudit('large-limit').filter((e) => e.kind === 'dead-letter').length, 1);
  } finally {
    await log.close();
  }
});

test('a topic Kafka refuses to create gets an error naming it and the broker\'s reason', { timeout: 60_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    await assert.rejects(log.createStreams([{ stream: 'fine', partitions: 1 }, { stream: 'bad name!', partitions: 1 }]), (e: Error) => {
      assert.doesNotMatch(e.message, /\n/, 'one line');
      assert.match(e.message, /creating Kafka topic bad name!/);
      assert.match(e.message, /INVALID_TOPIC_EXCEPTION/, "the broker's error code");
      assert.match(e.message, /Topic name is invalid: 'bad name!' contains one or more characters other than/, "the broker's message");
      assert.doesNotMatch(e.message, /topic fine\b/, 'the topic that was created is not blamed');
      t.diagnostic(e.message);
      return true;
    });
    assert.equal(log.partitionCount('fine'), 1, 'the topic Kafka created all the same is known to the log');
    // Through a run: a sink whose name Kafka refuses fails the run's prepare with the same line.
    const b = new StreamsBuilder();
    b.stream<string, string>('fine', { key: Serdes.string(), value: Serdes.string() }).to('no/slashes', { key: Serdes.string(), value: Serdes.string() });
    await assert.rejects(new Application(b.build(), { applicationId: 'bad-topic', log }).run({ mode: 'catch-up' }), /creating Kafka topic no\/slashes: INVALID_TOPIC_EXCEPTION: Topic name is invalid/);
  } finally {
    await log.close();
  }
});
