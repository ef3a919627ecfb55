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
import type { StreamTask } from '../src/runtime/task.ts';
import { chunkedRun, type MemorySample } from './chunked-run.ts';
import { APP_ID, OUTPUT, STORES, topology } from './joins-cases.ts';
import { INPUTS, START, generator, type JoinKind } from './joins-workload.ts';
import { TrimmedMemoryLog } from './trimmed-log.ts';

/** A checkpoint of the memory run, with the process's memory then (`MemorySample`). */
export interface LongCheckpoint extends MemorySample {
  readonly records: number;
  /** Event time covered so far, hours. */
  readonly eventHours: number;
  /** Entries of the join's store and (stream–table) of the table's store, all tasks, committed. */
  readonly joinEntries: number;
  readonly tableEntries: number;
  readonly outputs: number;
  readonly late: number;
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

/** Runs `records` records of `kind` through one run of the application, `checkpoints` times measuring its stores and RSS. */
export async function runLong(kind: JoinKind, records: number, seed: number, partitions: number, checkpoints: number): Promise<LongResult> {
  const log = new TrimmedMemoryLog(INPUTS[kind], OUTPUT);
  for (const s of INPUTS[kind]) log.ensureStream(s, partitions);
  const app = new Application(topology(kind, 'in-memory'), { applicationId: APP_ID, log });
  const gen = generator(kind, seed, partitions);
  const stores = STORES[kind];
  const entries = (tasks: readonly StreamTask[], store: string | undefined): number =>
    store === undefined ? 0 : tasks.reduce((n, t) => n + log.stateBackend(APP_ID, t.id).count(store), 0);
  const run = await chunkedRun(app, { records, chunk: 50_000, checkpoints }, (n) => gen.chunk(n, INPUTS[kind]), (b) => log.appendSync(b), (tasks, done, last, memory): LongCheckpoint => ({
    records: done,
    eventHours: (last[last.length - 1]!.eventTime! - START) / 3_600_000,
    joinEntries: entries(tasks, stores.join),
    tableEntries: entries(tasks, 'table' in stores ? stores.table : undefined),
    outputs: log.outputs,
    late: tasks.reduce((n, t) => n + t.counters.lateRecords, 0),
    ...memory,
  }));
  if (log.outputs === 0) throw new Error(`joins bench: the ${kind} memory run joined nothing`);
  return { kind, records, partitions, checkpoints: run.checkpoints, seconds: run.seconds, peakRss: run.peakRss, audited: log.audited };
}
