import type { HttpOptions } from './observe-server.ts';
import type { Clock } from '../time/clock.ts';
import type { AuditListener } from './audit.ts';
import type { TraceEvent } from './trace.ts';
import type { TaskGroup } from './task-group.ts';
import type { StartPosition } from './start-position.ts';

/** Catch-up replays up to the end offsets seen at start and stops; real-time tails forever. */
export type RunMode = 'catch-up' | 'real-time';

/**
 * How {@link Application.run} runs: the mode, where it starts, its limits,
 * and what it reports while it goes.
 *
 * @example
 * await app.run({ mode: 'catch-up', from: 'earliest', onProgress: (p) => console.log(`lag ${p.lag}`) });
 */
export interface RunOptions {
  /** `catch-up` (replay to the end offsets seen at start, then stop) or `real-time` (tail until `signal` aborts). */
  readonly mode: RunMode;
  /**
   * Where partitions without a committed position start (default
   * `earliest`). A position past the partition's end, or naming a stream or
   * partition the topology does not read, fails the run before it commits.
   */
  readonly from?: StartPosition;
  /** Real-time only: how long an empty partition that may still have data holds its task back (default 500 ms). */
  readonly maxIdleMs?: number;
  /** Most records read from a partition at once (default 500). */
  readonly fetchSize?: number;
  /** How often tasks commit, by the run's clock (default 100 ms). */
  readonly commitIntervalMs?: number;
  /** Real-time: how long to sleep when there is nothing to do (default 10 ms). */
  readonly pollIntervalMs?: number;
  /** Records whose key and value together are larger go to the dead-letter stream (default 1 MiB). */
  readonly maxRecordBytes?: number;
  /** Bad input (undecodable, invalid timestamp under `skip`, too large): dead-letter it (default) or stop. */
  readonly badInput?: 'dead-letter' | 'fail';
  /** Default `<applicationId>.dead-letter`. */
  readonly deadLetterStream?: string;
  /**
   * Stop (after a commit) once this many records were taken from the
   * inputs — watermark records included — to stop and restart at chosen points.
   */
  readonly maxRecords?: number;
  /** Wall clock for ingest time, idleness and commit intervals; the system clock by default. */
  readonly clock?: Clock;
  /** Called with every audit entry as it is made (they are also committed with the task's data). */
  readonly onAudit?: AuditListener;
  /** Called about every `progressIntervalMs` (default 250) with the run's progress. */
  readonly onProgress?: (progress: Progress) => void;
  /** How often `onProgress` is called, by the run's clock (default 250 ms). */
  readonly progressIntervalMs?: number;
  /** Aborting it stops a run cleanly: the tasks commit and `run` resolves. */
  readonly signal?: AbortSignal;
  /**
   * Run only the tasks of this instance: those whose partition modulo
   * `instances` is `instance`. Several processes, each one instance, share
   * an application on the embedded log (static assignment).
   */
  readonly instance?: {
    /** This instance's number, from 0. */
    readonly instance: number;
    /** How many instances share the application. */
    readonly instances: number;
  };
  /**
   * Real-time only: share the tasks with the other members of this group
   * (dynamic assignment; excludes `instance`). The run takes over the tasks
   * the group assigns it — restoring their state, positions and clocks
   * before processing — and hands over the ones it loses, committing first.
   */
  readonly group?: TaskGroup;
  /** Receives every task's trace (records, stream time, watermarks, watermark records): see `tidemark timeline`. */
  readonly trace?: (event: TraceEvent) => void;
  /**
   * Serve the run's `/metrics` (Prometheus), `/progress` (JSON), `/topology`
   * and a live page at `/` while it runs (host default 127.0.0.1; port 0
   * picks one, which `onListening` is told).
   */
  readonly http?: HttpOptions & {
    /** Told the URL once the server listens. */
    readonly onListening?: (url: string) => void;
  };
}

/** Progress anyone can read while a run goes on: lag, stream time per task. */
export interface Progress {
  /** The run's mode. */
  readonly mode: RunMode;
  /** Records fetched so far. */
  readonly consumed: number;
  /** Records processed so far. */
  readonly processed: number;
  /** Records still to read, in total. */
  readonly lag: number;
  /** Records still to read, per `stream/partition`. */
  readonly lagByPartition: ReadonlyMap<string, number>;
  /** Stream time per task id. */
  readonly streamTimes: ReadonlyMap<string, number>;
  /** Watermark per task id (the least of its operators'). */
  readonly watermarks: ReadonlyMap<string, number>;
}

