import { publish, type RecordLateMessage, type WindowFiredMessage } from './diagnostics.ts';
import type { StreamRecord } from '../records/record.ts';
import { eventClockNow } from '../time/event-clock.ts';
import { NO_WATERMARK } from '../time/watermark.ts';
import type { CommittableStore, KeyValueStore, StateWrite } from '../state/key-value-store.ts';
import { InMemoryKeyValueStore } from '../state/in-memory-store.ts';
import { LmdbKeyValueStore } from '../state/lmdb-store.ts';
import { InMemoryOrderedStore, LmdbOrderedStore, type CommittableOrderedStore, type OrderedStore } from '../state/ordered-store.ts';
import type { SinkNode, SubTopology, Topology, TopologyNode } from './topology.ts';
import type { Processor, ProcessorContext } from './processor.ts';
import type { TaskWatermarks } from './task-watermarks.ts';
import { ProcessorTimers, isTimerStore, timerStoreName, type TimerDomain } from './timers.ts';
import { ProcessingError } from './input-failure.ts';
import type { TaskCounters, TaskCursor, TaskEnvironment } from './task-environment.ts';

/**
 * A processor node's clocks as one task sees them: which watermark group
 * feeds it, the watermark it was last told, its hooks and its timers.
 */
export interface NodeClock {
  readonly node: string;
  readonly group: number;
  notified: number;
  readonly processor: Processor;
  readonly ctx: ProcessorContext;
  readonly timers: ProcessorTimers | undefined;
}

/** Pushes a record into a compiled node; `from` is the parent node it comes from (undefined: the task, into a source). */
type NodeInput = (r: StreamRecord, from: string | undefined) => void;

/** What a task's processor graph is built from, and what it reads and writes while running. */
export interface GraphParts {
  readonly env: Pick<TaskEnvironment, 'applicationId' | 'topology' | 'storage' | 'clock' | 'auditor'>;
  readonly subTopology: SubTopology;
  readonly taskId: string;
  readonly partition: number;
  readonly counters: TaskCounters;
  readonly cursor: TaskCursor;
  readonly watermarks: TaskWatermarks;
  /** Watermark group of each node: the inputs upstream of it. */
  readonly groupOf: ReadonlyMap<string, number>;
  /** Writes a record that reached a sink. */
  readonly emit: (sink: SinkNode, r: StreamRecord) => void;
  /** Traces a window result operator `operator` emitted (when the run is traced). */
  readonly traceWindow?: ((operator: string, start: number, end: number, key: unknown) => void) | undefined;
}

/**
 * A task's sub-topology compiled: one function per source stream that
 * pushes a record depth-first through the processors below it, the
 * processors' contexts and stores, and the clocks of the processors that
 * react to time.
 */
export class ProcessorGraph {
  /** Processors told when stream time or their watermark advances (window operators closing windows), in topology order. */
  readonly #clocks: NodeClock[] = [];
  readonly #parts: GraphParts;
  readonly #entries = new Map<string, (r: StreamRecord) => void>();
  readonly #stores = new Map<string, CommittableStore<unknown, unknown>>();
  readonly #orderedStores = new Map<string, CommittableOrderedStore>();

  constructor(parts: GraphParts) {
    this.#parts = parts;
    const { env, subTopology } = parts;
    const backend = env.storage.stateBackend(env.applicationId, parts.taskId);
    for (const name of subTopology.stores) {
      if (isTimerStore(name)) continue;
      const def = env.topology.stores.get(name);
      if (def === undefined) throw new Error(`store ${name} is used but not declared`);
      if (def.ordered) this.#orderedStores.set(name, def.kind === 'lmdb' ? new LmdbOrderedStore(name, backend) : new InMemoryOrderedStore(name, backend));
      else this.#stores.set(name, def.kind === 'lmdb' ? new LmdbKeyValueStore(def, backend) : new InMemoryKeyValueStore(def, backend));
    }
    // One map for every source: a node reached from several sources (below a merge) is built, and its processor created, once.
    const built = new Map<string, NodeInput>();
    for (const source of subTopology.sources) {
      const input = this.#compile(source.name, built);
      this.#entries.set(source.stream, (r) => input(r, undefined));
    }
    // Built children first (post-order); reversed, upstream operators come first, so the results a
    // window fires when the clock moves reach the windows below it before those react to the same move.
    this.#clocks.reverse();
  }

  /** The function that pushes a record of source stream `stream` through the graph. */
  entry(stream: string): (r: StreamRecord) => void {
    return this.#entries.get(stream)!;
  }

  /** The state writes of every store since the last call. */
  drainWrites(): StateWrite[] {
    return [...this.#stores.values(), ...this.#orderedStores.values()].flatMap((s) => s.drainWrites());
  }

  /** Stream time moved: each node clock is told, upstream first; on a stream-time clock (`fireTimers`) its event-time timers fire too. */
  onStreamTime(trigger: StreamRecord, fireTimers: boolean): void {
    const cursor = this.#parts.cursor;
    for (const c of this.#clocks) {
      this.#inNode(c.node, () => c.processor.onStreamTime?.(cursor.streamTime, trigger, c.ctx));
      if (fireTimers) this.#fireEventTimers(c, eventClockNow('stream-time', cursor.streamTime, NO_WATERMARK));
    }
  }

  /** The watermarks moved: each node clock whose input watermark advanced is told, upstream first, and (`fireTimers`) fires its event-time timers. */
  onWatermarks(trigger: StreamRecord, fireTimers: boolean): void {
    const cursor = this.#parts.cursor;
    for (const c of this.#clocks) {
      const w = this.#parts.watermarks.groupWatermark(c.group);
      if (w <= c.notified) continue;
      c.notified = w;
      this.#inNode(c.node, () => c.processor.onWatermark?.(w, trigger, c.ctx));
      if (fireTimers) this.#fireEventTimers(c, eventClockNow('watermark', cursor.streamTime, w));
    }
  }

  /** Fires the node's event-time timers due at event time `now` (`isTimerDue`), in time order. */
  #fireEventTimers(c: NodeClock, now: number): void {
    if (c.timers === undefined) return;
    for (let t = c.timers.takeDue('event-time', now); t !== undefined; t = c.timers.takeDue('event-time', now)) {
      const timer = t;
      this.#inNode(c.node, () => c.processor.onTimer!(timer, c.ctx));
    }
  }

  /** Processing-time timers fire by the wall clock: each firing is a nondeterministic decision. */
  fireProcessingTimers(now: number): void {
    const { env, taskId, partition, cursor } = this.#parts;
    for (const c of this.#clocks) {
      if (c.timers === undefined) continue;
      for (let t = c.timers.takeDue('processing-time', now); t !== undefined; t = c.timers.takeDue('processing-time', now)) {
        const timer = t;
        const where = cursor.current ?? { stream: '', partition, offset: -1 };
        env.auditor.record('nondeterministic:processing-time', taskId, where, `${c.node}: processing-time timer ${timer.time}${timer.name ? ` (${timer.name})` : ''} fired at wall-clock ${now}`);
        try {
          this.#inNode(c.node, () => c.processor.onTimer!(timer, c.ctx));
        } catch (e) {
          throw e instanceof ProcessingError ? e : new ProcessingError(c.node, where, e);
        }
      }
    }
  }

  #inNode(node: string, fn: () => void): void {
    const cursor = this.#parts.cursor;
    const outer = cursor.currentNode;
    cursor.currentNode = node;
    fn();
    cursor.currentNode = outer;
  }

  /**
   * Builds the function that pushes a record into node `name` and, depth-first, everything below it.
   * Each call names the parent the record comes from, so that a node with two parents (a join) can
   * tell its inputs apart (`ctx.parentNode`).
   */
  #compile(name: string, built: Map<string, NodeInput>): NodeInput {
    const existing = built.get(name);
    if (existing !== undefined) return existing;
    const { env, cursor } = this.#parts;
    const node = env.topology.nodes.get(name);
    if (node === undefined) throw new Error(`topology: node ${name} is referenced but not defined`);
    let fn: NodeInput;
    if (node.kind === 'sink') {
      fn = (r) => this.#parts.emit(node, r);
    } else {
      const children = node.children.map((c) => [c, this.#compile(c, built)] as const);
      const toAll = (r: StreamRecord): void => {
        for (const [, child] of children) child(r, node.name);
      };
      if (node.kind === 'source') fn = toAll;
      else {
        const processor = node.create();
        const byName = new Map(children);
        const group = this.#parts.groupOf.get(node.name)!;
        const timers = processor.onTimer === undefined ? undefined : this.#timersOf(node.name);
        // The parent of the record being processed; undefined outside process() (clock hooks, timers).
        let parent: string | undefined;
        const ctx = this.#contextFor(node.name, node.stores, group, timers, () => parent, (r, child) => {
          if (child === undefined) return toAll(r);
          const target = byName.get(child);
          if (target === undefined) throw new Error(`processor ${node.name} forwarded to ${child}, which is not one of its children`);
          target(r, node.name);
        });
        processor.init?.(ctx);
        if (processor.onStreamTime !== undefined || processor.onWatermark !== undefined || timers !== undefined) {
          this.#clocks.push({ node: node.name, group, notified: this.#parts.watermarks.groupWatermark(group), processor, ctx, timers });
        }
        fn = (r, from) => {
          const outer = cursor.currentNode;
          const outerParent = parent;
          cursor.currentNode = node.name;
          parent = from;
          processor.process(r, ctx);
          parent = outerParent;
          cursor.currentNode = outer;
        };
      }
    }
    built.set(name, fn);
    return fn;
  }

  /** A processor's timers live in a store of their own, committed with the task's state, so they survive crashes exactly once. */
  #timersOf(node: string): ProcessorTimers {
    const name = timerStoreName(node);
    const store = new InMemoryOrderedStore(name, this.#parts.env.storage.stateBackend(this.#parts.env.applicationId, this.#parts.taskId));
    this.#orderedStores.set(name, store);
    return new ProcessorTimers(store, node);
  }

  #contextFor(
    node: string,
    stores: readonly string[],
    group: number,
    timers: ProcessorTimers | undefined,
    parentNode: () => string | undefined,
    forward: (r: StreamRecord, child?: string) => void,
  ): ProcessorContext {
    const { env, taskId, partition, cursor, counters } = this.#parts;
    const streamTime = (): number => cursor.streamTime;
    const watermark = (): number => this.#parts.watermarks.groupWatermark(group);
    const noTimers = (domain: TimerDomain) => (): never => {
      throw new Error(`processor ${node} registered ${domain === 'event-time' ? 'an' : 'a'} ${domain} timer but has no onTimer() to fire it`);
    };
    const store = (name: string): CommittableStore<unknown, unknown> | undefined => (stores.includes(name) ? this.#stores.get(name) : undefined);
    const readWallClock = (): number => {
      const where = cursor.current ?? { stream: '', partition, offset: -1 };
      env.auditor.record('nondeterministic:wall-clock', taskId, where, `processor ${node} read the wall clock`);
      return env.clock.now();
    };
    return {
      taskId,
      partition,
      get streamTime() {
        return streamTime();
      },
      get watermark() {
        return watermark();
      },
      get parentNode() {
        return parentNode();
      },
      timers: timers ?? {
        registerEventTimeTimer: noTimers('event-time'),
        deleteEventTimeTimer: noTimers('event-time'),
        registerProcessingTimeTimer: noTimers('processing-time'),
        deleteProcessingTimeTimer: noTimers('processing-time'),
      },
      forward: forward as ProcessorContext['forward'],
      getStore<K, V>(name: string): KeyValueStore<K, V> {
        const s = store(name);
        if (s === undefined) throw new Error(`processor ${node} has no store ${name} (declare it on the processor)`);
        return s as unknown as KeyValueStore<K, V>;
      },
      wallClockTime: readWallClock,
      getOrderedStore: (name: string): OrderedStore => {
        const s = stores.includes(name) ? this.#orderedStores.get(name) : undefined;
        if (s === undefined) throw new Error(`processor ${node} has no ordered store ${name}`);
        return s;
      },
      reportLate: (record, detail, lateFor) => this.#reportLate(node, record, detail, lateFor),
      reportDropped: (record, reason) => {
        counters.dropped++;
        env.auditor.record('dropped', taskId, record, `${node}: ${reason}`);
      },
      countOutOfOrderTableUpdate: () => {
        counters.outOfOrderTableUpdates++;
      },
      auditJoin: (kind, record, detail) => env.auditor.record(kind, taskId, record, `${node}: ${detail}`),
      reportWindowFired: (start, end, timestamp, key) => {
        publish('windowFired', (): WindowFiredMessage => ({ applicationId: env.applicationId, taskId, node, start, end, timestamp }));
        this.#parts.traceWindow?.(node, start, end, key);
      },
    };
  }

  /** Late records are data: each is counted and audited with its position. */
  #reportLate(node: string, record: StreamRecord, detail: string, lateFor: 'record' | 'window'): void {
    const { counters, cursor } = this.#parts;
    const byNode = counters.lateByNode.get(node) ?? { records: 0, windows: 0 };
    counters.lateByNode.set(node, byNode);
    if (lateFor === 'record') {
      counters.lateRecords++;
      byNode.records++;
      if (record === cursor.current) cursor.lateInCurrent = true;
    } else {
      counters.lateWindows++;
      byNode.windows++;
    }
    const { env, taskId } = this.#parts;
    publish('recordLate', (): RecordLateMessage => ({ applicationId: env.applicationId, taskId, node, stream: record.stream, partition: record.partition, offset: record.offset, timestamp: record.timestamp, lateFor, detail }));
    this.#parts.env.auditor.record(lateFor === 'record' ? 'late-record' : 'late-window', this.#parts.taskId, record, `${node}: ${detail}`);
  }
}

/**
 * The inputs (source indices) upstream of each processor and sink of a
 * sub-topology: an operator's watermark is the minimum over exactly those,
 * so a branch fed by one source does not wait for another.
 */
export function upstreamInputs(sub: SubTopology, topology: Topology): Map<string, number[]> {
  const reached = new Map<string, Set<number>>();
  const visit = (node: TopologyNode, source: number): void => {
    for (const name of node.children) {
      let set = reached.get(name);
      if (set === undefined) reached.set(name, (set = new Set()));
      if (set.has(source)) continue;
      set.add(source);
      visit(topology.nodes.get(name)!, source);
    }
  };
  sub.sources.forEach((source, index) => visit(source, index));
  return new Map([...reached].map(([name, set]) => [name, [...set].sort((a, b) => a - b)]));
}
