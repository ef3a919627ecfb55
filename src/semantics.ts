/**
 * The rules of tidemark's event time as pure functions: stream time,
 * timestamps and their invalid-timestamp policy, watermarks and how they
 * combine, producers' watermarks across services, window assignment,
 * closing, firing and lateness, result timestamps, the changes of tables, the stream–stream join, the table–table and foreign-key joins, the default partitioner
 * and the task assignment of a consumer group. The runtime decides with
 * these very functions, so a test (or a reader of the docs) can check a
 * case against them.
 *
 * @example
 * import { isWindowClosed, timeWindowsFor } from 'tidemark/semantics';
 * timeWindowsFor(12_345, 10_000, 5_000, 0); // the hopping windows [5000, 15000) and [10000, 20000)
 * isWindowClosed(20_000, 1_000, 21_000);   // true: stream time reached end + grace
 *
 * @module tidemark/semantics
 */

// Timestamps and stream time.
export { isValidTimestamp, NO_TIMESTAMP } from './time/timestamp.ts';
export { resolveTimestamp, type TimestampResolution } from './time/invalid-timestamp-policy.ts';
export { advanceStreamTime, advancePartitionTime, isOutOfOrder } from './time/stream-time.ts';

// Watermarks.
export { NO_WATERMARK, MAX_WATERMARK, advanceWatermark, combineWatermarks, boundedOutOfOrdernessWatermark } from './time/watermark.ts';
export {
  producersWatermark,
  newProducerApplication,
  applyAnnouncement,
  applyRelease,
  isProducerLate,
  nextGeneration,
  type WatermarkReport,
  type ProducerApplication,
  type ProducerState,
} from './time/producer-watermarks.ts';
export { eventClockNow, isTimerDue } from './time/event-clock.ts';

// Windows: assignment, closing, firing, lateness, result timestamps.
export { timeWindowsFor } from './windows/time-windows.ts';
export { slidingWindowsOf, slidingStartsContaining, leftWindow, rightWindow } from './windows/sliding-windows.ts';
export { joinsSession, isLateSessionRecord, sessionCloseEnd, mergeSessions, type Session } from './windows/session-windows.ts';
export { isWindowClosed, isLateRecord, isWindowFired, fireDelay, firesBeforeClosing, stateLateness } from './windows/lateness.ts';
export { alignedStart, resultTimestamp } from './windows/window.ts';

// Tables: what a table record does, which changes are forwarded, filter and mapValues on a change; regrouped tables; versioned tables.
export { applyTableRecord, hasTableKey, isOutOfOrderTableUpdate, isVisibleChange, filterChange, mapChange, type Change } from './tables/change.ts';
export { regroup, membersAfter, isGroupEmpty, tableAggregateTimestamp, type GroupUpdate, type RegroupEntry } from './tables/regroup.ts';
export { historyHorizon, isLateTableUpdate, versionAsOf, isExactAsOf, isExactRangeAsOf, isLatestUpdate, isPurgeableVersion, purgeableAt, NO_HORIZON, type Version } from './tables/versioned.ts';

// Partitioning, task assignment, and the ends of a catch-up shared by a group.
export { partitionForKey } from './runtime/partitioner.ts';
export { assignTasks } from './runtime/task-group.ts';
export { internalCatchUpEnd, isGroupCatchUpOver, isShareEnded } from './runtime/group-catch-up.ts';
export { internalPartitionCount } from './runtime/run-plan.ts';

// Stream–stream joins: which records match, their join windows, late records, open pairs, unmatched results and their order.
export {
  isJoinMatch,
  joinWindowEnd,
  isLateJoinRecord,
  isPairOpen,
  isUnmatchedDue,
  streamJoinResultTimestamp,
  compareUnmatched,
  type JoinSide,
  type UnmatchedEntry,
} from './joins/stream-stream.ts';

// Stream–table joins: when a record joins the table as of its time, late records, the held history horizon, late table updates, and when a latest-value join may differ.
export {
  isStreamRecordDue,
  heldHorizon,
  missedJoinedRecords,
  streamTableResultTimestamp,
  latestMayDifferFromAsOf,
} from './joins/stream-table.ts';
// Table–table joins: the joined value at a key and the timestamp of its changes.
export { tableJoinValue, tableJoinTimestamp, type TableJoinKind } from './joins/table-table.ts';

// Foreign-key table joins: the right row a left row joins, its subscriptions, and which answers count.
export { foreignKeyOf, subscriptionChanges, isCurrentResponse, type ForeignKeyJoinKind, type SubscriptionChange } from './joins/foreign-key.ts';
