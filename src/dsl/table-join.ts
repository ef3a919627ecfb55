import { jsonSerde, type Serde } from '../records/serde.ts';
import type { Processor } from '../runtime/processor.ts';
import type { StoreKind } from '../state/key-value-store.ts';
import { timestampedSerde } from '../state/timestamped.ts';
import type { TableJoinKind } from '../joins/table-table.ts';
import { tableJoin } from '../runtime/operators/table-join.ts';
import type { KTable } from './ktable.ts';

/** Options of a table–table join. */
export interface TableJoinOptions<VOut> {
  /**
   * Materializes the joined table in a store of this name (each row with
   * its timestamp), readable with `app.store(name)`; the join's copies of
   * the two sides' rows are `<name>-left` and `<name>-right`. Default: not
   * materialized, and the copies named after the node.
   */
  readonly name?: string;
  /** The join's stores: `lmdb` (default) or `in-memory`. */
  readonly store?: StoreKind;
  /** Serde of the joined values (default JSON). */
  readonly value?: Serde<VOut>;
}

/**
 * Adds a table–table join of `left` and `right`: one operator node with
 * both tables as parents, keeping a copy of each side's rows (and, with
 * `name`, the joined rows) in stores of its own. Both tables are keyed by
 * the same key, so both are read in one task per partition: their streams
 * must be co-partitioned, which the run checks before it starts.
 */
export function addTableJoin<K, VL, VR, VOut>(
  left: KTable<K, VL>,
  right: KTable<K, VR>,
  kind: TableJoinKind,
  joiner: (left: VL | undefined, right: VR | undefined) => VOut | null,
  options: TableJoinOptions<VOut>,
): KTable<K, VOut> {
  if (left.nodeName === right.nodeName) throw new Error(`table ${kind} join: a table cannot be joined with itself (both sides are node ${left.nodeName}); join it with a mapValues of itself`);
  const builder = left.builder;
  const name = builder.nextName(`table-${kind}-join`);
  const base = options.name ?? `${name}-store`;
  const kindOfStore = options.store ?? 'lmdb';
  const valueSerde = options.value ?? (jsonSerde() as Serde<VOut>);
  const leftRows = `${base}-left`;
  const rightRows = `${base}-right`;
  builder.addStateStore({ name: leftRows, kind: kindOfStore, keySerde: left.keySerde, valueSerde: timestampedSerde(left.valueSerde) });
  builder.addStateStore({ name: rightRows, kind: kindOfStore, keySerde: left.keySerde, valueSerde: timestampedSerde(right.valueSerde) });
  const resultRows = options.name;
  if (resultRows !== undefined) builder.addStateStore({ name: resultRows, kind: kindOfStore, keySerde: left.keySerde, valueSerde: timestampedSerde(valueSerde) });
  const create = tableJoin<K, VL, VR, VOut>({ kind, leftParent: left.nodeName, leftRows, rightRows, resultRows, joiner });
  const stores = resultRows === undefined ? [leftRows, rightRows] : [leftRows, rightRows, resultRows];
  builder.addNode({ kind: 'processor', name, create: create as () => Processor, stores, children: [] });
  builder.connect(left.nodeName, name);
  builder.connect(right.nodeName, name);
  return left.tableOf<K, VOut>(name, left.keySerde, valueSerde, resultRows);
}
