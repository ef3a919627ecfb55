/**
 * The table rules of `src/tables/change.ts`, pinned by tables of worked
 * examples: what a table record does to its key, which changes are
 * forwarded, `filter` / `mapValues` on a change (old and new alike), and
 * the rules of regrouped tables (`src/tables/regroup.ts`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyTableRecord,
  filterChange,
  hasTableKey,
  isGroupEmpty,
  isOutOfOrderTableUpdate,
  isVisibleChange,
  mapChange,
  membersAfter,
  regroup,
  tableAggregateTimestamp,
  type Change,
  type GroupUpdate,
} from '../../src/semantics.ts';

const A = undefined;

test('applyTableRecord: a null value deletes, any other value replaces, whatever the row held', () => {
  const rows: [current: number | undefined, value: number | null, expected: number | undefined][] = [
    [A, 5, 5], // insert
    [3, 5, 5], // update
    [5, 5, 5], // rewrite with an equal value
    [3, null, A], // delete
    [A, null, A], // delete of an absent key
    [3, 0, 0], // 0 is a value, not a delete
  ];
  for (const [current, value, expected] of rows) assert.equal(applyTableRecord(current, value), expected, `${current} ← ${value}`);
  assert.deepEqual(applyTableRecord<unknown>(A, ''), '');
  assert.deepEqual(applyTableRecord<unknown>({ a: 1 }, false), false);
});

test('hasTableKey: only a null or undefined key is no key', () => {
  const rows: [unknown, boolean][] = [[null, false], [undefined, false], ['', true], [0, true], ['k', true], [{ id: 1 }, true], [false, true]];
  for (const [key, expected] of rows) assert.equal(hasTableKey(key), expected, String(key));
});

test('isOutOfOrderTableUpdate: an update older than the row it changes; never for a key without a row', () => {
  const rows: [number | undefined, number, boolean][] = [[undefined, 5, false], [20, 5, true], [5, 5, false], [5, 20, false], [0, -1, true]];
  for (const [row, ts, expected] of rows) assert.equal(isOutOfOrderTableUpdate(row, ts), expected, `${row}, ${ts}`);
});

test('isVisibleChange: every change but absent → absent is forwarded', () => {
  const rows: [Change<number>, boolean][] = [
    [{ old: A, new: 1 }, true],
    [{ old: 1, new: 2 }, true],
    [{ old: 1, new: 1 }, true],
    [{ old: 1, new: A }, true],
    [{ old: A, new: A }, false],
    [{ old: 0, new: A }, true],
  ];
  for (const [change, expected] of rows) assert.equal(isVisibleChange(change), expected, JSON.stringify(change));
});

test('filterChange: the predicate applies to old and new alike; a value that stops passing reads as absent', () => {
  const even = (_k: string, v: number): boolean => v % 2 === 0;
  const rows: [Change<number>, Change<number>][] = [
    [{ old: A, new: 4 }, { old: A, new: 4 }], // insert that passes
    [{ old: A, new: 5 }, { old: A, new: A }], // insert that does not: nothing visible
    [{ old: 4, new: 6 }, { old: 4, new: 6 }], // update, both pass
    [{ old: 4, new: 5 }, { old: 4, new: A }], // stops passing: a delete below the filter
    [{ old: 5, new: 4 }, { old: A, new: 4 }], // starts passing: an insert below the filter
    [{ old: 5, new: 7 }, { old: A, new: A }], // neither passes: nothing visible
    [{ old: 4, new: A }, { old: 4, new: A }], // delete of a passing value
    [{ old: 5, new: A }, { old: A, new: A }], // delete of a value the filter hid: no tombstone
  ];
  for (const [change, expected] of rows) {
    const got = filterChange('k', change, even);
    assert.deepEqual(got, expected, JSON.stringify(change));
  }
  // The key is passed to the predicate.
  assert.deepEqual(filterChange('keep', { old: 1, new: 2 }, (k) => k === 'keep'), { old: 1, new: 2 });
  assert.deepEqual(filterChange('drop', { old: 1, new: 2 }, (k) => k === 'keep'), { old: A, new: A });
});

test('mapChange: present values are mapped, old and new alike; absent stays absent; a value mapped to null reads as absent', () => {
  const tenfold = (_k: string, v: number): number => v * 10;
  const rows: [Change<number>, Change<number>][] = [
    [{ old: A, new: 2 }, { old: A, new: 20 }],
    [{ old: 2, new: 3 }, { old: 20, new: 30 }],
    [{ old: 2, new: A }, { old: 20, new: A }],
    [{ old: A, new: A }, { old: A, new: A }],
    [{ old: 0, new: 0 }, { old: 0, new: 0 }],
  ];
  for (const [change, expected] of rows) assert.deepEqual(mapChange('k', change, tenfold), expected, JSON.stringify(change));
  const big = (_k: string, v: number): number | null => (v > 2 ? null : v);
  assert.deepEqual(mapChange('k', { old: 2, new: 3 }, big), { old: 2, new: A });
  assert.deepEqual(mapChange('k', { old: 3, new: 1 }, big), { old: A, new: 1 });
  assert.deepEqual(mapChange('ab', { old: 1, new: 2 }, (k, v) => `${k}${v}`), { old: 'ab1', new: 'ab2' });
});

// ---------------------------------------------------------------------------
// Regrouped tables
// ---------------------------------------------------------------------------

type Person = { city: string | null; n: number | null };
const byCity = (_k: string, v: Person): readonly [string | null, number | null] | null => (v.city === 'nowhere' ? null : [v.city, v.n]);
const sameString = (a: string | null, b: string | null): boolean => a === b;

test('regroup: within one group one update (subtract, then add); across groups a subtraction from the old, then an addition to the new; absent or unselected sides contribute nothing', () => {
  const rows: [Change<Person>, unknown[]][] = [
    [{ old: A, new: { city: 'Oslo', n: 1 } }, [{ group: 'Oslo', add: 1 }]], // insert
    [{ old: { city: 'Oslo', n: 1 }, new: A }, [{ group: 'Oslo', subtract: 1 }]], // delete
    [{ old: { city: 'Oslo', n: 1 }, new: { city: 'Oslo', n: 2 } }, [{ group: 'Oslo', subtract: 1, add: 2 }]], // same group
    [{ old: { city: 'Oslo', n: 1 }, new: { city: 'Rome', n: 1 } }, [{ group: 'Oslo', subtract: 1 }, { group: 'Rome', add: 1 }]], // a move: old group first
    [{ old: { city: 'nowhere', n: 1 }, new: { city: 'Rome', n: 1 } }, [{ group: 'Rome', add: 1 }]], // select gave null for the old row
    [{ old: { city: null, n: 1 }, new: { city: 'Rome', n: 1 } }, [{ group: 'Rome', add: 1 }]], // a null group
    [{ old: { city: 'Oslo', n: 1 }, new: { city: 'Oslo', n: null } }, [{ group: 'Oslo', subtract: 1 }]], // a null value
    [{ old: A, new: A }, []],
  ];
  for (const [change, expected] of rows) assert.deepEqual(regroup('k', change, byCity, sameString), expected, JSON.stringify(change));
  // Groups are the same when `sameGroup` says so (the DSL compares their serialized bytes), not by identity.
  const byObject = (_k: string, v: number): readonly [{ g: number }, number] => [{ g: v % 2 }, v];
  assert.deepEqual(regroup('k', { old: 2, new: 4 }, byObject, (a, b) => a.g === b.g), [{ group: { g: 0 }, subtract: 2, add: 4 }]);
  assert.deepEqual(regroup('k', { old: 2, new: 3 }, byObject, (a, b) => a.g === b.g), [{ group: { g: 0 }, subtract: 2 }, { group: { g: 1 }, add: 3 }]);
});

test('membersAfter and isGroupEmpty: one less for a subtraction, one more for an addition; a group of no rows is deleted', () => {
  const rows: [number, GroupUpdate<number>, number, boolean][] = [
    [0, { add: 1 }, 1, false],
    [1, { subtract: 1 }, 0, true],
    [1, { subtract: 1, add: 2 }, 1, false],
    [3, { subtract: 1 }, 2, false],
    [2, {}, 2, false],
  ];
  for (const [before, update, after, empty] of rows) {
    assert.equal(membersAfter(before, update), after, JSON.stringify(update));
    assert.equal(isGroupEmpty(after), empty);
  }
  // 0 is a value to subtract or add, not an absent one.
  assert.equal(membersAfter(1, { subtract: 0 }), 0);
});

test('tableAggregateTimestamp: the largest timestamp of the updates applied to the row', () => {
  const rows: [number | undefined, number, number][] = [[undefined, 7, 7], [3, 7, 7], [9, 7, 9], [7, 7, 7], [undefined, 0, 0]];
  for (const [previous, change, expected] of rows) assert.equal(tableAggregateTimestamp(previous, change), expected, `${previous}, ${change}`);
});
