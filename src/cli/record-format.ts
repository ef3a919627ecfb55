/**
 * How the CLI turns JSON into record bytes (produce) and bytes back into
 * JSON (consume). Produce is explicit — a format per flag — so that the
 * bytes written are exactly what a topology's serde expects; consume
 * guesses, because it is for people looking at data.
 */

/** How `produce` writes a key. `json` matches the DSL's default serde, `string` Kafka's StringSerializer. */
export type KeyFormat = 'json' | 'string';
/** How `produce` writes a value; `raw-base64` writes the decoded bytes of a base64 string (any bytes at all). */
export type ValueFormat = 'json' | 'string' | 'raw-base64';

export const KEY_FORMATS: readonly KeyFormat[] = ['json', 'string'];
export const VALUE_FORMATS: readonly ValueFormat[] = ['json', 'string', 'raw-base64'];

import { unicodeMessage } from './exact-input.ts';

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Encodes a key or value from an NDJSON line. `null` (or a missing field)
 * is a null key/value — a tombstone, as in Kafka — in every format.
 * Throws with a message naming `field` when the JSON value does not fit
 * the format (a number where `string` wants a string…).
 */
export function encodeField(value: unknown, format: ValueFormat, field: string): Uint8Array | null {
  if (value === null || value === undefined) return null;
  switch (format) {
    case 'json':
      return encoder.encode(JSON.stringify(value));
    case 'string': {
      if (typeof value !== 'string') throw new Error(`"${field}" must be a string with --${field}-format string, got ${jsonType(value)}`);
      // TextEncoder would write a lone surrogate as U+FFFD: refuse rather than change it.
      const lone = unicodeMessage(value, field);
      if (lone !== undefined) throw new Error(lone);
      return encoder.encode(value);
    }
    case 'raw-base64':
      if (typeof value !== 'string' || !BASE64.test(value)) throw new Error(`"${field}" must be a base64 string with --${field}-format raw-base64`);
      return new Uint8Array(Buffer.from(value, 'base64'));
  }
}

/**
 * The bytes of a key given on the command line (`--key K`): with `json` the
 * text is JSON (`"s1"`, `42`, `{"id":1}`), with `string` it is the string
 * itself. `option` names the flag in the error for text that is not JSON,
 * or is JSON null (no store has a null key).
 */
export function keyTextBytes(text: string, format: KeyFormat, option: string): Uint8Array {
  let value: unknown = text;
  if (format === 'json') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`${option} ${JSON.stringify(text)} is not JSON, as --key-format json reads it (a string key in JSON is quoted: '"${text}"'; or give --key-format string)`);
    }
  }
  const bytes = encodeField(value, format, 'key');
  if (bytes === null) throw new Error(`${option} null: a store has no null key`);
  return bytes;
}

/** A decoded key or value for display, and how it was decoded. */
export interface DisplayedBytes {
  readonly value: unknown;
  /** `json` when the bytes parse as JSON; `string` for other UTF-8 text; `base64` for anything else. */
  readonly format: 'json' | 'string' | 'base64';
}

/**
 * Decodes bytes for display: JSON when they parse as JSON, else the UTF-8
 * string, else base64. The format is returned so that the output can say
 * when it is not JSON (the string `"a"` and the text `a` look alike).
 */
export function displayBytes(bytes: Uint8Array | null): DisplayedBytes {
  if (bytes === null) return { value: null, format: 'json' };
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), format: 'base64' };
  }
  try {
    return { value: JSON.parse(text), format: 'json' };
  } catch {
    return { value: text, format: 'string' };
  }
}

/** `a string`, `a number`, `an object`… for error messages. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'object' ? 'an object' : `a ${t}`;
}

