/**
 * Crash test (exactly-once on the embedded log: docs/semantics.md, "Exactly-once"): a child
 * process (test/fixtures/crash-child.ts) runs a stateful topology — count
 * per key (LMDB store) and running sum (in-memory store), and the same per
 * group after a selectKey, through a repartition stream — in catch-up over
 * a pre-produced input, committing every 2 ms. The parent SIGKILLs it at
 * random points and restarts it each time, until it completes. Then the
 * output has no record lost or duplicated (each key's n-th record comes out
 * with n, and the sums add up) and its fingerprints equal those of an
 * uninterrupted run on the same input.
 *
 * A second test does the same with a watermark-mode topology (the
 * determinism fixtures' `watermark` topology: windows firing on
 * `boundedOutOfOrderness` watermarks with and without allowed lateness, a
 * repartition whose watermark records carry event time to the second
 * sub-topology, event-time timers): its watermarks, fired windows and
 * timers are committed state too, so the output — data fingerprints,
 * watermark fingerprints, the watermark records themselves (stop reports
 * aside: each completed life writes them) at the same places among the
 * data, and the internal stream's data — equals an uninterrupted run's.
 *
 * A third does the same with the determinism fixtures' `table` topology
 * (tables in LMDB and in memory with tombstones and null keys, filter and
 * mapValues, regrouped sums and counts through internal streams): the
 * tables' rows and the groups' aggregates and member counts are committed
 * state, so the output equals an uninterrupted run's. A fourth does the same
 * with the `versioned-table` topology: the versions, the purge index and
 * the horizon are committed state too, so late updates, history writes and
 * the changes of the latest values come out as in an uninterrupted run.
 * A fifth with the `stream-table-join` topology: records waiting for their
 * grace, the versioned table they join and what each join has joined are
 * committed state, so each record joins once, as in an uninterrupted run.
 * A sixth with the `table-join` topology: the joins' copies of both sides'
 * rows and the joined rows are committed state, so the joined changelogs
 * come out as in an uninterrupted run; a seventh with the `fk-join`
 * topology, whose three steps keep versions, subscriptions and joined
 * rows, linked by internal streams.
 *
 * `TIDEMARK_CRASH_KILLS` sets the number of kills (default 30; the
 * watermark and table tests make half as many); `TIDEMARK_CRASH_SEED` replays the
 * random kill points of a run (printed).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLog, fingerprintStream } from '../../src/index.ts';
import { watermarkRecordKind } from '../../src/runtime/watermark-record.ts';
import { assertLifeEnded, type ChildExit } from '../fixtures/crash-life.ts';
import {
  CRASH_OUTPUTS,
  DEAD_LETTER_STREAM,
  crashInput,
  crashWatermarkInput,
  crashTableInput,
  fingerprints,
  committedProgress,
  outputByKey,
  produceCrashInput,
  prng,
  streamSizes,
  watermarkReports,
  watermarkStreams,
  type InputRecord,
  assertCrashOutputsExactlyOnce,
} from '../fixtures/determinism-topologies.ts';

const KILLS = Math.max(1, Number(process.env['TIDEMARK_CRASH_KILLS'] ?? '30'));
const SEED = Number(process.env['TIDEMARK_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const RECORDS = 6_000;
const COMMIT_INTERVAL_MS = 2;
const FETCH_SIZE = 20;
const CHILD = new URL('../fixtures/crash-child.ts', import.meta.url).pathname;

interface Life extends ChildExit {
  /** Milliseconds from spawn to `running`. */
  readonly startupMs: number;
  /** Milliseconds from `running` to the end of the child. */
  readonly ranMs: number;
}

/** Which topology the child runs: the stateful crash topology, or a determinism fixtures' topology. */
type Topology = 'crash' | 'watermark' | 'table' | 'versioned-table' | 'stream-table-join' | 'table-join' | 'fk-join';

/**
 * Runs the child on `dataDir`. `killAt` says when to SIGKILL it: after
 * `afterMs` from spawn (`from: 'spawn'`) or from its `running` line; never
 * when undefined.
 */
function runChild(topology: Topology, dataDir: string, killAt?: { from: 'spawn' | 'running'; afterMs: number }): Promise<Life> {
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, [CHILD, dataDir, String(COMMIT_INTERVAL_MS), String(FETCH_SIZE), topology], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    assertCrashOutputsExactlyOnce(input, outputByKey(actual, 'crash-keys'), outputByKey(actual, 'crash-groups'));
    // And the same bytes, in the same order, as the uninterrupted run.
    assert.deepEqual(fingerprintsOf(actual), fingerprintsOf(expected));
  } finally {
    await expected.close();
    await actual.close();
  }
}

/**
 * Kills the child running `topology` on copies of `input` at random points,
 * restarting it each time, `kills` times in all; after each round (lives
 * until one completes), `verify` compares the round's data directory with
 * the uninterrupted run's.
 */
async function killAndRestart(
  t: TestContext,
  topology: Topology,
  input: readonly InputRecord[],
  kills: number,
  verify: (crashedDir: string, uninterruptedDir: string) => Promise<void>,
): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tidemark-crash-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const uninterruptedDir = join(root, 'uninterrupted');
  await produceCrashInput(uninterruptedDir, input);

  // The uninterrupted run, which also tells how long start-up and processing take.
  const whole = await runChild(topology, uninterruptedDir);
  assert.equal(whole.code, 0, `uninterrupted run failed: ${whole.stderr}`);
  assert.ok(whole.done);
  const full = await committedProgress(uninterruptedDir);
  const random = prng(SEED);
  t.diagnostic(`seed ${SEED} (TIDEMARK_CRASH_SEED); ${kills} kills; uninterrupted run: start-up ${whole.startupMs} ms, processing ${whole.ranMs} ms`);

  // Kill points are spread over the whole run (both stages): each life is
  // killed at a random point around an even share of the work left (from
  // the committed progress and the uninterrupted run's pace) for the kills
  // left; 15% of lives are killed during start-up instead. Should a life
  // complete before its kill, that round is checked and another begins on
  // a fresh copy of the input, so that every counted kill is mid-run.
  let killed = 0;
  for (let round = 1; killed < kills; round++) {
    const dir = join(root, `crashed-${round}`);
    await produceCrashInput(dir, input);
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
      if (killed >= kills) killAt = undefined;
      else if (random() < 0.15) killAt = { from: 'spawn', afterMs: Math.floor(random() * whole.startupMs * 0.8) };
      else {
        // An even share of the work left for each kill left (and the final life), at a random point around it.
        const shareMs = (full - progress) / (kills - killed + 1) / pace();
        killAt = { from: 'running', afterMs: Math.floor(shareMs * (0.2 + random())) };
      }
      const life = await runChild(topology, dir, killAt);
      lives++;
      if (assertLifeEnded(life)) completed = true;
      else {
        killed++;
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
    t.diagnostic(`round ${round}: ${lives} lives, ${killed} kills so far; committed progress after each life: ${trail.join(' ')}`);
    await verify(dir, uninterruptedDir);
    assert.equal(progress, full, 'committed input positions (external and internal streams) differ from the uninterrupted run');
  }
}

/**
 * The check of a determinism fixtures' topology after a round of kills:
 * every output (and the dead-letter stream) has the uninterrupted run's
 * records, which are not none, with the same fingerprints.
 */
function sameAsUninterrupted(topology: Exclude<Topology, 'crash' | 'watermark'>): (crashedDir: string, uninterruptedDir: string) => Promise<void> {
  return async (crashedDir, uninterruptedDir) => {
    const expected = await EmbeddedLog.open({ dataDir: uninterruptedDir });
    const actual = await EmbeddedLog.open({ dataDir: crashedDir });
    try {
      const sizes = streamSizes(expected, topology);
      for (const [stream, n] of Object.entries(sizes)) if (stream !== DEAD_LETTER_STREAM) assert.ok(n > 0, `the uninterrupted run wrote nothing to ${stream}`);
      assert.deepEqual(streamSizes(actual, topology), sizes, 'record counts');
      assert.deepEqual(fingerprints(actual, topology), fingerprints(expected, topology));
    } finally {
      await expected.close();
      await actual.close();
    }
  };
}

test('a stateful topology killed with SIGKILL at random points and restarted loses and duplicates nothing', { timeout: 10 * 60_000 }, async (t) => {
  const input = crashInput(RECORDS, 20_261_124);
  await killAndRestart(t, 'crash', input, KILLS, (crashedDir, uninterruptedDir) => verify(crashedDir, uninterruptedDir, input));
});

test('a watermark-mode topology killed with SIGKILL at random points and restarted writes the same data and watermark records', { timeout: 10 * 60_000 }, async (t) => {
  const input = crashWatermarkInput(RECORDS, 20_261_125);
  await killAndRestart(t, 'watermark', input, Math.max(1, Math.ceil(KILLS / 2)), async (crashedDir, uninterruptedDir) => {
    const expected = await EmbeddedLog.open({ dataDir: uninterruptedDir });
    const actual = await EmbeddedLog.open({ dataDir: crashedDir });
    try {
      const sizes = streamSizes(expected, 'watermark');
      // Not vacuous: windows fired and re-fired, records were late, timers fired, watermark records crossed the repartition.
      for (const [stream, n] of Object.entries(sizes)) if (stream !== DEAD_LETTER_STREAM) assert.ok(n > 0, `the uninterrupted run wrote nothing to ${stream}`);
      assert.deepEqual(streamSizes(actual, 'watermark'), sizes, 'record counts (data, and watermark records other than stop reports)');
      for (const s of watermarkStreams('watermark')) {
        // Record for record, each at the same place among its writer's data; stop reports aside (every completed life writes them).
        const reports = (log: EmbeddedLog) => watermarkReports(log, s).filter((r) => watermarkRecordKind(r) === 'watermark');
        assert.deepEqual(reports(actual), reports(expected), `watermark records of ${s}`);
      }
      assert.deepEqual(fingerprints(actual, 'watermark'), fingerprints(expected, 'watermark'));
    } finally {
      await expected.close();
      await actual.close();
    }
  });
});

test('a table topology killed with SIGKILL at random points and restarted writes the same changelogs and aggregates', { timeout: 10 * 60_000 }, async (t) => {
  const input = crashTableInput(RECORDS, 20_261_202);
  await killAndRestart(t, 'table', input, Math.max(1, Math.ceil(KILLS / 2)), sameAsUninterrupted('table'));
});

test('a versioned-table topology killed with SIGKILL at random points and restarted writes the same changelogs, late updates and aggregates', { timeout: 10 * 60_000 }, async (t) => {
  const input = crashTableInput(RECORDS, 20_261_203, ['in-vt', 'in-vt2']);
  await killAndRestart(t, 'versioned-table', input, Math.max(1, Math.ceil(KILLS / 2)), sameAsUninterrupted('versioned-table'));
});

test('a table-join topology killed with SIGKILL at random points and restarted writes the same joined changelogs', { timeout: 10 * 60_000 }, async (t) => {
  const input = crashTableInput(RECORDS, 20_261_206, ['in-tj1', 'in-tj2', 'in-tj3']);
  await killAndRestart(t, 'table-join', input, Math.max(1, Math.ceil(KILLS / 2)), sameAsUninterrupted('table-join'));
});

test('an fk-join topology killed with SIGKILL at random points and restarted writes the same joined changelogs', { timeout: 10 * 60_000 }, async (t) => {
  const input = crashTableInput(RECORDS, 20_261_207, ['in-fk-lines', 'in-fk-products']);
  await killAndRestart(t, 'fk-join', input, Math.max(1, Math.ceil(KILLS / 2)), sameAsUninterrupted('fk-join'));
});

test('a stream–table join topology killed with SIGKILL at random points and restarted joins each record once, as an uninterrupted run', { timeout: 10 * 60_000 }, async (t) => {
  const input = crashTableInput(RECORDS, 20_261_204, ['in-sjt', 'in-sj', 'in-sj2']);
  await killAndRestart(t, 'stream-table-join', input, Math.max(1, Math.ceil(KILLS / 2)), sameAsUninterrupted('stream-table-join'));
});
