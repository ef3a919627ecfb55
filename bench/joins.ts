/**
 * `npm run bench`, joins part (issue 16): a stream–table enrichment (orders
 * left-joined with a versioned table of customers, by event time) and a
 * stream–stream matching (orders left-joined with their payments within
 * 10 s), each against a hand-written loop computing the same results,
 * measured in one run; then a memory run of each, showing that their state
 * stays bounded as the input grows.
 *
 * Each case runs in its own child process, so that its peak RSS is its own
 * (the generated workload included); the parent starts them in turn and
 * prints the tables. Every tidemark case checks its output against the
 * hand-written loop's, record by record, and fails the bench on a
 * difference. Environment:
 *   BENCH_RECORDS            records of the loop and in-memory cases (default 200 000)
 *   BENCH_EMBEDDED_RECORDS   records of the embedded-log cases (default 50 000)
 *   BENCH_LONG_RECORDS       records of each memory run (default 500 000)
 *   BENCH_PARTITIONS         input partitions, one task each (default 4)
 *   BENCH_SEED               workload seed (default 42)
 *   BENCH_REPEATS            timed runs of the loop and in-memory cases, the best is reported (default 2)
 *   BENCH_EMBEDDED_REPEATS   the same for the embedded cases (default 1)
 *   BENCH_JOIN_CASES         comma-separated case names or prefixes (`stream-table`, `stream-stream/memory`, `long`; default all)
 * Case names: `<join>/<path>` and `long-<join>`; a ratio is printed when the loop of its join ran too.
 * `node bench/joins.ts --case stream-table/memory` runs one case in this process
 * (for profiling: `node --cpu-prof bench/joins.ts --case stream-table/memory`).
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { KINDS, PATHS, caseName, describeJoin, runCase, type CaseResult, type Path } from './joins-cases.ts';
import { runLong, type LongResult } from './joins-long.ts';
import {
  CUSTOMERS,
  FAR_DELAY_MS,
  FAR_SHARE,
  NEAR_DELAY_MS,
  OUT_OF_ORDER,
  PAID_SHARE,
  PAYMENT_DELAY_STEPS,
  SPLIT_SHARE,
  UPDATE_SHARE,
  generate,
  type JoinKind,
} from './joins-workload.ts';
import { envInt } from './env.ts';
import { best, fmtInt, fmtMb, fmtRate, pct, spawnCase, table } from './report.ts';

const RESULT_TAG = '@@joins-bench-result ';

const records = envInt('BENCH_RECORDS', 200_000);
const embeddedRecords = envInt('BENCH_EMBEDDED_RECORDS', 50_000);
const longRecords = envInt('BENCH_LONG_RECORDS', 500_000);
const partitions = envInt('BENCH_PARTITIONS', 4);
const seed = envInt('BENCH_SEED', 42);
const repeats = envInt('BENCH_REPEATS', 2);
const embeddedRepeats = envInt('BENCH_EMBEDDED_REPEATS', 1);
const LONG_CHECKPOINTS = 10;

const CASE_SPECS: ReadonlyMap<string, { kind: JoinKind; path: Path }> = new Map(KINDS.flatMap((kind) => PATHS.map((path) => [caseName(kind, path), { kind, path }] as const)));
const longName = (kind: JoinKind): string => `long-${kind}`;
const ALL_CASES: readonly string[] = [...CASE_SPECS.keys(), ...KINDS.map(longName)];

function selected(): string[] {
  const want = process.env['BENCH_JOIN_CASES']?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!want || want.length === 0) return [...ALL_CASES];
  const chosen = ALL_CASES.filter((c) => want.some((w) => c === w || c.startsWith(w)));
  if (chosen.length === 0) throw new Error(`BENCH_JOIN_CASES=${want.join(',')} matches no case; cases: ${ALL_CASES.join(', ')}`);
  return chosen;
}

async function child(name: string): Promise<void> {
  let result: CaseResult | LongResult;
  const long = KINDS.find((k) => longName(k) === name);
  if (long !== undefined) result = await runLong(long, longRecords, seed, partitions, LONG_CHECKPOINTS);
  else {
    const spec = CASE_SPECS.get(name);
    if (spec === undefined) throw new Error(`no case ${name}; cases: ${ALL_CASES.join(', ')}`);
    const embedded = spec.path === 'embedded';
    result = await runCase(spec.kind, spec.path, { records: embedded ? embeddedRecords : records, seed, partitions, repeats: embedded ? embeddedRepeats : repeats });
  }
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

function printLong(long: LongResult): void {
  const stores = long.kind === 'stream-table' ? 'waiting records (join store), versions (table store)' : 'open records of both streams (join store)';
  console.log(`\nmemory run, ${long.kind}: ${describeJoin(long.kind)}, in-memory path, ${fmtInt(long.records)} records generated on the fly in chunks of 50 000 appended to the log during one run, ${long.partitions} tasks`);
  const header = ['records', 'event time', 'join store', ...(long.kind === 'stream-table' ? ['table store'] : []), 'results', 'late', 'RSS', 'heap used', 'off-heap', 'elapsed'];
  const rows: string[][] = [header];
  for (const c of long.checkpoints) {
    rows.push([
      fmtInt(c.records),
      `${c.eventHours.toFixed(2)} h`,
      fmtInt(c.joinEntries),
      ...(long.kind === 'stream-table' ? [fmtInt(c.tableEntries)] : []),
      fmtInt(c.outputs),
      fmtInt(c.late),
      fmtMb(c.rss),
      fmtMb(c.heapUsed),
      fmtMb(c.external),
      `${c.seconds.toFixed(1)} s`,
    ]);
  }
  console.log(table(rows));
  const cps = long.checkpoints;
  const half = cps.slice(Math.floor(cps.length / 2));
  const range = (xs: number[], f: (n: number) => string): string => `${f(Math.min(...xs))} – ${f(Math.max(...xs))}`;
  console.log(
    `store entries (${stores}; committed, all tasks, after each checkpoint's commit): join ${range(cps.map((c) => c.joinEntries), fmtInt)}` +
      `${long.kind === 'stream-table' ? `, table ${range(cps.map((c) => c.tableEntries), fmtInt)}` : ''}; ` +
      `RSS over the second half: ${range(half.map((c) => c.rss), fmtMb)}; heap used over the second half: ${range(half.map((c) => c.heapUsed), fmtMb)}; ` +
      `peak RSS ${fmtMb(long.peakRss)}; ${fmtRate(long.records / long.seconds)} overall`,
  );
  console.log(`(RSS, heap and off-heap memory after a full GC. The log drops input once committed as consumed, and counts results and audit entries (${fmtInt(long.audited)}) instead of keeping them: it stands in for a broker.)`);
}

async function parent(): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const cases = selected();
  const started = Date.now();
  const load0 = loadavg()[0]!;
  console.log(`tidemark joins bench — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${load0.toFixed(1)}`);
  const disorder = `${OUT_OF_ORDER * 100} % of the records pushed back by up to ${NEAR_DELAY_MS / 1000} s (${(1 - FAR_SHARE) * 100} % of them) or ${FAR_DELAY_MS / 1000} s`;
  const sample = (kind: JoinKind): string => {
    const w = generate(kind, Math.min(records, 200_000), seed, partitions);
    return `${pct(w.outOfOrder / w.count)} below their partition's time in a ${fmtInt(w.count)} sample`;
  };
  console.log(
    `workloads, seed ${seed}, ${partitions} partitions (one task each), event time +1 ms per step on average, ${disorder}, JSON values:\n` +
      `  stream-table: orders of ${fmtInt(CUSTOMERS)} skewed customers, ${UPDATE_SHARE * 100} % of the records customer updates (any customer) (${sample('stream-table')})\n` +
      `  stream-stream: one order per step keyed by order id, ${PAID_SHARE * 100} % paid up to ${PAYMENT_DELAY_STEPS / 1000} s later, ${SPLIT_SHARE * 100} % of those in two payments (${sample('stream-stream')})`,
  );
  console.log(
    `${fmtInt(records)} records for the loops and in-memory cases (best of ${repeats}), ${fmtInt(embeddedRecords)} for the embedded cases (best of ${embeddedRepeats}); ` +
      `each case in its own child process, peak RSS is the child's own (workload included)\n`,
  );

  const results = new Map<string, CaseResult>();
  const longs: LongResult[] = [];
  for (const name of cases) {
    process.stderr.write(`  running ${name} … `);
    const r = spawnCase<CaseResult | LongResult>(script, name, RESULT_TAG);
    if (r === undefined) continue;
    if ('checkpoints' in r) {
      longs.push(r);
      process.stderr.write(`${r.seconds.toFixed(1)} s\n`);
    } else {
      results.set(name, r);
      process.stderr.write(`${r.runs.map((s) => s.toFixed(2)).join(' / ')} s\n`);
    }
  }

  if (results.size > 0) {
    const rows: string[][] = [['join', 'path', 'records', 'records/s', 'vs loop', 'per CPU-s', 'vs loop', 'runs (s)', 'results', 'late', 'same as loop', 'peak RSS']];
    const rate = (r: CaseResult | undefined): number | undefined => r && r.records / best(r.runs);
    const cpuRate = (r: CaseResult | undefined): number | undefined => r && r.records / best(r.cpuRuns);
    const ratio = (x: number | undefined, base: number | undefined): string => (x !== undefined && base !== undefined ? pct(x / base) : '?');
    for (const kind of KINDS) {
      const loop = results.get(caseName(kind, 'loop'));
      let first = true;
      for (const path of PATHS) {
        const r = results.get(caseName(kind, path));
        if (r === undefined) continue;
        const isLoop = path === 'loop';
        rows.push([
          first ? kind : '',
          path,
          fmtInt(r.records),
          fmtRate(rate(r)!),
          isLoop ? '(baseline)' : ratio(rate(r), rate(loop)),
          fmtRate(cpuRate(r)!),
          isLoop ? '' : ratio(cpuRate(r), cpuRate(loop)),
          r.runs.map((s) => s.toFixed(2)).join('/'),
          fmtInt(r.outputs),
          fmtInt(r.late),
          isLoop ? r.digest : r.verified ? `yes ${r.digest}` : 'NO',
          fmtMb(r.peakRss),
        ]);
        first = false;
      }
    }
    console.log(table(rows));
    console.log('');
    for (const kind of KINDS) console.log(`${kind}: ${describeJoin(kind)}; stream time.`);
    console.log('records/s: input records (both inputs) over the best timed run (wall clock); per CPU-s: over its CPU time, all threads. Ratios: against the loop of the same join, in this run.');
    console.log('loop: plain JS per partition (stream-table: a sorted array of versions per key and a heap of waiting orders; stream-stream: per key the open records of each side and a heap by window end), parsing the JSON values and encoding the results as tidemark writes them.');
    console.log('memory: MemoryLog + Application, catch-up, in-memory stores; embedded: EmbeddedLog (LMDB) in a temp dir, lmdb stores, exactly-once commits every 100 ms.');
    console.log("same as loop: every result (partition, key, value, timestamp, order) and the late-record count equal the loop's on the same records; the digest covers the results. Records still waiting when the input ends (the last grace of event time) yield nothing, in both.");
    if (embeddedRecords !== records) console.log(`(the embedded cases run ${fmtInt(embeddedRecords)} records: their ratio is against the loop's rate on ${fmtInt(records)}.)`);
  }

  for (const long of longs) printLong(long);

  const load1 = loadavg()[0]!;
  console.log(
    `\n(joins bench took ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${cpus().length} CPUs` +
      `${Math.max(load0, load1) > cpus().length ? ': other processes competed for the CPU, wall-clock figures are noisy' : ''})`,
  );
}

const caseArg = process.argv.indexOf('--case');
if (caseArg >= 0) await child(process.argv[caseArg + 1] ?? '');
else await parent();
