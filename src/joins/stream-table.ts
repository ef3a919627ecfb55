/**
 * The rules of stream–table joins: when a stream record joins a versioned
 * table as of its own time (and when it is late), how far back the table
 * must keep its history while records wait, which table updates came too
 * late for results already emitted, and when a join on the table's latest
 * value may answer differently from the as-of join. The join operators and
 * the tests' references call these rather than restating them; closing is
 * the windows' own rule, `isWindowClosed`.
 *
 * `now` is the join's event clock now (`eventClockNow`: stream time, or
 * its watermark plus one); `grace` is how long a stream record waits for
 * the table updates of its own time that are still on their way.
 */
import { isWindowClosed } from '../windows/lateness.ts';
import { isExactAsOf } from '../tables/versioned.ts';

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
 * Rule: a stream record is late when, as it is joined, the table's answer
 * as of its time is no longer exact (`!isExactAsOf(ts, horizon,
 * latestFrom)`): the history it needs may have been purged. It goes to the
 * late policy (dropped and counted, or a side output; audited either way),
 * never to a join with what is left — Kafka Streams joins it with null.
 *
 * @example
 * isLateStreamRecord(650, 700, 600); // false: the latest version began at 600
 * isLateStreamRecord(650, 700, 680); // true: what held at 650 may be gone
 */
export function isLateStreamRecord(ts: number, horizon: number, latestFrom: number | undefined): boolean {
  return !isExactAsOf(ts, horizon, latestFrom);
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
 * when an update of a time in `(currentFrom, streamTs]` was processed before
 * and replaced by an older one (one of `newer`, the timestamps processed for
 * the key that are newer than its current state, is `<= streamTs`).
 * `currentFrom` is the timestamp of the update (a delete included) that
 * made the key's current state; undefined before its first update. Each
 * such join is audited as a nondeterministic decision
 * (`nondeterministic:latest-value-join`), as is each table update that
 * {@link missedJoinedRecords}: a run without those audits joined exactly
 * what the as-of join of the whole input would have.
 *
 * @example
 * latestMayDifferFromAsOf(100, 120, []);   // true: the value is from after the record
 * latestMayDifferFromAsOf(100, 50, [90]);  // true: the update at 90 was replaced by one at 50
 * latestMayDifferFromAsOf(100, 50, [120]); // false: as of 100 the table held the same
 */
export function latestMayDifferFromAsOf(streamTs: number, currentFrom: number | undefined, newer: readonly number[]): boolean {
  if (currentFrom === undefined) return false;
  return currentFrom > streamTs || newer.some((t) => t <= streamTs);
}

/**
 * The timestamps processed for a key that are newer than its state after an
 * update at `ts` (see {@link latestMayDifferFromAsOf}): those of before,
 * and the replaced state's own, that are `> ts`. Empty while a key's
 * updates come in timestamp order.
 *
 * @example
 * newerAfterUpdate([], 90, 50);   // [90]: an update at 50 replaced the one at 90
 * newerAfterUpdate([90], 50, 95); // []: in order again
 */
export function newerAfterUpdate(newer: readonly number[], currentFrom: number | undefined, ts: number): number[] {
  return [...newer, ...(currentFrom === undefined ? [] : [currentFrom])].filter((t) => t > ts);
}
