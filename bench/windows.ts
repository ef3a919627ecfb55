/**
 * `npm run bench`, windows part (issue 4): tumbling, hopping and session
 * counts over 10 000 keys with 5 % out-of-order records, each against a
 * hand-written loop computing the same results, measured in one run; then a
 * long run showing that the window store stays bounded. Tumbling and hopping
 * also run in watermark mode (issue 5), against both the stream-time run of
 * the same workload and the loop, which compute the same results.
 *
 * Each case runs in its own child process, so that its peak RSS is its own
 * (the generated workload included); the parent starts them in turn and
 * prints the tables. Every tidemark case checks its output against the
 * hand-written loop's, record by record, and fails the bench on a
 * difference. Environment:
 *   BENCH_RECORDS            records of the loop and in-memory cases (default 200 000)
 *   BENCH_EMBEDDED_RECORDS   records of the embedded-log cases (default 50 000)
 *   BENCH_LONG_RECORDS       records of the memory run (default 2 500 000; 10 000 000 for the full run)
 *   BENCH_PARTITIONS         input partitions, one task each (default 4)
 *   BENCH_SEED               workload seed (default 42)
 *   BENCH_REPEATS            timed runs of the loop and in-memory cases, the best is reported (default 2)
 *   BENCH_EMBEDDED_REPEATS   the same for the embedded cases (default 1)
 *   BENCH_WINDOW_CASES       comma-separated case names or prefixes (`hopping`, `session/memory`, `tumbling-watermark`, `long`; default all)
 * Case names: `<kind>/<path>`, and `<kind>-watermark/<path>` for watermark mode; a ratio is printed when its baseline case ran too.
 * `node bench/windows.ts --case hopping/memory` runs one case in this process
 * (for profiling: `node --cpu-prof bench/windows.ts --case hopping/memory`).
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  KINDS,
  PATHS,
  WATERMARK_INTERVAL_MS,
  WATERMARK_KINDS,
  WATERMARK_PATHS,
  caseName,
  describeWatermarkWindows,
  describeWindows,
  runCase,
  type CaseResult,
  type Kind,
  type Path,
} from './windows-cases.ts';
import { runLong, type LongResult } from './windows-long.ts';
import { FAR_DELAY_MS, FAR_SHARE, KEYS, NEAR_DELAY_MS, OUT_OF_ORDER, generate } from './windows-workload.ts';
import { envInt } from './env.ts';
import { best, fmtInt, fmtMb, fmtRate, pct, spawnCase, table } from './report.ts';

const RESULT_TAG = '@@windows-bench-result ';

const records = envInt('BENCH_RECORDS', 200_000);
const embeddedRecords = envInt('BENCH_EMBEDDED_RECORDS', 50_000);
const longRecords = envInt('BENCH_LONG_RECORDS', 2_500_000);
const partitions = envInt('BENCH_PARTITIONS', 4);
const seed = envInt('BENCH_SEED', 42);
const repeats = envInt('BENCH_REPEATS', 2);
const embeddedRepeats = envInt('BENCH_EMBEDDED_REPEATS', 1);
const LONG_CHECKPOINTS = 10;

interface CaseSpec {
  readonly kind: Kind;
  readonly path: Path;
  readonly watermark: boolean;
}

// A watermark-mode case runs right after the stream-time case it is compared with.
const CASE_SPECS: ReadonlyMap<string, CaseSpec> = new Map(
  KINDS.flatMap((kind) =>
    PATHS.flatMap((path) => {
      const specs: CaseSpec[] = [{ kind, path, watermark: false }];
      if (WATERMARK_KINDS.includes(kind) && WATERMARK_PATHS.includes(path)) specs.push({ kind, path, watermark: true });
      return specs.map((c) => [caseName(c.kind, c.path, c.watermark ? 'watermark' : 'stream-time'), c] as const);
    }),
  ),
);
const ALL_CASES: readonly string[] = [...CASE_SPECS.keys(), 'long'];

function selected(): string[] {
  const want = process.env['BENCH_WINDOW_CASES']?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!want || want.length === 0) return [...ALL_CASES];
  const chosen = ALL_CASES.filter((c) => want.some((w) => c === w || c.startsWith(w)));
  if (chosen.length === 0) throw new Error(`BENCH_WINDOW_CASES=${want.join(',')} matches no case; cases: ${ALL_CASES.join(', ')}`);
  return chosen;
}

async function child(name: string): Promise<void> {
  let result: CaseResult | LongResult;
  if (name === 'long') result = await runLong(longRecords, seed, partitions, LONG_CHECKPOINTS);
  else {
    const spec = CASE_SPECS.get(name);
    if (spec === undefined) throw new Error(`no case ${name}; cases: ${ALL_CASES.join(', ')}`);
    const embedded = spec.path === 'embedded';
    const options = { records: embedded ? embeddedRecords : records, seed, partitions, repeats: embedded ? embeddedRepeats : repeats };
    result = await runCase(spec.kind, spec.path, options, spec.watermark ? 'watermark' : 'stream-time');
  }
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

async function parent(): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const cases = selected();
  const sample = generate(Math.min(records, 200_000), seed, partitions);
  const started = Date.now();
  const load0 = loadavg()[0]!;
  console.log(`tidemark windows bench — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${load0.toFixed(1)}`);
  console.log(
    `workload: sensor readings, seed ${seed}, ${fmtInt(KEYS)} skewed keys over ${partitions} partitions (one task each), event time +1 ms per record on average; ` +
      `${OUT_OF_ORDER * 100} % pushed back by up to ${NEAR_DELAY_MS / 1000} s (${(1 - FAR_SHARE) * 100} % of them) or ${FAR_DELAY_MS / 1000} s ` +
      `(${pct(sample.outOfOrder / sample.count)} below their partition's time in a ${fmtInt(sample.count)} sample)`,
  );
  console.log(
    `${fmtInt(records)} records for the loops and in-memory cases (best of ${repeats}), ${fmtInt(embeddedRecords)} for the embedded cases (best of ${embeddedRepeats}); ` +
      `each case in its own child process, peak RSS is the child's own (workload included)\n`,
  );

  const results = new Map<string, CaseResult>();
  let long: LongResult | undefined;
  for (const name of cases) {
    process.stderr.write(`  running ${name} … `);
    const r = spawnCase<CaseResult | LongResult>(script, name, RESULT_TAG);
    if (r === undefined) continue;
    if (name === 'long') {
      long = r as LongResult;
      process.stderr.write(`${long.seconds.toFixed(1)} s\n`);
    } else {
      const c = r as CaseResult;
      results.set(name, c);
      process.stderr.write(`${c.runs.map((s) => s.toFixed(2)).join(' / ')} s\n`);
    }
  }

  if (results.size > 0) {
    const rows: string[][] = [
      ['windows', 'path', 'records', 'records/s', 'vs loop', 'vs stream time', 'per CPU-s', 'vs loop', 'vs stream time', 'runs (s)', 'outputs', 'late', 'watermark records', 'same as loop', 'peak RSS'],
    ];
    const rate = (r: CaseResult | undefined): number | undefined => r && r.records / best(r.runs);
    const cpuRate = (r: CaseResult | undefined): number | undefined => r && r.records / best(r.cpuRuns);
    const ratio = (x: number | undefined, base: number | undefined): string => (x !== undefined && base !== undefined ? pct(x / base) : '?');
    const blocks = KINDS.flatMap((kind) => [{ kind, watermark: false }, ...(WATERMARK_KINDS.includes(kind) ? [{ kind, watermark: true }] : [])]);
    for (const { kind, watermark } of blocks) {
      const loop = results.get(caseName(kind, 'loop'));
      let first = true;
      for (const path of PATHS) {
        const name = caseName(kind, path, watermark ? 'watermark' : 'stream-time');
        const r = results.get(name);
        if (r === undefined) continue;
        const isLoop = path === 'loop';
        // Watermark mode: the stream-time case of the same kind and path ran on the same records and must have written the same outputs.
        const streamTime = watermark ? results.get(caseName(kind, path)) : undefined;
        const sameAsStreamTime = streamTime === undefined || (streamTime.digest === r.digest && streamTime.late === r.late && streamTime.records === r.records);
        if (!sameAsStreamTime) {
          console.error(`windows bench: ${name} (digest ${r.digest}, ${r.late} late) differs from ${caseName(kind, path)} (digest ${streamTime!.digest}, ${streamTime!.late} late)`);
          process.exitCode = 1;
        }
        rows.push([
          first ? (watermark ? `${kind} (watermark)` : kind) : '',
          path,
          fmtInt(r.records),
          fmtRate(rate(r)!),
          isLoop ? '(baseline)' : ratio(rate(r), rate(loop)),
          watermark ? ratio(rate(r), rate(streamTime)) : '',
          fmtRate(cpuRate(r)!),
          isLoop ? '' : ratio(cpuRate(r), cpuRate(loop)),
          watermark ? ratio(cpuRate(r), cpuRate(streamTime)) : '',
          r.runs.map((s) => s.toFixed(2)).join('/'),
          fmtInt(r.outputs),
          fmtInt(r.late),
          watermark ? fmtInt(r.watermarkRecords) : '',
          isLoop ? r.digest : r.verified && sameAsStreamTime ? `yes ${r.digest}` : 'NO',
          fmtMb(r.peakRss),
        ]);
        first = false;
      }
    }
    console.log(table(rows));
    console.log('');
    for (const kind of KINDS) console.log(`${kind}: ${describeWindows(kind)}; count per key, emit final (one result per window when it closes), late records dropped.`);
    for (const kind of WATERMARK_KINDS) console.log(`${kind} (watermark): ${describeWatermarkWindows(kind)}; the same results as ${kind}.`);
    console.log('records/s: input records over the best timed run (wall clock); per CPU-s: over its CPU time, all threads. Ratios: against the loop of the same window kind, and (watermark mode) against the stream-time case of the same kind and path, all in this run.');
    console.log('loop: plain JS per partition (Map of windows, or per-key session lists + a heap), decoding keys and encoding the results as tidemark writes them.');
    console.log('memory: MemoryLog + Application, catch-up, in-memory window store; embedded: EmbeddedLog (LMDB) in a temp dir, lmdb window store, exactly-once commits every 100 ms.');
    console.log('same as loop: every output record (partition, windowed key, count, timestamp, order) and the late-record count equal the loop\'s on the same records; the digest covers the outputs.');
    console.log(
      `watermark mode: each task's watermark is its one partition's, maxTimestamp − grace − 1, so windows close when they do on stream time with that grace; ` +
        `watermark records: the control records the tasks wrote into the output stream (one per output partition each time a task's watermark crosses a multiple of ${WATERMARK_INTERVAL_MS / 1000} s, and at the clean stop), skipped by the comparison.`,
    );
    if (embeddedRecords !== records) console.log(`(the embedded cases run ${fmtInt(embeddedRecords)} records: their ratio is against the loop's rate on ${fmtInt(records)}.)`);
  }

  if (long !== undefined) {
    console.log(`\nmemory run: ${describeWindows('tumbling')}, in-memory path, ${fmtInt(long.records)} records generated on the fly in chunks of 50 000 appended to the log during one run, ${long.partitions} tasks`);
    const rows: string[][] = [['records', 'event time', 'store entries', 'windows emitted', 'late', 'RSS', 'heap used', 'off-heap', 'elapsed']];
    for (const c of long.checkpoints) {
      rows.push([fmtInt(c.records), `${c.eventHours.toFixed(2)} h`, fmtInt(c.storeEntries), fmtInt(c.outputs), fmtInt(c.late), fmtMb(c.rss), fmtMb(c.heapUsed), fmtMb(c.external), `${c.seconds.toFixed(1)} s`]);
    }
    console.log(table(rows));
    const cps = long.checkpoints;
    const half = cps.slice(Math.floor(cps.length / 2));
    const entries = cps.map((c) => c.storeEntries);
    const rss = half.map((c) => c.rss);
    console.log(
      `store entries over the run: ${fmtInt(Math.min(...entries))} – ${fmtInt(Math.max(...entries))} (committed state, all tasks, after each checkpoint's commit); ` +
        `RSS over the second half: ${fmtMb(Math.min(...rss))} – ${fmtMb(Math.max(...rss))}; peak RSS ${fmtMb(long.peakRss)}; ` +
        `${fmtRate(long.records / long.seconds)} overall`,
    );
    const c = long.conservation;
    console.log(`check: emitted counts ${fmtInt(c.emitted)} + still open ${fmtInt(c.open)} + late ${fmtInt(c.late)} = ${fmtInt(c.emitted + c.open + c.late)} = input records.`);
    console.log(`(RSS, heap and off-heap memory after a full GC. The log drops input once committed as consumed, and counts outputs (${fmtInt(cps.at(-1)?.outputs ?? 0)}) and audit entries (${fmtInt(long.audited)}) instead of keeping them: it stands in for a broker.)`);
  }

  const load1 = loadavg()[0]!;
  console.log(
    `\n(windows bench took ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${cpus().length} CPUs` +
      `${Math.max(load0, load1) > cpus().length ? ': other processes competed for the CPU, wall-clock figures are noisy' : ''})`,
  );
}

const caseArg = process.argv.indexOf('--case');
if (caseArg >= 0) await child(process.argv[caseArg + 1] ?? '');
else await parent();
