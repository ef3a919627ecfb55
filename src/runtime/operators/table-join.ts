import type { Processor } from '../processor.ts';
import { isVisibleChange, type Change } from '../../tables/change.ts';
import { tableJoinTimestamp, tableJoinValue, type TableJoinKind } from '../../joins/table-table.ts';
import type { JoinSide } from '../../joins/stream-stream.ts';
import type { Timestamped } from '../../state/timestamped.ts';

/** What the table–table join operator needs. */
export interface TableJoinSpec<L, R, O> {
  readonly kind: TableJoinKind;
  /** The parent node the left table's changes come from; every other parent is the right table. */
  readonly leftParent: string;
  /** The join's copy of each side's rows, with their timestamps. */
  readonly leftRows: string;
  readonly rightRows: string;
  /** Where the joined rows are kept (the result table's store), when it is materialized. */
  readonly resultRows: string | undefined;
  readonly joiner: (left: L | undefined, right: R | undefined) => O | null;
}

/**
 * The table–table join of one task: each change of either side replaces
 * that side's row in the join's own store (so that a side without a store
 * of its own — a table made by filter or mapValues — joins all the same),
 * then the joined value at its key is computed before and after the change
 * from both sides' rows (`tableJoinValue`), and the change of the joined
 * table goes on when a reader could see it (`isVisibleChange`), with the
 * largest timestamp of the rows it joins (`tableJoinTimestamp`). With a
 * result store the joined rows are kept there too, for `app.store`. Every
 * store commits with the task.
 */
export function tableJoin<K, L, R, O>(spec: TableJoinSpec<L, R, O>): () => Processor<K, Change<unknown>, K, Change<O>> {
  const join = (left: L | undefined, right: R | undefined): O | undefined => tableJoinValue(spec.kind, left, right, spec.joiner);
  return () => ({
    process(record, ctx) {
      const side: JoinSide = ctx.parentNode === spec.leftParent ? 'left' : 'right';
      const mine = ctx.getStore<K, Timestamped<unknown>>(side === 'left' ? spec.leftRows : spec.rightRows);
      const theirs = ctx.getStore<K, Timestamped<unknown>>(side === 'left' ? spec.rightRows : spec.leftRows);
      const key = record.key;
      // What this join saw of the side before: the row it joined the other side with.
      const before = mine.get(key);
      const now = record.value.new;
      if (now === undefined) {
        if (before !== undefined) mine.delete(key);
      } else mine.put(key, { value: now, timestamp: record.timestamp });
      const other = theirs.get(key);
      const change: Change<O> =
        side === 'left'
          ? { old: join(before?.value as L | undefined, other?.value as R | undefined), new: join(now as L | undefined, other?.value as R | undefined) }
          : { old: join(other?.value as L | undefined, before?.value as R | undefined), new: join(other?.value as L | undefined, now as R | undefined) };
      if (!isVisibleChange(change)) return;
      const timestamp = tableJoinTimestamp(record.timestamp, other?.timestamp);
      if (spec.resultRows !== undefined) {
        const results = ctx.getStore<K, Timestamped<O>>(spec.resultRows);
        if (change.new === undefined) results.delete(key);
        else results.put(key, { value: change.new, timestamp });
      }
      ctx.forward({ ...record, value: change, timestamp });
    },
  });
}
