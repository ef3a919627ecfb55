import { jsonSerde, type Serde } from '../records/serde.ts';
import type { Processor } from '../runtime/processor.ts';
import type { StoreKind } from '../state/key-value-store.ts';
import { tableAggregate, tableRegroup } from '../runtime/operators/table-aggregate.ts';
import { timestampedSerde } from '../state/timestamped.ts';
import { groupUpdateSerde } from '../runtime/operators/group-update-serde.ts';
import type { GroupUpdate } from '../tables/regroup.ts';
import { KStream } from './kstream.ts';
import type { KTable } from './ktable.ts';

/** Options of a table aggregation. */
export interface TableAggregateOptions<A> {
  /** The result table's store name (default: derived from the node): each group's aggregate with its timestamp; the groups' member counts are in `<name>-groups`. */
  readonly name?: string;
  /** `lmdb` (default) or `in-memory`. */
  readonly store?: StoreKind;
  /** Serde of the aggregate (default JSON). */
  readonly value?: Serde<A>;
}

/** Byte-wise equality of two serialized keys. */
function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * A table regrouped by `KTable.groupBy`, to aggregate (Kafka Streams'
 * `KGroupedTable`). Each change of a source row takes its old value out of
 * its old group and puts its new value into its new group, through a
 * repartition stream keyed by the group; so an aggregation needs both an
 * adder and a subtractor. The results are a table: one row per group with
 * at least one member — a group whose last row leaves is deleted (a
 * tombstone), where Kafka Streams keeps the aggregate of nothing.
 *
 * @example
 * // Customers per city, as a table: a customer who moves leaves one count and joins another.
 * customers.groupBy((_, c) => [c.city, c], { key: Serdes.string() }).count().toStream().to('customers-per-city');
 */
export class KGroupedTable<G, W> {
  readonly #table: KTable<unknown, unknown>;
  readonly #select: (key: unknown, value: unknown) => readonly [G, W] | null;
  readonly #keySerde: Serde<G>;
  readonly #valueSerde: Serde<W>;

  /** @internal */
  constructor(table: KTable<unknown, unknown>, select: (key: unknown, value: unknown) => readonly [G, W] | null, keySerde: Serde<G>, valueSerde: Serde<W>) {
    this.#table = table;
    this.#select = select;
    this.#keySerde = keySerde;
    this.#valueSerde = valueSerde;
  }

  /**
   * Counts the rows of each group. A group's count goes up when a row joins
   * it and down when one leaves; when the last leaves, the group is deleted.
   *
   * @example
   * orders.groupBy((_, o) => [o.status, o], { key: Serdes.string() }).count().toStream().to('orders-per-status');
   */
  count(options: TableAggregateOptions<number> = {}): KTable<G, number> {
    return this.aggregate(() => 0, (_g, _v, n) => n + 1, (_g, _v, n) => n - 1, options);
  }

  /**
   * Combines the values of each group: the first value as is, then
   * `adder(aggregate, value)` for each value that joins and
   * `subtractor(aggregate, value)` for each value that leaves.
   *
   * @example
   * accounts.groupBy((_, a) => [a.branch, a.balance], { key: Serdes.string() }).reduce((sum, b) => sum + b, (sum, b) => sum - b);
   */
  reduce(adder: (aggregate: W, value: W) => W, subtractor: (aggregate: W, value: W) => W, options: TableAggregateOptions<W> = {}): KTable<G, W> {
    return this.aggregate<W | undefined>(
      () => undefined,
      (_g, v, agg) => (agg === undefined ? v : adder(agg, v)),
      (_g, v, agg) => subtractor(agg as W, v),
      options as TableAggregateOptions<W | undefined>,
    ) as KTable<G, W>;
  }

  /**
   * Folds the values of each group into an aggregate: `init()` when a group
   * gets its first row, then `add(group, value, aggregate)` for each value
   * that joins and `subtract(group, value, aggregate)` for each value that
   * leaves (a row that changes within its group: subtract, then add). The
   * aggregates are kept in a store committed with the task.
   *
   * @example
   * accounts
   *   .groupBy((_, a) => [a.branch, a.balance], { key: Serdes.string() })
   *   .aggregate(() => 0, (_b, balance, sum) => sum + balance, (_b, balance, sum) => sum - balance);
   */
  aggregate<A>(init: () => A, add: (group: G, value: W, aggregate: A) => A, subtract: (group: G, value: W, aggregate: A) => A, options: TableAggregateOptions<A> = {}): KTable<G, A> {
    const table = this.#table;
    const builder = table.builder;
    const keySerde = this.#keySerde;
    const sameGroup = (a: G, b: G): boolean => Object.is(a, b) || sameBytes(keySerde.serialize(a), keySerde.serialize(b));
    const regroupNode = builder.nextName('table-regroup');
    builder.addNode({ kind: 'processor', name: regroupNode, create: tableRegroup(this.#select, sameGroup) as () => Processor, stores: [], children: [] });
    builder.connect(table.nodeName, regroupNode);
    const updates = new KStream<G, GroupUpdate<W>>(builder, regroupNode, keySerde, groupUpdateSerde(this.#valueSerde), true).repartition();
    const aggSerde = options.value ?? (jsonSerde() as Serde<A>);
    const store = options.name ?? builder.nextName('table-aggregate-store');
    const groupsStore = `${store}-groups`;
    const kind = options.store ?? 'lmdb';
    builder.addStateStore({ name: store, kind, keySerde, valueSerde: timestampedSerde(aggSerde) });
    builder.addStateStore({ name: groupsStore, kind, keySerde, valueSerde: jsonSerde<number>() });
    const name = builder.nextName('table-aggregate');
    builder.addNode({ kind: 'processor', name, create: tableAggregate<G, W, A>({ store, groupsStore, init, add, subtract }) as () => Processor, stores: [store, groupsStore], children: [], describe: 'table aggregate: one aggregate per group, updated by each change of a row (subtract the old, add the new)' });
    builder.connect(updates.nodeName, name);
    return table.tableOf<G, A>(name, keySerde, aggSerde, store);
  }
}
