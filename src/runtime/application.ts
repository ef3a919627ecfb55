import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../time/clock.ts';
import { nextGeneration, type WatermarkHolder } from '../time/producer-watermarks.ts';
import type { Log, TaskStorage } from './log.ts';
import { Auditor, type AuditKind, type AuditListener } from './audit.ts';
import { subTopologies, withApplicationId, type SubTopology, type Topology } from './topology.ts';
import { StreamTask, type TaskEnvironment } from './task.ts';
import { BadInputError } from './input-failure.ts';
import type { TraceEvent } from './trace.ts';
import { TaskMigratedError, type TaskGroup } from './task-group.ts';
import { checkStartPosition, startOffset, type StartPosition } from './start-position.ts';

/** Catch-up replays up to the end offsets seen at start and stops; real-time tails forever. */
export type RunMode = 'catch-up' | 'real-time';

export type { StartPosition };

export interface RunOptions {
  readonly mode: RunMode;
  /**
   * Where partitions without a committed position start (default
   * `earliest`). A position past the partition's end, or naming a stream or
   * partition the topology does not read, fails the run before it commits.
   */
  readonly from?: StartPosition;
  /** Real-time only: how long an empty partition that may still have data holds its task back (default 500 ms). */
  readonly maxIdleMs?: number;
  /** Most records read from a partition at once (default 500). */
  readonly fetchSize?: number;
  /** How often tasks commit, by the run's clock (default 100 ms). */
  readonly commitIntervalMs?: number;
  /** Real-time: how long to sleep when there is nothing to do (default 10 ms). */
  readonly pollIntervalMs?: number;
  /** Records whose key and value together are larger go to the dead-letter stream (default 1 MiB). */
  readonly maxRecordBytes?: number;
  /** Bad input (undecodable, invalid timestamp under `skip`, too large): dead-letter it (default) or stop. */
  readonly badInput?: 'dead-letter' | 'fail';
  /** Default `<applicationId>.dead-letter`. */
  readonly deadLetterStream?: string;
  /**
   * Stop (after a commit) once this many records were taken from the
   * inputs — watermark records included — to stop and restart at chosen points.
   */
  readonly maxRecords?: number;
  /** Wall clock for ingest time, idleness and commit intervals; the system clock by default. */
  readonly clock?: Clock;
  readonly onAudit?: AuditListener;
  /** Called about every `progressIntervalMs` (default 250) with the run's progress. */
  readonly onProgress?: (progress: Progress) => void;
  readonly progressIntervalMs?: number;
  /** Aborting it stops a run cleanly: the tasks commit and `run` resolves. */
  readonly signal?: AbortSignal;
  /**
   * Run only the tasks of this instance: those whose partition modulo
   * `instances` is `instance`. Several processes, each one instance, share
   * an application on the embedded log (static assignment).
   */
  readonly instance?: { readonly instance: number; readonly instances: number };
  /**
   * Real-time only: share the tasks with the other members of this group
   * (dynamic assignment; excludes `instance`). The run takes over the tasks
   * the group assigns it — restoring their state, positions and clocks
   * before processing — and hands over the ones it loses, committing first.
   */
  readonly group?: TaskGroup;
  /** Receives every task's trace (records, stream time, watermarks, watermark records): see `tidemark timeline`. */
  readonly trace?: (event: TraceEvent) => void;
}

/** Progress anyone can read while a run goes on: lag, stream time per task. */
export interface Progress {
  readonly mode: RunMode;
  /** Records fetched so far. */
  readonly consumed: number;
  readonly processed: number;
  /** Records still to read, in total and per `stream/partition`. */
  readonly lag: number;
  readonly lagByPartition: ReadonlyMap<string, number>;
  /** Stream time per task id. */
  readonly streamTimes: ReadonlyMap<string, number>;
  /** Watermark per task id (the least of its operators'). */
  readonly watermarks: ReadonlyMap<string, number>;
}

/** What a run did, for its summary line and for tests. */
export interface RunSummary {
  readonly mode: RunMode;
  readonly consumed: number;
  readonly processed: number;
  readonly deadLettered: number;
  /** Records late for every window they belong to (dropped or side-output), and windows that skipped a record. */
  readonly lateRecords: number;
  readonly lateWindows: number;
  /** Records a processor could not use and dropped (a null key in an aggregation), each audited. */
  readonly dropped: number;
  readonly outputs: ReadonlyMap<string, number>;
  readonly audit: ReadonlyMap<AuditKind, number>;
  readonly fallbacks: number;
  readonly nondeterministicDecisions: number;
  /** Records processed while passing over an idle partition (real-time). */
  readonly enforcedProcessing: number;
  readonly commits: number;
  readonly streamTimes: ReadonlyMap<string, number>;
  /** Watermark per task id, and per operator (`taskId node`). */
  readonly watermarks: ReadonlyMap<string, number>;
  readonly operatorWatermarks: ReadonlyMap<string, number>;
  /** Output streams of the topology (data, not internal), for fingerprints. */
  readonly outputStreams: readonly string[];
  /** A run in a group: the tasks it took over from other instances (its first ones included), and those it handed over. */
  readonly tasksTakenOver: number;
  readonly tasksHandedOver: number;
  /** One-line warnings about the inputs (e.g. a `fromStream()` partition whose records have no tidemark producer); each is audited too. */
  readonly warnings: readonly string[];
  /**
   * What holds each `fromStream()` input partition's watermark where it is,
   * by `taskId stream/partition`: the producer task at its minimum, `none`
   * when no producer is known yet (undefined: nothing holds it back).
   */
  readonly watermarkHolders: ReadonlyMap<string, WatermarkHolder | 'none' | undefined>;
}

/**
 * A topology bound to an application id and a log: the unit that runs,
 * commits and restarts. Tasks of all sub-topologies run in this process,
 * in one loop; each commit writes every task's outputs, state, positions
 * and clocks in one transaction of the log's storage.
 *
 * @example
 * const log = await EmbeddedLog.open({ dataDir: './data' });
 * const app = new Application(builder.build(), { applicationId: 'counts', log });
 * const summary = await app.run({ mode: 'catch-up' });
 */
export class Application {
  readonly applicationId: string;
  readonly topology: Topology;
  readonly #log: Log & TaskStorage;
  #tasks: StreamTask[] = [];
  /** Tasks this run held and handed over to another instance: their counters still count in the summary. */
  #handedOver: StreamTask[] = [];
  #takenOver = 0;

  constructor(topology: Topology, options: { applicationId: string; log: Log & TaskStorage }) {
    this.applicationId = options.applicationId;
    this.topology = withApplicationId(topology, options.applicationId);
    this.#log = options.log;
  }

  /** The tasks of the current (or last) run. */
  get tasks(): readonly StreamTask[] {
    return this.#tasks;
  }

  /** Runs until caught up (catch-up), or until `signal` aborts (real-time), or `maxRecords`. */
  async run(options: RunOptions): Promise<RunSummary> {
    if (options.group !== undefined) return this.#runInGroup(options, options.group);
    await this.#log.prepare?.(this.plan(options));
    const run = this.start(options);
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
      await run.loop.runUntil(this.#tasks, () => false);
    }
    await run.loop.stop();
    return run.summary();
  }

  /**
   * A run sharing the application's tasks with the other members of
   * `group`: it holds the tasks the group assigns it and follows every
   * rebalance, until `signal` aborts; then it commits and leaves the group,
   * whose other members take its tasks over. It writes no stop records:
   * its tasks go on elsewhere.
   */
  async #runInGroup(options: RunOptions, group: TaskGroup): Promise<RunSummary> {
    if (options.mode !== 'real-time') throw new Error('a run in a group is real-time: catch-up runs the whole application in one process, or a static share of it (`instance`)');
    if (options.instance !== undefined) throw new Error('`group` and `instance` exclude each other: the group assigns the tasks');
    const plan = this.plan(options);
    await this.#log.prepare?.({ ...plan, tasks: [] });
    await group.join(plan);
    try {
      const run = this.start(options, { ...plan, tasks: [] });
      let generation: number | undefined;
      for (;;) {
        const assignment = group.assignment();
        if (assignment.generation !== generation) {
          generation = assignment.generation;
          await this.#followAssignment(run, plan, assignment.tasks);
        }
        try {
          if (!(await run.loop.runUntil(run.loop.tasksOf(), () => group.assignment().generation !== generation))) break;
        } catch (e) {
          if (!(e instanceof TaskMigratedError)) throw e;
          await this.#handOver(run, e.taskIds);
          // Taken over, so the group has moved on: look at its assignment afresh.
          generation = undefined;
        }
      }
      await this.#commitTolerating(run);
      return run.summary();
    } finally {
      await group.leave();
    }
  }

  /**
   * Makes the run hold exactly the `assigned` tasks: commits and hands over
   * the others (the new owner's restore starts from that commit), then
   * takes over the new ones (the log fences their last owner and restores
   * them) and creates them.
   */
  async #followAssignment(run: StartedRun, plan: RunPlan, assigned: ReadonlySet<string>): Promise<void> {
    const held = new Set(run.loop.tasksOf().map((t) => t.id));
    const lost = [...held].filter((id) => !assigned.has(id));
    if (lost.length > 0) {
      await this.#commitTolerating(run);
      await this.#handOver(run, lost);
    }
    const gained = plan.tasks.filter((t) => assigned.has(t.taskId) && !held.has(t.taskId));
    if (gained.length > 0) {
      await this.#log.acquireTasks?.(plan, gained);
      run.takeOver(gained);
    }
  }

  /** Commits every task; tasks another instance has taken over meanwhile are handed over instead (their work is void). */
  async #commitTolerating(run: StartedRun): Promise<void> {
    try {
      await run.loop.commit();
    } catch (e) {
      if (!(e instanceof TaskMigratedError)) throw e;
      await this.#handOver(run, e.taskIds);
    }
  }

  /** Stops running the tasks and lets the log forget them: another instance holds them now. */
  async #handOver(run: StartedRun, taskIds: readonly string[]): Promise<void> {
    run.handOver(taskIds);
    await this.#log.releaseTasks?.(this.applicationId, taskIds);
  }

  /**
   * Creates the tasks of a run without running the loop: for the test
   * driver, which steps it synchronously on virtual time.
   */
  start(options: RunOptions, plan: RunPlan = this.plan(options)): StartedRun {
    this.#checkStartPosition(options.from ?? 'earliest', plan);
    const clock = options.clock ?? systemClock;
    const auditor = new Auditor(clock, options.onAudit);
    const env = this.#environment(options, clock, auditor, this.#generation(plan, clock));
    const stages = this.#createTasks(plan, env);
    this.#tasks = stages.flat();
    this.#handedOver = [];
    this.#takenOver = 0;
    const loop = new RunLoop(this.#log, this.#tasks, options, clock);
    const setTasks = (tasks: StreamTask[]): void => {
      this.#tasks = tasks.sort((a, b) => a.subTopology.id - b.subTopology.id || a.partition - b.partition);
      loop.setTasks(this.#tasks);
    };
    return {
      stages,
      loop,
      summary: () => this.#summary(options.mode, auditor, loop.commits, plan.subTopologies),
      takeOver: (tasks) => {
        this.#takenOver += tasks.length;
        const sub = (id: number): SubTopology => plan.subTopologies.find((s) => s.id === id)!;
        setTasks([...this.#tasks, ...tasks.map((t) => new StreamTask(env, sub(t.subTopology), t.partition, (s) => plan.writers.get(s) ?? []))]);
      },
      handOver: (taskIds) => {
        this.#handedOver.push(...this.#tasks.filter((t) => taskIds.includes(t.id)));
        setTasks(this.#tasks.filter((t) => !taskIds.includes(t.id)));
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
      producerPending: (producer, stream, partition) => this.#tasks.some((t) => `${this.applicationId}/${t.id}` === producer && t.hasPending(stream, partition)),
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    };
  }

  /**
   * What a run needs from the log before its tasks exist: the streams it
   * writes (created when missing) and the tasks this instance runs, with
   * their stores. A log whose metadata and state live elsewhere (a broker)
   * prepares them asynchronously from it; the embedded log needs nothing.
   */
  plan(options: Pick<RunOptions, 'instance' | 'deadLetterStream'>): RunPlan {
    const instance = options.instance;
    if (instance !== undefined && !(Number.isInteger(instance.instances) && instance.instances >= 1 && Number.isInteger(instance.instance) && instance.instance >= 0 && instance.instance < instance.instances)) {
      throw new RangeError(`instance ${instance.instance} of ${instance.instances}: need 0 <= instance < instances`);
    }
    const subs = subTopologies(this.topology);
    const taskCounts = new Map<number, number>();
    const writers = new Map<string, string[]>();
    const create = new Map<string, number>();
    for (const sub of subs) {
      const partitions = this.#coPartitionedCount(sub, create);
      taskCounts.set(sub.id, partitions);
      for (const sink of sub.sinks) {
        if (!create.has(sink.stream)) create.set(sink.stream, this.#log.partitionCount(sink.stream) ?? sink.partitions ?? partitions);
        const ids = writers.get(sink.stream) ?? [];
        for (let p = 0; p < partitions; p++) ids.push(`${this.applicationId}/${sub.id}_${p}`);
        writers.set(sink.stream, ids);
      }
    }
    const deadLetterStream = options.deadLetterStream ?? `${this.applicationId}.dead-letter`;
    if (!create.has(deadLetterStream)) create.set(deadLetterStream, this.#log.partitionCount(deadLetterStream) ?? Math.max(1, ...taskCounts.values()));
    const tasks = subs.flatMap((sub) =>
      [...Array(taskCounts.get(sub.id)!).keys()]
        .filter((p) => instance === undefined || p % instance.instances === instance.instance)
        .map((partition) => ({ taskId: `${sub.id}_${partition}`, subTopology: sub.id, partition, stores: sub.stores, sources: sub.sources.map((s) => s.stream) })),
    );
    return { applicationId: this.applicationId, subTopologies: subs, streams: [...create].map(([stream, partitions]) => ({ stream, partitions })), tasks, writers };
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

  /** The partition count of a sub-topology's co-partitioned sources; `planned` holds the streams the run will create. */
  #coPartitionedCount(sub: SubTopology, planned: ReadonlyMap<string, number>): number {
    let count: number | undefined;
    let first = '';
    for (const source of sub.sources) {
      const n = this.#log.partitionCount(source.stream) ?? planned.get(source.stream);
      if (n === undefined) throw new Error(`input stream ${source.stream} does not exist: create it, or produce to it, before running`);
      if (count === undefined) [count, first] = [n, source.stream];
      else if (n !== count) {
        throw new Error(`streams ${first} (${count} partitions) and ${source.stream} (${n} partitions) feed one sub-topology, so they must be co-partitioned: give them the same partition count, or repartition one`);
      }
    }
    return count ?? 1;
  }

  #summary(mode: RunMode, auditor: Auditor, commits: number, subs: readonly SubTopology[]): RunSummary {
    const outputs = new Map<string, number>();
    let consumed = 0;
    let processed = 0;
    let deadLettered = 0;
    let enforcedProcessing = 0;
    let lateRecords = 0;
    let lateWindows = 0;
    let dropped = 0;
    for (const t of [...this.#tasks, ...this.#handedOver]) {
      consumed += t.counters.consumed;
      processed += t.counters.processed;
      deadLettered += t.counters.deadLettered;
      enforcedProcessing += t.counters.enforcedProcessing;
      lateRecords += t.counters.lateRecords;
      lateWindows += t.counters.lateWindows;
      dropped += t.counters.dropped;
      for (const [s, n] of t.counters.output) outputs.set(s, (outputs.get(s) ?? 0) + n);
    }
    const fallbacks = (auditor.counts.get('fallback:brokerTime') ?? 0) + (auditor.counts.get('fallback:streamTime') ?? 0);
    const outputStreams = [...new Set(subs.flatMap((s) => s.sinks.filter((k) => !k.internal).map((k) => k.stream)))].sort();
    return {
      mode,
      consumed,
      processed,
      deadLettered,
      lateRecords,
      lateWindows,
      dropped,
      outputs,
      audit: new Map(auditor.counts),
      fallbacks,
      nondeterministicDecisions: auditor.nondeterministicDecisions(),
      enforcedProcessing,
      commits,
      streamTimes: new Map(this.#tasks.map((t) => [t.id, t.streamTime])),
      watermarks: new Map(this.#tasks.map((t) => [t.id, t.watermark])),
      operatorWatermarks: new Map(this.#tasks.flatMap((t) => [...t.operatorWatermarks()].map(([node, w]) => [`${t.id} ${node}`, w] as const))),
      outputStreams,
      tasksTakenOver: this.#takenOver,
      tasksHandedOver: this.#handedOver.length,
      warnings: [...this.#tasks, ...this.#handedOver].flatMap((t) => t.warnings),
      watermarkHolders: new Map(this.#tasks.flatMap((t) => t.watermarkHolders().map(({ key, holder }) => [`${t.id} ${key}`, holder] as const))),
    };
  }
}

/** What a run creates and runs: see {@link Application.plan}. */
export interface RunPlan {
  readonly applicationId: string;
  readonly subTopologies: readonly SubTopology[];
  /** Streams the run writes (outputs, internal streams, the dead-letter stream), with their partition counts. */
  readonly streams: readonly { readonly stream: string; readonly partitions: number }[];
  /** The tasks this instance runs. */
  readonly tasks: readonly { readonly taskId: string; readonly subTopology: number; readonly partition: number; readonly stores: readonly string[]; readonly sources: readonly string[] }[];
  /** Producer ids (`application/task`) of every task writing each stream, in all instances. */
  readonly writers: ReadonlyMap<string, readonly string[]>;
}

/** A run's tasks (in data-flow stages), its loop and its summary. */
export interface StartedRun {
  readonly stages: readonly (readonly StreamTask[])[];
  readonly loop: RunLoop;
  summary(): RunSummary;
  /** Creates tasks taken over from another instance (restored by the log first) and runs them from now on. */
  takeOver(tasks: RunPlan['tasks']): void;
  /** Stops running these tasks: another instance holds them now. */
  handOver(taskIds: readonly string[]): void;
}

/** The processing loop: fetch, schedule and process, commit on interval, report progress. */
export class RunLoop {
  commits = 0;
  readonly #storage: TaskStorage;
  #tasks: readonly StreamTask[];
  readonly #options: RunOptions;
  readonly #clock: Clock;
  #lastCommit: number;
  #lastProgress = -Infinity;
  #processed = 0;

  constructor(storage: TaskStorage, tasks: readonly StreamTask[], options: RunOptions, clock: Clock) {
    this.#storage = storage;
    this.#tasks = tasks;
    this.#options = options;
    this.#clock = clock;
    this.#lastCommit = clock.now();
  }

  /** Runs `tasks` until `done()`; false when stopped early (signal or `maxRecords`). */
  async runUntil(tasks: readonly StreamTask[], done: () => boolean): Promise<boolean> {
    const commitInterval = this.#options.commitIntervalMs ?? 100;
    const maxRecords = this.#options.maxRecords ?? Infinity;
    // Yield to the event loop now and then, so signals, timers and other work in the
    // process (and LMDB's renewal of read snapshots) are not held up by a long catch-up.
    let lastYield = performance.now();
    for (;;) {
      if (this.#options.signal?.aborted || this.#processed >= maxRecords) return false;
      let moved: number;
      try {
        moved = this.step(tasks);
      } catch (e) {
        // Bad input under `fail` stops before the bad record: commit the work before it,
        // so a restart resumes at that record. Any other error may have left a record
        // half-processed, so nothing since the last commit is kept.
        if (e instanceof BadInputError) await this.commit();
        throw e;
      }
      const now = this.#clock.now();
      if (now - this.#lastCommit >= commitInterval) await this.commit();
      this.#reportProgress(now, false);
      if (done()) {
        this.#reportProgress(now, true);
        return true;
      }
      if (moved === 0) await sleep(this.#options.mode === 'real-time' ? (this.#options.pollIntervalMs ?? 10) : 1);
      else if (performance.now() - lastYield >= 20) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  }

  /** All tasks of the run. */
  tasksOf(): readonly StreamTask[] {
    return this.#tasks;
  }

  /** The tasks from now on (a group run's tasks change in a rebalance). */
  setTasks(tasks: readonly StreamTask[]): void {
    this.#tasks = tasks;
  }

  /** Fetches and processes what `tasks` can without waiting; returns how many records moved. */
  step(tasks: readonly StreamTask[] = this.#tasks): number {
    const maxRecords = this.#options.maxRecords ?? Infinity;
    let moved = 0;
    for (const t of tasks) moved += t.fetch();
    for (const t of tasks) {
      const n = t.process(Math.min(maxRecords - this.#processed, 10_000));
      this.#processed += n;
      moved += n;
    }
    return moved;
  }

  /**
   * A clean stop: each task tells the consumers of its output streams that
   * it stopped, at its watermark (watermark mode), then everything commits.
   */
  stop(): void | Promise<void> {
    for (const t of this.#tasks) t.publishStop();
    return this.commit();
  }

  /**
   * Commits every task's outputs, state, positions and clocks at once: in
   * one transaction on the embedded log (synchronously), in a transaction
   * per task on a broker (the promise resolves when all are committed).
   */
  commit(): void | Promise<void> {
    const done = this.#storage.commit(this.#tasks.map((t) => t.prepareCommit()));
    this.commits++;
    this.#lastCommit = this.#clock.now();
    return done;
  }

  #reportProgress(now: number, force: boolean): void {
    const onProgress = this.#options.onProgress;
    if (onProgress === undefined || (!force && now - this.#lastProgress < (this.#options.progressIntervalMs ?? 250))) return;
    this.#lastProgress = now;
    const lagByPartition = new Map<string, number>();
    let consumed = 0;
    for (const t of this.#tasks) {
      consumed += t.counters.consumed;
      for (const [k, v] of t.lag()) lagByPartition.set(k, v);
    }
    let lag = 0;
    for (const v of lagByPartition.values()) lag += v;
    onProgress({
      mode: this.#options.mode,
      consumed,
      processed: this.#processed,
      lag,
      lagByPartition,
      streamTimes: new Map(this.#tasks.map((t) => [t.id, t.streamTime])),
      watermarks: new Map(this.#tasks.map((t) => [t.id, t.watermark])),
    });
  }
}
