/**
 * The memory run: tumbling counts (10 s, grace 5 s, `emit: 'final'`) on the
 * in-memory path over a long input generated on the fly, in chunks appended
 * to the log while one run of the application goes on. After each chunk is
 * processed the tasks commit, and the window store's entry count (the
 * committed state, through `log.stateBackend(appId, task).count(store)`) and
 * the process's RSS are recorded: the store must stay bounded however long
 * the input grows (DESIGN 4.4's retention: windows are purged once closed).
 *
 * The log is a `TrimmedMemoryLog`: consumed input is dropped, outputs and
 * audit entries are counted rather than kept.
 */
import { Application } from '../src/index.ts';
import { APP_ID, OUTPUT, STORE, WINDOWS, topology } from './windows-cases.ts';
import { INPUT, ReadingGenerator } from './windows-workload.ts';
import { applicationInternals } from '../src/runtime/application.ts';
import { TrimmedMemoryLog } from './trimmed-log.ts';

export interface LongCheckpoint {
  readonly records: number;
  /** Event time covered so far, hours. */
  readonly eventHours: number;
  readonly storeEntries: number;
  readonly outputs: number;
  readonly late: number;
  /** RSS, V8 heap and off-heap memory (array buffers, native) after a full GC, bytes. */
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly seconds: number;
}

export interface LongResult {
  readonly records: number;
  readonly partitions: number;
  readonly checkpoints: readonly LongCheckpoint[];
  readonly seconds: number;
  readonly peakRss: number;
  readonly audited: number;
  /** Emitted counts + counts still open in the store + late records: must equal the input. */
  readonly conservation: { readonly emitted: number; readonly open: number; readonly late: number };
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Runs `records` records through one run of the application, `checkpoints` times measuring the store and RSS. */
export async function runLong(records: number, seed: number, partitions: number, checkpoints: number): Promise<LongResult> {
  // Sum of the counts of the emitted windows.
  let outputCountSum = 0;
  const log = new TrimmedMemoryLog([INPUT], OUTPUT, (r) => (outputCountSum += Number(Buffer.from(r.value!).toString('utf8'))));
  log.ensureStream(INPUT, partitions);
  const app = new Application(topology('tumbling', 'in-memory'), { applicationId: APP_ID, log });
  const run = applicationInternals(app).start({ mode: 'catch-up' });
  const tasks = run.stages.flat();
  const gen = new ReadingGenerator(seed, partitions);
  const chunk = 50_000;
  const every = Math.max(chunk, Math.ceil(records / checkpoints / chunk) * chunk);
  const storeEntries = (): number => tasks.reduce((n, t) => n + log.stateBackend(APP_ID, t.id).count(STORE), 0);
  const lateSoFar = (): number => tasks.reduce((n, t) => n + t.counters.lateRecords, 0);
  const out: LongCheckpoint[] = [];
  const t0 = performance.now();
  let first = Infinity;
  while (gen.generated < records) {
    const batch = gen.chunk(Math.min(chunk, records - gen.generated));
    if (first === Infinity) first = batch[0]!.eventTime!;
    log.appendSync(batch);
    for (const t of tasks) t.startCatchUp('external');
    await run.loop.runUntil(tasks, () => tasks.every((t) => t.isCaughtUp()));
    if (gen.generated % every === 0 || gen.generated === records) {
      run.loop.commit();
      gc();
      const mem = process.memoryUsage();
      out.push({
        records: gen.generated,
        eventHours: (batch[batch.length - 1]!.eventTime! - first) / 3_600_000,
        storeEntries: storeEntries(),
        outputs: log.outputs,
        late: lateSoFar(),
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        external: mem.external,
        seconds: (performance.now() - t0) / 1000,
      });
    }
  }
  run.loop.commit();
  const seconds = (performance.now() - t0) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  let open = 0;
  for (const t of tasks) for (const [, v] of log.stateBackend(APP_ID, t.id).entries(STORE)) open += Number(Buffer.from(v).toString('utf8'));
  const summary = run.summary();
  if (summary.processed !== records) throw new Error(`windows bench: the memory run processed ${summary.processed} of ${records} records`);
  const conservation = { emitted: outputCountSum, open, late: summary.lateRecords };
  if (conservation.emitted + conservation.open + conservation.late !== records) {
    throw new Error(`windows bench: the memory run lost records: emitted ${conservation.emitted} + open ${conservation.open} + late ${conservation.late} != ${records}`);
  }
  return { records, partitions, checkpoints: out, seconds, peakRss, audited: log.audited, conservation };
}

export const LONG_WINDOWS = WINDOWS.tumbling;
