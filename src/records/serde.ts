import { keptExactly } from './exact-number.ts';
import { utf8Bytes, utf8Text } from './utf8.ts';

/**
 * Serdes turn keys and values into bytes and back. They are pluggable: any
 * object with `serialize` and `deserialize` is a serde. A serde that cannot
 * read its input throws a {@link DeserializationError}, which the runtime
 * turns into a dead-letter record naming the stream, partition and offset.
 */
export interface Serde<T> {
  /** A short name shown in errors (`json`, `string`, …). */
  readonly name: string;
  /** The bytes of `value`; null for an absent key or value. Throws a {@link SerializationError} for a value it cannot write exactly. */
  serialize(value: T): Uint8Array | null;
  /** The value of `bytes` (null: an absent key or value). Throws a {@link DeserializationError} for bytes it cannot read. */
  deserialize(bytes: Uint8Array | null): T;
}

/** A value that could not be read; `field` names the part of the value at fault, when known. */
export class DeserializationError extends Error {
  /** The part of the value at fault (`a.b[2]`), or undefined for the value itself. */
  readonly field: string | undefined;
  /** @param field the part of the value at fault, when known. */
  constructor(message: string, field?: string) {
    super(message);
    this.name = 'DeserializationError';
    this.field = field;
  }
}

/**
 * A value a serde cannot write exactly (`undefined`, a function, `NaN`, a
 * `Map`, …): writing it anyway would store something else than what the
 * topology produced. `field` is the path to the part at fault (`a.b[2]`), or
 * undefined for the value itself.
 */
export class SerializationError extends Error {
  /** The path to the part at fault (`a.b[2]`), or undefined for the value itself. */
  readonly field: string | undefined;
  /** @param field the path to the part at fault, when known; it prefixes the message. */
  constructor(message: string, field?: string) {
    super(field === undefined ? message : `${field}: ${message}`);
    this.name = 'SerializationError';
    this.field = field;
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8Text(bytes);
  } catch {
    throw new DeserializationError('not valid UTF-8');
  }
}

/** Raw bytes, untouched. `null` stays `null`; anything but bytes or `null` is a {@link SerializationError}. */
export function bytesSerde(): Serde<Uint8Array | null> {
  // Not registered with readsBackAsIs: the bytes read back are the same array, which its holder may change.
  return {
    name: 'bytes',
    serialize: (v) => {
      if (v === null || v instanceof Uint8Array) return v;
      throw new SerializationError(`the bytes serde writes a Uint8Array or null, not ${describeValue(v)}`);
    },
    deserialize: (b) => b,
  };
}

/**
 * UTF-8 strings; invalid UTF-8 is a deserialization error. An absent key or
 * value (`null` bytes) stays `null`, as in Kafka Streams: where a stream may
 * carry them, type it `stringSerde<string | null>()`.
 */
export function stringSerde<T extends string | null = string>(): Serde<T> {
  return readsBackWhen<T>(wellFormedText, {
    name: 'string',
    serialize: (v) => {
      if (v === null) return null;
      if (typeof v !== 'string') throw new SerializationError(`the string serde writes a string or null, not ${describeValue(v)}`);
      return utf8Bytes(v);
    },
    deserialize: (b) => (b === null ? null : decodeUtf8(b)) as T,
  });
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
  return readsBackWhen<T>((v) => keptByJson(v, 0, true) && check?.(v) === undefined, {
    name: 'json',
    serialize: (v) => {
      if (v === null) return null;
      const problem = jsonProblem(v, undefined);
      if (problem !== undefined) throw new SerializationError(problem.message, problem.field);
      return utf8Bytes(JSON.stringify(v));
    },
    deserialize: (b) => {
      if (b === null) return null as T;
      const text = decodeUtf8(b);
      let parsed: unknown;
      try {
        parsed = mayBeInexact(text) ? parseExactly(text) : JSON.parse(text);
      } catch (e) {
        if (e instanceof DeserializationError) throw e;
        throw new DeserializationError(`invalid JSON: ${(e as Error).message}`);
      }
      const problem = check?.(parsed);
      if (problem !== undefined) {
        const colon = problem.indexOf(':');
        throw new DeserializationError(`wrong type: ${problem}`, colon > 0 ? problem.slice(0, colon) : undefined);
      }
      return parsed as T;
    },
  });
}

/** Per built-in serde, which values it reads back as they were written (see {@link readsBackAsIs}). */
const READS_BACK = new WeakMap<Serde<any>, (value: unknown) => boolean>();

/** Declares which values `serde` reads back as they were written (see {@link readsBackAsIs}), for a serde built on others; returns it. */
export function readsBackWhen<T>(test: (value: unknown) => boolean, serde: Serde<T>): Serde<T> {
  READS_BACK.set(serde, test);
  return serde;
}

/**
 * Whether `serde` is known to read `value` back, once written, as an equal
 * value its reader cannot tell from it: then a store may keep the object
 * itself between commits and write its bytes only when it commits, and a
 * run restored from those bytes goes on exactly as the run that kept it.
 * True for the built-in JSON serde on plain JSON data its `check` accepts
 * (arrays without holes, objects of `Object.prototype`, strings,
 * booleans, `null`, finite numbers other than -0: not a `Date`, a class
 * instance, an object without a prototype or an undefined property,
 * which come back otherwise), and for
 * the string serde on well-formed strings. False for any other serde: its
 * values go through their bytes every time.
 */
export function readsBackAsIs<T>(serde: Serde<T>, value: T): boolean {
  const test = READS_BACK.get(serde);
  return test !== undefined && test(value);
}

/** What {@link readBackCopy} gives where the serde cannot vouch for a copy. */
export const NO_COPY: unique symbol = Symbol('no copy');

/**
 * A copy of `value` that its reader cannot tell from what `serde` would
 * read back from its bytes, made without the bytes (a walk, much cheaper
 * than writing and parsing JSON) — or {@link NO_COPY} where `serde` cannot
 * vouch for one (see {@link readsBackAsIs}): then only the bytes say what
 * the value is.
 */
export function readBackCopy<T>(serde: Serde<T>, value: T): T | typeof NO_COPY {
  return readsBackAsIs(serde, value) ? copyPlain(value) : NO_COPY;
}

/** A deep copy of plain JSON data, or of a copy of it (see {@link readsBackAsIs}); strings and other primitives are themselves. */
export function copyPlain<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyPlain) as T;
  const out: Record<string, unknown> = {};
  for (const k in value) out[k] = copyPlain((value as Record<string, unknown>)[k]);
  return out as T;
}

// A lone surrogate is written as U+FFFD. (isWellFormed is Node 20's, not yet in the ES2023 lib the project compiles against.)
const wellFormedText = (v: unknown): boolean => v === null || (typeof v === 'string' && (v as string & { isWellFormed(): boolean }).isWellFormed());

/**
 * Whether text may hold a number JSON.parse cannot keep exactly: 16 digits
 * or more (a decimal point among them or not), or a digit followed by an
 * exponent. Other text takes the fast path. A scan by hand: the regular
 * expression saying the same cost a tenth of a pass-through's time.
 */
function mayBeInexact(text: string): boolean {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits >= 16) return true;
    } else if (digits > 0 && (c === 101 || c === 69)) return true; // e, E
    else if (c !== 46 || digits === 0) digits = 0; // a decimal point keeps the run going
  }
  return false;
}

/**
 * JSON.parse, refusing a number that a double cannot hold exactly
 * (`9007199254740993`, `1e400`): read and written again it would be another
 * value, so it is a {@link DeserializationError} naming the field, which
 * sends the record to the dead-letter stream untouched.
 */
function parseExactly(text: string): unknown {
  return JSON.parse(text, (key: string, v: unknown, context?: { source?: string }) => {
    if (typeof v === 'number' && context?.source !== undefined && !keptExactly(context.source, v)) {
      throw new DeserializationError(`the number ${context.source} cannot be kept exactly (JSON would read it as ${v})`, key === '' ? undefined : key);
    }
    return v;
  });
}

/**
 * Why `value` cannot be written as JSON and read back as the same value, or
 * undefined when it can: `JSON.stringify` would turn `undefined` into nothing
 * (a tombstone at the top), a function or symbol into nothing, `NaN` and
 * `±Infinity` into `null`, a `Map` or `Set` into `{}`, and throws on a BigInt
 * or a cycle. Objects with `toJSON` (a `Date`) are written as it says.
 */
export function jsonProblem(value: unknown, field: string | undefined): { message: string; field: string | undefined } | undefined {
  // The common case, a value JSON keeps, is told without building paths; only a problem is then looked for with them.
  return keptByJson(value, 0) ? undefined : problemAt(value, field, new Set());
}

/**
 * Whether JSON writes `value` as it is (see {@link jsonProblem}) — and with
 * `readsBack`, whether it also reads it back as the same value: plain JSON
 * data (see {@link readsBackAsIs}). False also when nested too deep to tell
 * cheaply (a cycle, say).
 */
function keptByJson(value: unknown, depth: number, readsBack = false): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !(readsBack && Object.is(value, -0));
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > 64) return false;
  if (Array.isArray(value)) {
    if (readsBack && Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if ((readsBack && !(i in value)) || !keptByJson(value[i], depth + 1, readsBack)) return false;
    return true;
  }
  if (readsBack) {
    if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  } else {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
    if (value instanceof Map || value instanceof Set || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  }
  for (const k in value) {
    if (!Object.hasOwn(value, k)) {
      if (readsBack) return false;
      continue;
    }
    const v = (value as Record<string, unknown>)[k];
    // JSON drops an undefined property: written, it reads back missing.
    if (v === undefined ? readsBack : !keptByJson(v, depth + 1, readsBack)) return false;
  }
  return true;
}

/** The first part of `value` JSON would not keep, with its path; undefined when there is none. */
function problemAt(value: unknown, field: string | undefined, seen: Set<object>): { message: string; field: string | undefined } | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { message: `${value} cannot be written as JSON (it would become null)`, field };
    case 'object':
      break;
    default:
      return { message: `${describeValue(value)} cannot be written as JSON${value === undefined && field === undefined ? ' (forward null for a tombstone)' : ''}`, field };
  }
  if (value === null) return undefined;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (value instanceof Map || value instanceof Set || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return { message: `${describeValue(value)} cannot be written as JSON (it would lose its contents or shape)`, field };
  }
  if (seen.has(value)) return { message: 'a cycle cannot be written as JSON', field };
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const p = problemAt(value[i], `${field ?? ''}[${i}]`, seen);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    for (const k of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[k];
      // JSON drops an undefined property, and reading it back gives undefined again: nothing changes.
      if (v === undefined) continue;
      const p = problemAt(v, field === undefined ? k : `${field}.${k}`, seen);
      if (p !== undefined) return p;
    }
    return undefined;
  } finally {
    seen.delete(value);
  }
}

/** A short description of a value's kind, for messages. */
function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'bigint') return `the BigInt ${v}n`;
  if (v instanceof Map) return 'a Map';
  if (v instanceof Set) return 'a Set';
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `a ${v.constructor.name}`;
  return typeof v === 'object' ? 'an object' : `the ${typeof v} ${String(v)}`;
}

/**
 * The built-in serdes. Sources, sinks, stores and aggregations default to
 * JSON where no serde is given.
 *
 * @example
 * builder.stream<string, Reading>('readings', { key: Serdes.string(), value: Serdes.json<Reading>() });
 */
export const Serdes = {
  /** Raw bytes, untouched; `null` stays `null`. */
  bytes: bytesSerde,
  /** UTF-8 strings; invalid UTF-8 cannot be read; `null` stays `null` (type it `Serdes.string<string | null>()` where a stream may carry them). */
  string: stringSerde,
  /**
   * JSON values, only those JSON keeps exactly (no `undefined`, `NaN`,
   * `Map`, …; numbers a double keeps). An optional `check` validates the
   * shape after parsing: it returns a message naming the field at fault, or
   * undefined when the value is acceptable.
   */
  json: jsonSerde,
} as const;
