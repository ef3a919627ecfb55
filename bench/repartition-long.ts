/**
 * `npm run bench`, repartition memory part (issue 9): a catch-up run on the
 * embedded LMDB log through a repartition and windows —
 * readings (4 partitions) → groupBy(a new key, 1 000 groups) → internal
 * repartition stream → tumbling counts (10 s, grace 5 s, `emit: 'final'`,
 * lmdb store) → window-counts — printing the process's memory (RSS, V8 heap,
 * off-heap, after a full GC) at checkpoints as each stage's input grows. A
 * catch-up holds a bounded amount of memory whatever the input's length:
 * the figures of each stage must stay flat.
 *
 * The input (the windows bench's sensor readings: skewed keys, so the
 * partitions differ in size and the tasks of the first stage drift apart in
 * event time) is generated on the fly and appended to the log by a child
 * process before the run, so that the run's memory is its own.
 * Environment:
 *   BENCH_REPARTITION_RECORDS  input records (default 1 000 000; 10 000 000 for the full run)
 *   BENCH_PARTITIONS           input partitions (default 4)
 *   BENCH_SEED                 workload seed (default 42)
 * Run with `node --expose-gc` (as `npm run bench` does), or the figures are taken without a full GC first.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, EmbeddedLog, Serdes, StreamsBuilder, TimeWindows } from '../src/index.ts';
import type { Topology } from '../src/runtime/topology.ts';
import { envInt } from './env.ts';
import { INPUT, ReadingGenerator } from './windows-workload.ts';
import { applicationInternals } from '../src/runtime/application.ts';

const OUTPUT = 'group-counts';
const STORE = 'group-windows';
const APP_ID = 'repartition-bench';
const WINDOW = { size: 10_000, grace: 5_000 } as const;
const CHECKPOINTS = 10;

const records = envInt('BENCH_REPARTITION_RECORDS', 1_000_000);
const partitions = envInt('BENCH_PARTITIONS', 4);
const seed = envInt('BENCH_SEED', 42);

/** `sensor-01234` → `sensor-0123`: 1 000 groups, so most records move to another partition. */
const groupOf = (sensor: string): string => sensor.slice(0, 11);

function topology(): Topology {
  const b = new StreamsBuilder();
  b.stream<string, Uint8Array | null>(INPUT, { key: Serdes.string(), value: Serdes.bytes() })
    .groupBy((sensor) => groupOf(sensor), { key: Serdes.string() })
    .windowedBy(TimeWindows.ofSize(WINDOW.size).grace(WINDOW.grace))
    .count({ emit: 'final', store: 'lmdb', name: STORE })
    .to(OUTPUT);
  return b.build();
}

interface Checkpoint {
  /** Sub-topology: 0 reads the input and writes the repartition stream, 1 counts the windows. */
  readonly stage: number;
  /** Records the stage has processed so far. */
  readonly processed: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** Off-heap memory: array buffers and native allocations V8 knows of. */
  readonly external: number;
  /** Linux: the RSS's anonymous part (heaps, buffers) and its file-backed part (LMDB's memory map); undefined elsewhere. */
  readonly rssAnon: number | undefined;
  readonly rssFile: number | undefined;
  readonly seconds: number;
}

/** RssAnon and RssFile of /proc/self/status, bytes: LMDB maps its file, and the pages read count in the RSS without being the process's memory. */
function rssParts(): { rssAnon: number | undefined; rssFile: number | undefined } {
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return { rssAnon: undefined, rssFile: undefined };
  }
  const kb = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m === null ? undefined : Number(m[1]) * 1024;
  };
  return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
}

const gc = (globalThis as { gc?: () => void }).gc;
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMb = (b: number): string => `${(b / 1024 / 1024).toFixed(0)} MB`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The child process's part: appends the input to the log in `dir`. */
async function produce(dir: string): Promise<void> {
  const log = await EmbeddedLog.open({ dataDir: dir });
  log.ensureStream(INPUT, partitions);
  const gen = new ReadingGenerator(seed, partitions);
  while (gen.generated < records) await log.append(gen.chunk(Math.min(50_000, records - gen.generated)));
  await log.close();
}

/** Appends the input in a child process; returns the seconds it took. */
function produceInChild(dir: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--produce', dir], { encoding: 'utf8', env: process.env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`repartition bench: producing the input failed (exit ${r.status ?? r.signal})`);
  return (performance.now() - t0) / 1000;
}

/** Counts the records `log` returns from reads of each stream: a share read again shows there. */
function countReads(log: EmbeddedLog): Map<string, number> {
  const counts = new Map<string, number>();
  const read = log.read.bind(log);
  log.read = (stream, partition, from, max) => {
    const records = read(stream, partition, from, max);
    counts.set(stream, (counts.get(stream) ?? 0) + records.length);
    return records;
  };
  return counts;
}

/** Runs the application in catch-up, sampling memory each time a stage has processed another tenth of the input. */
async function run(log: EmbeddedLog): Promise<{ checkpoints: Checkpoint[]; seconds: number; processed: number; lateRecords: number; reads: Map<string, number> }> {
  const app = new Application(topology(), { applicationId: APP_ID, log });
  const reads = countReads(log);
  const every = Math.ceil(records / CHECKPOINTS);
  const next = [every, every];
  const checkpoints: Checkpoint[] = [];
  const t0 = performance.now();
  const sample = (stage: number, processed: number): void => {
    gc?.();
    const m = process.memoryUsage();
    checkpoints.push({ stage, processed, rss: m.rss, heapUsed: m.heapUsed, external: m.external, ...rssParts(), seconds: (performance.now() - t0) / 1000 });
  };
  const summary = await app.run({
    mode: 'catch-up',
    progressIntervalMs: 0,
    onProgress: () => {
      const byStage = [0, 0];
      for (const t of applicationInternals(app).tasks) byStage[t.subTopology.id] = (byStage[t.subTopology.id] ?? 0) + t.counters.processed;
      for (const stage of [0, 1]) {
        if (byStage[stage]! < next[stage]!) continue;
        sample(stage, byStage[stage]!);
        while (next[stage]! <= byStage[stage]!) next[stage]! += every;
      }
    },
  });
  if (summary.deadLettered > 0) throw new Error(`repartition bench: ${summary.deadLettered} records dead-lettered`);
  return { checkpoints, seconds: (performance.now() - t0) / 1000, processed: summary.processed, lateRecords: summary.lateRecords, reads };
}

/** The emitted counts' sum, the counts still open in the window stores, and a digest of the output stream. */
function results(log: EmbeddedLog): { emitted: number; open: number; outputs: number; digest: string } {
  const hash = createHash('sha256');
  let emitted = 0;
  let outputs = 0;
  for (let p = 0; p < (log.partitionCount(OUTPUT) ?? 0); p++) {
    const end = log.endOffset(OUTPUT, p);
    for (let from = 0; from < end; from += 50_000) {
      for (const r of log.read(OUTPUT, p, from, 50_000)) {
        hash.update(`${p} ${r.eventTime} `).update(r.key!).update(' ').update(r.value!).update('\n');
        emitted += Number(Buffer.from(r.value!).toString('utf8'));
        outputs++;
      }
    }
  }
  let open = 0;
  for (let p = 0; p < partitions; p++) {
    for (const [, v] of log.stateBackend(APP_ID, `1_${p}`).entries(STORE)) open += Number(Buffer.from(v).toString('utf8'));
  }
  return { emitted, open, outputs, digest: hash.digest('hex').slice(0, 12) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-repartition-bench-'));
  try {
    const produced = produceInChild(dir);
    const log = await EmbeddedLog.open({ dataDir: dir });
    gc?.();
    const base = { ...process.memoryUsage(), ...rssParts() };
    const r = await run(log);
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const out = results(log);
    await log.close();

    console.log(`\nrepartition memory run — Node ${process.version}: catch-up on the embedded log, ${fmtInt(records)} sensor readings (seed ${seed}, skewed keys) over ${partitions} partitions, appended by another process in ${produced.toFixed(0)} s before the run`);
    console.log(`  readings → groupBy(sensor → one of 1 000 groups) → repartition stream → tumbling ${WINDOW.size / 1000} s, grace ${WINDOW.grace / 1000} s, count (emit final, lmdb store) → ${OUTPUT}`);
    const rows: string[][] = [['stage', 'records processed', 'RSS', 'anonymous', 'file (LMDB map)', 'heap used', 'off-heap', 'elapsed']];
    const mb = (b: number | undefined): string => (b === undefined ? '?' : fmtMb(b));
    rows.push(['before', '0', fmtMb(base.rss), mb(base.rssAnon), mb(base.rssFile), fmtMb(base.heapUsed), fmtMb(base.external), '0.0 s']);
    for (const c of r.checkpoints) {
      rows.push([c.stage === 0 ? 'input' : 'windows', fmtInt(c.processed), fmtMb(c.rss), mb(c.rssAnon), mb(c.rssFile), fmtMb(c.heapUsed), fmtMb(c.external), `${c.seconds.toFixed(1)} s`]);
    }
    console.log(table(rows));
    for (const stage of [0, 1]) {
      const cs = r.checkpoints.filter((c) => c.stage === stage);
      const heap = cs.map((c) => c.heapUsed);
      const rss = cs.map((c) => c.rss);
      const anon = cs.map((c) => c.rssAnon ?? NaN);
      if (cs.length === 0) continue;
      console.log(
        `${stage === 0 ? 'input stage' : 'windows stage'} over ${cs.length} checkpoints: heap ${fmtMb(Math.min(...heap))} – ${fmtMb(Math.max(...heap))}, ` +
          `RSS ${fmtMb(Math.min(...rss))} – ${fmtMb(Math.max(...rss))}${anon.some(Number.isNaN) ? '' : `, of it anonymous ${fmtMb(Math.min(...anon))} – ${fmtMb(Math.max(...anon))}`}`,
      );
    }
    console.log(
      `peak RSS ${fmtMb(peakRss)}; ${fmtInt(r.processed)} records processed (both stages) in ${r.seconds.toFixed(1)} s; ${fmtInt(out.outputs)} windows emitted, output digest ${out.digest}` +
        `${gc === undefined ? '; (no --expose-gc: figures without a full GC first)' : '; figures after a full GC'}`,
    );
    const repartitionReads = [...r.reads].filter(([stream]) => stream.endsWith('-repartition')).reduce((n, [, c]) => n + c, 0);
    console.log(`reads: ${fmtInt(r.reads.get(INPUT) ?? 0)} input records, ${fmtInt(repartitionReads)} repartition records (${(repartitionReads / records).toFixed(2)} × the stream: shares that drifted apart are read again)`);
    console.log(`check: emitted counts ${fmtInt(out.emitted)} + still open ${fmtInt(out.open)} + late ${fmtInt(r.lateRecords)} = ${fmtInt(out.emitted + out.open + r.lateRecords)} = input records.`);
    if (r.processed !== 2 * records) throw new Error(`repartition bench: processed ${r.processed} records, expected ${2 * records} (each record once in each stage)`);
    if (out.emitted + out.open + r.lateRecords !== records) throw new Error(`repartition bench: records lost: emitted ${out.emitted} + open ${out.open} + late ${r.lateRecords} != ${records}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const produceArg = process.argv.indexOf('--produce');
if (produceArg >= 0) await produce(process.argv[produceArg + 1]!);
else await main();
