/**
 * Task state on local disk with Kafka (docs/kafka.md, "State on local
 * disk"): a restart on the same machine restores only the changelog's tail
 * past the local store, a new machine (an empty state dir) all of it, a
 * local store of a topic since deleted is wiped; in each case the output is
 * the embedded log's. Two processes cannot use one state dir.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Application, type AppendRecord } from '../../src/index.ts';
import { KafkaLog, type RestoreProgress } from '../../src/kafka.ts';
import { freshStateDir, kafkaBroker, resetTopics } from '../fixtures/kafka.ts';
import { DEAD_LETTERS, committedAudit, embeddedFingerprints, groupInput, groupTopology, kafkaFingerprints, produceReadings } from '../fixtures/kafka-group.ts';

const APP = 'group-app';
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const top = groupTopology('stream-time');

/** What one catch-up run on `stateDir` restored from the changelogs (records, from the finished reports). */
async function catchUp(bootstrap: string, stateDir: string): Promise<{ restored: number; reports: RestoreProgress[] }> {
  const reports: RestoreProgress[] = [];
  const log = await KafkaLog.open({ bootstrap, stateDir, onRestore: (p) => reports.push(p) });
  try {
    await new Application(top, { applicationId: APP, log }).run({ mode: 'catch-up', deadLetterStream: DEAD_LETTERS, fetchSize: 50, commitIntervalMs: 50 });
  } finally {
    await log.close();
  }
  return { restored: reports.filter((r) => r.finished).reduce((n, r) => n + r.done, 0), reports };
}

/** Records in the application's changelog topics now. */
async function changelogRecords(bootstrap: string): Promise<number> {
  const log = await KafkaLog.open({ bootstrap });
  try {
    await log.refreshStreams();
    const changelogs = log.streams().filter((s) => s.startsWith(`${APP}-`) && s.endsWith('-changelog'));
    assert.ok(changelogs.length > 0, 'the topology has changelogs');
    let n = 0;
    for (const s of changelogs) n += (await log.readStream(s)).flat().length;
    return n;
  } finally {
    await log.close();
  }
}

async function expectEmbeddedOutput(bootstrap: string, records: readonly AppendRecord[], what: string): Promise<void> {
  assert.deepEqual(await kafkaFingerprints(bootstrap), await embeddedFingerprints(top, records), `${what}: the output is the embedded run's`);
}

test('state on local disk: a restart restores only the changelog tail, a new machine all of it, both with the embedded output', { timeout: 240_000 }, async (t: TestContext) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const input = groupInput(7, 900);
  const [a, b, c] = [input.slice(0, 300), input.slice(300, 600), input.slice(600)];
  const machineA = freshStateDir('a');
  const machineB = freshStateDir('b');

  await produceReadings(broker.bootstrap, a);
  const first = await catchUp(broker.bootstrap, machineA);
  assert.equal(first.restored, 0, 'new topics: nothing to restore');
  await expectEmbeddedOutput(broker.bootstrap, a, 'the first run');
  const afterA = await changelogRecords(broker.bootstrap);
  assert.ok(afterA > 0);

  // Machine B is new: it restores every changelog record into its empty state dir, reporting as it goes.
  await produceReadings(broker.bootstrap, b);
  const second = await catchUp(broker.bootstrap, machineB);
  assert.equal(second.restored, afterA, 'a new machine restores the whole changelog');
  for (const r of second.reports) assert.ok(r.applicationId === APP && r.done <= r.total && r.store !== '' && /^\d+_\d+$/.test(r.taskId), JSON.stringify(r));
  await expectEmbeddedOutput(broker.bootstrap, [...a, ...b], 'the run on a new machine');
  const afterB = await changelogRecords(broker.bootstrap);

  // Back on machine A: its store has everything up to its own last commit, and restores only what B wrote since.
  await produceReadings(broker.bootstrap, c);
  const third = await catchUp(broker.bootstrap, machineA);
  assert.equal(third.restored, afterB - afterA, 'a restart on the same machine restores only the tail');
  assert.ok(third.restored < afterB);
  await expectEmbeddedOutput(broker.bootstrap, input, 'the restart');

  // Nothing new: a restart restores nothing.
  const fourth = await catchUp(broker.bootstrap, machineA);
  assert.equal(fourth.restored, 0);
  await expectEmbeddedOutput(broker.bootstrap, input, 'a restart with nothing new');

  // The audit is read when asked, not at a take-over: a new log has none until it loads it, and loading again adds nothing twice.
  const committed = await committedAudit(broker.bootstrap, APP);
  assert.ok(committed.some((e) => e.kind === 'dead-letter'), 'the input has bad records: dead letters are audited');
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap });
  try {
    assert.deepEqual(log.readAudit(APP), []);
    await log.loadAudit(APP);
    assert.deepEqual(log.readAudit(APP), committed);
    await log.loadAudit(APP);
    assert.deepEqual(log.readAudit(APP), committed);
  } finally {
    await log.close();
  }
});

test('state on local disk: a local store of topics since deleted and made again is wiped, never kept', { timeout: 240_000 }, async (t: TestContext) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const machine = freshStateDir('reset');
  await resetTopics(broker.bootstrap);
  await produceReadings(broker.bootstrap, groupInput(11, 400));
  await catchUp(broker.bootstrap, machine);

  // The application is reset (its topics deleted) and runs on other input: the state of the old topics must not leak into it.
  await resetTopics(broker.bootstrap);
  const other = groupInput(12, 300);
  await produceReadings(broker.bootstrap, other);
  const again = await catchUp(broker.bootstrap, machine);
  assert.equal(again.restored, 0, 'the new changelogs are empty');
  await expectEmbeddedOutput(broker.bootstrap, other, 'the run after the reset');
});

/** `tidemark run` of the fixture's application in a child process on `stateDir`: killed with SIGKILL once it has processed records, when `kill`. */
function cliRun(bootstrap: string, stateDir: string, kill: boolean): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const module = new URL('../fixtures/state-topology.ts', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'run', module, '--kafka', bootstrap, '--state-dir', stateDir], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      // The plain progress line says how many records were processed: kill it in the middle of its work.
      if (kill && /processed [1-9]/.test(stderr)) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stderr }));
  });
}

test('state on local disk: a run killed with SIGKILL mid-run and run again on the same state dir writes the embedded output', { timeout: 240_000 }, async (t: TestContext) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  const input = groupInput(17, 1500);
  await produceReadings(broker.bootstrap, input);
  const stateDir = freshStateDir('crash');
  const killed = await cliRun(broker.bootstrap, stateDir, true);
  assert.equal(killed.signal, 'SIGKILL', `the first run was killed mid-run (status ${killed.status}: ${killed.stderr.trim()})`);
  const again = await cliRun(broker.bootstrap, stateDir, false);
  assert.equal(again.status, 0, again.stderr);
  await expectEmbeddedOutput(broker.bootstrap, input, 'the run after the crash');
});

test('state on local disk: a second process on the same state dir is refused in one line naming the dir and the holder', { timeout: 120_000 }, async (t: TestContext) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  await produceReadings(broker.bootstrap, groupInput(13, 100));
  const stateDir = freshStateDir('locked');
  const log = await KafkaLog.open({ bootstrap: broker.bootstrap, stateDir });
  const stop = new AbortController();
  const app = new Application(top, { applicationId: APP, log });
  const done = app.run({ mode: 'real-time', deadLetterStream: DEAD_LETTERS, signal: stop.signal, commitIntervalMs: 50 });
  try {
    // Holding its tasks (the state dir locked) once it has committed something.
    for (let i = 0; log.readCheckpoint(APP, '0_0') === undefined; i++) {
      assert.ok(i < 600, 'the first run committed within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const module = new URL('../fixtures/state-topology.ts', import.meta.url).pathname;
    const second = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [MAIN, 'run', module, '--kafka', broker.bootstrap, '--state-dir', stateDir, '--quiet'], { env: { ...process.env, NO_COLOR: '1' } });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stderr }));
    });
    assert.notEqual(second.status, 0);
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, second.stderr);
    assert.match(lines[0]!, new RegExp(`state dir \\S*${stateDir.split('/').at(-1)!}\\S* is in use by another tidemark process \\(pid ${process.pid}\\)`));
  } finally {
    stop.abort();
    await done.finally(() => log.close());
  }
});
