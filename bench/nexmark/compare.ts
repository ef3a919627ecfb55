/**
 * Comparing result rows with the reference's: as sorted lists of NDJSON
 * lines, after keeping the last row per key for the keyed queries (a system
 * that emits updates is judged by its final rows).
 */
import { readFileSync } from 'node:fs';
import { KEYED, reference, type QueryName } from './reference.ts';
import type { NexmarkEvent } from './model.ts';

/** What a system wrote, reduced to what is compared: the last row per key for keyed queries, sorted. */
export function normalizeRows(query: QueryName, lines: readonly string[]): string[] {
  const keyField = KEYED[query];
  if (keyField === undefined) return [...lines].sort();
  const last = new Map<unknown, string>();
  for (const l of lines) {
    const row = JSON.parse(l) as Record<string, unknown>;
    if (!(keyField in row)) throw new Error(`${query} row without its key ${keyField}: ${l}`);
    last.set(row[keyField], l);
  }
  return [...last.values()].sort();
}

/** The outcome of a comparison: equal, or the first difference in words. */
export interface Comparison {
  readonly equal: boolean;
  readonly rows: number;
  readonly expected: number;
  readonly difference?: string;
}

/** Compares normalized rows with the reference's (both sorted). */
export function compareLines(query: QueryName, rows: readonly string[], expected: readonly string[]): Comparison {
  const n = Math.max(rows.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (rows[i] === expected[i]) continue;
    const missing = expected.filter((l) => !new Set(rows).has(l)).slice(0, 3);
    const extra = rows.filter((l) => !new Set(expected).has(l)).slice(0, 3);
    return {
      equal: false,
      rows: rows.length,
      expected: expected.length,
      difference: `${query}: ${rows.length} rows, the reference ${expected.length}; first difference at sorted row ${i}: got ${rows[i] ?? '(none)'}, expected ${expected[i] ?? '(none)'}` +
        `\n  missing (first 3): ${missing.join(' | ') || '-'}\n  extra (first 3): ${extra.join(' | ') || '-'}`,
    };
  }
  return { equal: true, rows: rows.length, expected: expected.length };
}

/** Reads a rows file (NDJSON, blank lines ignored). */
export function readRows(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/**
 * Compares a system's rows file for `query` with the reference over
 * `events` (a peer's output, written as NDJSON result rows). Lines are
 * compared as JSON re-serialized, so spacing does not matter; key order does.
 */
export function compareRowsWith(query: QueryName, rowsFile: string, events: readonly NexmarkEvent[]): Comparison {
  const rows = readRows(rowsFile).map((l, i) => {
    try {
      return JSON.stringify(JSON.parse(l));
    } catch (e) {
      throw new Error(`${rowsFile}:${i + 1}: not JSON: ${(e as Error).message}`, { cause: e });
    }
  });
  return compareLines(query, normalizeRows(query, rows), reference(query, events));
}
