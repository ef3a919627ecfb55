import { KeyHexCache, hexToBytes, type CommittableStore, type StateBackend, type StateWrite, type StoreDefinition } from './key-value-store.ts';

/**
 * A store kept in LMDB: committed entries are read from the database on
 * demand, so it may hold more than fits in memory. Uncommitted writes sit in
 * a small overlay until the task commits them in its transaction.
 */
export class LmdbKeyValueStore<K, V> implements CommittableStore<K, V> {
  readonly name: string;
  readonly #def: StoreDefinition<K, V>;
  readonly #keys: KeyHexCache<K>;
  readonly #backend: StateBackend;
  #pending = new Map<string, { key: K; value: V | undefined; bytes: Uint8Array | null }>();

  constructor(def: StoreDefinition<K, V>, backend: StateBackend) {
    this.name = def.name;
    this.#def = def;
    this.#keys = new KeyHexCache(def.keySerde);
    this.#backend = backend;
  }

  get(key: K): V | undefined {
    const hex = this.#hexOf(key);
    const p = this.#pending.get(hex);
    if (p !== undefined) return p.value;
    const bytes = this.#backend.get(this.name, hex);
    return bytes === undefined ? undefined : this.#def.valueSerde.deserialize(bytes);
  }

  put(key: K, value: V): void {
    if (value === undefined || value === null) return this.delete(key);
    const hex = this.#hexOf(key);
    this.#pending.set(hex, { key, value, bytes: this.#def.valueSerde.serialize(value) });
  }

  delete(key: K): void {
    const hex = this.#hexOf(key);
    this.#pending.set(hex, { key, value: undefined, bytes: null });
  }

  *all(): IterableIterator<[K, V]> {
    // Merge the committed entries (in key order) with the overlay (sorted).
    const overlay = [...this.#pending.keys()].sort();
    let i = 0;
    const emitOverlayUpTo = function* (this: LmdbKeyValueStore<K, V>, bound: string | undefined): Generator<[K, V]> {
      while (i < overlay.length && (bound === undefined || overlay[i]! <= bound)) {
        const e = this.#pending.get(overlay[i]!)!;
        i++;
        if (e.value !== undefined) yield [e.key, e.value];
      }
    }.bind(this);
    for (const [hex, bytes] of this.#backend.entries(this.name)) {
      yield* emitOverlayUpTo(hex);
      if (this.#pending.has(hex)) continue;
      yield [this.#def.keySerde.deserialize(hexToBytes(hex)), this.#def.valueSerde.deserialize(bytes)];
    }
    yield* emitOverlayUpTo(undefined);
  }

  #hexOf(key: K): string {
    return this.#keys.hexOf(key);
  }

  drainWrites(): StateWrite[] {
    const writes: StateWrite[] = [];
    for (const [key, p] of this.#pending) writes.push({ store: this.name, key, value: p.bytes });
    this.#pending = new Map();
    return writes;
  }

  discardWrites(): void {
    this.#pending = new Map();
  }
}
