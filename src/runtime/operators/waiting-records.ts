import type { StreamRecord } from '../../records/record.ts';
import { readsBackAsIs, type Serde } from '../../records/serde.ts';
import type { OrderedStore } from '../../state/ordered-store.ts';
import { KeptValue, type StoredValue } from '../../state/kept-value.ts';
import { decodeTime, encodeTime } from '../../state/time-key.ts';
import { utf8Bytes, utf8Text } from '../../records/utf8.ts';
import { nextArrivalSeq } from './arrival-sequence.ts';

/**
 * Records an operator holds back until event time reaches them (a
 * stream–table join's stream records waiting out their grace), in an
 * ordered store that commits with the task: after a restart or a crash they
 * wait on, each released once. Layout (ASCII keys):
 * - `b<ts><seq>` → the record: its position, clocks and headers as JSON, a
 *   newline, then its value's bytes — in (timestamp, arrival) order;
 * - `n` → the next arrival sequence number;
 * - `r` → the bound every record below was released under (16 hex digits
 *   of `encodeTime`), where the next release's scan starts.
 * The key is kept serialized (null for a record without one). A record
 * whose key and value read back as they are (`readsBackAsIs`) is kept as
 * the record itself (`KeptValue`), encoded only if it still waits at a
 * commit: most are released before, and were encoded and decoded for
 * nothing. It is handed on only as it is released, and removed.
 */
export class WaitingRecords<K, V> {
  readonly #keys: Serde<K>;
  readonly #values: Serde<V>;
  /**
   * What was added, by the bytes that hold it: an in-memory store hands the
   * same bytes back, whose positions, clocks and headers then need no
   * decoding. A key or value that is an object is still read from its bytes,
   * as after a restart — the object may have been changed since. Bytes read
   * from a restored or committed store are others, and are decoded whole.
   */
  readonly #added = new WeakMap<Uint8Array, Added<K, V>>();
  readonly #encodeKept: (record: StreamRecord<K, V>) => Uint8Array;

  constructor(keySerde: Serde<K>, valueSerde: Serde<V>, store: string) {
    this.#keys = keySerde;
    this.#values = valueSerde;
    this.#encodeKept = (record) => {
      if (!this.#readsBack(record)) {
        throw new Error(`store ${store}: a record waiting in it as an object was changed after it was stored, into one its serdes would not read back as it is (a Date, a class instance, an undefined property, …): change a copy instead`);
      }
      return this.#encode(record);
    };
  }

  /** Holds `record` back; records of one timestamp come out in the order they went in. */
  add(store: OrderedStore, record: StreamRecord<K, V>): void {
    const seq = nextArrivalSeq(store);
    const key = WAITING + encodeTime(record.timestamp) + encodeTime(seq);
    if (this.#readsBack(record)) store.put(key, new KeptValue(record, this.#encodeKept) as KeptValue);
    else store.put(key, this.#encode(record));
  }

  #readsBack(record: StreamRecord<K, V>): boolean {
    const keyed = record.key !== null && record.key !== undefined;
    return (!keyed || readsBackAsIs(this.#keys, record.key)) && readsBackAsIs(this.#values, record.value);
  }

  /** The record's bytes (see the layout above); remembered, so that a record released in this run is not decoded again. */
  #encode(record: StreamRecord<K, V>): Uint8Array {
    const keyBytes = record.key === null || record.key === undefined ? null : this.#keys.serialize(record.key)!;
    const key = keyBytes === null ? null : base64(keyBytes);
    const meta: Meta = { s: record.stream, p: record.partition, o: record.offset, h: record.headers, e: record.eventTime, b: record.brokerTime, i: record.ingestTime, k: key };
    const value = this.#values.serialize(record.value) ?? new Uint8Array();
    const head = utf8Bytes(`${JSON.stringify(meta)}\n`);
    const bytes = new Uint8Array(head.length + value.length);
    bytes.set(head);
    bytes.set(value, head.length);
    this.#added.set(bytes, { record, keyBytes, valueAt: head.length });
    return bytes;
  }

  /**
   * Removes and returns, oldest first, the records whose timestamp `isDue`
   * holds for; `isDue` must hold for every timestamp below one it holds for,
   * and for none at or after `before`. `before` never decreases, and no
   * record below a `before` already passed is added later (a record due on
   * arrival is not held back): so only the records between the last
   * release's bound and `before` are read. A range scan copies what it
   * covers; most records are not due, and in LMDB the committed entries of
   * the records released since the last commit would be read again.
   */
  takeDue(store: OrderedStore, isDue: (ts: number) => boolean, before: number): StreamRecord<K, V>[] {
    const released = store.get(RELEASED_KEY);
    const from = released === undefined ? '' : utf8Text(released);
    const to = encodeTime(before);
    if (from >= to) return [];
    const due: [string, StoredValue][] = [];
    let upTo = to;
    for (const entry of store.rangeStored(WAITING + from, WAITING + to)) {
      if (!isDue(decodeTime(entry[0].slice(1, 17)))) {
        upTo = entry[0].slice(1, 17);
        break;
      }
      due.push(entry);
    }
    // Most clock moves release nothing new: the bound is written only when it moves.
    if (upTo !== from) store.put(RELEASED_KEY, utf8Bytes(upTo));
    return due.map(([k, stored]) => {
      store.delete(k);
      if (stored instanceof KeptValue) {
        const r = stored.value as StreamRecord<K, V>;
        return asReleased(r, r.key, r.value);
      }
      const added = this.#added.get(stored);
      return added === undefined ? this.#decode(decodeTime(k.slice(1, 17)), stored) : this.#again(added, stored);
    });
  }

  /** A record added in this run, as {@link #decode} would give it back. */
  #again({ record: r, keyBytes, valueAt }: Added<K, V>, bytes: Uint8Array): StreamRecord<K, V> {
    const key = keyBytes === null ? (null as K) : isPrimitive(r.key) ? r.key : this.#keys.deserialize(keyBytes);
    const value = isPrimitive(r.value) ? r.value : this.#values.deserialize(bytes.subarray(valueAt));
    return asReleased(r, key, value);
  }

  #decode(timestamp: number, bytes: Uint8Array): StreamRecord<K, V> {
    const nl = bytes.indexOf(NEWLINE);
    const meta = JSON.parse(utf8Text(bytes.subarray(0, nl))) as Meta;
    const key = meta.k === null ? (null as K) : this.#keys.deserialize(new Uint8Array(Buffer.from(meta.k, 'base64')));
    const value = this.#values.deserialize(bytes.subarray(nl + 1));
    return { stream: meta.s, partition: meta.p, offset: meta.o, key, value, headers: meta.h, eventTime: meta.e, brokerTime: meta.b, ingestTime: meta.i, timestamp };
  }
}

/** A record as it is released: what it was added as, with `key` and `value`, and nothing else of the object it came in (a buffered record's own fields). */
function asReleased<K, V>(r: StreamRecord<K, V>, key: K, value: V): StreamRecord<K, V> {
  return { stream: r.stream, partition: r.partition, offset: r.offset, key, value, headers: r.headers, eventTime: r.eventTime, brokerTime: r.brokerTime, ingestTime: r.ingestTime, timestamp: r.timestamp };
}

interface Added<K, V> {
  readonly record: StreamRecord<K, V>;
  /** The serialized key; null: no key. */
  readonly keyBytes: Uint8Array | null;
  /** Where the value's bytes start. */
  readonly valueAt: number;
}

const isPrimitive = (v: unknown): boolean => v === null || (typeof v !== 'object' && typeof v !== 'function');

interface Meta {
  readonly s: string;
  readonly p: number;
  readonly o: number;
  readonly h: StreamRecord['headers'];
  readonly e: number | null;
  readonly b: number | null;
  readonly i: number;
  /** The serialized key in base64; null: no key. */
  readonly k: string | null;
}

/**
 * The timestamp of the oldest record waiting in `store` if it is below
 * `before`, undefined when none waits below it: what `heldHorizon(before, …)`
 * needs, read without scanning the records that wait at or after `before`.
 */
export function oldestWaitingBefore(store: OrderedStore, before: number): number | undefined {
  for (const [k] of store.range(WAITING, WAITING + encodeTime(before))) return decodeTime(k.slice(1, 17));
  return undefined;
}

const WAITING = 'b';
const RELEASED_KEY = 'r';
const NEWLINE = 0x0a;

const base64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
