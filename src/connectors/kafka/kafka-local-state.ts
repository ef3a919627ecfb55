import { open, type Database, type RootDatabase } from 'lmdb';
import type { StateBackend, StateWrite } from '../../state/key-value-store.ts';
import { lockStateDir } from './kafka-state-dir.ts';

/** Up to where a changelog partition is applied locally, and which topic it was (a topic made again has a new id). */
export interface AppliedOffset {
  readonly topicId: string;
  /** One past the last changelog offset applied. */
  readonly offset: number;
}

/** A changelog partition's position, as a commit or a restore batch moves it. */
export interface AppliedChange extends AppliedOffset {
  readonly topic: string;
  readonly partition: number;
}

/** One key's change, read from a changelog. */
export interface LocalChange {
  readonly key: string;
  readonly value: Uint8Array | null;
}

type StateKey = [task: string, store: string, key: string];

/**
 * One application's task state on local disk: an LMDB environment with the
 * entries of every task store of this machine and, per changelog
 * partition, the offset up to which they are applied — written in the same
 * LMDB transaction as the entries, so that the two always agree. The
 * changelog stays the source of truth: this is a cache of it that spares a
 * restart the whole restore.
 */
export class KafkaLocalState {
  readonly dir: string;
  readonly #root: RootDatabase;
  readonly #state: Database<Uint8Array, StateKey>;
  readonly #applied: Database<AppliedOffset, [string, number]>;
  readonly #unlock: () => void;

  /** Locks `dir` (see lockStateDir) and opens its environment, made if missing. */
  constructor(dir: string) {
    this.dir = dir;
    this.#unlock = lockStateDir(dir);
    try {
      // noSync: a machine's crash may lose the last transactions here, never their order; the restore then replays them from the changelog.
      this.#root = open({ path: dir, noSubdir: false, maxDbs: 4, compression: false, noSync: true });
      this.#state = this.#root.openDB<Uint8Array, StateKey>('state', { keyEncoding: 'ordered-binary', encoding: 'binary' });
      this.#applied = this.#root.openDB<AppliedOffset, [string, number]>('applied', { keyEncoding: 'ordered-binary', encoding: 'msgpack' });
    } catch (e) {
      this.#unlock();
      throw e;
    }
  }

  /** The applied offset of a changelog partition, if any. */
  applied(topic: string, partition: number): AppliedOffset | undefined {
    return this.#applied.get([topic, partition]);
  }

  /** Empties a task's store and forgets its changelog partition's position: it is restored from the log start. */
  wipe(task: string, store: string, topic: string, partition: number): void {
    this.#root.transactionSync(() => {
      for (const key of this.#state.getKeys({ start: [task, store, ''], end: [task, store, '\uffff'] })) this.#state.removeSync(key);
      this.#applied.removeSync([topic, partition]);
    });
  }

  /** A batch of a restore: its changes and the partition's new position, in one transaction. */
  applyRestored(task: string, store: string, changes: readonly LocalChange[], applied: AppliedChange): void {
    this.#root.transactionSync(() => {
      for (const c of changes) this.#put([task, store, c.key], c.value);
      this.#applied.putSync([applied.topic, applied.partition], { topicId: applied.topicId, offset: applied.offset });
    });
  }

  /** A committed Kafka transaction's state writes, and the changelog positions it wrote up to, in one transaction. */
  applyCommit(task: string, writes: readonly StateWrite[], applied: readonly AppliedChange[]): void {
    this.#root.transactionSync(() => {
      for (const w of writes) this.#put([task, w.store, w.key], w.value);
      for (const a of applied) this.#applied.putSync([a.topic, a.partition], { topicId: a.topicId, offset: a.offset });
    });
  }

  #put(key: StateKey, value: Uint8Array | null): void {
    if (value === null) this.#state.removeSync(key);
    else this.#state.putSync(key, value);
  }

  /** The task's committed stores, read from disk on each call. */
  backend(task: string): StateBackend {
    const state = this.#state;
    return {
      get: (store, key) => state.get([task, store, key]),
      *entries(store, from = '', to = '\uffff') {
        for (const { key, value } of state.getRange({ start: [task, store, from], end: [task, store, to] })) yield [key[2], value] as const;
      },
      count: (store) => state.getKeysCount({ start: [task, store, ''], end: [task, store, '\uffff'] }),
    };
  }

  /** Closes the environment and lets go of the directory. */
  async close(): Promise<void> {
    try {
      await this.#root.close();
    } finally {
      this.#unlock();
    }
  }
}
