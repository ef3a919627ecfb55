import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../time/clock.ts';
import type { TaskStorage } from './log.ts';
import type { StreamTask } from './task.ts';
import { BadInputError } from './input-failure.ts';
import type { RunPlan } from './run-plan.ts';
import type { RunOptions } from './run-options.ts';
import type { RunSummary } from './run-summary.ts';
import { publish, type CommitMessage } from './diagnostics.ts';

/** A run's tasks (in data-flow stages), its loop and its summary. */
export interface StartedRun {
  readonly stages: readonly (readonly StreamTask[])[];
  readonly loop: RunLoop;
  summary(): RunSummary;
  /** Creates tasks taken over from another instance (restored by the log first) and runs them from now on. */
  takeOver(tasks: RunPlan['tasks']): void;
  /** Stops running these tasks: another instance holds them now. */
  handOver(taskIds: readonly string[]): void;
  /** The run is over (after its last commit): its tasks are announced revoked and its observation says it ended. */
  end(): void;
}

/** The processing loop: fetch, schedule and process, commit on interval, report progress. */
export class RunLoop {
  commits = 0;
  readonly #storage: TaskStorage;
  #tasks: readonly StreamTask[];
  readonly #options: RunOptions;
  readonly #clock: Clock;
  #lastCommit: number;
  #lastProgress = -Infinity;
  #processed = 0;

  readonly #applicationId: string;
  /** Total time spent committing, in ms, and the last commit's. */
  commitMs = 0;
  lastCommitMs = 0;

  constructor(storage: TaskStorage, tasks: readonly StreamTask[], options: RunOptions, clock: Clock, applicationId = '') {
    this.#applicationId = applicationId;
    this.#storage = storage;
    this.#tasks = tasks;
    this.#options = options;
    this.#clock = clock;
    this.#lastCommit = clock.now();
  }

  /** Runs `tasks` until `done()`; false when stopped early (signal or `maxRecords`). */
  async runUntil(tasks: readonly StreamTask[], done: () => boolean): Promise<boolean> {
    const commitInterval = this.#options.commitIntervalMs ?? 100;
    const maxRecords = this.#options.maxRecords ?? Infinity;
    // Yield to the event loop now and then, so signals, timers and other work in the
    // process (and LMDB's renewal of read snapshots) are not held up by a long catch-up.
    let lastYield = performance.now();
    for (;;) {
      if (this.#options.signal?.aborted || this.#processed >= maxRecords) return false;
      let moved: number;
      try {
        moved = this.step(tasks);
      } catch (e) {
        // Bad input under `fail` stops before the bad record: commit the work before it,
        // so a restart resumes at that record. Any other error may have left a record
        // half-processed, so nothing since the last commit is kept.
        if (e instanceof BadInputError) await this.commit();
        throw e;
      }
      const now = this.#clock.now();
      if (now - this.#lastCommit >= commitInterval) await this.commit();
      this.#reportProgress(now, false);
      if (done()) {
        this.#reportProgress(now, true);
        return true;
      }
      if (moved === 0) await sleep(this.#options.mode === 'real-time' ? (this.#options.pollIntervalMs ?? 10) : 1);
      else if (performance.now() - lastYield >= 20) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  }

  /** All tasks of the run. */
  tasksOf(): readonly StreamTask[] {
    return this.#tasks;
  }

  /** The tasks from now on (a group run's tasks change in a rebalance). */
  setTasks(tasks: readonly StreamTask[]): void {
    this.#tasks = tasks;
  }

  /** Fetches and processes what `tasks` can without waiting; returns how many records moved. */
  step(tasks: readonly StreamTask[] = this.#tasks): number {
    const maxRecords = this.#options.maxRecords ?? Infinity;
    let moved = 0;
    for (const t of tasks) moved += t.fetch();
    for (const t of tasks) {
      const n = t.process(Math.min(maxRecords - this.#processed, 10_000));
      this.#processed += n;
      moved += n;
    }
    return moved;
  }

  /**
   * A clean stop: each task tells the consumers of its output streams that
   * it stopped, at its watermark (watermark mode), then everything commits.
   */
  stop(): void | Promise<void> {
    for (const t of this.#tasks) t.publishStop();
    return this.commit();
  }

  /**
   * Commits every task's outputs, state, positions and clocks at once: in
   * one transaction on the embedded log (synchronously), in a transaction
   * per task on a broker (the promise resolves when all are committed).
   */
  commit(): void | Promise<void> {
    const started = performance.now();
    const done = this.#storage.commit(this.#tasks.map((t) => t.prepareCommit()));
    this.commits++;
    this.#lastCommit = this.#clock.now();
    if (done === undefined) return this.#committed(started);
    return done.then(() => this.#committed(started));
  }

  /** Commit timings are for operators (metrics, `tidemark:commit`), never for decisions: performance.now, not the run's clock. */
  #committed(started: number): void {
    const ms = performance.now() - started;
    this.commitMs += ms;
    this.lastCommitMs = ms;
    const tasks = this.#tasks.length;
    publish('commit', (): CommitMessage => ({ applicationId: this.#applicationId, tasks, durationMs: ms }));
  }

  #reportProgress(now: number, force: boolean): void {
    const onProgress = this.#options.onProgress;
    if (onProgress === undefined || (!force && now - this.#lastProgress < (this.#options.progressIntervalMs ?? 250))) return;
    this.#lastProgress = now;
    const lagByPartition = new Map<string, number>();
    let consumed = 0;
    for (const t of this.#tasks) {
      consumed += t.counters.consumed;
      for (const [k, v] of t.lag()) lagByPartition.set(k, v);
    }
    let lag = 0;
    for (const v of lagByPartition.values()) lag += v;
    onProgress({
      mode: this.#options.mode,
      consumed,
      processed: this.#processed,
      lag,
      lagByPartition,
      streamTimes: new Map(this.#tasks.map((t) => [t.id, t.streamTime])),
      watermarks: new Map(this.#tasks.map((t) => [t.id, t.watermark])),
    });
  }
}
