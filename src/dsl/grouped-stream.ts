import { jsonSerde, type Serde } from '../records/serde.ts';
import type { StoreKind } from '../state/key-value-store.ts';
import type { EventClock } from '../time/event-clock.ts';
import type { Processor } from '../runtime/processor.ts';
import type { StreamPartitioner } from '../runtime/topology.ts';
import { partitionForKey } from '../runtime/partitioner.ts';
import type { EmitStrategy, LatePolicy } from '../windows/emission.ts';
import { TimeWindows } from '../windows/time-windows.ts';
import { SlidingWindows } from '../windows/sliding-windows.ts';
import type { SessionWindows } from '../windows/session-windows.ts';
import type { Windowed } from '../windows/window.ts';
import type { KStream } from './kstream.ts';
import { lateSideOutputSink } from './late-sink.ts';
import type { AggregateSpec } from '../runtime/operators/aggregate-spec.ts';
import { timeWindowAggregate } from '../runtime/operators/time-window-aggregate.ts';
import { slidingWindowAggregate } from '../runtime/operators/sliding-window-aggregate.ts';
import { sessionAggregate } from '../runtime/operators/session-aggregate.ts';
import { windowedAggregateLabel } from '../runtime/node-labels.ts';

/** Options of an aggregation. */
export interface AggregateOptions<A> {
  /** The store's name (default: derived from the node). */
  readonly name?: string;
  /** `lmdb` (default) or `in-memory`. */
  readonly store?: StoreKind;
  /** Serde of the aggregate (default JSON). */
  readonly value?: Serde<A>;
}

/** Options of a windowed aggregation. */
export interface WindowedAggregateOptions<A> extends AggregateOptions<A> {
  /** `updates` (default, a result on every change, as Kafka Streams) or `final` (one result per window when it closes). */
  readonly emit?: EmitStrategy;
  /** Late records: `drop` (default; counted and audited) or `{ sideOutput: stream }`. */
  readonly late?: LatePolicy;
  /** Extra time a closed window's state is kept in `updates` mode, for every window kind (default 0). */
  readonly retentionMs?: number;
  /**
   * The event clock windows close on (default: the topology's, see
   * `StreamsBuilder`'s `eventClock`). In watermark mode the windows' grace
   * is Flink's allowed lateness: a window fires when the watermark passes
   * its end, and records within the lateness update it.
   */
  readonly clock?: EventClock;
}

/** Adds a record's value to its key's aggregate (its window's, in a windowed aggregation) and returns the new aggregate; Kafka Streams' `Aggregator`. */
export type Aggregator<K, V, A> = (key: K, value: V, aggregate: A) => A;

/**
 * A stream grouped by key, to aggregate (Kafka Streams' `KGroupedStream`).
 * Aggregations emit a result on every change, keyed like the input.
 *
 * @example
 * clicks.groupByKey().count().to('clicks-per-user');
 */
export class KGroupedStream<K, V> {
  readonly #stream: KStream<K, V>;

  /** @internal */
  constructor(stream: KStream<K, V>) {
    this.#stream = stream;
  }

  /**
   * Counts the records of each key: a result (the new count) for every
   * record. Records with a null key are dropped, counted and audited.
   *
   * @example
   * clicks.groupByKey().count({ name: 'clicks-per-user' }).to('click-counts');
   */
  count(options: AggregateOptions<number> = {}): KStream<K, number> {
    return this.aggregate(() => 0, (_k, _v, n) => n + 1, options);
  }

  /**
   * Combines the values of each key: the first value as is, then
   * `reducer(aggregate, value)`; a result for every record.
   *
   * @example
   * readings.mapValues((r) => r.celsius).groupByKey().reduce((max, c) => Math.max(max, c));
   */
  reduce(reducer: (aggregate: V, value: V) => V, options: AggregateOptions<V> = {}): KStream<K, V> {
    return this.aggregate<V | undefined>(() => undefined, (_k, v, agg) => (agg === undefined ? v : reducer(agg, v)), options as AggregateOptions<V | undefined>) as KStream<K, V>;
  }

  /**
   * Folds the values of each key into an aggregate: `init()` for a key's
   * first record, then `add(key, value, aggregate)`; a result (the new
   * aggregate) for every record. The aggregate is kept in a store
   * (`options.value` is its serde, default JSON) committed with the task.
   *
   * @example
   * orders.groupByKey().aggregate(() => ({ n: 0, total: 0 }), (_k, o, a) => ({ n: a.n + 1, total: a.total + o.total }));
   */
  aggregate<A>(init: () => A, add: Aggregator<K, V, A>, options: AggregateOptions<A> = {}): KStream<K, A> {
    const s = this.#stream;
    const store = declareStore(s, options, 'aggregate', false);
    const aggSerde = options.value ?? (jsonSerde() as Serde<A>);
    const create = (): Processor => ({
      process(record, ctx) {
        if (record.key === null || record.key === undefined) return ctx.reportDropped(record, NULL_KEY);
        const kv = ctx.getStore<K, A>(store);
        const key = record.key as K;
        const old = kv.get(key);
        const agg = add(key, record.value as V, old === undefined ? init() : old);
        kv.put(key, agg);
        ctx.forward({ ...record, value: agg });
      },
    });
    const out = s.process<K, A>(create as () => Processor<K, V, K, A>, { stores: [store], key: s.keySerde, value: aggSerde });
    s.builder.describeNode(out.nodeName, 'aggregate: one aggregate per key, a result for every record');
    return out;
  }

  /**
   * Windows the grouped stream: tumbling or hopping ({@link TimeWindows}),
   * sliding ({@link SlidingWindows}) or sessions ({@link SessionWindows}).
   * Results are keyed by {@link Windowed} keys.
   *
   * @example
   * clicks.groupByKey().windowedBy(TimeWindows.ofSize(60_000).grace(5_000)).count({ emit: 'final' });
   * clicks.groupByKey().windowedBy(SessionWindows.ofInactivityGap(30 * 60_000)).count();
   */
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>;
  windowedBy(windows: TimeWindows | SlidingWindows | SessionWindows): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    return windows.kind === 'session' ? new SessionWindowedKStream(this.#stream, windows) : new TimeWindowedKStream(this.#stream, windows);
  }
}

/**
 * A grouped stream windowed by tumbling, hopping or sliding windows: its
 * aggregations keep one aggregate per key and window, and their results
 * are keyed by `{ key, start, end }` ({@link Windowed}) with the window's
 * last millisecond (`end − 1`) as timestamp. A window closes once the
 * task's stream time reaches its end plus its grace (in watermark mode: once
 * the watermark reaches `end − 1` plus the grace); a record for a closed window is late: dropped or sent to
 * `late.sideOutput`, always counted and audited.
 */
export class TimeWindowedKStream<K, V> {
  readonly #stream: KStream<K, V>;
  readonly #windows: TimeWindows | SlidingWindows;

  /** @internal */
  constructor(stream: KStream<K, V>, windows: TimeWindows | SlidingWindows) {
    this.#stream = stream;
    this.#windows = windows;
  }

  /**
   * Counts the records of each key in each window. With `emit: 'updates'`
   * (the default) every record gives the new count of each window it
   * belongs to; with `emit: 'final'`, each window gives one result when it
   * closes.
   *
   * @example
   * views.groupByKey().windowedBy(TimeWindows.ofSize(60_000)).count({ emit: 'final' }).to('views-per-minute');
   */
  count(options: WindowedAggregateOptions<number> = {}): KStream<Windowed<K>, number> {
    return this.aggregate(() => 0, (_k, _v, n) => n + 1, options);
  }

  /**
   * Combines the values of each key in each window: the window's first
   * value as is, then `reducer(aggregate, value)`.
   *
   * @example
   * temps.groupByKey().windowedBy(TimeWindows.ofSize(10_000)).reduce((max, t) => Math.max(max, t), { emit: 'final' });
   */
  reduce(reducer: (aggregate: V, value: V) => V, options: WindowedAggregateOptions<V> = {}): KStream<Windowed<K>, V> {
    return this.aggregate<V | null>(() => null, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), options as WindowedAggregateOptions<V | null>) as KStream<Windowed<K>, V>;
  }

  /**
   * Folds the values of each key in each window into an aggregate:
   * `init()` for the window's first record, then `add(key, value, aggregate)`.
   *
   * @example
   * readings.groupByKey()
   *   .windowedBy(TimeWindows.ofSize(60_000).advanceBy(10_000))
   *   .aggregate(() => ({ n: 0, sum: 0 }), (_k, r, a) => ({ n: a.n + 1, sum: a.sum + r.celsius }))
   *   .mapValues((a) => a.sum / a.n);
   */
  aggregate<A>(init: () => A, add: Aggregator<K, V, A>, options: WindowedAggregateOptions<A> = {}): KStream<Windowed<K>, A> {
    const w = this.#windows;
    return windowedNode(this.#stream, w, options, (spec) => (w instanceof SlidingWindows ? slidingWindowAggregate(w, spec) : timeWindowAggregate(w as TimeWindows, spec)), init, add);
  }
}

/**
 * A grouped stream windowed by sessions: a key's records less than the
 * inactivity gap apart form one session `[first, last]`; a record that
 * bridges two sessions merges them. Results are keyed by `{ key, start,
 * end }` ({@link Windowed}, `end` the session's last timestamp); in
 * `updates` mode a merge also emits a tombstone (null value) for each
 * session merged away. A session closes once stream time passes its end
 * plus the gap plus its grace (in watermark mode: once the watermark reaches
 * that).
 */
export class SessionWindowedKStream<K, V> {
  readonly #stream: KStream<K, V>;
  readonly #windows: SessionWindows;

  /** @internal */
  constructor(stream: KStream<K, V>, windows: SessionWindows) {
    this.#stream = stream;
    this.#windows = windows;
  }

  /**
   * Counts the records of each key's sessions.
   *
   * @example
   * clicks.groupByKey().windowedBy(SessionWindows.ofInactivityGap(30 * 60_000)).count({ emit: 'final' }).to('visits');
   */
  count(options: WindowedAggregateOptions<number> = {}): KStream<Windowed<K>, number> {
    return this.aggregate(() => 0, (_k, _v, n) => n + 1, (_k, a, b) => a + b, options);
  }

  /** Combines the values of each key's sessions with `reducer`, which also merges two sessions' aggregates when a record bridges them. */
  reduce(reducer: (aggregate: V, value: V) => V, options: WindowedAggregateOptions<V> = {}): KStream<Windowed<K>, V> {
    const merge = (_k: K, a: V | null, b: V | null): V | null => (a === null ? b : b === null ? a : reducer(a, b));
    return this.aggregate<V | null>(() => null, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), merge, options as WindowedAggregateOptions<V | null>) as KStream<Windowed<K>, V>;
  }

  /**
   * Folds the values of each key's sessions into an aggregate: `init()` for
   * a session's first record, then `add(key, value, aggregate)`; `merge`
   * combines two sessions' aggregates when a record bridges them.
   *
   * @example
   * clicks.groupByKey()
   *   .windowedBy(SessionWindows.ofInactivityGap(60_000))
   *   .aggregate(() => [] as string[], (_k, c, pages) => [...pages, c.page], (_k, a, b) => [...a, ...b]);
   */
  aggregate<A>(init: () => A, add: Aggregator<K, V, A>, merge: (key: K, left: A, right: A) => A, options: WindowedAggregateOptions<A> = {}): KStream<Windowed<K>, A> {
    return windowedNode(this.#stream, this.#windows, options, (spec) => sessionAggregate(this.#windows, { ...spec, merge }), init, add);
  }
}

/**
 * Windowed results are partitioned by their inner key, as Kafka Streams'
 * `WindowedStreamPartitioner` does, so all windows of a key land in the
 * partition the key itself would (a null key: partition 0).
 */
function byInnerKey<K>(keySerde: Serde<K>): StreamPartitioner {
  return (windowed, _bytes, _value, partitions) => {
    const inner = keySerde.serialize((windowed as Windowed<K>).key);
    return inner === null ? 0 : partitionForKey(inner, partitions);
  };
}

/** Why an aggregation drops a record with a null key (as Kafka Streams does): there is no key to aggregate under. */
const NULL_KEY = 'a null key cannot be aggregated (set a key with selectKey or groupBy)';

/** Wraps an aggregation operator so that records with a null key are dropped, counted and audited. */
function skippingNullKeys(create: () => Processor): () => Processor {
  return () => {
    const inner = create();
    return {
      ...(inner.init === undefined ? {} : { init: inner.init.bind(inner) }),
      ...(inner.onStreamTime === undefined ? {} : { onStreamTime: inner.onStreamTime.bind(inner) }),
      ...(inner.onWatermark === undefined ? {} : { onWatermark: inner.onWatermark.bind(inner) }),
      process(record, ctx) {
        if (record.key === null || record.key === undefined) return ctx.reportDropped(record, NULL_KEY);
        inner.process(record, ctx);
      },
    };
  };
}

/** Declares an aggregation's store on the builder and returns its name. */
function declareStore<K, V, A>(stream: KStream<K, V>, options: AggregateOptions<A>, kind: string, ordered: boolean): string {
  const builder = stream.builder;
  const name = options.name ?? builder.nextName(`${kind}-store`);
  builder.addStateStore({ name, kind: options.store ?? 'lmdb', keySerde: stream.keySerde, valueSerde: options.value ?? jsonSerde(), ordered });
  return name;
}

/**
 * Adds a windowed aggregation: the operator node, a pass-through node its
 * results leave by (the returned stream), and — with a side output for late
 * records — a sink that writes them untouched.
 */
function windowedNode<K, V, A>(
  stream: KStream<K, V>,
  windows: TimeWindows | SlidingWindows | SessionWindows,
  options: WindowedAggregateOptions<A>,
  operator: (spec: AggregateSpec<K, V, A>) => () => Processor<K, V, Windowed<K>, A>,
  init: () => A,
  add: Aggregator<K, V, A>,
): KStream<Windowed<K>, A> {
  const builder = stream.builder;
  const store = declareStore(stream, options, 'window', true);
  const name = builder.nextName('window-aggregate');
  const resultsNode = `${name}-results`;
  const late = options.late ?? 'drop';
  const lateNode = late === 'drop' ? undefined : `${name}-late`;
  const spec: AggregateSpec<K, V, A> = {
    store,
    keySerde: stream.keySerde,
    valueSerde: stream.valueSerde,
    aggSerde: options.value ?? (jsonSerde() as Serde<A>),
    init,
    add,
    emit: options.emit ?? 'updates',
    resultsNode,
    lateNode,
    retentionMs: options.retentionMs ?? 0,
    clock: options.clock ?? builder.eventClock,
  };
  const describe = windowedAggregateLabel(windows, spec.clock, spec.emit, late);
  builder.addNode({ kind: 'processor', name, create: skippingNullKeys(operator(spec) as () => Processor), stores: [store], children: [], describe });
  builder.connect(stream.nodeName, name);
  builder.addNode({ kind: 'processor', name: resultsNode, create: () => ({ process: (r, ctx) => ctx.forward(r) }), stores: [], children: [] });
  builder.connect(name, resultsNode);
  if (lateNode !== undefined && late !== 'drop') {
    builder.addNode(lateSideOutputSink(lateNode, late.sideOutput, stream.keySerde as Serde<unknown>, stream.valueSerde as Serde<unknown>));
    builder.connect(name, lateNode);
  }
  return stream.streamOf<Windowed<K>, A>(resultsNode, jsonSerde(), spec.aggSerde, byInnerKey(stream.keySerde));
}
