import { open, type Database, type RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import type { Headers, LogRecord } from '../../time/record.ts';
import { systemClock, type Clock } from '../../time/clock.ts';
import type { StateBackend } from '../../state/key-value-store.ts';
import type { AppendRecord, AuditEntry, CommitUnit, Log, TaskCheckpoint, TaskStorage } from '../../runtime/log.ts';
import { assertAppendable } from '../../runtime/log-checks.ts';

interface StoredRecord {
  k: Uint8Array | null;
  v: Uint8Array | null;
  /** Name-value pairs when a name is `__proto__`, which msgpack's reader renames in an object. */
  h: Headers | [string, string][];
  e: number | null;
  b: number;
  /** 1 on a watermark record: the flag a plain reader of the log tells control records by. */
  w?: 1;
}

export interface EmbeddedLogOptions {
  /** The data directory; created when missing. Several processes may open the same one at once. */
  readonly dataDir: string;
  /** Where `brokerTime` comes from; the wall clock unless a test passes its own. */
  readonly clock?: Clock;
}

/**
 * The embedded default: a partitioned log, task state and checkpoints in
 * one LMDB environment, so that a task's outputs, state changes and input
 * positions commit in one transaction (DESIGN 4.8). No server is needed;
 * LMDB's own locking lets a producer process and a tidemark process append
 * to and read the same data directory at once.
 *
 * @example
 * const log = await EmbeddedLog.open({ dataDir: './data' });
 * log.ensureStream('clicks', 4);
 * await log.append([{ stream: 'clicks', partition: 0, key: null, value: bytes, eventTime: Date.now() }]);
 */
export class EmbeddedLog implements Log, TaskStorage {
  readonly dataDir: string;
  readonly #root: RootDatabase;
  readonly #streams: Database<{ partitions: number }, string>;
  readonly #records: Database<StoredRecord, [string, number, number]>;
  readonly #ends: Database<number, [string, number]>;
  readonly #checkpoints: Database<TaskCheckpoint, [string, string]>;
  readonly #state: Database<Uint8Array, [string, string, string, string]>;
  readonly #audit: Database<AuditEntry, [string, number]>;
  readonly #clock: Clock;

  private constructor(options: EmbeddedLogOptions) {
    this.dataDir = options.dataDir;
    this.#clock = options.clock ?? systemClock;
    mkdirSync(options.dataDir, { recursive: true });
    // noSubdir: lmdb-js treats a path with an extension (`./data.v2`, `mktemp -d`'s `/tmp/tmp.XYZ`) as a file unless told.
    this.#root = open({ path: options.dataDir, noSubdir: false, maxDbs: 16, compression: false });
    const opts = { keyEncoding: 'ordered-binary' as const, encoding: 'msgpack' as const };
    this.#streams = this.#root.openDB('streams', opts);
    this.#records = this.#root.openDB('records', opts);
    this.#ends = this.#root.openDB('ends', opts);
    this.#checkpoints = this.#root.openDB('checkpoints', opts);
    this.#state = this.#root.openDB('state', opts);
    this.#audit = this.#root.openDB('audit', opts);
  }

  /** Opens (creating if needed) the embedded log in `dataDir`. */
  static async open(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
    return new EmbeddedLog(options);
  }

  ensureStream(stream: string, partitions: number): void {
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new RangeError(`stream ${stream}: partition count must be a positive integer, got ${partitions}`);
    }
    this.#root.transactionSync(() => {
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
    let appended: LogRecord[] = [];
    this.#root.transactionSync(() => {
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

  commit(units: readonly CommitUnit[]): void {
    this.#root.transactionSync(() => {
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

  readAudit(applicationId: string): AuditEntry[] {
    return [...this.#audit.getRange({ start: [applicationId, -1], end: [applicationId, Number.MAX_SAFE_INTEGER] })].map((e) => e.value);
  }

  resetApplication(applicationId: string): void {
    this.#root.transactionSync(() => {
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
  }
}
