import { KeyHexCache, hexToBytes, type CommittableStore, type StateBackend, type StateWrite, type StoreDefinition } from './key-value-store.ts';
import { DigestOwners, collisionError, committedEntries, committedRival, committedValue, encodeWrites, isLongKey } from './long-keys.ts';
import { ownKey, readStoreValue, storeValueBytes, storeValueOf, type StoreValue } from './store-value.ts';

/**
 * A store kept in LMDB: committed entries are read from the database on
 * demand, so it may hold more than fits in memory. Uncommitted writes sit in
 * a small overlay until the task commits them in its transaction. Keys of
 * any length: long ones are committed under a digest (see `long-keys.ts`).
 */
export class LmdbKeyValueStore<K, V> implements CommittableStore<K, V> {
  readonly name: string;
  readonly #def: StoreDefinition<K, V>;
  readonly #keys: KeyHexCache<K>;
  readonly #backend: StateBackend;
  /** Uncommitted writes: the value as a `StoreValue` (undefined: deleted). */
  #pending = new Map<string, { key: K; value: StoreValue<V> | undefined }>();
  /** Owners of the digests of the long keys in the overlay. */
  readonly #owners: DigestOwners;

  constructor(def: StoreDefinition<K, V>, backend: StateBackend) {
    this.name = def.name;
    this.#def = def;
    this.#keys = new KeyHexCache(def.keySerde);
    this.#backend = backend;
    this.#owners = new DigestOwners(def.name);
  }

  get(key: K): V | undefined {
    const hex = this.#hexOf(key);
    const p = this.#pending.get(hex);
    if (p !== undefined) return p.value === undefined ? undefined : readStoreValue(this.#def.valueSerde, p.value);
    const bytes = committedValue(this.#backend, this.name, hex);
    return bytes === undefined ? undefined : this.#def.valueSerde.deserialize(bytes);
  }

  put(key: K, value: V): void {
    if (value === undefined || value === null) return this.delete(key);
    const hex = this.#hexOf(key);
    this.#claim(hex);
    this.#pending.set(hex, { key, value: storeValueOf(this.#def.valueSerde, value) });
  }

  delete(key: K): void {
    const hex = this.#hexOf(key);
    this.#claim(hex);
    this.#pending.set(hex, { key, value: undefined });
  }

  *all(): IterableIterator<[K, V]> {
    // Merge the committed entries (in key order) with the overlay (sorted).
    const overlay = [...this.#pending.keys()].sort();
    let i = 0;
    const emitOverlayUpTo = function* (this: LmdbKeyValueStore<K, V>, bound: string | undefined): Generator<[K, V]> {
      while (i < overlay.length && (bound === undefined || overlay[i]! <= bound)) {
        const hex = overlay[i]!;
        const e = this.#pending.get(hex)!;
        i++;
        if (e.value !== undefined) yield [ownKey(this.#def.keySerde, e.key, hex), readStoreValue(this.#def.valueSerde, e.value)];
      }
    }.bind(this);
    for (const [hex, bytes] of committedEntries(this.#backend, this.name)) {
      yield* emitOverlayUpTo(hex);
      if (this.#pending.has(hex)) continue;
      yield [this.#def.keySerde.deserialize(hexToBytes(hex)), this.#def.valueSerde.deserialize(bytes)];
    }
    yield* emitOverlayUpTo(undefined);
  }

  #hexOf(key: K): string {
    return this.#keys.hexOf(key);
  }

  /** Refuses a write of a long key whose digest's entry is another key's, in the overlay or committed. */
  #claim(hex: string): void {
    if (!isLongKey(hex)) return;
    const live = (other: string): boolean => this.#pending.get(other)?.value !== undefined;
    this.#owners.claim(hex, live);
    const rival = committedRival(this.#backend, this.name, hex);
    if (rival !== undefined && (!this.#pending.has(rival) || live(rival))) throw collisionError(this.name, hex);
  }

  drainWrites(): StateWrite[] {
    const writes: StateWrite[] = [];
    for (const [key, p] of this.#pending) writes.push(...encodeWrites(this.#backend, this.name, key, p.value === undefined ? null : storeValueBytes(this.#def.valueSerde, p.value)));
    this.#pending = new Map();
    this.#owners.clear();
    return writes;
  }

  discardWrites(): void {
    this.#pending = new Map();
    this.#owners.clear();
  }
}
