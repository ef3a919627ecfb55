import type { Serde } from '../records/serde.ts';
import type { TopologyNode } from '../runtime/topology.ts';

/**
 * The sink of a late policy's side output: late records leave untouched,
 * with the serdes of the stream they came from, to the user's stream
 * `stream` (not internal, partitioned by key as any output). Window
 * aggregations, versioned tables and joins add one beside their operator.
 */
export function lateSideOutputSink(name: string, stream: string, keySerde: Serde<unknown>, valueSerde: Serde<unknown>): TopologyNode {
  return { kind: 'sink', name, stream, keySerde, valueSerde, partitioner: undefined, internal: false, partitions: undefined, children: [] };
}
