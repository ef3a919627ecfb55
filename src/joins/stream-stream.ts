/**
 * The rules of the stream–stream windowed join (inner, left, outer): which
 * records of the two sides match, when a record's join window closes, which
 * records are late, when a pair can still be joined, when an unmatched
 * result is due, result timestamps, and the order of unmatched results
 * released together. The join operator and the tests' references call these
 * rather than restating them; closing is the windows' own rule,
 * `isWindowClosed`.
 *
 * `before` and `after` are the join windows' bounds, seen from the left
 * side; `grace` is their lateness; `now` is the event clock's now
 * (`eventClockNow`: stream time, or the join's watermark plus one).
 */
import { isWindowClosed } from '../windows/lateness.ts';

/** Which input of a join a record came from: the stream `join` is called on (`left`) or its argument (`right`). */
export type JoinSide = 'left' | 'right';

/**
 * Rule: a left record at `l` and a right record at `r` of one key match when
 * `l − before <= r <= l + after`, both bounds inclusive (Kafka Streams'
 * `JoinWindows`; Flink's `between(−before, after)`). No clamping at 0: a
 * bound may reach before the epoch, and `before` or `after` may be negative
 * (partners only in the future, or only in the past).
 *
 * @example
 * isJoinMatch(100, 90, 10, 0);  // true: 100 − 10 <= 90
 * isJoinMatch(100, 101, 10, 0); // false: 101 > 100 + 0
 */
export function isJoinMatch(l: number, r: number, before: number, after: number): boolean {
  return l - before <= r && r <= l + after;
}

/**
 * Rule: a record's join window is the span of its partners' timestamps,
 * half-open at its end: `[l − before, l + after + 1)` for a left record,
 * `[r − after, r + before + 1)` for a right one (the roles of `before` and
 * `after` swap on the right side). Returns the end.
 *
 * @example
 * joinWindowEnd('left', 100, 10, 0);  // 101: partners in [90, 100]
 * joinWindowEnd('right', 100, 10, 0); // 111: partners in [100, 110]
 */
export function joinWindowEnd(side: JoinSide, ts: number, before: number, after: number): number {
  return side === 'left' ? ts + after + 1 : ts + before + 1;
}

/** Whether a record's join window is closed at `now`: the windows' closing rule on its end. */
function isJoinWindowClosed(side: JoinSide, ts: number, before: number, after: number, grace: number, now: number): boolean {
  return isWindowClosed(joinWindowEnd(side, ts, before, after), grace, now);
}

/**
 * Rule: a record is late when its join window is closed on arrival
 * (`isWindowClosed(joinWindowEnd, grace, now)`): it can join nothing; it
 * goes to the late policy, with no joined or unmatched result (Kafka
 * Streams: KAFKA-16123). With a negative bound `b` on its side, a record
 * processed in order (`now = ts`) is late unless `grace >= −b`.
 *
 * @example
 * isLateJoinRecord('left', 100, 10, 0, 5, 105);  // false: closes at 101 + 5 = 106
 * isLateJoinRecord('left', 100, 10, 0, 5, 106);  // true
 */
export function isLateJoinRecord(side: JoinSide, ts: number, before: number, after: number, grace: number, now: number): boolean {
  return isJoinWindowClosed(side, ts, before, after, grace, now);
}

/**
 * Rule: a matching pair is joined when the second of the two is processed
 * while both join windows are still open:
 * `now < min(l + after, r + before) + 1 + grace`. The result is emitted
 * then, once, and never retracted. Whether the two match at all is
 * {@link isJoinMatch}.
 *
 * @example
 * isPairOpen(100, 100, 10, 0, 0, 100); // true
 * isPairOpen(100, 100, 10, 0, 0, 101); // false: the left record's window [90, 101) closed
 */
export function isPairOpen(l: number, r: number, before: number, after: number, grace: number, now: number): boolean {
  return !isJoinWindowClosed('left', l, before, after, grace, now) && !isJoinWindowClosed('right', r, before, after, grace, now);
}

/**
 * Rule: a record with no joined pair yields its unmatched result (left
 * join: left records; outer: both sides) when its join window closes
 * (`isWindowClosed(joinWindowEnd, grace, now)`), not before; by
 * {@link isPairOpen} no pair with it can be joined afterwards, so an
 * unmatched result is never contradicted. Its state goes at the same
 * moment, matched or not.
 *
 * @example
 * isUnmatchedDue('left', 100, 10, 0, 0, 100); // false: its window [90, 101) is open
 * isUnmatchedDue('left', 100, 10, 0, 0, 101); // true
 */
export function isUnmatchedDue(side: JoinSide, ts: number, before: number, after: number, grace: number, now: number): boolean {
  return isJoinWindowClosed(side, ts, before, after, grace, now);
}

/**
 * Rule: a joined pair has timestamp `max(l, r)`; an unmatched result the
 * record's own (`undefined`: the side it has no partner on).
 *
 * @example
 * streamJoinResultTimestamp(100, 95);        // 100
 * streamJoinResultTimestamp(100, undefined); // 100: an unmatched left record
 */
export function streamJoinResultTimestamp(l: number | undefined, r: number | undefined): number {
  if (l === undefined && r === undefined) throw new Error('a join result needs a record on at least one side');
  if (l === undefined) return r!;
  if (r === undefined) return l;
  return Math.max(l, r);
}

/** A record waiting for its join window to close, as {@link compareUnmatched} orders it. */
export interface UnmatchedEntry {
  /** The side the record came from. */
  readonly side: JoinSide;
  /** The record's timestamp. */
  readonly ts: number;
  /** Its join window's end ({@link joinWindowEnd}). */
  readonly windowEnd: number;
  /** The join's sequence number of the record, assigned in scheduled order. */
  readonly seq: number;
}

/**
 * Rule: unmatched results due at one clock move are emitted by window end,
 * then side (left first), then timestamp, then arrival sequence — never by
 * key. Negative when `a` goes first.
 *
 * @example
 * compareUnmatched(
 *   { side: 'right', ts: 90, windowEnd: 101, seq: 0 },
 *   { side: 'left', ts: 100, windowEnd: 101, seq: 1 },
 * ); // > 0: at one window end the left record goes first
 */
export function compareUnmatched(a: UnmatchedEntry, b: UnmatchedEntry): number {
  if (a.windowEnd !== b.windowEnd) return a.windowEnd < b.windowEnd ? -1 : 1;
  if (a.side !== b.side) return a.side === 'left' ? -1 : 1;
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return a.seq - b.seq;
}
