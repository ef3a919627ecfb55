import { readsBackAsIs, type Serde } from '../records/serde.ts';

/**
 * A value an ordered store keeps as the object it was given, making its
 * bytes only when they are needed: when the store commits, or when someone
 * reads the entry as bytes. Most of what a window or a join writes is
 * rewritten or removed before the next commit, and was then serialized and
 * read back for nothing, once per record.
 *
 * The caller vouches for two things, or must write bytes instead:
 * - the bytes read back as the value itself (`readsBackAsIs`), so that a run
 *   restored from the commit goes on exactly as the run that kept it;
 * - nobody else holds the object while the store keeps it: an operator
 *   hands a kept object to user code only as it removes it from the store
 *   (a window result at the window's close, a released record), or to the
 *   function that computes its replacement (an aggregator).
 *
 * `encode` checks the value again when it writes it, and throws when it
 * changed into something that would no longer read back as it is.
 *
 * @example
 * // In a processor's own ordered store: a count kept as a number, written as decimal text when the task commits.
 * const store = ctx.getOrderedStore('counts');
 * const old = store.getStored(key);
 * const n = old === undefined ? 0 : old instanceof KeptValue ? (old.value as number) : Number(new TextDecoder().decode(old));
 * store.put(key, new KeptValue(n + 1, (v) => new TextEncoder().encode(String(v))));
 */
export class KeptValue<T = unknown> {
  /** The object kept. */
  readonly value: T;
  readonly #encode: (value: T) => Uint8Array;
  #bytes: Uint8Array | undefined;

  /** @param encode writes the value's bytes, once, when they are needed. */
  constructor(value: T, encode: (value: T) => Uint8Array) {
    this.value = value;
    this.#encode = encode;
  }

  /** The value's bytes, made on the first call. */
  bytes(): Uint8Array {
    return (this.#bytes ??= this.#encode(this.value));
  }
}

/** What an ordered store holds under a key: bytes, or a kept object. */
export type StoredValue = Uint8Array | KeptValue;

/** The bytes of a stored value. */
export function bytesOf(v: StoredValue): Uint8Array {
  return v instanceof Uint8Array ? v : v.bytes();
}

/**
 * The encoder of values kept for `serde`: it checks each value again as it
 * writes it (see {@link KeptValue}). Made once per store user, not per put.
 */
export function keptEncoder<T>(serde: Serde<T>, store: string): (value: T) => Uint8Array {
  return (value) => {
    if (!readsBackAsIs(serde, value)) {
      throw new Error(`store ${store}: a value it kept as an object was changed after it was stored, into one the ${serde.name} serde would not read back as it is (a Date, a class instance, an undefined property, …): change a copy instead`);
    }
    return serde.serialize(value)!;
  };
}

/** `value` kept as an object where `serde` reads it back as it is (see {@link readsBackAsIs}), else its bytes. */
export function storedValue<T>(serde: Serde<T>, value: T, encode: (value: T) => Uint8Array): StoredValue {
  return value !== null && readsBackAsIs(serde, value) ? (new KeptValue(value, encode) as KeptValue) : serde.serialize(value)!;
}

/** The value of what an ordered store holds: the kept object, or what `decode` reads of the bytes. */
export function keptOr<T>(stored: StoredValue, decode: (bytes: Uint8Array) => T): T {
  return stored instanceof KeptValue ? (stored.value as T) : decode(stored);
}

/** The value of what an ordered store holds, read with `serde` unless it is kept as an object. */
export function valueOf<T>(serde: Serde<T>, stored: StoredValue): T {
  return keptOr(stored, (bytes) => serde.deserialize(bytes));
}
