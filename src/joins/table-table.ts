/**
 * The rules of the table–table join (inner, left, outer): which value a key
 * of the joined table has, given the rows of both tables at that key, and
 * the timestamp of a change of it. The join operator
 * (`src/runtime/operators/table-join.ts`) and the tests' references call
 * these rather than restating them; which changes go on is the tables'
 * rule, `isVisibleChange`.
 */

/** Which keys a table–table join has: those with both rows (`inner`), with a left row (`left`), with either (`outer`). */
export type TableJoinKind = 'inner' | 'left' | 'outer';

/**
 * Rule: the join of two tables at a key is `joiner(left, right)` when the
 * kind's rows are there — inner: both; left: the left one; outer: either —
 * and otherwise the key is absent from the joined table (`undefined`). A
 * side without a row is passed as `undefined`. A joiner that returns null
 * (or undefined) makes the key absent, as a value `mapValues` maps to null
 * does.
 *
 * @example
 * const j = (l: number | undefined, r: number | undefined) => `${l ?? '-'}+${r ?? '-'}`;
 * tableJoinValue('inner', 1, undefined, j); // undefined: no right row
 * tableJoinValue('left', 1, undefined, j);  // '1+-'
 * tableJoinValue('outer', undefined, 2, j); // '-+2'
 * tableJoinValue('outer', undefined, undefined, j); // undefined: no row at all
 */
export function tableJoinValue<L, R, O>(kind: TableJoinKind, left: L | undefined, right: R | undefined, joiner: (left: L | undefined, right: R | undefined) => O | null): O | undefined {
  const present = kind === 'inner' ? left !== undefined && right !== undefined : kind === 'left' ? left !== undefined : left !== undefined || right !== undefined;
  if (!present) return undefined;
  const value = joiner(left, right);
  return value === null || value === undefined ? undefined : value;
}

/**
 * Rule: a change of the joined table at a key has the largest timestamp of
 * the rows it joins: the timestamp of the change that triggered it (an
 * update, or a delete: a delete counts as its side's row at the delete's
 * time) and that of the other side's row, when there is one (Kafka
 * Streams' rule). So a result row's timestamp never predates either input
 * row it was computed from.
 *
 * @example
 * tableJoinTimestamp(5, 20);        // 20: the other side's row is newer
 * tableJoinTimestamp(30, 20);       // 30
 * tableJoinTimestamp(5, undefined); // 5: no row on the other side
 */
export function tableJoinTimestamp(changeTs: number, otherRowTs: number | undefined): number {
  return otherRowTs === undefined ? changeTs : Math.max(changeTs, otherRowTs);
}
