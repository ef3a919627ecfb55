/**
 * The rules of the table–table join (`src/joins/table-table.ts`), pinned by
 * tables of worked examples: which keys each kind has and with which value,
 * a joiner that returns null, and the timestamp of a change of the joined
 * table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableJoinTimestamp, tableJoinValue, type TableJoinKind } from '../../src/semantics.ts';

const A = undefined;
const j = (l: string | undefined, r: string | undefined): string => `${l ?? '-'}+${r ?? '-'}`;

test('tableJoinValue: inner needs both rows, left the left one, outer either; the missing side is undefined', () => {
  const rows: [left: string | undefined, right: string | undefined, inner: string | undefined, left: string | undefined, outer: string | undefined][] = [
    ['l', 'r', 'l+r', 'l+r', 'l+r'],
    ['l', A, A, 'l+-', 'l+-'],
    [A, 'r', A, A, '-+r'],
    [A, A, A, A, A],
    ['', '', '+', '+', '+'], // the empty string is a value
  ];
  for (const [l, r, ...want] of rows) {
    (['inner', 'left', 'outer'] as const).forEach((kind: TableJoinKind, i) => assert.equal(tableJoinValue(kind, l, r, j), want[i], `${kind} ${l} ⋈ ${r}`));
  }
});

test('tableJoinValue: a joiner returning null (or undefined) makes the key absent; a falsy value is a value', () => {
  assert.equal(tableJoinValue('outer', 1, 2, () => null), A);
  assert.equal(tableJoinValue('outer', 1, 2, () => undefined), A);
  assert.equal(tableJoinValue('inner', 1, 2, () => 0), 0);
  assert.equal(tableJoinValue('inner', 1, 2, () => false), false);
  let calls = 0;
  assert.equal(tableJoinValue('inner', 1, A, () => ++calls), A);
  assert.equal(calls, 0, 'the joiner is not called for a key the join does not have');
});

test('tableJoinTimestamp: the larger of the change\'s and the other row\'s; the change\'s own with no other row', () => {
  const rows: [change: number, other: number | undefined, expected: number][] = [
    [5, 20, 20],
    [30, 20, 30],
    [20, 20, 20],
    [5, A, 5],
    [0, A, 0],
  ];
  for (const [change, other, expected] of rows) assert.equal(tableJoinTimestamp(change, other), expected, `${change}, ${other}`);
});
