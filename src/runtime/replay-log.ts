import type { LogRecord } from '../records/record.ts';
import type { StateBackend } from '../state/key-value-store.ts';
import type { AppendRecord, AuditEntry, CommitUnit, Log, TaskCheckpoint, TaskStorage } from './log.ts';
import type { RunPlan } from './run-plan.ts';

/**
 * A log for replaying an application's input (`tidemark verify`): its
 * input streams are read from the application's own log, each partition
 * only up to a given end — where the application's commits left it — and
 * everything else (outputs, internal streams, state, checkpoints, audit)
 * goes to a scratch log. The application's log is only ever read.
 *
 * @internal
 */
export class ReplayLog implements Log, TaskStorage {
  readonly #source: Log;
  readonly #scratch: Log & TaskStorage;
  /** Per input stream, the end of each partition the replay reads up to. */
  readonly #ends: ReadonlyMap<string, readonly number[]>;

  constructor(source: Log, scratch: Log & TaskStorage, ends: ReadonlyMap<string, readonly number[]>) {
    this.#source = source;
    this.#scratch = scratch;
    this.#ends = ends;
  }

  ensureStream(stream: string, partitions: number): void {
    const ends = this.#ends.get(stream);
    if (ends === undefined) return this.#scratch.ensureStream(stream, partitions);
    if (ends.length !== partitions) throw new Error(`input stream ${stream} has ${ends.length} partitions, the replay was asked for ${partitions}`);
  }

  partitionCount(stream: string): number | undefined {
    return this.#ends.get(stream)?.length ?? this.#scratch.partitionCount(stream);
  }

  streams(): string[] {
    return [...new Set([...this.#ends.keys(), ...this.#scratch.streams()])];
  }

  endOffset(stream: string, partition: number): number {
    const ends = this.#ends.get(stream);
    return ends === undefined ? this.#scratch.endOffset(stream, partition) : (ends[partition] ?? 0);
  }

  read(stream: string, partition: number, fromOffset: number, max: number): LogRecord[] {
    const ends = this.#ends.get(stream);
    if (ends === undefined) return this.#scratch.read(stream, partition, fromOffset, max);
    const end = ends[partition] ?? 0;
    if (fromOffset >= end) return [];
    return this.#source.read(stream, partition, fromOffset, Math.min(max, end - fromOffset)).filter((r) => r.offset < end);
  }

  async append(records: readonly AppendRecord[]): Promise<LogRecord[]> {
    this.#refuseInputWrites(records);
    return this.#scratch.append(records);
  }

  async close(): Promise<void> {
    // The two logs belong to the caller, who closes them.
  }

  async prepare(plan: RunPlan): Promise<void> {
    await this.#scratch.prepare?.(plan);
  }

  readCheckpoint(applicationId: string, taskId: string): TaskCheckpoint | undefined {
    return this.#scratch.readCheckpoint(applicationId, taskId);
  }

  stateBackend(applicationId: string, taskId: string): StateBackend {
    return this.#scratch.stateBackend(applicationId, taskId);
  }

  commit(units: readonly CommitUnit[]): void | Promise<void> {
    for (const u of units) this.#refuseInputWrites(u.outputs);
    return this.#scratch.commit(units);
  }

  readAudit(applicationId: string): AuditEntry[] {
    return this.#scratch.readAudit(applicationId);
  }

  resetApplication(applicationId: string): void {
    this.#scratch.resetApplication(applicationId);
  }

  /** A topology writing a stream it reads would write into the application's input: the replay must not. */
  #refuseInputWrites(records: readonly AppendRecord[]): void {
    const input = records.find((r) => this.#ends.has(r.stream));
    if (input !== undefined) throw new Error(`the topology writes its own input stream ${input.stream}: a replay would change the application's input, so it is not replayed`);
  }
}
