/**
 * The rules of stream–table joins: when a stream record joins a versioned
 * table as of its own time (and when it is late), how far back the table
 * must keep its history while records wait, which table updates came too
 * late for results already emitted, and when a join on the table's latest
 * value may answer differently from the as-of join. The join operators and
 * the tests' references call these rather than restating them; closing is
 * the windows' own rule, `isWindowClosed`. A stream record is late when,
 * as it is joined, the table's answer as of its time is not exact any more
 * (`isExactAsOf` of the versioned tables, which the store's read answers
 * `BEYOND_HISTORY`): it goes to the late policy, never to a join with what
 * is left of the history — Kafka Streams joins it with null.
 *
 * `now` is the join's event clock now (`eventClockNow`: stream time, or
 * its watermark plus one); `grace` is how long a stream record waits for
 * the table updates of its own time that are still on their way.
 */
import { isWindowClosed, lastClosedEnd } from '../windows/lateness.ts';

/**
 * Rule: a stream record at `ts` joins the table as of `ts` once event time
 * has passed `ts + grace`: `isWindowClosed(ts + 1, grace, now)`, that is
 * stream time `>= ts + 1 + grace`, or watermark `>= ts + grace`. Until then
 * it waits in the join's buffer; records due at one clock move are joined
 * in event order (timestamp, then arrival). A record that arrives already
 * due is joined at once.
 *
 * @example
 * isStreamRecordDue(100, 0, 100); // false: an update at 100 may still come
 * isStreamRecordDue(100, 0, 101); // true
 * isStreamRecordDue(100, 5, 105); // false: closes at 101 + 5 = 106
 */
export function isStreamRecordDue(ts: number, grace: number, now: number): boolean {
  return isWindowClosed(ts + 1, grace, now);
}

/**
 * The inverse of {@link isStreamRecordDue}, for scans over records kept in
 * time order: `isStreamRecordDue(ts, grace, now)` holds exactly when
 * `ts < dueBefore(grace, now)`.
 *
 * @example
 * dueBefore(5, 106); // 101: a record at 100 is due, one at 101 is not
 * @internal
 */
export function dueBefore(grace: number, now: number): number {
  // isWindowClosed(ts + 1, grace, now) ⇔ ts + 1 <= lastClosedEnd(grace, now).
  return lastClosedEnd(grace, now);
}

/**
 * Rule: a versioned table read by stream–table joins keeps its history back
 * to the oldest stream record still waiting in their buffers: its horizon is
 * `min(historyHorizon, oldestWaiting)`. So a record that was on time when it
 * arrived is never made late by the clock jumping while it waits.
 *
 * @example
 * heldHorizon(900, 5);         // 5: a record at 5 still waits
 * heldHorizon(900, undefined); // 900: nothing waits
 */
export function heldHorizon(horizon: number, oldestWaiting: number | undefined): number {
  return oldestWaiting === undefined ? horizon : Math.min(horizon, oldestWaiting);
}

/**
 * Rule: a table update at `tu` came too late for results already emitted
 * when a stream record of its key with a timestamp `>= tu` was already
 * joined (`lastJoinedTs`: the largest timestamp joined for the key): that
 * result would have seen it. It is written to the history all the same
 * (stream records not joined yet see it), and counted and audited as
 * `late-table-update` — it depends on the input alone, like a late record.
 *
 * @example
 * missedJoinedRecords(3, 5);         // true: a record at 5 was joined before the update at 3 came
 * missedJoinedRecords(6, 5);         // false
 * missedJoinedRecords(3, undefined); // false: nothing joined yet
 */
export function missedJoinedRecords(tu: number, lastJoinedTs: number | undefined): boolean {
  return lastJoinedTs !== undefined && lastJoinedTs >= tu;
}

/**
 * Rule: a stream–table join result has the stream record's timestamp (and
 * its headers): it is the stream record, enriched.
 *
 * @example
 * streamTableResultTimestamp(1_000); // 1000
 */
export function streamTableResultTimestamp(streamTs: number): number {
  return streamTs;
}

/**
 * Rule: a join on a table's latest value (`joinLatest`) may answer
 * differently from the as-of join — its result then depends on which of the
 * two inputs happened to be processed first — when the key's current state
 * was written after the stream record's time (`currentFrom > streamTs`), or
 * when an older update replaced a newer one (`maxFrom > currentFrom`) and
 * the record is after the current state (`streamTs > currentFrom`): an
 * update between the two may be what the table held at the record's time.
 * `currentFrom` is the timestamp of the update (a delete included) that
 * made the key's current state, `maxFrom` the largest timestamp processed
 * for the key; both undefined before its first update. The second case
 * keeps one number per key, so it is conservative: it may flag a join
 * whose answer was the as-of one after all, never misses one that was not.
 * Each such join is audited as a nondeterministic decision
 * (`nondeterministic:latest-value-join`), as is each table update that
 * {@link missedJoinedRecords}: a run without those audits joined exactly
 * what the as-of join of the whole input would have.
 *
 * @example
 * latestMayDifferFromAsOf(100, 120, 120); // true: the value is from after the record
 * latestMayDifferFromAsOf(100, 50, 90);   // true: an update at 50 replaced the one at 90
 * latestMayDifferFromAsOf(100, 90, 90);   // false: as of 100 the table held the same
 */
export function latestMayDifferFromAsOf(streamTs: number, currentFrom: number | undefined, maxFrom: number | undefined): boolean {
  if (currentFrom === undefined || maxFrom === undefined) return false;
  return currentFrom > streamTs || (maxFrom > currentFrom && streamTs > currentFrom);
}
