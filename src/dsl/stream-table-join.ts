import { jsonSerde, type Serde } from '../records/serde.ts';
import type { Processor } from '../runtime/processor.ts';
import type { LatePolicy } from '../windows/emission.ts';
import type { StoreKind } from '../state/key-value-store.ts';
import { streamTableJoin, type StreamTableJoinKind } from '../runtime/operators/stream-table-join.ts';
import { latestValueJoin } from '../runtime/operators/stream-table-latest-join.ts';
import type { KStream } from './kstream.ts';
import type { KTable } from './ktable.ts';
import { lateSideOutputSink } from './late-sink.ts';
import { clockLabel, durationLabel, lateLabel } from '../runtime/node-labels.ts';

/** Options of a stream–table join by event time (a versioned table). */
export interface StreamTableJoinOptions<VOut> {
  /**
   * How long (ms of event time) a stream record waits for the table updates
   * of its own time that are still on their way: it joins once event time
   * passed its timestamp + grace. Default 0; at most the table's history
   * retention.
   */
  readonly grace?: number;
  /** Stream records older than the table's history when joined: `drop` (default; counted and audited) or `{ sideOutput: stream }`, written as they arrived. */
  readonly late?: LatePolicy;
  /** The join's store (waiting records): `lmdb` (default) or `in-memory`. */
  readonly store?: StoreKind;
  /** The store's name (default: derived from the node). */
  readonly name?: string;
  /** Serde of the joined values (default JSON). */
  readonly value?: Serde<VOut>;
}

/** Options of a join on a table's latest value. */
export type LatestValueJoinOptions<VOut> = Omit<StreamTableJoinOptions<VOut>, 'grace' | 'late'>;

const NULL_VALUE = 'a stream–table join enriches records with a value (a tombstone on the stream side is not a fact to enrich)';
const NULL_KEY = 'an inner stream–table join needs a key (set one with selectKey, or use leftJoin)';

/**
 * Adds a stream–table join by event time of `streamIn` and the versioned
 * table `table`: the join node (the stream, repartitioned first if its key
 * changed, and the table's source its parents), the node its results leave
 * by, and a sink for late records with a side output. The table's source
 * passes the join its accepted updates and keeps its history back to the
 * join's oldest waiting record.
 */
export function addStreamTableJoin<K, VS, VT, VOut>(
  streamIn: KStream<K, VS>,
  table: KTable<K, VT>,
  kind: StreamTableJoinKind,
  joiner: (value: VS, row: VT | undefined) => VOut,
  options: StreamTableJoinOptions<VOut>,
): KStream<K, VOut> {
  const stream = streamIn.forStatefulStep();
  const builder = stream.builder;
  const what = `${kind === 'inner' ? 'join' : 'leftJoin'} of ${stream.nodeName} with table ${table.nodeName}`;
  const links = builder.versionedTable(table.nodeName);
  if (links === undefined) {
    throw new Error(`${what}: a join by event time needs a versioned table (builder.table(stream, { versioned: { historyRetentionMs } })); to join a table's latest value, use ${kind === 'inner' ? 'joinLatest' : 'leftJoinLatest'}`);
  }
  const grace = options.grace ?? 0;
  if (!Number.isSafeInteger(grace) || grace < 0) throw new RangeError(`${what}: grace must be a non-negative integer (ms), got ${grace}`);
  if (grace > links.historyRetentionMs) throw new RangeError(`${what}: grace (${grace} ms) exceeds the table's history retention (${links.historyRetentionMs} ms), so the history a waiting record needs could be gone`);
  const name = builder.nextName(`stream-table-${kind}-join`);
  const store = options.name ?? `${name}-store`;
  builder.addStateStore({ name: store, kind: options.store ?? 'lmdb', keySerde: stream.keySerde, valueSerde: jsonSerde(), ordered: true });
  const resultsNode = `${name}-results`;
  const late = options.late ?? 'drop';
  const lateNode = late === 'drop' ? undefined : `${name}-late`;
  const operator = streamTableJoin<K, VS, VT, VOut>({
    kind,
    graceMs: grace,
    store,
    tableStore: links.store,
    streamParent: stream.nodeName,
    keySerde: stream.keySerde,
    tableKeySerde: table.keySerde,
    streamSerde: stream.valueSerde,
    tableSerde: table.valueSerde,
    joiner,
    resultsNode,
    lateNode,
    clock: builder.eventClock,
  });
  const describe = `${kind} join with versioned table ${links.store} as of each record's time, grace ${durationLabel(grace)}, ${clockLabel(builder.eventClock)}; late records ${lateLabel(late)}`;
  builder.addNode({ kind: 'processor', name, create: guarded(operator, stream.nodeName, kind), stores: [store, links.store], children: [], describe });
  builder.connect(stream.nodeName, name);
  builder.connect(links.sourceNode, name);
  links.joins.nodes.push(name);
  links.joins.stores.push(store);
  builder.shareStore(links.sourceNode, store);
  addResults(stream, name, resultsNode);
  if (late !== 'drop') {
    builder.addNode(lateSideOutputSink(lateNode!, late.sideOutput, stream.keySerde as Serde<unknown>, stream.valueSerde as Serde<unknown>));
    builder.connect(name, lateNode!);
  }
  return resultOf(stream, resultsNode, options.value);
}

/**
 * Adds a join of `streamIn` with the latest value of `table` (any table: the
 * join keeps its own copy of the table's latest values from its changes).
 */
export function addLatestValueJoin<K, VS, VT, VOut>(
  streamIn: KStream<K, VS>,
  table: KTable<K, VT>,
  kind: StreamTableJoinKind,
  joiner: (value: VS, row: VT | undefined) => VOut,
  options: LatestValueJoinOptions<VOut>,
): KStream<K, VOut> {
  const stream = streamIn.forStatefulStep();
  const builder = stream.builder;
  const name = builder.nextName(`stream-table-latest-${kind}-join`);
  const store = options.name ?? `${name}-store`;
  builder.addStateStore({ name: store, kind: options.store ?? 'lmdb', keySerde: stream.keySerde, valueSerde: jsonSerde(), ordered: true });
  const resultsNode = `${name}-results`;
  // A table read from a stream is followed record by record — a delete of an absent key included, which
  // changes no row but does change what the table held as of a time; any other table by its changes.
  const sourceStream = builder.tableSourceStream(table.nodeName);
  const operator = latestValueJoin<K, VS, VT, VOut>({ kind, store, streamParent: stream.nodeName, tableInput: sourceStream === undefined ? 'changes' : 'records', keySerde: stream.keySerde, tableSerde: table.valueSerde, joiner, resultsNode });
  builder.addNode({ kind: 'processor', name, create: guarded(operator, stream.nodeName, kind), stores: [store], children: [], describe: `${kind} join with the latest value of a table, in processing order (audited nondeterministic:latest-value-join)` });
  builder.connect(stream.nodeName, name);
  builder.connect(sourceStream ?? table.nodeName, name);
  addResults(stream, name, resultsNode);
  return resultOf(stream, resultsNode, options.value);
}

/** The operator, with the stream side's records that cannot join dropped first (counted and audited): a null value; a null key in an inner join. */
function guarded(operator: () => Processor<any, unknown, any, any>, streamParent: string, kind: StreamTableJoinKind): () => Processor {
  return () => {
    const inner = operator() as Processor;
    return {
      ...(inner.onStreamTime === undefined ? {} : { onStreamTime: inner.onStreamTime.bind(inner), onWatermark: inner.onWatermark!.bind(inner) }),
      process(record, ctx) {
        if (ctx.parentNode === streamParent) {
          if (record.value === null || record.value === undefined) return ctx.reportDropped(record, NULL_VALUE);
          if (kind === 'inner' && (record.key === null || record.key === undefined)) return ctx.reportDropped(record, NULL_KEY);
        }
        inner.process(record, ctx);
      },
    };
  };
}

function addResults<K, V>(stream: KStream<K, V>, joinNode: string, resultsNode: string): void {
  const builder = stream.builder;
  builder.addNode({ kind: 'processor', name: resultsNode, create: () => ({ process: (r, ctx) => ctx.forward(r) }), stores: [], children: [] });
  builder.connect(joinNode, resultsNode);
}

/** The joined stream: keyed and partitioned as the stream side. */
function resultOf<K, V, VOut>(stream: KStream<K, V>, resultsNode: string, valueSerde: Serde<VOut> | undefined): KStream<K, VOut> {
  const partitioner = typeof stream.defaultPartitioner === 'function' ? stream.defaultPartitioner : undefined;
  return stream.streamOf<K, VOut>(resultsNode, stream.keySerde, valueSerde ?? (jsonSerde() as Serde<VOut>), partitioner);
}
