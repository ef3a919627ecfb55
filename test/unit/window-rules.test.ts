/**
 * The window operators scan their stores between bounds computed by the
 * inverses of the window rules (`lastClosedEnd`, `firstOpenStart`,
 * `closedEndsBelow`, `firstJoinableEnd`, `closedStartsBelow`, `neededFrom`,
 * `sessionJoinRange`, `nextAlignedStart`, and the stream–table join's
 * `dueBefore`) and find a record's sliding windows
 * from its neighbours (`slidingStartsContaining`). Each inverse must agree
 * exactly with the rule it inverts, for every input: an off-by-one here would
 * close, purge or miss a window one millisecond early or late.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dueBefore, isStreamRecordDue } from '../../src/joins/stream-table.ts';
import { isTimerDue } from '../../src/time/event-clock.ts';
import { isWindowClosed, lastClosedEnd } from '../../src/windows/lateness.ts';
import { closedEndsBelow, firstJoinableEnd, isLateSessionRecord, joinsSession, sessionCloseEnd, sessionJoinRange } from '../../src/windows/session-windows.ts';
import { closedStartsBelow, leftWindow, neededFrom, rightWindow, slidingStartsContaining, slidingWindowAt, slidingWindowsOf } from '../../src/windows/sliding-windows.ts';
import { firstOpenStart, timeWindowAt } from '../../src/windows/time-windows.ts';
import { alignedStart, floorMod, nextAlignedStart, windowContains } from '../../src/windows/window.ts';

const time = fc.integer({ min: -200, max: 200 });
const lateness = fc.integer({ min: 0, max: 30 });
const span = fc.integer({ min: 0, max: 20 });
const positive = fc.integer({ min: 1, max: 20 });
const runs = { numRuns: 2000 };

test('lastClosedEnd: a window is closed exactly when its end is at most lastClosedEnd', () => {
  fc.assert(fc.property(time, lateness, time, (end, l, now) => isWindowClosed(end, l, now) === end <= lastClosedEnd(l, now)), runs);
});

test('dueBefore: a stream record waiting for its table join is due exactly when its timestamp is below dueBefore', () => {
  fc.assert(fc.property(time, lateness, time, (ts, grace, now) => isStreamRecordDue(ts, grace, now) === ts < dueBefore(grace, now)), runs);
});

test('an event-time timer at t is due exactly when a window ending at t without lateness is closed', () => {
  fc.assert(fc.property(time, time, (t, now) => isTimerDue(t, now) === isWindowClosed(t, 0, now)), runs);
});

test('firstOpenStart: time windows starting below it are closed, the others open', () => {
  fc.assert(fc.property(time, positive, lateness, time, (s, size, l, now) => isWindowClosed(timeWindowAt(s, size).end, l, now) === s < firstOpenStart(size, l, now)), runs);
});

test('nextAlignedStart: the earliest grid start at or after t', () => {
  fc.assert(
    fc.property(time, positive, time, (t, step, offset) => {
      const next = nextAlignedStart(t, step, offset);
      return next >= t && next - step < t && floorMod(next - offset, step) === 0 && alignedStart(next, step, offset) === next;
    }),
    runs,
  );
});

const session = fc.tuple(time, span).map(([start, length]) => ({ start, end: start + length }));

test('closedEndsBelow: sessions ending below it are closed, the others open', () => {
  fc.assert(fc.property(session, positive, lateness, time, (s, gap, l, now) => isWindowClosed(sessionCloseEnd(s, gap), l, now) === s.end < closedEndsBelow(gap, l, now)), runs);
});

test('sessionJoinRange: exactly the sessions a record joins', () => {
  fc.assert(
    fc.property(session, positive, time, (s, gap, ts) => {
      const { fromEnd, toStart } = sessionJoinRange(ts, gap);
      return joinsSession(s, ts, gap) === (s.end >= fromEnd && s.start <= toStart);
    }),
    runs,
  );
});

test('firstJoinableEnd: a record that is not late joins no session ending below it, and one ending there is joinable', () => {
  fc.assert(
    fc.property(session, positive, lateness, time, time, (s, gap, l, now, ts) => {
      const bound = firstJoinableEnd(gap, l, now);
      if (!isLateSessionRecord(ts, false, gap, l, now) && joinsSession(s, ts, gap)) assert.ok(s.end >= bound, `session ${JSON.stringify(s)} joined by ${ts} below ${bound}`);
      // Tight: the earliest record not late joins a session ending exactly at the bound.
      const earliest = closedEndsBelow(gap, l, now);
      assert.equal(isLateSessionRecord(earliest, false, gap, l, now), false);
      assert.equal(isLateSessionRecord(earliest - 1, false, gap, l, now), true);
      assert.ok(joinsSession({ start: bound, end: bound }, earliest, gap));
    }),
    runs,
  );
});

test('closedStartsBelow: sliding windows starting below it are closed, the others open', () => {
  fc.assert(fc.property(time, span, lateness, time, (s, d, l, now) => isWindowClosed(slidingWindowAt(s, d).end, l, now) === s < closedStartsBelow(d, l, now)), runs);
});

test('neededFrom: a record below it is in no open window, and no record of its right window can still be accepted', () => {
  fc.assert(
    fc.property(time, span, lateness, time, (q, d, l, now) => {
      // The windows containing an instant t end at most at t + d + 1 (the left window of t + d, the right window of t − 1).
      const allClosedAround = (t: number): boolean => isWindowClosed(t + d + 1, l, now);
      const lastOfRight = rightWindow(q, d).end - 1;
      const goes = allClosedAround(q) && allClosedAround(lastOfRight);
      return goes === q < neededFrom(d, l, now);
    }),
    runs,
  );
});

test('slidingStartsContaining: from the records within d + 1, the windows of slidingWindowsOf that contain t', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 12 }), span, fc.nat(), (timestamps, d, pick) => {
      const t = timestamps[pick % timestamps.length]!;
      const near = timestamps.filter((u) => Math.abs(u - t) <= d + 1);
      const expected = slidingWindowsOf(timestamps, d)
        .filter((w) => windowContains(w, t))
        .map((w) => w.start);
      assert.deepEqual(slidingStartsContaining(t, near, d), expected);
      // The left window of t is always among them.
      assert.ok(expected.includes(leftWindow(t, d).start));
    }),
    runs,
  );
});
