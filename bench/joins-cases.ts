/**
 * The joins benchmark's cases: for each join — the enrichment (a left join
 * of orders with a versioned table of customers, by event time) and the
 * matching (a left join of orders with their payments, windowed) — the
 * hand-written loop, tidemark on the in-memory path and tidemark on the
 * embedded LMDB log. Each case sets up untimed, times its runs on fresh
 * state, and — for tidemark — checks its output record by record against
 * the loop's (same keys, values, timestamps and order in every output
 * partition) and its late-record count against the loop's, failing loudly
 * on the first difference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, JoinWindows, MemoryLog, Serdes, StreamsBuilder } from '../src/index.ts';
import type { Log, TaskStorage } from '../src/runtime/log.ts';
import type { Topology } from '../src/runtime/topology.ts';
import type { StoreKind } from '../src/state/key-value-store.ts';
import { enrichmentLoop, matchingLoop } from './joins-loops.ts';
import { assertSameOutputs, count, digest, gc, timeApp, timeLoop, type LoopResult, type OutRecord } from './results.ts';
import {
  CUSTOMER_UPDATES,
  INPUTS,
  ORDERS,
  PAYMENTS,
  appendBatches,
  enrich,
  generate,
  match,
  slice,
  type Customer,
  type JoinKind,
  type Order,
  type Payment,
  type Workload,
} from './joins-workload.ts';

export const OUTPUT = 'joined';
export const APP_ID = 'joins-bench';
/** The stores the long run counts. */
export const STORES = { 'stream-table': { join: 'enrich-waiting', table: 'customers' }, 'stream-stream': { join: 'match-records' } } as const;

/** The joins of the benchmark. */
export const JOINS = {
  'stream-table': { graceMs: 5_000, historyRetentionMs: 60_000 },
  'stream-stream': { differenceMs: 10_000, graceMs: 5_000 },
} as const;

export type Path = 'loop' | 'memory' | 'embedded';
export const KINDS: readonly JoinKind[] = ['stream-table', 'stream-stream'];
export const PATHS: readonly Path[] = ['loop', 'memory', 'embedded'];

export function describeJoin(kind: JoinKind): string {
  if (kind === 'stream-table') {
    const j = JOINS['stream-table'];
    return `orders.leftJoin(customers, enrich, { grace: ${j.graceMs / 1000} s }), customers a versioned table (historyRetentionMs ${j.historyRetentionMs / 1000} s)`;
  }
  const j = JOINS['stream-stream'];
  return `orders.leftJoin(payments, match, JoinWindows.ofTimeDifference(${j.differenceMs / 1000} s).grace(${j.graceMs / 1000} s))`;
}

export interface CaseResult {
  readonly name: string;
  readonly records: number;
  /** Wall-clock and CPU (all threads) seconds of each timed run. */
  readonly runs: readonly number[];
  readonly cpuRuns: readonly number[];
  readonly outputs: number;
  readonly late: number;
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

export function runLoop(w: Workload): LoopResult[] {
  const [a, b] = w.inputs;
  return a.map((first, p) => {
    if (w.kind === 'stream-table') {
      const j = JOINS['stream-table'];
      return enrichmentLoop(first, b[p]!, j.graceMs, j.historyRetentionMs, enrich);
    }
    const j = JOINS['stream-stream'];
    return matchingLoop(first, b[p]!, j.differenceMs, j.differenceMs, j.graceMs, match);
  });
}

// ---------------------------------------------------------------------------
// Tidemark.

/**
 * Enrichment: customers (a versioned table, declared first) ← orders.leftJoin → joined.
 * Matching: orders.leftJoin(payments) → joined. Both on `store`, values JSON.
 */
export function topology(kind: JoinKind, store: StoreKind): Topology {
  const b = new StreamsBuilder();
  const key = Serdes.string();
  if (kind === 'stream-table') {
    const j = JOINS['stream-table'];
    const customers = b.table<string, Customer>(CUSTOMER_UPDATES, { key, value: Serdes.json(), versioned: { historyRetentionMs: j.historyRetentionMs }, store, name: STORES['stream-table'].table });
    b.stream<string, Order>(ORDERS, { key, value: Serdes.json() })
      .leftJoin(customers, enrich, { grace: j.graceMs, store, name: STORES['stream-table'].join })
      .to(OUTPUT);
  } else {
    const j = JOINS['stream-stream'];
    const orders = b.stream<string, Order>(ORDERS, { key, value: Serdes.json() });
    const payments = b.stream<string, Payment>(PAYMENTS, { key, value: Serdes.json() });
    orders.leftJoin(payments, match, JoinWindows.ofTimeDifference(j.differenceMs).grace(j.graceMs), { store, name: STORES['stream-stream'].join }).to(OUTPUT);
  }
  return b.build();
}

function ensureInputs(log: Log, kind: JoinKind, partitions: number): void {
  for (const s of INPUTS[kind]) log.ensureStream(s, partitions);
}

function produceMemory(w: Workload): MemoryLog {
  const log = new MemoryLog();
  ensureInputs(log, w.kind, w.inputs[0].length);
  for (const batch of appendBatches(w, 100_000)) log.appendSync(batch);
  return log;
}

async function produceEmbedded(w: Workload, dir: string): Promise<EmbeddedLog> {
  const log = await EmbeddedLog.open({ dataDir: dir });
  ensureInputs(log, w.kind, w.inputs[0].length);
  for (const batch of appendBatches(w, 20_000)) await log.append(batch);
  return log;
}

interface AppRun {
  readonly processed: number;
  readonly late: number;
}

async function runApp(kind: JoinKind, store: StoreKind, log: Log & TaskStorage): Promise<AppRun> {
  const app = new Application(topology(kind, store), { applicationId: APP_ID, log });
  const s = await app.run({ mode: 'catch-up' });
  if (s.deadLettered > 0) throw new Error(`joins bench: ${s.deadLettered} records dead-lettered`);
  return { processed: s.processed, late: s.lateRecords };
}

/** The output stream's records per partition. */
function outputsOf(log: Log, partitions: number): OutRecord[][] {
  const parts: OutRecord[][] = [];
  for (let p = 0; p < partitions; p++) {
    const list: OutRecord[] = [];
    const end = log.partitionCount(OUTPUT) === undefined || log.partitionCount(OUTPUT)! <= p ? 0 : log.endOffset(OUTPUT, p);
    for (let from = 0; from < end; from += 50_000) {
      for (const r of log.read(OUTPUT, p, from, 50_000)) list.push({ key: r.key!, value: r.value!, timestamp: r.eventTime! });
    }
    parts.push(list);
  }
  if ((log.partitionCount(OUTPUT) ?? 0) > partitions) throw new Error(`joins bench: the output stream has ${log.partitionCount(OUTPUT)} partitions, the inputs ${partitions}`);
  return parts;
}

// ---------------------------------------------------------------------------
// Cases.

export interface CaseOptions {
  readonly records: number;
  readonly seed: number;
  readonly partitions: number;
  readonly repeats: number;
}

export function caseName(kind: JoinKind, path: Path): string {
  return `${kind}/${path}`;
}

/** Runs one case (in its own child process, so that its peak RSS is its own). */
export async function runCase(kind: JoinKind, path: Path, o: CaseOptions): Promise<CaseResult> {
  const name = caseName(kind, path);
  const w = generate(kind, o.records, o.seed, o.partitions);
  gc();
  const workloadRss = process.memoryUsage().rss;
  if (path === 'loop') {
    const t = await timeLoop(o.repeats, () => runLoop(slice(w, 0.1)), () => runLoop(w));
    const parts = t.result.map((r) => r.outputs);
    const late = t.result.reduce((n, r) => n + r.late, 0);
    return { name, records: w.count, runs: t.runs, cpuRuns: t.cpuRuns, outputs: count(parts), late, digest: digest(parts), verified: true, workloadRss, peakRss: t.peakRss };
  }

  const dirs: string[] = [];
  const store: StoreKind = path === 'memory' ? 'in-memory' : 'lmdb';
  const open = async (warmUp: boolean): Promise<Log & TaskStorage & { close(): Promise<void> }> => {
    const x = warmUp ? slice(w, path === 'memory' ? 0.1 : 0.05) : w;
    if (path === 'memory') return produceMemory(x);
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-joins-bench-'));
    dirs.push(dir);
    return produceEmbedded(x, dir);
  };
  try {
    const t = await timeApp(o.repeats, open, async (log) => {
      const run = await runApp(kind, store, log);
      if (log instanceof EmbeddedLog) await log.flushed();
      return run;
    });
    const run = t.result;
    if (run.processed !== w.count) throw new Error(`joins bench: ${name} processed ${run.processed} of ${w.count} records`);
    const parts = outputsOf(t.last, o.partitions);
    await t.last.close();
    // Verification, after the peak RSS was taken: the loop's results on the same records.
    const expected = runLoop(w);
    assertSameOutputs('joins bench', name, parts, expected);
    const loopLate = expected.reduce((n, r) => n + r.late, 0);
    if (run.late !== loopLate) throw new Error(`joins bench: ${name} counted ${run.late} late records, the hand-written loop ${loopLate}`);
    return { name, records: w.count, runs: t.runs, cpuRuns: t.cpuRuns, outputs: count(parts), late: run.late, digest: digest(parts), verified: true, workloadRss, peakRss: t.peakRss };
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
