import { NO_COPY, copyPlain, readBackCopy, type Serde } from '../records/serde.ts';
import { hexToBytes } from './key-value-store.ts';

/**
 * What a key-value store holds under one key: a copy of the value that is
 * its own, or the value's bytes — never an object someone else holds. A
 * read hands out a fresh copy, or what the bytes read back as. So a value
 * changed after it was put (downstream, in place) or after it was read
 * changes nothing in the store, and a value its serde would read back
 * otherwise (a `Date` in JSON) reads back so at once: what the store gives
 * is what it would give after a restart from its commit, in memory or in
 * LMDB, at any commit point. Plain JSON data is copied by a walk, and
 * serialized only when it commits.
 */
export interface StoreValue<V> {
  /** The store's own copy; NO_COPY: the value is what `bytes` read back as. */
  readonly own: V | typeof NO_COPY;
  /** The value's bytes, made for a commit (or at once where there is no copy). */
  bytes: Uint8Array | undefined;
}

/** What a store keeps of `value`, put now. */
export function storeValueOf<V>(serde: Serde<V>, value: V): StoreValue<V> {
  const own = readBackCopy(serde, value);
  return { own, bytes: own === NO_COPY ? (serde.serialize(value) ?? undefined) : undefined };
}

/** What a store keeps of committed `bytes`. */
export function storeValueOfBytes<V>(bytes: Uint8Array): StoreValue<V> {
  return { own: NO_COPY, bytes };
}

/** The value, as a fresh object of the reader's own. */
export function readStoreValue<V>(serde: Serde<V>, v: StoreValue<V>): V {
  return v.own === NO_COPY ? serde.deserialize(v.bytes ?? null) : copyPlain(v.own);
}

/** The value's bytes, for a commit. */
export function storeValueBytes<V>(serde: Serde<V>, v: StoreValue<V>): Uint8Array | null {
  if (v.bytes === undefined && v.own !== NO_COPY) v.bytes = serde.serialize(v.own) ?? undefined;
  return v.bytes ?? null;
}

/** A key as a store keeps it, and hands it out: a primitive as it is; an object read back from its bytes (`hex`) each time, so that nobody holds the store's own. */
export function ownKey<K>(serde: Serde<K>, key: K, hex: string): K {
  return typeof key === 'object' && key !== null ? serde.deserialize(hexToBytes(hex)) : key;
}
