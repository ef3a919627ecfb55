/**
 * Serdes turn keys and values into bytes and back. They are pluggable: any
 * object with `serialize` and `deserialize` is a serde. A serde that cannot
 * read its input throws a {@link DeserializationError}, which the runtime
 * turns into a dead-letter record naming the stream, partition and offset.
 */
export interface Serde<T> {
  readonly name: string;
  serialize(value: T): Uint8Array | null;
  deserialize(bytes: Uint8Array | null): T;
}

/** A value that could not be read; `field` names the part of the value at fault, when known. */
export class DeserializationError extends Error {
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.name = 'DeserializationError';
    this.field = field;
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new DeserializationError('not valid UTF-8');
  }
}

/** Raw bytes, untouched. `null` stays `null`. */
export function bytesSerde(): Serde<Uint8Array | null> {
  return { name: 'bytes', serialize: (v) => v, deserialize: (b) => b };
}

/**
 * UTF-8 strings; invalid UTF-8 is a deserialization error. An absent key or
 * value (`null` bytes) stays `null`, as in Kafka Streams: where a stream may
 * carry them, type it `stringSerde<string | null>()`.
 */
export function stringSerde<T extends string | null = string>(): Serde<T> {
  return {
    name: 'string',
    serialize: (v) => (v === null ? null : utf8Encoder.encode(v)),
    deserialize: (b) => (b === null ? null : decodeUtf8(b)) as T,
  };
}

/**
 * JSON values. An optional `check` validates the shape after parsing: it
 * returns a message naming the field at fault (`"temperature: expected a number"`)
 * or undefined when the value is acceptable.
 *
 * @example
 * const readings = jsonSerde<Reading>((v) =>
 *   typeof (v as Reading).celsius === 'number' ? undefined : 'celsius: expected a number');
 */
export function jsonSerde<T = unknown>(check?: (value: unknown) => string | undefined): Serde<T> {
  return {
    name: 'json',
    serialize: (v) => (v === null || v === undefined ? null : utf8Encoder.encode(JSON.stringify(v))),
    deserialize: (b) => {
      if (b === null) return null as T;
      const text = decodeUtf8(b);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new DeserializationError(`invalid JSON: ${(e as Error).message}`);
      }
      const problem = check?.(parsed);
      if (problem !== undefined) {
        const colon = problem.indexOf(':');
        throw new DeserializationError(`wrong type: ${problem}`, colon > 0 ? problem.slice(0, colon) : undefined);
      }
      return parsed as T;
    },
  };
}

/** The built-in serdes. */
export const Serdes = { bytes: bytesSerde, string: stringSerde, json: jsonSerde } as const;
