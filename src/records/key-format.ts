/**
 * Keys written in one format and read in another. The two common formats
 * are JSON text (`"s0"`, what `Serdes.json()` — the DSL's default — reads,
 * and what `tidemark produce` writes by default) and raw UTF-8 (`s0`, what
 * `Serdes.string()` reads and Kafka's StringSerializer and
 * `tidemark produce --key-format string` write). A string serde reads JSON
 * text without an error, quotes and all — a different key, most likely on
 * another partition than the producer meant, so the output differs without
 * a word — and a JSON serde cannot read raw text at all.
 *
 * @module
 */

/** The format a key seems written in when its source's serde does not read it as meant. */
export type KeyFormatMismatch = 'json-read-as-string' | 'string-read-as-json';

/**
 * Rule: a source whose key serde is `string` and whose key is the text of a
 * JSON string (`"s0"`, quotes included) most likely reads JSON-written keys;
 * a source whose key serde is `json` and that could not read a key whose
 * bytes are text but not JSON most likely reads string-written keys. Any
 * other key is read as meant (a key that merely contains quotes inside,
 * `a"b`, is not JSON text; a JSON key a validating serde refused is JSON).
 * `key` is the key as the serde read it, or, when it could not, the key's
 * bytes as UTF-8 text (undefined when they are not text).
 *
 * @example
 * keyFormatMismatch('string', '"s0"', false); // 'json-read-as-string'
 * keyFormatMismatch('string', 's0', false);   // undefined
 * keyFormatMismatch('json', 's0', true);      // 'string-read-as-json'
 * keyFormatMismatch('json', '{"id":1}', true); // undefined: JSON, refused for another reason
 */
export function keyFormatMismatch(serdeName: string, key: unknown, unreadable: boolean): KeyFormatMismatch | undefined {
  if (typeof key !== 'string') return undefined;
  if (serdeName === 'json' && unreadable) return isJson(key) ? undefined : 'string-read-as-json';
  if (serdeName !== 'string' || unreadable) return undefined;
  if (key.length < 2 || !key.startsWith('"') || !key.endsWith('"')) return undefined;
  return isJson(key) ? 'json-read-as-string' : undefined;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
