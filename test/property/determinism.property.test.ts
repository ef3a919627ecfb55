/**
 * Property-based determinism tests (docs/semantics.md, "Determinism and the audit"): for
 * generated inputs of the fixture topologies, the fingerprint of every
 * output stream and of the dead-letter stream equals that of a reference
 * run (fresh data directory, catch-up, default fetch size, no stops), across
 *   1. random fetch sizes (and commit intervals, and reads that return a random part of what is there, as a broker's fetch does),
 *   2. random stop/restart points (catch-up with `maxRecords`, then a new
 *      EmbeddedLog and Application on the same data directory, several times),
 *   3. real-time runs tailing a producer that appends the input in random
 *      batches, in a random interleaving of the partitions, with small delays.
 * Each run is on a real EmbeddedLog in a temporary directory.
 *
 * The `watermark` topology runs in watermark mode (docs/watermarks.md): there
 * the watermark records its tasks write — into its outputs and into the
 * internal stream between its sub-topologies — must agree too: their
 * fingerprints (`fingerprintStream(log, s, 'watermarks')`, which leaves out
 * the stop reports a clean stop writes), and the watermark reports other
 * than stop reports, record for record, each at the same place among its
 * writer's data (as must the internal stream's data). A real-time run of it is stopped
 * only once the last watermark records of the internal stream have been
 * processed as well.
 *
 * Case counts. `TIDEMARK_PROPERTY_RUNS` is a multiplier (default 1) of the
 * base counts: fetch sizes 117, stop/restart 93, real-time 32 — 242 cases in
 * CI, spread over 16 topologies, the watermark topology drawn twice as often
 * in real time (about 1–2 minutes on 2 cores). `TIDEMARK_PROPERTY_RUNS=5`
 * runs 1210.
 * A failure reports fast-check's seed and path; rerun that case with
 * `TIDEMARK_PROPERTY_SEED=<seed> TIDEMARK_PROPERTY_PATH=<path>` (the path
 * only replays the property that failed, so combine it with `--test-name-pattern`).
 * `TIDEMARK_PROPERTY_NO_SHRINK=1` reports the first failure without shrinking it;
 * `TIDEMARK_PROPERTY_SHRINK_MS` bounds the time spent shrinking (default 60 s).
 * A catch-up run that does not finish in 60 s fails its case (a stuck
 * scheduler shows as a failure, not as a hung test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { Application, EmbeddedLog, type AuditEntry, type RunOptions, type RunSummary } from '../../src/index.ts';
import { watermarkRecordKind } from '../../src/runtime/watermark-record.ts';
import {
  APP_ID,
  appendInOrder,
  buildTopology,
  createStreams,
  caseArb,
  describeCase,
  fingerprints,
  materialize,
  openProducer,
  positionKey,
  produceCase,
  streamSizes,
  watermarkReports,
  watermarkStreams,
  TOPOLOGY_NAMES,
  type Case,
  type InputRecord,
  type TopologyName,
} from '../fixtures/determinism-topologies.ts';
import { applicationInternals } from '../../src/runtime/application.ts';
import { withPartialReads } from '../fixtures/partial-reads.ts';

const SCALE = Math.max(0, Number(process.env['TIDEMARK_PROPERTY_RUNS'] ?? '1'));
if (!Number.isFinite(SCALE)) throw new Error(`TIDEMARK_PROPERTY_RUNS must be a number (a multiplier), got ${process.env['TIDEMARK_PROPERTY_RUNS']}`);
const RUNS = {
  fetchSizes: Math.max(1, Math.round(117 * SCALE)),
  restarts: Math.max(1, Math.round(93 * SCALE)),
  realTime: Math.max(1, Math.round(32 * SCALE)),
};
const SEED = process.env['TIDEMARK_PROPERTY_SEED'] === undefined ? undefined : Number(process.env['TIDEMARK_PROPERTY_SEED']);
const PATH = process.env['TIDEMARK_PROPERTY_PATH'];

/**
 * Shrinking re-runs whole cases (a second or more each in real time), so it
 * could go on for many minutes: after a property's first failure it may go
 * on for this long (`TIDEMARK_PROPERTY_SHRINK_MS`, default 60 s); later
 * candidates are then skipped and the smallest failure found is reported.
 */
const SHRINK_BUDGET_MS = Number(process.env['TIDEMARK_PROPERTY_SHRINK_MS'] ?? '60000');

function withShrinkBudget<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let failedAt: number | undefined;
  return async (...args: A) => {
    if (failedAt !== undefined && Date.now() - failedAt > SHRINK_BUDGET_MS) fc.pre(false);
    try {
      await body(...args);
    } catch (e) {
      if (!fc.PreconditionFailure.isFailure(e)) failedAt ??= Date.now();
      throw e;
    }
  };
}

function assertOptions<T>(numRuns: number): fc.Parameters<T> {
  return {
    numRuns,
    ...(SEED === undefined ? {} : { seed: SEED }),
    ...(PATH === undefined ? {} : { path: PATH }),
    endOnFailure: process.env['TIDEMARK_PROPERTY_NO_SHRINK'] === '1',
  };
}

/** What a property ran through, for its closing line. */
class Tally {
  cases = 0;
  records = 0;
  anomalies = 0;
  readonly topologies = new Map<string, number>();
  /** Watermark records (other than stop reports) the references wrote. */
  watermarkRecords = 0;
  add(c: Case): void {
    this.cases++;
    this.records += c.records.length;
    this.anomalies += c.records.filter((r) => r.anomaly !== 'none').length;
    this.topologies.set(c.topology, (this.topologies.get(c.topology) ?? 0) + 1);
  }
  noteReference(o: Outcome): void {
    for (const [k, n] of Object.entries(o.sizes)) if (k.startsWith('watermarks ')) this.watermarkRecords += n;
  }
  toString(): string {
    return `${this.cases} cases, ${this.records} input records (${this.anomalies} bad or with invalid timestamps), topologies ${JSON.stringify(Object.fromEntries(this.topologies))}, ${this.watermarkRecords} watermark records in the references`;
  }
}

/** A temporary root for one case's data directories, removed afterwards. */
async function withTempRoot<T>(fn: (root: string) => Promise<T>): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), 'tidemark-det-'));
  try {
    return await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** What a finished set of runs left in a data directory, to compare with the reference. */
interface Outcome {
  /** Data fingerprints; for watermark topologies also watermark fingerprints (`fingerprintStream(…, 'watermarks')`). */
  readonly fingerprints: Record<string, string>;
  readonly sizes: Record<string, number>;
  /**
   * Watermark topologies: each stream's watermark reports, in fingerprint
   * order (JSON), other than the stops and announcements each run writes
   * (they mark where runs began and ended; the watermark fingerprint leaves them out too).
   */
  readonly reports: Record<string, string>;
  /** Committed audit entries that are not nondeterministic decisions: fallbacks, dead letters, late records, by position (see `positionKey`). */
  readonly audit: string[];
  readonly nondeterministicAudit: AuditEntry[];
}


async function outcomeOf(dataDir: string, c: Case): Promise<Outcome> {
  const log = await EmbeddedLog.open({ dataDir });
  try {
    const audit = log.readAudit(APP_ID);
    const reports: Record<string, string> = {};
    for (const s of watermarkStreams(c.topology)) reports[s] = JSON.stringify(watermarkReports(log, s).filter((r) => watermarkRecordKind(r) === 'watermark'));
    return {
      fingerprints: fingerprints(log, c.topology),
      sizes: streamSizes(log, c.topology),
      reports,
      audit: audit
        .filter((e) => !e.kind.startsWith('nondeterministic:'))
        .map((e) => `${e.kind} ${e.taskId} ${positionKey(log, c.topology, e)}`)
        .sort(),
      nondeterministicAudit: audit.filter((e) => e.kind.startsWith('nondeterministic:')),
    };
  } finally {
    await log.close();
  }
}

/** A catch-up run of a few hundred records that takes longer than this is stuck. */
const CATCH_UP_WATCHDOG_MS = 60_000;

/** One catch-up run of the case's topology on `dataDir`, with its own log instance; with `partialReads`, reads return a random part of what is there (seeded). */
async function runOnce(dataDir: string, c: Case, options: Partial<RunOptions> = {}, partialReads?: number): Promise<RunSummary> {
  const log = await EmbeddedLog.open({ dataDir });
  try {
    const app = new Application(buildTopology(c.topology), { applicationId: APP_ID, log: partialReads === undefined ? log : withPartialReads(log, partialReads) });
    const signal = AbortSignal.timeout(CATCH_UP_WATCHDOG_MS);
    const summary = await app.run({ mode: 'catch-up', ...options, signal });
    assert.ok(!signal.aborted, `a catch-up run did not finish in ${CATCH_UP_WATCHDOG_MS} ms (stuck waiting?): ${JSON.stringify(options)}, ${describeCase(c)}`);
    return summary;
  } finally {
    await log.close();
  }
}

/** The reference: fresh data directory, catch-up, default fetch size, no stops. */
async function reference(root: string, c: Case, records: readonly InputRecord[]): Promise<{ outcome: Outcome; summary: RunSummary }> {
  const dir = join(root, 'reference');
  await produceCase(dir, c, records);
  const summary = await runOnce(dir, c);
  const outcome = await outcomeOf(dir, c);
  assert.equal(summary.nondeterministicDecisions, 0, 'a catch-up run makes no nondeterministic decision');
  assert.equal(outcome.nondeterministicAudit.length, 0);
  return { outcome, summary };
}

function assertSameOutput(actual: Outcome, expected: Outcome, what: string, c: Case): void {
  const context = `${what}; case: ${describeCase(c)}`;
  assert.deepEqual(actual.sizes, expected.sizes, `record counts differ (${context})`);
  assert.deepEqual(actual.reports, expected.reports, `watermark records (other than stop reports) differ (${context})`);
  assert.deepEqual(actual.fingerprints, expected.fingerprints, `fingerprints differ (${context})`);
}

test('fingerprints are identical across random fetch sizes, commit intervals and partial reads', { timeout: 30 * 60_000 }, async () => {
  const tally = new Tally();
  await fc.assert(
    fc.asyncProperty(caseArb(), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 40 }), fc.option(fc.integer(), { nil: undefined }), withShrinkBudget(async (c, fetchSize, commitIntervalMs, partialReads) =>
      withTempRoot(async (root) => {
        tally.add(c);
        const records = materialize(c);
        const ref = await reference(root, c, records);
        tally.noteReference(ref.outcome);
        const dir = join(root, 'variant');
        await produceCase(dir, c, records);
        const summary = await runOnce(dir, c, { fetchSize, commitIntervalMs }, partialReads);
        const outcome = await outcomeOf(dir, c);
        const what = `fetchSize ${fetchSize}, commitIntervalMs ${commitIntervalMs}${partialReads === undefined ? '' : `, partial reads (seed ${partialReads})`}`;
        assertSameOutput(outcome, ref.outcome, what, c);
        assert.deepEqual(outcome.audit, ref.outcome.audit, `audit differs (${what})`);
        assert.equal(summary.processed, ref.summary.processed);
        assert.equal(summary.deadLettered, ref.summary.deadLettered);
        assert.equal(summary.fallbacks, ref.summary.fallbacks);
        assert.equal(summary.nondeterministicDecisions, 0);
      })),
    ),
    assertOptions(RUNS.fetchSizes),
  );
  console.log(`# fetch sizes: ${tally}`);
});

test('fingerprints are identical across random stop/restart points', { timeout: 30 * 60_000 }, async () => {
  const segmentArb = fc.record({
    maxRecords: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 9, arbitrary: fc.integer({ min: 1, max: 150 }) }),
    fetchSize: fc.oneof(fc.constant(500), fc.integer({ min: 1, max: 50 })),
    commitIntervalMs: fc.integer({ min: 0, max: 40 }),
  });
  const tally = new Tally();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(caseArb(), fc.array(segmentArb, { minLength: 1, maxLength: 5 }), withShrinkBudget(async (c, segments) =>
      withTempRoot(async (root) => {
        tally.add(c);
        runs += segments.length + 1;
        const records = materialize(c);
        const ref = await reference(root, c, records);
        tally.noteReference(ref.outcome);
        const dir = join(root, 'restarts');
        await produceCase(dir, c, records);
        let processed = 0;
        let deadLettered = 0;
        const stops: number[] = [];
        for (const s of segments) {
          const summary = await runOnce(dir, c, s);
          stops.push(summary.processed + summary.deadLettered);
          assert.ok(summary.processed + summary.deadLettered <= s.maxRecords, `a run with maxRecords ${s.maxRecords} took ${summary.processed + summary.deadLettered}`);
          processed += summary.processed;
          deadLettered += summary.deadLettered;
        }
        const last = await runOnce(dir, c, { fetchSize: segments.at(-1)!.fetchSize });
        processed += last.processed;
        deadLettered += last.deadLettered;
        stops.push(last.processed + last.deadLettered);
        const outcome = await outcomeOf(dir, c);
        const what = `stops after ${JSON.stringify(stops)} records (segments ${JSON.stringify(segments)})`;
        assertSameOutput(outcome, ref.outcome, what, c);
        assert.equal(processed, ref.summary.processed, `records processed over all runs (${what})`);
        assert.equal(deadLettered, ref.summary.deadLettered, `records dead-lettered over all runs (${what})`);
        assert.deepEqual(outcome.audit, ref.outcome.audit, `committed audit differs (${what})`);
        assert.equal(outcome.nondeterministicAudit.length, 0);
      })),
    ),
    assertOptions(RUNS.restarts),
  );
  console.log(`# stop/restart: ${tally}; ${runs} runs`);
});

/**
 * Real time. A producer (its own EmbeddedLog instance on the same data
 * directory, as another process would be) appends the input in a random
 * interleaving of the partitions (each partition in its own order), in
 * random batches with random delays of at most 8 ms, while a real-time run
 * tails it with `maxIdleMs` 500 (appends wait for the disk, a few ms each,
 * so 300 records take 100–300 ms to produce). In some cases the real-time
 * run is stopped while the producer is still appending and a new one (new
 * EmbeddedLog instance and Application) takes over. The run is stopped once
 * it has taken as many records as the reference.
 *
 * Production takes well under `maxIdleMs`, so the scheduler never has to
 * pass over a partition that still gets data: whatever it passes over at
 * the tail (counted, audited) has ended. A run that made a nondeterministic
 * decision *before* the producer finished (possible only if the machine
 * stalled for longer than `maxIdleMs`) is not covered by the contract; such
 * a case is discarded (fc.pre) and reported, never counted as a pass.
 */
/** Real time draws the watermark topology twice as often: its internal watermark records are what timing could upset. */
const REAL_TIME_TOPOLOGIES: readonly TopologyName[] = [...TOPOLOGY_NAMES, 'watermark'];

test('fingerprints are identical in real time, with random arrival interleavings and restarts, as in catch-up', { timeout: 30 * 60_000 }, async () => {
  const MAX_IDLE_MS = 500;
  let discarded = 0;
  let withDecisions = 0;
  let restarted = 0;
  const tally = new Tally();
  const arrivalArb = fc.record({
    order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 300, maxLength: 300 }),
    batches: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 40 }),
    delays: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 40 }),
    /** Restart the real-time run after this many batches (never if beyond the last). */
    restartAfter: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 3 }),
  });
  await fc.assert(
    fc.asyncProperty(caseArb({ topologies: REAL_TIME_TOPOLOGIES }), arrivalArb, fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 60 }), withShrinkBudget(async (c, arrival, fetchSize, commitIntervalMs) =>
      withTempRoot(async (root) => {
        tally.add(c);
        const records = materialize(c);
        const ref = await reference(root, c, records);
        tally.noteReference(ref.outcome);
        const expectedTaken = ref.summary.processed + ref.summary.deadLettered;
        const dir = join(root, 'real-time');
        const ordered = interleave(records, arrival.order);

        const { log: producerLog, clock } = await openProducer(dir);
        createStreams(producerLog, c);
        const start = async (): Promise<{ log: EmbeddedLog; app: Application; abort: AbortController; running: Promise<RunSummary> }> => {
          const log = await EmbeddedLog.open({ dataDir: dir });
          const app = new Application(buildTopology(c.topology), { applicationId: APP_ID, log });
          const abort = new AbortController();
          const running = app.run({ mode: 'real-time', maxIdleMs: MAX_IDLE_MS, fetchSize, commitIntervalMs, signal: abort.signal });
          return { log, app, abort, running };
        };
        const summaries: RunSummary[] = [];
        const stop = async (run: Awaited<ReturnType<typeof start>>): Promise<void> => {
          run.abort.abort();
          try {
            summaries.push(await run.running);
          } finally {
            await run.log.close();
          }
        };
        const startedAt = Date.now();
        let producedAt = Infinity;
        let current = await start();
        let restarts = 0;
        try {
          let i = 0;
          for (let b = 0; i < ordered.length; b++) {
            if (b === arrival.restartAfter) {
              await stop(current);
              current = await start();
              restarts++;
            }
            const size = arrival.batches[b % arrival.batches.length]!;
            await appendInOrder(producerLog, clock, ordered.slice(i, i + size));
            i += size;
            await sleep(arrival.delays[b % arrival.delays.length]!);
          }
          producedAt = Date.now();
          const takenBefore = (): number => summaries.reduce((n, s) => n + s.processed + s.deadLettered, 0);
          const deadline = Date.now() + 20_000;
          while (takenBefore() + taken(current.app) < expectedTaken && Date.now() < deadline) await sleep(10);
          // Watermark records are not counted as taken: wait until the internal streams' last ones, which
          // fire the downstream windows and timers, are written and processed too.
          while (!settled(current) && Date.now() < deadline) await sleep(10);
        } finally {
          await stop(current);
          await producerLog.close();
        }
        if (restarts > 0) restarted++;
        const sum = (f: (s: RunSummary) => number): number => summaries.reduce((n, s) => n + f(s), 0);
        const decisions = sum((s) => s.nondeterministicDecisions);
        const outcome = await outcomeOf(dir, c);
        const what = `real time, fetchSize ${fetchSize}, commitIntervalMs ${commitIntervalMs}, ${restarts} restarts, ${decisions} nondeterministic decisions`;
        assert.equal(sum((s) => s.processed + s.deadLettered), expectedTaken, `the real-time run did not take all input in time (${what}; ${describeCase(c)})`);
        // The count is reported, and agrees with the audit log committed with the data.
        for (const s of summaries) assert.ok(Number.isInteger(s.nondeterministicDecisions) && s.nondeterministicDecisions >= 0);
        assert.equal(outcome.nondeterministicAudit.length, decisions, 'nondeterministic decisions: summaries vs committed audit');
        const early = outcome.nondeterministicAudit.filter((e) => e.at < producedAt);
        if (early.length > 0) {
          discarded++;
          console.log(`# real-time case discarded: ${early.length} nondeterministic decision(s) while the producer was still appending (${what}; production took ${producedAt - startedAt} ms; ${describeCase(c)})`);
          for (const e of early) console.log(`#   at +${e.at - startedAt} ms: ${e.kind} ${e.taskId} ${e.detail}`);
        }
        fc.pre(early.length === 0);
        if (decisions > 0) withDecisions++;
        assertSameOutput(outcome, ref.outcome, what, c);
        assert.equal(sum((s) => s.processed), ref.summary.processed);
        assert.equal(sum((s) => s.deadLettered), ref.summary.deadLettered);
        assert.deepEqual(outcome.audit, ref.outcome.audit, `audit differs (${what})`);
      })),
    ),
    { ...assertOptions(RUNS.realTime), maxSkipsPerRun: 2 },
  );
  console.log(`# real time: ${tally}; ${restarted} with restarts, ${withDecisions} with nondeterministic decisions at the tail, ${discarded} discarded`);
});

/**
 * Whether a running application has nothing left to do with what is in the
 * log: every task has read and processed all of its inputs (watermark
 * records included), and holds no uncommitted output for an internal
 * stream, which a task of the application would still have to read.
 */
function settled(run: { log: EmbeddedLog; app: Application }): boolean {
  const internal = [...run.app.topology.nodes.values()].flatMap((n) => (n.kind === 'sink' && n.internal ? [n.stream] : []));
  return applicationInternals(run.app).tasks.every(
    (t) => [...t.lag().values()].every((n) => n === 0) && internal.every((s) => Array.from({ length: run.log.partitionCount(s) ?? 0 }, (_, p) => p).every((p) => !t.hasPending(s, p))),
  );
}

/** Records taken from the buffers so far by a running application (processed or dead-lettered). */
function taken(app: Application): number {
  let n = 0;
  for (const t of applicationInternals(app).tasks) n += t.counters.processed + t.counters.deadLettered;
  return n;
}

/**
 * A random interleaving of the input partitions: each partition keeps its
 * records in order, and the partitions take turns as the random `order`
 * values (one per record, reused cyclically) say.
 */
function interleave(records: readonly InputRecord[], order: readonly number[]): InputRecord[] {
  const byPartition = new Map<string, InputRecord[]>();
  const slots = records.map((r, i) => {
    const key = `${r.stream}/${r.partition}`;
    const list = byPartition.get(key) ?? [];
    list.push(r);
    byPartition.set(key, list);
    return { key, rank: order[i % order.length]!, i };
  });
  slots.sort((a, b) => a.rank - b.rank || a.i - b.i);
  const next = new Map<string, number>();
  return slots.map(({ key }) => {
    const k = next.get(key) ?? 0;
    next.set(key, k + 1);
    return byPartition.get(key)![k]!;
  });
}
