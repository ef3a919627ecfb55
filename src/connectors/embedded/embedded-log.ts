import type { Database, RootDatabase } from 'lmdb';
import { existsSync, mkdirSync } from 'node:fs';
import type { LogRecord } from '../../records/record.ts';
import { systemClock, type Clock } from '../../time/clock.ts';
import type { StateBackend } from '../../state/key-value-store.ts';
import type { AppendRecord, AuditEntry, CommitUnit, Log, TaskCheckpoint, TaskStorage } from '../../runtime/log.ts';
import { assertAppendable } from '../../runtime/log-checks.ts';
import type { RunPlan } from '../../runtime/run-plan.ts';
import { checkDataFile, dataFileOf, DataDirError } from './data-file.ts';
import { describeTakeOver, TaskFences, type TakenOver } from './task-fences.ts';
import { OpenLock } from './open-lock.ts';
import { openEnvironment, type OpenedEnvironment, type StoredRecord } from './environment.ts';

/** Where {@link EmbeddedLog.open} opens its log, and how. */
export interface EmbeddedLogOptions {
  /** The data directory; created when missing (unless `existing` or `readOnly`). Several processes may open the same one at once. */
  readonly dataDir: string;
  /** Where `brokerTime` comes from; the wall clock unless a test passes its own. */
  readonly clock?: Clock;
  /** The directory must already hold a log (a `data.mdb`): nothing is created. */
  readonly existing?: boolean;
  /**
   * Only read: nothing is created or written (implies `existing`), and a
   * directory the process may only read can be opened (LMDB then reads
   * without its lock file).
   */
  readonly readOnly?: boolean;
  /**
   * Told, in one line, when a run on this log takes tasks from another run
   * that is still alive (which then stops at its next commit).
   */
  readonly onTakeOver?: (line: string) => void;
}

/**
 * The embedded default: a partitioned log, task state and checkpoints in
 * one LMDB environment, so that a task's outputs, state changes and input
 * positions commit in one transaction: after a crash, a task's state and
 * positions are exactly those of its last outputs. No server is needed;
 * LMDB's own locking lets a producer process and a tidemark process append
 * to and read the same data directory at once.
 *
 * @example
 * const log = await EmbeddedLog.open({ dataDir: './data' });
 * log.ensureStream('clicks', 4);
 * await log.append([{ stream: 'clicks', partition: 0, key: null, value: bytes, eventTime: Date.now() }]);
 */
export class EmbeddedLog implements Log, TaskStorage {
  /** The data directory the log is in. */
  readonly dataDir: string;
  readonly #root: RootDatabase;
  /** Held while the environment is opened, and in every write transaction: see {@link OpenLock}. */
  readonly #lock: OpenLock;
  readonly #streams: Database<{ partitions: number }, string>;
  readonly #records: Database<StoredRecord, [string, number, number]>;
  readonly #ends: Database<number, [string, number]>;
  readonly #checkpoints: Database<TaskCheckpoint, [string, string]>;
  readonly #state: Database<Uint8Array, [string, string, string, string]>;
  readonly #audit: Database<AuditEntry, [string, number]>;
  /** Which run holds each task; undefined when read-only. */
  readonly #fences: TaskFences | undefined;
  readonly #clock: Clock;
  readonly #readOnly: boolean;
  readonly #onTakeOver: ((line: string) => void) | undefined;

  private constructor(options: EmbeddedLogOptions) {
    this.dataDir = options.dataDir;
    this.#clock = options.clock ?? systemClock;
    this.#readOnly = options.readOnly === true;
    this.#onTakeOver = options.onTakeOver;
    const exists = existsSync(dataFileOf(options.dataDir));
    if (!exists && (this.#readOnly || options.existing === true)) throw new DataDirError(`no tidemark data dir at ${options.dataDir} (no data.mdb)`);
    if (exists) checkDataFile(options.dataDir);
    else mkdirSync(options.dataDir, { recursive: true });
    this.#lock = OpenLock.of(options.dataDir, !this.#readOnly);
    let opened: OpenedEnvironment;
    try {
      opened = this.#lock.hold(() => openEnvironment(options.dataDir, this.#readOnly, exists));
    } catch (e) {
      void this.#lock.close();
      throw e;
    }
    const { root, databases } = opened;
    this.#root = root;
    this.#streams = databases.streams;
    this.#records = databases.records;
    this.#ends = databases.ends;
    this.#checkpoints = databases.checkpoints;
    this.#state = databases.state;
    this.#audit = databases.audit;
    this.#fences = databases.fences === undefined ? undefined : new TaskFences(databases.fences, options.dataDir);
  }

  /**
   * Opens the embedded log in `dataDir`, creating it if needed. Throws a
   * one-line {@link DataDirError} for a directory without a log (with
   * `existing` or `readOnly`), a damaged `data.mdb` or an unknown format.
   */
  static async open(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
    return new EmbeddedLog(options);
  }

  /** A write transaction, under the lock (see {@link OpenLock}): every write of this log is one. */
  #write(fn: () => void): void {
    this.#lock.hold(() => this.#root.transactionSync(fn));
  }

  #assertWritable(): void {
    if (this.#readOnly) throw new Error(`data dir ${this.dataDir} is open read-only`);
  }

  /**
   * Before a run: takes its tasks. A run that held
   * them before loses them: its next commit fails, naming this one.
   */
  async prepare(plan: RunPlan): Promise<void> {
    this.#takeTasks(plan.applicationId, plan.tasks);
  }

  /** Tasks a group gave this instance in the middle of a run: taken as at the start. */
  async acquireTasks(plan: RunPlan, tasks: RunPlan['tasks']): Promise<void> {
    this.#takeTasks(plan.applicationId, tasks);
  }

  async releaseTasks(applicationId: string, taskIds: readonly string[]): Promise<void> {
    this.#fences?.release(applicationId, taskIds);
  }

  #takeTasks(applicationId: string, tasks: RunPlan['tasks']): void {
    this.#assertWritable();
    if (tasks.length === 0) return;
    let taken: TakenOver[] = [];
    this.#write(() => (taken = this.#fences!.take(applicationId, tasks.map((t) => t.taskId), Date.now())));
    for (const t of taken) this.#onTakeOver?.(describeTakeOver(t, this.dataDir));
  }

  ensureStream(stream: string, partitions: number): void {
    this.#assertWritable();
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new RangeError(`stream ${stream}: partition count must be a positive integer, got ${partitions}`);
    }
    this.#write(() => {
      const existing = this.#streams.get(stream);
      if (existing === undefined) this.#streams.putSync(stream, { partitions });
      else if (existing.partitions !== partitions) {
        throw new Error(`stream ${stream} exists with ${existing.partitions} partitions, not ${partitions}`);
      }
    });
  }

  partitionCount(stream: string): number | undefined {
    return this.#streams.get(stream)?.partitions;
  }

  streams(): string[] {
    return [...this.#streams.getKeys()].map(String);
  }

  endOffset(stream: string, partition: number): number {
    return this.#ends.get([stream, partition]) ?? 0;
  }

  read(stream: string, partition: number, fromOffset: number, max: number): LogRecord[] {
    const out: LogRecord[] = [];
    for (const { key, value } of this.#records.getRange({
      start: [stream, partition, fromOffset],
      end: [stream, partition, fromOffset + max],
    })) {
      out.push({
        stream,
        partition,
        offset: key[2],
        key: value.k,
        value: value.v,
        headers: Array.isArray(value.h) ? Object.fromEntries(value.h) : value.h,
        eventTime: value.e,
        brokerTime: value.b,
        ...(value.w === 1 ? { control: 'watermark' as const } : {}),
      });
    }
    return out;
  }

  async append(records: readonly AppendRecord[]): Promise<LogRecord[]> {
    this.#assertWritable();
    let appended: LogRecord[] = [];
    this.#write(() => {
      appended = this.#appendInTransaction(records, true);
    });
    await this.#root.flushed;
    return appended;
  }

  /**
   * Appends within the caller's write transaction; offsets are read there, so
   * concurrent writers never collide. Partition counts and end offsets are
   * read once per stream and partition, not per record (a commit appends
   * thousands). Returns the appended records when `collect` (for `append`);
   * a commit needs none.
   */
  #appendInTransaction(records: readonly AppendRecord[], collect: boolean): LogRecord[] {
    const brokerTime = this.#clock.now();
    const partitionCounts = new Map<string, number | undefined>();
    const ends = new Map<string, number[]>();
    const appended: LogRecord[] = [];
    for (const r of records) {
      let partitions = partitionCounts.get(r.stream);
      if (partitions === undefined) {
        partitions = this.partitionCount(r.stream);
        partitionCounts.set(r.stream, partitions);
      }
      assertAppendable(r, partitions);
      let streamEnds = ends.get(r.stream);
      if (streamEnds === undefined) ends.set(r.stream, (streamEnds = []));
      const offset = streamEnds[r.partition] ?? this.endOffset(r.stream, r.partition);
      streamEnds[r.partition] = offset + 1;
      const headers = r.headers ?? {};
      const h = Object.hasOwn(headers, '__proto__') ? Object.entries(headers) : headers;
      const stored: StoredRecord = { k: r.key, v: r.value, h, e: r.eventTime, b: brokerTime };
      if (r.control === 'watermark') stored.w = 1;
      this.#records.putSync([r.stream, r.partition, offset], stored);
      if (collect) appended.push({ ...r, headers, offset, brokerTime });
    }
    for (const [stream, streamEnds] of ends) {
      streamEnds.forEach((end, partition) => this.#ends.putSync([stream, partition], end));
    }
    return appended;
  }

  readCheckpoint(applicationId: string, taskId: string): TaskCheckpoint | undefined {
    return this.#checkpoints.get([applicationId, taskId]);
  }

  stateBackend(applicationId: string, taskId: string): StateBackend {
    const state = this.#state;
    return {
      get: (store, key) => state.get([applicationId, taskId, store, key]),
      *entries(store, from = '', to = '\uffff') {
        for (const { key, value } of state.getRange({ start: [applicationId, taskId, store, from], end: [applicationId, taskId, store, to] })) {
          yield [key[3], value] as const;
        }
      },
      count: (store) => state.getKeysCount({ start: [applicationId, taskId, store, ''], end: [applicationId, taskId, store, '\uffff'] }),
    };
  }

  /**
   * Commits the units in one write transaction — or nothing of them, with a
   * {@link TaskMigratedError}, when another run took one of their tasks since
   * this one took it.
   */
  commit(units: readonly CommitUnit[]): void {
    this.#assertWritable();
    this.#write(() => {
      this.#fences!.check(units);
      for (const u of units) {
        this.#appendInTransaction(u.outputs, false);
        for (const w of u.stateWrites) {
          const key: [string, string, string, string] = [u.applicationId, u.taskId, w.store, w.key];
          if (w.value === null) this.#state.removeSync(key);
          else this.#state.putSync(key, w.value);
        }
        this.#checkpoints.putSync([u.applicationId, u.taskId], u.checkpoint);
        if (u.audit.length > 0) {
          let seq = this.#nextAuditSeq(u.applicationId);
          for (const a of u.audit) this.#audit.putSync([u.applicationId, seq++], a);
        }
      }
    });
  }

  #nextAuditSeq(applicationId: string): number {
    for (const key of this.#audit.getKeys({ start: [applicationId, Number.MAX_SAFE_INTEGER], end: [applicationId, -1], reverse: true, limit: 1 })) {
      return key[1] + 1;
    }
    return 0;
  }

  /**
   * The applications that have committed on this log (a checkpoint of at
   * least one task), sorted: what `tidemark audit` and `query` offer when
   * given an id that is not there.
   *
   * @example
   * log.applicationIds(); // ['max-temps', 'sensor-alerts']
   */
  applicationIds(): string[] {
    const ids = new Set<string>();
    for (const [applicationId] of this.#checkpoints.getKeys()) ids.add(applicationId);
    return [...ids].sort();
  }

  readAudit(applicationId: string): AuditEntry[] {
    return [...this.#audit.getRange({ start: [applicationId, -1], end: [applicationId, Number.MAX_SAFE_INTEGER] })].map((e) => e.value);
  }

  resetApplication(applicationId: string): void {
    this.#assertWritable();
    this.#write(() => {
      for (const key of this.#checkpoints.getKeys({ start: [applicationId, ''], end: [applicationId, '\uffff'] })) this.#checkpoints.removeSync(key);
      for (const key of this.#state.getKeys({ start: [applicationId, ''], end: [applicationId, '\uffff'] })) this.#state.removeSync(key);
      for (const key of this.#audit.getKeys({ start: [applicationId, -1], end: [applicationId, Number.MAX_SAFE_INTEGER] })) this.#audit.removeSync(key);
    });
  }

  /** Resolves when every commit so far is on disk. */
  async flushed(): Promise<void> {
    await this.#root.flushed;
  }

  async close(): Promise<void> {
    await this.#root.close();
    await this.#lock.close();
  }
}
