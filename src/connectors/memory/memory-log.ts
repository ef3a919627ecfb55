import type { LogRecord } from '../../records/record.ts';
import { systemClock, type Clock } from '../../time/clock.ts';
import type { StateBackend } from '../../state/key-value-store.ts';
import type { AppendRecord, AuditEntry, CommitUnit, Log, TaskCheckpoint, TaskStorage } from '../../runtime/log.ts';
import { assertAppendable } from '../../runtime/log-checks.ts';
import { parseProducerId, producerIdOf } from '../../runtime/ids.ts';

/**
 * A log and task storage held in memory, with the same semantics as the
 * embedded log (atomic commits, broker time from the given clock). It backs
 * the topology test driver; nothing survives the process.
 */
export class MemoryLog implements Log, TaskStorage {
  readonly #clock: Clock;
  readonly #streams = new Map<string, LogRecord[][]>();
  /** By producer id (`application/task`). */
  readonly #checkpoints = new Map<string, TaskCheckpoint>();
  /** By producer id, then store name, then key. */
  readonly #state = new Map<string, Map<string, Map<string, Uint8Array>>>();
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
    return this.#checkpoints.get(producerIdOf(applicationId, taskId));
  }

  stateBackend(applicationId: string, taskId: string): StateBackend {
    const id = producerIdOf(applicationId, taskId);
    const table = (store: string): Map<string, Uint8Array> => this.#table(id, store);
    return {
      get: (store, key) => table(store).get(key),
      entries: (store, from = '', to = '\uffff') =>
        [...table(store).entries()].filter(([k]) => k >= from && k < to).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      count: (store) => table(store).size,
    };
  }

  commit(units: readonly CommitUnit[]): void {
    // Every unit's id first: a commit refused is refused whole.
    const ids = units.map((u) => producerIdOf(u.applicationId, u.taskId));
    for (const u of units) this.appendSync(u.outputs);
    for (const [i, u] of units.entries()) {
      const id = ids[i]!;
      for (const w of u.stateWrites) {
        const t = this.#table(id, w.store);
        if (w.value === null) t.delete(w.key);
        else t.set(w.key, w.value);
      }
      this.#checkpoints.set(id, u.checkpoint);
      const audit = this.#audit.get(u.applicationId) ?? [];
      audit.push(...u.audit);
      this.#audit.set(u.applicationId, audit);
    }
  }

  readAudit(applicationId: string): AuditEntry[] {
    return [...(this.#audit.get(applicationId) ?? [])];
  }

  resetApplication(applicationId: string): void {
    const ofApplication = (id: string): boolean => parseProducerId(id).application === applicationId;
    for (const k of [...this.#checkpoints.keys()]) if (ofApplication(k)) this.#checkpoints.delete(k);
    for (const k of [...this.#state.keys()]) if (ofApplication(k)) this.#state.delete(k);
    this.#audit.delete(applicationId);
  }

  async close(): Promise<void> {}

  /** A store of a task (by its producer id), made empty on first use. */
  #table(id: string, store: string): Map<string, Uint8Array> {
    let stores = this.#state.get(id);
    if (stores === undefined) this.#state.set(id, (stores = new Map()));
    let t = stores.get(store);
    if (t === undefined) stores.set(store, (t = new Map()));
    return t;
  }
}
