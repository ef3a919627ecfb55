/**
 * The windows benchmark's cases: for each window kind (tumbling, hopping,
 * session; counts, `emit: 'final'`), the hand-written loop, tidemark on the
 * in-memory path and tidemark on the embedded LMDB log. Each case sets up
 * untimed, times its runs on fresh state, and — for tidemark — checks its
 * output record by record against the loop's (same windows, counts,
 * timestamps and order in every output partition) and its late-record count
 * against the loop's, failing loudly on the first difference.
 *
 * Tumbling and hopping also run in watermark mode (issue 5): the same
 * counts with `grace(0)` on a watermark `boundedOutOfOrderness(grace)`.
 * With one input partition per task — the benchmark's case — a task's
 * watermark is its partition's generator, `W = maxTimestamp − grace − 1`,
 * so a window closes exactly when it does on stream time with that grace
 * (`W + 1 >= end` ⇔ `streamTime >= end + grace`): the same records are late
 * and the same results come out in the same order, checked against the same
 * loop. The watermark records the tasks write into the output stream are
 * skipped and counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, MemoryLog, Serdes, SessionWindows, StreamsBuilder, TimeWindows, Watermarks, type EventClock } from '../src/index.ts';
import type { Log, TaskStorage } from '../src/runtime/log.ts';
import type { Topology } from '../src/runtime/topology.ts';
import type { StoreKind } from '../src/state/key-value-store.ts';
import { assertSameOutputs, count, digest, gc, timeApp, timeLoop, type LoopResult, type OutRecord } from './results.ts';
import { sessionLoop, timeWindowLoop } from './windows-loops.ts';
import { INPUT, appendBatches, generate, slice, type Workload } from './windows-workload.ts';

export const OUTPUT = 'window-counts';
export const STORE = 'windows';
export const APP_ID = 'windows-bench';

/** The window definitions of the benchmark. */
export const WINDOWS = {
  tumbling: { size: 10_000, advance: 10_000, grace: 5_000 },
  hopping: { size: 10_000, advance: 2_000, grace: 5_000 },
  session: { gap: 30_000, grace: 5_000 },
} as const;

export type Kind = keyof typeof WINDOWS;
export type Path = 'loop' | 'memory' | 'embedded';
export const KINDS: readonly Kind[] = ['tumbling', 'hopping', 'session'];
export const PATHS: readonly Path[] = ['loop', 'memory', 'embedded'];
/** The window kinds and paths that also run in watermark mode. */
export const WATERMARK_KINDS: readonly Kind[] = ['tumbling', 'hopping'];
export const WATERMARK_PATHS: readonly Path[] = ['memory', 'embedded'];
/** Watermark mode: a task writes a watermark record into each output partition every time its watermark crosses a multiple of this (event-time ms). */
export const WATERMARK_INTERVAL_MS = 1_000;

export function describeWindows(kind: Kind): string {
  if (kind === 'session') return `session, gap ${WINDOWS.session.gap / 1000} s, grace ${WINDOWS.session.grace / 1000} s`;
  const w = WINDOWS[kind];
  return `${kind}, size ${w.size / 1000} s${w.advance !== w.size ? `, advance ${w.advance / 1000} s` : ''}, grace ${w.grace / 1000} s`;
}

/** The watermark-mode variant of a kind's windows, in words. */
export function describeWatermarkWindows(kind: Kind): string {
  if (kind === 'session') throw new Error('windows bench: session windows do not run in watermark mode');
  const w = WINDOWS[kind];
  return (
    `${kind}, size ${w.size / 1000} s${w.advance !== w.size ? `, advance ${w.advance / 1000} s` : ''}, grace 0, ` +
    `eventClock 'watermark', watermarks boundedOutOfOrderness(${w.grace / 1000} s), a watermark record per ${WATERMARK_INTERVAL_MS / 1000} s of watermark`
  );
}

export interface CaseResult {
  readonly name: string;
  readonly clock: EventClock;
  readonly records: number;
  /** Wall-clock and CPU (all threads) seconds of each timed run. */
  readonly runs: readonly number[];
  readonly cpuRuns: readonly number[];
  readonly outputs: number;
  readonly late: number;
  /** Watermark records found in the output stream (watermark mode), skipped by the comparison. */
  readonly watermarkRecords: number;
  /** SHA-256 (shortened) of the output records, partition by partition. */
  readonly digest: string;
  /** Tidemark cases: whether the output equals the loop's (a difference throws instead). */
  readonly verified: boolean;
  /** RSS once the workload was generated, and the process's peak up to the end of the timed runs (before verification). */
  readonly workloadRss: number;
  readonly peakRss: number;
}

// ---------------------------------------------------------------------------
// Loops.

export function runLoop(kind: Kind, w: Workload): LoopResult[] {
  return w.partitions.map((list) => {
    if (kind === 'session') return sessionLoop(list, WINDOWS.session.gap, WINDOWS.session.grace);
    const d = WINDOWS[kind];
    return timeWindowLoop(list, d.size, d.advance, d.grace);
  });
}

// ---------------------------------------------------------------------------
// Tidemark.

/**
 * readings → groupByKey → windowedBy(kind) → count({ emit: 'final' }) → window-counts. The values are not read (bytes serde).
 * Watermark mode: the windows' grace moves into the source's `boundedOutOfOrderness` bound, the windows get `grace(0)`.
 */
export function topology(kind: Kind, store: StoreKind, clock: EventClock = 'stream-time'): Topology {
  const options = { emit: 'final', store, name: STORE } as const;
  if (clock === 'watermark') {
    if (kind === 'session') throw new Error('windows bench: session windows do not run in watermark mode');
    const d = WINDOWS[kind];
    const b = new StreamsBuilder({ eventClock: 'watermark', watermarkIntervalMs: WATERMARK_INTERVAL_MS });
    b.stream<string, Uint8Array | null>(INPUT, { key: Serdes.string(), value: Serdes.bytes(), watermarks: Watermarks.boundedOutOfOrderness(d.grace) })
      .groupByKey()
      .windowedBy(TimeWindows.ofSize(d.size).advanceBy(d.advance).grace(0))
      .count(options)
      .to(OUTPUT);
    return b.build();
  }
  const b = new StreamsBuilder();
  const grouped = b.stream<string, Uint8Array | null>(INPUT, { key: Serdes.string(), value: Serdes.bytes() }).groupByKey();
  if (kind === 'session') {
    grouped.windowedBy(SessionWindows.ofInactivityGap(WINDOWS.session.gap).grace(WINDOWS.session.grace)).count(options).to(OUTPUT);
  } else {
    const d = WINDOWS[kind];
    grouped.windowedBy(TimeWindows.ofSize(d.size).advanceBy(d.advance).grace(d.grace)).count(options).to(OUTPUT);
  }
  return b.build();
}

function produceMemory(w: Workload): MemoryLog {
  const log = new MemoryLog();
  log.ensureStream(INPUT, w.partitions.length);
  for (const batch of appendBatches(w, 100_000)) log.appendSync(batch);
  return log;
}

async function produceEmbedded(w: Workload, dir: string): Promise<EmbeddedLog> {
  const log = await EmbeddedLog.open({ dataDir: dir });
  log.ensureStream(INPUT, w.partitions.length);
  for (const batch of appendBatches(w, 20_000)) await log.append(batch);
  return log;
}

interface AppRun {
  readonly processed: number;
  readonly late: number;
}

async function runApp(kind: Kind, store: StoreKind, clock: EventClock, log: Log & TaskStorage): Promise<AppRun> {
  const app = new Application(topology(kind, store, clock), { applicationId: APP_ID, log });
  const s = await app.run({ mode: 'catch-up' });
  if (s.deadLettered > 0) throw new Error(`windows bench: ${s.deadLettered} records dead-lettered`);
  return { processed: s.processed, late: s.lateRecords };
}

/** The output stream's data records per partition, and how many watermark records it holds besides (skipped). */
function outputsOf(log: Log, partitions: number): { parts: OutRecord[][]; watermarkRecords: number } {
  const parts: OutRecord[][] = [];
  let watermarkRecords = 0;
  for (let p = 0; p < partitions; p++) {
    const list: OutRecord[] = [];
    const end = log.partitionCount(OUTPUT) === undefined ? 0 : log.endOffset(OUTPUT, p);
    for (let from = 0; from < end; from += 50_000) {
      for (const r of log.read(OUTPUT, p, from, 50_000)) {
        if (r.control === 'watermark') watermarkRecords++;
        else list.push({ key: r.key!, value: r.value!, timestamp: r.eventTime! });
      }
    }
    parts.push(list);
  }
  return { parts, watermarkRecords };
}

// ---------------------------------------------------------------------------
// Cases.

export interface CaseOptions {
  readonly records: number;
  readonly seed: number;
  readonly partitions: number;
  readonly repeats: number;
}

/** A case's name: `tumbling/memory`, or `tumbling-watermark/memory` in watermark mode. */
export function caseName(kind: Kind, path: Path, clock: EventClock = 'stream-time'): string {
  return `${kind}${clock === 'watermark' ? '-watermark' : ''}/${path}`;
}

/** Runs one case (in its own child process, so that its peak RSS is its own). */
export async function runCase(kind: Kind, path: Path, o: CaseOptions, clock: EventClock = 'stream-time'): Promise<CaseResult> {
  const name = caseName(kind, path, clock);
  if (clock === 'watermark' && (!WATERMARK_KINDS.includes(kind) || !WATERMARK_PATHS.includes(path))) throw new Error(`windows bench: no watermark-mode case ${name}`);
  const w = generate(o.records, o.seed, o.partitions);
  gc();
  const workloadRss = process.memoryUsage().rss;
  if (path === 'loop') {
    const t = await timeLoop(o.repeats, () => runLoop(kind, slice(w, 0.1)), () => runLoop(kind, w));
    const parts = t.result.map((r) => r.outputs);
    const late = t.result.reduce((n, r) => n + r.late, 0);
    return { name, clock, records: w.count, runs: t.runs, cpuRuns: t.cpuRuns, outputs: count(parts), late, watermarkRecords: 0, digest: digest(parts), verified: true, workloadRss, peakRss: t.peakRss };
  }

  const dirs: string[] = [];
  const store: StoreKind = path === 'memory' ? 'in-memory' : 'lmdb';
  const open = async (warmUp: boolean): Promise<Log & TaskStorage & { close(): Promise<void> }> => {
    const x = warmUp ? slice(w, path === 'memory' ? 0.1 : 0.05) : w;
    if (path === 'memory') return produceMemory(x);
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-windows-bench-'));
    dirs.push(dir);
    return produceEmbedded(x, dir);
  };
  try {
    const t = await timeApp(o.repeats, open, async (log) => {
      const run = await runApp(kind, store, clock, log);
      if (log instanceof EmbeddedLog) await log.flushed();
      return run;
    });
    const run = t.result;
    if (run.processed !== w.count) throw new Error(`windows bench: ${name} processed ${run.processed} of ${w.count} records`);
    const { parts, watermarkRecords } = outputsOf(t.last, o.partitions);
    await t.last.close();
    if (clock === 'stream-time' && watermarkRecords > 0) throw new Error(`windows bench: ${name} wrote ${watermarkRecords} watermark records in stream-time mode`);
    if (clock === 'watermark' && watermarkRecords === 0) throw new Error(`windows bench: ${name} wrote no watermark records`);
    // Verification, after the peak RSS was taken: the loop's results on the same records.
    const expected = runLoop(kind, w);
    assertSameOutputs('windows bench', name, parts, expected);
    const loopLate = expected.reduce((n, r) => n + r.late, 0);
    if (run.late !== loopLate) throw new Error(`windows bench: ${name} counted ${run.late} late records, the hand-written loop ${loopLate}`);
    return { name, clock, records: w.count, runs: t.runs, cpuRuns: t.cpuRuns, outputs: count(parts), late: run.late, watermarkRecords, digest: digest(parts), verified: true, workloadRss, peakRss: t.peakRss };
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
