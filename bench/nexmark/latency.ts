/**
 * Event-time latency of the windowed Nexmark queries in a real-time run at a
 * fixed input rate: tidemark runs a query with `mode: 'real-time'` on a
 * MemoryLog while a feeder in the same process appends the events at
 * `--rate` events per second of wall clock, in arrival order. Event number
 * i is due at i / rate seconds after the start, so with the data's own rate
 * (its event time) equal to the feed rate, event time runs with the wall
 * clock, offset; a data rate below the feed rate compresses event time.
 *
 * A result's latency is from the moment its window could close to the moment
 * the result was written to the output stream. The first is the wall-clock
 * time at which the first input event at or past the window's closing time
 * (its end plus the grace, by the rule the query's windows close on) was
 * appended: stream time first reached it then. The second is the output
 * record's broker time. Both are the log's broker times, which it takes from
 * the one clock the log and the run share (`clock`, the system clock): no
 * timing inside the core. Results closed only by the sentinels after the
 * data (the last windows) are counted apart, and every run's rows are
 * checked against the batch reference.
 *
 *   node bench/nexmark/latency.ts [--quick] [--events N] [--rate EV_PER_S] [--data-rate EV_PER_S] [--commit-ms MS] [--queries q5,q7] [--file EVENTS.ndjson]
 *
 * Default 600 000 events fed at 10 000/s, the data generated at that rate
 * (60 s per query: 6 tumbling windows, 30 hops); --quick: 20 000 events of 1 000/s of event time fed at
 * 10 000/s (2 s per query, event time ten times the wall clock's speed).
 * Each query runs in a child process; writes bench/results/nexmark-latency-*.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Application, MemoryLog, systemClock, type Clock } from '../../src/index.ts';
import type { AppendRecord } from '../../src/runtime/log.ts';
import type { LogRecord } from '../../src/records/record.ts';
import { fmtInt, spawnCase, table } from '../report.ts';
import { compareLines } from './compare.ts';
import { generateData, parseEvents, readData, type EventsData } from './events.ts';
import { INPUT, OUTPUT } from './queries/common.ts';
import { TIDEMARK_QUERIES } from './queries/index.ts';
import { reference, WINDOW_MS, type QueryName } from './reference.ts';
import { dateTimesOf, inputBatches, memoryInput, outputRows, runQuery, topologyOf } from './tidemark-run.ts';

const RESULT_TAG = '@@nexmark-latency-result ';
const CONFIG_ENV = 'NEXMARK_LATENCY_CONFIG';
const RESULTS_DIR = resolve(fileURLToPath(new URL('../results', import.meta.url)));
/** How often the feeder wakes to append what is due. */
const FEED_TICK_MS = 5;

/** The windowed queries, each with the event time at which a result row's window closes. */
export const CLOSES_AT: Partial<Record<QueryName, (row: Record<string, number>, graceMs: number) => number>> = {
  // q5: the hopping window of the row (its maximum stage needs the next hop to close as well: that shows in the latency).
  q5: (r, g) => r['windowEnd']! + g,
  q7: (r, g) => r['windowEnd']! + g,
  q8: (r, g) => r['windowStart']! + WINDOW_MS + g,
  // q11: the row's end is the session's last bid plus the gap; a session closes one ms later (src/windows/session-windows.ts).
  q11: (r, g) => r['windowEnd']! + 1 + g,
  q12: (r, g) => r['windowEnd']! + g,
};
export const LATENCY_QUERIES = Object.keys(CLOSES_AT) as QueryName[];

/** How a latency run is made. */
export interface LatencyConfig {
  /** Events per second of wall clock the feeder appends. */
  readonly rate: number;
  /** How often the run commits (its outputs become visible on commit). */
  readonly commitIntervalMs: number;
  /** The events file; absent: generated in the child from `events`, `seed`, `dataRate`. */
  readonly file?: string;
  readonly events: number;
  readonly seed: number;
  readonly dataRate: number;
}

/** What one query's latency run measured. */
export interface LatencyResult {
  readonly query: QueryName;
  readonly events: number;
  /** The feed rate asked for, and the one achieved (events over the feeding's wall clock). */
  readonly rate: number;
  readonly achievedRate: number;
  readonly commitIntervalMs: number;
  /** Result rows closed by the data, whose latency is measured. */
  readonly results: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Distinct moments results were closed at (a window's rows close together): how many windows the percentiles stand on. */
  readonly closes: number;
  /** The run's largest lag (records appended but not yet read, internal streams included), as its progress reported: whether it kept up. */
  readonly maxLag: number;
  /** Result rows closed only by the sentinels after the data. */
  readonly closedAtEnd: number;
  readonly verified: boolean;
}

/** The nearest-rank percentile `p` (0–100) of sorted `xs`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The index of the first event in arrival order with `prefixMax[i] >= t` (-1 if none): when stream time first reached `t`. */
function firstReaching(prefixMax: readonly number[], t: number): number {
  let lo = 0;
  let hi = prefixMax.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (prefixMax[mid]! >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo === prefixMax.length ? -1 : lo;
}

/**
 * Appends `records` to `log` at `rate` per second of `clock` from now on,
 * each when it is due (what a tick finds due goes in one append); resolves
 * with the seconds it took.
 */
async function feed(log: MemoryLog, records: readonly AppendRecord[], rate: number, clock: Clock): Promise<number> {
  const start = clock.now();
  let next = 0;
  while (next < records.length) {
    const due = Math.min(records.length, Math.floor(((clock.now() - start) * rate) / 1000) + 1);
    if (due > next) {
      log.appendSync(records.slice(next, due));
      next = due;
    }
    await sleep(FEED_TICK_MS);
  }
  return (clock.now() - start) / 1000;
}

/** Runs `query` in real time over the events fed at the configured rate; measures each result's latency. */
export async function measureLatency(query: QueryName, data: EventsData, c: Pick<LatencyConfig, 'rate' | 'commitIntervalMs'>): Promise<LatencyResult> {
  const q = TIDEMARK_QUERIES[query];
  const closesAt = CLOSES_AT[query];
  if (q === undefined || closesAt === undefined) throw new Error(`nexmark latency: ${query} is not a windowed query (they are ${LATENCY_QUERIES.join(', ')})`);
  const grace = data.meta.maxDelayMs;
  // Warm-up, as the catch-up bench does: the query over the first 20 000 events, on a log of their own, so that the measured run starts compiled.
  const head = data.lines.slice(0, Math.min(data.lines.length, 20_000));
  await runQuery(query, q, grace, memoryInput(inputBatches({ lines: head, meta: data.meta }, dateTimesOf(head))));
  const dateTimes = dateTimesOf(data.lines);
  const records = inputBatches(data, dateTimes).flat();
  // One clock for the log's broker times and the run's commits.
  const clock = systemClock;
  const log = new MemoryLog(clock);
  log.ensureStream(INPUT, 1);
  const app = new Application(topologyOf(q, grace), { applicationId: `nexmark-latency-${query}`, log });
  const abort = new AbortController();
  let lag = Infinity;
  let maxLag = 0;
  const onProgress = (p: { lag: number }): void => {
    lag = p.lag;
    maxLag = Math.max(maxLag, p.lag);
  };
  const running = app.run({ mode: 'real-time', clock, commitIntervalMs: c.commitIntervalMs, signal: abort.signal, onProgress, progressIntervalMs: 50 });
  const feedSeconds = await feed(log, records, c.rate, clock);
  await drained(log, () => lag, c.commitIntervalMs);
  abort.abort();
  const summary = await running;
  if (summary.lateRecords > 0 || summary.deadLettered > 0) throw new Error(`nexmark latency ${query}: ${summary.lateRecords} late, ${summary.deadLettered} dead-lettered records`);

  const rows = outputRows(query, log, data.meta.lastDateTime);
  const check = compareLines(query, rows, reference(query, parseEvents(data.lines)));
  if (!check.equal) throw new Error(`nexmark latency: ${check.difference}`);
  const { latencies, closes, closedAtEnd } = latenciesOf(log, dateTimes, (row) => closesAt(row, grace), data.meta.lastDateTime);
  latencies.sort((a, b) => a - b);
  return {
    query,
    events: data.lines.length,
    rate: c.rate,
    achievedRate: records.length / feedSeconds,
    commitIntervalMs: c.commitIntervalMs,
    results: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies[latencies.length - 1] ?? NaN,
    closes,
    maxLag,
    closedAtEnd,
    verified: true,
  };
}

/** Waits until the run has read everything and its output has not grown for a few commit intervals. */
async function drained(log: MemoryLog, lag: () => number, commitIntervalMs: number): Promise<void> {
  const quiet = 3 * commitIntervalMs + 100;
  let end = -1;
  let since = Date.now();
  for (;;) {
    await sleep(25);
    const now = log.partitionCount(OUTPUT) === undefined ? 0 : log.endOffset(OUTPUT, 0);
    if (now !== end || lag() !== 0) [end, since] = [now, Date.now()];
    else if (Date.now() - since >= quiet) return;
  }
}

/** Per output row (sentinel rows aside), its broker time less that of the input event that let its window close. */
function latenciesOf(log: MemoryLog, dateTimes: readonly number[], closesAt: (row: Record<string, number>) => number, lastDateTime: number): { latencies: number[]; closes: number; closedAtEnd: number } {
  const prefixMax: number[] = [];
  let max = -Infinity;
  for (const t of dateTimes) prefixMax.push((max = Math.max(max, t)));
  const latencies: number[] = [];
  const triggers = new Set<number>();
  let closedAtEnd = 0;
  for (let p = 0; p < (log.partitionCount(OUTPUT) ?? 0); p++) {
    for (const r of log.read(OUTPUT, p, 0, log.endOffset(OUTPUT, p))) {
      if (r.control !== undefined || r.value === null) continue;
      const row = JSON.parse(Buffer.from(r.value).toString('utf8')) as Record<string, number>;
      if (Object.entries(row).some(([k, v]) => typeof v === 'number' && (v < 0 || (k === 'windowStart' && v > lastDateTime)))) continue;
      const i = firstReaching(prefixMax, closesAt(row));
      if (i < 0) {
        closedAtEnd++;
        continue;
      }
      triggers.add(i);
      latencies.push(brokerTimeOf(r) - brokerTimeOf(log.read(INPUT, 0, i, 1)[0]!));
    }
  }
  return { latencies, closes: triggers.size, closedAtEnd };
}

function brokerTimeOf(r: LogRecord): number {
  if (r.brokerTime === null) throw new Error(`nexmark latency: ${r.stream}/${r.partition} offset ${r.offset} has no broker time`);
  return r.brokerTime;
}

// ---------------------------------------------------------------------------
// The report: a child process per query, a table, JSON.

function arg(name: string, argv: readonly string[] = process.argv): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : argv[i + 1];
}

function intArg(name: string, fallback: number, argv: readonly string[]): number {
  const v = arg(name, argv);
  if (v === undefined) return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`nexmark latency: --${name} must be a positive integer, got ${v}`);
  return n;
}

/** The configuration from command-line arguments (none: the defaults; `quick` for --quick's). */
export function latencyConfig(quick: boolean, argv: readonly string[]): LatencyConfig {
  const rate = intArg('rate', 10_000, argv);
  const file = arg('file', argv);
  return {
    rate,
    commitIntervalMs: intArg('commit-ms', 100, argv),
    ...(file === undefined ? {} : { file: resolve(file) }),
    events: intArg('events', quick ? 20_000 : 600_000, argv),
    seed: intArg('seed', 42, argv),
    dataRate: intArg('data-rate', quick ? 1_000 : rate, argv),
  };
}

/** Runs each of `queries` in a child process, prints the table, writes the JSON; returns the results. */
export function latencyReport(queries: readonly QueryName[], c: LatencyConfig): LatencyResult[] {
  const windowed = queries.filter((q) => CLOSES_AT[q] !== undefined);
  process.env[CONFIG_ENV] = JSON.stringify(c);
  const script = fileURLToPath(import.meta.url);
  console.log(
    `\nEvent-time latency, real-time runs on a MemoryLog fed at ${fmtInt(c.rate)} events/s of wall clock ` +
      `(${c.file ?? `${fmtInt(c.events)} events, seed ${c.seed}, ${fmtInt(c.dataRate)} events/s of event time`}), commits every ${c.commitIntervalMs} ms; load average ${loadavg()[0]!.toFixed(1)}`,
  );
  const results: LatencyResult[] = [];
  for (const q of windowed) {
    process.stderr.write(`  latency ${q} … `);
    const r = spawnCase<LatencyResult>(script, q, RESULT_TAG);
    if (r === undefined) continue;
    process.stderr.write(`p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms\n`);
    results.push(r);
  }
  const ms = (x: number): string => (Number.isNaN(x) ? '-' : `${fmtInt(x)} ms`);
  console.log(
    table([
      ['query', 'feed', 'achieved', 'results', 'closes', 'p50', 'p99', 'max', 'max lag', 'closed at end', 'same as reference'],
      ...results.map((r) => [
        r.query, `${fmtInt(r.rate)}/s`, `${fmtInt(r.achievedRate)}/s`, fmtInt(r.results), fmtInt(r.closes), ms(r.p50Ms), ms(r.p99Ms), ms(r.maxMs), fmtInt(r.maxLag), fmtInt(r.closedAtEnd), r.verified ? 'yes' : 'NO',
      ]),
    ]),
  );
  console.log(
    'latency: from the append of the first event at or past a window\'s end plus grace (stream time reaching it) to the append of its result to the output stream, both broker times of the log; ' +
      'q5\'s maximum stage closes a hop (2 s of event time) after its hopping window. closes: distinct moments of closing (a window\'s rows close together); ' +
      'max lag: the run\'s largest lag, records appended and not yet read (internal streams included); closed at end: rows closed only by the sentinels after the data, not measured.',
  );
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, config: c, results }, null, 2) + '\n';
  const out = join(RESULTS_DIR, `nexmark-latency-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, json);
  writeFileSync(join(RESULTS_DIR, 'nexmark-latency-latest.json'), json);
  console.log(`results: ${out}`);
  return results;
}

async function runChild(query: QueryName): Promise<LatencyResult> {
  const c = JSON.parse(process.env[CONFIG_ENV] ?? 'null') as LatencyConfig | null;
  if (c === null) throw new Error(`nexmark latency: ${CONFIG_ENV} is not set`);
  const data = c.file !== undefined ? readData(c.file) : generateData(c.events, c.seed, { firstEventRate: c.dataRate });
  return measureLatency(query, data, c);
}

if (import.meta.main) {
  const child = arg('case');
  const main = async (): Promise<void> => {
    if (child !== undefined) {
      process.stdout.write(`${RESULT_TAG}${JSON.stringify(await runChild(child as QueryName))}\n`);
      return;
    }
    const want = arg('queries')?.split(',').map((s) => s.trim()) as QueryName[] | undefined;
    for (const q of want ?? []) if (CLOSES_AT[q] === undefined) throw new Error(`nexmark latency: --queries ${q}: the windowed queries are ${LATENCY_QUERIES.join(', ')}`);
    latencyReport(want ?? LATENCY_QUERIES, latencyConfig(process.argv.includes('--quick'), process.argv));
  };
  main().catch((e: unknown) => {
    console.error((e as Error).stack ?? e);
    process.exitCode = 1;
  });
}
