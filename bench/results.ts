/**
 * What the windows and joins benchmarks share to compare tidemark with a
 * hand-written loop: the output records as the log holds them, their digest,
 * the record-by-record comparison that fails a bench, and the timing of a
 * case (wall clock, CPU, peak RSS).
 */
import { createHash } from 'node:crypto';

/** An output record: what the log holds of a result, enough to compare. */
export interface OutRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly timestamp: number;
}

/** What a loop returns per partition, with its late-record count. */
export interface LoopResult {
  readonly outputs: OutRecord[];
  readonly late: number;
}

/** SHA-256 (shortened) of the output records, partition by partition. */
export function digest(partitions: readonly (readonly OutRecord[])[]): string {
  const hash = createHash('sha256');
  const head = Buffer.alloc(20);
  partitions.forEach((list, p) => {
    for (const r of list) {
      head.writeUInt32BE(p, 0);
      head.writeDoubleBE(r.timestamp, 4);
      head.writeInt32BE(r.key.byteLength, 12);
      head.writeInt32BE(r.value.byteLength, 16);
      hash.update(head);
      hash.update(r.key);
      hash.update(r.value);
    }
  });
  return hash.digest('hex').slice(0, 12);
}

const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
const show = (r: OutRecord | undefined): string => (r === undefined ? '(none)' : `${text(r.key)} = ${text(r.value)} @ ${r.timestamp}`);
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** Throws, describing the first difference, unless tidemark's output equals the loop's record by record; `bench` names the benchmark in the message. */
export function assertSameOutputs(bench: string, name: string, tidemark: readonly (readonly OutRecord[])[], loop: readonly LoopResult[]): void {
  for (let p = 0; p < loop.length; p++) {
    const a = tidemark[p] ?? [];
    const b = loop[p]!.outputs;
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a[i];
      const y = b[i];
      if (x !== undefined && y !== undefined && x.timestamp === y.timestamp && sameBytes(x.key, y.key) && sameBytes(x.value, y.value)) continue;
      throw new Error(
        `${bench}: ${name} differs from the hand-written loop in output partition ${p} at offset ${i} ` +
          `(tidemark ${a.length} records, loop ${b.length}):\n  tidemark: ${show(x)}\n  loop:     ${show(y)}`,
      );
    }
  }
}

/** A full GC when the process runs with `--expose-gc` (the benches' children do), else nothing. */
export const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Wall-clock and CPU (all threads) seconds of `fn`, after a full GC. */
export async function timed(fn: () => Promise<unknown> | unknown): Promise<{ seconds: number; cpuSeconds: number }> {
  gc();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { seconds, cpuSeconds: (c.user + c.system) / 1e6 };
}

/** The process's peak RSS so far, bytes. */
export const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

/** What the timed runs of a case measured, with the last run's result. */
export interface TimedRuns<R> {
  /** Wall-clock and CPU (all threads) seconds of each timed run. */
  readonly runs: number[];
  readonly cpuRuns: number[];
  readonly result: R;
  /** The process's peak RSS at the end of the timed runs. */
  readonly peakRss: number;
}

/** A hand-written loop: `warmUp` once, then `repeats` timed runs of `run`. */
export async function timeLoop<R>(repeats: number, warmUp: () => unknown, run: () => R): Promise<TimedRuns<R>> {
  warmUp();
  const runs: number[] = [];
  const cpuRuns: number[] = [];
  let result: R | undefined;
  for (let i = 0; i < repeats; i++) {
    const t = await timed(() => (result = run()));
    runs.push(t.seconds);
    cpuRuns.push(t.cpuSeconds);
  }
  return { runs, cpuRuns, result: result!, peakRss: peakRss() };
}

/**
 * An application: one untimed run on a small log (`open(true)`), then
 * `repeats` timed runs, each on a fresh log (`open(false)`), the previous
 * one closed first. Returns the last log still open, to read its outputs.
 */
export async function timeApp<L extends { close(): Promise<void> }, R>(
  repeats: number,
  open: (warmUp: boolean) => Promise<L>,
  run: (log: L) => Promise<R>,
): Promise<TimedRuns<R> & { readonly last: L }> {
  const warm = await open(true);
  await run(warm);
  await warm.close();
  const runs: number[] = [];
  const cpuRuns: number[] = [];
  let last: L | undefined;
  let result: R | undefined;
  for (let i = 0; i < repeats; i++) {
    if (last !== undefined) await last.close();
    last = undefined;
    gc();
    const log = await open(false);
    const t = await timed(async () => (result = await run(log)));
    runs.push(t.seconds);
    cpuRuns.push(t.cpuSeconds);
    last = log;
  }
  return { runs, cpuRuns, result: result!, peakRss: peakRss(), last: last! };
}

/** How many records `parts` hold. */
export const count = (parts: readonly (readonly unknown[])[]): number => parts.reduce((n, l) => n + l.length, 0);
