/**
 * Crash test on Kafka (exactly-once through Kafka transactions: docs/kafka.md, "Exactly once"):
 * the embedded-log crash test (test/crash.test.ts) against a real broker. A
 * child process (test/fixtures/kafka-crash-child.ts) runs the crash topology
 * — count and running sum per key (LMDB and in-memory stores, changelogs on
 * Kafka), the same per group after a selectKey through a repartition topic,
 * tumbling and session windows — in catch-up over a pre-produced input topic,
 * committing every 20 ms: one transaction per task holding its outputs,
 * changelog records, checkpoint and audit. The parent SIGKILLs it at random
 * points (most while it processes, some during start-up: connecting,
 * creating topics, fencing, restoring), leaving its transactions open, and
 * restarts it each time; the next instance fences the dead one's
 * transactional ids (aborting its transactions) before it restores. The
 * committed positions each instance restores never go back. When a life
 * completes, a read_committed reader sees in the outputs every record
 * exactly once (each key's n-th record comes out with n, and the sums add
 * up), with the same fingerprints, output by output and dead letters, as an
 * uninterrupted run on the same input.
 *
 * Kill points: a life that gets to run is killed once it has processed a
 * random share of the work left (the child reports what it processed), a
 * random 0–150 ms later; 15% of lives are killed from spawn. Each round's
 * transactions aborted by fencing are counted from the abort markers in its
 * checkpoint topic (every transaction writes there); with 3 kills or more
 * while running, at least one must have been left open.
 *
 * A second test pins down what the first found (Kafka keeps a producer id
 * across its epochs, so a task's producer leaves aborted transactions around
 * its committed ones): a committed transaction between two aborted ones of
 * the same producer, the later with no records in the partition, is read.
 *
 * The topology's stream names are fixed (`crash-in`, `crash-keys`, …): each
 * run is an application of its own (`kcrash-<pid>-<round>`, so its
 * changelog, checkpoint, repartition and dead-letter topics are its own),
 * and the output topics are deleted between runs. The input is produced
 * once and read by every run.
 *
 * `TIDEMARK_KAFKA_CRASH_KILLS` sets the number of kills (default 10);
 * `TIDEMARK_KAFKA_CRASH_SEED` replays the random kill points of a run
 * (printed; the kill points depend on timing too, so a replay is close, not
 * identical).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Consumer, Producer } from '@platformatic/kafka';
import { fingerprintPartitions, type TaskCheckpoint } from '../../src/index.ts';
import { KafkaLog, kafkaTopics } from '../../src/kafka.ts';
import { assertLifeEnded, type ChildExit } from '../fixtures/crash-life.ts';
import { deleteTopics, kafkaBroker } from '../fixtures/kafka.ts';
import { CRASH_INPUT, CRASH_OUTPUTS, CRASH_PARTITIONS, assertCrashOutputsExactlyOnce, crashInput, prng, type CrashOutputRecord, type InputRecord } from '../fixtures/determinism-topologies.ts';

const KILLS = Math.max(1, Number(process.env['TIDEMARK_KAFKA_CRASH_KILLS'] ?? '10'));
const SEED = Number(process.env['TIDEMARK_KAFKA_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const RECORDS = 3_000;
const INPUT_SEED = 20_261_126;
const COMMIT_INTERVAL_MS = 20;
const FETCH_SIZE = 20;
const CHILD = new URL('../fixtures/kafka-crash-child.ts', import.meta.url).pathname;
/** A prefix of this process's application ids: the broker may be shared with other test files (and other runs). */
const APP_PREFIX = `kcrash-${process.pid}`;

/** Committed input positions summed over every task: of the input topic, and of the repartition topic. */
interface Progress {
  readonly external: number;
  readonly internal: number;
}

interface Life extends ChildExit {
  /** What the child restored (after fencing) when it started processing; undefined if killed before. */
  readonly restored: Progress | undefined;
  /** What the child had committed when it completed; undefined unless done. */
  readonly committed: Progress | undefined;
  /** Records the child processed (both stages), when done. */
  readonly processed: number | undefined;
  /** Milliseconds from spawn to `running`. */
  readonly startupMs: number;
  /** Milliseconds from `running` to the end of the child. */
  readonly ranMs: number;
}

/**
 * When to SIGKILL a life: `afterMs` from spawn; or, once it runs, when it
 * has processed `target(restored)` records (given what it restored), `afterMs`
 * later (a random delay: the phase of the kill in the commit cycle).
 */
type KillAt = { readonly from: 'spawn'; readonly afterMs: number } | { readonly from: 'running'; readonly target: (restored: Progress) => number; readonly afterMs: number };

function runChild(bootstrap: string, applicationId: string, killAt?: KillAt): Promise<Life> {
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, [CHILD, bootstrap, applicationId, String(COMMIT_INTERVAL_MS), String(FETCH_SIZE)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    let stderr = '';
    let runningAt: number | undefined;
    let restored: Progress | undefined;
    let target: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done: { committed: Progress; processed: number } | undefined;
    const kill = (afterMs: number): void => {
      timer ??= setTimeout(() => child.kill('SIGKILL'), afterMs);
    };
    if (killAt?.from === 'spawn') kill(killAt.afterMs);
    const line = (text: string): void => {
      const [word, rest = ''] = text.split(/ (.*)/s) as [string, string | undefined];
      if (word === 'running' && runningAt === undefined) {
        runningAt = Date.now();
        restored = JSON.parse(rest) as Progress;
        if (killAt?.from === 'running') target = killAt.target(restored);
      } else if (word === 'progress' && killAt?.from === 'running' && target !== undefined && Number(rest) >= target) kill(killAt.afterMs);
      else if (word === 'done') done = JSON.parse(rest) as { committed: Progress; processed: number };
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) line(l);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({
        code,
        signal,
        done: done !== undefined,
        restored,
        committed: done?.committed,
        processed: done?.processed,
        startupMs: (runningAt ?? Date.now()) - spawnedAt,
        ranMs: runningAt === undefined ? 0 : Date.now() - runningAt,
        stderr,
      });
    });
  });
}

async function withLog<T>(bootstrap: string, f: (log: KafkaLog) => Promise<T>): Promise<T> {
  const log = await KafkaLog.open({ bootstrap });
  try {
    return await f(log);
  } finally {
    await log.close();
  }
}

const crashTopic = (name: string): boolean => name === CRASH_INPUT || (CRASH_OUTPUTS as readonly string[]).includes(name);
const outputTopic = (name: string): boolean => (CRASH_OUTPUTS as readonly string[]).includes(name);
const appTopic = (name: string): boolean => name.startsWith(`${APP_PREFIX}-`) || name.startsWith(`${APP_PREFIX}.`);

async function produce(bootstrap: string, records: readonly InputRecord[]): Promise<void> {
  await withLog(bootstrap, async (log) => {
    await log.createStreams([{ stream: CRASH_INPUT, partitions: CRASH_PARTITIONS }]);
    for (let i = 0; i < records.length; i += 500) {
      await log.append(records.slice(i, i + 500).map(({ stream, partition, key, value, headers, eventTime }) => ({ stream, partition, key, value, headers, eventTime })));
    }
  });
}

/** What a completed run left on Kafka, read under read_committed: everything the checks need. */
interface RunResult {
  readonly fingerprints: Record<string, string>;
  readonly keys: Map<string, CrashOutputRecord[]>;
  readonly groups: Map<string, CrashOutputRecord[]>;
  /** The last committed checkpoint of each task, from the application's checkpoints topic. */
  readonly checkpoints: Map<string, TaskCheckpoint>;
  /** Per internal-stream partition (`stream/partition`): one past its last data record. */
  readonly internalEnds: Map<string, number>;
}

/** An output topic's records, per key, in offset order (each key is written to one partition). */
function byKey(partitions: readonly { key: Uint8Array | null; value: Uint8Array | null }[][]): Map<string, CrashOutputRecord[]> {
  const out = new Map<string, CrashOutputRecord[]>();
  const decoder = new TextDecoder();
  for (const records of partitions) {
    for (const r of records) {
      const key = decoder.decode(r.key!);
      const value = JSON.parse(decoder.decode(r.value!)) as { n: number; sum: number; v: number };
      const list = out.get(key) ?? [];
      list.push({ key, ...value });
      out.set(key, list);
    }
  }
  return out;
}

async function readRun(bootstrap: string, app: string): Promise<RunResult> {
  return withLog(bootstrap, async (log) => {
    const fingerprints: Record<string, string> = {};
    for (const s of CRASH_OUTPUTS) fingerprints[s] = fingerprintPartitions(await log.readStream(s));
    const deadLetters = `${app}.dead-letter`;
    fingerprints['dead-letter'] = fingerprintPartitions(log.partitionCount(deadLetters) === undefined ? [] : await log.readStream(deadLetters));
    const checkpoints = new Map<string, TaskCheckpoint>();
    const decoder = new TextDecoder();
    for (const r of (await log.readStream(kafkaTopics.checkpoints(app))).flat()) {
      if (r.key !== null && r.value !== null) checkpoints.set(decoder.decode(r.key), JSON.parse(decoder.decode(r.value)) as TaskCheckpoint);
    }
    const internalEnds = new Map<string, number>();
    for (const s of log.streams().filter((s) => s.startsWith(`${app}-`) && s.endsWith('-repartition'))) {
      (await log.readStream(s)).forEach((records, p) => internalEnds.set(`${s}/${p}`, (records.at(-1)?.offset ?? -1) + 1));
    }
    return { fingerprints, keys: byKey(await log.readStream('crash-keys')), groups: byKey(await log.readStream('crash-groups')), checkpoints, internalEnds };
  });
}

/** The committed `next` position of every task on each input partition, by `<task> <stream/partition>`. */
function inputPositions(checkpoints: ReadonlyMap<string, TaskCheckpoint>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [task, c] of checkpoints) for (const [key, p] of Object.entries(c.positions)) if (key.startsWith(`${CRASH_INPUT}/`)) out[`${task} ${key}`] = p.next;
  return out;
}

/**
 * The checks of a completed run: no output record lost or duplicated, every
 * input and internal record taken, and — for a crashed run — the same as
 * the uninterrupted one.
 */
function verify(actual: RunResult, input: readonly InputRecord[], expected?: RunResult): void {
  assertCrashOutputsExactlyOnce(input, actual.keys, actual.groups);
  // Every task committed its input to the end: the input topic's (no transaction markers in it, so the
  // same offsets in every run), and past the last data record of each repartition partition it reads.
  const perPartition = new Map<number, number>();
  for (const r of input) perPartition.set(r.partition, (perPartition.get(r.partition) ?? 0) + 1);
  const positions = Object.entries(inputPositions(actual.checkpoints));
  assert.equal(positions.length, CRASH_PARTITIONS, 'one task reads each input partition');
  for (const [at, next] of positions) assert.equal(next, perPartition.get(Number(at.slice(at.lastIndexOf('/') + 1))), `${at}: committed position`);
  for (const [at, end] of actual.internalEnds) {
    const readers = [...actual.checkpoints.values()].filter((c) => c.positions[at] !== undefined);
    assert.ok(readers.length > 0, `no task read ${at}`);
    for (const c of readers) assert.ok(c.positions[at]!.next >= end, `${at}: committed position ${c.positions[at]!.next} before the end of its data ${end}`);
  }
  if (expected === undefined) return;
  assert.deepEqual(inputPositions(actual.checkpoints), inputPositions(expected.checkpoints), 'committed input positions differ from the uninterrupted run');
  // And the same bytes, in the same order, as the uninterrupted run.
  assert.deepEqual(actual.fingerprints, expected.fingerprints);
}

const total = (p: Progress): number => p.external + p.internal;

/**
 * The transactions aborted in partition 0 of `topic` (every transaction of
 * the application writes there: the task's checkpoint). A kill inside a
 * transaction leaves it open, and the next instance's fencing aborts it: an
 * abort marker; `withRecords` of them had already written their records (the
 * broker lists those to read_committed fetches, which skip them).
 */
async function abortedTransactions(bootstrap: string, topic: string): Promise<{ markers: number; withRecords: number }> {
  const consumer = new Consumer({ clientId: 'tidemark-kafka-crash-test', groupId: 'tidemark-kafka-crash-test', bootstrapBrokers: [bootstrap] });
  try {
    const meta = (await consumer.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)!;
    const withRecords = new Set<string>();
    let markers = 0;
    for (let offset = 0n; ; ) {
      const response = await consumer.fetch({
        node: meta.partitions[0]!.leader,
        topics: [{ topicId: meta.id, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }],
        isolationLevel: 1,
        maxWaitTime: 50,
        minBytes: 1,
        maxBytes: 8 << 20,
      });
      const p = response.responses[0]!.partitions[0]!;
      for (const a of p.abortedTransactions ?? []) withRecords.add(`${a.producerId}@${a.firstOffset}`);
      const batches = (p.records ?? []) as unknown as { firstOffset: bigint; lastOffsetDelta: number; attributes: number; records: { key: Buffer | null }[] }[];
      // A control batch (attribute bit 5) holds one marker, whose key is (version, type): type 0 is an abort.
      for (const batch of batches) if ((batch.attributes & (1 << 5)) !== 0 && batch.records[0]?.key?.readInt16BE(2) === 0) markers++;
      const next = batches.length === 0 ? offset : batches.at(-1)!.firstOffset + BigInt(batches.at(-1)!.lastOffsetDelta) + 1n;
      if (next >= p.lastStableOffset || next === offset) return { markers, withRecords: withRecords.size };
      offset = next;
    }
  } finally {
    await consumer.close();
  }
}

test('a stateful topology on Kafka killed with SIGKILL mid-transaction at random points and restarted writes every output exactly once, as an uninterrupted run does', { timeout: 10 * 60_000 }, async (t: TestContext) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const { bootstrap } = broker;
  const started = Date.now();
  const input = crashInput(RECORDS, INPUT_SEED);
  await deleteTopics(bootstrap, (n) => crashTopic(n) || appTopic(n));
  t.after(() => deleteTopics(bootstrap, (n) => crashTopic(n) || appTopic(n)));
  await produce(bootstrap, input);

  // The uninterrupted run, which also tells how long start-up and processing take.
  const whole = await runChild(bootstrap, `${APP_PREFIX}-0`);
  assert.equal(whole.code, 0, `uninterrupted run failed: ${whole.stderr}`);
  assert.ok(whole.done && whole.committed !== undefined && whole.processed !== undefined);
  const expected = await readRun(bootstrap, `${APP_PREFIX}-0`);
  verify(expected, input);
  // Committed positions at the end (internal ones count transaction markers too, so a crashed run's end a little further).
  const full = total(whole.committed);
  const random = prng(SEED);
  t.diagnostic(`seed ${SEED} (TIDEMARK_KAFKA_CRASH_SEED); ${KILLS} kills (TIDEMARK_KAFKA_CRASH_KILLS); ${RECORDS} records; uninterrupted run: start-up ${whole.startupMs} ms, processing ${whole.ranMs} ms`);

  // Kill points are spread over the whole run (both stages): each life
  // that gets to run is killed once it has processed a random amount around
  // an even share of the work left (from the positions it restored) for the
  // kills left, then a random 0–150 ms later, so that kills fall anywhere in
  // the commit cycle (mostly inside a commit's transactions); 15% of lives
  // are killed from spawn instead, at a random point of the uninterrupted
  // run's start-up (connecting, creating topics, fencing, restoring). Should
  // a life complete before its kill, that round is checked and another
  // begins (a new application, the output topics deleted), so that every
  // counted kill is mid-run.
  const work = whole.processed!;
  let killed = 0;
  let startupKills = 0;
  let aborted = 0;
  let abortedWithRecords = 0;
  let runningKills = 0;
  for (let round = 1; killed < KILLS; round++) {
    const app = `${APP_PREFIX}-${round}`;
    await deleteTopics(bootstrap, outputTopic);
    const roundStarted = Date.now();
    let progress: Progress = { external: 0, internal: 0 };
    let lives = 0;
    let completed = false;
    const trail: string[] = [];
    const startups: number[] = [];
    while (!completed) {
      let killAt: KillAt | undefined;
      let note = '';
      if (killed < KILLS) {
        const [kind, at, delay] = [random(), random(), random()];
        const killsLeft = KILLS - killed;
        if (kind < 0.15) {
          killAt = { from: 'spawn', afterMs: Math.floor(at * whole.startupMs) };
          note = `spawn+${killAt.afterMs} ms`;
        } else {
          const afterMs = Math.floor(delay * 150);
          killAt = {
            from: 'running',
            afterMs,
            target: (restored) => {
              const left = work * Math.max(0, 1 - total(restored) / full);
              const n = Math.floor((left / (killsLeft + 1)) * (0.2 + at));
              note = `${n} records+${afterMs} ms`;
              return n;
            },
          };
        }
      }
      const life = await runChild(bootstrap, app, killAt);
      lives++;
      if (assertLifeEnded(life)) completed = true;
      else {
        killed++;
        if (life.restored === undefined) startupKills++;
        else runningKills++;
      }
      if (life.restored !== undefined) {
        startups.push(life.startupMs);
        // What this life restored is what the lives before it committed: it never goes back.
        assert.ok(life.restored.external >= progress.external && life.restored.internal >= progress.internal, `committed positions went back after a kill: ${JSON.stringify(progress)} -> ${JSON.stringify(life.restored)}`);
        progress = life.restored;
      }
      if (life.committed !== undefined) progress = life.committed;
      trail.push(`${life.restored === undefined ? '-' : `${Math.round((100 * total(life.restored)) / full)}%`}${life.done ? ' done' : ` killed at ${note}`}`);
    }
    const actual = await readRun(bootstrap, app);
    const roundAborted = await abortedTransactions(bootstrap, kafkaTopics.checkpoints(app));
    aborted += roundAborted.markers;
    abortedWithRecords += roundAborted.withRecords;
    t.diagnostic(
      `round ${round}: ${lives} lives in ${((Date.now() - roundStarted) / 1000).toFixed(1)} s, ${killed} kills so far (${startupKills} before running); ` +
        `${roundAborted.markers} open transactions aborted by fencing (${roundAborted.withRecords} with records written); each life (committed positions it restored, how it ended): ${trail.join(', ')}; start-up of lives that got to run: ${startups.join(', ')} ms`,
    );
    verify(actual, input, expected);
  }
  // Not vacuous: kills landed inside transactions, which the next instance aborted.
  if (runningKills >= 3) assert.ok(aborted > 0, `${runningKills} kills while running, but no transaction was left open`);
  t.diagnostic(
    `${killed} kills (${runningKills} while running) in ${((Date.now() - started) / 1000).toFixed(1)} s in all; ` +
      `${aborted} open transactions aborted by fencing, ${abortedWithRecords} of them with records written`,
  );
});

test('a committed transaction between two aborted ones of the same producer is read under read_committed', { timeout: 120_000 }, async (t: TestContext) => {
  // What a task's transactional producer leaves after two kills: a transaction aborted with records
  // written, committed ones, then one aborted having registered the partition but written nothing
  // there (killed between AddPartitionsToTxn and Produce, aborted by the next owner's fencing).
  // @platformatic/kafka's own read_committed filter drops everything of the producer between the
  // first aborted transaction and its last abort marker; KafkaLog must read the committed records.
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const { bootstrap } = broker;
  const topic = `${APP_PREFIX}-aborts`;
  t.after(() => deleteTopics(bootstrap, (n) => n === topic));
  await withLog(bootstrap, (log) => log.createStreams([{ stream: topic, partitions: 1 }]));
  const producer = new Producer({ clientId: 'tidemark-kafka-crash-test', bootstrapBrokers: [bootstrap], transactionalId: topic, producerId: -1n, producerEpoch: -1, idempotent: true, acks: -1 });
  try {
    const message = (value: string) => ({ topic, partition: 0, key: Buffer.from('k'), value: Buffer.from(value) });
    const inTransaction = async (end: 'commit' | 'abort', send: (tx: Awaited<ReturnType<typeof producer.beginTransaction>>) => Promise<unknown>): Promise<void> => {
      const tx = await producer.beginTransaction();
      await send(tx);
      await (end === 'commit' ? tx.commit() : tx.abort());
    };
    await inTransaction('abort', (tx) => tx.send({ messages: [message('aborted-1')] }));
    await inTransaction('commit', (tx) => tx.send({ messages: [message('committed-2')] }));
    await inTransaction('commit', (tx) => tx.send({ messages: [message('committed-3'), message('committed-4')] }));
    await inTransaction('abort', async (tx) => tx.addPartitions(await producer.metadata({ topics: [topic] }), [message('never sent')]));
    await inTransaction('commit', (tx) => tx.send({ messages: [message('committed-5')] }));
  } finally {
    await producer.close();
  }
  const values = await withLog(bootstrap, async (log) => (await log.readStream(topic)).flat().map((r) => new TextDecoder().decode(r.value!)));
  assert.deepEqual(values, ['committed-2', 'committed-3', 'committed-4', 'committed-5']);
});

test('an aborted transaction beyond the first fetch of a partition is not read, when an earlier one was listed', { timeout: 120_000 }, async (t: TestContext) => {
  // The broker lists the aborted transactions of the range a fetch returns, and a partition's share
  // of a fetch is capped (1 MiB). Where it lists one, KafkaLog reads the range again unfiltered, and
  // must not read past what the list covers: an abort further on is not in it, and its records
  // would be read as committed data — counted twice after a task's take-over.
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const { bootstrap } = broker;
  const topic = `${APP_PREFIX}-far-abort`;
  t.after(() => deleteTopics(bootstrap, (n) => n === topic));
  await withLog(bootstrap, (log) => log.createStreams([{ stream: topic, partitions: 1 }]));
  const producer = new Producer({ clientId: 'tidemark-kafka-crash-test', bootstrapBrokers: [bootstrap], transactionalId: topic, producerId: -1n, producerEpoch: -1, idempotent: true, acks: -1 });
  const filler = 'x'.repeat(20_000);
  const expected: string[] = [];
  try {
    const message = (value: string) => ({ topic, partition: 0, key: Buffer.from('k'), value: Buffer.from(value) });
    const inTransaction = async (end: 'commit' | 'abort', values: string[]): Promise<void> => {
      const tx = await producer.beginTransaction();
      await tx.send({ messages: values.map(message) });
      await (end === 'commit' ? tx.commit() : tx.abort());
      if (end === 'commit') expected.push(...values);
    };
    await inTransaction('abort', ['aborted-first']);
    // 2 MiB of committed records: more than one fetch's share of the partition.
    for (let i = 0; i < 10; i++) await inTransaction('commit', Array.from({ length: 10 }, (_, j) => `committed-${i}-${j}-${filler}`));
    await inTransaction('abort', ['aborted-far']);
    await inTransaction('commit', ['committed-last']);
  } finally {
    await producer.close();
  }
  const values = await withLog(bootstrap, async (log) => (await log.readStream(topic)).flat().map((r) => new TextDecoder().decode(r.value!)));
  assert.equal(values.filter((v) => v.startsWith('aborted')).length, 0, `aborted records read: ${values.filter((v) => v.startsWith('aborted')).join(', ')}`);
  assert.deepEqual(values, expected);
});
