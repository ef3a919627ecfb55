import type { CommittableStore, StateBackend, StateWrite } from './key-value-store.ts';
import { DigestOwners, collisionError, committedEntries, committedRival, committedValue, encodeWrites, isLongKey } from './long-keys.ts';
import { bytesOf, type StoredValue } from './kept-value.ts';

/**
 * A store of byte values under ordered string keys, with range scans: what
 * window and session stores are built on. Keys are hex strings (their order
 * is the bytes' order); a time-first key makes "every window ending before
 * T" one scan. Writes commit with the task, like every store's. Keys may be
 * of any length: long ones are committed under a digest, and range scans
 * still see every key in order (see `long-keys.ts`).
 */
export interface OrderedStore {
  /** The store's name, as declared. */
  readonly name: string;
  /** The value under `key` (hex), or undefined. */
  get(key: string): Uint8Array | undefined;
  /** Sets the value under `key` (hex): bytes, or a {@link KeptValue} whose bytes are made when needed. */
  put(key: string, value: StoredValue): void;
  /** Removes `key`. */
  delete(key: string): void;
  /** Entries with `from <= key < to`, in key order. */
  range(from: string, to: string): IterableIterator<[string, Uint8Array]>;
  /** What the store holds under `key`: the kept object put there, if it still holds it as one, else the bytes. */
  getStored(key: string): StoredValue | undefined;
  /** {@link range}, with the values as {@link getStored} gives them. */
  rangeStored(from: string, to: string): IterableIterator<[string, StoredValue]>;
  /** How many entries the store holds (committed and pending). */
  count(): number;
}

export type CommittableOrderedStore = OrderedStore & Pick<CommittableStore<unknown, unknown>, 'drainWrites' | 'discardWrites'>;

/** Index of the first element of a sorted array that is >= `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Distinct strings in sorted order, kept in chunks of at most `2·load`
 * (Python's `sortedcontainers` layout): an insert or delete moves at most
 * one chunk's elements, where one sorted array would move up to all of them
 * (a window store of a few hundred thousand entries spent most of its time
 * in `Array.prototype.splice`). Chunks are never empty.
 */
export class SortedKeys {
  readonly #load: number;
  #chunks: string[][] = [];
  #size = 0;

  constructor(load = 256) {
    this.#load = load;
  }

  get size(): number {
    return this.#size;
  }

  /** Index of the first chunk whose last key is >= `key`; `#chunks.length` when there is none. */
  #chunkFor(key: string): number {
    const chunks = this.#chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid]!;
      if (c[c.length - 1]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds `key`, which must not be present. */
  insert(key: string): void {
    const chunks = this.#chunks;
    this.#size++;
    if (chunks.length === 0) {
      chunks.push([key]);
      return;
    }
    const last = chunks[chunks.length - 1]!;
    // Time-first keys (a close index, waiting records) mostly arrive in order: one comparison puts them last.
    const i = key > last[last.length - 1]! ? chunks.length - 1 : Math.min(this.#chunkFor(key), chunks.length - 1);
    const c = chunks[i]!;
    if (c === last && key > c[c.length - 1]!) c.push(key);
    else c.splice(lowerBound(c, key), 0, key);
    if (c.length > 2 * this.#load) chunks.splice(i + 1, 0, c.splice(this.#load));
  }

  /** Removes `key` if present. */
  delete(key: string): void {
    const chunks = this.#chunks;
    const i = this.#chunkFor(key);
    const c = chunks[i];
    if (c === undefined) return;
    const j = lowerBound(c, key);
    if (c[j] !== key) return;
    c.splice(j, 1);
    this.#size--;
    // Merge small neighbours, so that deletes cannot leave many tiny chunks behind.
    if (c.length === 0) chunks.splice(i, 1);
    else if (i + 1 < chunks.length && c.length + chunks[i + 1]!.length <= this.#load) c.push(...chunks.splice(i + 1, 1)[0]!);
    else if (i > 0 && chunks[i - 1]!.length + c.length <= this.#load) chunks[i - 1]!.push(...chunks.splice(i, 1)[0]!);
  }

  /** The keys with `from <= key < to`, in order (a copy). */
  slice(from: string, to: string): string[] {
    const out: string[] = [];
    const chunks = this.#chunks;
    let i = this.#chunkFor(from);
    if (i >= chunks.length) return out;
    let j = lowerBound(chunks[i]!, from);
    for (; i < chunks.length; i++, j = 0) {
      const c = chunks[i]!;
      for (; j < c.length; j++) {
        const k = c[j]!;
        if (k >= to) return out;
        out.push(k);
      }
    }
    return out;
  }

  clear(): void {
    this.#chunks = [];
    this.#size = 0;
  }
}

/** An ordered store held in memory (a sorted key index over a map), restored at start from its committed entries. */
export class InMemoryOrderedStore implements CommittableOrderedStore {
  readonly name: string;
  readonly #data = new Map<string, StoredValue>();
  readonly #sorted = new SortedKeys();
  /** The keys written since the last commit, with their values (null: deleted). Rolling back reads the committed values again from the backend: it holds them, so no undo log is kept. */
  #pending = new Map<string, StoredValue | null>();
  readonly #owners: DigestOwners;
  /** Read to clear a long key's entry of the old whole-key form when it is written, and for the committed values a rollback goes back to. */
  readonly #backend: StateBackend;

  constructor(name: string, backend: StateBackend) {
    this.name = name;
    this.#owners = new DigestOwners(name);
    this.#backend = backend;
    for (const [k, v, stored] of committedEntries(backend, name)) {
      this.#owners.restored(stored, k);
      this.#data.set(k, v);
      this.#sorted.insert(k);
    }
  }

  get(key: string): Uint8Array | undefined {
    const v = this.#data.get(key);
    return v === undefined ? undefined : bytesOf(v);
  }

  getStored(key: string): StoredValue | undefined {
    return this.#data.get(key);
  }

  put(key: string, value: StoredValue): void {
    // Every window, join and waiting record is a put: no closure, one lookup for a key already there.
    if (isLongKey(key)) this.#owners.claim(key, (other) => this.#data.has(other));
    const size = this.#data.size;
    this.#data.set(key, value);
    if (this.#data.size !== size) this.#sorted.insert(key);
    this.#pending.set(key, value);
  }

  delete(key: string): void {
    if (!this.#data.delete(key)) return;
    this.#sorted.delete(key);
    this.#pending.set(key, null);
  }

  *range(from: string, to: string): IterableIterator<[string, Uint8Array]> {
    for (const [k, v] of this.rangeStored(from, to)) yield [k, bytesOf(v)];
  }

  *rangeStored(from: string, to: string): IterableIterator<[string, StoredValue]> {
    // Copy the slice: the caller may delete what it reads.
    const keys = this.#sorted.slice(from, to);
    for (const k of keys) {
      const v = this.#data.get(k);
      if (v !== undefined) yield [k, v];
    }
  }

  count(): number {
    return this.#data.size;
  }

  drainWrites(): StateWrite[] {
    const writes = [...this.#pending].flatMap(([key, value]) => encodeWrites(this.#backend, this.name, key, value === null ? null : bytesOf(value)));
    this.#pending = new Map();
    return writes;
  }

  discardWrites(): void {
    for (const k of [...this.#pending.keys()]) {
      const before = committedValue(this.#backend, this.name, k);
      if (before === undefined) this.delete(k);
      else this.put(k, before);
    }
    this.#pending = new Map();
  }
}

/** An ordered store in LMDB: committed entries are scanned in the database, merged with the uncommitted overlay. */
export class LmdbOrderedStore implements CommittableOrderedStore {
  readonly name: string;
  readonly #backend: StateBackend;
  #pending = new Map<string, StoredValue | null>();
  readonly #pendingSorted = new SortedKeys();
  #committedCount: number;
  /** Owners of the digests of the long keys in the overlay. */
  readonly #owners: DigestOwners;

  constructor(name: string, backend: StateBackend) {
    this.name = name;
    this.#backend = backend;
    this.#committedCount = backend.count(name);
    this.#owners = new DigestOwners(name);
  }

  get(key: string): Uint8Array | undefined {
    const v = this.getStored(key);
    return v === undefined ? undefined : bytesOf(v);
  }

  getStored(key: string): StoredValue | undefined {
    const p = this.#pending.get(key);
    if (p !== undefined) return p ?? undefined;
    if (this.#pending.has(key)) return undefined;
    return committedValue(this.#backend, this.name, key);
  }

  put(key: string, value: StoredValue): void {
    this.#claim(key);
    this.#note(key);
    this.#pending.set(key, value);
  }

  delete(key: string): void {
    this.#claim(key);
    this.#note(key);
    this.#pending.set(key, null);
  }

  /** Refuses a write of a long key whose digest's entry is another key's, in the overlay or committed. */
  #claim(key: string): void {
    if (!isLongKey(key)) return;
    const live = (other: string): boolean => (this.#pending.get(other) ?? null) !== null;
    this.#owners.claim(key, live);
    const rival = committedRival(this.#backend, this.name, key);
    if (rival !== undefined && (!this.#pending.has(rival) || live(rival))) throw collisionError(this.name, key);
  }

  /** Keeps the overlay's keys sorted, so range scans slice them instead of sorting. */
  #note(key: string): void {
    if (!this.#pending.has(key)) this.#pendingSorted.insert(key);
  }

  *range(from: string, to: string): IterableIterator<[string, Uint8Array]> {
    for (const [k, v] of this.rangeStored(from, to)) yield [k, bytesOf(v)];
  }

  *rangeStored(from: string, to: string): IterableIterator<[string, StoredValue]> {
    const overlay = this.#pendingSorted.slice(from, to);
    const pending = new Map(overlay.map((k) => [k, this.#pending.get(k)!] as const));
    let i = 0;
    for (const [k, v] of [...committedEntries(this.#backend, this.name, from, to)]) {
      for (; i < overlay.length && overlay[i]! < k; i++) {
        const ov = pending.get(overlay[i]!)!;
        if (ov !== null) yield [overlay[i]!, ov];
      }
      if (i < overlay.length && overlay[i] === k) {
        const ov = pending.get(k)!;
        i++;
        if (ov !== null) yield [k, ov];
        continue;
      }
      yield [k, v];
    }
    for (; i < overlay.length; i++) {
      const ov = pending.get(overlay[i]!)!;
      if (ov !== null) yield [overlay[i]!, ov];
    }
  }

  count(): number {
    let n = this.#committedCount;
    for (const [k, v] of this.#pending) {
      const before = committedValue(this.#backend, this.name, k) !== undefined;
      if (v === null && before) n--;
      else if (v !== null && !before) n++;
    }
    return n;
  }

  drainWrites(): StateWrite[] {
    this.#committedCount = this.count();
    const writes = [...this.#pending].flatMap(([key, value]) => encodeWrites(this.#backend, this.name, key, value === null ? null : bytesOf(value)));
    this.#pending = new Map();
    this.#pendingSorted.clear();
    this.#owners.clear();
    return writes;
  }

  discardWrites(): void {
    this.#pending = new Map();
    this.#pendingSorted.clear();
    this.#owners.clear();
  }
}
