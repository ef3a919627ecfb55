/**
 * A broker restart in the middle of a run: the run rides it out (its
 * requests are retried while the broker is away, its open transaction goes
 * on) and writes exactly what a run without the restart writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { Application, fingerprintPartitions, type LogRecord } from '../../src/index.ts';
import { KafkaLog } from '../../src/kafka.ts';
import { startKafkaBroker } from '../../src/dev-broker/index.ts';
import { APP_ID, buildTopology, caseArb, comparedStreams, materialize, streamsOf } from '../fixtures/determinism-topologies.ts';
import { kafkaBroker } from '../fixtures/kafka.ts';

/** What `application` wrote to `stream`: both runs write the same output topics, told apart by the producer header. */
function writtenBy(partitions: readonly LogRecord[][], application: string): LogRecord[][] {
  return partitions.map((records) => records.filter((r) => r.headers['tidemark.producer']?.startsWith(`${application}/`)).map((r) => ({ ...r, headers: {} })));
}

test('a broker restart in the middle of a run: the run survives and its output is unchanged', { timeout: 300_000 }, async (t) => {
  // The shared broker is the suite's; this test restarts a broker of its own.
  if ((await kafkaBroker(t)) === undefined) return;
  const broker = await startKafkaBroker({});
  t.after(async () => {
    await broker.stop();
    rmSync(broker.dataDir, { recursive: true, force: true });
  });
  const arb = caseArb({ topologies: ['stateful'], maxRecords: 300 }).map((c) => ({ ...c, records: c.records.filter((r) => !r.anomaly.startsWith('ts-')) }));
  const c = fc.sample(arb, { seed: 5, numRuns: 20 }).sort((a, b) => b.records.length - a.records.length)[0]!;
  const records = materialize(c).map(({ stream, partition, key, value, headers, eventTime }) => ({ stream, partition, key, value, headers, eventTime }));
  const outputs = comparedStreams(c.topology);
  const klog = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    await klog.createStreams(streamsOf(c));
    for (let i = 0; i < 20; i++) await klog.append(records);
  } finally {
    await klog.close();
  }

  const runs: Record<string, string[]> = {};
  for (const restart of [false, true]) {
    const application = `${APP_ID}-restart-${restart}`;
    const log = await KafkaLog.open({ bootstrap: broker.bootstrap });
    try {
      let restarting: Promise<void> | undefined;
      let restartedAt = Infinity;
      const summary = await new Application(buildTopology(c.topology), { applicationId: application, log }).run({
        mode: 'catch-up',
        commitIntervalMs: 50,
        fetchSize: 50,
        progressIntervalMs: 50,
        onProgress: (p) => {
          // Once a fifth is done: well inside the run, with transactions open.
          if (restart && restarting === undefined && p.processed > (p.processed + p.lag) / 5) restarting = broker.restart().then(() => void (restartedAt = Date.now()));
        },
      });
      const endedAt = Date.now();
      if (restart) {
        assert.ok(restarting !== undefined, 'the broker was restarted');
        await restarting;
        assert.ok(restartedAt <= endedAt, 'the restart completed before the run ended: the run rode it out');
      }
      t.diagnostic(`${restart ? 'with' : 'without'} a restart: ${summary.processed} processed, ${summary.commits} commits`);
      runs[String(restart)] = [];
      for (const o of outputs) {
        // Each application has its own dead-letter topic; the other outputs are shared.
        const topic = o === `${APP_ID}.dead-letter` ? `${application}.dead-letter` : o;
        runs[String(restart)]!.push(`${o} ${fingerprintPartitions(writtenBy(await log.readStream(topic), application))}`);
      }
    } finally {
      await log.close();
    }
  }
  assert.ok(runs['false']!.length > 0);
  assert.deepEqual(runs['true'], runs['false']);
});
