import type { Processor } from '../processor.ts';
import { hasTableKey, isVisibleChange, type Change } from '../../tables/change.ts';
import { isGroupEmpty, membersAfter, regroup, tableAggregateTimestamp, type GroupUpdate } from '../../tables/regroup.ts';
import type { Timestamped } from '../../state/timestamped.ts';

/** What a table aggregation operator needs: its two stores and its functions. */
export interface TableAggregateSpec<G, W, A> {
  /** The aggregate of each group with its timestamp: the result table's rows. */
  readonly store: string;
  /** How many rows each group has. */
  readonly groupsStore: string;
  readonly init: () => A;
  readonly add: (group: G, value: W, aggregate: A) => A;
  readonly subtract: (group: G, value: W, aggregate: A) => A;
}

/**
 * The first half of `KTable.groupBy`: each change of a row becomes the
 * updates of its groups (`regroup`), one record per group keyed by the
 * group, in the order the rule gives (the old group first), with the
 * change's timestamp. They go through a repartition stream to the tasks of
 * their groups.
 */
export function tableRegroup<K, V, G, W>(
  select: (key: K, value: V) => readonly [G, W] | null,
  sameGroup: (a: G, b: G) => boolean,
): () => Processor<K, Change<V>, G, GroupUpdate<W>> {
  return () => ({
    process(record, ctx) {
      for (const { group, subtract, add } of regroup(record.key, record.value, select, sameGroup)) {
        ctx.forward({ ...record, key: group, value: { ...(subtract === undefined ? {} : { subtract }), ...(add === undefined ? {} : { add }) } });
      }
    },
  });
}

/**
 * The second half of `KTable.groupBy(...).aggregate`: applies each group
 * update — subtract the leaving value, add the joining one — to the group's
 * aggregate, and forwards the change of the group's row. A group whose last
 * row leaves is deleted (`isGroupEmpty`): its row and state go and a
 * tombstone goes on; when a row joins it again it starts from `init()`. The
 * row's timestamp is the largest of its updates' (`tableAggregateTimestamp`).
 */
export function tableAggregate<G, W, A>(spec: TableAggregateSpec<G, W, A>): () => Processor<G, GroupUpdate<W>, G, Change<A>> {
  return () => ({
    process(record, ctx) {
      if (!hasTableKey(record.key)) return ctx.reportDropped(record, 'a regrouped table update with a null group changes nothing');
      const group = record.key;
      const update = record.value;
      const rows = ctx.getStore<G, Timestamped<A>>(spec.store);
      const groups = ctx.getStore<G, number>(spec.groupsStore);
      const row = rows.get(group);
      const old = row?.value;
      const before = groups.get(group) ?? 0;
      let aggregate = old;
      if (update.subtract !== undefined && aggregate !== undefined) aggregate = spec.subtract(group, update.subtract, aggregate);
      // The group emptied before the value that joins it: that value starts it afresh.
      if (isGroupEmpty(membersAfter(before, { subtract: update.subtract }))) aggregate = undefined;
      if (update.add !== undefined) aggregate = spec.add(group, update.add, aggregate ?? spec.init());
      const members = membersAfter(before, update);
      const timestamp = tableAggregateTimestamp(row?.timestamp, record.timestamp);
      if (isGroupEmpty(members) || aggregate === undefined) {
        aggregate = undefined;
        if (row !== undefined) rows.delete(group);
        if (before !== 0) groups.delete(group);
      } else {
        rows.put(group, { value: aggregate, timestamp });
        groups.put(group, members);
      }
      const change: Change<A> = { old, new: aggregate };
      if (isVisibleChange(change)) ctx.forward({ ...record, key: group, value: change, timestamp });
    },
  });
}
