/**
 * The rules of regrouped tables (`KTable.groupBy(...).aggregate/count/reduce`):
 * what a change of a row does to its groups, when a group's row exists, and
 * its timestamp.
 */
import type { Change } from './change.ts';

/** What a change of a row does to one group: a value leaving it, then a value joining it (either may be absent). */
export interface GroupUpdate<W> {
  /** The value that leaves the group; undefined: none. */
  readonly subtract?: W | undefined;
  /** The value that joins the group; undefined: none. */
  readonly add?: W | undefined;
}

/** A {@link GroupUpdate} with the group it is for. */
export interface RegroupEntry<G, W> extends GroupUpdate<W> {
  /** The group's key. */
  readonly group: G;
}

/**
 * Rule: a change (old → new) of a row regrouped by `select` takes the old
 * row's value out of group `select(old)` and puts the new row's value into
 * group `select(new)`. When both are the same group (`sameGroup`) it is one
 * update of that group (subtract, then add); otherwise a subtraction from
 * the old group and an addition to the new one, in that order. An absent
 * row, a row `select` maps to null, or one it maps to a null group or a
 * null value contributes nothing.
 *
 * @example
 * const byCity = (_k: string, v: { city: string; n: number }) => [v.city, v.n] as const;
 * regroup('ann', { old: { city: 'Oslo', n: 1 }, new: { city: 'Rome', n: 1 } }, byCity, (a, b) => a === b);
 * // [{ group: 'Oslo', subtract: 1 }, { group: 'Rome', add: 1 }]
 */
export function regroup<K, V, G, W>(
  key: K,
  change: Change<V>,
  select: (key: K, value: V) => readonly [G, W] | null,
  sameGroup: (a: G, b: G) => boolean,
): RegroupEntry<G, W>[] {
  const side = (v: V | undefined): readonly [G, W] | undefined => {
    if (v === undefined) return undefined;
    const s = select(key, v);
    return s === null || s[0] === null || s[0] === undefined || s[1] === null || s[1] === undefined ? undefined : s;
  };
  const out = side(change.old);
  const into = side(change.new);
  if (out !== undefined && into !== undefined && sameGroup(out[0], into[0])) return [{ group: into[0], subtract: out[1], add: into[1] }];
  return [...(out === undefined ? [] : [{ group: out[0], subtract: out[1] }]), ...(into === undefined ? [] : [{ group: into[0], add: into[1] }])];
}

/**
 * Rule: a member count after an update of its group — one less for a
 * subtraction, one more for an addition.
 *
 * @example
 * membersAfter(1, { subtract: 5, add: 6 }); // 1: a member changed its value
 */
export function membersAfter<W>(members: number, update: GroupUpdate<W>): number {
  return members - (update.subtract === undefined ? 0 : 1) + (update.add === undefined ? 0 : 1);
}

/**
 * Rule: a table aggregate's row exists while at least one row is in its
 * group; when the last one leaves, the row is deleted and a tombstone goes
 * on (Flink's GROUP BY retracts an empty group; Kafka Streams keeps the
 * aggregate of nothing, e.g. a count of 0). A group that fills again starts
 * from the initial aggregate.
 *
 * @example
 * isGroupEmpty(0); // true: the row is deleted
 */
export function isGroupEmpty(members: number): boolean {
  return members <= 0;
}

/**
 * Rule: a table aggregate row's timestamp is the largest timestamp of the
 * changes applied to it since its group last became non-empty (Kafka
 * Streams' rule: the result is timestamped `max(record, previous row)`).
 *
 * @example
 * tableAggregateTimestamp(undefined, 7); // 7
 * tableAggregateTimestamp(9, 7);         // 9
 */
export function tableAggregateTimestamp(previous: number | undefined, change: number): number {
  return previous === undefined ? change : Math.max(previous, change);
}
