import { Watermarks } from '../time/watermark.ts';
import { jsonSerde, type Serde } from '../records/serde.ts';
import { eventTimeExtractor, type TimestampExtractor } from '../time/extractor.ts';
import type { StreamRecord } from '../records/record.ts';
import type { Processor, ProcessorContext } from '../runtime/processor.ts';
import type { StreamPartitioner } from '../runtime/topology.ts';
import type { StreamsBuilder } from './stream-builder.ts';
import { KGroupedStream } from './grouped-stream.ts';
import type { JoinWindows } from '../joins/join-windows.ts';
import { addStreamJoin, type StreamJoinOptions } from './stream-join.ts';
import { addLatestValueJoin, addStreamTableJoin, type LatestValueJoinOptions, type StreamTableJoinOptions } from './stream-table-join.ts';
import type { KTable } from './ktable.ts';
import { MIXED_PARTITIONING, mergedPartitioner, type DefaultPartitioner, sinkPartitioner, type Predicate, type RepartitionOptions, type SinkOptions } from './stream-options.ts';
import { BranchedStream } from './branched-stream.ts';

export { BranchedStream } from './branched-stream.ts';
export type { Predicate, RepartitionOptions, SinkOptions } from './stream-options.ts';

/**
 * A stream of records in a topology under construction. Every operation
 * adds a node and returns the stream of its results; records pass through
 * the nodes depth-first, one at a time.
 */
export class KStream<K, V> {
  readonly #builder: StreamsBuilder;
  /** @internal */
  readonly nodeName: string;
  /** @internal */
  readonly keySerde: Serde<K>;
  /** @internal */
  readonly valueSerde: Serde<V>;
  /** True after the key changed (`selectKey`, `map`): a stateful step must repartition first. */
  readonly repartitionRequired: boolean;
  /**
   * How `to()` partitions when given no partitioner (windowed results: by
   * the inner key), kept by every operator that keeps the key. @internal
   */
  readonly defaultPartitioner: DefaultPartitioner;
  /** The stream read back from this one's internal repartition stream, once a stateful step created it. */
  #repartitioned: KStream<K, V> | undefined;

  /** @internal */
  constructor(builder: StreamsBuilder, nodeName: string, keySerde: Serde<K>, valueSerde: Serde<V>, repartitionRequired: boolean, defaultPartitioner?: StreamPartitioner | typeof MIXED_PARTITIONING) {
    this.#builder = builder;
    this.nodeName = nodeName;
    this.keySerde = keySerde;
    this.valueSerde = valueSerde;
    this.repartitionRequired = repartitionRequired;
    this.defaultPartitioner = defaultPartitioner;
  }

  #stateless<K2, V2>(
    kind: string,
    process: (r: StreamRecord<K, V>, forward: (r: StreamRecord<K2, V2>) => void) => void,
    keySerde: Serde<K2>,
    valueSerde: Serde<V2>,
    keyChanged: boolean,
  ): KStream<K2, V2> {
    return this.#addProcessor(
      kind,
      () => ({ process: (r, ctx) => process(r as StreamRecord<K, V>, (o) => ctx.forward(o as never)) }),
      [],
      keySerde,
      valueSerde,
      keyChanged,
    );
  }

  #addProcessor<K2, V2>(
    kind: string,
    create: () => Processor,
    stores: readonly string[],
    keySerde: Serde<K2>,
    valueSerde: Serde<V2>,
    keyChanged: boolean,
    keepsPartitioner = !keyChanged,
  ): KStream<K2, V2> {
    const name = this.#builder.nextName(kind);
    this.#builder.addNode({ kind: 'processor', name, create, stores, children: [] });
    this.#builder.connect(this.nodeName, name);
    return this.#downstream<K2, V2>(name, keySerde, valueSerde, keyChanged, keepsPartitioner);
  }

  /**
   * The stream a new node `name` produces. Keeping the key keeps the
   * stream's partitioning — a windowed result still goes to its inner key's
   * partition after `mapValues` or `filter` — and the need to repartition
   * before a stateful step; changing the key drops the partitioner and makes
   * a later stateful step repartition.
   */
  #downstream<K2, V2>(name: string, keySerde: Serde<K2>, valueSerde: Serde<V2>, keyChanged: boolean, keepsPartitioner = !keyChanged): KStream<K2, V2> {
    return new KStream<K2, V2>(this.#builder, name, keySerde, valueSerde, this.repartitionRequired || keyChanged, keepsPartitioner ? this.defaultPartitioner : undefined);
  }

  /**
   * Keeps the records for which `predicate` is true.
   *
   * @example
   * readings.filter((_, r) => Number.isFinite(r.celsius));
   */
  filter(predicate: Predicate<K, V>): KStream<K, V> {
    return this.#stateless('filter', (r, fwd) => predicate(r.key, r.value, r) && fwd(r), this.keySerde, this.valueSerde, false);
  }

  /** Drops the records for which `predicate` is true. */
  filterNot(predicate: Predicate<K, V>): KStream<K, V> {
    return this.#stateless('filter-not', (r, fwd) => !predicate(r.key, r.value, r) && fwd(r), this.keySerde, this.valueSerde, false);
  }

  /**
   * Replaces key and value; the key changed, so a later stateful step
   * repartitions. Results are serialized as JSON unless a later step says
   * otherwise.
   *
   * @example
   * orders.map((_, o) => [o.customer, o.total] as const);
   */
  map<K2, V2>(fn: (key: K, value: V, record: StreamRecord<K, V>) => readonly [K2, V2]): KStream<K2, V2> {
    return this.#stateless<K2, V2>('map', (r, fwd) => {
      const [key, value] = fn(r.key, r.value, r);
      fwd({ ...r, key, value });
    }, jsonSerde(), jsonSerde(), true);
  }

  /**
   * Replaces the value, keeping the key (and the partitioning).
   *
   * @example
   * readings.mapValues((r) => r.celsius * 9 / 5 + 32);
   */
  mapValues<V2>(fn: (value: V, key: K, record: StreamRecord<K, V>) => V2): KStream<K, V2> {
    return this.#stateless<K, V2>('map-values', (r, fwd) => fwd({ ...r, value: fn(r.value, r.key, r) }), this.keySerde, jsonSerde(), false);
  }

  /** Zero or more records for each record. */
  flatMap<K2, V2>(fn: (key: K, value: V, record: StreamRecord<K, V>) => Iterable<readonly [K2, V2]>): KStream<K2, V2> {
    return this.#stateless<K2, V2>('flat-map', (r, fwd) => {
      for (const [key, value] of fn(r.key, r.value, r)) fwd({ ...r, key, value });
    }, jsonSerde(), jsonSerde(), true);
  }

  /** Zero or more values for each record, keeping the key. */
  flatMapValues<V2>(fn: (value: V, key: K, record: StreamRecord<K, V>) => Iterable<V2>): KStream<K, V2> {
    return this.#stateless<K, V2>('flat-map-values', (r, fwd) => {
      for (const value of fn(r.value, r.key, r)) fwd({ ...r, value });
    }, this.keySerde, jsonSerde(), false);
  }

  /**
   * Sets a new key; a later stateful step repartitions by it through an
   * internal stream, so that every record of a key meets the same task.
   *
   * @example
   * clicks.selectKey((_, c) => c.page, Serdes.string()).groupByKey().count();
   */
  selectKey<K2>(fn: (key: K, value: V, record: StreamRecord<K, V>) => K2, keySerde?: Serde<K2>): KStream<K2, V> {
    return this.#stateless<K2, V>('select-key', (r, fwd) => fwd({ ...r, key: fn(r.key, r.value, r) }), keySerde ?? jsonSerde(), this.valueSerde, true);
  }

  /** Calls `fn` for each record and passes it on unchanged. */
  peek(fn: (key: K, value: V, record: StreamRecord<K, V>) => void): KStream<K, V> {
    return this.#stateless('peek', (r, fwd) => {
      fn(r.key, r.value, r);
      fwd(r);
    }, this.keySerde, this.valueSerde, false);
  }

  /** One stream with the records of both, in the order the task processes them. */
  merge(other: KStream<K, V>): KStream<K, V> {
    const name = this.#builder.nextName('merge');
    this.#builder.addNode({ kind: 'processor', name, create: () => ({ process: (r, ctx) => ctx.forward(r) }), stores: [], children: [] });
    this.#builder.connect(this.nodeName, name);
    this.#builder.connect(other.nodeName, name);
    const partitioner = mergedPartitioner(this.defaultPartitioner, other.defaultPartitioner);
    return new KStream<K, V>(this.#builder, name, this.keySerde, this.valueSerde, this.repartitionRequired || other.repartitionRequired, partitioner);
  }

  /**
   * With a table: joins each record with the versioned `table` as of the
   * record's own timestamp (Kafka Streams' versioned `KStream#join(KTable)`,
   * Flink's event-time temporal join). A record waits until event time
   * passed its timestamp + `grace`, so table updates of its time that are
   * out of order by up to `grace` are seen, whatever the arrival order; a
   * record with no row as of its time joins nothing. Records older than
   * the table's history are late (`options.late`); a table update that came
   * after a record it would have changed was joined is audited
   * (`late-table-update`). The result has the record's timestamp.
   *
   * With a stream: joins each record with every record of `other` of the
   * same key within `windows` (`l − before <= r <= l + after`), once, as
   * the second of the two is processed while both join windows are open;
   * the result has timestamp `max(l, r)`. A record whose join window is
   * closed on arrival is late (`options.late`).
   *
   * Both are repartitioned first if their keys changed; they must have the
   * same number of partitions.
   *
   * @example
   * const customers = builder.table<string, Customer>('customers', { versioned: { historyRetentionMs: 86_400_000 } });
   * orders.join(customers, (o, c) => ({ ...o, tier: c.tier }), { grace: 5_000 });
   * orders.join(payments, (o, p) => ({ ...o, paid: p.amount }), JoinWindows.ofTimeDifference(600_000).grace(5_000));
   */
  join<VT, VR>(table: KTable<K, VT>, joiner: (value: V, row: VT) => VR, options?: StreamTableJoinOptions<VR>): KStream<K, VR>;
  join<VO, VR>(other: KStream<K, VO>, joiner: (left: V, right: VO) => VR, windows: JoinWindows, options?: StreamJoinOptions<VR>): KStream<K, VR>;
  join<VO, VR>(other: KStream<K, VO> | KTable<K, VO>, joiner: (left: V, right: VO) => VR, third?: JoinWindows | StreamTableJoinOptions<VR>, options: StreamJoinOptions<VR> = {}): KStream<K, VR> {
    const join = joiner as (l: V | undefined, r: VO | undefined) => VR;
    if (isTable(other)) return addStreamTableJoin(this, other, 'inner', join, (third ?? {}) as StreamTableJoinOptions<VR>);
    return addStreamJoin(this, other, 'inner', join, third as JoinWindows, options);
  }

  /**
   * As {@link join}, and a record that finds nothing to join yields
   * `joiner(value, undefined)`. With a table: at once when it is joined (a
   * record without a key too). With a stream: when its join window closes,
   * with its own timestamp — never before, so no pair follows it.
   *
   * @example
   * orders.leftJoin(customers, (o, c) => ({ ...o, tier: c?.tier ?? 'unknown' }));
   * orders.leftJoin(payments, (o, p) => ({ ...o, paid: p !== undefined }), JoinWindows.ofTimeDifference(0).after(600_000));
   */
  leftJoin<VT, VR>(table: KTable<K, VT>, joiner: (value: V, row: VT | undefined) => VR, options?: StreamTableJoinOptions<VR>): KStream<K, VR>;
  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: (left: V, right: VO | undefined) => VR, windows: JoinWindows, options?: StreamJoinOptions<VR>): KStream<K, VR>;
  leftJoin<VO, VR>(other: KStream<K, VO> | KTable<K, VO>, joiner: (left: V, right: VO | undefined) => VR, third?: JoinWindows | StreamTableJoinOptions<VR>, options: StreamJoinOptions<VR> = {}): KStream<K, VR> {
    const join = joiner as (l: V | undefined, r: VO | undefined) => VR;
    if (isTable(other)) return addStreamTableJoin(this, other, 'left', join, (third ?? {}) as StreamTableJoinOptions<VR>);
    return addStreamJoin(this, other, 'left', join, third as JoinWindows, options);
  }

  /**
   * Joins each record, on arrival, with the latest value `table` holds for
   * its key at that point of processing (Kafka Streams' `KStream#join` with
   * a plain `KTable`). Which value that is depends on whether the table's
   * update or the record was processed first, not on their timestamps:
   * each join that may answer differently from {@link join} by event time
   * is audited as a nondeterministic decision
   * (`nondeterministic:latest-value-join`). Prefer a versioned table and
   * `join` where the table's history matters.
   *
   * @example
   * clicks.joinLatest(userProfiles, (click, profile) => ({ ...click, country: profile.country }));
   */
  joinLatest<VT, VR>(table: KTable<K, VT>, joiner: (value: V, row: VT) => VR, options: LatestValueJoinOptions<VR> = {}): KStream<K, VR> {
    return addLatestValueJoin(this, table, 'inner', joiner as (v: V, r: VT | undefined) => VR, options);
  }

  /**
   * As {@link joinLatest}, and a record the table has no value for yields
   * `joiner(value, undefined)`.
   *
   * @example
   * clicks.leftJoinLatest(userProfiles, (click, profile) => ({ ...click, country: profile?.country ?? null }));
   */
  leftJoinLatest<VT, VR>(table: KTable<K, VT>, joiner: (value: V, row: VT | undefined) => VR, options: LatestValueJoinOptions<VR> = {}): KStream<K, VR> {
    return addLatestValueJoin(this, table, 'left', joiner, options);
  }

  /**
   * As {@link leftJoin}, for the records of both streams: an unmatched
   * record of `other` yields `joiner(undefined, value)` when its join
   * window closes.
   *
   * @example
   * left.outerJoin(right, (l, r) => [l ?? null, r ?? null], JoinWindows.ofTimeDifference(1_000));
   */
  outerJoin<VO, VR>(other: KStream<K, VO>, joiner: (left: V | undefined, right: VO | undefined) => VR, windows: JoinWindows, options: StreamJoinOptions<VR> = {}): KStream<K, VR> {
    return addStreamJoin(this, other, 'outer', joiner, windows, options);
  }

  /**
   * Splits the stream by predicates, the first that matches wins (Kafka
   * Streams' `split()`/`branch()`). Records no branch takes go to the
   * default branch if there is one, and are dropped otherwise.
   *
   * @example
   * const { hot, cold } = readings.split().branch('hot', (_, r) => r.celsius > 30).defaultBranch('cold');
   */
  split(): BranchedStream<K, V, never> {
    return new BranchedStream<K, V, never>(this, []);
  }

  /** The old-style branch: one stream per predicate, the first match wins, unmatched records dropped. */
  branch(...predicates: Predicate<K, V>[]): KStream<K, V>[] {
    let split = this.split() as BranchedStream<K, V, string>;
    predicates.forEach((p, i) => (split = split.branch(String(i), p)));
    const branches = split.noDefaultBranch();
    return predicates.map((_, i) => branches[String(i)]!);
  }

  /** @internal */
  splitInto(branches: readonly (readonly [string, Predicate<K, V> | undefined])[]): Record<string, KStream<K, V>> {
    const name = this.#builder.nextName('split');
    const childNames = branches.map(([b]) => `${name}-${b}`);
    this.#builder.addNode({
      kind: 'processor',
      name,
      stores: [],
      children: [],
      create: () => ({
        process: (r, ctx) => {
          const rec = r as StreamRecord<K, V>;
          const i = branches.findIndex(([, p]) => p === undefined || p(rec.key, rec.value, rec));
          if (i >= 0) ctx.forward(r, childNames[i]);
        },
      }),
    });
    this.#builder.connect(this.nodeName, name);
    const out: Record<string, KStream<K, V>> = {};
    branches.forEach(([b], i) => {
      const child = childNames[i]!;
      this.#builder.addNode({ kind: 'processor', name: child, stores: [], children: [], create: () => ({ process: (r, ctx) => ctx.forward(r) }) });
      this.#builder.connect(name, child);
      out[b] = this.#downstream<K, V>(child, this.keySerde, this.valueSerde, false);
    });
    return out;
  }

  /**
   * Writes the records through an internal stream partitioned by their
   * current key, and reads them back in a new sub-topology: every record of
   * a key then meets the same task. Records keep their timestamps.
   */
  repartition(options: RepartitionOptions<K, V> = {}): KStream<K, V> {
    const keySerde = options.key ?? this.keySerde;
    const valueSerde = options.value ?? this.valueSerde;
    const base = options.name ?? this.nodeName;
    const stream = `${base}-repartition`;
    const sinkName = `${stream}-sink`;
    this.#builder.addNode({
      kind: 'sink',
      name: sinkName,
      stream,
      keySerde: keySerde as Serde<unknown>,
      valueSerde: valueSerde as Serde<unknown>,
      partitioner: sinkPartitioner(undefined, this.defaultPartitioner, stream),
      internal: true,
      partitions: options.partitions,
      children: [],
    });
    this.#builder.connect(this.nodeName, sinkName);
    const sourceName = `${stream}-source`;
    this.#builder.addNode({
      kind: 'source',
      name: sourceName,
      stream,
      keySerde: keySerde as Serde<unknown>,
      valueSerde: valueSerde as Serde<unknown>,
      // The record's timestamp travels as the internal record's event time.
      extractor: eventTimeExtractor() as TimestampExtractor,
      onInvalidTimestamp: 'fail',
      // The writing tasks write watermark records into it (in watermark mode).
      watermarks: Watermarks.fromStream(),
      internal: true,
      children: [],
    });
    return new KStream<K, V>(this.#builder, sourceName, keySerde, valueSerde, false, this.defaultPartitioner);
  }

  /**
   * Runs a low-level processor with access to the record, its clocks, the
   * task's stream time and the named stores. If the key was changed
   * upstream and the processor uses stores, the stream is repartitioned
   * first, so that each key's state lives in one task. `options.stores`
   * names the stores it uses (declared with `builder.addStateStore`);
   * `key` and `value` are the serdes of its results (default JSON).
   *
   * @example
   * builder.addStateStore(keyValueStore('last', { key: Serdes.string(), value: Serdes.json<number>() }));
   * readings.process<string, number>(() => ({
   *   process(record, ctx) {
   *     const last = ctx.getStore<string, number>('last');
   *     const before = last.get(record.key);
   *     last.put(record.key, record.value.celsius);
   *     if (before !== undefined) ctx.forward({ ...record, value: record.value.celsius - before });
   *   },
   * }), { stores: ['last'], key: Serdes.string() });
   */
  process<K2 = K, V2 = V>(
    create: () => Processor<K, V, K2, V2>,
    options: { stores?: readonly string[]; key?: Serde<K2>; value?: Serde<V2> } = {},
  ): KStream<K2, V2> {
    const stores = options.stores ?? [];
    for (const s of stores) if (!this.#builder.hasStore(s)) throw new Error(`process(): store ${s} is not declared (builder.addStateStore)`);
    const from: KStream<K, V> = stores.length > 0 ? this.forStatefulStep() : this;
    return from.#addProcessor<K2, V2>(
      'process',
      create as () => Processor,
      stores,
      options.key ?? (jsonSerde() as Serde<K2>),
      options.value ?? (jsonSerde() as Serde<V2>),
      // A processor may forward any key, so its results lose the stream's partitioner; whether a later
      // stateful step repartitions stays as it was before the processor (its keys are the user's to keep).
      false,
      false,
    );
  }

  /**
   * The stream a stateful step reads: this one, or — after a key change —
   * the one internal stream it is repartitioned through (shared by every
   * stateful step that follows).
   * @internal
   */
  forStatefulStep(): KStream<K, V> {
    return this.repartitionRequired ? (this.#repartitioned ??= this.repartition()) : this;
  }

  /**
   * The stream of records that leave node `nodeName` of this stream's
   * topology, keyed and partitioned as given (windowed results: by their
   * inner key). Lets the grouped and windowed streams make their result
   * streams without constructing this class themselves.
   * @internal
   */
  streamOf<K2, V2>(nodeName: string, keySerde: Serde<K2>, valueSerde: Serde<V2>, partitioner: StreamPartitioner | undefined): KStream<K2, V2> {
    return new KStream<K2, V2>(this.#builder, nodeName, keySerde, valueSerde, false, partitioner);
  }

  /** @internal */
  get builder(): StreamsBuilder {
    return this.#builder;
  }

  /**
   * Groups by the current key, for aggregations (repartitioning first when
   * the key was changed upstream).
   *
   * @example
   * clicks.groupByKey().windowedBy(TimeWindows.ofSize(60_000).grace(5_000)).count({ emit: 'final' });
   */
  groupByKey(serdes: { key?: Serde<K>; value?: Serde<V> } = {}): KGroupedStream<K, V> {
    const keyed = serdes.key === undefined && serdes.value === undefined ? this : new KStream<K, V>(this.#builder, this.nodeName, serdes.key ?? this.keySerde, serdes.value ?? this.valueSerde, this.repartitionRequired, this.defaultPartitioner);
    return new KGroupedStream<K, V>(keyed.forStatefulStep());
  }

  /**
   * Groups by a new key (through a repartition), for aggregations.
   *
   * @example
   * orders.groupBy((_, o) => o.customer, { key: Serdes.string() }).count();
   */
  groupBy<K2>(fn: (key: K, value: V, record: StreamRecord<K, V>) => K2, serdes: { key?: Serde<K2>; value?: Serde<V> } = {}): KGroupedStream<K2, V> {
    return this.selectKey(fn, serdes.key).groupByKey(serdes.value === undefined ? {} : { value: serdes.value });
  }

  /**
   * Writes the records to a stream, created when missing. Each record's
   * partition is Kafka's default partitioner's on the key bytes (windowed
   * results: on their inner key), unless `options.partitioner` says
   * otherwise; the record's timestamp becomes its event time.
   *
   * @example
   * alerts.to('alerts', { key: Serdes.string(), partitions: 4 });
   */
  to(stream: string, options: SinkOptions<K, V> = {}): void {
    const name = this.#builder.nextName(`sink-${stream}`);
    this.#builder.addNode({
      kind: 'sink',
      name,
      stream,
      keySerde: (options.key ?? this.keySerde) as Serde<unknown>,
      valueSerde: (options.value ?? this.valueSerde) as Serde<unknown>,
      partitioner: sinkPartitioner(options.partitioner as StreamPartitioner | undefined, this.defaultPartitioner, stream),
      internal: false,
      partitions: options.partitions,
      children: [],
    });
    this.#builder.connect(this.nodeName, name);
  }
}

export type { ProcessorContext };

/** A table, not a stream: what `join` and `leftJoin` tell their two forms apart by. */
function isTable<K, V>(other: KStream<K, V> | KTable<K, V>): other is KTable<K, V> {
  return typeof (other as Partial<KTable<K, V>>).toStream === 'function';
}
