import { subTopologies, type SubTopology, type Topology } from './topology.ts';
import { producerIdOf, taskIdOf } from './ids.ts';

/**
 * What a run creates and runs, handed to a log before the run starts
 * ({@link Log.prepare}) and to a task group when the run joins it: the
 * streams it writes and the tasks this instance runs.
 */
export interface RunPlan {
  /** The application's id. */
  readonly applicationId: string;
  /** The topology's sub-topologies. @internal */
  readonly subTopologies: readonly SubTopology[];
  /** Streams the run writes (outputs, internal streams, the dead-letter stream), with their partition counts. */
  readonly streams: readonly {
    /** The stream's name. */
    readonly stream: string;
    /** The partition count it is created with when missing. */
    readonly partitions: number;
  }[];
  /** The tasks this instance runs. */
  readonly tasks: readonly {
    /** The task's id: `<sub-topology>_<partition>`, e.g. `0_3`. */
    readonly taskId: string;
    /** Its sub-topology's number. */
    readonly subTopology: number;
    /** The partition of its input streams it reads. */
    readonly partition: number;
    /** The stores it holds (a changelog each, on a broker). */
    readonly stores: readonly string[];
    /** The streams it reads. */
    readonly sources: readonly string[];
  }[];
  /** Producer ids (`application/task`) of every task writing each stream, in all instances. */
  readonly writers: ReadonlyMap<string, readonly string[]>;
}

/** What planning asks of the log: the partition count of a stream that exists (a structural `Log`, so that log.ts may import RunPlan from here). */
export interface PartitionCounts {
  partitionCount(stream: string): number | undefined;
}

/**
 * The plan of a run of `topology` (bound to `applicationId`) on `log`: the
 * streams it writes, with their partition counts, and the tasks of this
 * instance. See {@link Application.plan}.
 */
export function planRun(
  topology: Topology,
  applicationId: string,
  log: PartitionCounts,
  options: { readonly instance?: { readonly instance: number; readonly instances: number }; readonly deadLetterStream?: string },
): RunPlan {
  const instance = options.instance;
  if (instance !== undefined && !(Number.isInteger(instance.instances) && instance.instances >= 1 && Number.isInteger(instance.instance) && instance.instance >= 0 && instance.instance < instance.instances)) {
    throw new RangeError(`instance ${instance.instance} of ${instance.instances}: need 0 <= instance < instances`);
  }
  const subs = subTopologies(topology);
  const taskCounts = new Map<number, number>();
  const writers = new Map<string, string[]>();
  const create = new Map<string, number>();
  const peers = externalPeers(log, subs);
  // A stream made co-partitioned with a node's sub-topology: the partition count of that sub-topology's other inputs, known by now.
  const peersOf = (sink: SubTopology['sinks'][number]): number | undefined => {
    if (sink.partitionsLike === undefined) return peers.get(sink.stream);
    const like = subs.find((g) => g.nodes.some((n) => n.name === sink.partitionsLike));
    return like?.sources.filter((s) => s.stream !== sink.stream).map((s) => log.partitionCount(s.stream) ?? create.get(s.stream)).find((n) => n !== undefined) ?? peers.get(sink.stream);
  };
  for (const sub of subs) {
    const partitions = coPartitionedCount(log, sub, create);
    taskCounts.set(sub.id, partitions);
    for (const sink of sub.sinks) {
      if (!create.has(sink.stream)) create.set(sink.stream, log.partitionCount(sink.stream) ?? sink.partitions ?? (sink.internal ? internalPartitionCount(peersOf(sink), partitions) : partitions));
      const ids = writers.get(sink.stream) ?? [];
      for (let p = 0; p < partitions; p++) ids.push(producerIdOf(applicationId, taskIdOf(sub.id, p)));
      writers.set(sink.stream, ids);
    }
  }
  const deadLetterStream = options.deadLetterStream ?? `${applicationId}.dead-letter`;
  if (!create.has(deadLetterStream)) create.set(deadLetterStream, log.partitionCount(deadLetterStream) ?? Math.max(1, ...taskCounts.values()));
  const tasks = subs.flatMap((sub) =>
    [...Array(taskCounts.get(sub.id)!).keys()]
      .filter((p) => instance === undefined || p % instance.instances === instance.instance)
      .map((partition) => ({ taskId: taskIdOf(sub.id, partition), subTopology: sub.id, partition, stores: sub.stores, sources: sub.sources.map((s) => s.stream) })),
  );
  return { applicationId, subTopologies: subs, streams: [...create].map(([stream, partitions]) => ({ stream, partitions })), tasks, writers };
}

/**
 * Rule (co-partitioning of repartition streams, as in Kafka Streams): an
 * internal stream with no partition count of its own, made by this run,
 * takes the partition count of the external streams read beside it — by
 * the sub-topology that reads it — so that a stream re-keyed before a join
 * or a merge is co-partitioned with the other side; read beside none, its
 * writers' task count. A foreign-key join's internal streams take that of
 * the table they are co-partitioned with (the subscriptions the right
 * table's, the answers the left table's), whichever streams it is read from.
 *
 * @example
 * internalPartitionCount(4, 2);         // 4: joined with a stream of 4 partitions
 * internalPartitionCount(undefined, 2); // 2: one partition per writer task
 */
export function internalPartitionCount(externalPeers: number | undefined, writerTasks: number): number {
  return externalPeers ?? writerTasks;
}

/** Per internal stream, the partition count of the first existing external stream read beside it. */
function externalPeers(log: PartitionCounts, subs: readonly SubTopology[]): Map<string, number> {
  const peers = new Map<string, number>();
  for (const sub of subs) {
    const external = sub.sources.flatMap((s) => (s.internal ? [] : [log.partitionCount(s.stream)])).find((n) => n !== undefined);
    if (external === undefined) continue;
    for (const s of sub.sources) if (s.internal && !peers.has(s.stream)) peers.set(s.stream, external);
  }
  return peers;
}

/** The partition count of a sub-topology's co-partitioned sources; `planned` holds the streams the run will create. */
function coPartitionedCount(log: PartitionCounts, sub: SubTopology, planned: ReadonlyMap<string, number>): number {
  let count: number | undefined;
  let first = '';
  for (const source of sub.sources) {
    const n = log.partitionCount(source.stream) ?? planned.get(source.stream);
    if (n === undefined) throw new Error(`input stream ${source.stream} does not exist: create it, or produce to it, before running`);
    if (count === undefined) [count, first] = [n, source.stream];
    else if (n !== count) {
      throw new Error(`streams ${first} (${count} partitions) and ${source.stream} (${n} partitions) feed one sub-topology, so they must be co-partitioned: give them the same partition count, or repartition one`);
    }
  }
  return count ?? 1;
}
