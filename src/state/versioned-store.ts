import { DeserializationError, SerializationError, type Serde } from '../records/serde.ts';
import { KeyHexCache, hexToBytes, keyToHex } from './key-value-store.ts';
import type { OrderedStore } from './ordered-store.ts';
import { decodeTimeDescending, encodeTime, encodeTimeDescending, readTime64, writeTime64 } from './time-key.ts';
import { NO_HORIZON, isExactAsOf, isExactRangeAsOf, isLateTableUpdate, isLatestUpdate, isPurgeableVersion, purgeableAt, type Version } from '../tables/versioned.ts';

/** What a versioned store's `getAsOf` answers for a read the kept history cannot answer exactly (`isExactAsOf`). */
export const BEYOND_HISTORY: unique symbol = Symbol('beyond-history');

/** A version found by a read: a present value, with the interval it is valid over. */
export interface VersionedRecord<V> {
  /** The value. */
  readonly value: V;
  /** The timestamp of the update that wrote it. */
  readonly validFrom: number;
  /** The timestamp of the next version; undefined: it is the latest. */
  readonly validTo: number | undefined;
}

/**
 * What a write did: became the key's latest version (`old` is the latest
 * value it replaced), only rewrote its history, or was refused as late
 * (older than the horizon: `isLateTableUpdate`).
 */
export type VersionedPut<V> = { readonly kind: 'latest'; readonly old: V | undefined } | { readonly kind: 'history' } | { readonly kind: 'late'; readonly horizon: number };

/**
 * Read access to a versioned key-value store: each key's latest value, and
 * its value as of a past time back to the history horizon.
 *
 * @example
 * const prices = app.store('prices'); // a versioned table's store
 * prices.get('apple');              // the latest price
 * const then = prices.getAsOf('apple', Date.parse('2026-01-01'));
 * if (then === BEYOND_HISTORY) console.log('older than the history kept');
 * else console.log(then?.value);      // undefined: no price then
 * for (const [fruit, p] of prices.all()) console.log(fruit, p.value, p.validFrom); // every latest price
 */
export interface ReadOnlyVersionedStore<K, V> {
  /** The store's name, as declared. */
  readonly name: string;
  /** The key's latest value (by timestamp, not by arrival), or undefined when it is absent or deleted. */
  get(key: K): V | undefined;
  /**
   * The version of `key` valid at `t` (the one with the largest
   * `validFrom <= t`, `versionAsOf`), undefined when the key was absent
   * then, or {@link BEYOND_HISTORY} when `t` is older than the horizon and
   * the latest version began after `t` (`isExactAsOf`).
   */
  getAsOf(key: K, t: number): VersionedRecord<V> | undefined | typeof BEYOND_HISTORY;
  /**
   * The keys with `from <= key < to` (compared as serialized bytes), in that
   * order, each with its latest version — or, given `t`, with its version
   * as of `t`. Keys absent then (never written yet, or deleted) are left
   * out. As of a `t` older than the horizon it is {@link BEYOND_HISTORY}
   * (`isExactRangeAsOf`): a key whose versions were all purged could not be
   * listed.
   */
  range(from: K, to: K): IterableIterator<[K, VersionedRecord<V>]>;
  /** The keys with `from <= key < to`, each with its version as of `t`; {@link BEYOND_HISTORY} as of a `t` older than the horizon. */
  range(from: K, to: K, t: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY;
  /** Every key with its latest version, as {@link ReadOnlyVersionedStore.range} lists a range. */
  all(): IterableIterator<[K, VersionedRecord<V>]>;
  /** Every key with its version as of `t`; {@link BEYOND_HISTORY} as of a `t` older than the horizon. */
  all(t: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY;
  /** The history horizon the store was last purged to: reads as of any `t >= horizon` are exact. */
  readonly horizon: number;
}

/**
 * A versioned key-value store over an ordered store (in memory or in LMDB),
 * so that it commits, restores and is changelogged with its task exactly as
 * window stores are: one store key per version, so a compacted changelog
 * never loses a live version. Layout (ASCII keys; `.` ends the key's hex):
 * - `L<key>` → the latest version: its `validFrom`, then the value or a delete;
 * - `H<key>.<validFrom, descending>` → a past version: its `validTo`, then the
 *   value or a delete (descending, so that a forward scan from `t` finds the
 *   version valid at `t` first);
 * - `E<purgeableAt><key>.<H validFrom | L>` → a marker byte: the purge index, in the
 *   order versions become purgeable (`purgeableAt`);
 * - `M` → the horizon last purged to.
 * Deletes are kept as versions, so that an older update written after a
 * delete ends where the delete begins (Kafka Streams' "degenerate" rows).
 */
export class VersionedKeyValueStore<K, V> implements ReadOnlyVersionedStore<K, V> {
  readonly name: string;
  readonly #store: OrderedStore;
  readonly #keys: KeyHexCache<K>;
  readonly #keySerde: Serde<K>;
  readonly #values: Serde<V>;

  constructor(store: OrderedStore, keySerde: Serde<K>, valueSerde: Serde<V>) {
    this.name = store.name;
    this.#store = store;
    this.#keys = new KeyHexCache(keySerde);
    this.#keySerde = keySerde;
    this.#values = valueSerde;
  }

  get horizon(): number {
    const bytes = this.#store.get(META);
    return bytes === undefined ? NO_HORIZON : readTime(bytes);
  }

  get(key: K): V | undefined {
    return this.#latest(this.#keys.hexOf(key))?.value;
  }

  /** Whether the store keeps a latest version of `key` (a delete included). */
  holds(key: K): boolean {
    return this.#store.get(LATEST + this.#keys.hexOf(key)) !== undefined;
  }

  getAsOf(key: K, t: number): VersionedRecord<V> | undefined | typeof BEYOND_HISTORY {
    const hex = this.#keys.hexOf(key);
    const latest = this.#latest(hex);
    if (!isExactAsOf(t, this.horizon, latest?.validFrom)) return BEYOND_HISTORY;
    return this.#asOf(hex, latest, t);
  }

  range(from: K, to: K): IterableIterator<[K, VersionedRecord<V>]>;
  range(from: K, to: K, t: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY;
  range(from: K, to: K, t?: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY {
    return versionedRange([this], this.#keySerde, t, from, to);
  }

  all(): IterableIterator<[K, VersionedRecord<V>]>;
  all(t: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY;
  all(t?: number): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY {
    return versionedRange([this], this.#keySerde, t);
  }

  /**
   * The keys whose hex is in `[from, to)` with their versions as of `t`
   * (undefined: the latest), in key order, leaving out keys absent then.
   * Not checked for exactness: see {@link versionedRange}.
   *
   * @internal
   */
  *entriesAsOf(t: number | undefined, from = '', to = '~'): Generator<[hex: string, version: VersionedRecord<V>]> {
    for (const [k, bytes] of this.#store.range(LATEST + from, LATEST + to)) {
      const hex = k.slice(LATEST.length);
      const latest = this.#latestOf(bytes);
      const found = t === undefined ? (latest.value === undefined ? undefined : { value: latest.value, validFrom: latest.validFrom, validTo: undefined }) : this.#asOf(hex, latest, t);
      if (found !== undefined) yield [hex, found];
    }
  }

  /** The version of `hex` valid at `t`, given its latest version, when the read is exact. */
  #asOf(hex: string, latest: Version<V> | undefined, t: number): VersionedRecord<V> | undefined {
    const found = latest !== undefined && latest.validFrom <= t ? latest : this.#pastAt(hex, t);
    // A past version found but ended by `t` was the one before a purged delete: the key was absent.
    if (found === undefined || found.value === undefined || (found.validTo !== undefined && found.validTo <= t)) return undefined;
    return { value: found.value, validFrom: found.validFrom, validTo: found.validTo };
  }

  /**
   * Writes `value` (null: a delete) for `key` as of `ts`. Refused when late
   * (`isLateTableUpdate` against the current horizon); the key's latest
   * version when `isLatestUpdate`; otherwise a history write that splits the
   * version it falls in (or replaces the one of its own timestamp).
   */
  put(key: K, value: V | null, ts: number): VersionedPut<V> {
    const horizon = this.horizon;
    if (isLateTableUpdate(ts, horizon)) return { kind: 'late', horizon };
    const hex = this.#keys.hexOf(key);
    const v = value === null || value === undefined ? undefined : value;
    const latest = this.#latest(hex);
    if (isLatestUpdate(ts, latest?.validFrom)) {
      if (latest !== undefined) {
        this.#unindex(hex, latest, 'L');
        if (latest.validFrom < ts) this.#putPast(horizon, hex, { ...latest, validTo: ts });
      }
      this.#putLatest(hex, { validFrom: ts, validTo: undefined, value: v });
      return { kind: 'latest', old: latest?.value };
    }
    const at = this.#pastAt(hex, ts);
    if (at !== undefined && at.validFrom === ts) {
      this.#putPast(horizon, hex, { ...at, value: v });
      return { kind: 'history' };
    }
    if (at !== undefined && at.validTo !== undefined && at.validTo > ts) {
      // The update falls inside `at`: `at` ends at ts, the new version takes over its end.
      this.#unindex(hex, at, 'H');
      this.#putPast(horizon, hex, { ...at, validTo: ts });
      this.#putPast(horizon, hex, { validFrom: ts, validTo: at.validTo, value: v });
      return { kind: 'history' };
    }
    // Before every version kept (or after a purged delete): it lasts until the next version.
    this.#putPast(horizon, hex, { validFrom: ts, validTo: this.#nextFrom(hex, ts, latest!), value: v });
    return { kind: 'history' };
  }

  /**
   * Moves the horizon forward to `horizon` (never back) and purges the
   * versions that became purgeable (`isPurgeableVersion`), so that the
   * store holds only what exact reads can still find.
   */
  advanceHorizon(horizon: number): void {
    const before = this.horizon;
    if (horizon <= before) return;
    this.#store.put(META, timeBytes(horizon, 0));
    // Everything purgeable at `before` went when the horizon moved there, and no version written
    // since is purgeable at it (`#putPast` drops those): the scan starts after it. In LMDB that
    // keeps it from passing, once per record, every index entry deleted since the last commit.
    const from = before === NO_HORIZON ? INDEX : INDEX + encodeTime(before + 1);
    for (const [k] of this.#store.range(from, INDEX + encodeTime(horizon + 1))) {
      const keyEnd = k.lastIndexOf('.');
      const hex = k.slice(1 + 16, keyEnd);
      const which = k.slice(keyEnd + 1);
      const latest = which === 'L';
      const entry = latest ? LATEST + hex : PAST + hex + '.' + which.slice(1);
      // Only the version's bounds and whether it is a delete decide: its value is not read.
      const bytes = this.#store.get(entry);
      if (bytes !== undefined) {
        const validFrom = latest ? readTime(bytes) : decodeTimeDescending(which.slice(1));
        const validTo = latest ? undefined : readTime(bytes);
        if (isPurgeableVersion(validTo, isDeleteVersion(bytes), validFrom, horizon)) this.#store.delete(entry);
      }
      this.#store.delete(k);
    }
  }

  /** How many versions the store keeps (latest and past). */
  versionCount(): number {
    let n = 0;
    for (const _ of this.#store.range(LATEST, LATEST + '~')) n++;
    for (const _ of this.#store.range(PAST, PAST + '~')) n++;
    return n;
  }

  #latest(hex: string): Version<V> | undefined {
    const bytes = this.#store.get(LATEST + hex);
    return bytes === undefined ? undefined : this.#latestOf(bytes);
  }

  #latestOf(bytes: Uint8Array): Version<V> {
    return { validFrom: readTime(bytes), validTo: undefined, value: this.#readValue(bytes) };
  }

  /** The past version with the largest `validFrom <= t`, if one is kept. */
  #pastAt(hex: string, t: number): Version<V> | undefined {
    for (const [k, bytes] of this.#store.range(PAST + hex + '.' + encodeTimeDescending(t), PAST + hex + '/')) {
      return this.#decode(bytes, decodeTimeDescending(k.slice(k.lastIndexOf('.') + 1)));
    }
    return undefined;
  }

  /** Where a version written at `ts` before every version kept ends: the earliest past version after it, else the latest. */
  #nextFrom(hex: string, ts: number, latest: Version<V>): number {
    let next = latest.validFrom;
    for (const [k] of this.#store.range(PAST + hex + '.', PAST + hex + '.' + encodeTimeDescending(ts))) {
      next = decodeTimeDescending(k.slice(k.lastIndexOf('.') + 1));
    }
    return next;
  }

  #decode(bytes: Uint8Array | undefined, validFrom: number): Version<V> | undefined {
    if (bytes === undefined) return undefined;
    return { validFrom, validTo: readTime(bytes), value: this.#readValue(bytes) };
  }

  #putLatest(hex: string, v: Version<V>): void {
    this.#store.put(LATEST + hex, this.#encode(v.validFrom, v.value));
    this.#index(hex, v, 'L');
  }

  /** Writes a past version — or, when it ends at the horizon already, drops it: no exact read can find it. */
  #putPast(horizon: number, hex: string, v: Version<V>): void {
    const desc = encodeTimeDescending(v.validFrom);
    const old = this.#store.get(PAST + hex + '.' + desc);
    if (old !== undefined) this.#unindex(hex, this.#decode(old, v.validFrom)!, 'H');
    if (isPurgeableVersion(v.validTo, v.value === undefined, v.validFrom, horizon)) {
      if (old !== undefined) this.#store.delete(PAST + hex + '.' + desc);
      return;
    }
    this.#store.put(PAST + hex + '.' + desc, this.#encode(v.validTo!, v.value));
    this.#index(hex, v, 'H');
  }

  #indexKey(hex: string, v: Version<V>, where: 'L' | 'H'): string | undefined {
    const at = purgeableAt(v.validTo, v.value === undefined, v.validFrom);
    if (at === undefined) return undefined;
    return INDEX + encodeTime(at) + hex + '.' + (where === 'L' ? 'L' : 'H' + encodeTimeDescending(v.validFrom));
  }

  #index(hex: string, v: Version<V>, where: 'L' | 'H'): void {
    const k = this.#indexKey(hex, v, where);
    if (k !== undefined) this.#store.put(k, MARK);
  }

  #unindex(hex: string, v: Version<V>, where: 'L' | 'H'): void {
    const k = this.#indexKey(hex, v, where);
    if (k !== undefined) this.#store.delete(k);
  }

  #encode(time: number, value: V | undefined): Uint8Array {
    if (value === undefined) return timeBytes(time, 0);
    const bytes = this.#values.serialize(value);
    if (bytes === null) throw new SerializationError(`a versioned value must not serialize to null (serde ${this.#values.name})`);
    const out = timeBytes(time, bytes.length);
    out[8] = 1;
    out.set(bytes, 9);
    return out;
  }

  #readValue(bytes: Uint8Array): V | undefined {
    return isDeleteVersion(bytes) ? undefined : this.#values.deserialize(bytes.subarray(9));
  }
}

const LATEST = 'L';
const PAST = 'H';
const INDEX = 'E';
const META = 'M';
/** The value of a purge-index entry: one byte, not none, so that no log or client can take it for a delete. */
const MARK = new Uint8Array([1]);

/** 8 big-endian bytes of `time`, a flag byte (0: delete), room for `extra` value bytes. */
function timeBytes(time: number, extra: number): Uint8Array {
  if (!Number.isSafeInteger(time)) throw new SerializationError(`a version's time must be a safe integer, not ${time}`);
  const out = new Uint8Array(9 + extra);
  writeTime64(new DataView(out.buffer, out.byteOffset, out.byteLength), 0, time);
  return out;
}

/** Whether a version's entry records a delete (its flag byte is 0). */
function isDeleteVersion(bytes: Uint8Array): boolean {
  if (bytes.length < 9) throw new DeserializationError('not a versioned store entry');
  return bytes[8] === 0;
}

function readTime(bytes: Uint8Array): number {
  return readTime64(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
}

/**
 * A range read over the versioned stores of an application's tasks (a key
 * lives in one of them): the keys in `[from, to)` by their bytes (every key
 * without bounds), in that order, with their versions as of `t` (undefined:
 * the latest); {@link BEYOND_HISTORY} when `t` is older than the horizon of
 * one of the stores (`isExactRangeAsOf`).
 *
 * @internal
 */
export function versionedRange<K, V>(
  stores: readonly Pick<VersionedKeyValueStore<K, V>, 'entriesAsOf' | 'horizon'>[],
  keySerde: Serde<K>,
  t: number | undefined,
  from?: K,
  to?: K,
): IterableIterator<[K, VersionedRecord<V>]> | typeof BEYOND_HISTORY {
  if (t !== undefined && !stores.every((s) => isExactRangeAsOf(t, s.horizon))) return BEYOND_HISTORY;
  const lo = from === undefined ? undefined : keyToHex(keySerde.serialize(from));
  const hi = to === undefined ? undefined : keyToHex(keySerde.serialize(to));
  // Read now, not when iterated: the result is of the state committed when it was asked for.
  const entries = stores.flatMap((s) => [...s.entriesAsOf(t, lo, hi)]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([hex, v]): [K, VersionedRecord<V>] => [keySerde.deserialize(hexToBytes(hex)), v]).values();
}
