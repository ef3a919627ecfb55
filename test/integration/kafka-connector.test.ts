/**
 * The Kafka connector against a real broker: the same topology on the same
 * input gives the same output on Kafka as on the embedded log, in catch-up
 * and in real time; bad input goes to a dead-letter topic with its headers.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Application, Extractors, Serdes, StreamsBuilder, DEAD_LETTER_HEADERS } from '../../src/index.ts';
import { KafkaLog } from '../../src/kafka.ts';
import { freshStateDir, kafkaBroker, resetTopics } from '../fixtures/kafka.ts';
import { casesFor, embeddedRun, runOnKafka, snapshot, streamsToCompare } from '../fixtures/kafka-reference.ts';
import {
  APP_ID,
  buildTopology,
  fingerprints,
  materialize,
  streamsOf,
  type Case,
  type InputRecord,
} from '../fixtures/determinism-topologies.ts';

/**
 * Produces the case into fresh topics, runs it on Kafka, and fingerprints
 * what it wrote. `instances` > 1: that many instances of the application,
 * each with a connection of its own, share the tasks (`instance: I/N`) and
 * run at the same time (catch-up).
 */
async function kafkaRun(t: TestContext, bootstrap: string, c: Case, records: readonly InputRecord[], mode: 'catch-up' | 'real-time', expectedTaken: number, instances = 1): Promise<Record<string, string>> {
  const klog = await KafkaLog.open({ bootstrap });
  try {
    await klog.createStreams(streamsOf(c));
    await klog.refreshEnds(streamsOf(c).map((s) => s.stream));
    for (const s of streamsOf(c)) for (let p = 0; p < s.partitions; p++) assert.equal(klog.endOffset(s.stream, p), 0, `${s.stream}/${p} starts empty`);
    await klog.append(records.map(({ stream, partition, key, value, headers, eventTime }) => ({ stream, partition, key, value, headers, eventTime })));
    let out: Record<string, string>;
    if (instances > 1) {
      await runInstances(bootstrap, c, instances, expectedTaken);
      await klog.refreshStreams(); // the instances created the output topics
      out = fingerprints(await snapshot(klog, streamsToCompare(c.topology)), c.topology);
    } else out = await runOnKafka(klog, c, mode, expectedTaken);
    t.diagnostic(`${c.topology} ${mode}${instances > 1 ? `, ${instances} instances` : ''}: ${records.length} records`);
    return out;
  } finally {
    await klog.close();
  }
}

/** `n` instances of the application at once, each on a connection of its own, sharing the tasks statically. */
async function runInstances(bootstrap: string, c: Case, n: number, expectedTaken: number): Promise<void> {
  // Instances side by side in one process: each is a machine of its own, with a state dir of its own.
  const logs = await Promise.all(Array.from({ length: n }, (_, i) => KafkaLog.open({ bootstrap, stateDir: freshStateDir(`instance-${i}`) })));
  try {
    const summaries = await Promise.all(
      logs.map((log, instance) => new Application(buildTopology(c.topology), { applicationId: APP_ID, log }).run({ mode: 'catch-up', commitIntervalMs: 50, instance: { instance, instances: n } })),
    );
    assert.equal(summaries.reduce((sum, s) => sum + s.processed + s.deadLettered, 0), expectedTaken, 'the instances took every record once between them');
  } finally {
    await Promise.all(logs.map((l) => l.close()));
  }
}

test('one, two or three instances of an application on Kafka write the same output as one process on the embedded log', { timeout: 600_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  // Topologies without internal streams: with a static share of the tasks, an instance's catch-up cannot know when another's writes to a repartition topic end.
  for (const [i, topology] of (['stateful', 'windowed'] as const).entries()) {
    const c = casesFor(topology, 300 + i, 1)[0]!;
    const withPartitions = { ...c, partitions: Object.fromEntries(Object.keys(c.partitions).map((g) => [g, 3])) };
    const records = materialize(withPartitions);
    const expected = await embeddedRun(withPartitions, records);
    for (const instances of [1, 2, 3]) {
      await resetTopics(broker.bootstrap);
      assert.deepEqual(await kafkaRun(t, broker.bootstrap, withPartitions, records, 'catch-up', expected.taken, instances), expected.fingerprints, `${topology}, ${instances} instances`);
    }
  }
});

test('the same topology on the same input writes the same output on Kafka as on the embedded log, in catch-up and real time', { timeout: 600_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  for (const [i, topology] of (['windowed', 'repartition', 'watermark', 'stateful', 'table', 'versioned-table', 'join', 'stream-table-join', 'watermark-join', 'table-join', 'fk-join'] as const).entries()) {
    for (const c of casesFor(topology, 100 + i, 1)) {
      const records = materialize(c);
      const expected = await embeddedRun(c, records);
      for (const mode of ['catch-up', 'real-time'] as const) {
        // Each run in a broker of its own topics: the cleanest way to start from nothing is a fresh broker state.
        await resetTopics(broker.bootstrap);
        assert.deepEqual(await kafkaRun(t, broker.bootstrap, c, records, mode, expected.taken), expected.fingerprints, `${topology} ${mode}`);
      }
    }
  }
});

test('tables, stream–table, table–table and foreign-key joins on Kafka, stopped halfway and finished on a new machine, restore their rows and waiting records from the changelog: the output is the embedded run\'s', { timeout: 600_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  for (const [i, topology] of (['table', 'versioned-table', 'stream-table-join', 'table-join', 'fk-join'] as const).entries()) {
    for (const c of casesFor(topology, 200 + i, 1)) {
      const records = materialize(c);
      const expected = await embeddedRun(c, records);
      await resetTopics(broker.bootstrap);
      const writer = await KafkaLog.open({ bootstrap: broker.bootstrap });
      try {
        await writer.createStreams(streamsOf(c));
        await writer.append(records.map(({ stream, partition, key, value, headers, eventTime }) => ({ stream, partition, key, value, headers, eventTime })));
      } finally {
        await writer.close();
      }
      // Each part on a machine of its own: the second has no local state, so its tables come from the changelog.
      const half = Math.floor(expected.taken / 2);
      let taken = 0;
      for (const [part, maxRecords] of [['first', half], ['second', undefined]] as const) {
        const klog = await KafkaLog.open({ bootstrap: broker.bootstrap, stateDir: freshStateDir(`${topology}-${part}`) });
        try {
          const summary = await new Application(buildTopology(c.topology), { applicationId: APP_ID, log: klog }).run({ mode: 'catch-up', commitIntervalMs: 50, ...(maxRecords === undefined ? {} : { maxRecords }) });
          taken += summary.processed + summary.deadLettered;
          if (part === 'second') {
            assert.ok(summary.processed > 0, `${topology}: the second machine had records left to process`);
            await klog.refreshStreams();
            assert.deepEqual(fingerprints(await snapshot(klog, streamsToCompare(c.topology)), c.topology), expected.fingerprints, `${topology}: stopped after ${half} of ${expected.taken}, finished elsewhere`);
          }
        } finally {
          await klog.close();
        }
      }
      assert.ok(taken >= expected.taken, `${topology}: every record taken (${taken} of ${expected.taken})`);
      t.diagnostic(`${topology}: ${records.length} records, stopped after ${half}`);
    }
  }
});

/** Input of the bad-input test, one record per kind of trouble, and what must become of it. */
const BAD_INPUT: readonly { value: string | Uint8Array; key: string; fate: 'ok' | 'dead-letter' | 'broker-time'; field?: string }[] = [
  { key: 'a', value: '{"v":1,"ts":1000}', fate: 'ok' },
  { key: 'b', value: '{"v":2,', fate: 'dead-letter' },
  { key: 'c', value: new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), fate: 'dead-letter' },
  { key: 'd', value: '{"v":4,"ts":-5}', fate: 'dead-letter', field: 'ts' },
  { key: 'e', value: '{"v":5,"ts":"soon"}', fate: 'dead-letter', field: 'ts' },
  { key: 'f', value: '{"v":6,"ts":1000.5}', fate: 'dead-letter', field: 'ts' },
  { key: 'g', value: '{"v":7}', fate: 'broker-time' },
  { key: 'h', value: '{"v":8,"ts":2000}', fate: 'ok' },
];

test('bad input on Kafka goes to the dead-letter topic with headers naming error, topic, partition and offset; a missing timestamp falls back to the broker time', { timeout: 120_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const b = new StreamsBuilder();
  // Invalid timestamps are skipped to the dead letters, a missing one falls back to broker time: two sources, two policies.
  b.stream<string, { v: number }>('bad-in', { key: Serdes.string(), value: Serdes.json(), timestamp: Extractors.field('ts'), onInvalidTimestamp: 'skip' })
    .filter((_, v) => typeof v.v === 'number')
    .to('bad-out', { key: Serdes.string(), value: Serdes.json() });
  b.stream<string, { v: number }>('missing-in', { key: Serdes.string(), value: Serdes.json(), timestamp: Extractors.field('ts'), onInvalidTimestamp: 'brokerTime' }).to('missing-out', { key: Serdes.string(), value: Serdes.json() });
  const klog = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    await klog.createStreams([
      { stream: 'bad-in', partitions: 2 },
      { stream: 'missing-in', partitions: 2 },
    ]);
    const utf8 = new TextEncoder();
    const appended = await klog.append(
      BAD_INPUT.flatMap((r, i) => {
        const value = typeof r.value === 'string' ? utf8.encode(r.value) : r.value;
        const stream = r.fate === 'broker-time' ? 'missing-in' : 'bad-in';
        return [{ stream, partition: i % 2, key: utf8.encode(r.key), value, headers: {}, eventTime: 1 }];
      }),
    );
    const summary = await new Application(b.build(), { applicationId: 'bad-input', log: klog }).run({ mode: 'catch-up' });
    const expectedDead = appended.filter((_, i) => BAD_INPUT[i]!.fate === 'dead-letter');
    assert.equal(summary.deadLettered, expectedDead.length);
    const dead = (await klog.readStream('bad-input.dead-letter')).flat();
    assert.deepEqual(
      dead.map((d) => `${d.headers[DEAD_LETTER_HEADERS.stream]}/${d.headers[DEAD_LETTER_HEADERS.partition]}@${d.headers[DEAD_LETTER_HEADERS.offset]}`).sort(),
      expectedDead.map((r) => `${r.stream}/${r.partition}@${r.offset}`).sort(),
    );
    for (const d of dead) {
      const original = expectedDead.find((r) => `${r.partition}@${r.offset}` === `${d.headers[DEAD_LETTER_HEADERS.partition]}@${d.headers[DEAD_LETTER_HEADERS.offset]}`)!;
      const spec = BAD_INPUT[appended.indexOf(original)]!;
      assert.ok((d.headers[DEAD_LETTER_HEADERS.error] ?? '').length > 0, 'the error is named');
      if (spec.field !== undefined) assert.equal(d.headers[DEAD_LETTER_HEADERS.field], `value.${spec.field}`);
      assert.deepEqual(d.value, original.value, 'the raw bytes, untouched');
    }
    assert.equal(klog.readAudit('bad-input').filter((e) => e.kind === 'dead-letter').length, expectedDead.length, 'audited, and the audit is committed to Kafka');
    assert.deepEqual((await klog.readStream('bad-out')).flat().map((r) => r.eventTime).sort(), [1000, 2000], 'valid records keep their timestamps');
    // The fallback: the record without `ts` takes the time the broker stamped on it (LogAppendTime).
    const [input] = (await klog.readStream('missing-in')).flat();
    const [output] = (await klog.readStream('missing-out')).flat();
    assert.ok(input !== undefined && output !== undefined && typeof input.brokerTime === 'number');
    assert.equal(output.eventTime, input.brokerTime);
  } finally {
    await klog.close();
  }
});
