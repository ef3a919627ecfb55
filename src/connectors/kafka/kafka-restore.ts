/**
 * Where a task store's restore from its changelog partition starts, given
 * what the local store has applied: the rules, kept pure to be tested alone.
 */

/** How far a restore of one task store has come: given to `onRestore` as it goes. */
export interface RestoreProgress {
  /** The application. */
  readonly applicationId: string;
  /** The task (`subTopology_partition`). */
  readonly taskId: string;
  /** The store's name. */
  readonly store: string;
  /** Changelog records applied to the local store so far in this restore. */
  readonly done: number;
  /** Changelog offsets this restore covers (an upper bound of its records: compaction and transaction markers leave gaps). */
  readonly total: number;
  /** The restore is over (the last call for this store). */
  readonly finished: boolean;
}

/** Where to start: `from` the offset, after emptying the local store first when `wipe`. */
export interface RestoreStart {
  readonly from: number;
  readonly wipe: boolean;
}

/**
 * `localApplied`: the changelog offset up to which the local store has
 * applied (undefined: nothing, or of another topic); `logStart` and
 * `committedEnd`: the partition's first offset and its last stable offset.
 *
 * The local store is kept, and restored from its own position on, only when
 * that position lies within the log. Before the log start, records it has
 * not seen were deleted: it is rebuilt from the log. Past the committed end,
 * it holds what the changelog does not (an aborted transaction's, another
 * cluster's, or a topic deleted and made again): it is wiped, never kept.
 */
export function restoreStart(localApplied: number | undefined, logStart: number, committedEnd: number): RestoreStart {
  if (localApplied === undefined || localApplied < logStart || localApplied > committedEnd) return { from: logStart, wipe: true };
  return { from: localApplied, wipe: false };
}
