/**
 * Broker failures under a real-time run on a cluster of three brokers
 * (replication factor 3, min.insync.replicas 2, leaders spread): a broker
 * SIGKILLed while it leads input partitions, one SIGKILLed while it is a
 * task's transaction coordinator, and one restarted in the middle of a
 * commit. Each time the run goes on by itself once the leaders are elected
 * anew, the producer appending meanwhile (tidemark's `append`) writes
 * every record exactly once, and a read_committed reader sees every output
 * exactly once: the embedded run's. The file starts a cluster of its own.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, FindCoordinatorKeyTypes } from '@platformatic/kafka';
import { Application, type AppendRecord } from '../../src/index.ts';
import { KafkaLog } from '../../src/kafka.ts';
import { applicationInternals } from '../../src/runtime/application.ts';
import { kafkaErrorText } from '../../src/connectors/kafka/kafka-errors.ts';
import { kafkaPrerequisites, startKafkaCluster, type KafkaCluster, type KafkaClusterNode } from '../../src/dev-broker/index.ts';
import { KAFKA_SKIP_ENV, resetTopics, skippedWithoutKafka } from '../fixtures/kafka.ts';
import { DEAD_LETTERS, PARTITIONS, embeddedFingerprints, groupInput, groupTopology, kafkaFingerprints, waitFor } from '../fixtures/kafka-group.ts';

let cluster: KafkaCluster | undefined;
let dataDir: string | undefined;

before(async () => {
  if (process.env[KAFKA_SKIP_ENV] !== undefined || !kafkaPrerequisites().ok) return;
  dataDir = mkdtempSync(join(tmpdir(), 'tidemark-kafka-failover-'));
  cluster = await startKafkaCluster({ nodes: 3, dataDir });
});

after(async () => {
  await cluster?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

const DURABILITY = { replicationFactor: 3, minInsyncReplicas: 2 } as const;
const BATCH = 40;

/** What a scenario does to the cluster once a third of the input is appended: the broker it hits, and how. */
type Failure = (admin: Admin, applicationId: string) => Promise<{ node: KafkaClusterNode; what: string; how: 'kill' | 'restart' }>;

function nodeOf(c: KafkaCluster, id: number): KafkaClusterNode {
  const node = c.nodes.find((n) => n.id === id);
  assert.ok(node !== undefined, `broker ${id} is a node of the cluster`);
  return node;
}

/** The broker leading `readings` partition `p`. */
async function leaderOf(admin: Admin, p: number): Promise<number> {
  const m = await admin.metadata({ topics: ['readings'], forceUpdate: true });
  return m.topics.get('readings')!.partitions[p]!.leader;
}

/** The transaction coordinator of transactional id `id` (FindCoordinator). */
async function coordinatorOf(admin: Admin, id: string): Promise<number> {
  const [found] = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.TRANSACTION, keys: [id] });
  assert.ok(found !== undefined, `a coordinator of ${id}`);
  return found.nodeId;
}

/** The longest time in `times` (sorted) after `from` without an event: from `from` to the first, and between events. */
function longestPause(times: readonly number[], from: number): number {
  let last = from;
  let longest = 0;
  for (const t of times) {
    if (t < from) continue;
    longest = Math.max(longest, t - last);
    last = t;
  }
  return longest;
}

/** Every record of `readings` as `partition key value`, in partition and offset order, as a read_committed reader sees it. */
async function appended(bootstrap: string): Promise<string[][]> {
  const reader = await KafkaLog.open({ bootstrap });
  try {
    const text = new TextDecoder();
    return (await reader.readStream('readings')).map((records) => records.map((r) => `${text.decode(r.key ?? new Uint8Array())} ${text.decode(r.value ?? new Uint8Array())}`));
  } finally {
    await reader.close();
  }
}

function expectedAppended(records: readonly AppendRecord[]): string[][] {
  const text = new TextDecoder();
  return Array.from({ length: PARTITIONS }, (_, p) => records.filter((r) => r.partition === p).map((r) => `${text.decode(r.key ?? new Uint8Array())} ${text.decode(r.value ?? new Uint8Array())}`));
}

async function scenario(t: TestContext, name: string, seed: number, failure: Failure): Promise<void> {
  if (skippedWithoutKafka(t)) return;
  const c = cluster;
  assert.ok(c !== undefined, 'the cluster started');
  const applicationId = `failover-${name}-${process.pid}`;
  const top = groupTopology('stream-time', false);
  const records = groupInput(seed, 3_000);
  const expected = await embeddedFingerprints(top, records);
  await resetTopics(c.bootstrap);
  const admin = new Admin({ clientId: 'tidemark-failover-test', bootstrapBrokers: c.bootstrap.split(',') });
  const producer = await KafkaLog.open({ bootstrap: c.bootstrap, clientId: `${name}-producer`, ...DURABILITY });
  await producer.createStreams([{ stream: 'readings', partitions: PARTITIONS }]);
  const log = await KafkaLog.open({ bootstrap: c.bootstrap, clientId: name, ...DURABILITY });
  // A broker restarted by the scenario before may learn of the new topic a moment later than the others.
  for (let i = 0; log.partitionCount('readings') === undefined; i++) {
    if (i > 100) throw new Error('the run\'s log does not see the input topic after 20 s');
    await new Promise((r) => setTimeout(r, 200));
    await log.refreshStreams();
  }
  let hit: KafkaClusterNode | undefined;
  let hitting: Promise<void> | undefined;
  try {
    const leaders = new Set(await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => leaderOf(admin, p))));
    assert.ok(leaders.size >= 2, `the input's leaders are spread (${[...leaders].join(', ')})`);
    // Every successful commit's end, and every append's: the pause after the failure is the longest gap.
    const commits: number[] = [];
    const commit = log.commit.bind(log);
    log.commit = async (units) => {
      await commit(units);
      commits.push(Date.now());
    };
    const app = new Application(top, { applicationId, log });
    const stop = new AbortController();
    const done = app.run({ mode: 'real-time', deadLetterStream: DEAD_LETTERS, signal: stop.signal, fetchSize: 20, commitIntervalMs: 100 });
    // A run that fails ends the test at once, with its error.
    let runError: unknown;
    done.catch((e: unknown) => void (runError = e));
    const running = (): void => {
      if (runError !== undefined) throw new Error(`the run failed: ${kafkaErrorText(runError)}`, { cause: runError });
    };
    const appends: number[] = [];
    let failedAt = Infinity;
    for (let i = 0; i < records.length; i += BATCH) {
      if (hitting === undefined && i >= records.length / 3) {
        // The run is under way: tasks open, transactions committing.
        await waitFor('the run has committed', () => (running(), commits.length > 5), 0, 60_000);
        const f = await failure(admin, applicationId);
        hit = f.node;
        failedAt = Date.now();
        t.diagnostic(`${name}: ${f.how === 'kill' ? 'SIGKILL' : 'restart'} of broker ${f.node.id} (${f.what}) after ${i} of ${records.length} records`);
        if (f.how === 'kill') {
          f.node.kill();
          hitting = Promise.resolve();
        } else {
          // Mid-commit: the restart begins while the next commit is under way.
          const restart = commit;
          let started: Promise<void> | undefined;
          log.commit = async (units) => {
            started ??= f.node.restart();
            await restart(units);
            commits.push(Date.now());
          };
          hitting = waitFor('a commit began the restart', () => started !== undefined, 0, 60_000).then(() => started);
        }
      }
      running();
      await producer.append(records.slice(i, i + BATCH));
      appends.push(Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    await hitting;
    await waitFor('the run has read its input to the end', () => {
      running();
      const tasks = applicationInternals(app).tasks;
      return tasks.length === PARTITIONS && tasks.every((task) => [...task.lag().values()].every((n) => n === 0));
    }, 3_000, 180_000);
    stop.abort();
    const summary = await done;
    t.diagnostic(`${name}: ${summary.processed} processed; output paused ${(longestPause(commits, failedAt) / 1000).toFixed(1)} s, appends paused ${(longestPause(appends, failedAt) / 1000).toFixed(1)} s after the failure; ${commits.length} commits`);
    assert.deepEqual(await appended(c.bootstrap), expectedAppended(records), 'every appended record is in readings exactly once, in order');
    assert.deepEqual(await kafkaFingerprints(c.bootstrap), expected, 'a read_committed reader sees the embedded run\'s output');
  } finally {
    await log.close().catch(() => undefined);
    await producer.close().catch(() => undefined);
    await admin.close().catch(() => undefined);
    // The next scenario starts with three brokers.
    // A scenario that failed while its restart was under way: that restart ends first (a stop in the middle of
    // a broker's start would fail it, and hide the scenario's own failure).
    await hitting?.catch(() => undefined);
    if (hit !== undefined) await hit.restart();
  }
}

test('a broker SIGKILLed while it leads input partitions, a producer appending: the run goes on, every record once, the output the embedded run\'s', { timeout: 600_000 }, async (t) => {
  await scenario(t, 'leader', 31, async (admin) => {
    const leader = await leaderOf(admin, 0);
    return { node: nodeOf(cluster!, leader), what: 'the leader of readings/0', how: 'kill' };
  });
});

test('the transaction coordinator of a task SIGKILLed: the run goes on, its output exactly once', { timeout: 600_000 }, async (t) => {
  await scenario(t, 'coordinator', 37, async (admin, applicationId) => {
    const id = `${applicationId}-0_0`;
    const coordinator = await coordinatorOf(admin, id);
    return { node: nodeOf(cluster!, coordinator), what: `the transaction coordinator of ${id}`, how: 'kill' };
  });
});

test('a broker restarted in the middle of a commit: the run goes on, its output exactly once', { timeout: 600_000 }, async (t) => {
  await scenario(t, 'restart', 41, async (admin, applicationId) => {
    const id = `${applicationId}-0_1`;
    const coordinator = await coordinatorOf(admin, id);
    return { node: nodeOf(cluster!, coordinator), what: `the transaction coordinator of ${id}`, how: 'restart' };
  });
});
