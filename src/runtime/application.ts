import { serveObservability } from './observe-server.ts';
import { RecentLate, observeRun, type ObservedRun, type RunObservation } from './observation.ts';
import { publish, type TaskMessage } from './diagnostics.ts';
import { systemClock, type Clock } from '../time/clock.ts';
import { nextGeneration } from '../time/producer-watermarks.ts';
import type { Log, TaskStorage } from './log.ts';
import { Auditor } from './audit.ts';
import { withApplicationId, type SubTopology, type Topology } from './topology.ts';
import type { StoreDefinition } from '../state/key-value-store.ts';
import { StreamTask, type TaskEnvironment } from './task.ts';
import { checkStartPosition, startOffset, type StartPosition } from './start-position.ts';
import { planRun, type RunPlan } from './run-plan.ts';
import type { RunOptions } from './run-options.ts';
import { buildSummary, type RunSummary } from './run-summary.ts';
import { RunLoop, type StartedRun } from './run-loop.ts';
import { runInGroup } from './group-run.ts';
import { keyValueView, versionedView, type ReadOnlyKeyValueStore } from './store-views.ts';
import type { ReadOnlyVersionedStore } from '../state/versioned-store.ts';

/**
 * What {@link Application.store} returns: a key-value store's committed
 * entries (`kind: 'key-value'`), or a versioned table's committed versions
 * (`kind: 'versioned'`).
 */
export type QueryableStore<K, V> =
  | (ReadOnlyKeyValueStore<K, V> & {
      /** A key-value store (a table's rows, with their timestamps, or a processor's store). */
      readonly kind: 'key-value';
    })
  | (ReadOnlyVersionedStore<K, V> & {
      /** A versioned table's store. */
      readonly kind: 'versioned';
    });

// The run's types and parts live in their own files; they stay importable from here.
export type { RunMode, RunOptions, Progress } from './run-options.ts';
export type { StartPosition };
export type { RunSummary } from './run-summary.ts';
export type { RunPlan } from './run-plan.ts';
export { RunLoop, type StartedRun } from './run-loop.ts';


/**
 * What the test driver, a consumer group's run and the tests reach inside
 * an application: not part of the public API (no entry point exports it).
 */
export interface ApplicationInternals {
  /** The tasks of the current (or last) run. */
  readonly tasks: readonly StreamTask[];
  /** Creates the tasks of a run without running the loop: the test driver steps it synchronously on virtual time. */
  start(options: RunOptions, plan?: RunPlan): StartedRun;
  /** What a run needs from the log before its tasks exist (see {@link planRun}). */
  plan(options: Pick<RunOptions, 'instance' | 'deadLetterStream'>): RunPlan;
}

let internalsOf: (app: Application) => ApplicationInternals;

/** The internals of `app`: for tidemark's own layers and tests only. */
export function applicationInternals(app: Application): ApplicationInternals {
  return internalsOf(app);
}

/**
 * A topology bound to an application id and a log: the unit that runs,
 * commits and restarts. Tasks of all sub-topologies run in this process,
 * in one loop; each commit writes every task's outputs, state, positions
 * and clocks in one transaction of the log's storage, so a crash resumes
 * from the last commit and the output equals that of a run that never
 * stopped. Running again resumes where the last run committed.
 *
 * @example
 * const log = await EmbeddedLog.open({ dataDir: './data' });
 * const app = new Application(builder.build(), { applicationId: 'counts', log });
 * const summary = await app.run({ mode: 'catch-up' });
 * console.log(summary.processed, summary.outputs); // records processed, records written per stream
 */
export class Application {
  /** The id the application's state, positions, internal streams and producer identity are kept under. */
  readonly applicationId: string;
  /** The topology this application runs (bound to its id). */
  readonly topology: Topology;
  readonly #log: Log & TaskStorage;
  #tasks: StreamTask[] = [];
  /** Tasks this run held and handed over to another instance: their counters still count in the summary. */
  #handedOver: StreamTask[] = [];
  #takenOver = 0;
  /** What {@link observe} reads of the current (or last) run. */
  #observed: (ObservedRun & { readonly clock: Clock }) | undefined;

  static {
    internalsOf = (app) => ({
      get tasks() {
        return app.#tasks;
      },
      start: (options, plan) => app.#start(options, plan),
      plan: (options) => app.#plan(options),
    });
  }

  /**
   * @param topology What {@link StreamsBuilder.build} returned.
   * @param options `applicationId`: names everything the application keeps; `log`: where it reads, writes and commits (an {@link EmbeddedLog}, a {@link MemoryLog}, a `KafkaLog`).
   */
  constructor(topology: Topology, options: { applicationId: string; log: Log & TaskStorage }) {
    this.applicationId = options.applicationId;
    this.topology = withApplicationId(topology, options.applicationId);
    this.#log = options.log;
  }

  /**
   * Runs the topology: in `catch-up` mode up to the end offsets seen at
   * start, then stops; in `real-time` mode until `signal` aborts. Either
   * way it also stops after `maxRecords` records, and commits before it
   * resolves. The summary says what happened: counts, audited decisions,
   * stream times and watermarks (see {@link RunSummary}).
   *
   * @example
   * const controller = new AbortController();
   * process.once('SIGINT', () => controller.abort());
   * await app.run({ mode: 'real-time', signal: controller.signal });
   */
  async run(options: RunOptions): Promise<RunSummary> {
    if (options.http === undefined) return this.#run(options);
    const server = await serveObservability(options.http, this.topology, () => this.observe(), this.applicationId);
    options.http.onListening?.(server.url);
    try {
      return await this.#run(options);
    } finally {
      await server.close();
    }
  }

  async #run(options: RunOptions): Promise<RunSummary> {
    if (options.group !== undefined) return runInGroup({ applicationId: this.applicationId, log: this.#log, plan: (o) => this.#plan(o), start: (o, p) => this.#start(o, p) }, options, options.group);
    await this.#log.prepare?.(this.#plan(options));
    const run = this.#start(options);
    if (options.mode === 'catch-up') {
      for (const t of this.#tasks) t.startCatchUp('external');
      // A sub-topology reading an internal stream starts once its writers are done, so
      // the internal stream's end is known and its producers' shares merge deterministically.
      for (const stage of run.stages) {
        const internal = stage.flatMap((t) => t.subTopology.sources.filter((s) => s.internal).map((s) => s.stream));
        if (internal.length > 0) await this.#log.refreshEnds?.(internal);
        for (const t of stage) t.startCatchUp('internal');
        if (!(await run.loop.runUntil(stage, () => stage.every((t) => t.isCaughtUp())))) break;
        // The next stage stops at the end offsets of the internal streams this stage wrote:
        // commit first, or its last outputs (since the last interval commit) would be left out.
        await run.loop.commit();
      }
    } else {
      // A task that a group run left `leaving` runs here now: its consumers need not wait for it any more.
      for (const t of this.#tasks) t.announceMove('arrived');
      await run.loop.runUntil(this.#tasks, () => false);
    }
    await run.loop.stop();
    run.end();
    return run.summary();
  }

  /**
   * The current (or last) run's progress as a plain value: per task its
   * stream time, watermark and event-time lag, per input partition its lag,
   * watermark and what holds it back, per operator its watermark and late
   * counts, the recent late records and the audited decisions by kind.
   * Undefined before the first run. What `tidemark run --http` serves as
   * `/progress` and as metrics.
   *
   * @example
   * const running = app.run({ mode: 'real-time', signal });
   * setInterval(() => {
   *   const o = app.observe();
   *   for (const t of o?.tasks ?? []) console.log(t.id, t.watermark, t.eventTimeLagMs);
   * }, 1000);
   */
  observe(): RunObservation | undefined {
    const o = this.#observed;
    return o === undefined ? undefined : observeRun(o, o.clock.now());
  }

  /** `tidemark:task`: tasks that start or stop running in this process. */
  #announce(event: TaskMessage['event'], tasks: readonly StreamTask[]): void {
    for (const t of tasks) publish('task', (): TaskMessage => ({ applicationId: this.applicationId, taskId: t.id, event }));
  }

  /**
   * Reads a store of this application while it runs (or after): a
   * key-value store's `get`, `range` and `all`, or a versioned table's `get`
   * (the latest value), `getAsOf(key, t)`, and `range` and `all` (latest, or
   * as of a time); `tidemark query` reads the same from another process.
   * Reads see the **committed** state only: what the last commit of each
   * task wrote, together with its outputs and input positions — never a
   * write of a record whose commit has not happened yet (that write may
   * still be rolled back by a crash).
   * The stores of the tasks of the current (or last) run are read; before
   * any run, those of the tasks this instance would run. Window and session
   * stores cannot be read this way.
   *
   * @example
   * const app = new Application(builder.build(), { applicationId: 'prices', log });
   * const running = app.run({ mode: 'real-time', signal });
   * const prices = app.store<string, number>('prices');
   * if (prices.kind === 'versioned') console.log(prices.get('apple'), prices.getAsOf('apple', Date.parse('2026-01-01')));
   */
  store<K = unknown, V = unknown>(name: string): QueryableStore<K, V> {
    const def = this.topology.stores.get(name) as StoreDefinition<K, V> | undefined;
    if (def === undefined) throw new Error(`application ${this.applicationId} has no store ${name} (stores: ${[...this.topology.stores.keys()].sort().join(', ') || 'none'})`);
    const taskIds = this.#tasks.length > 0 ? this.#tasks.filter((t) => t.subTopology.stores.includes(name)).map((t) => t.id) : this.#plan({}).tasks.filter((t) => t.stores.includes(name)).map((t) => t.taskId);
    const backends = taskIds.map((id) => this.#log.stateBackend(this.applicationId, id));
    if (def.versioned !== undefined) return tagged(versionedView(def, backends), 'versioned');
    if (def.ordered) throw new Error(`store ${name} is a window or session store: only key-value stores and versioned tables can be read with app.store`);
    return tagged(keyValueView(def, backends), 'key-value');
  }

  /** Creates the tasks of a run without running the loop (see {@link ApplicationInternals.start}). */
  #start(options: RunOptions, plan: RunPlan = this.#plan(options)): StartedRun {
    this.#checkStartPosition(options.from ?? 'earliest', plan);
    const clock = options.clock ?? systemClock;
    const recentLate = new RecentLate();
    const auditor = new Auditor(
      clock,
      (e) => {
        recentLate.note(e);
        options.onAudit?.(e);
      },
      this.applicationId,
    );
    const env = this.#environment(options, clock, auditor, this.#generation(plan, clock));
    const stages = this.#createTasks(plan, env);
    this.#tasks = stages.flat();
    this.#handedOver = [];
    this.#takenOver = 0;
    const loop = new RunLoop(this.#log, this.#tasks, options, clock, this.applicationId);
    this.#announce('assigned', this.#tasks);
    const tasks = (): readonly StreamTask[] => this.#tasks;
    this.#observed = {
      applicationId: this.applicationId,
      mode: options.mode,
      running: true,
      startedAt: clock.now(),
      get tasks() {
        return tasks();
      },
      auditor,
      loop,
      recentLate,
      clock,
    };
    const setTasks = (tasks: StreamTask[]): void => {
      this.#tasks = tasks.sort((a, b) => a.subTopology.id - b.subTopology.id || a.partition - b.partition);
      loop.setTasks(this.#tasks);
    };
    return {
      stages,
      loop,
      summary: () => buildSummary({ mode: options.mode, auditor, commits: loop.commits, subTopologies: plan.subTopologies, tasks: this.#tasks, handedOver: this.#handedOver, takenOver: this.#takenOver }),
      takeOver: (tasks) => {
        this.#takenOver += tasks.length;
        const sub = (id: number): SubTopology => plan.subTopologies.find((s) => s.id === id)!;
        const taken = tasks.map((t) => new StreamTask(env, sub(t.subTopology), t.partition, (s) => plan.writers.get(s) ?? []));
        this.#announce('assigned', taken);
        setTasks([...this.#tasks, ...taken]);
      },
      handOver: (taskIds) => {
        const handed = this.#tasks.filter((t) => taskIds.includes(t.id));
        this.#announce('revoked', handed);
        this.#handedOver.push(...handed);
        setTasks(this.#tasks.filter((t) => !taskIds.includes(t.id)));
      },
      end: () => {
        this.#announce('revoked', this.#tasks);
        // The last observation stays readable, its tasks frozen as they ended.
        if (this.#observed !== undefined) this.#observed = { ...this.#observed, running: false, tasks: [...this.#tasks] };
      },
    };
  }

  /** This run's generation: later than every run its tasks' checkpoints remember. */
  #generation(plan: RunPlan, clock: Clock): number {
    let last: number | undefined;
    for (const t of plan.tasks) {
      const g = this.#log.readCheckpoint(this.applicationId, t.taskId)?.generation;
      if (g !== undefined && (last === undefined || g > last)) last = g;
    }
    return nextGeneration(clock.now(), last);
  }

  #environment(options: RunOptions, clock: Clock, auditor: Auditor, generation: number): TaskEnvironment {
    const from = options.from ?? 'earliest';
    return {
      applicationId: this.applicationId,
      generation,
      topology: this.topology,
      log: this.#log,
      storage: this.#log,
      clock,
      auditor,
      maxIdleMs: options.mode === 'catch-up' ? Infinity : (options.maxIdleMs ?? 500),
      fetchSize: options.fetchSize ?? 500,
      maxRecordBytes: options.maxRecordBytes ?? 1024 * 1024,
      badInput: options.badInput ?? 'dead-letter',
      deadLetterStream: options.deadLetterStream ?? `${this.applicationId}.dead-letter`,
      startOffset: (stream, partition) => startOffset(from, this.#log, stream, partition),
      producerPending: (producer, stream, partition) => this.#tasks.some((t) => t.producerId === producer && t.hasPending(stream, partition)),
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    };
  }

  /**
   * What a run needs from the log before its tasks exist: the streams it
   * writes (created when missing) and the tasks this instance runs, with
   * their stores. A log whose metadata and state live elsewhere (a broker)
   * prepares them asynchronously from it; the embedded log needs nothing.
   */
  #plan(options: Pick<RunOptions, 'instance' | 'deadLetterStream'>): RunPlan {
    return planRun(this.topology, this.applicationId, this.#log, options);
  }

  /** The streams `from` names must be ones the topology reads, with partitions they have (offsets are checked when used). */
  #checkStartPosition(from: StartPosition, plan: RunPlan): void {
    const sources = new Map<string, number>();
    const planned = new Map(plan.streams.map((s) => [s.stream, s.partitions]));
    for (const source of plan.subTopologies.flatMap((sub) => sub.sources)) {
      sources.set(source.stream, this.#log.partitionCount(source.stream) ?? planned.get(source.stream) ?? 0);
    }
    const shown = [...new Set(plan.subTopologies.flatMap((sub) => sub.sources.filter((s) => !s.internal).map((s) => s.stream)))].sort();
    checkStartPosition(from, sources, shown);
  }

  /** Creates the streams a run writes and this instance's tasks, grouped in data-flow stages. */
  #createTasks(plan: RunPlan, env: TaskEnvironment): StreamTask[][] {
    for (const { stream, partitions } of plan.streams) if (this.#log.partitionCount(stream) === undefined) this.#log.ensureStream(stream, partitions);
    return plan.subTopologies.map((sub) =>
      plan.tasks.filter((t) => t.subTopology === sub.id).map((t) => new StreamTask(env, sub, t.partition, (s) => plan.writers.get(s) ?? [])),
    );
  }
}

/** Adds the kind to a view made for this call (a property of its own, so its getters stay live). */
function tagged<T extends object, Kind extends string>(view: T, kind: Kind): T & { readonly kind: Kind } {
  return Object.defineProperty(view, 'kind', { value: kind, enumerable: true }) as T & { readonly kind: Kind };
}
