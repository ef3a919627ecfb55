import type { Log, TaskStorage } from './log.ts';
import { TaskMigratedError, type TaskGroup } from './task-group.ts';
import type { RunPlan } from './run-plan.ts';
import type { RunOptions } from './run-options.ts';
import type { RunSummary } from './run-summary.ts';
import type { StartedRun } from './run-loop.ts';
import { isGroupCatchUpOver } from './group-catch-up.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a group run needs of its application: see {@link Application}. */
export interface GroupRunHost {
  readonly applicationId: string;
  readonly log: Log & TaskStorage;
  plan(options: RunOptions): RunPlan;
  start(options: RunOptions, plan: RunPlan): StartedRun;
}

/** How often a member whose tasks are all done looks whether the others' are, in a group catch-up. */
const CATCH_UP_POLL_MS = 200;

/**
 * A run sharing the application's tasks with the other members of
 * `group`: it holds the tasks the group assigns it and follows every
 * rebalance. In real time it runs until `signal` aborts; then it commits
 * and leaves the group, whose other members take its tasks over. It
 * writes no stop records: its tasks go on elsewhere. A task moving between
 * members says so in the internal streams it writes (`leaving`, then
 * `arrived`), and their readers wait for it meanwhile instead of passing
 * its share over after `maxIdleMs`; only a member that dies without a
 * word (its tasks move after its session times out) can still be passed
 * over, audited as always.
 *
 * A catch-up in a group ends where the same catch-up in one process
 * would, whichever member runs which task and however tasks move: each
 * task stops its external inputs at the ends it fixed when it first
 * started (kept in its checkpoint), and once done writes an end of
 * catch-up into the internal streams it writes; a task reading an internal
 * stream waits for each writer's share until that writer's end comes
 * (never passing it over: no nondeterministic decision). A member whose
 * tasks are all done stays until every task of the application is.
 */
export async function runInGroup(app: GroupRunHost, options: RunOptions, group: TaskGroup): Promise<RunSummary> {
  if (options.instance !== undefined) throw new Error('`group` and `instance` exclude each other: the group assigns the tasks');
  const plan = app.plan(options);
  await app.log.prepare?.({ ...plan, tasks: [] });
  const catchUp = options.mode === 'catch-up' ? await beginCatchUp(app) : undefined;
  await group.join(plan);
  let run: StartedRun | undefined;
  try {
    run = app.start(options, { ...plan, tasks: [] });
    let generation: number | undefined;
    for (;;) {
      const assignment = group.assignment();
      if (assignment.generation !== generation) {
        generation = assignment.generation;
        await followAssignment(app, run, plan, assignment.tasks, catchUp === undefined);
        for (const t of run.loop.tasksOf()) t.restartIdleWait();
        if (catchUp !== undefined) for (const t of run.loop.tasksOf()) if (!t.inGroupCatchUp) t.startGroupCatchUp(catchUp);
      }
      const moved = (): boolean => group.assignment().generation !== generation;
      try {
        const step = catchUp === undefined ? ((await run.loop.runUntil(run.loop.tasksOf(), moved)) ? 'go-on' : 'stop') : await catchUpStep(app, run, plan, catchUp, moved, options.signal);
        if (step !== 'go-on') break;
      } catch (e) {
        if (!(e instanceof TaskMigratedError)) throw e;
        await handOver(app, run, e.taskIds);
        // Taken over, so the group has moved on: look at its assignment afresh.
        generation = undefined;
      }
    }
    // Real time: the tasks go on elsewhere; their consumers wait for them meanwhile.
    if (catchUp === undefined) for (const t of run.loop.tasksOf()) t.announceMove('leaving');
    await commitTolerating(app, run);
    return run.summary();
  } finally {
    // However it ended, the tasks it held run here no more.
    run?.end();
    await group.leave();
  }
}

/** The number of the group catch-up this member takes part in. */
async function beginCatchUp(app: GroupRunHost): Promise<number> {
  const log = app.log;
  if (log.beginGroupCatchUp === undefined || log.readGroupCatchUp === undefined || log.endGroupCatchUp === undefined) {
    throw new Error('a catch-up in a group needs a log that shares catch-ups between processes (Kafka): run it in one process, or real-time');
  }
  return log.beginGroupCatchUp(app.applicationId);
}

/**
 * One step of a group catch-up: runs the held tasks until one of them is
 * caught up (which then writes its end of catch-up, committed at once) or
 * the assignment changes; once all held tasks are done, looks whether the
 * whole application is. `over` when it is, `stop` when the run
 * was stopped (signal, `maxRecords`).
 */
async function catchUpStep(app: GroupRunHost, run: StartedRun, plan: RunPlan, id: number, moved: () => boolean, signal: AbortSignal | undefined): Promise<'go-on' | 'stop' | 'over'> {
  const tasks = run.loop.tasksOf();
  if (!tasks.every((t) => t.groupCatchUpDone)) {
    const finishing = (): boolean => tasks.some((t) => !t.groupCatchUpDone && t.isCaughtUp());
    if (!(await run.loop.runUntil(tasks, () => moved() || finishing()))) return 'stop';
    let finished = false;
    for (const t of tasks) if (!t.groupCatchUpDone && t.finishGroupCatchUp()) finished = true;
    // The ends of catch-up go out at once: readers on other members are waiting for them.
    if (finished) await run.loop.commit();
    return 'go-on';
  }
  // Every held task committed its end of catch-up when it finished (or had, when taken over).
  const taskIds = plan.tasks.map((t) => t.taskId);
  const states = await app.log.readGroupCatchUp!(app.applicationId, taskIds);
  if (isGroupCatchUpOver(id, taskIds, (t) => states.get(t))) {
    await app.log.endGroupCatchUp!(app.applicationId, id);
    return 'over';
  }
  for (let waited = 0; waited < CATCH_UP_POLL_MS && !moved(); waited += 20) {
    if (signal?.aborted === true) return 'stop';
    await sleep(20);
  }
  return 'go-on';
}

/**
 * Makes the run hold exactly the `assigned` tasks: commits and hands over
 * the others (the new owner's restore starts from that commit), then
 * takes over the new ones (the log fences their last owner and restores
 * them) and creates them. With `announceMoves` (real time), each task
 * moving writes so into its internal streams: `leaving` in its last
 * commit here, `arrived` in its first one on its new member.
 */
async function followAssignment(app: GroupRunHost, run: StartedRun, plan: RunPlan, assigned: ReadonlySet<string>, announceMoves: boolean): Promise<void> {
  const held = new Set(run.loop.tasksOf().map((t) => t.id));
  const lost = [...held].filter((id) => !assigned.has(id));
  if (lost.length > 0) {
    // In real time a task's consumers would pass over its quiet share while it moves: tell them it is moving.
    if (announceMoves) for (const t of run.loop.tasksOf()) if (lost.includes(t.id)) t.announceMove('leaving');
    await commitTolerating(app, run);
    await handOver(app, run, lost);
  }
  const gained = plan.tasks.filter((t) => assigned.has(t.taskId) && !held.has(t.taskId));
  if (gained.length > 0) {
    await app.log.acquireTasks?.(plan, gained);
    run.takeOver(gained);
    if (announceMoves) for (const t of run.loop.tasksOf()) if (gained.some((g) => g.taskId === t.id)) t.announceMove('arrived');
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
