import type { Processor } from '../processor.ts';
import { applyTableRecord, filterChange, hasTableKey, isOutOfOrderTableUpdate, isVisibleChange, mapChange, type Change } from '../../tables/change.ts';
import type { Timestamped } from '../../state/timestamped.ts';

/** Why a table drops a record with a null key (as Kafka Streams does): there is no row to change. */
export const NULL_TABLE_KEY = 'a table record with a null key changes nothing (set a key upstream)';

/**
 * The source of a table: each record changes its key's row in `store`
 * (`applyTableRecord`: a null value deletes, the last record in scheduled
 * order wins) and, when a reader could see the change (`isVisibleChange`),
 * forwards it as a `Change` (old and new value) with the record's
 * timestamp. Each row is kept with the timestamp of the record that wrote
 * it; an update older than its row is applied all the same and counted
 * (`isOutOfOrderTableUpdate`). A record with a null key is dropped, counted
 * and audited.
 * The store commits with the task, so after a restart or a crash the table
 * holds what the last commit wrote, and each change is forwarded once.
 */
export function tableSource<K, V>(store: string): () => Processor<K, V | null, K, Change<V>> {
  return () => ({
    process(record, ctx) {
      if (!hasTableKey(record.key)) return ctx.reportDropped(record, NULL_TABLE_KEY);
      const rows = ctx.getStore<K, Timestamped<V>>(store);
      const row = rows.get(record.key);
      const old = row?.value;
      if (isOutOfOrderTableUpdate(row?.timestamp, record.timestamp)) ctx.countOutOfOrderTableUpdate();
      const now = applyTableRecord(old, record.value);
      if (now === undefined) {
        if (row !== undefined) rows.delete(record.key);
      } else rows.put(record.key, { value: now, timestamp: record.timestamp });
      const change: Change<V> = { old, new: now };
      if (isVisibleChange(change)) ctx.forward({ ...record, value: change });
    },
  });
}

/** A table operator that rewrites each change (`filterChange`, `mapChange`) and forwards the visible ones (`isVisibleChange`). */
export function tableChangeOperator<K, V, W>(rewrite: (key: K, change: Change<V>) => Change<W>): () => Processor<K, Change<V>, K, Change<W>> {
  return () => ({
    process(record, ctx) {
      const change = rewrite(record.key, record.value);
      if (isVisibleChange(change)) ctx.forward({ ...record, value: change });
    },
  });
}

/** `KTable.filter`: a value that does not pass reads as absent below it (`filterChange`). */
export function tableFilter<K, V>(predicate: (key: K, value: V) => boolean): () => Processor<K, Change<V>, K, Change<V>> {
  return tableChangeOperator<K, V, V>((key, change) => filterChange(key, change, predicate));
}

/** `KTable.mapValues`: present values mapped, old and new alike (`mapChange`). */
export function tableMapValues<K, V, W>(f: (key: K, value: V) => W | null): () => Processor<K, Change<V>, K, Change<W>> {
  return tableChangeOperator<K, V, W>((key, change) => mapChange(key, change, f));
}

/**
 * `KTable.toStream`: the table's changelog as a stream — for each visible
 * change the new value, or null (a tombstone) for a delete, with the
 * change's timestamp.
 */
export function tableToStream<K, V>(): () => Processor<K, Change<V>, K, V | null> {
  return () => ({
    process(record, ctx) {
      const change = record.value;
      if (isVisibleChange(change)) ctx.forward({ ...record, value: change.new ?? null });
    },
  });
}
