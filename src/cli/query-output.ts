/**
 * The lines `tidemark query` prints: one JSON object per entry, with the
 * key and value as the store's serdes read them.
 *
 * @module
 */
import type { VersionedRecord } from '../state/versioned-store.ts';
import type { Timestamped } from '../state/timestamped.ts';

/**
 * A key or value as JSON fields: itself under `name` when JSON can show it;
 * raw bytes (a `Serdes.bytes()` store) as base64, with `<name>Format`
 * saying so, as `tidemark consume` shows bytes that are not text.
 */
function field(name: string, v: unknown): Record<string, unknown> {
  if (v instanceof Uint8Array) return { [name]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'), [`${name}Format`]: 'base64' };
  return { [name]: v === undefined ? null : v };
}

/** JSON without failing on what a custom serde may return: a bigint is written as its decimal string. */
function json(fields: Record<string, unknown>): string {
  return JSON.stringify(fields, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * A key-value store's entry: `{"key":…,"value":…}`; a table's row — a
 * value with the timestamp of the record that wrote it — adds
 * `"timestamp"`.
 *
 * @example
 * keyValueLine('s1', { value: { celsius: 31 }, timestamp: 1000 }, true); // '{"key":"s1","value":{"celsius":31},"timestamp":1000}'
 */
export function keyValueLine(key: unknown, value: unknown, timestamped: boolean): string {
  if (!timestamped) return json({ ...field('key', key), ...field('value', value) });
  const row = value as Timestamped<unknown>;
  return json({ ...field('key', key), ...field('value', row.value), timestamp: row.timestamp });
}

/**
 * A versioned table's version: `{"key":…,"value":…,"validFrom":…,"validTo":…}`,
 * `validTo` null for the latest version.
 *
 * @example
 * versionedLine('apple', { value: 3, validFrom: 10, validTo: undefined }); // '{"key":"apple","value":3,"validFrom":10,"validTo":null}'
 */
export function versionedLine(key: unknown, version: VersionedRecord<unknown>): string {
  return json({ ...field('key', key), ...field('value', version.value), validFrom: version.validFrom, validTo: version.validTo ?? null });
}

/**
 * A time in a message: ISO-8601 for epoch milliseconds (from 1e11, in
 * 1973, on), else the number (a topology's own small timestamps).
 *
 * @example
 * timeText(1780315200000); // '2026-06-01T12:00:00.000Z'
 * timeText(30);            // '30'
 */
export function timeText(t: number): string {
  return t >= 1e11 && t <= 8.64e15 ? new Date(t).toISOString() : String(t);
}
