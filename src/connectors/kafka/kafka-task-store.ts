import { publish, type RestoreMessage } from '../../runtime/diagnostics.ts';
import { join } from 'node:path';
import type { StateBackend } from '../../state/key-value-store.ts';
import type { AuditEntry, CommitUnit, TaskCheckpoint } from '../../runtime/log.ts';
import { producerIdOf } from '../../runtime/ids.ts';
import { kafkaTopics, type TopicCatalog } from './kafka-topics.ts';
import type { KafkaReader } from './kafka-reader.ts';
import { KafkaLocalState, type AppliedChange, type LocalChange } from './kafka-local-state.ts';
import { restoreStart, type RestoreProgress } from './kafka-restore.ts';

const decoder = new TextDecoder();

/** An application's directory name: one per id (`_` is escaped too, unlike in topic names), never `.` or `..`. */
export function dirNameOf(applicationId: string): string {
  return applicationId.replace(/[^a-zA-Z0-9-]/g, (c) => `_${c.codePointAt(0)!.toString(16)}`);
}

/** A partition's end written by a committed transaction. */
export interface WrittenEnd {
  readonly topic: string;
  readonly partition: number;
  /** One past the last record the transaction wrote there. */
  readonly end: number;
}

/** Where a {@link KafkaTaskStore} keeps state, and whom it tells of restores. */
export interface KafkaTaskStoreOptions {
  /** Each application's state is in `<stateDir>/<application>`. */
  readonly stateDir: string;
  readonly onRestore?: ((progress: RestoreProgress) => void) | undefined;
}

/**
 * The tasks' view of what is committed on Kafka: each task's checkpoint (in
 * memory, by producer id `application/task`), its stores' entries (in LMDB
 * on local disk, {@link KafkaLocalState}), brought up to the changelog's end
 * when a task is taken over and moved on by each of its commits; and each
 * application's audit, read from its topic on demand.
 */
export class KafkaTaskStore {
  readonly #reader: KafkaReader;
  readonly #topics: TopicCatalog;
  readonly #options: KafkaTaskStoreOptions;
  readonly #checkpoints = new Map<string, TaskCheckpoint>();
  /** By application, opened at its first task. */
  readonly #local = new Map<string, KafkaLocalState>();
  /** Changelog topic ids as seen at the restores: a commit's positions are recorded against them. */
  readonly #topicIds = new Map<string, string>();
  /** By application: the audit read from its topic, up to `next`. */
  readonly #audit = new Map<string, { entries: AuditEntry[]; next: number }>();
  /** By application: audit this process committed, with the audit topic's end after each commit (dropped once read from the topic). */
  readonly #ownAudit = new Map<string, { entries: readonly AuditEntry[]; end: number }[]>();

  constructor(reader: KafkaReader, topics: TopicCatalog, options: KafkaTaskStoreOptions) {
    this.#reader = reader;
    this.#topics = topics;
    this.#options = options;
  }

  /** Reads the checkpoints of `tasks`. */
  async restoreCheckpoints(app: string, tasks: ReadonlySet<string>): Promise<void> {
    for (const task of tasks) this.#checkpoints.delete(producerIdOf(app, task));
    for (const r of await this.#reader.readAll(kafkaTopics.checkpoints(app), 0)) {
      if (r.key === null) continue;
      const task = decoder.decode(r.key);
      if (!tasks.has(task)) continue;
      if (r.value === null || r.value.byteLength === 0) this.#checkpoints.delete(producerIdOf(app, task));
      else this.#checkpoints.set(producerIdOf(app, task), JSON.parse(decoder.decode(r.value)) as TaskCheckpoint);
    }
  }

  /**
   * Brings a task's store on local disk up to its changelog partition's
   * committed end: from the offset it has applied when that is within the
   * log (a restart on the same machine reads only the tail), else from the
   * log start into an emptied store (see restoreStart). In batches of a
   * fetch, each applied with its position in one LMDB transaction.
   * Returns the changelog records applied.
   */
  async restoreState(app: string, taskId: string, store: string, topic: string, partition: number): Promise<number> {
    const local = this.#localOf(app);
    const topicId = this.#topics.metadata?.topics.get(topic)?.id ?? '';
    this.#topicIds.set(topic, topicId);
    await this.#reader.settle([topic]);
    const committedEnd = this.#reader.stableEnd(topic, partition);
    const logStart = (await this.#reader.logStarts(topic))[partition] ?? 0;
    const saved = local.applied(topic, partition);
    const { from, wipe } = restoreStart(saved?.topicId === topicId ? saved.offset : undefined, logStart, committedEnd);
    if (wipe) local.wipe(taskId, store, topic, partition);
    const total = Math.max(0, committedEnd - from);
    let done = 0;
    const report = (finished: boolean): void => {
      const progress: RestoreMessage = { applicationId: app, taskId, store, done, total, finished };
      this.#options.onRestore?.(progress);
      publish('restore', () => progress);
    };
    if (total > 0) report(false);
    const at = (offset: number): AppliedChange => ({ topic, partition, topicId, offset });
    const end = await this.#reader.scan(topic, partition, from, (records, next) => {
      const changes: LocalChange[] = [];
      for (const r of records) if (r.key !== null) changes.push({ key: decoder.decode(r.key), value: r.value });
      local.applyRestored(taskId, store, changes, at(next));
      done += records.length;
      report(false);
    }, true);
    local.applyRestored(taskId, store, [], at(end));
    if (total > 0) report(true);
    return done;
  }

  readCheckpoint(applicationId: string, taskId: string): TaskCheckpoint | undefined {
    return this.#checkpoints.get(producerIdOf(applicationId, taskId));
  }

  stateBackend(applicationId: string, taskId: string): StateBackend {
    return this.#localOf(applicationId).backend(taskId);
  }

  /** Reads the application's audit topic on from where the last load stopped (from its start the first time). */
  async loadAudit(applicationId: string): Promise<void> {
    const topic = kafkaTopics.audit(applicationId);
    if (this.#topics.partitionCount(topic) === undefined) await this.#topics.refresh([topic]).catch(() => undefined);
    if (this.#topics.partitionCount(topic) === undefined) return;
    const loaded = this.#audit.get(applicationId) ?? { entries: [], next: 0 };
    loaded.next = await this.#reader.scan(topic, 0, loaded.next, (records) => {
      for (const r of records) if (r.value !== null) loaded.entries.push(...(JSON.parse(decoder.decode(r.value)) as AuditEntry[]));
    });
    this.#audit.set(applicationId, loaded);
    this.#ownAudit.set(applicationId, (this.#ownAudit.get(applicationId) ?? []).filter((o) => o.end > loaded.next));
  }

  /** The audit loaded by {@link loadAudit}, and what this process committed since. */
  readAudit(applicationId: string): AuditEntry[] {
    return [...(this.#audit.get(applicationId)?.entries ?? []), ...(this.#ownAudit.get(applicationId) ?? []).flatMap((o) => o.entries)];
  }

  /**
   * Committed: the task's checkpoint moves on, and its state on disk with
   * the changelog positions the transaction wrote up to (`written`), in one
   * LMDB transaction. A crash before this leaves the local store behind
   * the changelog: the next restore replays the tail.
   */
  applyCommit(u: CommitUnit, written: readonly WrittenEnd[]): void {
    const changelogs = new Set(u.stateWrites.map((w) => kafkaTopics.changelog(u.applicationId, w.store)));
    const ends = new Map<string, AppliedChange>();
    for (const w of written) {
      if (!changelogs.has(w.topic)) continue;
      const key = `${w.topic}/${w.partition}`;
      if ((ends.get(key)?.offset ?? -1) < w.end) ends.set(key, { topic: w.topic, partition: w.partition, topicId: this.#topicIds.get(w.topic) ?? '', offset: w.end });
    }
    this.#localOf(u.applicationId).applyCommit(u.taskId, u.stateWrites, [...ends.values()]);
    this.#checkpoints.set(producerIdOf(u.applicationId, u.taskId), u.checkpoint);
    const auditTopic = kafkaTopics.audit(u.applicationId);
    const auditEnd = Math.max(-1, ...written.filter((w) => w.topic === auditTopic).map((w) => w.end));
    if (u.audit.length > 0) this.#ownAudit.set(u.applicationId, [...(this.#ownAudit.get(u.applicationId) ?? []), { entries: u.audit, end: auditEnd }]);
  }

  /** Forgets a task's checkpoint (it moved away); its state stays on disk, brought up to date if the task comes back. */
  forget(applicationId: string, taskId: string): void {
    this.#checkpoints.delete(producerIdOf(applicationId, taskId));
  }

  /** Closes the local stores and lets go of their directories. */
  async close(): Promise<void> {
    const all = [...this.#local.values()];
    this.#local.clear();
    for (const l of all) await l.close();
  }

  /** Opens the application's local state (locking its directory) unless open. */
  openLocal(applicationId: string): void {
    this.#localOf(applicationId);
  }

  #localOf(applicationId: string): KafkaLocalState {
    let local = this.#local.get(applicationId);
    if (local === undefined) this.#local.set(applicationId, (local = new KafkaLocalState(join(this.#options.stateDir, dirNameOf(applicationId)))));
    return local;
  }
}
