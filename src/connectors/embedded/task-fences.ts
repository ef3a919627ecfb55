import type { Database } from 'lmdb';
import { hostname } from 'node:os';
import { TaskMigratedError } from '../../runtime/task-group.ts';
import { producerIdOf } from '../../runtime/ids.ts';

/**
 * Fencing of a data directory's tasks: which run holds each task of an
 * application. A run takes its tasks when it starts, in one write
 * transaction: it bumps each task's epoch and writes itself down as the
 * holder. Every commit checks, in its own write transaction, that the
 * epoch of each task it commits is still the one it took; if another run
 * took a task since, the commit fails whole and that run stops — the new
 * holder goes on from the last commit, as a second instance does on Kafka
 * by fencing the first's transactional id. Nothing waits on a holder, so a
 * killed run never blocks the next one.
 */

/** The holder of one task, as stored in the environment. */
export interface TaskFence {
  /** Grows by one each time a run takes the task. */
  readonly epoch: number;
  readonly pid: number;
  readonly host: string;
  /** When the run took the task (wall clock, informative only). */
  readonly since: number;
}

/** Key of a task's fence: (applicationId, taskId). */
export type FenceKey = [string, string];

/**
 * A commit found that another run took some of its tasks since this one
 * took them: nothing of the commit was written, and this run must stop.
 */
export class TaskFencedError extends TaskMigratedError {
  constructor(applicationId: string, taskIds: readonly string[], holder: TaskFence | undefined, dataDir: string) {
    super(taskIds);
    this.name = 'TaskFencedError';
    const tasks = taskIds.length === 1 ? `task ${taskIds[0]}` : `tasks ${taskIds.join(', ')}`;
    const by = holder === undefined ? 'another run' : `another run (pid ${holder.pid} on ${holder.host}, started at ${new Date(holder.since).toISOString()})`;
    this.message = `${tasks} of application ${applicationId} ${taskIds.length === 1 ? 'was' : 'were'} taken over by ${by} on data dir ${dataDir}; this run stops`;
  }
}

/**
 * The fences one log instance (one run) holds, by task. Call its methods
 * inside a write transaction of the environment that holds `db`.
 */
export class TaskFences {
  readonly #db: Database<TaskFence, FenceKey>;
  readonly #dataDir: string;
  /** Epoch this instance took, by producer id (`application/task`). */
  readonly #held = new Map<string, number>();

  constructor(db: Database<TaskFence, FenceKey>, dataDir: string) {
    this.#db = db;
    this.#dataDir = dataDir;
  }

  /**
   * Takes the tasks: bumps their epochs and records this process as their
   * holder. In a write transaction. Returns the tasks taken from another
   * process that is still alive (it stops at its next commit), by holder.
   */
  take(applicationId: string, taskIds: readonly string[], now: number): TakenOver[] {
    const fromLive = new Map<string, TakenOver>();
    for (const taskId of taskIds) {
      const before = this.#db.get([applicationId, taskId]);
      const epoch = (before?.epoch ?? 0) + 1;
      this.#db.putSync([applicationId, taskId], { epoch, pid: process.pid, host: hostname(), since: now });
      this.#held.set(producerIdOf(applicationId, taskId), epoch);
      if (before !== undefined && isAnotherLiveProcess(before)) {
        const key = `${before.pid} ${before.since}`;
        const entry = fromLive.get(key) ?? { applicationId, taskIds: [], from: before };
        entry.taskIds.push(taskId);
        fromLive.set(key, entry);
      }
    }
    return [...fromLive.values()];
  }

  /** Forgets tasks handed over to another instance: the next one to take them bumps their epochs. */
  release(applicationId: string, taskIds: readonly string[]): void {
    for (const taskId of taskIds) this.#held.delete(producerIdOf(applicationId, taskId));
  }

  /**
   * Throws a {@link TaskFencedError} if any of the tasks is no longer this
   * instance's: another run took it since. A task no run ever took (a
   * caller committing without a run) may be committed by anyone. In the
   * commit's write transaction, so that nothing of it is written then.
   */
  check(tasks: readonly { readonly applicationId: string; readonly taskId: string }[]): void {
    const lost = new Map<string, { ids: string[]; holder: TaskFence | undefined }>();
    for (const { applicationId, taskId } of tasks) {
      const fence = this.#db.get([applicationId, taskId]);
      const mine = this.#held.get(producerIdOf(applicationId, taskId));
      if (mine === undefined ? fence === undefined : fence?.epoch === mine) continue;
      const entry = lost.get(applicationId) ?? { ids: [], holder: fence };
      entry.ids.push(taskId);
      lost.set(applicationId, entry);
    }
    for (const [applicationId, { ids, holder }] of lost) throw new TaskFencedError(applicationId, ids, holder, this.#dataDir);
  }
}

/** Tasks a run took from another, live, run. */
export interface TakenOver {
  readonly applicationId: string;
  readonly taskIds: string[];
  readonly from: TaskFence;
}

/** The one line telling a run it took tasks from another one, which stops. */
export function describeTakeOver(t: TakenOver, dataDir: string): string {
  const tasks = t.taskIds.length === 1 ? `task ${t.taskIds[0]}` : `tasks ${t.taskIds.join(', ')}`;
  return `took over ${tasks} of application ${t.applicationId} on data dir ${dataDir} from the run with pid ${t.from.pid} (started at ${new Date(t.from.since).toISOString()}), which stops at its next commit`;
}

/** Whether the holder is a process on this host, other than this one, that is still alive (a killed one is not). */
function isAnotherLiveProcess(holder: TaskFence): boolean {
  if (holder.host !== hostname() || holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive, but another user's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
