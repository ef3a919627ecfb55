/**
 * How durable the topics tidemark creates are, against the suite's broker:
 * the replication factor and min.insync.replicas asked for (read back from
 * the broker's metadata and DescribeConfigs), the broker's defaults when
 * nothing is asked, a clear error when the cluster cannot have what is
 * asked, and a bootstrap list whose first broker is down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Admin, ConfigResourceTypes, ConfigSources } from '@platformatic/kafka';
import { Application } from '../../src/index.ts';
import { KafkaLog, kafkaTopics } from '../../src/kafka.ts';
import maxTemperature from '../../examples/topologies/max-temperature.ts';
import { kafkaBroker, resetTopics } from '../fixtures/kafka.ts';

const utf8 = new TextEncoder();
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Runs the CLI as a child process with `env` added (asynchronously: the broker's fixture lives in this process). */
function cli(args: readonly string[], env: Record<string, string>, input: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env, NO_COLOR: '1' } });
    let stderr = '';
    child.stdout.resume();
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
    child.stdin.end(input);
  });
}

interface TopicDurabilityRead {
  /** Replicas of each partition. */
  readonly replicas: number[];
  readonly minInsyncReplicas: string | undefined;
  /** Whether min.insync.replicas is the topic's own setting (not the broker's default). */
  readonly ownMinInsync: boolean;
}

/** What the broker says of each of `topics`: its partitions' replica counts and its min.insync.replicas. */
async function readDurability(bootstrap: string, topics: readonly string[]): Promise<Map<string, TopicDurabilityRead>> {
  const admin = new Admin({ clientId: 'tidemark-durability-test', bootstrapBrokers: [bootstrap] });
  try {
    const metadata = await admin.metadata({ topics: [...topics] });
    const described = await admin.describeConfigs({ resources: topics.map((t) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: t, configurationKeys: ['min.insync.replicas'] })) });
    return new Map(
      topics.map((t) => {
        const isr = described.find((d) => d.resourceName === t)?.configs.find((c) => c.name === 'min.insync.replicas');
        return [t, { replicas: metadata.topics.get(t)!.partitions.map((p) => p.replicas.length), minInsyncReplicas: isr?.value ?? undefined, ownMinInsync: isr?.configSource === ConfigSources.DYNAMIC_TOPIC_CONFIG }];
      }),
    );
  } finally {
    await admin.close();
  }
}

/** The broker's own `default.replication.factor` (DescribeConfigs of the broker). */
async function brokerDefaultReplicationFactor(bootstrap: string): Promise<number> {
  const admin = new Admin({ clientId: 'tidemark-durability-test', bootstrapBrokers: [bootstrap] });
  try {
    const metadata = await admin.metadata({ topics: [] });
    const [brokerId] = metadata.brokers.keys();
    const [d] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName: String(brokerId), configurationKeys: ['default.replication.factor'] }] });
    return Number(d!.configs.find((c) => c.name === 'default.replication.factor')!.value);
  } finally {
    await admin.close();
  }
}

/** A port nothing listens on (bound and released at once). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('every topic a run creates has the replication factor and min.insync.replicas asked for', { timeout: 120_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap, replicationFactor: 1, minInsyncReplicas: 1 });
  const { applicationId, topology } = maxTemperature;
  try {
    await log.createStreams([{ stream: 'readings', partitions: 2 }]);
    await log.append([{ stream: 'readings', partition: 0, key: utf8.encode('"s1"'), value: utf8.encode('{"celsius":21}'), eventTime: 1 }]);
    await new Application(topology, { applicationId, log }).run({ mode: 'catch-up' });
  } finally {
    await log.close();
  }
  const created = ['readings', 'max-temperature', `${applicationId}.dead-letter`, kafkaTopics.changelog(applicationId, 'max'), kafkaTopics.checkpoints(applicationId), kafkaTopics.audit(applicationId)];
  const read = await readDurability(broker.bootstrap, created);
  for (const topic of created) {
    const d = read.get(topic)!;
    assert.ok(d.replicas.length > 0 && d.replicas.every((n) => n === 1), `${topic}: replicas ${d.replicas.join(',')}`);
    assert.deepEqual([d.minInsyncReplicas, d.ownMinInsync], ['1', true], `${topic}: min.insync.replicas as the topic's own setting`);
  }
});

test("without the options, topics get the broker's default replication factor and min.insync.replicas", { timeout: 60_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    await log.createStreams([{ stream: 'plain', partitions: 2 }, { stream: 'compacted', partitions: 1, compact: true }]);
  } finally {
    await log.close();
  }
  const rf = await brokerDefaultReplicationFactor(broker.bootstrap);
  for (const [topic, d] of await readDurability(broker.bootstrap, ['plain', 'compacted'])) {
    assert.ok(d.replicas.every((n) => n === rf), `${topic}: replicas ${d.replicas.join(',')}, the broker's default.replication.factor is ${rf}`);
    assert.equal(d.ownMinInsync, false, `${topic}: no min.insync.replicas of its own`);
  }
});

test('minInsyncReplicas alone is set on the topics, the replication factor left to the broker', { timeout: 60_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap, minInsyncReplicas: 2 });
  try {
    await log.createStreams([{ stream: 'strict', partitions: 1 }, { stream: 'strict-compacted', partitions: 1, compact: true }]);
  } finally {
    await log.close();
  }
  for (const [topic, d] of await readDurability(broker.bootstrap, ['strict', 'strict-compacted'])) assert.deepEqual([d.minInsyncReplicas, d.ownMinInsync], ['2', true], topic);
});

test('a replication factor the cluster cannot give is a one-line error naming the topic and the broker\'s reason', { timeout: 60_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap, replicationFactor: 3 });
  try {
    await assert.rejects(log.createStreams([{ stream: 'replicated', partitions: 1 }]), (e: Error) => {
      t.diagnostic(e.message);
      assert.match(e.message, /^creating Kafka topic replicated: INVALID_REPLICATION_FACTOR: .*replication factor of 3/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  } finally {
    await log.close();
  }
});

test('a bootstrap list whose first broker is down: the client falls over to the next', { timeout: 60_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const log = await KafkaLog.open({ bootstrap: `127.0.0.1:${await unusedPort()},${broker.bootstrap}` });
  try {
    await log.createStreams([{ stream: 'listed', partitions: 1 }]);
    await log.append([{ stream: 'listed', partition: 0, key: null, value: utf8.encode('v'), eventTime: 1 }]);
    assert.equal((await log.readStream('listed')).flat().length, 1);
  } finally {
    await log.close();
  }
});

test('the CLI: --kafka with a list, --replication-factor, and min.insync.replicas from its environment variable', { timeout: 60_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const kafka = `127.0.0.1:${await unusedPort()},${broker.bootstrap}`;
  const produced = await cli(['produce', '--kafka', kafka, '--replication-factor', '1', '--stream', 'from-cli'], { TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS: '1' }, '{"key":"k","value":1}\n');
  assert.equal(produced.status, 0, produced.stderr);
  const d = (await readDurability(broker.bootstrap, ['from-cli'])).get('from-cli')!;
  assert.deepEqual([d.replicas, d.minInsyncReplicas, d.ownMinInsync], [[1], '1', true]);
  const refused = await cli(['produce', '--kafka', broker.bootstrap, '--stream', 'never'], { TIDEMARK_KAFKA_REPLICATION_FACTOR: '0' }, '');
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /^tidemark produce: TIDEMARK_KAFKA_REPLICATION_FACTOR must be a positive integer or -1 \(the broker's default\), got "0"/);
});
