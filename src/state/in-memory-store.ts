import { KeyHexCache, hexToBytes, type CommittableStore, type StateBackend, type StateWrite, type StoreDefinition } from './key-value-store.ts';
import { DigestOwners, committedEntries, committedValue, encodeWrites, isLongKey } from './long-keys.ts';

/**
 * A store held wholly in memory. Its changes are still committed with the
 * task (as a changelog in the same transaction), and it is restored from
 * them when the task starts, as Kafka Streams restores an in-memory store
 * from its changelog topic.
 */
export class InMemoryKeyValueStore<K, V> implements CommittableStore<K, V> {
  readonly name: string;
  readonly #def: StoreDefinition<K, V>;
  readonly #keys: KeyHexCache<K>;
  readonly #data = new Map<string, { key: K; value: V }>();
  readonly #owners: DigestOwners;
  /** Read to clear a long key's entry of the old whole-key form when it is written, and for the committed values a rollback goes back to. */
  readonly #backend: StateBackend;
  /** The keys written since the last commit (hex), with their bytes (null: deleted). Rolling back reads the committed values again from the backend: it holds them, so no undo log is kept. */
  #pending = new Map<string, Uint8Array | null>();

  constructor(def: StoreDefinition<K, V>, backend: StateBackend) {
    this.name = def.name;
    this.#def = def;
    this.#keys = new KeyHexCache(def.keySerde);
    this.#owners = new DigestOwners(def.name);
    this.#backend = backend;
    for (const [hex, bytes, stored] of committedEntries(backend, def.name)) {
      this.#owners.restored(stored, hex);
      this.#data.set(hex, { key: def.keySerde.deserialize(hexToBytes(hex)), value: def.valueSerde.deserialize(bytes) });
    }
  }

  get(key: K): V | undefined {
    return this.#data.get(this.#hexOf(key))?.value;
  }

  put(key: K, value: V): void {
    if (value === undefined || value === null) return this.delete(key);
    const hex = this.#hexOf(key);
    this.#claim(hex);
    this.#data.set(hex, { key, value });
    this.#pending.set(hex, this.#def.valueSerde.serialize(value));
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
      if (e !== undefined) yield [e.key, e.value];
    }
  }

  #hexOf(key: K): string {
    return this.#keys.hexOf(key);
  }

  drainWrites(): StateWrite[] {
    const writes: StateWrite[] = [];
    for (const [key, value] of this.#pending) writes.push(...encodeWrites(this.#backend, this.name, key, value));
    this.#pending = new Map();
    return writes;
  }

  discardWrites(): void {
    for (const hex of this.#pending.keys()) {
      const before = committedValue(this.#backend, this.name, hex);
      if (before === undefined) this.#data.delete(hex);
      else this.#data.set(hex, { key: this.#def.keySerde.deserialize(hexToBytes(hex)), value: this.#def.valueSerde.deserialize(before) });
    }
    this.#pending = new Map();
  }

  #claim(hex: string): void {
    if (isLongKey(hex)) this.#owners.claim(hex, (other) => this.#data.has(other));
  }
}
