/**
 * A topology described for people (`tidemark describe`, Kafka Streams'
 * `Topology.describe()`): its sub-topologies (the parts run by one task per
 * partition), their sources, processors and sinks, the stores with their
 * changelogs, and the streams it reads, writes and repartitions through.
 *
 * @module
 */
import type { StoreKind } from '../state/key-value-store.ts';
import type { EventClock } from '../time/event-clock.ts';
import { taskIdOf } from './ids.ts';
import { clockLabel, durationLabel } from './node-labels.ts';
import { isTimerStore, timerStoreName } from './timers.ts';
import { subTopologies, withApplicationId, type SourceNode, type Topology, type TopologyNode } from './topology.ts';

/** One node of a described topology. */
export interface NodeDescription {
  /** The node's name. */
  readonly name: string;
  /** What it is. */
  readonly kind: 'source' | 'processor' | 'sink';
  /** What it does, in a few words: its stream and clocks (source, sink), or its operation (processor). */
  readonly detail: string;
  /** The stream a source reads or a sink writes. */
  readonly stream?: string;
  /** Whether that stream is an internal (repartition) stream. */
  readonly internal?: boolean;
  /** The stores it uses. */
  readonly stores: readonly string[];
  /** The nodes records go to next. */
  readonly children: readonly string[];
  /** The nodes records come from. */
  readonly parents: readonly string[];
}

/** A sub-topology: one task per partition of its sources runs it. */
export interface SubTopologyDescription {
  /** Its number. */
  readonly id: number;
  /** Its nodes, in declaration order. */
  readonly nodes: readonly NodeDescription[];
}

/** A store of a described topology. */
export interface StoreDescription {
  /** The store's name. */
  readonly name: string;
  /** `key-value`, `versioned` (a versioned table's history), `ordered` (windows, sessions, join buffers) or `timers` (a processor's timers). */
  readonly type: 'key-value' | 'versioned' | 'ordered' | 'timers';
  /** Where it keeps its data: `lmdb` or `in-memory`; undefined for timers (kept as the task's state). */
  readonly kind: StoreKind | undefined;
  /** A versioned store's history, in event-time ms behind the clock. */
  readonly historyRetentionMs?: number;
  /** The sub-topology whose tasks hold it. */
  readonly subTopology: number;
  /** The processors using it. */
  readonly usedBy: readonly string[];
  /** Its changelog stream where the log keeps one per store (Kafka), when `describeTopology` was told how they are named. */
  readonly changelog?: string;
}

/** An internal stream: written by some sub-topologies, read by others. */
export interface InternalStreamDescription {
  /** The stream's name. */
  readonly stream: string;
  /** The sub-topologies writing it. */
  readonly writtenBy: readonly number[];
  /** The sub-topologies reading it. */
  readonly readBy: readonly number[];
}

/** What {@link describeTopology} returns. */
export interface TopologyDescription {
  /** The clock windows and event-time timers close on, unless an operator says otherwise. */
  readonly eventClock: EventClock;
  /** Its sub-topologies. */
  readonly subTopologies: readonly SubTopologyDescription[];
  /** Its stores. */
  readonly stores: readonly StoreDescription[];
  /** The streams read from outside the application, by name. */
  readonly inputs: readonly string[];
  /** The streams written for outside the application (the dead-letter stream too, when the application id is known), by name. */
  readonly outputs: readonly string[];
  /** Its internal (repartition) streams. */
  readonly internal: readonly InternalStreamDescription[];
}

/** How {@link describeTopology} names what depends on the application. */
export interface DescribeOptions {
  /** Names internal streams as a run does (`<applicationId>-<name>`) and adds the dead-letter stream to the outputs. */
  readonly applicationId?: string;
  /** The changelog stream of a store (on Kafka: `kafkaTopics.changelog(applicationId, store)` of `tidemark/kafka`). */
  readonly changelog?: (store: string) => string;
}

/**
 * Describes a topology: its sub-topologies (numbered as a run numbers its
 * tasks, `<sub-topology>_<partition>`), each node with what it does — a
 * source's timestamps and watermarks, a window's size, grace and the clock
 * it closes on, a versioned table's history — the stores and the streams.
 * Format it with {@link formatTopologyText} or {@link formatTopologyMermaid}.
 *
 * @example
 * const description = describeTopology(builder.build(), { applicationId: 'clicks' });
 * console.log(formatTopologyText(description));
 */
export function describeTopology(topology: Topology, options: DescribeOptions = {}): TopologyDescription {
  const named = options.applicationId === undefined ? topology : withApplicationId(topology, options.applicationId);
  const subs = subTopologies(named);
  const parents = new Map<string, string[]>();
  for (const node of named.nodes.values()) for (const child of node.children) parents.set(child, [...(parents.get(child) ?? []), node.name]);
  const clock = named.eventClock ?? 'stream-time';
  const stores: StoreDescription[] = [];
  for (const sub of subs) {
    for (const store of sub.stores) {
      const def = named.stores.get(store);
      const usedBy = sub.nodes.filter((n) => n.kind === 'processor' && (n.stores.includes(store) || store === timerStoreName(n.name))).map((n) => n.name);
      const type = isTimerStore(store) ? 'timers' : def?.versioned !== undefined ? 'versioned' : def?.ordered === true ? 'ordered' : 'key-value';
      stores.push({
        name: store,
        type,
        kind: def?.kind,
        ...(def?.versioned === undefined ? {} : { historyRetentionMs: def.versioned.historyRetentionMs }),
        subTopology: sub.id,
        usedBy,
        ...(options.changelog === undefined ? {} : { changelog: options.changelog(store) }),
      });
    }
  }
  const internal = new Map<string, { writtenBy: Set<number>; readBy: Set<number> }>();
  const inputs = new Set<string>();
  const outputs = new Set<string>();
  for (const sub of subs) {
    for (const n of sub.nodes) {
      if (n.kind === 'processor') continue;
      if (!n.internal) (n.kind === 'source' ? inputs : outputs).add(n.stream);
      else {
        const entry = internal.get(n.stream) ?? { writtenBy: new Set(), readBy: new Set() };
        (n.kind === 'source' ? entry.readBy : entry.writtenBy).add(sub.id);
        internal.set(n.stream, entry);
      }
    }
  }
  if (options.applicationId !== undefined) outputs.add(`${options.applicationId}.dead-letter`);
  return {
    eventClock: clock,
    subTopologies: subs.map((sub) => ({ id: sub.id, nodes: sub.nodes.map((n) => describeNode(n, parents.get(n.name) ?? [])) })),
    stores,
    inputs: [...inputs].sort(),
    outputs: [...outputs].sort(),
    internal: [...internal].map(([stream, e]) => ({ stream, writtenBy: [...e.writtenBy].sort(), readBy: [...e.readBy].sort() })),
  };
}

function describeNode(node: TopologyNode, parents: readonly string[]): NodeDescription {
  const common = { name: node.name, kind: node.kind, children: [...node.children], parents };
  if (node.kind === 'processor') return { ...common, detail: node.describe ?? operationOf(node.name), stores: node.stores };
  const detail = node.kind === 'source' ? sourceDetail(node) : `writes ${node.internal ? 'internal stream ' : ''}${node.stream}${node.partitions === undefined ? '' : `, ${node.partitions} partitions`}`;
  return { ...common, detail, stream: node.stream, internal: node.internal, stores: [] };
}

/** A source's stream, timestamps and watermarks. */
function sourceDetail(node: SourceNode): string {
  const w = node.watermarks;
  const watermarks = w.kind === 'from-stream' ? "watermarks: its producers' watermark records" : `watermarks: ${w.generator.name}`;
  const idle = w.idlenessMs === undefined ? '' : `, idle after ${durationLabel(w.idlenessMs)} without records (real time)`;
  return `reads ${node.internal ? 'internal stream ' : ''}${node.stream}; timestamps: ${node.extractor.name}${node.extractor.readsWallClock ? ' (wall clock: nondeterministic)' : ''}; ${watermarks}${idle}`;
}

/** What a processor the DSL said nothing more of does: its name without the number (`filter-3` → `filter`). */
function operationOf(name: string): string {
  const m = /^(.*?)-\d+(-(results|changes|late.*))?$/.exec(name);
  if (m === null) return name;
  if (m[3] !== undefined) return m[3] === 'results' ? `results of ${name.slice(0, -'-results'.length)}` : m[3] === 'changes' ? 'changes of the latest values' : 'late records';
  return m[1]!.replace(/-/g, ' ');
}

const KIND_TITLE = { source: 'Source', processor: 'Processor', sink: 'Sink' } as const;

/**
 * The description as text, in the layout of Kafka Streams'
 * `TopologyDescription`: each sub-topology's nodes with `-->` to the nodes
 * they feed and `<--` from the nodes feeding them; then stores and streams.
 */
export function formatTopologyText(d: TopologyDescription): string {
  const lines = [`Topology (event clock: ${d.eventClock}, windows close ${clockLabel(d.eventClock)} unless said otherwise)`];
  for (const sub of d.subTopologies) {
    lines.push(`  Sub-topology ${sub.id}: tasks ${taskIdOf(sub.id, 0)}, ${taskIdOf(sub.id, 1)}, … one per input partition`);
    for (const n of sub.nodes) {
      lines.push(`    ${KIND_TITLE[n.kind]}: ${n.name} (${n.detail}${n.stores.length === 0 ? '' : `; stores: ${n.stores.join(', ')}`})`);
      if (n.children.length > 0) lines.push(`      --> ${n.children.join(', ')}`);
      if (n.parents.length > 0) lines.push(`      <-- ${n.parents.join(', ')}`);
    }
  }
  lines.push('  Stores');
  if (d.stores.length === 0) lines.push('    none');
  for (const s of d.stores) lines.push(`    ${s.name}: ${storeDetail(s)}`);
  lines.push('  Streams');
  for (const s of d.inputs) lines.push(`    input     ${s}`);
  for (const s of d.outputs) lines.push(`    output    ${s}`);
  for (const s of d.internal) lines.push(`    internal  ${s.stream}: written by sub-topology ${s.writtenBy.join(', ')}, read by sub-topology ${s.readBy.join(', ')}`);
  for (const s of d.stores) if (s.changelog !== undefined) lines.push(`    changelog ${s.changelog}: store ${s.name}, on Kafka`);
  return lines.join('\n');
}

function storeDetail(s: StoreDescription): string {
  const type = s.type === 'versioned' ? `versioned, history ${durationLabel(s.historyRetentionMs ?? 0)}` : s.type;
  return `${type}${s.kind === undefined ? '' : `, ${s.kind}`}; sub-topology ${s.subTopology}${s.usedBy.length === 0 ? '' : `, used by ${s.usedBy.join(', ')}`}${s.changelog === undefined ? '' : `; changelog on Kafka: ${s.changelog}`}`;
}

/**
 * Text for a Mermaid label in double quotes: every character outside a
 * plain set becomes an entity code (`#34;`), so that quotes, brackets,
 * `<`, `#` and the like in user-chosen names cannot end the label or
 * inject markup.
 *
 * @internal
 * @example
 * mermaidText('a "b" <c>') // 'a #34;b#34; #60;c#62;'
 */
export function mermaidText(text: string): string {
  return text.replace(/[^A-Za-z0-9 .,:;_\-+=/()'→…]/gu, (c) => `#${c.codePointAt(0)};`);
}

/**
 * The description as a Mermaid flowchart (GitHub renders it in a
 * ```` ```mermaid ```` block): a box per sub-topology with its nodes,
 * streams as cylinders outside them — inputs, outputs and the internal
 * streams linking sub-topologies — and stores as cylinders joined to their
 * processors by dotted lines.
 */
export function formatTopologyMermaid(d: TopologyDescription): string {
  const ids = new Map<string, string>();
  const id = (key: string): string => {
    let v = ids.get(key);
    if (v === undefined) ids.set(key, (v = `n${ids.size}`));
    return v;
  };
  const label = (title: string, detail?: string): string => `"${mermaidText(title)}${detail === undefined ? '' : `<br/>${mermaidText(detail)}`}"`;
  const lines = ['flowchart TD'];
  const edges: string[] = [];
  // The streams a source reads or a sink writes (not the dead-letter stream: no node writes it, every source may).
  const drawn = new Set(d.subTopologies.flatMap((sub) => sub.nodes.flatMap((n) => (n.stream === undefined ? [] : [n.stream]))));
  for (const stream of [...d.inputs, ...d.outputs, ...d.internal.map((s) => s.stream)]) if (drawn.has(stream)) lines.push(`  ${id(`stream:${stream}`)}[(${label(stream)})]`);
  for (const sub of d.subTopologies) {
    lines.push(`  subgraph ${id(`sub:${sub.id}`)}[${label(`Sub-topology ${sub.id}`)}]`);
    for (const n of sub.nodes) {
      const shape = n.kind === 'processor' ? ['[', ']'] : n.kind === 'source' ? ['[/', '/]'] : ['[\\', '\\]'];
      lines.push(`    ${id(`node:${n.name}`)}${shape[0]}${label(n.name, n.kind === 'processor' ? n.detail : undefined)}${shape[1]}`);
      for (const c of n.children) edges.push(`  ${id(`node:${n.name}`)} --> ${id(`node:${c}`)}`);
      if (n.kind === 'source') edges.push(`  ${id(`stream:${n.stream!}`)} --> ${id(`node:${n.name}`)}`);
      if (n.kind === 'sink') edges.push(`  ${id(`node:${n.name}`)} --> ${id(`stream:${n.stream!}`)}`);
    }
    lines.push('  end');
  }
  for (const s of d.stores) {
    lines.push(`  ${id(`store:${s.name}`)}[(${label(s.name, storeDetail(s).split(';')[0])})]`);
    for (const user of s.usedBy) edges.push(`  ${id(`node:${user}`)} -.- ${id(`store:${s.name}`)}`);
  }
  return [...lines, ...edges].join('\n');
}
