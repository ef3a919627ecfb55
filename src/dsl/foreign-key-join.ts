import { bytesSerde, jsonSerde, type Serde } from '../records/serde.ts';
import type { Processor } from '../runtime/processor.ts';
import type { SourceNode } from '../runtime/topology.ts';
import type { StoreKind } from '../state/key-value-store.ts';
import { timestampedSerde } from '../state/timestamped.ts';
import { eventTimeExtractor } from '../time/extractor.ts';
import { Watermarks } from '../time/watermark.ts';
import type { ForeignKeyJoinKind } from '../joins/foreign-key.ts';
import {
  foreignKeyEnvelopeSerde,
  foreignKeyRespond,
  foreignKeyResolve,
  foreignKeySubscribe,
  type ForeignKeyMessage,
  type ForeignKeyResponse,
} from '../runtime/operators/foreign-key-join.ts';
import type { KTable } from './ktable.ts';

/** Options of a foreign-key table join. */
export interface ForeignKeyJoinOptions<VOut> {
  /** `inner` (default): a row for each left row with a right row under its foreign key; `left`: a row for each left row. */
  readonly kind?: ForeignKeyJoinKind;
  /**
   * The joined table's store (each row with its timestamp), readable with
   * `app.store(name)`; the join's other stores are named after it
   * (`<name>-versions`, `<name>-left-versions`, `<name>-right`,
   * `<name>-subscriptions`). Default: derived from the node.
   */
  readonly name?: string;
  /** The join's stores: `lmdb` (default) or `in-memory`. */
  readonly store?: StoreKind;
  /** Serde of the joined values (default JSON). */
  readonly value?: Serde<VOut>;
}

/** The source of an internal stream of the join, read back in the step that needs it. */
function internalSource(name: string, stream: string, keySerde: Serde<unknown>, valueSerde: Serde<unknown>): SourceNode {
  return { kind: 'source', name, stream, keySerde, valueSerde, extractor: eventTimeExtractor(), onInvalidTimestamp: 'fail', watermarks: Watermarks.fromStream(), internal: true, children: [] };
}

/**
 * Adds a foreign-key join of `left` with `right` in three sub-topologies,
 * so that the internal streams between them flow one way:
 * 1. beside `left`: each change of a left row subscribes it to the right
 *    row under its foreign key, through `<node>-subscription` (keyed by the
 *    foreign key, partitioned like `right`); a change that needs no right
 *    row goes through `<node>-left` (keyed by the left key);
 * 2. beside `right`: subscriptions and changes of right rows are answered
 *    through `<node>-response` (keyed by the left key, partitioned like
 *    `left`);
 * 3. reading `<node>-left` and `<node>-response`: the joined table.
 */
export function addForeignKeyJoin<K, VL, KO, VR, VOut>(
  left: KTable<K, VL>,
  right: KTable<KO, VR>,
  fk: (value: VL) => KO | null | undefined,
  joiner: (left: VL, right: VR | undefined) => VOut | null,
  options: ForeignKeyJoinOptions<VOut>,
): KTable<K, VOut> {
  if (left.nodeName === right.nodeName) throw new Error(`foreign-key join: a table cannot be joined with itself on a foreign key (both sides are node ${left.nodeName}); join it with a mapValues of itself`);
  const kind = options.kind ?? 'inner';
  if (kind !== 'inner' && kind !== 'left') throw new Error(`foreign-key join: kind must be 'inner' or 'left', got ${String(kind)}`);
  const builder = left.builder;
  const name = builder.nextName(`table-fk-${kind}-join`);
  const results = options.name ?? `${name}-store`;
  const storeKind = options.store ?? 'lmdb';
  const valueSerde = options.value ?? (jsonSerde() as Serde<VOut>);
  const messages = foreignKeyEnvelopeSerde<ForeignKeyMessage>('foreign-key-subscription') as Serde<unknown>;
  const responses = foreignKeyEnvelopeSerde<ForeignKeyResponse>('foreign-key-response') as Serde<unknown>;
  const number = jsonSerde<number>();
  const stores = {
    leftVersions: `${results}-left-versions`,
    rightRows: `${results}-right`,
    subscriptions: `${results}-subscriptions`,
    versions: `${results}-versions`,
  };
  builder.addStateStore({ name: stores.leftVersions, kind: storeKind, keySerde: left.keySerde, valueSerde: number });
  builder.addStateStore({ name: stores.rightRows, kind: storeKind, keySerde: right.keySerde, valueSerde: timestampedSerde(right.valueSerde) });
  builder.addStateStore({ name: stores.subscriptions, kind: storeKind, keySerde: jsonSerde(), valueSerde: jsonSerde(), ordered: true });
  builder.addStateStore({ name: stores.versions, kind: storeKind, keySerde: left.keySerde, valueSerde: number });
  builder.addStateStore({ name: results, kind: storeKind, keySerde: left.keySerde, valueSerde: timestampedSerde(valueSerde) });

  // 1. Beside the left table.
  const subscribe = `${name}-subscribe`;
  const subscriptionStream = `${name}-subscription`;
  const leftStream = `${name}-left`;
  const subscriptionSink = `${subscriptionStream}-sink`;
  const leftSink = `${leftStream}-sink`;
  const createSubscribe = foreignKeySubscribe<K, VL, KO>({ versions: stores.leftVersions, fk, leftKeySerde: left.keySerde, leftSerde: left.valueSerde, foreignKeySerde: right.keySerde, subscriptionsNode: subscriptionSink, resolveNode: leftSink });
  builder.addNode({ kind: 'processor', name: subscribe, create: createSubscribe as () => Processor, stores: [stores.leftVersions], children: [] });
  builder.connect(left.nodeName, subscribe);
  // The subscriptions are partitioned like the right table; the changes for the third step like the left one.
  builder.addNode({ kind: 'sink', name: subscriptionSink, stream: subscriptionStream, keySerde: right.keySerde as Serde<unknown>, valueSerde: messages, partitioner: undefined, internal: true, partitions: undefined, partitionsLike: right.nodeName, children: [] });
  builder.addNode({ kind: 'sink', name: leftSink, stream: leftStream, keySerde: left.keySerde as Serde<unknown>, valueSerde: messages, partitioner: undefined, internal: true, partitions: undefined, partitionsLike: left.nodeName, children: [] });
  builder.connect(subscribe, subscriptionSink);
  builder.connect(subscribe, leftSink);

  // 2. Beside the right table.
  const subscriptionSource = `${subscriptionStream}-source`;
  builder.addNode(internalSource(subscriptionSource, subscriptionStream, right.keySerde as Serde<unknown>, messages));
  const respond = `${name}-respond`;
  const responseStream = `${name}-response`;
  const responseSink = `${responseStream}-sink`;
  const createRespond = foreignKeyRespond<KO>({ subscriptionsParent: subscriptionSource, rightRows: stores.rightRows, subscriptions: stores.subscriptions, foreignKeySerde: right.keySerde, rightSerde: right.valueSerde as Serde<unknown>, responsesNode: responseSink });
  builder.addNode({ kind: 'processor', name: respond, create: createRespond as () => Processor, stores: [stores.rightRows, stores.subscriptions], children: [] });
  builder.connect(subscriptionSource, respond);
  builder.connect(right.nodeName, respond);
  // Keyed by the left key's bytes, as they came: partitioned like the left table.
  builder.addNode({ kind: 'sink', name: responseSink, stream: responseStream, keySerde: bytesSerde() as Serde<unknown>, valueSerde: responses, partitioner: undefined, internal: true, partitions: undefined, partitionsLike: left.nodeName, children: [] });
  builder.connect(respond, responseSink);

  // 3. The joined table.
  const leftSource = `${leftStream}-source`;
  const responseSource = `${responseStream}-source`;
  builder.addNode(internalSource(leftSource, leftStream, left.keySerde as Serde<unknown>, messages));
  builder.addNode(internalSource(responseSource, responseStream, left.keySerde as Serde<unknown>, responses));
  const createResolve = foreignKeyResolve<K, VL, VR, VOut>({ kind, joiner, versions: stores.versions, results, leftSerde: left.valueSerde, rightSerde: right.valueSerde });
  builder.addNode({ kind: 'processor', name, create: createResolve as () => Processor, stores: [stores.versions, results], children: [] });
  builder.connect(leftSource, name);
  builder.connect(responseSource, name);
  return left.tableOf<K, VOut>(name, left.keySerde, valueSerde, results);
}
