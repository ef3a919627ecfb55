/**
 * The memory run: tumbling counts (10 s, grace 5 s, `emit: 'final'`) on the
 * in-memory path over a long input generated on the fly, in chunks appended
 * to the log while one run of the application goes on. After each chunk is
 * processed the tasks commit, and the window store's entry count (the
 * committed state, through `log.stateBackend(appId, task).count(store)`) and
 * the process's RSS are recorded: the store must stay bounded however long
 * the input grows (windows are purged once closed: docs/windows.md, "Stores and retention").
 *
 * The log is a `TrimmedMemoryLog`: consumed input is dropped, outputs and
 * audit entries are counted rather than kept.
 */
import { Application } from '../src/index.ts';
import { APP_ID, OUTPUT, STORE, WINDOWS, topology } from './windows-cases.ts';
import { INPUT, ReadingGenerator } from './windows-workload.ts';
import type { AppendRecord } from '../src/runtime/log.ts';
import type { StreamTask } from '../src/runtime/task.ts';
import { chunkedRun, type MemorySample } from './chunked-run.ts';
import { TrimmedMemoryLog } from './trimmed-log.ts';

/** A checkpoint of the memory run, with the process's memory then (`MemorySample`). */
export interface LongCheckpoint extends MemorySample {
  readonly records: number;
  /** Event time covered so far, hours. */
  readonly eventHours: number;
  readonly storeEntries: number;
  readonly outputs: number;
  readonly late: number;
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

/** Runs `records` records through one run of the application, `checkpoints` times measuring the store and RSS. */
export async function runLong(records: number, seed: number, partitions: number, checkpoints: number): Promise<LongResult> {
  // Sum of the counts of the emitted windows.
  let outputCountSum = 0;
  const log = new TrimmedMemoryLog([INPUT], OUTPUT, (r) => (outputCountSum += Number(Buffer.from(r.value!).toString('utf8'))));
  log.ensureStream(INPUT, partitions);
  const app = new Application(topology('tumbling', 'in-memory'), { applicationId: APP_ID, log });
  const gen = new ReadingGenerator(seed, partitions);
  let first = Infinity;
  const next = (n: number): AppendRecord[] => {
    const batch = gen.chunk(n);
    if (first === Infinity) first = batch[0]!.eventTime!;
    return batch;
  };
  const entries = (tasks: readonly StreamTask[]): number => tasks.reduce((n, t) => n + log.stateBackend(APP_ID, t.id).count(STORE), 0);
  const run = await chunkedRun(app, { records, chunk: 50_000, checkpoints }, next, (b) => log.appendSync(b), (tasks, done, last, memory): LongCheckpoint => ({
    records: done,
    eventHours: (last[last.length - 1]!.eventTime! - first) / 3_600_000,
    storeEntries: entries(tasks),
    outputs: log.outputs,
    late: tasks.reduce((n, t) => n + t.counters.lateRecords, 0),
    ...memory,
  }));
  let open = 0;
  for (const t of run.tasks) for (const [, v] of log.stateBackend(APP_ID, t.id).entries(STORE)) open += Number(Buffer.from(v).toString('utf8'));
  const conservation = { emitted: outputCountSum, open, late: run.summary.lateRecords };
  if (conservation.emitted + conservation.open + conservation.late !== records) {
    throw new Error(`windows bench: the memory run lost records: emitted ${conservation.emitted} + open ${conservation.open} + late ${conservation.late} != ${records}`);
  }
  return { records, partitions, checkpoints: run.checkpoints, seconds: run.seconds, peakRss: run.peakRss, audited: log.audited, conservation };
}

export const LONG_WINDOWS = WINDOWS.tumbling;
