/**
 * The rules of the foreign-key table join (`src/joins/foreign-key.ts`),
 * pinned by tables of worked examples: which right row a left row joins,
 * the subscriptions a change of a left row ends and makes, and which
 * answers count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foreignKeyOf, isCurrentResponse, subscriptionChanges } from '../../src/semantics.ts';

const A = undefined;
const same = (a: string, b: string): boolean => a === b;

test('foreignKeyOf: the foreign key of a present row; none for an absent row or a null (or undefined) foreign key', () => {
  const fk = (v: { p: string | null | undefined }) => v.p;
  assert.equal(foreignKeyOf({ p: 'p1' }, fk), 'p1');
  assert.equal(foreignKeyOf({ p: '' }, fk), '', 'the empty string is a key');
  assert.equal(foreignKeyOf({ p: null }, fk), A);
  assert.equal(foreignKeyOf({ p: undefined }, fk), A);
  assert.equal(foreignKeyOf(A, fk), A);
});

test('subscriptionChanges: end the old subscription when the foreign key changed or went, then subscribe to the new one, even when unchanged', () => {
  const rows: [old: string | undefined, now: string | undefined, expected: string[]][] = [
    [A, 'p1', ['subscribe p1']], // a new row
    ['p1', 'p1', ['subscribe p1']], // a new value under the same foreign key
    ['p1', 'p2', ['unsubscribe p1', 'subscribe p2']], // a foreign-key change: the old one ends first
    ['p1', A, ['unsubscribe p1']], // a deleted row, or a null foreign key
    [A, A, []], // no foreign key before or after
  ];
  for (const [old, now, expected] of rows) assert.deepEqual(subscriptionChanges(old, now, same).map((c) => `${c.kind} ${c.fk}`), expected, `${old} → ${now}`);
  // Foreign keys are the same by the given test (the join compares their bytes).
  assert.deepEqual(subscriptionChanges({ id: 1 }, { id: 1 }, (a, b) => a.id === b.id).map((c) => c.kind), ['subscribe']);
});

test('isCurrentResponse: an answer counts for the newest version seen or a newer one; an older one is stale', () => {
  const rows: [version: number, newest: number | undefined, expected: boolean][] = [
    [0, A, true],
    [3, 3, true],
    [4, 3, true],
    [2, 3, false],
  ];
  for (const [version, newest, expected] of rows) assert.equal(isCurrentResponse(version, newest), expected, `${version} vs ${newest}`);
});
