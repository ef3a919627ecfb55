/**
 * Scale-out on a cluster of three brokers: members of an application's
 * consumer group, each a process of its own, one of them SIGKILLed in the
 * middle of the input. The others take its tasks over once its session
 * times out, and the output is exactly once — equal to one process on the
 * embedded log — in real time, and in a catch-up through a repartition
 * topic with no nondeterministic decision. The file starts a cluster of
 * its own (dev-broker's startKafkaCluster).
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppendRecord } from '../../src/index.ts';
import { kafkaPrerequisites, startKafkaCluster, type KafkaCluster } from '../../src/dev-broker/index.ts';
import { KAFKA_SKIP_ENV, freshStateDir, resetTopics, skippedWithoutKafka } from '../fixtures/kafka.ts';
import { committedAudit, embeddedFingerprints, groupInput, groupTopology, kafkaFingerprints, PARTITIONS, produceReadings } from '../fixtures/kafka-group.ts';

const CHILD = fileURLToPath(new URL('../fixtures/group-member-child.ts', import.meta.url));

let cluster: KafkaCluster | undefined;
let dataDir: string | undefined;

before(async () => {
  if (process.env[KAFKA_SKIP_ENV] !== undefined || !kafkaPrerequisites().ok) return;
  dataDir = mkdtempSync(join(tmpdir(), 'tidemark-cluster-scale-out-'));
  cluster = await startKafkaCluster({ nodes: 3, dataDir });
});

after(async () => {
  await cluster?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

/** A member process: what it printed last, and how it ended. */
interface Member {
  readonly name: string;
  readonly child: ChildProcess;
  /** Its last progress line. */
  progress(): { held: string[]; lagOf: Record<string, number>; lag: number } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function startMember(bootstrap: string, applicationId: string, mode: 'catch-up' | 'real-time', name: string, repartition: boolean): Member {
  // Each member is a machine of its own: its own state dir.
  const child = spawn(process.execPath, [CHILD, bootstrap, applicationId, mode, name, repartition ? '1' : '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDEMARK_KAFKA_STATE_DIR: freshStateDir(name) } });
  let stdout = '';
  let stderr = '';
  let last: ReturnType<Member['progress']>;
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    const lines = stdout.split('\n').filter((l) => l.startsWith('progress '));
    if (lines.length > 0) last = JSON.parse(lines.at(-1)!.slice('progress '.length)) as typeof last;
    // Only the last progress line matters: keep the rest of the output short.
    stdout = stdout.split('\n').filter((l, i, all) => !l.startsWith('progress ') || i === all.length - 1).join('\n');
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { name, child, progress: () => last, exited };
}

/** How far the input was read: per partition the least lag any member holding it reported, from the sizes. */
function readOf(members: readonly Member[], sizes: readonly number[], seen: number[]): number {
  for (const m of members) for (const [p, lag] of Object.entries(m.progress()?.lagOf ?? {})) seen[Number(p)] = Math.max(seen[Number(p)]!, sizes[Number(p)]! - lag);
  return seen.reduce((a, b) => a + b, 0);
}

async function until(what: string, condition: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts `count` members one after the other (each once the one before
 * holds tasks), SIGKILLs the last once a fifth of the input is read —
 * asserting the input is not through — and returns the survivors.
 */
async function startAndKillOne(t: TestContext, bootstrap: string, applicationId: string, mode: 'catch-up' | 'real-time', count: number, repartition: boolean, records: readonly AppendRecord[]): Promise<Member[]> {
  const sizes = Array.from({ length: PARTITIONS }, (_, p) => records.filter((r) => r.partition === p).length);
  const seen = sizes.map(() => 0);
  const members: Member[] = [];
  for (let m = 0; m < count; m++) {
    members.push(startMember(bootstrap, applicationId, mode, `member-${m}`, repartition));
    await until(`member-${m} holds tasks`, () => (members[m]!.progress()?.held.length ?? 0) > 0);
  }
  await until('a fifth of the input was read', () => readOf(members, sizes, seen) >= records.length / 5);
  const victim = members.pop()!;
  const held = victim.progress()!.held;
  victim.child.kill('SIGKILL');
  assert.equal((await victim.exited).signal, 'SIGKILL');
  assert.ok(readOf(members, sizes, seen) < records.length, `${victim.name} was killed before the input was through`);
  t.diagnostic(`${mode}: ${victim.name} SIGKILLed holding ${held.join(', ')}`);
  return members;
}

for (const count of [3, 2]) {
  test(`on the cluster, a catch-up through a repartition topic shared by ${count} member processes, one SIGKILLed mid-input, ends by itself with the output of one process on the embedded log and no nondeterministic decision`, { timeout: 900_000 }, async (t) => {
    if (skippedWithoutKafka(t)) return;
    assert.ok(cluster !== undefined, 'the cluster started');
    const applicationId = `scale-out-catch-up-${count}-${process.pid}`;
    const top = groupTopology('stream-time', true);
    const records = groupInput(18 + count, 6_000);
    const expected = await embeddedFingerprints(top, records);
    // Each test from an empty cluster: the outputs are compared whole.
    await resetTopics(cluster.bootstrap);
    await produceReadings(cluster.bootstrap, records);
    const survivors = await startAndKillOne(t, cluster.bootstrap, applicationId, 'catch-up', count, true, records);
    // A catch-up that does not end says where each member stands, rather than running into the test's timeout.
    const ended = Promise.all(survivors.map((m) => m.exited));
    const limit = new Promise<'stuck'>((r) => setTimeout(() => r('stuck'), 600_000).unref());
    if ((await Promise.race([ended, limit])) === 'stuck') {
      for (const m of survivors) m.child.kill('SIGKILL');
      assert.fail(`the catch-up did not end within 600 s after the kill; last progress: ${survivors.map((m) => `${m.name} ${JSON.stringify(m.progress())}`).join('; ')}`);
    }
    for (const m of survivors) {
      const r = await m.exited;
      assert.equal(r.code, 0, `${m.name}: ${r.stderr}`);
      const summary = JSON.parse(/^summary (.*)$/m.exec(r.stdout)![1]!) as { nondeterministicDecisions: number };
      assert.equal(summary.nondeterministicDecisions, 0, `${m.name} decided nothing by time`);
    }
    assert.deepEqual(await kafkaFingerprints(cluster.bootstrap), expected);
    assert.deepEqual((await committedAudit(cluster.bootstrap, applicationId)).filter((e) => e.kind.startsWith('nondeterministic:')), []);
  });
}

for (const count of [2, 3]) {
  test(`on the cluster, ${count} real-time member processes, one SIGKILLed mid-input: the others take its tasks over and the output is exactly once, the embedded run's`, { timeout: 600_000 }, async (t) => {
    if (skippedWithoutKafka(t)) return;
    assert.ok(cluster !== undefined, 'the cluster started');
    const applicationId = `scale-out-real-time-${count}-${process.pid}`;
    const top = groupTopology('stream-time', false);
    const records = groupInput(21 + count, 4_000);
    const expected = await embeddedFingerprints(top, records);
    // Each test from an empty cluster: the outputs are compared whole.
    await resetTopics(cluster.bootstrap);
    await produceReadings(cluster.bootstrap, records);
    const survivors = await startAndKillOne(t, cluster.bootstrap, applicationId, 'real-time', count, false, records);
    await until('the survivors hold every task between them and have read their inputs to the ends', () => {
      const progress = survivors.map((m) => m.progress());
      const held = new Set(progress.flatMap((p) => p?.held ?? []));
      return held.size === PARTITIONS && progress.every((p) => p !== undefined && p.lag === 0);
    }, 180_000);
    for (const m of survivors) m.child.kill('SIGTERM');
    for (const m of survivors) {
      const r = await m.exited;
      assert.equal(r.code, 0, `${m.name}: ${r.stderr}`);
    }
    assert.deepEqual(await kafkaFingerprints(cluster.bootstrap), expected);
  });
}
