/**
 * The Kafka connector on a cluster of three brokers, its input's leaders
 * spread over them: a stateful, windowed topology with a repartition, in
 * catch-up, writes the same output as on the embedded log. The file starts
 * a cluster of its own (dev-broker's startKafkaCluster), not the suite's
 * single broker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Admin } from '@platformatic/kafka';
import { Application } from '../../src/index.ts';
import { KafkaLog } from '../../src/kafka.ts';
import { kafkaPrerequisites, startKafkaCluster, type KafkaCluster } from '../../src/dev-broker/index.ts';
import { KAFKA_SKIP_ENV, skippedWithoutKafka } from '../fixtures/kafka.ts';
import { embeddedRun, snapshot } from '../fixtures/kafka-reference.ts';
import { APP_ID, buildTopology, caseArb, comparedStreams, fingerprints, internalStreams, materialize, streamsOf, watermarkStreams, type Case } from '../fixtures/determinism-topologies.ts';

const PARTITIONS = 6;
/** Windows (tumbling, session, sliding), a groupBy through an internal stream with hopping windows, and a stateful timer processor, all on one input. */
const TOPOLOGY = 'watermark';

let cluster: KafkaCluster | undefined;
let dataDir: string | undefined;

before(async () => {
  if (process.env[KAFKA_SKIP_ENV] !== undefined || !kafkaPrerequisites().ok) return; // the test skips (or fails under TIDEMARK_REQUIRE_KAFKA=1)
  dataDir = mkdtempSync(join(tmpdir(), 'tidemark-kafka-cluster-test-'));
  cluster = await startKafkaCluster({ nodes: 3, dataDir });
});

after(async () => {
  await cluster?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

/** A large case whose timestamps are all valid (broker time differs between Kafka and the embedded log), its input spread over 6 partitions. */
function theCase(): Case {
  const arb = caseArb({ topologies: [TOPOLOGY], maxRecords: 250 }).map((c) => ({ ...c, partitioning: 'key' as const, records: c.records.filter((r) => !r.anomaly.startsWith('ts-')) }));
  const c = fc.sample(arb, { seed: 1500, numRuns: 20 }).sort((a, b) => b.records.length - a.records.length)[0]!;
  return { ...c, partitions: Object.fromEntries(Object.keys(c.partitions).map((g) => [g, PARTITIONS])) };
}

/** Creates the input topics with replication factor 3 and returns the distinct leaders of their partitions. */
async function createInputs(bootstrap: string, c: Case): Promise<Set<number>> {
  const admin = new Admin({ clientId: 'tidemark-cluster-test', bootstrapBrokers: bootstrap.split(',') });
  try {
    const metadata = await admin.metadata({ topics: [] });
    assert.equal(metadata.brokers.size, 3, 'the cluster lists three brokers');
    const inputs = streamsOf(c);
    await admin.createTopics({ topics: inputs.map((s) => s.stream), partitions: PARTITIONS, replicas: 3, configs: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] });
    for (let i = 0; ; i++) {
      const m = await admin.metadata({ topics: inputs.map((s) => s.stream), forceUpdate: true });
      const partitions = inputs.flatMap((s) => m.topics.get(s.stream)?.partitions ?? []);
      if (partitions.length === inputs.length * PARTITIONS && partitions.every((p) => p.leader >= 0 && p.replicas.length === 3)) return new Set(partitions.map((p) => p.leader));
      if (i > 100) throw new Error(`the input topics have no leaders after 20 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.close();
  }
}

test('on a 3-broker cluster, leaders spread, catch-up writes the same output as the embedded log', { timeout: 600_000 }, async (t) => {
  if (skippedWithoutKafka(t)) return;
  assert.ok(cluster !== undefined, 'the cluster started');
  const c = theCase();
  const records = materialize(c);
  const expected = (await embeddedRun(c, records)).fingerprints;
  const leaders = await createInputs(cluster.bootstrap, c);
  assert.ok(leaders.size >= 2, `the input's partitions are led by at least 2 brokers (leaders: ${[...leaders].join(', ')})`);
  const klog = await KafkaLog.open({ bootstrap: cluster.bootstrap });
  try {
    await klog.createStreams(streamsOf(c));
    await klog.append(records.map(({ stream, partition, key, value, headers, eventTime }) => ({ stream, partition, key, value, headers, eventTime })));
    await new Application(buildTopology(c.topology), { applicationId: APP_ID, log: klog }).run({ mode: 'catch-up', commitIntervalMs: 50 });
    const streams = [...new Set([...comparedStreams(TOPOLOGY), ...watermarkStreams(TOPOLOGY), ...internalStreams(TOPOLOGY)])];
    assert.deepEqual(fingerprints(await snapshot(klog, streams), TOPOLOGY), expected);
    t.diagnostic(`${TOPOLOGY} catch-up on 3 brokers (leaders ${[...leaders].join(', ')}): ${records.length} records`);
  } finally {
    await klog.close();
  }
});
