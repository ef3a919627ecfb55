/**
 * A catch-up shared by the members of a group: which one it is, and how far
 * each task of it has come. Kept in the task's checkpoint, so that a task
 * moved to another member stops at the same ends and knows which of its
 * producers' shares have already ended.
 */
export interface GroupCatchUpState {
  /** The catch-up's number: larger for a later catch-up of the application. */
  readonly id: number;
  /** Per external input partition (`stream/partition`): the end offset the task stops at, fixed when the task first started this catch-up. */
  readonly ends: Readonly<Record<string, number>>;
  /** Per internal input partition (`stream/partition`): the producers whose end of catch-up was read, at which offset. */
  readonly ended: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** The task processed its inputs to their ends and wrote its own ends of catch-up. */
  readonly done: boolean;
}

/**
 * Rule: in a group catch-up, an internal input partition ends once every
 * task writing it has written its end of catch-up there — just past the
 * last of those records. Each writer's share ends at its own record; the
 * partition's end offset then also ends the shares of producers that are
 * no writers of this run (an earlier topology's, an operator's release).
 * Undefined while a writer's end is still to come.
 */
export function internalCatchUpEnd(writers: readonly string[], ended: ReadonlyMap<string, number>): number | undefined {
  let end = -1;
  for (const w of writers) {
    const at = ended.get(w);
    if (at === undefined) return undefined;
    if (at > end) end = at;
  }
  return end + 1;
}

/**
 * Rule: a group catch-up is over once every task of the application has
 * committed its end of it (`done` for catch-up `id`); until then a member
 * whose own tasks are done stays, since a member leaving or dying hands its
 * tasks to the others.
 */
export function isGroupCatchUpOver(id: number, taskIds: readonly string[], stateOf: (taskId: string) => GroupCatchUpState | undefined): boolean {
  return taskIds.every((t) => {
    const s = stateOf(t);
    return s !== undefined && s.id === id && s.done;
  });
}

/**
 * Rule: in a group catch-up, a writer's share of an internal input
 * partition is at its end once it has been read past that writer's end of
 * catch-up (at offset `endedAt`). Knowing of the end is not enough: a task
 * restored from a checkpoint that had read the end of catch-up ahead of the
 * records it processed resumes reading the share below it, and those
 * records still come first.
 */
export function isShareEnded(endedAt: number | undefined, readTo: number): boolean {
  return endedAt !== undefined && readTo > endedAt;
}
