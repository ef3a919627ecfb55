import type { RunPlan } from './run-plan.ts';

/** The tasks a group gave this instance, at one generation of the group. */
export interface TaskAssignment {
  /** Grows with every rebalance; a new value means the tasks may have changed. */
  readonly generation: number;
  /** The ids of the tasks (`0_3`: sub-topology 0, partition 3) this instance holds. */
  readonly tasks: ReadonlySet<string>;
}

/**
 * Membership of this instance in the group of instances that share an
 * application's tasks (a Kafka consumer group). The group hands each task
 * to one member; when members come or go it rebalances, and a run releases
 * the tasks it lost and takes over the ones it got (see
 * {@link Application.run} with `group`).
 *
 * @example
 * const group = new KafkaTaskGroup({ bootstrap: '127.0.0.1:9092' });
 * await new Application(topology, { applicationId: 'counts', log }).run({ mode: 'real-time', group, signal });
 */
export interface TaskGroup {
  /** Joins the group of `plan`'s application; resolves once the first assignment has arrived. */
  join(plan: RunPlan): Promise<void>;
  /** The latest assignment: read by the run between steps. Throws when this member lost its place in the group and could not get it back. */
  assignment(): TaskAssignment;
  /** Leaves the group (the others take the tasks over at once) and closes the connection. */
  leave(): Promise<void>;
}

/**
 * A commit found that other instances have taken these tasks over (their
 * transactional ids were fenced): this instance's uncommitted work on them is
 * void, the new owner redoes it from the last commit. A run in a group drops
 * the tasks and goes on; a run without one stops, since something else runs
 * its tasks.
 */
export class TaskMigratedError extends Error {
  /** The tasks taken over. */
  readonly taskIds: readonly string[];

  /** @param taskIds the tasks taken over. */
  constructor(taskIds: readonly string[], options?: ErrorOptions) {
    super(`tasks ${taskIds.join(', ')} were taken over by another instance of the application (fenced)`, options);
    this.name = 'TaskMigratedError';
    this.taskIds = taskIds;
  }
}

/** A member of a group as the assignment sees it: its id and the tasks it held before the rebalance. */
export interface GroupMember {
  /** The member's id in the group. */
  readonly id: string;
  /** The task ids it held before the rebalance. */
  readonly owned: readonly string[];
}

/**
 * The assignment rule: every task goes to exactly one member; with `t` tasks
 * and `m` members each gets `⌊t/m⌋` or `⌈t/m⌉` (the first `t mod m` members
 * in id order get one more); within that, a member keeps the tasks it held —
 * moving a task costs a restore of its state — and the rest go, in task
 * order, to the member with the fewest, ties to the lower id. A task two
 * members claim stays with the lower id. The same members and tasks give
 * the same assignment on every leader. Returns each member's task ids, by member id.
 *
 * @example
 * assignTasks(['0_0', '0_1', '0_2'], [{ id: 'a', owned: ['0_2'] }, { id: 'b', owned: [] }]);
 * // Map { 'a' => ['0_2', …], 'b' => […] }: a keeps 0_2, each gets 1 or 2 tasks
 */
export function assignTasks(tasks: readonly string[], members: readonly GroupMember[]): Map<string, string[]> {
  const ids = [...members].map((m) => m.id).sort();
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const base = Math.floor(tasks.length / ids.length);
  const extra = tasks.length % ids.length;
  const capacity = new Map(ids.map((id, i) => [id, base + (i < extra ? 1 : 0)]));
  const known = new Set(tasks);
  const taken = new Set<string>();
  const ownedBy = new Map(members.map((m) => [m.id, m.owned]));
  for (const id of ids) {
    for (const task of [...(ownedBy.get(id) ?? [])].sort()) {
      const mine = out.get(id)!;
      if (!known.has(task) || taken.has(task) || mine.length >= capacity.get(id)!) continue;
      mine.push(task);
      taken.add(task);
    }
  }
  for (const task of [...tasks].sort()) {
    if (taken.has(task)) continue;
    const id = ids.filter((i) => out.get(i)!.length < capacity.get(i)!).sort((a, b) => out.get(a)!.length - out.get(b)!.length || (a < b ? -1 : 1))[0]!;
    out.get(id)!.push(task);
    taken.add(task);
  }
  for (const list of out.values()) list.sort();
  return out;
}
