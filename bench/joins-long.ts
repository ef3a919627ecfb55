/**
 * The joins' memory runs: each join of the benchmark on the in-memory path
 * over a long input generated on the fly, in chunks appended to the log
 * while one run of the application goes on. At checkpoints the tasks
 * commit, and the entry counts of the join's store (waiting records, or the
 * open records of both streams) and of the versioned table's store (its
 * versions and their purge index), and the process's RSS, are recorded:
 * they must stay bounded however long the input grows — waiting records
 * leave when joined, stream records when their join window closes, versions
 * once older than the history horizon.
 *
 * The log is a `TrimmedMemoryLog`: consumed input is dropped, outputs and
 * audit entries are counted rather than kept.
 */
import { Application } from '../src/index.ts';
import { applicationInternals } from '../src/runtime/application.ts';
import { APP_ID, OUTPUT, STORES, topology } from './joins-cases.ts';
import { INPUTS, START, generator, type JoinKind } from './joins-workload.ts';
import { TrimmedMemoryLog } from './trimmed-log.ts';

export interface LongCheckpoint {
  readonly records: number;
  /** Event time covered so far, hours. */
  readonly eventHours: number;
  /** Entries of the join's store and (stream–table) of the table's store, all tasks, committed. */
  readonly joinEntries: number;
  readonly tableEntries: number;
  readonly outputs: number;
  readonly late: number;
  /** RSS, V8 heap and off-heap memory (array buffers, native) after a full GC, bytes. */
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly seconds: number;
}

export interface LongResult {
  readonly kind: JoinKind;
  readonly records: number;
  readonly partitions: number;
  readonly checkpoints: readonly LongCheckpoint[];
  readonly seconds: number;
  readonly peakRss: number;
  readonly audited: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Runs `records` records of `kind` through one run of the application, `checkpoints` times measuring its stores and RSS. */
export async function runLong(kind: JoinKind, records: number, seed: number, partitions: number, checkpoints: number): Promise<LongResult> {
  const log = new TrimmedMemoryLog(INPUTS[kind], OUTPUT);
  for (const s of INPUTS[kind]) log.ensureStream(s, partitions);
  const app = new Application(topology(kind, 'in-memory'), { applicationId: APP_ID, log });
  const run = applicationInternals(app).start({ mode: 'catch-up' });
  const tasks = run.stages.flat();
  const gen = generator(kind, seed, partitions);
  const chunk = 50_000;
  const every = Math.max(chunk, Math.ceil(records / checkpoints / chunk) * chunk);
  const stores = STORES[kind];
  const entries = (store: string | undefined): number => (store === undefined ? 0 : tasks.reduce((n, t) => n + log.stateBackend(APP_ID, t.id).count(store), 0));
  const lateSoFar = (): number => tasks.reduce((n, t) => n + t.counters.lateRecords, 0);
  const out: LongCheckpoint[] = [];
  const t0 = performance.now();
  while (gen.generated < records) {
    const batch = gen.chunk(Math.min(chunk, records - gen.generated), INPUTS[kind]);
    log.appendSync(batch);
    for (const t of tasks) t.startCatchUp('external');
    await run.loop.runUntil(tasks, () => tasks.every((t) => t.isCaughtUp()));
    if (gen.generated % every === 0 || gen.generated === records) {
      run.loop.commit();
      gc();
      const mem = process.memoryUsage();
      out.push({
        records: gen.generated,
        eventHours: (batch[batch.length - 1]!.eventTime! - START) / 3_600_000,
        joinEntries: entries(stores.join),
        tableEntries: entries('table' in stores ? stores.table : undefined),
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
  const summary = run.summary();
  if (summary.processed !== records) throw new Error(`joins bench: the ${kind} memory run processed ${summary.processed} of ${records} records`);
  if (log.outputs === 0) throw new Error(`joins bench: the ${kind} memory run joined nothing`);
  return { kind, records, partitions, checkpoints: out, seconds, peakRss, audited: log.audited };
}
