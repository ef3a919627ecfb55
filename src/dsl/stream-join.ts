import { jsonSerde, type Serde } from '../records/serde.ts';
import type { Processor } from '../runtime/processor.ts';
import type { EventClock } from '../time/event-clock.ts';
import type { LatePolicy } from '../windows/emission.ts';
import type { JoinWindows } from '../joins/join-windows.ts';
import { streamJoin, type StreamJoinKind } from '../runtime/operators/stream-join.ts';
import type { StoreKind } from '../state/key-value-store.ts';
import type { KStream } from './kstream.ts';
import { lateSideOutputSink } from './late-sink.ts';
import { streamJoinLabel } from '../runtime/node-labels.ts';

/** Options of a stream–stream join. */
export interface StreamJoinOptions<VOut> {
  /** Late records of either side (their join window closed on arrival): `drop` (default; counted and audited) or `{ sideOutput: stream }`, each written as it arrived. */
  readonly late?: LatePolicy;
  /** The event clock join windows close on (default: the topology's). */
  readonly clock?: EventClock;
  /** The join's store: `lmdb` (default) or `in-memory`. */
  readonly store?: StoreKind;
  /** The store's name (default: derived from the node). */
  readonly name?: string;
  /** Serde of the joined values (default JSON). */
  readonly value?: Serde<VOut>;
}

const NULL_KEY_OR_VALUE = 'a stream–stream join needs a key and a value (set a key with selectKey)';

/**
 * Adds a stream–stream join of `left` and `right`: the operator node (both
 * streams its parents, repartitioned first if their keys changed), a
 * pass-through node its results leave by, and — with a side output — one
 * sink per side for late records. Records with a null key or value are
 * dropped, counted and audited.
 */
export function addStreamJoin<K, VL, VR, VOut>(
  leftIn: KStream<K, VL>,
  rightIn: KStream<K, VR>,
  kind: StreamJoinKind,
  joiner: (left: VL | undefined, right: VR | undefined) => VOut,
  windows: JoinWindows,
  options: StreamJoinOptions<VOut>,
): KStream<K, VOut> {
  const left = leftIn.forStatefulStep();
  const right = rightIn.forStatefulStep();
  if (left.nodeName === right.nodeName) throw new Error(`${kind} join: a stream cannot be joined with itself here (both sides are node ${left.nodeName})`);
  const builder = left.builder;
  const name = builder.nextName(`stream-${kind}-join`);
  const store = options.name ?? `${name}-store`;
  builder.addStateStore({ name: store, kind: options.store ?? 'lmdb', keySerde: left.keySerde, valueSerde: jsonSerde(), ordered: true });
  const resultsNode = `${name}-results`;
  const late = options.late ?? 'drop';
  const lateNodes = late === 'drop' ? { left: undefined, right: undefined } : { left: `${name}-late-left`, right: `${name}-late-right` };
  const valueSerde = options.value ?? (jsonSerde() as Serde<VOut>);
  const operator = streamJoin({
    kind,
    windows,
    store,
    leftParent: left.nodeName,
    keySerde: left.keySerde,
    leftSerde: left.valueSerde,
    rightSerde: right.valueSerde,
    joiner,
    resultsNode,
    lateNodes,
    clock: options.clock ?? builder.eventClock,
  });
  const create = (): Processor => {
    const inner = operator() as Processor;
    return {
      onStreamTime: inner.onStreamTime!.bind(inner),
      onWatermark: inner.onWatermark!.bind(inner),
      process(record, ctx) {
        if (record.key === null || record.key === undefined || record.value === null || record.value === undefined) return ctx.reportDropped(record, NULL_KEY_OR_VALUE);
        inner.process(record, ctx);
      },
    };
  };
  builder.addNode({ kind: 'processor', name, create, stores: [store], children: [], describe: streamJoinLabel(kind, windows, options.clock ?? builder.eventClock, late) });
  builder.connect(left.nodeName, name);
  builder.connect(right.nodeName, name);
  builder.addNode({ kind: 'processor', name: resultsNode, create: () => ({ process: (r, ctx) => ctx.forward(r) }), stores: [], children: [] });
  builder.connect(name, resultsNode);
  if (late !== 'drop') {
    for (const [side, node] of [[left, lateNodes.left!], [right, lateNodes.right!]] as const) {
      builder.addNode(lateSideOutputSink(node, late.sideOutput, side.keySerde as Serde<unknown>, side.valueSerde as Serde<unknown>));
      builder.connect(name, node);
    }
  }
  const partitioner = typeof left.defaultPartitioner === 'function' ? left.defaultPartitioner : undefined;
  return left.streamOf<K, VOut>(resultsNode, left.keySerde, valueSerde, partitioner);
}
