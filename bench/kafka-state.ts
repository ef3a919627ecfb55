/**
 * `npm run bench`, Kafka state part: task state larger than the Node heap.
 * A keyed aggregation on Kafka (exactly-once) over N distinct keys, each
 * with a value of about 200 B, runs in a child process whose heap is capped
 * (--max-old-space-size=BENCH_KAFKA_STATE_HEAP_MB): its state is in LMDB on
 * local disk (KafkaLogOptions.stateDir), the changelog on Kafka. Reported per
 * N: the run's time, its peak RSS and heap; then a restart of the same
 * application on the same state dir after 1 % more input, with the
 * changelog records it restored (only the tail past the local store) against
 * those in the changelog. One development broker, started here.
 *
 * Environment:
 *   BENCH_KAFKA_STATE_KEYS     comma-separated key counts (default 500000,1000000,2000000)
 *   BENCH_KAFKA_STATE_HEAP_MB  the child's --max-old-space-size (default 256)
 * Without Java 17+ (and Maven) it prints why and exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, Serdes, StreamsBuilder, type AppendRecord } from '../src/index.ts';
import { KafkaLog } from '../src/kafka.ts';
import { partitionForKey } from '../src/semantics.ts';
import { kafkaPrerequisites, startKafkaBroker } from '../src/dev-broker/index.ts';
import { envInt } from './env.ts';

const PARTITIONS = 4;
const VALUE_BYTES = 200;
const APPEND_CHUNK = 5000;
const IN = 'bench-state-in';
const OUT = 'bench-state-out';
const APP = 'bench-state';
const heapMb = envInt('BENCH_KAFKA_STATE_HEAP_MB', 256);
const sizes = (process.env['BENCH_KAFKA_STATE_KEYS'] ?? '500000,1000000,2000000').split(',').map((s) => Number(s.replace(/[_\s]/g, '')));

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** The latest reading per key: a store of one ~200 B value per distinct key. */
function topology(): ReturnType<StreamsBuilder['build']> {
  const b = new StreamsBuilder();
  b.stream<string, string>(IN, { key: Serdes.string(), value: Serdes.string() })
    .groupByKey()
    .aggregate(() => '', (_k, v, last) => (v > last ? v : last), { value: Serdes.string() })
    .filter((_k, v) => v.startsWith('#'))
    .to(OUT);
  return b.build();
}

/** Records `from` to `to` (exclusive), record i of key `key-i mod keys`, a 200 B value. */
function* input(from: number, to: number, keys: number): Generator<AppendRecord[]> {
  const encoder = new TextEncoder();
  const pad = 'x'.repeat(VALUE_BYTES);
  for (let i = from; i < to; i += APPEND_CHUNK) {
    const chunk: AppendRecord[] = [];
    for (let j = i; j < Math.min(to, i + APPEND_CHUNK); j++) {
      const key = encoder.encode(`key-${String(j % keys).padStart(8, '0')}`);
      chunk.push({ stream: IN, partition: partitionForKey(key, PARTITIONS), key, value: encoder.encode(`${String(j).padStart(10, '0')}${pad}`.slice(0, VALUE_BYTES)), eventTime: 1_700_000_000_000 + j });
    }
    yield chunk;
  }
}

/** The child: appends records [from, to) of `keys` keys, then runs a catch-up on `stateDir`, sampling memory; prints one JSON line. */
async function child(bootstrap: string, stateDir: string, keys: number, from: number, to: number): Promise<void> {
  let restored = 0;
  let restoreTotal = 0;
  const log = await KafkaLog.open({ bootstrap, stateDir, onRestore: (p) => p.finished && ((restored += p.done), (restoreTotal += p.total)) });
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const sampler = setInterval(sample, 100);
  try {
    await log.createStreams([{ stream: IN, partitions: PARTITIONS }]);
    const t0 = Date.now();
    for (const chunk of input(from, to, keys)) await log.append(chunk);
    const appendMs = Date.now() - t0;
    const t1 = Date.now();
    const summary = await new Application(topology(), { applicationId: APP, log }).run({ mode: 'catch-up', commitIntervalMs: 1000, fetchSize: 2000 });
    const runMs = Date.now() - t1;
    sample();
    process.stdout.write(`${JSON.stringify({ appendMs, runMs, processed: summary.processed, commits: summary.commits, peakRss, peakHeap, restored, restoreTotal })}\n`);
  } finally {
    clearInterval(sampler);
    await log.close();
  }
}

interface ChildResult {
  readonly appendMs: number;
  readonly runMs: number;
  readonly processed: number;
  readonly commits: number;
  readonly peakRss: number;
  readonly peakHeap: number;
  readonly restored: number;
  readonly restoreTotal: number;
}

function runChild(args: string[]): Promise<ChildResult | { failed: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, new URL(import.meta.url).pathname, 'child', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    c.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    c.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as ChildResult);
      else resolve({ failed: `exit ${code}: ${(/(FATAL ERROR[^\n]*|Error[^\n]*)/.exec(err)?.[1] ?? err.trim().split('\n').at(-1) ?? '').slice(0, 200)}` });
    });
  });
}

async function changelogRecords(bootstrap: string): Promise<number> {
  const log = await KafkaLog.open({ bootstrap });
  try {
    await log.refreshStreams();
    let n = 0;
    for (const s of log.streams().filter((s) => s.startsWith(`${APP}-`) && s.endsWith('-changelog'))) {
      await log.refreshEnds([s]);
      for (let p = 0; p < (log.partitionCount(s) ?? 0); p++) n += log.endOffset(s, p);
    }
    return n;
  } finally {
    await log.close();
  }
}

async function deleteTopics(bootstrap: string): Promise<void> {
  const { Admin } = await import('@platformatic/kafka');
  const admin = new Admin({ clientId: 'tidemark-bench', bootstrapBrokers: [bootstrap] });
  try {
    const topics = (await admin.listTopics()).filter((n) => !n.startsWith('__'));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    while ((await admin.listTopics()).some((n) => topics.includes(n))) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await admin.close();
  }
}

async function main(): Promise<void> {
  const prerequisites = kafkaPrerequisites();
  if (!prerequisites.ok) {
    console.log(`tidemark kafka state bench skipped: ${prerequisites.reason}`);
    return;
  }
  const started = Date.now();
  const load0 = loadavg()[0]!;
  console.log(`tidemark kafka state bench — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${load0.toFixed(1)}`);
  console.log(`a keyed aggregation (latest value per key) over N distinct keys of ${VALUE_BYTES} B values, ${PARTITIONS} partitions, exactly-once on one development broker; each run in a child process with --max-old-space-size=${heapMb}\n`);
  const broker = await startKafkaBroker({});
  const rows: string[][] = [['keys', 'run', 'time', 'rec/s', 'peak RSS', 'peak heap', 'restored / changelog']];
  try {
    for (const keys of sizes) {
      await deleteTopics(broker.bootstrap);
      const stateDir = mkdtempSync(join(tmpdir(), 'tidemark-bench-state-'));
      try {
        process.stderr.write(`  ${fmtInt(keys)} keys: first run … `);
        const first = await runChild([broker.bootstrap, stateDir, String(keys), '0', String(keys)]);
        process.stderr.write(`${'failed' in first ? first.failed : `${(first.runMs / 1000).toFixed(1)} s`}\n`);
        if ('failed' in first) {
          rows.push([fmtInt(keys), 'first', first.failed, '', '', '', '']);
          continue;
        }
        const changelog = await changelogRecords(broker.bootstrap);
        rows.push([fmtInt(keys), 'first', `${(first.runMs / 1000).toFixed(1)} s`, fmtInt(first.processed / (first.runMs / 1000)), mb(first.peakRss), mb(first.peakHeap), `${fmtInt(first.restored)} / 0`]);
        process.stderr.write(`  ${fmtInt(keys)} keys: restart after 1 % more input … `);
        const more = Math.max(1, Math.floor(keys / 100));
        const again = await runChild([broker.bootstrap, stateDir, String(keys), String(keys), String(keys + more)]);
        process.stderr.write(`${'failed' in again ? again.failed : `${(again.runMs / 1000).toFixed(1)} s`}\n`);
        if ('failed' in again) rows.push([fmtInt(keys), 'restart', again.failed, '', '', '', '']);
        else rows.push([fmtInt(keys), 'restart', `${(again.runMs / 1000).toFixed(1)} s`, fmtInt(again.processed / (again.runMs / 1000)), mb(again.peakRss), mb(again.peakHeap), `${fmtInt(again.restored)} / ${fmtInt(changelog)}`]);
        // Another machine: an empty state dir, the whole changelog restored.
        const before = await changelogRecords(broker.bootstrap);
        const fresh = mkdtempSync(join(tmpdir(), 'tidemark-bench-state-'));
        try {
          process.stderr.write(`  ${fmtInt(keys)} keys: new machine after 1 % more … `);
          const moved = await runChild([broker.bootstrap, fresh, String(keys), String(keys + more), String(keys + 2 * more)]);
          process.stderr.write(`${'failed' in moved ? moved.failed : `${(moved.runMs / 1000).toFixed(1)} s`}\n`);
          if ('failed' in moved) rows.push([fmtInt(keys), 'new machine', moved.failed, '', '', '', '']);
          else rows.push([fmtInt(keys), 'new machine', `${(moved.runMs / 1000).toFixed(1)} s`, fmtInt(moved.processed / (moved.runMs / 1000)), mb(moved.peakRss), mb(moved.peakHeap), `${fmtInt(moved.restored)} / ${fmtInt(before)}`]);
        } finally {
          rmSync(fresh, { recursive: true, force: true });
        }
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
  } finally {
    await broker.stop();
    rmSync(broker.dataDir, { recursive: true, force: true });
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((c, j) => (j < 2 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log(`\ntime: the catch-up run (its input appended before); restored / changelog: changelog records the run restored into LMDB, against the changelog's offsets before it (a restart restores only the tail its own last commit did not apply, a new machine all of it; the changelog's offsets count transaction markers too).`);
  console.log(`(kafka state bench took ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)})`);
}

if (process.argv[2] === 'child') {
  const [bootstrap, stateDir, keys, from, to] = process.argv.slice(3);
  await child(bootstrap!, stateDir!, Number(keys), Number(from), Number(to));
} else await main();
