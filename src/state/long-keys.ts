import { createHash } from 'node:crypto';
import type { StateBackend, StateWrite } from './key-value-store.ts';

/**
 * How store keys of any length are committed. A backend bounds its keys
 * (LMDB: 1978 bytes, including the application, task and store names), but
 * a record's key may be as large as the record. So a key of at most
 * {@link LITERAL_KEY_CHARS} characters is committed as it is (today's
 * encoding), and a longer one under
 *
 *     key[0, LITERAL_KEY_CHARS) + '#' + sha256(key) in hex
 *
 * with the rest of the key in front of its value. Reads take the full key
 * from the value and compare it with the one asked for, so a digest
 * collision can never return another key's value (a write that would
 * replace another key's entry is refused). The stored keys keep the order
 * of the full keys except among long keys sharing their first
 * `LITERAL_KEY_CHARS` characters: those lie next to each other, and scans
 * sort each such run by the full key. So range scans over full keys stay
 * correct for any bounds.
 *
 * Before long keys were supported, a key of up to about 1950 characters was
 * stored as it is when it fit. Such an entry is still read (a stored key over
 * `LITERAL_KEY_CHARS` that is not of the digest form is a whole key), and
 * the next write of its key removes it: existing data directories keep
 * working.
 */
export const LITERAL_KEY_CHARS = 1434;
const DIGEST_MARK = '#';
const DIGEST_FORM_CHARS = LITERAL_KEY_CHARS + 1 + 64;
/** LMDB's key limit: no longer key can have been stored as it is. */
const LEGACY_MAX_CHARS = 1978;

/** Whether a stored key is a digest (else it is a whole key). */
function isDigestForm(stored: string): boolean {
  return stored.length === DIGEST_FORM_CHARS && stored[LITERAL_KEY_CHARS] === DIGEST_MARK;
}

let lastKey: string | undefined;
let lastStored = '';

/** The key `key` is committed under. */
export function storedKeyOf(key: string): string {
  if (key.length <= LITERAL_KEY_CHARS) return key;
  // One read-modify-write digests its (possibly megabyte) key once.
  if (key !== lastKey) {
    lastStored = `${key.slice(0, LITERAL_KEY_CHARS)}${DIGEST_MARK}${createHash('sha256').update(key).digest('hex')}`;
    lastKey = key;
  }
  return lastStored;
}

/** Whether `key` is committed under a digest. */
export function isLongKey(key: string): boolean {
  return key.length > LITERAL_KEY_CHARS;
}

/**
 * The writes that commit `value` (null: a delete) under `key`: one, and
 * first the delete of the key's entry in the old whole-key form if
 * `backend` has one.
 */
export function encodeWrites(backend: StateBackend, store: string, key: string, value: Uint8Array | null): StateWrite[] {
  const write = encodeWrite(store, key, value);
  return isLongKey(key) && legacyValue(backend, store, key) !== undefined ? [{ store, key, value: null }, write] : [write];
}

/** The write that commits `value` (null: a delete) under `key`. */
export function encodeWrite(store: string, key: string, value: Uint8Array | null): StateWrite {
  if (!isLongKey(key)) return { store, key, value };
  const stored = storedKeyOf(key);
  if (value === null) return { store, key: stored, value };
  const rest = packKeyText(key.slice(LITERAL_KEY_CHARS));
  const out = new Uint8Array(4 + rest.byteLength + value.byteLength);
  new DataView(out.buffer).setUint32(0, rest.byteLength);
  out.set(rest, 4);
  out.set(value, 4 + rest.byteLength);
  return { store, key: stored, value: out };
}

/** The full key and the value of a committed entry. */
export function decodeEntry(store: string, stored: string, bytes: Uint8Array): [key: string, value: Uint8Array] {
  if (!isDigestForm(stored)) return [stored, bytes];
  if (bytes.byteLength < 4) throw new Error(`store ${store}: the entry of a long key (stored as ${stored.slice(0, 16)}…${stored.slice(-8)}) has no key in its value`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  return [stored.slice(0, LITERAL_KEY_CHARS) + unpackKeyText(bytes.subarray(4, 4 + n)), bytes.subarray(4 + n)];
}

/** The committed value of `key`: undefined when there is none, or when its digest's entry belongs to another key. */
export function committedValue(backend: StateBackend, store: string, key: string): Uint8Array | undefined {
  const stored = storedKeyOf(key);
  const bytes = backend.get(store, stored);
  if (!isLongKey(key)) return bytes;
  if (bytes === undefined) return legacyValue(backend, store, key);
  const [full, value] = decodeEntry(store, stored, bytes);
  return full === key ? value : undefined;
}

/** The value of a long `key` stored whole, as before long keys were supported. */
function legacyValue(backend: StateBackend, store: string, key: string): Uint8Array | undefined {
  // A key too long with the application, task and store names reads as absent (lmdb-js answers undefined).
  return key.length > LEGACY_MAX_CHARS ? undefined : backend.get(store, key);
}

/** The key holding the committed entry `key` would be written to, when it is another key (a digest collision). */
export function committedRival(backend: StateBackend, store: string, key: string): string | undefined {
  if (!isLongKey(key)) return undefined;
  const stored = storedKeyOf(key);
  const bytes = backend.get(store, stored);
  if (bytes === undefined) return undefined;
  const [full] = decodeEntry(store, stored, bytes);
  return full === key ? undefined : full;
}

/** The error of a write whose digest is taken by another key: both cannot be kept, and neither is replaced. */
export function collisionError(store: string, key: string): Error {
  return new Error(`store ${store}: two different keys of over ${LITERAL_KEY_CHARS} characters share the SHA-256 digest ${storedKeyOf(key).slice(-64)}; the write is refused, so that neither value is lost`);
}

/**
 * Committed entries with `from <= key < to` (full keys), in key order, each
 * with the key it is stored under. The backend is scanned over the stored
 * keys that can hold such keys; each run of long keys sharing a prefix is
 * sorted by the full keys.
 */
export function* committedEntries(backend: StateBackend, store: string, from = '', to = '\uffff'): Generator<[key: string, value: Uint8Array, stored: string]> {
  const lo = from.slice(0, LITERAL_KEY_CHARS);
  const hi = to.length <= LITERAL_KEY_CHARS ? to : `${to.slice(0, LITERAL_KEY_CHARS)}\uffff`;
  let run: [string, Uint8Array, string][] = [];
  let runPrefix = '';
  const flush = (): [string, Uint8Array, string][] => {
    const done = run.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    run = [];
    return done;
  };
  for (const [stored, bytes] of backend.entries(store, lo, hi)) {
    if (stored.length <= LITERAL_KEY_CHARS) {
      yield* flush();
      if (stored >= from && stored < to) yield [stored, bytes, stored];
      continue;
    }
    const prefix = stored.slice(0, LITERAL_KEY_CHARS);
    if (prefix !== runPrefix) yield* flush();
    runPrefix = prefix;
    const [key, value] = decodeEntry(store, stored, bytes);
    if (key >= from && key < to) run.push([key, value, stored]);
  }
  yield* flush();
}

/**
 * The owners of the digests of the long keys a store holds in memory, to
 * refuse a key whose digest another present key has.
 */
export class DigestOwners {
  readonly #store: string;
  readonly #owners = new Map<string, string>();

  constructor(store: string) {
    this.#store = store;
  }

  /** Records that the committed entry under `stored` is `key`'s. */
  restored(stored: string, key: string): void {
    if (stored !== key) this.#owners.set(stored, key);
  }

  /** Records `key` as its digest's owner; throws when another key that is still `present` owns it. */
  claim(key: string, present: (other: string) => boolean): void {
    if (!isLongKey(key)) return;
    const stored = storedKeyOf(key);
    const owner = this.#owners.get(stored);
    if (owner !== undefined && owner !== key && present(owner)) throw collisionError(this.#store, key);
    this.#owners.set(stored, key);
  }

  clear(): void {
    this.#owners.clear();
  }
}

// The rest of a long key travels in its value. Store keys are mostly hex, so runs of
// lowercase hex digits are packed two to a byte: a 1 MB record key (2 MB of hex)
// adds about 1 MB to its entry, which keeps a changelog record within Kafka's limits.
const TEXT = 0;
const HEX = 1;
const HEX_RUNS = /(?:[0-9a-f]{2})+/g;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `text` as segments: [kind, u32 length, bytes]. */
function packKeyText(text: string): Uint8Array {
  const parts: Uint8Array[] = [];
  const segment = (kind: number, bytes: Uint8Array): void => {
    const head = new Uint8Array(5);
    head[0] = kind;
    new DataView(head.buffer).setUint32(1, bytes.byteLength);
    parts.push(head, bytes);
  };
  let at = 0;
  for (const m of text.matchAll(HEX_RUNS)) {
    if (m.index > at) segment(TEXT, encoder.encode(text.slice(at, m.index)));
    segment(HEX, Buffer.from(m[0], 'hex'));
    at = m.index + m[0].length;
  }
  if (at < text.length) segment(TEXT, encoder.encode(text.slice(at)));
  return Buffer.concat(parts);
}

function unpackKeyText(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let at = 0; at < bytes.byteLength; ) {
    const n = view.getUint32(at + 1);
    const body = bytes.subarray(at + 5, at + 5 + n);
    out.push(bytes[at] === HEX ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('hex') : decoder.decode(body));
    at += 5 + n;
  }
  return out.join('');
}
