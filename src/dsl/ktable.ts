import { jsonSerde, type Serde } from '../records/serde.ts';
import type { Processor } from '../runtime/processor.ts';
import type { StreamsBuilder } from './stream-builder.ts';
import { KStream } from './kstream.ts';
import { tableFilter, tableMapValues, tableToStream } from '../runtime/operators/table-operators.ts';
import { KGroupedTable } from './grouped-table.ts';
import { addTableJoin, type TableJoinOptions } from './table-join.ts';
import { addForeignKeyJoin, type ForeignKeyJoinOptions } from './foreign-key-join.ts';

/**
 * A table in a topology under construction (Kafka Streams' `KTable`): the
 * latest value of each key, read from a changelog stream by
 * `builder.table(stream)`. A record with a null value deletes its key; the
 * record processed last (in the task's scheduled order) wins, whatever the
 * timestamps. Every operation returns the table of its results; between
 * table operators each record is a change of one key (old and new value),
 * and only changes a reader could see go on: a delete of an absent key, or
 * a change a filter hides on both sides, goes nowhere. `toStream()` turns
 * the changes back into records (the new value; null for a delete).
 *
 * Unlike Kafka Streams, there is no record cache: every visible change is
 * forwarded, so the output depends on the input alone, not on commit
 * intervals or cache sizes.
 *
 * @example
 * const customers = builder.table<string, Customer>('customers', { key: Serdes.string() });
 * customers
 *   .filter((_, c) => c.active)
 *   .mapValues((c) => c.email)
 *   .toStream()
 *   .to('active-customer-emails'); // an email per change, a tombstone when a customer leaves or stops being active
 */
export class KTable<K, V> {
  readonly #builder: StreamsBuilder;
  /** @internal */
  readonly nodeName: string;
  /** @internal */
  readonly keySerde: Serde<K>;
  /** @internal */
  readonly valueSerde: Serde<V>;
  /** The store the table is materialized in: for a table read from a stream, its rows; undefined for a table derived by filter or mapValues. @internal */
  readonly storeName: string | undefined;

  /** @internal */
  constructor(builder: StreamsBuilder, nodeName: string, keySerde: Serde<K>, valueSerde: Serde<V>, storeName: string | undefined) {
    this.#builder = builder;
    this.nodeName = nodeName;
    this.keySerde = keySerde;
    this.valueSerde = valueSerde;
    this.storeName = storeName;
  }

  /** Adds a table operator below this table; returns its node's name. */
  #add(kind: string, create: () => Processor): string {
    const name = this.#builder.nextName(kind);
    this.#builder.addNode({ kind: 'processor', name, create, stores: [], children: [] });
    this.#builder.connect(this.nodeName, name);
    return name;
  }

  /**
   * The table of the rows for which `predicate` holds: a row that stops
   * passing is deleted below the filter (a tombstone goes on), one that
   * starts passing appears; a row the filter hid before and after its
   * change goes nowhere (no redundant tombstone).
   *
   * @example
   * accounts.filter((_, a) => a.balance < 0).toStream().to('overdrawn'); // a tombstone when an account is back in credit
   */
  filter(predicate: (key: K, value: V) => boolean): KTable<K, V> {
    const name = this.#add('table-filter', tableFilter(predicate) as () => Processor);
    return new KTable<K, V>(this.#builder, name, this.keySerde, this.valueSerde, undefined);
  }

  /** The table of the rows for which `predicate` does not hold (see {@link KTable.filter}). */
  filterNot(predicate: (key: K, value: V) => boolean): KTable<K, V> {
    return this.filter((k, v) => !predicate(k, v));
  }

  /**
   * The table with each value replaced by `fn(value, key)`; a deleted row
   * stays deleted, and a value `fn` maps to null reads as absent. `value`
   * is the serde of the new values where they are written (default JSON).
   *
   * @example
   * customers.mapValues((c) => c.email, { value: Serdes.string() });
   */
  mapValues<V2>(fn: (value: V, key: K) => V2 | null, options: { value?: Serde<V2> } = {}): KTable<K, V2> {
    const valueSerde = options.value ?? (jsonSerde() as Serde<V2>);
    const name = this.#add('table-map-values', tableMapValues<K, V, V2>((k, v) => fn(v, k)) as () => Processor);
    return new KTable<K, V2>(this.#builder, name, this.keySerde, valueSerde, undefined);
  }

  /**
   * Regroups the table by a new key, for aggregations: `select(key, value)`
   * gives each row's group and the value it brings into the group (null, or
   * a null group or value: the row is in no group). `key` and `value` are
   * the serdes of the groups and of those values, with which they go
   * through a repartition stream (default JSON).
   *
   * @example
   * customers.groupBy((_, c) => [c.city, c.name], { key: Serdes.string() }).count();
   */
  groupBy<G, W>(select: (key: K, value: V) => readonly [G, W] | null, serdes: { key?: Serde<G>; value?: Serde<W> } = {}): KGroupedTable<G, W> {
    return new KGroupedTable<G, W>(this as KTable<unknown, unknown>, select as (key: unknown, value: unknown) => readonly [G, W] | null, serdes.key ?? (jsonSerde() as Serde<G>), serdes.value ?? (jsonSerde() as Serde<W>));
  }

  /**
   * The inner join of this table with `other` on their key: a row for each
   * key both tables have, `joiner(value, otherValue)` (a joiner that returns
   * null makes the key absent). Each change of either side updates the
   * joined row at its key, with the largest timestamp of the rows it joins
   * (a delete counts as its side's row at its time); only changes a reader
   * could see go on — a key that gets its first row on one side only, or
   * loses a row the other side never had, changes nothing below the join.
   * Both tables must come from co-partitioned streams (checked before the
   * run). A versioned table joins with its latest values. `options.name`
   * materializes the joined table (readable with `app.store(name)`).
   *
   * @example
   * const customers = builder.table<string, Customer>('customers', { key: Serdes.string() });
   * const addresses = builder.table<string, Address>('addresses', { key: Serdes.string() });
   * customers
   *   .join(addresses, (c, a) => ({ ...c, city: a.city }), { name: 'customers-with-address' })
   *   .toStream()
   *   .to('customers-with-address'); // a tombstone once either row is deleted
   */
  join<VR, VOut>(other: KTable<K, VR>, joiner: (value: V, otherValue: VR) => VOut | null, options: TableJoinOptions<VOut> = {}): KTable<K, VOut> {
    return addTableJoin<K, V, VR, VOut>(this, other, 'inner', (l, r) => joiner(l as V, r as VR), options);
  }

  /**
   * The left join of this table with `other` (see {@link KTable.join}): a
   * row for each key this table has, `joiner(value, otherValue)` with
   * `otherValue` undefined while `other` has no row there.
   *
   * @example
   * orders.leftJoin(shipments, (o, s) => ({ ...o, shipped: s !== undefined })).toStream().to('order-status');
   */
  leftJoin<VR, VOut>(other: KTable<K, VR>, joiner: (value: V, otherValue: VR | undefined) => VOut | null, options: TableJoinOptions<VOut> = {}): KTable<K, VOut> {
    return addTableJoin<K, V, VR, VOut>(this, other, 'left', (l, r) => joiner(l as V, r), options);
  }

  /**
   * The outer join of this table with `other` (see {@link KTable.join}): a
   * row for each key either table has, `joiner(value, otherValue)` with
   * the side that has no row there undefined.
   *
   * @example
   * stock.outerJoin(orders, (s, o) => ({ inStock: s ?? 0, ordered: o ?? 0 })).toStream().to('stock-vs-orders');
   */
  outerJoin<VR, VOut>(other: KTable<K, VR>, joiner: (value: V | undefined, otherValue: VR | undefined) => VOut | null, options: TableJoinOptions<VOut> = {}): KTable<K, VOut> {
    return addTableJoin<K, V, VR, VOut>(this, other, 'outer', joiner, options);
  }

  /**
   * Joins each row of this table with the row of `other` under its foreign
   * key `fk(value)` (Kafka Streams' foreign-key join, KIP-213): a table
   * keyed like this one, `joiner(value, otherValue)` for each row —
   * `kind: 'inner'` (default) only where `other` has a row under the
   * foreign key, `'left'` for every row, `otherValue` undefined where there
   * is none (or `fk` is null). It follows changes of both tables: a row
   * whose foreign key changes joins the new right row alone, a deleted row
   * deletes its result, and a change of a right row updates every row
   * joined with it. Each result has the larger of the two rows'
   * timestamps. The join runs in three sub-topologies linked by internal
   * streams (subscriptions partitioned like `other`, answers like this
   * table), so results come once both have been processed; each answer
   * carries the version of the left row it was computed for, and an answer
   * for a row that changed since is dropped.
   *
   * @example
   * // Order lines with their product's name and price; a line whose product is missing keeps null for them.
   * lines
   *   .joinOnForeignKey(products, (line) => line.product, (line, p) => ({ ...line, name: p?.name ?? null, price: p?.price ?? null }), { kind: 'left', name: 'lines-with-products' })
   *   .toStream()
   *   .to('lines-with-products');
   */
  joinOnForeignKey<KO, VR, VOut>(
    other: KTable<KO, VR>,
    fk: (value: V) => KO | null | undefined,
    joiner: (value: V, otherValue: VR | undefined) => VOut | null,
    options: ForeignKeyJoinOptions<VOut> = {},
  ): KTable<K, VOut> {
    return addForeignKeyJoin<K, V, KO, VR, VOut>(this, other, fk, joiner, options);
  }

  /** The table of the rows that leave node `nodeName`, materialized in `storeName` if given. @internal */
  tableOf<K2, V2>(nodeName: string, keySerde: Serde<K2>, valueSerde: Serde<V2>, storeName: string | undefined): KTable<K2, V2> {
    return new KTable<K2, V2>(this.#builder, nodeName, keySerde, valueSerde, storeName);
  }

  /** @internal */
  get builder(): StreamsBuilder {
    return this.#builder;
  }

  /**
   * The table's changelog as a stream: a record for each visible change,
   * keyed by the row's key, whose value is the row's new value, or null (a
   * tombstone) when the row was deleted; timestamped with the change's
   * record. Partitioned like the table.
   *
   * @example
   * builder.table<string, number>('prices', { key: Serdes.string() }).toStream().to('price-changes');
   */
  toStream(): KStream<K, V | null> {
    const name = this.#add('table-to-stream', tableToStream() as () => Processor);
    return new KStream<K, V | null>(this.#builder, name, this.keySerde, this.valueSerde as Serde<V | null>, false);
  }
}
