/**
 * tidemark's moments as `node:diagnostics_channel` events, so that a user
 * (an APM agent, a test, a logger) can subscribe without tidemark knowing:
 * a late record, a window fired, a watermark advanced, a commit, a
 * nondeterministic decision, a task assigned or revoked, a store restoring.
 * A message is built only when the channel has subscribers, so an
 * unobserved run pays one property read per moment.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel';
 * import { DIAGNOSTICS_CHANNELS } from 'tidemark';
 * subscribe(DIAGNOSTICS_CHANNELS.recordLate, (m) => console.log('late', m));
 *
 * @module
 */
import { channel, type Channel } from 'node:diagnostics_channel';
import type { AuditEntry } from './log.ts';

/** The channel names, one per moment. */
export const DIAGNOSTICS_CHANNELS = {
  /** {@link RecordLateMessage}: a record late for every window it belongs to, or for one closed window (`lateFor`). */
  recordLate: 'tidemark:record-late',
  /** {@link WindowFiredMessage}: a window operator emitted a result. */
  windowFired: 'tidemark:window-fired',
  /** {@link WatermarkAdvancedMessage}: a task's watermark moved. */
  watermarkAdvanced: 'tidemark:watermark-advanced',
  /** {@link CommitMessage}: the run committed its tasks. */
  commit: 'tidemark:commit',
  /** {@link AuditMessage}: an audit entry was made — `nondeterministic:*` kinds included. */
  audit: 'tidemark:audit',
  /** {@link TaskMessage}: a task started running in this process, or stopped (handed over, or the run ended). */
  task: 'tidemark:task',
  /** {@link RestoreMessage}: how far a task store's restore from its changelog has come (Kafka). */
  restore: 'tidemark:restore',
} as const;

/** A late record: its position and time, the node, why. */
export interface RecordLateMessage {
  /** The application the moment belongs to. */
  readonly applicationId: string;
  /** The task (`subTopology_partition`). */
  readonly taskId: string;
  /** The topology node (operator). */
  readonly node: string;
  /** The record's stream. */
  readonly stream: string;
  /** Its partition. */
  readonly partition: number;
  /** Its offset. */
  readonly offset: number;
  /** Its timestamp (a window result's: the last instant the window covers). */
  readonly timestamp: number;
  /** Late for every window it belongs to (`record`), or for one closed window (`window`). */
  readonly lateFor: 'record' | 'window';
  /** Why, in words. */
  readonly detail: string;
}

/** A window's result: the operator node, the window's bounds, the result's timestamp. */
export interface WindowFiredMessage {
  /** The application the moment belongs to. */
  readonly applicationId: string;
  /** The task (`subTopology_partition`). */
  readonly taskId: string;
  /** The topology node (operator). */
  readonly node: string;
  /** The window's start (inclusive). */
  readonly start: number;
  /** The window's end (exclusive). */
  readonly end: number;
  /** Its timestamp (a window result's: the last instant the window covers). */
  readonly timestamp: number;
}

/** A task's watermark, after it moved. */
export interface WatermarkAdvancedMessage {
  /** The application the moment belongs to. */
  readonly applicationId: string;
  /** The task (`subTopology_partition`). */
  readonly taskId: string;
  /** The task's watermark now. */
  readonly watermark: number;
}

/** A commit of the run's tasks: how many, and how long it took (ms). */
export interface CommitMessage {
  /** The application the moment belongs to. */
  readonly applicationId: string;
  /** How many tasks committed. */
  readonly tasks: number;
  /** How long the commit took (ms, by the monotonic clock). */
  readonly durationMs: number;
}

/** An audit entry as it is made (the audit log's own line), with its application. */
export type AuditMessage = AuditEntry & {
  /** The application the entry belongs to. */
  readonly applicationId: string;
};

/** A task assigned to this process (`assigned`) or no longer run here (`revoked`). */
export interface TaskMessage {
  /** The application the moment belongs to. */
  readonly applicationId: string;
  /** The task (`subTopology_partition`). */
  readonly taskId: string;
  /** Started here, or stopped here. */
  readonly event: 'assigned' | 'revoked';
}

/** How far a restore of one task store from its changelog has come (Kafka): records applied so far, of at most `total`. */
export interface RestoreMessage {
  /** The application. */
  readonly applicationId: string;
  /** The task (`subTopology_partition`). */
  readonly taskId: string;
  /** The store's name. */
  readonly store: string;
  /** Changelog records applied to the local store so far in this restore. */
  readonly done: number;
  /** Changelog offsets this restore covers (an upper bound of its records: compaction and transaction markers leave gaps). */
  readonly total: number;
  /** The restore is over (the last message for this store). */
  readonly finished: boolean;
}

const channels = {
  recordLate: channel(DIAGNOSTICS_CHANNELS.recordLate),
  windowFired: channel(DIAGNOSTICS_CHANNELS.windowFired),
  watermarkAdvanced: channel(DIAGNOSTICS_CHANNELS.watermarkAdvanced),
  commit: channel(DIAGNOSTICS_CHANNELS.commit),
  audit: channel(DIAGNOSTICS_CHANNELS.audit),
  task: channel(DIAGNOSTICS_CHANNELS.task),
  restore: channel(DIAGNOSTICS_CHANNELS.restore),
} satisfies Record<keyof typeof DIAGNOSTICS_CHANNELS, Channel>;

/** Publishes on a channel the message `build` makes, if anyone listens. @internal */
export function publish<M>(name: keyof typeof DIAGNOSTICS_CHANNELS, build: () => M): void {
  const c = channels[name];
  if (c.hasSubscribers) c.publish(build());
}
