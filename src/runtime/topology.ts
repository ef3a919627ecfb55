import type { Serde } from '../records/serde.ts';
import type { TimestampExtractor } from '../time/extractor.ts';
import type { InvalidTimestampPolicy } from '../time/invalid-timestamp-policy.ts';
import type { StoreDefinition } from '../state/key-value-store.ts';
import type { Processor } from './processor.ts';
import { timerStoreName } from './timers.ts';
import type { WatermarkStrategy } from '../time/watermark.ts';
import type { EventClock } from '../time/event-clock.ts';

/** A node reading a stream into the topology. */
export interface SourceNode {
  readonly kind: 'source';
  readonly name: string;
  readonly stream: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly extractor: TimestampExtractor;
  readonly onInvalidTimestamp: InvalidTimestampPolicy;
  /** How the source's partitions' watermarks are made. */
  readonly watermarks: WatermarkStrategy;
  /** Internal streams (repartitioning) are split by producer task when scheduling. */
  readonly internal: boolean;
  readonly children: string[];
}

/** A node running a processor. */
export interface ProcessorNode {
  readonly kind: 'processor';
  readonly name: string;
  readonly create: () => Processor;
  readonly stores: readonly string[];
  readonly children: string[];
  /** What the node does, in a few words, for `describeTopology` (e.g. its windows and the clock they close on); set by the DSL. */
  readonly describe?: string;
}

/** Chooses the output partition of a record, given the serialized key and the stream's partition count. */
export type StreamPartitioner = (key: unknown, keyBytes: Uint8Array | null, value: unknown, partitions: number) => number;

/** A node writing records to a stream. */
export interface SinkNode {
  readonly kind: 'sink';
  readonly name: string;
  readonly stream: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly partitioner: StreamPartitioner | undefined;
  readonly internal: boolean;
  /** Partition count to create the stream with when missing; defaults to the writing sub-topology's. */
  readonly partitions: number | undefined;
  /**
   * An internal stream co-partitioned with the sub-topology of this node
   * (a foreign-key join's subscriptions with the right table's, its answers
   * with the left table's): created with that sub-topology's partition
   * count, where `partitions` is not given (rule `internalPartitionCount`).
   */
  readonly partitionsLike?: string;
  readonly children: string[];
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

/** A built topology: what {@link StreamsBuilder.build} returns, to run with an {@link Application}. */
export interface Topology {
  /** The nodes, by name. @internal */
  readonly nodes: ReadonlyMap<string, TopologyNode>;
  /** The declared stores, by name. @internal */
  readonly stores: ReadonlyMap<string, StoreDefinition>;
  /**
   * The clock window operators and event-time timers use (default
   * `stream-time`). In `watermark` mode every task also writes watermark
   * records into the streams it writes, so that its consumers' event time
   * follows its own.
   */
  readonly eventClock?: EventClock;
  /** Watermark mode: a task writes a watermark record each time its output watermark crosses a multiple of this (event-time ms). */
  readonly watermarkIntervalMs?: number;
}

/** A connected part of a topology: its sources are co-partitioned and processed together by one task per partition. */
export interface SubTopology {
  readonly id: number;
  readonly nodes: readonly TopologyNode[];
  readonly sources: readonly SourceNode[];
  readonly sinks: readonly SinkNode[];
  readonly stores: readonly string[];
}

/**
 * Splits a topology into sub-topologies: the connected components of its
 * node graph (sources joined through shared downstream nodes, e.g. `merge`).
 * Numbered by the declaration order of their first source; a sub-topology
 * reading an internal stream comes after the ones writing it.
 */
export function subTopologies(topology: Topology): SubTopology[] {
  const parent = new Map<string, string>();
  const find = (n: string): string => {
    let p = parent.get(n) ?? n;
    while (p !== (parent.get(p) ?? p)) p = parent.get(p) ?? p;
    parent.set(n, p);
    return p;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const node of topology.nodes.values()) for (const child of node.children) union(node.name, child);
  // Processors sharing a store must run in the same task.
  const storeOwner = new Map<string, string>();
  for (const node of topology.nodes.values()) {
    if (node.kind !== 'processor') continue;
    for (const s of node.stores) {
      const owner = storeOwner.get(s);
      if (owner === undefined) storeOwner.set(s, node.name);
      else union(owner, node.name);
    }
  }
  const groups = new Map<string, TopologyNode[]>();
  for (const node of topology.nodes.values()) {
    const root = find(node.name);
    const g = groups.get(root) ?? [];
    g.push(node);
    groups.set(root, g);
  }
  const unordered = [...groups.values()]
    .filter((nodes) => nodes.some((n) => n.kind === 'source'))
    .map((nodes) => ({
      nodes,
      sources: nodes.filter((n): n is SourceNode => n.kind === 'source'),
      sinks: nodes.filter((n): n is SinkNode => n.kind === 'sink'),
      stores: [...new Set(nodes.flatMap((n) => (n.kind === 'processor' ? [...n.stores, ...(hasTimers(n) ? [timerStoreName(n.name)] : [])] : [])))],
    }));
  for (const g of unordered) rejectSelfRepartition(g);
  const ordered = orderByDataFlow(unordered);
  return ordered.map((g, id) => ({ id, ...g }));
}

/** Whether the processor of `node` has timers (an `onTimer`), so its task keeps a timer store: one instance is made to see. */
function hasTimers(node: ProcessorNode): boolean {
  return node.create().onTimer !== undefined;
}

/**
 * A sub-topology must not read an internal stream it writes itself: a
 * `merge()`, a join (or a shared store) has joined the part before a repartition
 * with the part after it, so the stream could never be complete before it
 * is read. Each record would also meet itself again, once repartitioned.
 */
function rejectSelfRepartition(g: { sources: readonly SourceNode[]; sinks: readonly SinkNode[]; nodes: readonly TopologyNode[] }): void {
  for (const src of g.sources) {
    if (!src.internal || !g.sinks.some((k) => k.internal && k.stream === src.stream)) continue;
    const merges = g.nodes.filter((n) => n.kind === 'processor' && n.name.startsWith('merge')).map((n) => n.name);
    if (merges.length > 0) {
      throw new Error(`topology: internal stream ${src.stream} is written and read by one sub-topology (joined by ${merges.join(', ')}): merge streams only after repartitioning both, e.g. a.repartition().merge(b.repartition())`);
    }
    // A two-input join (node `stream-inner-join-n`, `table-left-join-n`, …) unites its inputs' sub-topologies as a merge does.
    const joins = g.nodes.filter((n) => n.kind === 'processor' && /^(stream|table)-(inner|left|outer)-join-\d+$/.test(n.name)).map((n) => n.name);
    if (joins.length > 0) {
      throw new Error(
        `topology: internal stream ${src.stream} is written and read by one sub-topology (joined by ${joins.join(', ')}): a join's inputs would put the reader of a repartition stream with its writer; join the repartitioned side with an input that is not joined or merged with the repartition's source`,
      );
    }
    // Otherwise a store ties them: the reader uses a store (a table, a join's) that a node upstream of the writer uses too.
    throw new Error(
      `topology: internal stream ${src.stream} is written and read by one sub-topology: what reads it (${src.children.join(', ')}) shares a store with what writes it — e.g. a stream joined with a table both as it is and re-keyed; join the re-keyed stream with a table of its own`,
    );
  }
}

/** Orders groups so that a group reading an internal stream follows every group writing it. */
function orderByDataFlow<G extends { sources: readonly SourceNode[]; sinks: readonly SinkNode[] }>(groups: G[]): G[] {
  const remaining = [...groups];
  const done: G[] = [];
  const written = (s: string, among: G[]): boolean => among.some((g) => g.sinks.some((k) => k.internal && k.stream === s));
  while (remaining.length > 0) {
    const idx = remaining.findIndex((g) => g.sources.every((src) => !src.internal || !written(src.stream, remaining.filter((o) => o !== g))));
    if (idx < 0) throw new Error('topology has a cycle through internal streams');
    done.push(remaining.splice(idx, 1)[0]!);
  }
  return done;
}

/**
 * Names internal streams after the application, as Kafka Streams does
 * (`<applicationId>-<name>`), so two applications never share one.
 */
export function withApplicationId(topology: Topology, applicationId: string): Topology {
  const nodes = new Map<string, TopologyNode>();
  for (const [name, node] of topology.nodes) {
    nodes.set(name, node.kind !== 'processor' && node.internal ? { ...node, stream: `${applicationId}-${node.stream}` } : node);
  }
  return { ...topology, nodes };
}
