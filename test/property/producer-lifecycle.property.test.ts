/**
 * A producer application's lifecycle at random (docs/watermarks.md, "A
 * producer application's lifecycle"): 1–5 runs of service B (a watermark-mode
 * pass-through, one task per input partition), each on 1–3 tasks — a fresh
 * input stream with that many partitions, or, when the count is unchanged,
 * sometimes the previous run's stream again — with its own data, ended by a
 * clean stop (catch-up to the end) or by a SIGKILL of B's child process at a
 * random moment (before it committed anything, or after it committed part of
 * its output). Consumer C (`fromStream()`, tumbling counts of 10, final) runs
 * catch-up at the end and, at random, between B's runs too, resuming from its
 * checkpoint.
 *
 * Run i's data lie in [100·i, 100·i + 90), non-decreasing per partition
 * (bounded out-of-orderness 0: a tie with the partition's maximum is on
 * time), so each run's data lie above everything B could have promised
 * before, and in one uninterrupted run nothing would be late. A killed run's
 * unprocessed input is processed by the next run only if it reads the same
 * stream; otherwise it is never output — so the oracle counts exactly the
 * records B wrote into `b`, read from the log.
 *
 * Properties, for every case:
 *  0. B's output is exactly-once: every input record at most once in `b`,
 *     unchanged; per input partition a prefix of its records, all of them
 *     when the last run reading the stream stopped cleanly.
 *  1. C (catch-up only: no nondeterministic decision) treats nothing as late,
 *     and its results are the brute-force count of the data in `b` for every
 *     window ended by its final watermark — as a consumer of one
 *     uninterrupted upstream run over the same data.
 *  2. C's final watermark is at least the minimum, over the tasks of B's
 *     newest announced run, of what each last promised in that run (its
 *     stop, after a clean stop): never stuck on a task rescaled away.
 *  3. A fresh consumer replaying the whole log once writes the same results;
 *     with the same fingerprint when C ran once.
 *
 * Case counts: base 30 (about 30 s), times `TIDEMARK_PROPERTY_RUNS`;
 * replay a failure with `TIDEMARK_PROPERTY_SEED` / `TIDEMARK_PROPERTY_PATH`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { EmbeddedLog, fingerprintStream, type AppendRecord, type LogRecord, type RunSummary } from '../../src/index.ts';
import { NO_WATERMARK } from '../../src/semantics.ts';
import { readWatermarkRecord, watermarkRecordKind } from '../../src/runtime/watermark-record.ts';
import { B_APP, B_OUT, C_OUT, expectedResults, runB, runC, windowResults, type Reading } from '../fixtures/producer-lifecycle.ts';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';
import { taskIdOf } from '../../src/runtime/ids.ts';

const RUNS = propertyRuns(30);
const REPLAY_OUT = 'c-replay-out';

/** One run of B: its task count, its data per partition (offsets into the run's event-time range), and how it ends. */
interface RunSpec {
  readonly tasks: number | 'same';
  /** With the previous run's task count: read the previous run's stream again (else a fresh one). */
  readonly reuse: boolean;
  readonly data: readonly (readonly { readonly key: string; readonly dt: number }[])[];
  /**
   * `stop`: catch-up to the end. `kill`: B runs in real time in a child
   * process on the first `quarters`/4 of the run's records (and what is left of
   * earlier runs on its stream) until it wrote them all, then the rest is
   * appended and the child is SIGKILLed `delayMs` later — so it may have
   * written none, part or all of the rest.
   */
  readonly ending: { readonly kind: 'stop' } | { readonly kind: 'kill'; readonly quarters: number; readonly delayMs: number };
  /** Run C (catch-up) after this run of B. */
  readonly consumeAfter: boolean;
}

const partitionData = fc
  .array(fc.record({ key: fc.constantFrom('x', 'y', 'z'), dt: fc.integer({ min: 0, max: 89 }) }), { maxLength: 6 })
  .map((rs) => [...rs].sort((a, b) => a.dt - b.dt));

const runSpec: fc.Arbitrary<RunSpec> = fc.record({
  // 'same': the previous run's task count (a restart, perhaps on the same stream); else 1–3, often a rescale.
  tasks: fc.oneof({ weight: 1, arbitrary: fc.constant('same' as const) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }) }),
  reuse: fc.boolean(),
  data: fc.array(partitionData, { minLength: 3, maxLength: 3 }),
  ending: fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'stop' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill' as const), quarters: fc.integer({ min: 0, max: 4 }), delayMs: fc.constantFrom(0, 0, 10, 300) }) },
  ),
  consumeAfter: fc.boolean(),
});

/** An input record of the case: where it is, and what B must write for it. */
interface Input {
  readonly stream: string;
  readonly partition: number;
  readonly key: string;
  readonly t: number;
}

interface Totals {
  cases: number;
  runs: number;
  kills: number;
  rescales: number;
  reuses: number;
  inputs: number;
  written: number;
  consumerRuns: number;
  killedBeforeOutput: number;
  killedWithInputLeft: number;
  windows: number;
  stuckAtStart: number;
}
const totals: Totals = { cases: 0, runs: 0, kills: 0, rescales: 0, reuses: 0, inputs: 0, written: 0, consumerRuns: 0, killedBeforeOutput: 0, killedWithInputLeft: 0, windows: 0, stuckAtStart: 0 };

test('a producer application restarted, rescaled and killed at random: its consumer is as on one uninterrupted run, never stuck, and replays the same', { timeout: 900_000 }, async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(runSpec, { minLength: 1, maxLength: 5 }), (runs) => checkCase(runs)),
    propertyParams(RUNS),
  );
  t.diagnostic(
    `${totals.cases} cases, ${totals.runs} runs of B (${totals.kills} killed, ${totals.killedBeforeOutput} of them before any output, ${totals.killedWithInputLeft} with input left, ${totals.rescales} rescales, ${totals.reuses} on the previous stream again), ` +
      `${totals.consumerRuns} runs of C, ${totals.inputs} input records, ${totals.written} written to b, ` +
      `${totals.windows} windows fired, ${totals.stuckAtStart} cases with C's watermark still at NO_WATERMARK`,
  );
});

async function checkCase(runs: readonly RunSpec[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-lifeprop-'));
  const log = await EmbeddedLog.open({ dataDir });
  try {
    await playCase(log, dataDir, runs);
  } finally {
    await log.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function playCase(log: EmbeddedLog, dataDir: string, runs: readonly RunSpec[]): Promise<void> {
  totals.cases++;
  // `b` exists from the start, so C can run even when B never committed anything.
  log.ensureStream(B_OUT, 1);
  const inputs: Input[] = [];
  /** Per input stream: its records' ids per partition, in order, and how the last run reading it ended. */
  const streams = new Map<string, { ids: number[][]; lastEnding: 'stop' | 'kill' }>();
  const consumer: RunSummary[] = [];
  let previous: { tasks: number; stream: string } | undefined;
  for (const [i, spec] of runs.entries()) {
    totals.runs++;
    const run = { ...spec, tasks: spec.tasks === 'same' ? (previous?.tasks ?? 1) : spec.tasks };
    if (previous !== undefined && previous.tasks !== run.tasks) totals.rescales++;
    const reuse = previous !== undefined && previous.tasks === run.tasks && run.reuse;
    if (reuse) totals.reuses++;
    const stream = reuse ? previous!.stream : `a${i}`;
    const entry = streams.get(stream) ?? { ids: Array.from({ length: run.tasks }, () => []), lastEnding: 'stop' };
    streams.set(stream, entry);
    // The input stream exists before B runs on it, even empty: a fresh stream has the run's task count.
    if (log.partitionCount(stream) === undefined) log.ensureStream(stream, run.tasks);
    const records = recordsOfRun(stream, run, i, inputs, entry.ids);
    if (run.ending.kind === 'stop') {
      await appendAll(log, records);
      await runB(log, stream);
    } else {
      totals.kills++;
      const split = Math.round((records.length * run.ending.quarters) / 4);
      const wrote = await killMidRun(log, dataDir, stream, entry.ids.flat(), records, split, run.ending.delayMs);
      if (wrote.total === 0) totals.killedBeforeOutput++;
      if (wrote.ofRest < records.length - split) totals.killedWithInputLeft++;
    }
    entry.lastEnding = run.ending.kind;
    previous = { tasks: run.tasks, stream };
    if (run.consumeAfter) consumer.push(await runC(log));
  }
  consumer.push(await runC(log));
  totals.consumerRuns += consumer.length;

  const written = writtenByB(log, inputs, streams);
  totals.inputs += inputs.length;
  totals.written += written.length;

  // 1. Nothing late, nothing decided by timing, results as on one uninterrupted run.
  for (const s of consumer) {
    assert.equal(s.nondeterministicDecisions, 0, 'C ran catch-up only: it has nothing to decide by timing');
    assert.equal(s.lateRecords, 0, 'C treated on-time records as late');
    assert.equal(s.lateWindows, 0, 'C skipped a window for a late record');
  }
  const w = Math.min(...consumer.at(-1)!.watermarks.values());
  totals.windows += windowResults(log).length;
  if (w === NO_WATERMARK) totals.stuckAtStart++;
  assert.deepEqual(windowResults(log), expectedResults(written, w), `C's results at its watermark ${w} are not the count of the records B wrote`);

  // 2. Not stuck below what B's newest run promised.
  const newest = newestRun(log);
  const last = runs.at(-1)!;
  if (last.ending.kind === 'stop') {
    assert.deepEqual(newest.members, taskIds(previous!.tasks), "the newest announcement in b is not B's last run's");
    assert.ok(newest.stopped, "B's last run stopped cleanly, yet not every task wrote its stop");
  }
  assert.ok(w >= newest.promised, `C's watermark is ${w}, below ${newest.promised}, which every task of B's newest run (${newest.members.join(', ')}) promised`);

  // 3. A replay decides the same.
  const replay = await runC(log, {}, 'C-replay', REPLAY_OUT);
  assert.equal(replay.nondeterministicDecisions, 0);
  assert.deepEqual(windowResults(log, REPLAY_OUT), windowResults(log), 'a replay of the log by a fresh consumer wrote other results');
  if (consumer.length === 1) assert.equal(fingerprintStream(log, REPLAY_OUT), fingerprintStream(log, C_OUT), 'a replay wrote the same results in another order or with other timestamps');
}

/** Run `i`'s data for `stream` (event times in [100·i, 100·i + 90), non-decreasing per partition), each value the record's id; registers them as inputs. */
function recordsOfRun(stream: string, run: RunSpec & { tasks: number }, i: number, inputs: Input[], ids: number[][]): AppendRecord[] {
  const records: AppendRecord[] = [];
  for (let p = 0; p < run.tasks; p++) {
    for (const { key, dt } of run.data[p]!) {
      const id = inputs.length;
      inputs.push({ stream, partition: p, key, t: 100 * i + dt });
      ids[p]!.push(id);
      records.push({ stream, partition: p, key: encoder.encode(key), value: encoder.encode(JSON.stringify(id)), headers: {}, eventTime: 100 * i + dt });
    }
  }
  return records;
}

/** Appends `records` (in their order, so each partition's order is kept) to their stream. */
async function appendAll(log: EmbeddedLog, records: readonly AppendRecord[]): Promise<void> {
  if (records.length > 0) await log.append(records);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The data B wrote into `b`, checked against its inputs (property 0): each
 * input at most once and unchanged; per input partition a prefix of its
 * records — all of them when the last run reading that stream stopped.
 */
function writtenByB(log: EmbeddedLog, inputs: readonly Input[], streams: ReadonlyMap<string, { ids: number[][]; lastEnding: 'stop' | 'kill' }>): Reading[] {
  const seen = new Set<number>();
  const readings: Reading[] = [];
  for (const r of allRecords(log, B_OUT)) {
    if (r.control !== undefined) continue;
    const id = JSON.parse(decoder.decode(r.value!)) as number;
    const input = inputs[id];
    assert.ok(input !== undefined, `b/${r.partition}@${r.offset}: a record B never read (value ${id})`);
    assert.ok(!seen.has(id), `b/${r.partition}@${r.offset}: input ${input.stream}/${input.partition} record ${id} written twice`);
    seen.add(id);
    assert.equal(decoder.decode(r.key!), input.key, `b/${r.partition}@${r.offset}: key changed`);
    assert.equal(r.eventTime, input.t, `b/${r.partition}@${r.offset}: event time changed`);
    readings.push({ key: input.key, t: input.t, partition: r.partition });
  }
  for (const [stream, { ids, lastEnding }] of streams) {
    for (const [p, list] of ids.entries()) {
      const n = list.filter((id) => seen.has(id)).length;
      assert.ok(
        list.slice(0, n).every((id) => seen.has(id)),
        `${stream}/${p}: B wrote ${n} of its ${list.length} records, not the first ${n}`,
      );
      if (lastEnding === 'stop') assert.equal(n, list.length, `${stream}/${p}: the last run of B on it stopped cleanly, yet it wrote ${n} of its ${list.length} records`);
    }
  }
  return readings;
}

/**
 * B's newest announced run in `b` (one partition): its tasks, whether each
 * wrote its stop, and the least of what each last promised in that run —
 * `NO_WATERMARK` for a task that promised nothing there yet.
 */
function newestRun(log: EmbeddedLog): { members: string[]; stopped: boolean; promised: number } {
  let generation = -Infinity;
  let members: string[] = [];
  const since = new Map<string, { watermark: number; stopped: boolean }>();
  for (const r of allRecords(log, B_OUT)) {
    if (r.control === undefined) continue;
    const report = readWatermarkRecord(r);
    if (report.application !== B_APP) continue;
    const kind = watermarkRecordKind(report);
    if (kind === 'announce') {
      assert.ok(report.generation !== undefined);
      if (report.generation > generation) {
        generation = report.generation;
        members = [...report.members!].sort();
      }
      // A task's records after its own announcement are its run's.
      since.set(report.task, { watermark: NO_WATERMARK, stopped: false });
    } else if (kind === 'watermark' || kind === 'stop') {
      since.set(report.task, { watermark: report.watermark, stopped: kind === 'stop' });
    }
  }
  const states = members.map((m) => since.get(m) ?? { watermark: NO_WATERMARK, stopped: false });
  return { members, stopped: states.every((s) => s.stopped), promised: states.length === 0 ? NO_WATERMARK : Math.min(...states.map((s) => s.watermark)) };
}

function taskIds(n: number): string[] {
  return Array.from({ length: n }, (_, p) => taskIdOf(0, p));
}

function allRecords(log: EmbeddedLog, stream: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (let p = 0; p < (log.partitionCount(stream) ?? 0); p++) out.push(...log.read(stream, p, 0, Number.MAX_SAFE_INTEGER));
  return out;
}

/**
 * Runs B on `input` in a child process (real time): appends the first
 * `split` of this run's `records`, waits until B wrote everything of
 * `input` (`ids`) appended so far, appends the rest, and SIGKILLs it
 * `delayMs` later. Returns how many records it wrote in all, and of the
 * rest.
 */
async function killMidRun(log: EmbeddedLog, dataDir: string, input: string, ids: readonly number[], records: readonly AppendRecord[], split: number, delayMs: number): Promise<{ total: number; ofRest: number }> {
  const reader = await EmbeddedLog.open({ dataDir, readOnly: true });
  const start = writtenIds(reader).size;
  // Every record of `input` but the rest of this run: what B writes before the rest is appended.
  const rest = new Set(records.slice(split).map((r) => JSON.parse(decoder.decode(r.value!)) as number));
  const wanted = ids.filter((id) => !rest.has(id));
  await appendAll(log, records.slice(0, split));
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'fixtures', 'lifecycle-child.ts'), dataDir, input], { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  let middle = start;
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const written = writtenIds(reader);
      if (wanted.every((id) => written.has(id))) break;
      if (exited) throw new Error(`B (pid ${child.pid}) on ${input} exited before it was killed`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for B (pid ${child.pid}) to write ${input} into b`);
      await sleep(10);
    }
    middle = writtenIds(reader).size;
    await appendAll(log, records.slice(split));
    await sleep(delayMs);
  } finally {
    child.kill('SIGKILL');
    await exit;
  }
  try {
    return { total: writtenIds(reader).size - start, ofRest: writtenIds(reader).size - middle };
  } finally {
    await reader.close();
  }
}

/** The ids (values) of the data records in `b`. */
function writtenIds(log: EmbeddedLog): Set<number> {
  return new Set(allRecords(log, B_OUT).flatMap((r) => (r.control === undefined ? [JSON.parse(decoder.decode(r.value!)) as number] : [])));
}
