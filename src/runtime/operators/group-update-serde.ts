import { DeserializationError, SerializationError, type Serde } from '../../records/serde.ts';
import type { GroupUpdate } from '../../tables/regroup.ts';

const SUBTRACT = 1;
const ADD = 2;

/**
 * How a {@link GroupUpdate} is written into a regrouped table's repartition
 * stream, as one record: a flags byte (1: a value to subtract, 2: a value to
 * add), then the subtracted value's bytes behind a 4-byte big-endian length,
 * then the added value's bytes. Values are written with `inner`, whatever
 * it is (JSON, strings, bytes), and must not write as null.
 */
export function groupUpdateSerde<W>(inner: Serde<W>): Serde<GroupUpdate<W>> {
  const bytesOf = (w: W, part: string): Uint8Array => {
    const b = inner.serialize(w);
    if (b === null) throw new SerializationError(`a regrouped table's ${part} value must not serialize to null (serde ${inner.name})`);
    return b;
  };
  return {
    name: `group-update(${inner.name})`,
    serialize(u) {
      const sub = u.subtract === undefined ? undefined : bytesOf(u.subtract, 'subtracted');
      const add = u.add === undefined ? undefined : bytesOf(u.add, 'added');
      const out = new Uint8Array(1 + (sub === undefined ? 0 : 4 + sub.length) + (add?.length ?? 0));
      out[0] = (sub === undefined ? 0 : SUBTRACT) | (add === undefined ? 0 : ADD);
      let at = 1;
      if (sub !== undefined) {
        new DataView(out.buffer).setUint32(at, sub.length);
        out.set(sub, at + 4);
        at += 4 + sub.length;
      }
      if (add !== undefined) out.set(add, at);
      return out;
    },
    deserialize(bytes) {
      if (bytes === null || bytes.length < 1 || (bytes[0]! & ~(SUBTRACT | ADD)) !== 0) throw new DeserializationError('not a regrouped table update');
      const flags = bytes[0]!;
      let at = 1;
      let subtract: W | undefined;
      if ((flags & SUBTRACT) !== 0) {
        if (bytes.length < 5) throw new DeserializationError('a regrouped table update is cut short');
        const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
        if (bytes.length < 5 + n) throw new DeserializationError('a regrouped table update is cut short');
        subtract = inner.deserialize(bytes.subarray(5, 5 + n));
        at = 5 + n;
      }
      const add = (flags & ADD) !== 0 ? inner.deserialize(bytes.subarray(at)) : undefined;
      if ((flags & ADD) === 0 && at !== bytes.length) throw new DeserializationError('a regrouped table update has bytes left over');
      return { ...(subtract === undefined ? {} : { subtract }), ...(add === undefined ? {} : { add }) };
    },
  };
}
