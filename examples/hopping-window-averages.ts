/**
 * A boiler's 10-second average temperature, every 2 seconds: hopping windows.
 *
 * Hopping windows of size 10 s advancing by 2 s overlap: each reading
 * belongs to five windows, `[s, s + 10 s)` for every `s` on the 2 s grid
 * with `s <= ts < s + 10 s`. The same grouped stream feeds two
 * aggregations, to show both emission modes side by side:
 *
 * - `emit: 'updates'`: a new average for every window a reading changes —
 *   a dashboard that wants numbers now and accepts corrections;
 * - `emit: 'final'`: one average per window, when it closes (stream time
 *   reaches end + grace) — an alerting or billing job that must never see
 *   a number change.
 *
 * The readings come from a gateway that batches, so some arrive out of
 * order. With 1 s of grace, a reading can be too late for its oldest
 * windows yet still in time for younger ones: those windows skip it (each
 * is counted and audited as a late window) and the others count it. A
 * reading too late for all of its windows is a late record: dropped
 * (the default policy), counted and audited.
 *
 * Run it: `node examples/hopping-window-averages.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, StreamsBuilder, TimeWindows, type Windowed } from '../src/index.ts';

interface Reading {
  readonly celsius: number;
}
interface Sum {
  readonly sum: number;
  readonly n: number;
}

const READINGS = 'boiler-readings';
const UPDATES = 'boiler-avg-updates';
const FINAL = 'boiler-avg-final';
const APP = 'boiler-averages';

const keySerde = Serdes.string();
const readingSerde = Serdes.json<Reading>();
const windowedSerde = Serdes.json<Windowed<string>>();
const avgSerde = Serdes.json<number>();

// 1. The topology: sum and count per window, then the average; two emission modes.
const builder = new StreamsBuilder();
const windowed = builder
  .stream<string, Reading>(READINGS, { key: keySerde, value: readingSerde })
  .groupByKey()
  .windowedBy(TimeWindows.ofSize(10_000).advanceBy(2_000).grace(1_000));
const sumOf = (s: Sum, r: Reading): Sum => ({ sum: s.sum + r.celsius, n: s.n + 1 });
const average = (s: Sum): number => Math.round((s.sum / s.n) * 100) / 100;
windowed
  .aggregate<Sum>(() => ({ sum: 0, n: 0 }), (_k, r, s) => sumOf(s, r), { emit: 'updates' })
  .mapValues(average)
  .to(UPDATES);
windowed
  .aggregate<Sum>(() => ({ sum: 0, n: 0 }), (_k, r, s) => sumOf(s, r), { emit: 'final', name: 'final-averages' })
  .mapValues(average)
  .to(FINAL);

const topology = builder.build();
// The audit names the operator node a late record met: here, the one of the final aggregation (the node using its store).
const FINAL_NODE = [...topology.nodes.values()].find((n) => n.kind === 'processor' && n.stores.includes('final-averages'))!.name;

// 2. The input, in arrival order (seconds after 12:00:00).
const t0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const input: [second: number, celsius: number][] = [
  [1, 20.0],
  [3, 21.0],
  [6, 22.0],
  [9, 24.0],
  [4, 23.0], // stream time 9: too late for [−4 s, 6 s) and [−2 s, 8 s) (closed at 7 s and 9 s), in time for [0, 10 s), [2 s, 12 s), [4 s, 14 s)
  [12, 25.0],
  [14, 26.0],
  [8, 20.5], // stream time 14: too late for [0, 10 s) and [2 s, 12 s), in time for the three younger windows
  [19, 27.0],
  [7, 21.0], // stream time 19: all five windows of 7 s closed (the youngest, [6 s, 16 s), at 17 s): a late record, dropped
  [24, 28.0],
];

const ss = (t: number): string => `${(t - t0) / 1000} s`;
const label = (w: Windowed<string>): string => `[${ss(w.start)}, ${ss(w.end)})`.padEnd(14);

interface Result {
  readonly window: Windowed<string>;
  readonly avg: number;
  readonly timestamp: number;
}

function readAll(log: EmbeddedLog, stream: string): Result[] {
  return log.read(stream, 0, 0, 1000).map((r) => ({ window: windowedSerde.deserialize(r.key), avg: avgSerde.deserialize(r.value), timestamp: r.eventTime! }));
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-hopping-'));
const log = await EmbeddedLog.open({ dataDir });
try {
  log.ensureStream(READINGS, 1);
  log.ensureStream(UPDATES, 1);
  log.ensureStream(FINAL, 1);
  await log.append(input.map(([second, celsius]) => ({ stream: READINGS, partition: 0, key: keySerde.serialize('boiler-1'), value: readingSerde.serialize({ celsius }), eventTime: t0 + second * 1000 })));

  const summary = await new Application(topology, { applicationId: APP, log }).run({ mode: 'catch-up' });
  console.log(`processed ${summary.processed} readings; stream time ${ss(summary.streamTimes.get('0_0')!)}`);
  // Both aggregations see every reading, so each counts and audits what was late for it; here, the final one's.
  const lateForFinal = log.readAudit(APP).filter((e) => (e.kind === 'late-record' || e.kind === 'late-window') && e.detail.startsWith(FINAL_NODE));
  console.log(`late for the final aggregation: ${lateForFinal.filter((e) => e.kind === 'late-record').length} late record (dropped), ${lateForFinal.filter((e) => e.kind === 'late-window').length} windows that skipped a reading a younger window took`);
  for (const e of lateForFinal) {
    const r = log.read(e.stream, e.partition, e.offset, 1)[0]!;
    // Audit details give times in epoch milliseconds; shown here as seconds after 12:00:00.
    const detail = e.detail.slice(FINAL_NODE.length + 2).replace(/\d{13}/g, (ms) => ss(Number(ms)));
    console.log(`  ${e.kind.padEnd(11)} ${e.stream}/${e.partition}@${e.offset} (reading at ${ss(r.eventTime!)}): ${detail}`);
  }

  // 3. Updates mode: every change of every window. Here, those of [0, 10 s).
  const updates = readAll(log, UPDATES);
  const first = (r: Result): boolean => r.window.start === t0 && r.window.end === t0 + 10_000;
  const firstUpdates = updates.filter(first).map((r) => r.avg);
  console.log(`updates: ${updates.length} results; window [0 s, 10 s) went ${firstUpdates.join(' → ')}`);

  // 4. Final mode: one result per closed window, in closing order.
  const finals = readAll(log, FINAL);
  console.log(`final: ${finals.length} windows closed by stream time ${ss(summary.streamTimes.get('0_0')!)} (grace 1 s):`);
  for (const f of finals) console.log(`  ${label(f.window)} avg ${f.avg.toFixed(2).padStart(6)} °C   result timestamp ${ss(f.timestamp + 1)} − 1 ms`);

  // The facts this example shows:
  // [0, 10 s) took 1, 3, 6, 9 and 4 s (in time), not 8 s (too late for it) nor 7 s (a late record): (20+21+22+24+23)/5.
  check(firstUpdates.join(' ') === '20 20.5 21 21.75 22', 'the updates of [0, 10 s)');
  check(finals.find(first)?.avg === 22, 'its final result is the last update');
  // Every final result equals the last update of its window; no window is emitted twice.
  for (const f of finals) check(updates.filter((u) => u.window.start === f.window.start).at(-1)?.avg === f.avg, `final ${label(f.window)} = its last update`);
  check(new Set(finals.map((f) => f.window.start)).size === finals.length, 'each window emitted once');
  // Windows [−8 s, 2 s) … [12 s, 22 s) have closed (end + 1 s <= 24 s); [14 s, 24 s) closes at 25 s.
  check(finals.length === 11 && finals.at(-1)!.window.start === t0 + 12_000, '11 closed windows, the last [12 s, 22 s)');
  check(finals.every((f) => f.timestamp === f.window.end - 1), 'results timestamped end − 1');
  // 4 s and 8 s were each too late for two windows; 7 s for all five — for each of the two aggregations.
  check(lateForFinal.filter((e) => e.kind === 'late-window').length === 4 && lateForFinal.filter((e) => e.kind === 'late-record').length === 1, '4 late windows, 1 late record');
  check(summary.lateWindows === 2 * 4 && summary.lateRecords === 2 * 1, 'counted by both aggregations');
} finally {
  await log.close();
  rmSync(dataDir, { recursive: true, force: true });
}
