/**
 * Fencing on the embedded log: two runs of one application on one data
 * directory must not both process its input. A run takes its tasks when it
 * starts (a fencing epoch per task, in the LMDB environment); a commit of a
 * run whose tasks were taken since fails whole, naming the run that took
 * them. So a second `tidemark run` takes over from the first's last commit
 * and the first stops with one line — every input's output comes out once.
 * Static shares (`--instance I/N`) hold disjoint tasks and run side by side.
 */
import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedLog, TaskMigratedError, fingerprintStream } from '../../src/index.ts';
import type { CommitUnit } from '../../src/runtime/log.ts';
import type { RunPlan } from '../../src/runtime/application.ts';
import { taskIdOf } from '../../src/runtime/ids.ts';
import {
  APP_ID,
  CRASH_PARTITIONS,
  appendInOrder,
  assertCrashOutputsExactlyOnce,
  crashInput,
  openProducer,
  committedProgress,
  outputByKey,
  produceCrashInput,
} from '../fixtures/determinism-topologies.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/determinism-topologies.ts', import.meta.url));
const CRASH_TOPOLOGY = fileURLToPath(new URL('../fixtures/crash-topology.ts', import.meta.url));
const FINGERPRINT = /^fingerprint \S+ [0-9a-f]{64}$/;

function tempRoot(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'tidemark-fencing-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}


interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Children still running when a test ends (it failed) are killed. */
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** `tidemark run` of the crash topology on `dataDir`, committing often, in a child process. */
function startRun(dataDir: string, extra: readonly string[] = [], topology = CRASH_TOPOLOGY): { pid: number; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [MAIN, 'run', topology, '--data-dir', dataDir, '--quiet', '--commit-interval-ms', '2', '--fetch-size', '20', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exit = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid!, exit };
}


/** Committed positions of the tasks reading the crash topology's input (sub-topology 0). */
async function inputProgress(dataDir: string): Promise<number> {
  const log = await EmbeddedLog.open({ dataDir, readOnly: true });
  try {
    let total = 0;
    for (let p = 0; p < CRASH_PARTITIONS; p++) total += log.readCheckpoint(APP_ID, taskIdOf(0, p))?.positions[`crash-in/${p}`]?.next ?? 0;
    return total;
  } finally {
    await log.close();
  }
}

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    assert.ok(Date.now() - started < timeoutMs, what);
    await sleep(20);
  }
}


const fingerprintLines = (stdout: string): string[] => stdout.split('\n').filter((l) => FINGERPRINT.test(l));
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

test('a second tidemark run on the data dir takes the tasks over from the first one\'s last commit; the first stops with one line naming it', { timeout: 180_000 }, async (t) => {
  const root = tempRoot(t);
  const input = crashInput(12_000, 11);
  const alone = join(root, 'alone');
  const shared = join(root, 'shared');
  await produceCrashInput(alone, input);
  await produceCrashInput(shared, input);

  const single = await startRun(alone).exit;
  assert.equal(single.code, 0, single.stderr);

  const first = startRun(shared);
  // The second starts once the first is well into its run (it committed), long before it would finish.
  const startedAt = Date.now();
  while ((await committedProgress(shared)) === 0) {
    assert.ok(Date.now() - startedAt < 60_000, 'the first run committed nothing within a minute');
    await sleep(20);
  }
  const second = startRun(shared);
  const [a, b] = await Promise.all([first.exit, second.exit]);

  assert.equal(b.code, 0, `the second run failed: ${b.stderr}`);
  assert.equal(a.code, 1, `the first run was not stopped (it ran to its end before the second took over?): ${a.stderr}`);
  assert.equal(lines(a.stderr).length, 1, a.stderr);
  const holder = new RegExp(
    `^tidemark run: tasks? (\\d+_\\d+(, )?)+ of application ${APP_ID} (was|were) taken over by another run \\(pid ${second.pid} on ${hostname()}, started at \\d{4}-\\d\\d-\\d\\dT[^)]*\\) on data dir ${shared}; this run stops$`,
  );
  assert.match(a.stderr.trim(), holder);
  // And the second said whom it took the tasks from.
  assert.match(b.stderr, new RegExp(`^${APP_ID}: took over tasks? [\\d_, ]+ of application ${APP_ID} on data dir ${shared} from the run with pid ${first.pid} \\(started at [^)]+\\), which stops at its next commit$`, 'm'));

  // Every input's output once, and the same bytes as a run alone.
  const log = await EmbeddedLog.open({ dataDir: shared });
  try {
    assertCrashOutputsExactlyOnce(input, outputByKey(log, 'crash-keys'), outputByKey(log, 'crash-groups'));
  } finally {
    await log.close();
  }
  assert.deepEqual(fingerprintLines(b.stdout), fingerprintLines(single.stdout));
  assert.equal(fingerprintLines(single.stdout).length, 4);
});

test('real time: a second run takes the tasks over at once, even from a first run that is idle; the first stops with one line', { timeout: 180_000 }, async (t) => {
  const shared = join(tempRoot(t), 'shared');
  const input = crashInput(3_000, 13);
  await produceCrashInput(shared, input);
  const first = startRun(shared, ['--mode', 'real-time']);
  // The first run catches up and goes idle: all of its input committed.
  await waitUntil(async () => (await inputProgress(shared)) === input.length, 'the first run did not process its input');
  const second = startRun(shared, ['--mode', 'real-time', '--max-idle-ms', '50']);
  const a = await Promise.race([first.exit, sleep(30_000, undefined)]);
  assert.ok(a !== undefined, 'the first run still runs 30 s after the second started');
  assert.equal(a.code, 1, a.stderr);
  assert.equal(lines(a.stderr).length, 1, a.stderr);
  assert.match(a.stderr, new RegExp(`taken over by another run \\(pid ${second.pid} on ${hostname()}, started at [^)]+\\) on data dir ${shared}; this run stops$`, 'm'));
  // More input, which only the second run processes.
  const more = crashInput(4_000, 13).slice(3_000);
  const { log, clock } = await openProducer(shared);
  await appendInOrder(log, clock, more, 1_000);
  await log.close();
  await waitUntil(async () => (await inputProgress(shared)) === 4_000, 'the second run did not process the new input');
  await sleep(300); // its repartitioned records too
  process.kill(second.pid, 'SIGTERM');
  const b = await second.exit;
  assert.equal(b.code, 0, b.stderr);
  // A run after the last one ended takes its tasks silently: their holder is gone.
  const third = await startRun(shared).exit;
  assert.equal(third.code, 0, third.stderr);
  assert.doesNotMatch(third.stderr, /took over/);

  const out = await EmbeddedLog.open({ dataDir: shared });
  try {
    assertCrashOutputsExactlyOnce([...input, ...more], outputByKey(out, 'crash-keys'), outputByKey(out, 'crash-groups'));
  } finally {
    await out.close();
  }
});

test('static shares (--instance I/N) hold disjoint tasks: two processes on one data dir both run to the end, and write what one run does', { timeout: 180_000 }, async (t) => {
  const root = tempRoot(t);
  // A topology without repartition: a static share cannot know when another share's writes to an internal stream end.
  const topologyModule = join(root, 'stateless.ts');
  writeFileSync(topologyModule, `import { APP_ID, buildTopology } from ${JSON.stringify(FIXTURES)};\nexport default { applicationId: APP_ID, topology: buildTopology('stateless') };\n`);
  const alone = join(root, 'alone');
  const shared = join(root, 'shared');
  const input = crashInput(3_000, 5).map((r) => ({ ...r, stream: 'in-a' }));
  await produceCrashInput(alone, input);
  await produceCrashInput(shared, input);

  const single = await startRun(alone, [], topologyModule).exit;
  assert.equal(single.code, 0, single.stderr);
  const shares = await Promise.all([0, 1].map((i) => startRun(shared, ['--instance', `${i}/2`], topologyModule).exit));
  for (const s of shares) assert.equal(s.code, 0, s.stderr);
  const log = await EmbeddedLog.open({ dataDir: shared });
  const aloneLog = await EmbeddedLog.open({ dataDir: alone });
  try {
    const outputs = log.streams().filter((s) => s !== 'in-a');
    assert.ok(outputs.length >= 2, outputs.join());
    for (const stream of outputs) assert.equal(fingerprintStream(log, stream), fingerprintStream(aloneLog, stream), stream);
  } finally {
    await log.close();
    await aloneLog.close();
  }
});

/** A commit of task 0_0 of the application, taking input `in/0` to `next`. */
function unit(next: number, applicationId = APP_ID): CommitUnit {
  return {
    applicationId,
    taskId: '0_0',
    outputs: [{ stream: 'out', partition: 0, key: null, value: new Uint8Array([next]), eventTime: next }],
    stateWrites: [{ store: 's', key: '61', value: new Uint8Array([next]) }],
    checkpoint: { positions: { 'in/0': { next } }, streamTime: next, partitionTimes: {}, commits: next },
    audit: [],
  };
}

test('a commit of a run whose task was taken since writes nothing and fails with one line; the new holder commits', async (t) => {
  const dataDir = join(tempRoot(t), 'd');
  const oldRun = await EmbeddedLog.open({ dataDir });
  const newRun = await EmbeddedLog.open({ dataDir });
  t.after(async () => {
    await oldRun.close();
    await newRun.close();
  });
  oldRun.ensureStream('in', 1);
  oldRun.ensureStream('out', 1);
  const plan: RunPlan = { applicationId: APP_ID, subTopologies: [], streams: [], tasks: [{ taskId: '0_0', subTopology: 0, partition: 0, stores: ['s'], sources: ['in'] }], writers: new Map() };
  await oldRun.prepare(plan);
  oldRun.commit([unit(1)]);
  await newRun.prepare(plan);

  assert.throws(
    () => oldRun.commit([unit(2)]),
    (e: unknown) =>
      e instanceof TaskMigratedError &&
      e.taskIds.join() === '0_0' &&
      new RegExp(`^task 0_0 of application ${APP_ID} was taken over by another run \\(pid ${process.pid} on ${hostname()}, started at [^)]+\\) on data dir ${dataDir}; this run stops$`).test(e.message),
  );
  // Nothing of the refused commit: not its output, state or checkpoint.
  assert.equal(newRun.endOffset('out', 0), 1);
  assert.equal(newRun.readCheckpoint(APP_ID, '0_0')?.positions['in/0']?.next, 1);
  assert.deepEqual([...newRun.stateBackend(APP_ID, '0_0').get('s', '61')!], [1]);

  newRun.commit([unit(3)]);
  assert.equal(newRun.readCheckpoint(APP_ID, '0_0')?.positions['in/0']?.next, 3);
  // Another application's task of the same id is another task.
  oldRun.commit([unit(4, 'other-app')]);
});
