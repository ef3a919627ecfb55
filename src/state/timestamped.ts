import { DeserializationError, SerializationError, readsBackAsIs, readsBackWhen, type Serde } from '../records/serde.ts';
import { readTime64, writeTime64 } from './time-key.ts';

/** A stored value with the timestamp of the record that wrote it: a table's row. */
export interface Timestamped<V> {
  /** The value. */
  readonly value: V;
  /** The timestamp of the record that wrote it. */
  readonly timestamp: number;
}

/**
 * How a {@link Timestamped} value is stored: its timestamp as an 8-byte
 * big-endian signed integer, then the value's bytes (by `inner`, which must
 * not write the value as null).
 */
export function timestampedSerde<V>(inner: Serde<V>): Serde<Timestamped<V>> {
  const serde: Serde<Timestamped<V>> = {
    name: `timestamped(${inner.name})`,
    serialize(t) {
      const bytes = inner.serialize(t.value);
      if (bytes === null) throw new SerializationError(`a timestamped value must not serialize to null (serde ${inner.name})`);
      if (!Number.isSafeInteger(t.timestamp)) throw new SerializationError(`a timestamp must be a safe integer, not ${t.timestamp}`);
      const out = new Uint8Array(8 + bytes.length);
      writeTime64(new DataView(out.buffer, out.byteOffset, out.byteLength), 0, t.timestamp);
      out.set(bytes, 8);
      return out;
    },
    deserialize(bytes) {
      if (bytes === null || bytes.length < 8) throw new DeserializationError('not a timestamped value');
      const timestamp = readTime64(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
      return { value: inner.deserialize(bytes.subarray(8)), timestamp };
    },
  };
  timestampedSerdes.add(serde);
  // It reads back `{ value, timestamp }`, in that order, with what `inner` reads back of the value.
  return readsBackWhen((v) => isRow(v) && readsBackAsIs(inner, v.value as V), serde);
}

function isRow(v: unknown): v is Timestamped<unknown> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const keys = Object.keys(v);
  const t = (v as Timestamped<unknown>).timestamp;
  return keys.length === 2 && keys[0] === 'value' && keys[1] === 'timestamp' && (v as Timestamped<unknown>).value !== null && Number.isSafeInteger(t) && !Object.is(t, -0);
}

const timestampedSerdes = new WeakSet<object>();

/** Whether `serde` is one {@link timestampedSerde} made: a store of table rows, whose values carry their timestamps. */
export function isTimestampedSerde(serde: object): boolean {
  return timestampedSerdes.has(serde);
}
