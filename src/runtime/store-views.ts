import { hexToBytes, keyToHex, type StateBackend, type StoreDefinition } from '../state/key-value-store.ts';
import { committedEntries, committedValue } from '../state/long-keys.ts';
import { LmdbOrderedStore } from '../state/ordered-store.ts';
import { BEYOND_HISTORY, VersionedKeyValueStore, versionedRange, type ReadOnlyVersionedStore, type VersionedRecord } from '../state/versioned-store.ts';

/**
 * Read access to the committed contents of a key-value store, across the
 * tasks of the application that hold it (a key lives in one task: the one
 * of its partition). A table's store holds its rows with their timestamps.
 *
 * @example
 * const rows = app.store<string, { value: number; timestamp: number }>('prices');
 * rows.get('apple');              // { value: 3, timestamp: 1700000000000 } — as last committed
 * [...rows.range('a', 'b')];      // the keys whose bytes are in ['a', 'b'), in byte order
 */
export interface ReadOnlyKeyValueStore<K, V> {
  /** The store's name, as declared. */
  readonly name: string;
  /** The committed value under `key`, or undefined. */
  get(key: K): V | undefined;
  /** The committed entries with `from <= key < to`, compared as serialized bytes, in that order. */
  range(from: K, to: K): IterableIterator<[K, V]>;
  /** Every committed entry, in the order of the keys' serialized bytes. */
  all(): IterableIterator<[K, V]>;
}

/** A key-value store's committed entries, read from each task's state backend. */
export function keyValueView<K, V>(def: StoreDefinition<K, V>, backends: readonly StateBackend[]): ReadOnlyKeyValueStore<K, V> {
  const hexOf = (key: K): string => keyToHex(def.keySerde.serialize(key));
  function* entries(from?: string, to?: string): IterableIterator<[K, V]> {
    const all = backends.flatMap((b) => [...committedEntries(b, def.name, from, to)]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [hex, bytes] of all) yield [def.keySerde.deserialize(hexToBytes(hex)), def.valueSerde.deserialize(bytes)];
  }
  return {
    name: def.name,
    get(key) {
      const hex = hexOf(key);
      for (const b of backends) {
        const bytes = committedValue(b, def.name, hex);
        if (bytes !== undefined) return def.valueSerde.deserialize(bytes);
      }
      return undefined;
    },
    range: (from, to) => entries(hexOf(from), hexOf(to)),
    all: () => entries(),
  };
}

/**
 * A versioned store's committed versions, read from each task's state
 * backend. A key is read in the task that holds it; a key no task holds
 * reads as absent as of a time every task's history still covers, and
 * beyond history before that.
 */
export function versionedView<K, V>(def: StoreDefinition<K, V>, backends: readonly StateBackend[]): ReadOnlyVersionedStore<K, V> {
  // An ordered store never written to reads exactly what its task committed.
  return new VersionedView(def, backends.map((b) => new VersionedKeyValueStore(new LmdbOrderedStore(def.name, b), def.keySerde, def.valueSerde)));
}

class VersionedView<K, V> implements ReadOnlyVersionedStore<K, V> {
  readonly name: string;
  readonly #keySerde: StoreDefinition<K, V>['keySerde'];
  readonly #stores: readonly VersionedKeyValueStore<K, V>[];

  constructor(def: StoreDefinition<K, V>, stores: readonly VersionedKeyValueStore<K, V>[]) {
    this.name = def.name;
    this.#keySerde = def.keySerde;
    this.#stores = stores;
  }

  #holder(key: K): VersionedKeyValueStore<K, V> | undefined {
    return this.#stores.find((s) => s.holds(key));
  }

  get(key: K): V | undefined {
    return this.#holder(key)?.get(key);
  }

  getAsOf(key: K, t: number): VersionedRecord<V> | undefined | typeof BEYOND_HISTORY {
    const s = this.#holder(key);
    if (s !== undefined) return s.getAsOf(key, t);
    return t >= this.horizon ? undefined : BEYOND_HISTORY;
  }

  range(from: K, to: K): IterableIterator<[K, VersionedRecord<V>]>;
  range(from: K, to: K, t: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY;
  range(from: K, to: K, t?: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY {
    return versionedRange(this.#stores, this.#keySerde, t, from, to);
  }

  all(): IterableIterator<[K, VersionedRecord<V>]>;
  all(t: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY;
  all(t?: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY {
    return versionedRange(this.#stores, this.#keySerde, t);
  }

  /** The largest horizon of the tasks: reads as of any `t` at or after it are exact in every task. */
  get horizon(): number {
    return Math.max(Number.MIN_SAFE_INTEGER, ...this.#stores.map((s) => s.horizon));
  }
}
