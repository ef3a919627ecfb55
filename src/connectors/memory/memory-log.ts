import type { LogRecord } from '../../records/record.ts';
import { systemClock, type Clock } from '../../time/clock.ts';
import type { StateBackend } from '../../state/key-value-store.ts';
import type { AppendRecord, AuditEntry, CommitUnit, Log, TaskCheckpoint, TaskStorage } from '../../runtime/log.ts';
import { assertAppendable } from '../../runtime/log-checks.ts';

/**
 * A log and task storage held in memory, with the same semantics as the
 * embedded log (atomic commits, broker time from the given clock). It backs
 * the topology test driver; nothing survives the process.
 */
export class MemoryLog implements Log, TaskStorage {
  readonly #clock: Clock;
  readonly #streams = new Map<string, LogRecord[][]>();
  readonly #checkpoints = new Map<string, TaskCheckpoint>();
  readonly #state = new Map<string, Map<string, Uint8Array>>();
  readonly #audit = new Map<string, AuditEntry[]>();

  /** @param clock where `brokerTime` comes from (default: the wall clock). */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  ensureStream(stream: string, partitions: number): void {
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new RangeError(`stream ${stream}: partition count must be a positive integer, got ${partitions}`);
    }
    const existing = this.#streams.get(stream);
    if (existing === undefined) this.#streams.set(stream, Array.from({ length: partitions }, () => []));
    else if (existing.length !== partitions) {
      throw new Error(`stream ${stream} exists with ${existing.length} partitions, not ${partitions}`);
    }
  }

  partitionCount(stream: string): number | undefined {
    return this.#streams.get(stream)?.length;
  }

  streams(): string[] {
    return [...this.#streams.keys()];
  }

  endOffset(stream: string, partition: number): number {
    return this.#streams.get(stream)?.[partition]?.length ?? 0;
  }

  read(stream: string, partition: number, fromOffset: number, max: number): LogRecord[] {
    return this.#streams.get(stream)?.[partition]?.slice(fromOffset, fromOffset + max) ?? [];
  }

  async append(records: readonly AppendRecord[]): Promise<LogRecord[]> {
    return this.appendSync(records);
  }

  /** Appends at once (the memory log has nothing to wait for). */
  appendSync(records: readonly AppendRecord[]): LogRecord[] {
    for (const r of records) assertAppendable(r, this.partitionCount(r.stream));
    const brokerTime = this.#clock.now();
    return records.map((r) => {
      const log = this.#streams.get(r.stream)![r.partition]!;
      const rec: LogRecord = { ...r, headers: r.headers ?? {}, offset: log.length, brokerTime };
      log.push(rec);
      return rec;
    });
  }

  readCheckpoint(applicationId: string, taskId: string): TaskCheckpoint | undefined {
    return this.#checkpoints.get(`${applicationId}\u0000${taskId}`);
  }

  stateBackend(applicationId: string, taskId: string): StateBackend {
    const prefix = `${applicationId}\u0000${taskId}\u0000`;
    const table = (store: string): Map<string, Uint8Array> => {
      let t = this.#state.get(prefix + store);
      if (t === undefined) this.#state.set(prefix + store, (t = new Map()));
      return t;
    };
    return {
      get: (store, key) => table(store).get(key),
      entries: (store, from = '', to = '\uffff') =>
        [...table(store).entries()].filter(([k]) => k >= from && k < to).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      count: (store) => table(store).size,
    };
  }

  commit(units: readonly CommitUnit[]): void {
    for (const u of units) this.appendSync(u.outputs);
    for (const u of units) {
      const backend = `${u.applicationId}\u0000${u.taskId}\u0000`;
      for (const w of u.stateWrites) {
        let t = this.#state.get(backend + w.store);
        if (t === undefined) this.#state.set(backend + w.store, (t = new Map()));
        if (w.value === null) t.delete(w.key);
        else t.set(w.key, w.value);
      }
      this.#checkpoints.set(`${u.applicationId}\u0000${u.taskId}`, u.checkpoint);
      const audit = this.#audit.get(u.applicationId) ?? [];
      audit.push(...u.audit);
      this.#audit.set(u.applicationId, audit);
    }
  }

  readAudit(applicationId: string): AuditEntry[] {
    return [...(this.#audit.get(applicationId) ?? [])];
  }

  resetApplication(applicationId: string): void {
    const prefix = `${applicationId}\u0000`;
    for (const k of [...this.#checkpoints.keys()]) if (k.startsWith(prefix)) this.#checkpoints.delete(k);
    for (const k of [...this.#state.keys()]) if (k.startsWith(prefix)) this.#state.delete(k);
    this.#audit.delete(applicationId);
  }

  async close(): Promise<void> {}
}
