import type { StateBackend } from '../../state/key-value-store.ts';
import type { AuditEntry, CommitUnit, TaskCheckpoint } from '../../runtime/log.ts';
import { producerIdOf } from '../../runtime/ids.ts';
import { kafkaTopics } from './kafka-topics.ts';
import type { KafkaReader } from './kafka-reader.ts';

const decoder = new TextDecoder();

/**
 * The tasks' view of what is committed on Kafka, held in memory: each
 * task's checkpoint and store state (by producer id, `application/task`)
 * and each application's audit, restored from their topics when a task is
 * taken over and moved on by each of its commits.
 */
export class KafkaTaskStore {
  readonly #reader: KafkaReader;
  readonly #checkpoints = new Map<string, TaskCheckpoint>();
  /** Per task, its stores by name, each store's entries by key. */
  readonly #state = new Map<string, Map<string, Map<string, Uint8Array>>>();
  readonly #audit = new Map<string, AuditEntry[]>();

  constructor(reader: KafkaReader) {
    this.#reader = reader;
  }

  /** Reads the checkpoints of `tasks` and the whole audit log. */
  async restoreCheckpoints(app: string, tasks: ReadonlySet<string>): Promise<void> {
    for (const task of tasks) this.#checkpoints.delete(producerIdOf(app, task));
    for (const r of await this.#reader.readAll(kafkaTopics.checkpoints(app), 0)) {
      if (r.key === null) continue;
      const task = decoder.decode(r.key);
      if (!tasks.has(task)) continue;
      if (r.value === null || r.value.byteLength === 0) this.#checkpoints.delete(producerIdOf(app, task));
      else this.#checkpoints.set(producerIdOf(app, task), JSON.parse(decoder.decode(r.value)) as TaskCheckpoint);
    }
    const audit: AuditEntry[] = [];
    for (const r of await this.#reader.readAll(kafkaTopics.audit(app), 0)) if (r.value !== null) audit.push(...(JSON.parse(decoder.decode(r.value)) as AuditEntry[]));
    this.#audit.set(app, audit);
  }

  /** Reads a task's store from its changelog partition. */
  async restoreState(app: string, taskId: string, store: string, topic: string, partition: number): Promise<void> {
    const state = new Map<string, Uint8Array>();
    for (const r of await this.#reader.readAll(topic, partition)) {
      if (r.key === null) continue;
      const key = decoder.decode(r.key);
      if (r.value === null) state.delete(key);
      else state.set(key, r.value);
    }
    this.#storesOf(app, taskId).set(store, state);
  }

  readCheckpoint(applicationId: string, taskId: string): TaskCheckpoint | undefined {
    return this.#checkpoints.get(producerIdOf(applicationId, taskId));
  }

  stateBackend(applicationId: string, taskId: string): StateBackend {
    // Looked up on each use: a task moved away and back is restored into new maps.
    const of = (store: string): Map<string, Uint8Array> => {
      const stores = this.#storesOf(applicationId, taskId);
      let m = stores.get(store);
      if (m === undefined) stores.set(store, (m = new Map()));
      return m;
    };
    return {
      get: (store, key) => of(store).get(key),
      *entries(store, from = '', to = '\uffff') {
        const m = of(store);
        for (const k of [...m.keys()].filter((k) => k >= from && k < to).sort()) yield [k, m.get(k)!] as const;
      },
      count: (store) => of(store).size,
    };
  }

  readAudit(applicationId: string): AuditEntry[] {
    return [...(this.#audit.get(applicationId) ?? [])];
  }

  /** Committed: the task's own view of its state and checkpoint moves on. */
  applyCommit(u: CommitUnit): void {
    const stores = this.#storesOf(u.applicationId, u.taskId);
    for (const w of u.stateWrites) {
      const m = stores.get(w.store) ?? new Map<string, Uint8Array>();
      stores.set(w.store, m);
      if (w.value === null) m.delete(w.key);
      else m.set(w.key, w.value);
    }
    this.#checkpoints.set(producerIdOf(u.applicationId, u.taskId), u.checkpoint);
    if (u.audit.length > 0) this.#audit.set(u.applicationId, [...(this.#audit.get(u.applicationId) ?? []), ...u.audit]);
  }

  /** Forgets a task's checkpoint and state (it moved away): restored afresh if it comes back. */
  forget(applicationId: string, taskId: string): void {
    const key = producerIdOf(applicationId, taskId);
    this.#checkpoints.delete(key);
    this.#state.delete(key);
  }

  /** The stores of a task, by name (made empty on first use). */
  #storesOf(applicationId: string, taskId: string): Map<string, Map<string, Uint8Array>> {
    const key = producerIdOf(applicationId, taskId);
    let stores = this.#state.get(key);
    if (stores === undefined) this.#state.set(key, (stores = new Map()));
    return stores;
  }
}
