/**
 * The Kafka connector's reads, against a real broker: a task reads what
 * was fetched ahead, and moves its read position at will (a share of an
 * internal stream read again from where it was left, a task rewinding to
 * its checkpoint) — whatever fetch is under way meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Producer } from '@platformatic/kafka';
import type { LogRecord } from '../../src/index.ts';
import { KafkaLog } from '../../src/kafka.ts';
import { deleteTopics, kafkaBroker } from '../fixtures/kafka.ts';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';

/** Reads from `from` until a record comes (the fetch behind it is in the background). */
async function readWhenFetched(log: KafkaLog, topic: string, from: number, max: number): Promise<LogRecord[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const records = log.read(topic, 0, from, max);
    if (records.length > 0) return records;
    assert.ok(Date.now() < deadline, `nothing read from ${topic}/0 at ${from} within 30 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a read moved back while a fetch from further on is under way gets the records from where it moved to', { timeout: 120_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const topic = `kreader-${process.pid}-read-back`;
  t.after(() => deleteTopics(broker.bootstrap, (n) => n === topic));
  const encoder = new TextEncoder();
  const writer = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    await writer.createStreams([{ stream: topic, partitions: 1 }]);
    // In batches of ten: a fetch returns whole batches, and one batch of everything would hide where a fetch began.
    for (let b = 0; b < 100; b++) await writer.append(Array.from({ length: 10 }, (_, j) => ({ stream: topic, partition: 0, key: null, value: encoder.encode(`v${b * 10 + j}`), eventTime: 1_000 + b * 10 + j })));
  } finally {
    await writer.close();
  }
  for (const [ahead, back] of [
    [500, 100],
    [900, 0],
    [300, 299],
  ] as const) {
    // A reader of its own each time, nothing fetched yet.
    const log = await KafkaLog.open({ bootstrap: broker.bootstrap });
    try {
      await log.refreshStreams();
      // The first read starts a fetch from `ahead`; the second, at once, moves back while it is under way.
      assert.deepEqual(log.read(topic, 0, ahead, 10), []);
      assert.deepEqual(log.read(topic, 0, back, 10), []);
      const records = await readWhenFetched(log, topic, back, 10);
      assert.deepEqual(
        records.map((r) => r.offset),
        Array.from({ length: 10 }, (_, i) => back + i),
        `read from ${back} after a read from ${ahead}`,
      );
      assert.equal(new TextDecoder().decode(records[0]!.value!), `v${back}`);
    } finally {
      await log.close();
    }
  }
});

test('property: any sequence of reads, moved anywhere at any moment, reads the partition\'s committed records in order, none skipped or repeated', { timeout: 300_000 }, async (t) => {
  // The reader serves reads from what it fetched ahead, in the background; tasks move their reads
  // at will. Whatever the moves and their timing against the fetches, a read from offset `o` must
  // return the committed records from `o` on — a prefix of them, as far as fetched. The partition
  // holds committed and aborted transactions in small batches, and their markers.
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const topic = `kreader-${process.pid}-moves`;
  t.after(() => deleteTopics(broker.bootstrap, (n) => n === topic));
  const setup = await KafkaLog.open({ bootstrap: broker.bootstrap });
  const producer = new Producer({ clientId: 'tidemark-kafka-reader-test', bootstrapBrokers: [broker.bootstrap], transactionalId: topic, producerId: -1n, producerEpoch: -1, idempotent: true, acks: -1 });
  let committed: LogRecord[];
  try {
    await setup.createStreams([{ stream: topic, partitions: 1 }]);
    for (let n = 0; n < 80; n++) {
      const tx = await producer.beginTransaction();
      await tx.send({ messages: Array.from({ length: 1 + (n % 7) }, (_, j) => ({ topic, partition: 0, key: Buffer.from('k'), value: Buffer.from(`${n % 5 === 3 ? 'aborted' : 'committed'}-${n}-${j}`) })) });
      await (n % 5 === 3 ? tx.abort() : tx.commit());
    }
    committed = (await setup.readStream(topic)).flat();
  } finally {
    await producer.close();
    await setup.close();
  }
  assert.ok(committed.length > 200 && committed.every((r) => new TextDecoder().decode(r.value!).startsWith('committed')), 'the reference holds the committed records only');
  const last = committed.at(-1)!.offset;
  const expectedFrom = (from: number, count: number): number[] => committed.filter((r) => r.offset >= from).slice(0, count).map((r) => r.offset);
  const step = fc.oneof(
    fc.record({ read: fc.integer({ min: 0, max: last + 1 }), max: fc.integer({ min: 1, max: 60 }) }),
    fc.record({ waitMs: fc.integer({ min: 0, max: 25 }) }),
  );
  // One reader for every case: each starts from where the one before left its cache and its fetch.
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    await log.refreshStreams();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
        for (const s of steps) {
          if ('waitMs' in s) await new Promise((r) => setTimeout(r, s.waitMs));
          else {
            const got = log.read(topic, 0, s.read, s.max).map((r) => r.offset);
            assert.deepEqual(got, expectedFrom(s.read, got.length), `read from ${s.read} (${s.max} at most)`);
          }
        }
        // However it moved, a read from its last position gets there in the end.
        const from = steps.flatMap((s) => ('read' in s ? [s.read] : [])).at(-1) ?? 0;
        const want = expectedFrom(from, 5);
        const deadline = Date.now() + 20_000;
        let got: number[] = [];
        while (got.length < want.length && Date.now() < deadline) {
          got = log.read(topic, 0, from, 5).map((r) => r.offset);
          await new Promise((r) => setTimeout(r, 5));
        }
        assert.deepEqual(got, want, `read from ${from} at the end`);
      }),
      propertyParams(propertyRuns(60)),
    );
  } finally {
    await log.close();
  }
});
