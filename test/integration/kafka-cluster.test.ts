/**
 * The Kafka connector on a cluster of three brokers, its input's leaders
 * spread over them (replication factor 3): the windowed, repartition,
 * watermark and stateful topologies, in catch-up and in real time, write
 * the same output as on the embedded log. The file starts a cluster of its
 * own (dev-broker's startKafkaCluster), not the suite's single broker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { KafkaLog } from '../../src/kafka.ts';
import { kafkaPrerequisites, startKafkaCluster, type KafkaCluster } from '../../src/dev-broker/index.ts';
import { KAFKA_SKIP_ENV, resetTopics, skippedWithoutKafka } from '../fixtures/kafka.ts';
import { casesFor, embeddedRun, runOnKafka } from '../fixtures/kafka-reference.ts';
import { materialize, streamsOf, type Case, type TopologyName } from '../fixtures/determinism-topologies.ts';

const PARTITIONS = 6;
/** Windows; a groupBy through an internal stream; windows, sessions, a repartition and timers on watermarks; keyed state. */
const TOPOLOGIES: readonly TopologyName[] = ['windowed', 'repartition', 'watermark', 'stateful'];

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

/** A large case of `topology` whose timestamps are all valid (broker time differs between Kafka and the embedded log), its input spread over 6 partitions by key. */
function caseOf(topology: TopologyName, seed: number): Case {
  const c = casesFor(topology, seed, 1)[0]!;
  return { ...c, partitioning: 'key', partitions: Object.fromEntries(Object.keys(c.partitions).map((g) => [g, PARTITIONS])) };
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

test('on a 3-broker cluster, leaders spread, the windowed, repartition, watermark and stateful topologies write the same output as the embedded log, in catch-up and real time', { timeout: 900_000 }, async (t) => {
  if (skippedWithoutKafka(t)) return;
  assert.ok(cluster !== undefined, 'the cluster started');
  for (const [i, topology] of TOPOLOGIES.entries()) {
    const c = caseOf(topology, 1500 + i);
    const records = materialize(c);
    const expected = await embeddedRun(c, records);
    for (const mode of ['catch-up', 'real-time'] as const) {
      // Each run from an empty cluster: the outputs are compared whole.
      await resetTopics(cluster.bootstrap);
      const leaders = await createInputs(cluster.bootstrap, c);
      assert.ok(leaders.size >= 2, `the input's partitions are led by at least 2 brokers (leaders: ${[...leaders].join(', ')})`);
      const klog = await KafkaLog.open({ bootstrap: cluster.bootstrap });
      try {
        await klog.createStreams(streamsOf(c));
        await klog.append(records.map(({ stream, partition, key, value, headers, eventTime }) => ({ stream, partition, key, value, headers, eventTime })));
        assert.deepEqual(await runOnKafka(klog, c, mode, expected.taken), expected.fingerprints, `${topology} ${mode}`);
        t.diagnostic(`${topology} ${mode} on 3 brokers (leaders ${[...leaders].join(', ')}): ${records.length} records`);
      } finally {
        await klog.close();
      }
    }
  }
});
