/**
 * Where a task store's restore from its changelog partition starts, given
 * what the local store has applied: the rules, kept pure to be tested alone.
 */
import type { RestoreMessage } from '../../runtime/diagnostics.ts';

/** How far a restore of one task store has come: given to `onRestore` as it goes (and published on `tidemark:restore`). */
export type RestoreProgress = RestoreMessage;

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
