/**
 * A producer application's restart and rescale on Kafka: the announcements
 * travel in the topics as the other watermark records do, and the consumer
 * treats none of the producer's records as late.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaLog } from '../../src/connectors/kafka/kafka-log.ts';
import { kafkaBroker, resetTopics } from '../fixtures/kafka.ts';
import { C_OUT, appendReadings, assertCorrectConsumer, resultsOf, runB, runC, type Reading } from '../fixtures/producer-lifecycle.ts';

const r = (key: string, t: number, partition: number): Reading => ({ key, t, partition });

/** Runs `runs` of B (each on its input, with its readings), then C once, on fresh topics; returns C's summary and results. */
async function scenario(t: TestContext, runs: readonly { input: string; partitions: number; readings: readonly Reading[] }[]) {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return undefined;
  await resetTopics(broker.bootstrap);
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    for (const run of runs) {
      await appendReadings(log, run.input, run.partitions, run.readings);
      await runB(log, run.input, { commitIntervalMs: 0 });
    }
    const summary = await runC(log);
    await log.refreshStreams();
    return { summary, results: resultsOf(await log.readStream(C_OUT)) };
  } finally {
    await log.close();
  }
}

test('Kafka: restarting a producer application with two tasks: its consumer treats none of its records as late', { timeout: 180_000 }, async (t) => {
  const batch1 = [r('x', 5, 0), r('y', 3, 1)];
  const batch2 = [r('x', 31, 0), r('y', 13, 1)];
  const out = await scenario(t, [{ input: 'a', partitions: 2, readings: batch1 }, { input: 'a', partitions: 2, readings: batch2 }]);
  if (out === undefined) return;
  assertCorrectConsumer(out.results, out.summary, [...batch1, ...batch2], 12);
  assert.deepEqual(out.results, ['x [0,10) = 1', 'y [0,10) = 1']);
});

test('Kafka: rescaling a producer application from 3 tasks to 2 and back to 3: nothing late, and never stuck on the task rescaled away', { timeout: 180_000 }, async (t) => {
  const run1 = [r('x', 1, 0), r('y', 2, 1), r('z', 3, 2)];
  const run2 = [r('x', 35, 0), r('y', 14, 1), r('x', 41, 0), r('y', 43, 1)];
  const run3 = [r('x', 52, 0), r('y', 55, 1), r('z', 51, 2)];
  const out = await scenario(t, [
    { input: 'a3', partitions: 3, readings: run1 },
    { input: 'a2', partitions: 2, readings: run2 },
    { input: 'a3b', partitions: 3, readings: run3 },
  ]);
  if (out === undefined) return;
  // The third run's 0_2 promised 50 (its record at 51), 0_0 51, 0_1 54.
  assertCorrectConsumer(out.results, out.summary, [...run1, ...run2, ...run3], 50);
});
