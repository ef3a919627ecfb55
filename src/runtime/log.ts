import type { Headers, LogRecord } from '../records/record.ts';
import type { StateBackend, StateWrite } from '../state/key-value-store.ts';
import type { SavedWatermarks } from './task-watermarks.ts';
import type { RunPlan } from './run-plan.ts';
import type { GroupCatchUpState } from './group-catch-up.ts';

/** A record to append: the log assigns its offset and `brokerTime`. */
export interface AppendRecord {
  /** The stream to append to. */
  readonly stream: string;
  /** Its partition. */
  readonly partition: number;
  /** The key's bytes; null for no key. */
  readonly key: Uint8Array | null;
  /** The value's bytes; null for a tombstone. */
  readonly value: Uint8Array | null;
  /** Headers (default none). */
  readonly headers?: Headers;
  /** The producer's event time; null for none. */
  readonly eventTime: number | null;
  /** A control record (a watermark record), told apart from data by every reader. */
  readonly control?: 'watermark';
}

/**
 * A partitioned, append-only log: the streams a runtime reads and writes.
 * Implemented by the connectors ({@link EmbeddedLog}, {@link MemoryLog},
 * `KafkaLog`); a log an {@link Application} runs on is a {@link TaskStorage} too.
 * The run's calls are synchronous, except `append`, `close` and the
 * optional preparations, so a log whose data lives on a broker serves
 * reads from what it fetched ahead.
 */
export interface Log {
  /** Creates the stream with `partitions` partitions, or checks an existing one has that many. */
  ensureStream(stream: string, partitions: number): void;
  /** The stream's partition count; undefined when there is no such stream. */
  partitionCount(stream: string): number | undefined;
  /** Names of all streams. */
  streams(): string[];
  /** The offset the next appended record of the partition will get. */
  endOffset(stream: string, partition: number): number;
  /** Up to `max` records from `fromOffset` on, in offset order. */
  read(stream: string, partition: number, fromOffset: number, max: number): LogRecord[];
  /** Appends records in one atomic, durable write; returns them with their offsets and broker times. */
  append(records: readonly AppendRecord[]): Promise<LogRecord[]>;
  /** Closes the log: later calls fail. */
  close(): Promise<void>;
  /**
   * Before a run: create the streams it writes, load metadata and end
   * offsets, restore the state of its tasks. For a log whose reads and
   * commits go to a broker; the synchronous calls of the run are then
   * served from what this prepared.
   */
  prepare?(plan: RunPlan): Promise<void>;
  /**
   * The first offset at or after `from` where a data record may be: a
   * broker's log has offsets without records (transaction markers, aborted
   * records under read_committed), which a reader must step over to reach
   * the end. Undefined, or `from`, where every offset holds a record.
   */
  skipTo?(stream: string, partition: number, from: number): number;
  /**
   * Why the log could never take `record`, even alone (over its stream's
   * size limit on a broker), or undefined when it can or cannot tell yet.
   * Synchronous: a broker log reads its limits when it prepares the run.
   */
  tooLarge?(record: AppendRecord): string | undefined;
  /**
   * Re-reads the end offsets of `streams` from a broker, for `endOffset` to
   * serve: catch-up calls it for internal streams once their writers have
   * committed, and the ends must then include everything they committed.
   */
  refreshEnds?(streams: readonly string[]): Promise<void>;
  /**
   * Takes over tasks a group assigned to this instance in the middle of a
   * run: fences their last owner, then restores their checkpoint and state
   * (as `prepare` does for the tasks a run starts with).
   */
  acquireTasks?(plan: RunPlan, tasks: RunPlan['tasks']): Promise<void>;
  /** Lets go of tasks that moved to another instance: stops reading their inputs and forgets their state. */
  releaseTasks?(applicationId: string, taskIds: readonly string[]): Promise<void>;
  /**
   * A member joins a catch-up shared by a group: the number of the one
   * under way, or of a new one when the last is over (or none was). Members
   * starting at once agree, each proposing the next number.
   */
  beginGroupCatchUp?(applicationId: string): Promise<number>;
  /** The committed catch-up state of each of `taskIds` (fresh from the broker): the catch-up is over when every task's is done. */
  readGroupCatchUp?(applicationId: string, taskIds: readonly string[]): Promise<ReadonlyMap<string, GroupCatchUpState>>;
  /** Records that group catch-up `id` is over, so that the next member to begin one begins a new one. */
  endGroupCatchUp?(applicationId: string, id: number): Promise<void>;
}

/** A task's input position in one partition, and per producer where the producers' records were split. */
export interface InputPosition {
  /** The first offset not yet processed. */
  readonly next: number;
  /**
   * For internal streams, read from `next` on but skip records of a producer
   * below the offset given here: they were processed before the commit.
   */
  readonly producers?: Readonly<Record<string, number>>;
  /** Catch-up: how far other partitions went while this one was at its end (see the task). */
  readonly passedAtEnd?: number;
  /** Real time in a group: the producers of an internal stream that wrote they were leaving a member and have not written since. */
  readonly moving?: readonly string[];
}

/** What a task resumes from: written atomically with its outputs and state. */
export interface TaskCheckpoint {
  /** Keyed by `stream/partition`. */
  readonly positions: Readonly<Record<string, InputPosition>>;
  /** The task's stream time: the largest timestamp it processed. */
  readonly streamTime: number;
  /** Largest timestamp seen per input partition (`stream/partition`), for the `streamTime` timestamp fallback. */
  readonly partitionTimes: Readonly<Record<string, number>>;
  /** How many commits this task has made. */
  readonly commits: number;
  /** Watermarks of the task's inputs and operators, and the last ones it wrote (absent in checkpoints of older versions). */
  readonly watermarks?: SavedWatermarks;
  /** The generation of the run that wrote it (absent in checkpoints of older versions). */
  readonly generation?: number;
  /** In a catch-up shared by a group: which one, the task's ends and how far it came (see `GroupCatchUpState`). */
  readonly catchUp?: GroupCatchUpState;
  /** The checkpoint's format: 2 in this version (with the run's generation and the producers' task sets); absent in the first format. */
  readonly format?: number;
}

/**
 * The format of the checkpoints this tidemark writes. 1: the first (no
 * `format` field); 2: with the run's generation and the producers' task
 * sets, read by this version from either.
 */
export const CHECKPOINT_FORMAT = 2;

/**
 * Everything one task commits at once: its outputs, its state changes and
 * its checkpoint (input positions, clocks, timers' state), all or nothing —
 * so that after a crash the task resumes exactly where its outputs end.
 */
export interface CommitUnit {
  /** The application's id. */
  readonly applicationId: string;
  /** The task's id. */
  readonly taskId: string;
  /** Records to append. */
  readonly outputs: readonly AppendRecord[];
  /** Changes to the task's stores. */
  readonly stateWrites: readonly StateWrite[];
  /** What the task resumes from after this commit. */
  readonly checkpoint: TaskCheckpoint;
  /** Audit entries made since the last commit, kept with the data they explain. */
  readonly audit: readonly AuditEntry[];
}

/** One line of the audit log: a nondeterministic decision, a fallback, a skipped or late record. */
export interface AuditEntry {
  /** What was decided: `fallback:brokerTime`, `late-record`, `dead-letter`, `nondeterministic:idle-partition`, … (see {@link AuditKind}). */
  readonly kind: string;
  /** The task that decided. */
  readonly taskId: string;
  /** The stream of the record it concerns. */
  readonly stream: string;
  /** Its partition. */
  readonly partition: number;
  /** Its offset. */
  readonly offset: number;
  /** What happened, in one line. */
  readonly detail: string;
  /** Wall-clock time of the decision (informative only). */
  readonly at: number;
}

/** Where tasks keep their committed state, positions and clocks, and commit all of it with their outputs. */
export interface TaskStorage {
  /** The task's last committed checkpoint; undefined before its first commit. */
  readCheckpoint(applicationId: string, taskId: string): TaskCheckpoint | undefined;
  /** The task's committed store contents. */
  stateBackend(applicationId: string, taskId: string): StateBackend;
  /**
   * Appends the outputs, applies the state writes and writes the checkpoint,
   * all or nothing per unit (the embedded log: all units at once,
   * synchronously; a broker: a transaction per task).
   */
  commit(units: readonly CommitUnit[]): void | Promise<void>;
  /** Audit entries committed by an application, oldest first. */
  readAudit(applicationId: string): AuditEntry[];
  /** Deletes every task's checkpoint, state and audit of an application (a reset). */
  resetApplication(applicationId: string): void;
}

/** Key of a partition in positions and maps: `stream/partition`. */
export function partitionKey(stream: string, partition: number): string {
  return `${stream}/${partition}`;
}
