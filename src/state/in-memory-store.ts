import { KeyHexCache, hexToBytes, type CommittableStore, type StateBackend, type StateWrite, type StoreDefinition } from './key-value-store.ts';
import { DigestOwners, committedEntries, committedValue, encodeWrites, isLongKey } from './long-keys.ts';
import { ownKey, readStoreValue, storeValueBytes, storeValueOf, storeValueOfBytes, type StoreValue } from './store-value.ts';

/**
 * A store held wholly in memory. Its changes are still committed with the
 * task (as a changelog in the same transaction), and it is restored from
 * them when the task starts, as Kafka Streams restores an in-memory store
 * from its changelog topic. Values are held as `StoreValue`s: a copy of
 * the store's own, serialized when it commits.
 */
export class InMemoryKeyValueStore<K, V> implements CommittableStore<K, V> {
  readonly name: string;
  readonly #def: StoreDefinition<K, V>;
  readonly #keys: KeyHexCache<K>;
  readonly #data = new Map<string, { key: K; value: StoreValue<V> }>();
  readonly #owners: DigestOwners;
  /** Read to clear a long key's entry of the old whole-key form when it is written, and for the committed values a rollback goes back to. */
  readonly #backend: StateBackend;
  /** The keys written since the last commit (hex), with their values (null: deleted). Rolling back reads the committed values again from the backend: it holds them, so no undo log is kept. */
  #pending = new Map<string, StoreValue<V> | null>();

  constructor(def: StoreDefinition<K, V>, backend: StateBackend) {
    this.name = def.name;
    this.#def = def;
    this.#keys = new KeyHexCache(def.keySerde);
    this.#owners = new DigestOwners(def.name);
    this.#backend = backend;
    for (const [hex, bytes, stored] of committedEntries(backend, def.name)) {
      this.#owners.restored(stored, hex);
      this.#data.set(hex, { key: def.keySerde.deserialize(hexToBytes(hex)), value: storeValueOfBytes(bytes) });
    }
  }

  get(key: K): V | undefined {
    const e = this.#data.get(this.#hexOf(key));
    return e === undefined ? undefined : readStoreValue(this.#def.valueSerde, e.value);
  }

  put(key: K, value: V): void {
    if (value === undefined || value === null) return this.delete(key);
    const hex = this.#hexOf(key);
    this.#claim(hex);
    const stored = storeValueOf(this.#def.valueSerde, value);
    this.#data.set(hex, { key: ownKey(this.#def.keySerde, key, hex), value: stored });
    this.#pending.set(hex, stored);
  }

  delete(key: K): void {
    const hex = this.#hexOf(key);
    this.#claim(hex);
    this.#data.delete(hex);
    this.#pending.set(hex, null);
  }

  *all(): IterableIterator<[K, V]> {
    const keys = [...this.#data.keys()].sort();
    for (const k of keys) {
      const e = this.#data.get(k);
      if (e !== undefined) yield [ownKey(this.#def.keySerde, e.key, k), readStoreValue(this.#def.valueSerde, e.value)];
    }
  }

  #hexOf(key: K): string {
    return this.#keys.hexOf(key);
  }

  drainWrites(): StateWrite[] {
    const writes: StateWrite[] = [];
    for (const [key, value] of this.#pending) writes.push(...encodeWrites(this.#backend, this.name, key, value === null ? null : storeValueBytes(this.#def.valueSerde, value)));
    this.#pending = new Map();
    return writes;
  }

  discardWrites(): void {
    for (const hex of this.#pending.keys()) {
      const before = committedValue(this.#backend, this.name, hex);
      if (before === undefined) this.#data.delete(hex);
      else this.#data.set(hex, { key: this.#def.keySerde.deserialize(hexToBytes(hex)), value: storeValueOfBytes(before) });
    }
    this.#pending = new Map();
  }

  #claim(hex: string): void {
    if (isLongKey(hex)) this.#owners.claim(hex, (other) => this.#data.has(other));
  }
}
