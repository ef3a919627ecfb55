import type { Log, TaskStorage } from './log.ts';
import { TaskMigratedError, type TaskGroup } from './task-group.ts';
import type { RunPlan } from './run-plan.ts';
import type { RunOptions } from './run-options.ts';
import type { RunSummary } from './run-summary.ts';
import type { StartedRun } from './run-loop.ts';

/** What a group run needs of its application: see {@link Application}. */
export interface GroupRunHost {
  readonly applicationId: string;
  readonly log: Log & TaskStorage;
  plan(options: RunOptions): RunPlan;
  start(options: RunOptions, plan: RunPlan): StartedRun;
}

/**
 * A run sharing the application's tasks with the other members of
 * `group`: it holds the tasks the group assigns it and follows every
 * rebalance, until `signal` aborts; then it commits and leaves the group,
 * whose other members take its tasks over. It writes no stop records:
 * its tasks go on elsewhere.
 */
export async function runInGroup(app: GroupRunHost, options: RunOptions, group: TaskGroup): Promise<RunSummary> {
  if (options.mode !== 'real-time') throw new Error('a run in a group is real-time: catch-up runs the whole application in one process, or a static share of it (`instance`)');
  if (options.instance !== undefined) throw new Error('`group` and `instance` exclude each other: the group assigns the tasks');
  const plan = app.plan(options);
  await app.log.prepare?.({ ...plan, tasks: [] });
  await group.join(plan);
  try {
    const run = app.start(options, { ...plan, tasks: [] });
    let generation: number | undefined;
    for (;;) {
      const assignment = group.assignment();
      if (assignment.generation !== generation) {
        generation = assignment.generation;
        await followAssignment(app, run, plan, assignment.tasks);
      }
      try {
        if (!(await run.loop.runUntil(run.loop.tasksOf(), () => group.assignment().generation !== generation))) break;
      } catch (e) {
        if (!(e instanceof TaskMigratedError)) throw e;
        await handOver(app, run, e.taskIds);
        // Taken over, so the group has moved on: look at its assignment afresh.
        generation = undefined;
      }
    }
    await commitTolerating(app, run);
    return run.summary();
  } finally {
    await group.leave();
  }
}

/**
 * Makes the run hold exactly the `assigned` tasks: commits and hands over
 * the others (the new owner's restore starts from that commit), then
 * takes over the new ones (the log fences their last owner and restores
 * them) and creates them.
 */
async function followAssignment(app: GroupRunHost, run: StartedRun, plan: RunPlan, assigned: ReadonlySet<string>): Promise<void> {
  const held = new Set(run.loop.tasksOf().map((t) => t.id));
  const lost = [...held].filter((id) => !assigned.has(id));
  if (lost.length > 0) {
    await commitTolerating(app, run);
    await handOver(app, run, lost);
  }
  const gained = plan.tasks.filter((t) => assigned.has(t.taskId) && !held.has(t.taskId));
  if (gained.length > 0) {
    await app.log.acquireTasks?.(plan, gained);
    run.takeOver(gained);
  }
}

/** Commits every task; tasks another instance has taken over meanwhile are handed over instead (their work is void). */
async function commitTolerating(app: GroupRunHost, run: StartedRun): Promise<void> {
  try {
    await run.loop.commit();
  } catch (e) {
    if (!(e instanceof TaskMigratedError)) throw e;
    await handOver(app, run, e.taskIds);
  }
}

/** Stops running the tasks and lets the log forget them: another instance holds them now. */
async function handOver(app: GroupRunHost, run: StartedRun, taskIds: readonly string[]): Promise<void> {
  run.handOver(taskIds);
  await app.log.releaseTasks?.(app.applicationId, taskIds);
}
