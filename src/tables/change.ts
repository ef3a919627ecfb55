/**
 * The rules of tables: what a table record does to its key's row, which
 * changes a table operator forwards, and how `filter` and `mapValues`
 * change a change. Table operators (`src/runtime/operators/`), the DSL and
 * the tests' references call these, rather than restating them.
 */

/**
 * A change of one key of a table: what a reader of the table saw before it
 * (`old`) and sees after it (`new`); `undefined` means the key is absent.
 *
 * @example
 * const change: Change<number> = { old: 3, new: undefined }; // key deleted: it had 3
 */
export interface Change<V> {
  /** The key's value before the change; undefined: absent. */
  readonly old: V | undefined;
  /** The key's value after the change; undefined: absent (a delete). */
  readonly new: V | undefined;
}

/**
 * Rule: a table record needs a key. A record with a null (or undefined) key
 * changes nothing: it is dropped, counted and audited (`dropped`), as Kafka
 * Streams drops it.
 *
 * @example
 * hasTableKey(null); // false: dropped
 * hasTableKey('');   // true: the empty string is a key
 */
export function hasTableKey(key: unknown): boolean {
  return key !== null && key !== undefined;
}

/**
 * Rule: a table record with a null value deletes its key (a tombstone);
 * any other value replaces the key's value, whatever its timestamp — the
 * update processed last (in scheduled order) wins. Returns the key's new
 * value (undefined: absent).
 *
 * @example
 * applyTableRecord(undefined, 5); // 5
 * applyTableRecord(5, null);      // undefined: deleted
 */
export function applyTableRecord<V>(_current: V | undefined, value: V | null): V | undefined {
  return value === null || value === undefined ? undefined : value;
}

/**
 * Rule: a table update is out of order when its timestamp is below that of
 * the row it changes (the timestamp of the record that wrote the row). It
 * is applied all the same — the last update in scheduled order wins — and
 * counted (`outOfOrderTableUpdates`), not audited: it depends on the input
 * alone.
 *
 * @example
 * isOutOfOrderTableUpdate(20, 5);        // true: an older update replaces a newer row
 * isOutOfOrderTableUpdate(undefined, 5); // false: no row yet
 */
export function isOutOfOrderTableUpdate(rowTimestamp: number | undefined, timestamp: number): boolean {
  return rowTimestamp !== undefined && timestamp < rowTimestamp;
}

/**
 * Rule: a table operator forwards a change only when a reader could see it:
 * unless the key was absent before and is absent after. A delete of an
 * absent key, or a filter that rejects both the old and the new value,
 * forwards nothing — so a tombstone goes downstream only for a key that
 * had a value there. A rewrite with an equal value is forwarded (it is a
 * write; no values are compared).
 *
 * @example
 * isVisibleChange({ old: undefined, new: undefined }); // false
 * isVisibleChange({ old: 1, new: 1 });                 // true
 */
export function isVisibleChange<V>(change: Change<V>): boolean {
  return !(change.old === undefined && change.new === undefined);
}

/**
 * Rule: `filter(p)` keeps a value when `p(key, value)` holds, else the key
 * reads as absent below the filter; applied to the old and the new value
 * alike, so a value that stops passing becomes a delete.
 *
 * @example
 * filterChange('k', { old: 4, new: 5 }, (_k, v) => v % 2 === 0); // { old: 4, new: undefined }
 */
export function filterChange<K, V>(key: K, change: Change<V>, p: (key: K, value: V) => boolean): Change<V> {
  const keep = (v: V | undefined): V | undefined => (v !== undefined && p(key, v) ? v : undefined);
  return { old: keep(change.old), new: keep(change.new) };
}

/**
 * Rule: `mapValues(f)` maps present values only, the old and the new one
 * alike; absent stays absent (a tombstone stays a tombstone), and a value
 * `f` maps to null (or undefined) reads as absent, as a null table value
 * does.
 *
 * @example
 * mapChange('k', { old: 2, new: undefined }, (_k, v) => v * 10); // { old: 20, new: undefined }
 * mapChange('k', { old: 2, new: 3 }, (_k, v) => (v > 2 ? null : v)); // { old: 2, new: undefined }
 */
export function mapChange<K, V, W>(key: K, change: Change<V>, f: (key: K, value: V) => W | null): Change<W> {
  const map = (v: V | undefined): W | undefined => {
    if (v === undefined) return undefined;
    const w = f(key, v);
    return w === null ? undefined : w;
  };
  return { old: map(change.old), new: map(change.new) };
}
