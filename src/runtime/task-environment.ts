import type { Clock } from '../time/clock.ts';
import type { StreamRecord } from '../records/record.ts';
import type { Log, TaskStorage } from './log.ts';
import type { Auditor } from './audit.ts';
import type { Topology } from './topology.ts';
import type { TraceEvent } from './trace.ts';

/** What every task of an application shares. */
export interface TaskEnvironment {
  readonly applicationId: string;
  readonly topology: Topology;
  readonly log: Log;
  readonly storage: TaskStorage;
  readonly clock: Clock;
  readonly auditor: Auditor;
  /** Real-time: how long to wait for an empty partition that may still have data; catch-up: Infinity. */
  readonly maxIdleMs: number;
  /** Most records read from a partition at once. */
  readonly fetchSize: number;
  /** Records whose key plus value exceed this many bytes are dead-lettered. */
  readonly maxRecordBytes: number;
  /** Bad input: dead-letter it, or stop the run. */
  readonly badInput: 'dead-letter' | 'fail';
  readonly deadLetterStream: string;
  /** Where a task without a checkpoint starts reading each input partition. */
  readonly startOffset: (stream: string, partition: number) => number;
  /**
   * Whether the task writing as `producer` (`<applicationId>/<taskId>`) runs in this run and still
   * holds records to process, or outputs to commit to `stream`/`partition`.
   */
  readonly producerPending?: (producer: string, stream: string, partition: number) => boolean;
  /** Receives the task's trace: records, clocks and watermark records, for the timeline picture. */
  readonly trace?: (event: TraceEvent) => void;
  /** This run's generation, announced with its tasks in watermark mode (`nextGeneration`). */
  readonly generation: number;
}

/** Counters of one task, read by the runtime's metrics. */
export interface TaskCounters {
  consumed: number;
  processed: number;
  deadLettered: number;
  /** Records late for every window they belong to (docs/windows.md, "Late records"). */
  lateRecords: number;
  /** Windows that skipped a record because they were closed. */
  lateWindows: number;
  /** Records a processor could not use (a null key in an aggregation). */
  dropped: number;
  /** Table updates older than the row they changed (applied all the same). */
  outOfOrderTableUpdates: number;
  /** Late records and late windows by the node that found them late. */
  readonly lateByNode: Map<string, { records: number; windows: number }>;
  output: Map<string, number>;
  enforcedProcessing: number;
}

/**
 * Where a task is now, shared by its pieces: the scheduling loop sets it,
 * the processor contexts and the outputs read it (to name the input record
 * behind a dead letter, a wall-clock read, a late record).
 */
export interface TaskCursor {
  /** The record (or the trigger of a clock move) being processed. */
  current: StreamRecord | undefined;
  /** Whether a processor reported `current` late for every window. */
  lateInCurrent: boolean;
  /** The processor node running now, to name it when it fails. */
  currentNode: string;
  /** The largest timestamp processed so far; never decreases. */
  streamTime: number;
}
