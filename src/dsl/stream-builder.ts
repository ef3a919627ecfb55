import type { EventClock } from '../time/event-clock.ts';
import { jsonSerde, type Serde } from '../records/serde.ts';
import { eventTimeExtractor, type TimestampExtractor } from '../time/extractor.ts';
import type { InvalidTimestampPolicy } from '../time/invalid-timestamp-policy.ts';
import { Watermarks, type WatermarkStrategy } from '../time/watermark.ts';
import type { StoreDefinition, StoreKind } from '../state/key-value-store.ts';
import type { Topology, TopologyNode } from '../runtime/topology.ts';
import type { Processor } from '../runtime/processor.ts';
import { KStream } from './kstream.ts';
import { KTable } from './ktable.ts';
import { lateSideOutputSink } from './late-sink.ts';
import { tableSource } from '../runtime/operators/table-operators.ts';
import { versionedTableSource } from '../runtime/operators/versioned-table.ts';
import type { LatePolicy } from '../windows/emission.ts';
import { timestampedSerde } from '../state/timestamped.ts';
import { clockLabel, durationLabel, lateLabel } from '../runtime/node-labels.ts';

/** How a source reads its stream. */
export interface SourceOptions<K, V> {
  /** How keys are read (default JSON). */
  readonly key?: Serde<K>;
  /** How values are read (default JSON). */
  readonly value?: Serde<V>;
  /** Which time is the record's `timestamp` (default: the producer's event time). */
  readonly timestamp?: TimestampExtractor<K, V>;
  /** What to do when that timestamp is invalid (default: fall back to broker time, counted and audited). */
  readonly onInvalidTimestamp?: InvalidTimestampPolicy;
  /**
   * How this source's watermarks are made (watermark mode):
   * a generator over its records, or `Watermarks.fromStream()` to read the
   * watermark records its producers wrote. Default: `Watermarks.monotonic()`.
   */
  readonly watermarks?: WatermarkStrategy<K, V>;
}

/** How a table reads its changelog stream, and where it keeps its rows. */
export interface TableOptions<K, V> extends SourceOptions<K, V> {
  /** The name of the table's store (default: derived from the node). */
  readonly name?: string;
  /** `lmdb` (default) or `in-memory`. */
  readonly store?: StoreKind;
  /**
   * Keep the table's history, not only its latest values: each key's
   * versions back to the history horizon (`now − historyRetentionMs`, `now`
   * the topology's event clock), for reads as of a time
   * (`app.store(name).getAsOf`). Only changes of the latest value (by
   * timestamp) go downstream; an update older than the horizon is late.
   */
  readonly versioned?: {
    /** How far back, in event-time ms behind the clock, the history reaches (0: none; only the latest value and updates not older than it). */
    readonly historyRetentionMs: number;
  };
  /** A versioned table's late updates: `drop` (default; counted and audited) or `{ sideOutput: stream }` (counted and audited too). */
  readonly late?: LatePolicy;
}

/** What a stream–table join needs of a versioned table: its source node and store, its retention, and the lists the join adds itself to. @internal */
export interface VersionedTableLinks {
  readonly sourceNode: string;
  readonly store: string;
  readonly historyRetentionMs: number;
  readonly joins: { readonly stores: string[]; readonly nodes: string[] };
}

/** Options of a whole topology. */
export interface TopologyOptions {
  /**
   * The event clock of window operators and event-time timers: `stream-time`
   * (the default; Kafka Streams' model) or `watermark` (Flink's; tasks also
   * write watermark records into the streams they write).
   */
  readonly eventClock?: EventClock;
  /** Watermark mode: write a watermark record each time a task's output watermark crosses a multiple of this many event-time ms (default 1000). */
  readonly watermarkIntervalMs?: number;
}

/**
 * Builds a topology with a typed, fluent API, in the manner of Kafka
 * Streams' `StreamsBuilder`.
 *
 * @example
 * const builder = new StreamsBuilder();
 * builder
 *   .stream('readings', { key: Serdes.string(), value: Serdes.json<Reading>(), timestamp: Extractors.field('ts') })
 *   .filter((_, r) => r.celsius > 30)
 *   .mapValues((r) => ({ ...r, alert: true }))
 *   .to('alerts');
 * const topology = builder.build();
 */
export class StreamsBuilder {
  readonly #nodes = new Map<string, TopologyNode>();
  readonly #stores = new Map<string, StoreDefinition>();
  readonly #versioned = new Map<string, VersionedTableLinks>();
  /** Plain tables read from a stream: the table's node → its source stream's node. */
  readonly #tableSources = new Map<string, string>();
  /** The source node reading each stream. */
  readonly #sourceOf = new Map<string, string>();
  #counter = 0;
  readonly #options: TopologyOptions;

  constructor(options: TopologyOptions = {}) {
    const interval = options.watermarkIntervalMs;
    if (interval !== undefined && (!Number.isSafeInteger(interval) || interval < 1)) throw new RangeError(`watermarkIntervalMs must be a positive integer, got ${interval}`);
    this.#options = options;
  }

  /** The event clock window operators use unless told otherwise. */
  get eventClock(): EventClock {
    return this.#options.eventClock ?? 'stream-time';
  }

  /**
   * Reads a stream. Each stream may be read once (reuse, split or branch the
   * returned stream). Sources are numbered in declaration order: records of
   * equal timestamps in different streams are processed in that order.
   *
   * @example
   * const readings = builder.stream<string, Reading>('readings', { key: Serdes.string(), timestamp: Extractors.field('ts') });
   */
  stream<K = string | null, V = unknown>(stream: string, options: SourceOptions<K, V> = {}): KStream<K, V> {
    // Two sources of one stream would each deliver every record, and in one
    // task only one of them would be wired: Kafka Streams refuses it too.
    const reader = this.#sourceOf.get(stream);
    if (reader !== undefined) throw new Error(`stream ${stream} is already read by ${reader}: read it once and reuse, split or branch that KStream`);
    const keySerde = options.key ?? (jsonSerde() as Serde<K>);
    const valueSerde = options.value ?? (jsonSerde() as Serde<V>);
    const name = this.nextName(`source-${stream}`);
    this.addNode({
      kind: 'source',
      name,
      stream,
      keySerde: keySerde as Serde<unknown>,
      valueSerde: valueSerde as Serde<unknown>,
      extractor: (options.timestamp ?? eventTimeExtractor()) as TimestampExtractor,
      onInvalidTimestamp: options.onInvalidTimestamp ?? 'brokerTime',
      watermarks: (options.watermarks ?? Watermarks.monotonic()) as WatermarkStrategy,
      internal: false,
      children: [],
    });
    this.#sourceOf.set(stream, name);
    return new KStream<K, V>(this, name, keySerde, valueSerde, false);
  }

  /**
   * Reads a stream as a table (Kafka Streams' `builder.table`): the latest
   * value of each key. A record with a null value (a tombstone) deletes its
   * key; a record with a null key changes nothing and is dropped, counted
   * and audited; the record processed last wins (each partition is a task,
   * processed in offset order), so an update with an older timestamp that
   * comes later still replaces the row — counted in the run summary's
   * `outOfOrderTableUpdates`.
   * The rows live in a store (`options.store`: `lmdb` by default, or
   * `in-memory`; named `options.name`) that commits with the task's outputs
   * and is restored after a restart or crash, on the embedded log and on
   * Kafka (its changelog topic). Give tombstones a timestamp that does not
   * come from the value (the default, the producer's event time).
   *
   * With `versioned: { historyRetentionMs }` the table keeps each key's
   * versions back to its history horizon (`now − historyRetentionMs` on the
   * topology's event clock) in a versioned store, readable as of a time
   * (`app.store(name).getAsOf(key, t)`); an update is placed by its
   * timestamp, not its arrival, and only changes of the latest value go
   * downstream. An update older than the horizon is late: it changes
   * nothing, and is dropped or written to `late.sideOutput` — counted
   * (`lateRecords`) and audited (`late-record`) either way.
   *
   * @example
   * const customers = builder.table<string, Customer>('customers', { key: Serdes.string(), store: 'in-memory' });
   * customers.toStream().to('customer-changes');
   *
   * @example
   * // A day of price history; updates more than a day behind go to 'late-prices'.
   * builder.table<string, number>('prices', { key: Serdes.string(), name: 'prices', versioned: { historyRetentionMs: 86_400_000 }, late: { sideOutput: 'late-prices' } });
   */
  table<K = string, V = unknown>(stream: string, options: TableOptions<K, V> = {}): KTable<K, V> {
    if (options.versioned !== undefined) return this.#versionedTable(stream, options, options.versioned.historyRetentionMs);
    if (options.late !== undefined) throw new Error(`table ${stream}: a late policy needs a versioned table (only versioned tables have late updates)`);
    const source = this.stream<K, V>(stream, options);
    const store = options.name ?? this.nextName('table-store');
    // Each row is kept with the timestamp of the record that wrote it.
    this.addStateStore({ name: store, kind: options.store ?? 'lmdb', keySerde: source.keySerde, valueSerde: timestampedSerde(source.valueSerde) });
    const name = this.nextName(`table-${stream}`);
    this.addNode({ kind: 'processor', name, create: tableSource<K, V>(store) as () => Processor, stores: [store], children: [], describe: 'table: the latest value of each key (the record processed last wins)' });
    this.connect(source.nodeName, name);
    this.#tableSources.set(name, source.nodeName);
    return new KTable<K, V>(this, name, source.keySerde, source.valueSerde, store);
  }

  /** A versioned table: its source, its versioned store, and a sink for late updates when they go to a side output. */
  #versionedTable<K, V>(stream: string, options: TableOptions<K, V>, historyRetentionMs: number): KTable<K, V> {
    if (!Number.isSafeInteger(historyRetentionMs) || historyRetentionMs < 0) throw new RangeError(`table ${stream}: historyRetentionMs must be a non-negative integer, got ${historyRetentionMs}`);
    const source = this.stream<K, V>(stream, options);
    const store = options.name ?? this.nextName('versioned-table-store');
    this.addStateStore({ name: store, kind: options.store ?? 'lmdb', keySerde: source.keySerde, valueSerde: source.valueSerde, ordered: true, versioned: { historyRetentionMs } });
    const name = this.nextName(`versioned-table-${stream}`);
    const late = options.late ?? 'drop';
    const lateNode = late === 'drop' ? undefined : `${name}-late`;
    // The changes leave by a node of their own, so that the late sink gets late records only.
    const changesNode = `${name}-changes`;
    const joins = { stores: [] as string[], nodes: [] as string[] };
    this.#versioned.set(changesNode, { sourceNode: name, store, historyRetentionMs, joins });
    const create = versionedTableSource<K, V>({ store, keySerde: source.keySerde, valueSerde: source.valueSerde, historyRetentionMs, clock: this.eventClock, changesNode, lateNode, joins });
    const describe = `versioned table: each key's versions back to ${durationLabel(historyRetentionMs)} behind event time, ${clockLabel(this.eventClock)}; late updates ${lateLabel(late)}`;
    this.addNode({ kind: 'processor', name, create: create as () => Processor, stores: [store], children: [], describe });
    this.connect(source.nodeName, name);
    this.addNode({ kind: 'processor', name: changesNode, create: () => ({ process: (r, ctx) => ctx.forward(r) }), stores: [], children: [] });
    this.connect(name, changesNode);
    if (lateNode !== undefined && late !== 'drop') {
      this.addNode(lateSideOutputSink(lateNode, late.sideOutput, source.keySerde as Serde<unknown>, source.valueSerde as Serde<unknown>));
      this.connect(name, lateNode);
    }
    return new KTable<K, V>(this, changesNode, source.keySerde, source.valueSerde, store);
  }

  /**
   * Declares a key-value store that processors may use by name: list it in
   * `process(…, { stores: [name] })` and get it with `ctx.getStore(name)`.
   * Its contents commit with the task's outputs.
   */
  addStateStore(store: StoreDefinition<any, any>): this {
    if (this.#stores.has(store.name)) throw new Error(`store ${store.name} is declared twice`);
    this.#stores.set(store.name, store as StoreDefinition);
    return this;
  }

  /** The finished topology, to run with an {@link Application} (or the test driver). */
  build(): Topology {
    return { nodes: new Map(this.#nodes), stores: new Map(this.#stores), eventClock: this.eventClock, watermarkIntervalMs: this.#options.watermarkIntervalMs ?? 1000 };
  }

  /** @internal */
  nextName(prefix: string): string {
    return `${prefix}-${++this.#counter}`;
  }

  /** @internal */
  addNode(node: TopologyNode): void {
    if (this.#nodes.has(node.name)) throw new Error(`topology: two nodes are named ${node.name}`);
    this.#nodes.set(node.name, node);
  }

  /** @internal */
  connect(parent: string, child: string): void {
    const p = this.#nodes.get(parent);
    if (p === undefined) throw new Error(`topology: no node ${parent}`);
    p.children.push(child);
  }

  /** The versioned table whose changes leave by node `nodeName`, undefined for any other node. @internal */
  versionedTable(nodeName: string): VersionedTableLinks | undefined {
    return this.#versioned.get(nodeName);
  }

  /** The source stream's node of the plain table read from a stream whose node is `nodeName`; undefined for any other node. @internal */
  tableSourceStream(nodeName: string): string | undefined {
    return this.#tableSources.get(nodeName);
  }

  /** Lets the processor `nodeName` use store `store` too (it then runs in the task of the store's other users). @internal */
  shareStore(nodeName: string, store: string): void {
    const node = this.#nodes.get(nodeName);
    if (node === undefined || node.kind !== 'processor') throw new Error(`topology: no processor ${nodeName}`);
    this.#nodes.set(nodeName, { ...node, stores: [...node.stores, store] });
  }

  /** Says what the processor `nodeName` does, for `describeTopology` (see `ProcessorNode.describe`). @internal */
  describeNode(nodeName: string, describe: string): void {
    const node = this.#nodes.get(nodeName);
    if (node === undefined || node.kind !== 'processor') throw new Error(`topology: no processor ${nodeName}`);
    this.#nodes.set(nodeName, { ...node, describe });
  }

  /** @internal */
  hasStore(name: string): boolean {
    return this.#stores.has(name);
  }
}
