/**
 * The rules of the stream–stream windowed join (`src/joins/stream-stream.ts`),
 * pinned by tables of hand-worked examples: window edges (both bounds
 * inclusive), grace edges, negative bounds, both event clocks, the worked
 * example of the join docs, and the two properties the operator relies on —
 * a due record can join nothing more, and an open pair has no late side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  compareUnmatched,
  eventClockNow,
  isJoinMatch,
  isLateJoinRecord,
  isPairOpen,
  isUnmatchedDue,
  joinWindowEnd,
  streamJoinResultTimestamp,
  type JoinSide,
  type UnmatchedEntry,
} from '../../src/semantics.ts';

test('isJoinMatch: l − before <= r <= l + after, both bounds inclusive, no clamping at 0', () => {
  const rows: [l: number, r: number, before: number, after: number, expected: boolean][] = [
    // before = 10, after = 0: partners in [90, 100]
    [100, 90, true], [100, 89, false], [100, 100, true], [100, 101, false],
    // before = 0, after = 5: partners in [100, 105]
    [100, 105, 0, 5, true], [100, 106, 0, 5, false], [100, 99, 0, 5, false],
    // ofTimeDifference(5): [95, 105]
    [100, 95, 5, 5, true], [100, 105, 5, 5, true], [100, 94, 5, 5, false], [100, 106, 5, 5, false],
    // before the epoch: no clamping at 0
    [3, -7, 10, 0, true], [0, -10, 10, 10, true], [-5, -15, 10, 0, true], [-5, -16, 10, 0, false],
    // before = −5, after = 10: partners only in the future, [105, 110]
    [100, 104, -5, 10, false], [100, 105, -5, 10, true], [100, 110, -5, 10, true], [100, 111, -5, 10, false], [100, 100, -5, 10, false],
    // before = 10, after = −3: partners only in the past, [90, 97]
    [100, 97, 10, -3, true], [100, 98, 10, -3, false], [100, 90, 10, -3, true], [100, 89, 10, -3, false],
    // before = −5, after = −6: an empty span, nothing matches
    [100, 100, -5, -6, false], [100, 105, -5, -6, false], [100, 94, -5, -6, false],
  ].map((row) => (row.length === 3 ? [row[0], row[1], 10, 0, row[2]] : row) as [number, number, number, number, boolean]);
  for (const [l, r, before, after, expected] of rows) assert.equal(isJoinMatch(l, r, before, after), expected, `l=${l} r=${r} before=${before} after=${after}`);
});

test('joinWindowEnd: one past the last partner timestamp; before and after swap on the right side', () => {
  const rows: [side: JoinSide, ts: number, before: number, after: number, end: number][] = [
    ['left', 100, 10, 0, 101], // partners [90, 100]
    ['right', 100, 10, 0, 111], // partners [100, 110]
    ['left', 100, 0, 5, 106], // partners [100, 105]
    ['right', 100, 0, 5, 101], // partners [95, 100]
    ['left', 100, -5, 10, 111], // partners [105, 110]
    ['right', 100, -5, 10, 96], // partners [90, 95]: the window ends before the record
    ['left', 0, 10, 0, 1],
    ['left', -20, 0, 5, -14],
  ];
  for (const [side, ts, before, after, end] of rows) assert.equal(joinWindowEnd(side, ts, before, after), end, `${side}@${ts} before=${before} after=${after}`);
});

test('joinWindowEnd: a record matches exactly the partners in [its window start, its window end)', () => {
  fc.assert(
    fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: -10, max: 10 }), fc.integer({ min: -10, max: 10 }), (l, r, before, after) => {
      // seen from the left record: r in [l − before, joinWindowEnd(left)); from the right record: l in [r − after, joinWindowEnd(right))
      const fromLeft = l - before <= r && r < joinWindowEnd('left', l, before, after);
      const fromRight = r - after <= l && l < joinWindowEnd('right', r, before, after);
      return isJoinMatch(l, r, before, after) === fromLeft && fromLeft === fromRight;
    }),
    { numRuns: 2000 },
  );
});

test('isLateJoinRecord: late once its join window is closed on arrival (now >= end + grace), on both clocks', () => {
  const rows: [side: JoinSide, ts: number, before: number, after: number, grace: number, now: number, late: boolean][] = [
    ['left', 100, 10, 0, 0, 100, false], // end 101
    ['left', 100, 10, 0, 0, 101, true],
    ['left', 100, 10, 0, 5, 105, false], // grace edge: closes at 106
    ['left', 100, 10, 0, 5, 106, true],
    ['right', 100, 10, 0, 0, 110, false], // end 111
    ['right', 100, 10, 0, 0, 111, true],
    ['right', 100, 10, 0, 5, 115, false],
    ['right', 100, 10, 0, 5, 116, true],
    // a negative bound on its side: in order (now = ts) it is late unless grace >= −bound
    ['right', 100, -5, 10, 4, 100, true], // end 96, closes at 100
    ['right', 100, -5, 10, 5, 100, false], // closes at 101
    ['left', 100, 10, -3, 2, 100, true], // end 98, closes at 100
    ['left', 100, 10, -3, 3, 100, false],
  ];
  for (const [side, ts, before, after, grace, now, late] of rows) {
    assert.equal(isLateJoinRecord(side, ts, before, after, grace, now), late, `${side}@${ts} before=${before} after=${after} grace=${grace} now=${now}`);
  }
  // On the watermark (now = W + 1): a left record at 100 with after = 0, grace = 0 is late once W >= 100.
  assert.equal(isLateJoinRecord('left', 100, 10, 0, 0, eventClockNow('watermark', 500, 99)), false);
  assert.equal(isLateJoinRecord('left', 100, 10, 0, 0, eventClockNow('watermark', 500, 100)), true);
  // grace 5 on the watermark: late once W >= 105, as boundedOutOfOrderness(5) would put it
  assert.equal(isLateJoinRecord('left', 100, 10, 0, 5, eventClockNow('watermark', 0, 104)), false);
  assert.equal(isLateJoinRecord('left', 100, 10, 0, 5, eventClockNow('watermark', 0, 105)), true);
});

test('isPairOpen: now < min(l + after, r + before) + 1 + grace', () => {
  const rows: [l: number, r: number, before: number, after: number, grace: number, now: number, open: boolean][] = [
    [100, 100, 10, 0, 0, 100, true],
    [100, 100, 10, 0, 0, 101, false], // the left window [90, 101) closed
    [100, 95, 10, 0, 0, 100, true], // min(100, 105) + 1 = 101
    [100, 95, 10, 0, 0, 101, false],
    [100, 91, 10, 5, 0, 101, true], // min(105, 101) + 1 = 102: the right window closes first
    [100, 91, 10, 5, 0, 102, false],
    [100, 91, 10, 5, 3, 104, true], // grace edge: 105
    [100, 91, 10, 5, 3, 105, false],
    // before = −5: the right record at 105 processed in order (now 105) joins only with grace >= 5
    [100, 105, -5, 10, 4, 105, false], // min(110, 100) + 1 + 4 = 105
    [100, 105, -5, 10, 5, 105, true],
  ];
  for (const [l, r, before, after, grace, now, open] of rows) {
    assert.equal(isPairOpen(l, r, before, after, grace, now), open, `l=${l} r=${r} before=${before} after=${after} grace=${grace} now=${now}`);
  }
});

test('isUnmatchedDue: due when its join window closes, not before', () => {
  const rows: [side: JoinSide, ts: number, before: number, after: number, grace: number, now: number, due: boolean][] = [
    ['left', 100, 10, 0, 0, 100, false],
    ['left', 100, 10, 0, 0, 101, true],
    ['right', 100, 10, 0, 2, 112, false], // end 111, grace 2: due at 113
    ['right', 100, 10, 0, 2, 113, true],
    ['left', 100, 0, 5, 0, 105, false], // end 106
    ['left', 100, 0, 5, 0, 106, true],
  ];
  for (const [side, ts, before, after, grace, now, due] of rows) {
    assert.equal(isUnmatchedDue(side, ts, before, after, grace, now), due, `${side}@${ts} before=${before} after=${after} grace=${grace} now=${now}`);
  }
});

test('once a record is due, no pair with it is open; an open pair has no late side (so unmatched results are never contradicted)', () => {
  const small = fc.integer({ min: -30, max: 30 });
  const bound = fc.integer({ min: -10, max: 10 });
  const grace = fc.integer({ min: 0, max: 10 });
  fc.assert(
    fc.property(small, small, bound, bound, grace, small, (l, r, before, after, g, now) => {
      const open = isPairOpen(l, r, before, after, g, now);
      if (isUnmatchedDue('left', l, before, after, g, now) && open) return false;
      if (isUnmatchedDue('right', r, before, after, g, now) && open) return false;
      if (open && (isLateJoinRecord('left', l, before, after, g, now) || isLateJoinRecord('right', r, before, after, g, now))) return false;
      // and the clock only closes: a pair closed at now stays closed later
      return open || !isPairOpen(l, r, before, after, g, now + 1);
    }),
    { numRuns: 5000 },
  );
});

test('streamJoinResultTimestamp: max(l, r) for a pair, the record’s own when unmatched', () => {
  assert.equal(streamJoinResultTimestamp(100, 95), 100);
  assert.equal(streamJoinResultTimestamp(95, 100), 100);
  assert.equal(streamJoinResultTimestamp(100, 100), 100);
  assert.equal(streamJoinResultTimestamp(-5, -10), -5);
  assert.equal(streamJoinResultTimestamp(100, undefined), 100);
  assert.equal(streamJoinResultTimestamp(undefined, 7), 7);
  assert.equal(streamJoinResultTimestamp(0, undefined), 0);
  assert.throws(() => streamJoinResultTimestamp(undefined, undefined));
});

test('compareUnmatched: by window end, then side (left first), then timestamp, then sequence', () => {
  // before = 10, after = 0: a left record's window ends at ts + 1, a right one's at ts + 11.
  const c: UnmatchedEntry = { side: 'left', ts: 99, windowEnd: 100, seq: 5 };
  const d: UnmatchedEntry = { side: 'left', ts: 100, windowEnd: 101, seq: 2 };
  const a: UnmatchedEntry = { side: 'left', ts: 100, windowEnd: 101, seq: 3 };
  const b: UnmatchedEntry = { side: 'right', ts: 90, windowEnd: 101, seq: 1 };
  const e: UnmatchedEntry = { side: 'right', ts: 95, windowEnd: 106, seq: 0 };
  assert.deepEqual([a, b, c, d, e].sort(compareUnmatched), [c, d, a, b, e]);
  assert.deepEqual([e, d, c, b, a].sort(compareUnmatched), [c, d, a, b, e]);
  // at one end and side, the earlier timestamp first, whatever the sequence
  const early: UnmatchedEntry = { side: 'left', ts: 5, windowEnd: 10, seq: 9 };
  const late: UnmatchedEntry = { side: 'left', ts: 6, windowEnd: 10, seq: 1 };
  assert.ok(compareUnmatched(early, late) < 0 && compareUnmatched(late, early) > 0);
  assert.equal(compareUnmatched(a, a), 0);
});

test('the worked example of the join docs: left join, before 10, after 0, grace 0 — L@100, X@101 (another key), R@100', () => {
  const [before, after, grace] = [10, 0, 0];
  // L(k)@100: stream time 100; not late; nothing to join; its window [90, 101) is open.
  let now = 100;
  assert.equal(isLateJoinRecord('left', 100, before, after, grace, now), false);
  assert.equal(isUnmatchedDue('left', 100, before, after, grace, now), false);
  // X(j)@101: stream time 101 → after its pass L's window closes: (L, ∅)@100 is emitted, L's state goes.
  now = 101;
  assert.equal(isUnmatchedDue('left', 100, before, after, grace, now), true);
  assert.equal(streamJoinResultTimestamp(100, undefined), 100);
  assert.equal(isUnmatchedDue('left', 101, before, after, grace, now), false); // X waits for 102
  // R(k)@100 at stream time 101: window end 111, not late; it matches L, but the pair is closed — no (L, R).
  assert.equal(joinWindowEnd('right', 100, before, after), 111);
  assert.equal(isLateJoinRecord('right', 100, before, after, grace, now), false);
  assert.equal(isJoinMatch(100, 100, before, after), true);
  assert.equal(isPairOpen(100, 100, before, after, grace, now), false);
  // R itself stays unmatched until its window closes (an outer join emits (∅, R)@100 at stream time 111).
  assert.equal(isUnmatchedDue('right', 100, before, after, grace, 110), false);
  assert.equal(isUnmatchedDue('right', 100, before, after, grace, 111), true);
});
