/**
 * `npm run bench`, Nexmark part: every implemented query (bench/nexmark/QUERIES.md)
 * over one generated events file, as tidemark in memory (MemoryLog,
 * in-memory stores, catch-up) and as a hand-written loop, each case in its
 * own child process so that its peak RSS is its own (the events it holds
 * included). Every case's rows are checked against the batch reference;
 * a mismatch fails the bench. Prints a block per query and writes the
 * results as JSON into bench/results/ (ignored by git).
 *
 *   node bench/nexmark/run.ts [--quick] [--events N] [--seed S] [--rate R] [--queries q0,q5] [--file EVENTS.ndjson]
 *
 * --quick: 20 000 events at 1 000 events/s (default 1 000 000 at Beam's 10 000/s); --file: an existing events
 * file (with its .meta.json) instead of generating one into bench/results/.
 * `node bench/nexmark/run.ts --compare q5 ROWS.ndjson --file EVENTS.ndjson`
 * checks a peer's rows file against the reference (see compareRows) and exits
 * non-zero when they differ.
 */
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtInt, fmtMb, fmtRate, pct, spawnCase, table } from '../report.ts';
import { gc, peakRss, timed } from '../results.ts';
import { compareLines, compareRowsWith, type Comparison } from './compare.ts';
import { parseEvents, readData } from './events.ts';
import { defaultConfig } from './generator.ts';
import { generateInto } from './generate.ts';
import { LOOPS } from './loops.ts';
import { metaPath } from './model.ts';
import { TIDEMARK_QUERIES } from './queries/index.ts';
import { QUERIES, reference, type QueryName } from './reference.ts';
import { dateTimesOf, inputBatches, memoryInput, outputRows, runQuery } from './tidemark-run.ts';

const RESULT_TAG = '@@nexmark-bench-result ';
const FILE_ENV = 'NEXMARK_EVENTS_FILE';
const HERE = dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = resolve(HERE, '..', 'results');

type System = 'loop' | 'tidemark';

/** What one case measured. */
export interface CaseResult {
  readonly query: QueryName;
  readonly system: System;
  readonly events: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly rows: number;
  /** Whether the rows equal the reference's (a difference fails the case instead). */
  readonly verified: boolean;
  readonly peakRss: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function intArg(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`nexmark bench: --${name} must be a positive integer, got ${v}`);
  return n;
}

/**
 * Compares a system's result rows for `query` (NDJSON, one row a line, as a
 * peer writes them; keyed queries judged on their last row per key) with the
 * reference over the events of `eventsFile` (default: the file this bench
 * runs on): the one place where a peer's outputs are checked.
 */
export function compareRows(query: QueryName, rowsFile: string, eventsFile: string | undefined = process.env[FILE_ENV]): Comparison {
  if (eventsFile === undefined) throw new Error(`compareRows: no events file (give one, or set ${FILE_ENV})`);
  return compareRowsWith(query, rowsFile, parseEvents(readData(eventsFile).lines));
}

// ---------------------------------------------------------------------------
// A case, in its child process.

async function runCase(name: string): Promise<CaseResult> {
  const [query, system] = name.split('/') as [QueryName, System];
  const file = process.env[FILE_ENV];
  if (file === undefined) throw new Error(`nexmark bench: ${FILE_ENV} is not set`);
  const data = readData(file);
  const grace = data.meta.maxDelayMs;
  let rows: string[];
  let t: { seconds: number; cpuSeconds: number };
  if (system === 'loop') {
    const loop = LOOPS[query];
    if (loop === undefined) throw new Error(`nexmark bench: no loop for ${query}`);
    loop(data.lines.slice(0, Math.min(data.lines.length, 20_000)), grace); // warm-up
    let out: string[] = [];
    t = await timed(() => (out = loop(data.lines, grace)));
    rows = out.sort();
  } else {
    const q = TIDEMARK_QUERIES[query];
    if (q === undefined) throw new Error(`nexmark bench: ${query} is not implemented on tidemark`);
    // Warm-up: the same query over the first 20 000 events, on a log of their own.
    const head = data.lines.slice(0, Math.min(data.lines.length, 20_000));
    await runQuery(query, q, grace, memoryInput(inputBatches({ lines: head, meta: data.meta }, dateTimesOf(head))));
    const batches = inputBatches(data, dateTimesOf(data.lines));
    const log = memoryInput(batches);
    gc();
    t = await timed(() => runQuery(query, q, grace, log));
    rows = outputRows(query, log, data.meta.lastDateTime);
  }
  const peak = peakRss();
  // Verification, after the peak RSS was taken.
  const c = compareLines(query, rows, reference(query, parseEvents(data.lines)));
  if (!c.equal) throw new Error(`nexmark bench: ${system} ${c.difference}`);
  return { query, system, events: data.lines.length, seconds: t.seconds, cpuSeconds: t.cpuSeconds, rows: rows.length, verified: true, peakRss: peak };
}

// ---------------------------------------------------------------------------
// The parent: generate, run every case, print, write JSON.

async function ensureEvents(events: number, seed: number, rate: number | undefined): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `nexmark-events-${events}-seed${seed}${rate === undefined ? '' : `-rate${rate}`}.ndjson`);
  if (existsSync(file) && existsSync(metaPath(file))) return file;
  const c = defaultConfig(events, seed, rate === undefined ? {} : { firstEventRate: rate });
  const fd = openSync(file, 'w');
  const meta = await generateInto(c, [{ write: async (lines) => void writeSync(fd, lines.join('\n') + '\n'), close: async () => {} }], true);
  closeSync(fd);
  writeFileSync(metaPath(file), JSON.stringify(meta) + '\n');
  return file;
}

async function parent(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const events = intArg('events', quick ? 20_000 : 1_000_000);
  const seed = intArg('seed', 42);
  // --quick runs at 1 000 events/s of event time, so that its 20 000 events span several windows of every query.
  const rate = arg('rate') === undefined ? (quick ? 1_000 : undefined) : intArg('rate', 10_000);
  const want = arg('queries')?.split(',').map((s) => s.trim());
  const queries = QUERIES.filter((q) => TIDEMARK_QUERIES[q] !== undefined && (want === undefined || want.includes(q)));
  if (want !== undefined && queries.length !== want.length) throw new Error(`nexmark bench: --queries ${want.join(',')}: implemented are ${QUERIES.filter((q) => TIDEMARK_QUERIES[q]).join(', ')}`);
  const file = arg('file') !== undefined ? resolve(arg('file')!) : await ensureEvents(events, seed, rate);
  const data = readData(file);
  process.env[FILE_ENV] = file;

  console.log(`tidemark Nexmark bench — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()[0]!.toFixed(1)}`);
  console.log(
    `events: ${file} — ${fmtInt(data.meta.events)} events, seed ${data.meta.seed}, ${fmtInt(data.meta.firstEventRate)} events/s of event time ` +
      `(${((data.meta.lastDateTime - data.meta.firstDateTime) / 1000).toFixed(0)} s), max delay ${data.meta.maxDelayMs} ms = every window's grace; one case per child process\n`,
  );
  const script = fileURLToPath(import.meta.url);
  const results: CaseResult[] = [];
  for (const q of queries) {
    for (const system of ['loop', 'tidemark'] as const) {
      process.stderr.write(`  running ${q}/${system} … `);
      const r = spawnCase<CaseResult>(script, `${q}/${system}`, RESULT_TAG);
      if (r === undefined) continue;
      process.stderr.write(`${r.seconds.toFixed(2)} s\n`);
      results.push(r);
    }
  }

  const rows: string[][] = [['query', 'system', 'events', 'events/s', 'CPU s', 'events per CPU-s', 'vs loop', 'rows', 'same as reference', 'peak RSS']];
  for (const q of queries) {
    const loop = results.find((r) => r.query === q && r.system === 'loop');
    let first = true;
    for (const r of results.filter((x) => x.query === q)) {
      const cpuRate = r.events / r.cpuSeconds;
      rows.push([
        first ? `${q}` : '',
        r.system === 'loop' ? 'hand-written loop' : 'tidemark in memory',
        fmtInt(r.events),
        fmtRate(r.events / r.seconds),
        r.cpuSeconds.toFixed(2),
        fmtRate(cpuRate),
        r.system === 'loop' ? '(baseline)' : loop === undefined ? '?' : pct(cpuRate / (loop.events / loop.cpuSeconds)),
        fmtInt(r.rows),
        r.verified ? 'yes' : 'NO',
        fmtMb(r.peakRss),
      ]);
      first = false;
    }
  }
  console.log(table(rows));
  console.log('');
  for (const q of queries) console.log(`${q}: ${TIDEMARK_QUERIES[q]!.description}`);
  console.log('events/s: over the wall clock of the run (tidemark: the catch-up run, the input already in the memory log; loop: one pass over the lines); vs loop: events per CPU-second against the loop\'s, in this run.');
  console.log('same as reference: the rows equal the batch reference\'s (bench/nexmark/reference.ts); peak RSS: the child\'s, the events it holds included.');

  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = join(RESULTS_DIR, `nexmark-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const json = JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, meta: data.meta, results }, null, 2);
  writeFileSync(out, json + '\n');
  writeFileSync(join(RESULTS_DIR, 'nexmark-latest.json'), json + '\n');
  console.log(`results: ${out}`);
}

async function compareMain(): Promise<void> {
  const i = process.argv.indexOf('--compare');
  const query = process.argv[i + 1] as QueryName;
  const rowsFile = process.argv[i + 2];
  const file = arg('file');
  if (!QUERIES.includes(query) || rowsFile === undefined || file === undefined) throw new Error('usage: node bench/nexmark/run.ts --compare QUERY ROWS.ndjson --file EVENTS.ndjson');
  const c = compareRows(query, rowsFile, file);
  if (c.equal) console.log(`${query}: ${rowsFile} equals the reference (${c.rows} rows)`);
  else {
    console.error(c.difference);
    process.exitCode = 1;
  }
}

if (import.meta.main) {
  const caseName = arg('case');
  const main = caseName !== undefined ? async () => process.stdout.write(`${RESULT_TAG}${JSON.stringify(await runCase(caseName))}\n`) : process.argv.includes('--compare') ? compareMain : parent;
  main().catch((e: unknown) => {
    console.error((e as Error).stack ?? e);
    process.exitCode = 1;
  });
}
