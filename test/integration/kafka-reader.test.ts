/**
 * The Kafka connector's reads, against a real broker: a task reads what
 * was fetched ahead, and moves its read position at will (a share of an
 * internal stream read again from where it was left, a task rewinding to
 * its checkpoint) — whatever fetch is under way meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogRecord } from '../../src/index.ts';
import { KafkaLog } from '../../src/kafka.ts';
import { deleteTopics, kafkaBroker } from '../fixtures/kafka.ts';

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
