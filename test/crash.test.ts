/**
 * Crash test (DESIGN 4.8, exactly-once on the embedded log): a child
 * process (test/fixtures/crash-child.ts) runs a stateful topology — count
 * per key (LMDB store) and running sum (in-memory store), and the same per
 * group after a selectKey, through a repartition stream — in catch-up over
 * a pre-produced input, committing every 2 ms. The parent SIGKILLs it at
 * random points and restarts it each time, until it completes. Then the
 * output has no record lost or duplicated (each key's n-th record comes out
 * with n, and the sums add up) and its fingerprints equal those of an
 * uninterrupted run on the same input.
 *
 * `TIDEMARK_CRASH_KILLS` sets the number of kills (default 30);
 * `TIDEMARK_CRASH_SEED` replays the random kill points of a run (printed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLog, fingerprintStream } from '../src/index.ts';
import {
  APP_ID,
  CRASH_INPUT,
  CRASH_OUTPUTS,
  CRASH_PARTITIONS,
  DEAD_LETTER_STREAM,
  appendInOrder,
  crashInput,
  openProducer,
  prng,
  type InputRecord,
} from './fixtures/determinism-topologies.ts';

const KILLS = Math.max(1, Number(process.env['TIDEMARK_CRASH_KILLS'] ?? '30'));
const SEED = Number(process.env['TIDEMARK_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const RECORDS = 6_000;
const COMMIT_INTERVAL_MS = 2;
const FETCH_SIZE = 20;
const CHILD = new URL('./fixtures/crash-child.ts', import.meta.url).pathname;

interface Life {
  /** The child's exit: code, or the signal that killed it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly done: boolean;
  /** Milliseconds from spawn to `running`. */
  readonly startupMs: number;
  /** Milliseconds from `running` to the end of the child. */
  readonly ranMs: number;
  readonly stderr: string;
}

/**
 * Runs the child on `dataDir`. `killAt` says when to SIGKILL it: after
 * `afterMs` from spawn (`from: 'spawn'`) or from its `running` line; never
 * when undefined.
 */
function runChild(dataDir: string, killAt?: { from: 'spawn' | 'running'; afterMs: number }): Promise<Life> {
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, [CHILD, dataDir, String(COMMIT_INTERVAL_MS), String(FETCH_SIZE)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let runningAt: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const kill = (afterMs: number): void => {
      timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    };
    if (killAt?.from === 'spawn') kill(killAt.afterMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (runningAt === undefined && stdout.includes('running\n')) {
        runningAt = Date.now();
        if (killAt?.from === 'running') kill(killAt.afterMs);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ code, signal, done: /^done /m.test(stdout), startupMs: (runningAt ?? Date.now()) - spawnedAt, ranMs: runningAt === undefined ? 0 : Date.now() - runningAt, stderr });
    });
  });
}

async function produce(dataDir: string, records: readonly InputRecord[]): Promise<void> {
  const { log, clock } = await openProducer(dataDir);
  try {
    log.ensureStream(CRASH_INPUT, CRASH_PARTITIONS);
    await appendInOrder(log, clock, records, 1_000);
  } finally {
    await log.close();
  }
}

/** Committed progress: the sum of every task's committed input positions. */
async function committedProgress(dataDir: string): Promise<number> {
  const log = await EmbeddedLog.open({ dataDir });
  try {
    let total = 0;
    for (const sub of [0, 1, 2]) {
      for (let p = 0; p < CRASH_PARTITIONS; p++) {
        const checkpoint = log.readCheckpoint(APP_ID, `${sub}_${p}`);
        for (const position of Object.values(checkpoint?.positions ?? {})) total += position.next;
      }
    }
    return total;
  } finally {
    await log.close();
  }
}

interface OutputRecord {
  readonly key: string;
  readonly n: number;
  readonly sum: number;
  readonly v: number;
}

/** An output stream's records, per key, in offset order (each key is written to one partition). */
function outputByKey(log: EmbeddedLog, stream: string): Map<string, OutputRecord[]> {
  const byKey = new Map<string, OutputRecord[]>();
  const decoder = new TextDecoder();
  for (let p = 0; p < (log.partitionCount(stream) ?? 0); p++) {
    for (const r of log.read(stream, p, 0, Number.MAX_SAFE_INTEGER)) {
      const key = decoder.decode(r.key!);
      const value = JSON.parse(decoder.decode(r.value!)) as { n: number; sum: number; v: number };
      const list = byKey.get(key) ?? [];
      list.push({ key, ...value });
      byKey.set(key, list);
    }
  }
  return byKey;
}

function fingerprintsOf(log: EmbeddedLog): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of [...CRASH_OUTPUTS, DEAD_LETTER_STREAM]) out[s] = fingerprintStream(log, s);
  return out;
}

/** Checks that the crashed run's output has no record lost or duplicated, and equals the uninterrupted run's. */
async function verify(crashedDir: string, uninterruptedDir: string, input: readonly InputRecord[]): Promise<void> {
  const expected = await EmbeddedLog.open({ dataDir: uninterruptedDir });
  const actual = await EmbeddedLog.open({ dataDir: crashedDir });
  try {
    // Per key, the n-th input record (in its partition's order) comes out with n and the running sum.
    const inputByKey = new Map<string, number[]>();
    const decoder = new TextDecoder();
    for (const r of input) {
      const key = decoder.decode(r.key!);
      const list = inputByKey.get(key) ?? [];
      list.push((JSON.parse(decoder.decode(r.value!)) as { v: number }).v);
      inputByKey.set(key, list);
    }
    const keys = outputByKey(actual, 'crash-keys');
    assert.deepEqual([...keys.keys()].sort(), [...inputByKey.keys()].sort());
    for (const [key, values] of inputByKey) {
      let sum = 0;
      const want = values.map((v, i) => ({ key, n: i + 1, sum: (sum += v), v }));
      assert.deepEqual(keys.get(key), want, `output of key ${key}`);
    }
    // Per group (after the repartition): counts 1..n in order, sums add up, every input record once.
    const groups = outputByKey(actual, 'crash-groups');
    let groupRecords = 0;
    for (const [group, outs] of groups) {
      let sum = 0;
      outs.forEach((o, i) => {
        sum += o.v;
        assert.equal(o.n, i + 1, `group ${group}: record ${i} has n ${o.n}`);
        assert.equal(o.sum, sum, `group ${group}: record ${i} has sum ${o.sum}`);
      });
      groupRecords += outs.length;
    }
    assert.equal(groupRecords, input.length);
    // And the same bytes, in the same order, as the uninterrupted run.
    assert.deepEqual(fingerprintsOf(actual), fingerprintsOf(expected));
  } finally {
    await expected.close();
    await actual.close();
  }
}

test('a stateful topology killed with SIGKILL at random points and restarted loses and duplicates nothing', { timeout: 10 * 60_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tidemark-crash-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const input = crashInput(RECORDS, 20_261_124);
  const uninterruptedDir = join(root, 'uninterrupted');
  await produce(uninterruptedDir, input);

  // The uninterrupted run, which also tells how long start-up and processing take.
  const whole = await runChild(uninterruptedDir);
  assert.equal(whole.code, 0, `uninterrupted run failed: ${whole.stderr}`);
  assert.ok(whole.done);
  const full = await committedProgress(uninterruptedDir);
  const random = prng(SEED);
  t.diagnostic(`seed ${SEED} (TIDEMARK_CRASH_SEED); ${KILLS} kills; uninterrupted run: start-up ${whole.startupMs} ms, processing ${whole.ranMs} ms`);

  // Kill points are spread over the whole run (both stages): each life is
  // killed at a random point around an even share of the work left (from
  // the committed progress and the uninterrupted run's pace) for the kills
  // left; 15% of lives are killed during start-up instead. Should a life
  // complete before its kill, that round is checked and another begins on
  // a fresh copy of the input, so that every counted kill is mid-run.
  let kills = 0;
  for (let round = 1; kills < KILLS; round++) {
    const dir = join(root, `crashed-${round}`);
    await produce(dir, input);
    let progress = 0;
    let lives = 0;
    let completed = false;
    const trail: string[] = [];
    // Committed progress per millisecond of a restarted life, which first restores its tasks:
    // measured on this round's lives (within 35–100% of the uninterrupted run's pace).
    let spentMs = 0;
    let gained = 0;
    const nominal = full / whole.ranMs;
    const pace = (): number => (spentMs >= 200 ? Math.min(nominal, Math.max(0.35 * nominal, gained / spentMs)) : nominal);
    for (let j = 0; !completed; j++) {
      let killAt: { from: 'spawn' | 'running'; afterMs: number } | undefined;
      if (kills >= KILLS) killAt = undefined;
      else if (random() < 0.15) killAt = { from: 'spawn', afterMs: Math.floor(random() * whole.startupMs * 0.8) };
      else {
        // An even share of the work left for each kill left (and the final life), at a random point around it.
        const shareMs = (full - progress) / (KILLS - kills + 1) / pace();
        killAt = { from: 'running', afterMs: Math.floor(shareMs * (0.2 + random())) };
      }
      const life = await runChild(dir, killAt);
      lives++;
      if (life.done) {
        // Completed (it prints `done` after its last commit); the kill may still have landed before it exited.
        assert.ok(life.code === 0 || life.signal === 'SIGKILL', `child failed: code ${life.code}, ${life.stderr}`);
        completed = true;
      } else {
        assert.equal(life.signal, 'SIGKILL', `child ended otherwise than killed: code ${life.code}, ${life.stderr}`);
        kills++;
      }
      const now = await committedProgress(dir);
      assert.ok(now >= progress, `committed positions went back after a kill: ${progress} -> ${now}`);
      if (killAt?.from === 'running' && !life.done) {
        spentMs += killAt.afterMs;
        gained += now - progress;
      }
      progress = now;
      trail.push(`${Math.round((100 * now) / full)}%`);
    }
    t.diagnostic(`round ${round}: ${lives} lives, ${kills} kills so far; committed progress after each life: ${trail.join(' ')}`);
    await verify(dir, uninterruptedDir, input);
    assert.equal(progress, full, 'committed input positions (external and internal streams) differ from the uninterrupted run');
  }
});
