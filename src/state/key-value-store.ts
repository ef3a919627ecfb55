import type { Serde } from '../records/serde.ts';

/**
 * A task's named key-value store. Writes are seen at once by the task's own
 * reads, and become durable only with the task's next commit, together with
 * its outputs and input positions: after a crash the store holds what the
 * last commit wrote, never a write of work that is redone.
 *
 * @example
 * const counts = ctx.getStore<string, number>('counts');
 * counts.put(record.key, (counts.get(record.key) ?? 0) + 1);
 */
export interface KeyValueStore<K, V> {
  /** The store's name, as declared. */
  readonly name: string;
  /** The value under `key`, or undefined. */
  get(key: K): V | undefined;
  /** Sets the value under `key`. */
  put(key: K, value: V): void;
  /** Removes `key`. */
  delete(key: K): void;
  /** Every entry, in the order of the keys' serialized bytes. */
  all(): IterableIterator<[K, V]>;
}

/** One change to a store, as committed: key and value bytes (hex key), `null` value for a delete. */
export interface StateWrite {
  /** The store's name. */
  readonly store: string;
  /** The key's bytes, in hex. */
  readonly key: string;
  /** The value's bytes; null deletes the key. */
  readonly value: Uint8Array | null;
}

/** Where a task's committed store contents are read from (the embedded log's LMDB, or memory in tests). */
export interface StateBackend {
  /** The committed value under `key` (hex) in `store`, or undefined. */
  get(store: string, key: string): Uint8Array | undefined;
  /** Entries of a store in key order; with bounds, those with `from <= key < to`. */
  entries(store: string, from?: string, to?: string): Iterable<readonly [string, Uint8Array]>;
  /** How many entries a store holds. */
  count(store: string): number;
}

/** How a store keeps its data between commits. */
export type StoreKind = 'in-memory' | 'lmdb';

/** A store's declaration in a topology: made by {@link keyValueStore}, and by aggregations for theirs. */
export interface StoreDefinition<K = unknown, V = unknown> {
  /** The name processors get it by (`ctx.getStore(name)`). */
  readonly name: string;
  /** Where it keeps its data between commits. */
  readonly kind: StoreKind;
  /** How its keys are stored. */
  readonly keySerde: Serde<K>;
  /** How its values are stored. */
  readonly valueSerde: Serde<V>;
  /** An ordered store of bytes (window and session stores), rather than a key-value store. */
  readonly ordered?: boolean;
  /** A versioned table's store (an ordered store of versions, see `VersionedKeyValueStore`), with the history it keeps. */
  readonly versioned?: {
    /** How far back, in event-time ms behind the clock, the history reaches. */
    readonly historyRetentionMs: number;
  };
}

/** A store the runtime can drain at commit time. */
export interface CommittableStore<K, V> extends KeyValueStore<K, V> {
  /** Returns and forgets the writes made since the last call. */
  drainWrites(): StateWrite[];
  /** Forgets the uncommitted writes (the task is rolled back to its last commit). */
  discardWrites(): void;
}

/** Hex of the serialized key: a string whose order is the bytes' order. */
export function keyToHex(bytes: Uint8Array | null): string {
  if (bytes === null) throw new Error('a store key must not serialize to null');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Hex of a store's serialized keys, remembering the last primitive key: a
 * read-modify-write (get, then put) then serializes its key once. Serdes are
 * pure functions, so equal primitive keys (Object.is) have equal bytes;
 * objects are always serialized, as they may have been mutated in between.
 */
export class KeyHexCache<K> {
  readonly #serde: Serde<K>;
  #lastKey: unknown = undefined;
  #lastHex: string | undefined;

  constructor(serde: Serde<K>) {
    this.#serde = serde;
  }

  hexOf(key: K): string {
    if (this.#lastHex !== undefined && Object.is(key, this.#lastKey)) return this.#lastHex;
    const hex = keyToHex(this.#serde.serialize(key));
    if (key === null || (typeof key !== 'object' && typeof key !== 'function')) {
      this.#lastKey = key;
      this.#lastHex = hex;
    }
    return hex;
  }
}

export function hexToBytes(hex: string): Uint8Array {
  return Buffer.from(hex, 'hex');
}
