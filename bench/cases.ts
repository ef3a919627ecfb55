/**
 * The benchmark cases. Each one sets up untimed, runs its timed part a few
 * times on fresh state, and returns the wall and CPU time of every run and a
 * digest of its result, so that a hand-written loop and tidemark can be
 * checked to compute exactly the same thing.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, MemoryLog, Serdes, StreamsBuilder, keyValueStore } from '../src/index.ts';
import { PartitionBuffer } from '../src/scheduling/partition-buffer.ts';
import { decideNext } from '../src/scheduling/scheduler.ts';
import type { Log, TaskStorage } from '../src/runtime/log.ts';
import type { Topology } from '../src/runtime/topology.ts';
import type { StreamRecord } from '../src/records/record.ts';
import type { KeyValueStore, StoreKind } from '../src/state/key-value-store.ts';
import { appendBatches, generate, isHighBid, toEuroBid, PARTITIONS, type Bid, type Workload } from './workload.ts';

export interface CaseResult {
  readonly name: string;
  readonly records: number;
  /** Wall-clock seconds of each timed run. */
  readonly runs: readonly number[];
  /** CPU seconds of each timed run (all threads). */
  readonly cpuRuns: readonly number[];
  /** Digest of the result (merge order, or the output records). */
  readonly digest: string;
  readonly outputs: number;
  /** Resident set size after the (untimed) setup, and the process's peak, in bytes. */
  readonly rssAfterSetup: number;
  /** Resident set size once the workload was generated (what every case holds before it starts). */
  readonly workloadRss: number;
  readonly peakRss: number;
}

/** One output record as a log holds it: enough to compare results (the fingerprint's fields: docs/semantics.md, "Fingerprints"). */
interface OutRecord {
  readonly partition: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly timestamp: number | null;
}

/** SHA-256 over (partition, key, value, timestamp) of each output partition in offset order. */
function digestOutputs(partitions: readonly (readonly OutRecord[])[]): string {
  const hash = createHash('sha256');
  const head = Buffer.alloc(16);
  for (const list of partitions) {
    for (const r of list) {
      head.writeUInt32BE(r.partition, 0);
      head.writeDoubleBE(r.timestamp ?? -1, 4);
      head.writeInt32BE(r.key?.byteLength ?? -1, 12);
      hash.update(head);
      if (r.key) hash.update(r.key);
      const len = Buffer.alloc(4);
      len.writeInt32BE(r.value?.byteLength ?? -1, 0);
      hash.update(len);
      if (r.value) hash.update(r.value);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function outputsOf(log: Log, stream: string): OutRecord[][] {
  const out: OutRecord[][] = [];
  const n = log.partitionCount(stream) ?? 0;
  for (let p = 0; p < n; p++) {
    const list: OutRecord[] = [];
    const end = log.endOffset(stream, p);
    for (let from = 0; from < end; from += 50_000) {
      for (const r of log.read(stream, p, from, 50_000)) list.push({ partition: p, key: r.key, value: r.value, timestamp: r.eventTime });
    }
    out.push(list);
  }
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface Timed<T> {
  readonly seconds: number;
  /** CPU time of all the process's threads (JS, GC helpers, LMDB), seconds. */
  readonly cpuSeconds: number;
  readonly value: T;
}

async function time<T>(fn: () => T | Promise<T>): Promise<Timed<T>> {
  gc();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { seconds, cpuSeconds: (c.user + c.system) / 1e6, value };
}

/** A slice of the workload (the first `count` records of each partition, proportionally) for warm-ups. */
function slice(w: Workload, fraction: number): Workload {
  const partitions = w.partitions.map((l) => l.slice(0, Math.ceil(l.length * fraction)));
  return { seed: w.seed, count: partitions.reduce((n, l) => n + l.length, 0), partitions, outOfOrder: 0 };
}

// ---------------------------------------------------------------------------
// Scheduler merge: 8 out-of-order partitions merged by (timestamp, partition, offset).

/** The records as a task's buffers hold them (already decoded; the merge looks only at the clocks and position). */
function streamRecords(w: Workload): StreamRecord[][] {
  return w.partitions.map((list) =>
    list.map((r) => ({ stream: 'bids', partition: r.partition, offset: r.offset, key: r.key, value: r.value, headers: {}, eventTime: r.eventTime, brokerTime: r.eventTime, ingestTime: 0, timestamp: r.eventTime })),
  );
}

/** Order digest: a running 32-bit hash of (partition, offset) in merge order (same for both merges). */
function mix(h: number, r: StreamRecord): number {
  return (Math.imul(h ^ r.partition, 0x01000193) + r.offset) | 0;
}

function handMerge(parts: readonly (readonly StreamRecord[])[]): number {
  const k = parts.length;
  const idx = new Array<number>(k).fill(0);
  let total = 0;
  for (const p of parts) total += p.length;
  let h = 0x811c9dc5;
  for (let n = 0; n < total; n++) {
    let best = -1;
    let bestTs = Infinity;
    for (let p = 0; p < k; p++) {
      const list = parts[p]!;
      const i = idx[p]!;
      if (i < list.length) {
        const ts = list[i]!.timestamp;
        if (ts < bestTs) {
          bestTs = ts;
          best = p;
        }
      }
    }
    h = mix(h, parts[best]![idx[best]!++]!);
  }
  return h;
}

/**
 * The runtime's merge: one PartitionBuffer per partition, topped up to the
 * fetch size (500) whenever the scheduler waits for an empty buffer whose
 * partition has records left, as a task's fetch does; decideNext picks.
 */
function tidemarkMerge(parts: readonly (readonly StreamRecord[])[]): number {
  const fetchSize = 500;
  const buffers = parts.map((_, p) => new PartitionBuffer('bids', p, 0));
  const fetched = new Array<number>(parts.length).fill(0);
  const fetch = (): void => {
    for (let p = 0; p < parts.length; p++) {
      const buf = buffers[p]!;
      const list = parts[p]!;
      let i = fetched[p]!;
      const end = Math.min(list.length, i + fetchSize - buf.size);
      while (i < end) buf.push(list[i++]!);
      fetched[p] = i;
      buf.unfetched = list.length - i;
      buf.atEnd = i >= list.length;
    }
  };
  fetch();
  let h = 0x811c9dc5;
  for (;;) {
    const d = decideNext(buffers, Infinity, undefined, 0);
    if (d.kind === 'empty') break;
    if (d.kind === 'wait') {
      fetch();
      continue;
    }
    h = mix(h, d.buffer.take());
  }
  return h;
}

// ---------------------------------------------------------------------------
// Pipelines.

// The loops use the fastest everyday primitives (the practical limit): TextDecoder to read,
// Buffer.from (pooled) to write. tidemark's serdes use TextDecoder and TextEncoder.
const dec = new TextDecoder();
const encode = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** Stateless, by hand: decode, filter, convert, encode, write to the record's partition (the key is unchanged). */
function handStateless(w: Workload): OutRecord[][] {
  const out: OutRecord[][] = [];
  for (const list of w.partitions) {
    const o: OutRecord[] = [];
    for (const r of list) {
      const bid = JSON.parse(dec.decode(r.value)) as Bid;
      if (!isHighBid(bid)) continue;
      o.push({ partition: r.partition, key: r.key, value: encode(JSON.stringify(toEuroBid(bid))), timestamp: r.eventTime });
    }
    out.push(o);
  }
  return out;
}

/** Stateful, by hand: count per key in a Map, emit each updated count. */
function handStateful(w: Workload): OutRecord[][] {
  const out: OutRecord[][] = [];
  const counts = new Map<string, number>();
  for (const list of w.partitions) {
    const o: OutRecord[] = [];
    for (const r of list) {
      const key = dec.decode(r.key);
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      o.push({ partition: r.partition, key: r.key, value: encode(JSON.stringify(n)), timestamp: r.eventTime });
    }
    out.push(o);
  }
  return out;
}

/** bids → filter(price) → mapValues(euros) → euro-bids. */
function statelessTopology(): Topology {
  const b = new StreamsBuilder();
  b.stream<string, Bid>('bids', { key: Serdes.string(), value: Serdes.json<Bid>() })
    .filter((_, bid) => isHighBid(bid))
    .mapValues((bid) => toEuroBid(bid))
    .to('euro-bids');
  return b.build();
}

/** bids → count per auction in a store → bid-counts. The value is not read, so it is not decoded (bytes serde). */
function statefulTopology(kind: StoreKind): Topology {
  const b = new StreamsBuilder();
  b.addStateStore(keyValueStore('counts', { kind, key: Serdes.string(), value: Serdes.json<number>() }));
  b.stream<string, Uint8Array | null>('bids', { key: Serdes.string(), value: Serdes.bytes() })
    .process<string, number>(
      () => {
        let counts: KeyValueStore<string, number>;
        return {
          init: (ctx) => void (counts = ctx.getStore<string, number>('counts')),
          process: (r, ctx) => {
            const n = (counts.get(r.key) ?? 0) + 1;
            counts.put(r.key, n);
            ctx.forward({ ...r, value: n });
          },
        };
      },
      { stores: ['counts'], key: Serdes.string(), value: Serdes.json<number>() },
    )
    .to('bid-counts');
  return b.build();
}

function produceMemory(w: Workload): MemoryLog {
  const log = new MemoryLog();
  log.ensureStream('bids', PARTITIONS);
  for (const batch of appendBatches(w, 'bids', 100_000)) log.appendSync(batch);
  return log;
}

async function produceEmbedded(w: Workload, dir: string): Promise<EmbeddedLog> {
  const log = await EmbeddedLog.open({ dataDir: dir });
  log.ensureStream('bids', PARTITIONS);
  for (const batch of appendBatches(w, 'bids', 20_000)) await log.append(batch);
  return log;
}

async function runApp(topology: Topology, log: Log & TaskStorage): Promise<number> {
  const app = new Application(topology, { applicationId: 'bench', log });
  const summary = await app.run({ mode: 'catch-up' });
  if (summary.deadLettered > 0) throw new Error(`bench: ${summary.deadLettered} records dead-lettered`);
  return summary.processed;
}

// ---------------------------------------------------------------------------

export interface CaseSpec {
  readonly name: string;
  /** Which hand-written loop this case is compared with. */
  readonly baseline: string;
  readonly embedded?: boolean;
  run(w: Workload, repeats: number): Promise<Omit<CaseResult, 'name' | 'records' | 'peakRss' | 'workloadRss'>>;
}

async function repeat<T>(
  repeats: number,
  setup: () => T | Promise<T>,
  body: (s: T) => unknown | Promise<unknown>,
  teardown: (s: T) => unknown = () => {},
): Promise<{ runs: number[]; cpuRuns: number[]; last: T; rssAfterSetup: number }> {
  const runs: number[] = [];
  const cpuRuns: number[] = [];
  let last: T | undefined;
  let rssAfterSetup = 0;
  for (let i = 0; i < repeats; i++) {
    if (last !== undefined) await teardown(last);
    last = undefined;
    gc();
    const s = await setup();
    rssAfterSetup = Math.max(rssAfterSetup, process.memoryUsage().rss);
    const t = await time(() => body(s));
    runs.push(t.seconds);
    cpuRuns.push(t.cpuSeconds);
    last = s;
  }
  return { runs, cpuRuns, last: last as T, rssAfterSetup };
}

function pipelineLoop(fn: (w: Workload) => OutRecord[][]): CaseSpec['run'] {
  return async (w, repeats) => {
    fn(slice(w, 0.1)); // warm-up
    let out: OutRecord[][] = [];
    const { runs, cpuRuns, rssAfterSetup } = await repeat(repeats, () => null, () => (out = fn(w)));
    return { runs, cpuRuns, digest: digestOutputs(out), outputs: out.reduce((n, l) => n + l.length, 0), rssAfterSetup };
  };
}

function pipelineMemory(topology: () => Topology, output: string): CaseSpec['run'] {
  return async (w, repeats) => {
    await runApp(topology(), produceMemory(slice(w, 0.1))); // warm-up
    const { runs, cpuRuns, last, rssAfterSetup } = await repeat(repeats, () => produceMemory(w), async (log) => {
      const n = await runApp(topology(), log);
      if (n !== w.count) throw new Error(`bench: processed ${n} of ${w.count}`);
    });
    const out = outputsOf(last, output);
    return { runs, cpuRuns, digest: digestOutputs(out), outputs: out.reduce((n, l) => n + l.length, 0), rssAfterSetup };
  };
}

function pipelineEmbedded(topology: () => Topology, output: string): CaseSpec['run'] {
  return async (w, repeats) => {
    const dirs: string[] = [];
    const fresh = async (x: Workload): Promise<EmbeddedLog> => {
      const dir = mkdtempSync(join(tmpdir(), 'tidemark-bench-'));
      dirs.push(dir);
      return produceEmbedded(x, dir);
    };
    try {
      const warm = await fresh(slice(w, 0.05));
      await runApp(topology(), warm);
      await warm.close();
      const { runs, cpuRuns, last, rssAfterSetup } = await repeat(
        repeats,
        () => fresh(w),
        async (log) => {
          const n = await runApp(topology(), log);
          await log.flushed();
          if (n !== w.count) throw new Error(`bench: processed ${n} of ${w.count}`);
        },
        (log) => log.close(),
      );
      const out = outputsOf(last, output);
      await last.close();
      return { runs, cpuRuns, digest: digestOutputs(out), outputs: out.reduce((n, l) => n + l.length, 0), rssAfterSetup };
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  };
}

function mergeCase(fn: (parts: readonly (readonly StreamRecord[])[]) => number): CaseSpec['run'] {
  return async (w, repeats) => {
    fn(streamRecords(slice(w, 0.1))); // warm-up
    let h = 0;
    const { runs, cpuRuns, rssAfterSetup } = await repeat(repeats, () => streamRecords(w), (parts) => (h = fn(parts)));
    return { runs, cpuRuns, digest: (h >>> 0).toString(16).padStart(8, '0'), outputs: w.count, rssAfterSetup };
  };
}

export const CASES: readonly CaseSpec[] = [
  { name: 'merge/loop', baseline: 'merge/loop', run: mergeCase(handMerge) },
  { name: 'merge/tidemark', baseline: 'merge/loop', run: mergeCase(tidemarkMerge) },
  { name: 'stateless/loop', baseline: 'stateless/loop', run: pipelineLoop(handStateless) },
  { name: 'stateless/memory', baseline: 'stateless/loop', run: pipelineMemory(statelessTopology, 'euro-bids') },
  { name: 'stateless/embedded', baseline: 'stateless/loop', embedded: true, run: pipelineEmbedded(statelessTopology, 'euro-bids') },
  { name: 'stateful/loop', baseline: 'stateful/loop', run: pipelineLoop(handStateful) },
  { name: 'stateful/memory', baseline: 'stateful/loop', run: pipelineMemory(() => statefulTopology('in-memory'), 'bid-counts') },
  { name: 'stateful/embedded', baseline: 'stateful/loop', embedded: true, run: pipelineEmbedded(() => statefulTopology('lmdb'), 'bid-counts') },
];

/** Runs one case on a freshly generated workload (called in its own child process). */
export async function runCase(name: string, count: number, seed: number, repeats: number): Promise<CaseResult> {
  const spec = CASES.find((c) => c.name === name);
  if (spec === undefined) throw new Error(`no case ${name}; cases: ${CASES.map((c) => c.name).join(', ')}`);
  const w = generate(count, seed);
  gc();
  const workloadRss = process.memoryUsage().rss;
  const r = await spec.run(w, repeats);
  return { name, records: count, ...r, workloadRss, peakRss: process.resourceUsage().maxRSS * 1024 };
}
