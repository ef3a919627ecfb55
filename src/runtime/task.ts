import { publish, type WatermarkAdvancedMessage } from './diagnostics.ts';
import type { EventClock } from '../time/event-clock.ts';
import type { StreamRecord } from '../records/record.ts';
import { advanceStreamTime } from '../time/stream-time.ts';
import { NO_TIMESTAMP } from '../time/timestamp.ts';
import type { WatermarkHolder, WatermarkReport } from '../time/producer-watermarks.ts';
import type { PartitionBuffer } from '../scheduling/partition-buffer.ts';
import { decideNext } from '../scheduling/scheduler.ts';
import type { CommitUnit } from './log.ts';
import { partitionKey } from './log.ts';
import type { SubTopology } from './topology.ts';
import { TaskWatermarks } from './task-watermarks.ts';
import { watermarkRecordKind } from './watermark-record.ts';
import type { TraceEvent } from './trace.ts';
import { BadInputError, ProcessingError } from './input-failure.ts';
import type { TaskCounters, TaskCursor, TaskEnvironment } from './task-environment.ts';
import { TaskInputs, type TaskInput } from './task-inputs.ts';
import { TaskAdmission, type BufferedRecord } from './task-admission.ts';
import { ProcessorGraph, upstreamInputs } from './processor-graph.ts';
import { TaskOutput } from './task-output.ts';
import { InputNotes } from './input-notes.ts';
import { buildCheckpoint, checkedCheckpoint, restoredClocks, restoredInput } from './task-checkpoint.ts';
import { producerIdOf, taskIdOf } from './ids.ts';
import type { GroupCatchUpState } from './group-catch-up.ts';

export type { TaskCounters, TaskEnvironment } from './task-environment.ts';
export { recordBytes } from './task-admission.ts';

/**
 * A task: one partition number of the co-partitioned inputs of a
 * sub-topology. It fetches its partitions into buffers
 * (`TaskInputs`, through `TaskAdmission`), lets the scheduler pick the next
 * record, advances stream time and pushes the record depth-first through
 * its processors (`ProcessorGraph`) to its sinks (`TaskOutput`). Outputs,
 * state changes, positions and clocks wait for the next commit, which
 * writes them at once (`task-checkpoint.ts`).
 */
export class StreamTask {
  readonly id: string;
  /** `application/task`: the producer header on what it writes, and its node in a trace. */
  readonly producerId: string;
  readonly partition: number;
  readonly subTopology: SubTopology;
  /** One-line warnings about this task's inputs, for the run's summary (each is audited too). */
  readonly warnings: string[] = [];
  readonly counters: TaskCounters = { consumed: 0, processed: 0, deadLettered: 0, lateRecords: 0, lateWindows: 0, dropped: 0, outOfOrderTableUpdates: 0, lateByNode: new Map(), output: new Map(), enforcedProcessing: 0 };
  readonly #env: TaskEnvironment;
  readonly #inputs: TaskInputs;
  readonly #admission: TaskAdmission;
  readonly #notes: InputNotes;
  readonly #graph: ProcessorGraph;
  readonly #output: TaskOutput;
  readonly #eventClock: EventClock;
  readonly #watermarks: TaskWatermarks;
  /** Watermark group of each node: the inputs upstream of it. */
  readonly #groupOf = new Map<string, number>();
  readonly #cursor: TaskCursor = { current: undefined, lateInCurrent: false, currentNode: '', streamTime: NO_TIMESTAMP };
  #traceSeq = 0;
  #commits = 0;
  /** The task's state in a group catch-up as its checkpoint had it: resumed if it is the catch-up this run takes part in. */
  readonly #savedCatchUp: GroupCatchUpState | undefined;
  /** The group catch-up this task takes part in, and whether it wrote its end of it. */
  #groupCatchUp: { readonly id: number; done: boolean } | undefined;
  /** Real time: when the task began waiting for a partition that may still have data but has none in the log. */
  #idleSince: number | undefined;

  constructor(env: TaskEnvironment, subTopology: SubTopology, partition: number, producersOf: (stream: string) => readonly string[]) {
    this.#env = env;
    this.subTopology = subTopology;
    this.partition = partition;
    this.id = taskIdOf(subTopology.id, partition);
    this.producerId = producerIdOf(env.applicationId, this.id);
    this.#eventClock = env.topology.eventClock ?? 'stream-time';
    const checkpoint = checkedCheckpoint(env.storage.readCheckpoint(env.applicationId, this.id), env.applicationId, this.id);
    this.#savedCatchUp = checkpoint?.catchUp;
    const clocks = restoredClocks(checkpoint);
    if (clocks !== undefined) {
      this.#cursor.streamTime = clocks.streamTime;
      this.#commits = clocks.commits;
    }
    this.#inputs = new TaskInputs(env, partition);
    subTopology.sources.forEach((source, sourceIndex) => this.#inputs.add(source, sourceIndex, restoredInput(checkpoint, source.stream, partition, env.startOffset), producersOf(source.stream)));
    const upstream = upstreamInputs(subTopology, env.topology);
    const groups = [...new Map([...upstream.values()].map((g) => [g.join(','), g])).values()];
    this.#watermarks = new TaskWatermarks(
      this.#inputs.list.map((i) => ({ key: partitionKey(i.stream, i.partition), strategy: i.source.watermarks })),
      groups,
      checkpoint?.watermarks,
      env.clock.now(),
    );
    for (const [node, inputs] of upstream) this.#groupOf.set(node, this.#watermarks.groupOf(inputs));
    this.#admission = new TaskAdmission(env, this.#inputs, this.#watermarks);
    this.#notes = new InputNotes(env, this.id, this.counters, this.#inputs, this.warnings);
    const shared = { env, taskId: this.id, partition, counters: this.counters, cursor: this.#cursor, watermarks: this.#watermarks, groupOf: this.#groupOf };
    this.#output = new TaskOutput({ ...shared, sinks: subTopology.sinks, producersOf });
    const traceWindow = env.trace === undefined ? undefined : (operator: string, start: number, end: number, key: unknown): void => this.#trace({ kind: 'window', time: start, end, operator, key: traceKey(key) });
    this.#graph = new ProcessorGraph({ ...shared, subTopology, emit: (sink, r) => this.#output.emit(sink, r), traceWindow });
    if (this.#eventClock === 'watermark') this.#output.announce();
  }

  /** The largest timestamp processed so far; never decreases. */
  get streamTime(): number {
    return this.#cursor.streamTime;
  }

  /** The task's watermark: the least of its operators' input watermarks (`NO_WATERMARK` before any). */
  get watermark(): number {
    return this.#watermarks.minimum();
  }

  /** Each processor's and sink's input watermark, by node name. */
  operatorWatermarks(): Map<string, number> {
    return new Map([...this.#groupOf].map(([node, g]) => [node, this.#watermarks.groupWatermark(g)]));
  }

  /** What holds each `fromStream()` input partition's watermark where it is (`none`: no producer known yet). */
  watermarkHolders(): { key: string; holder: WatermarkHolder | 'none' | undefined }[] {
    return this.#watermarks.holders();
  }

  /** Each input partition's watermark (`stream/partition`); undefined: idle, holding nothing back. */
  inputWatermarks(): { key: string; watermark: number | undefined }[] {
    return this.#watermarks.inputs();
  }

  /**
   * Catch-up: stop inputs at the end offsets seen now. The run calls it for
   * the external inputs at its start ("the end offsets seen at start") and for
   * internal inputs when the sub-topologies writing them have finished.
   */
  startCatchUp(inputs: 'external' | 'internal' | 'all' = 'all'): void {
    this.#inputs.startCatchUp(inputs);
  }

  /**
   * Takes part in group catch-up number `id`: resumes this task's state in
   * it from its checkpoint (its ends, its ended producers, whether it is
   * done) where it is that catch-up's, else starts it at the ends seen now.
   */
  startGroupCatchUp(id: number): void {
    const saved = this.#savedCatchUp?.id === id ? this.#savedCatchUp : undefined;
    this.#groupCatchUp = { id, done: saved?.done ?? false };
    this.#inputs.startGroupCatchUp(id, saved);
  }

  /** Whether the task takes part in a group catch-up. */
  get inGroupCatchUp(): boolean {
    return this.#groupCatchUp !== undefined;
  }

  /** Whether the task is done with its group catch-up: its inputs processed to their ends, its ends of catch-up written. */
  get groupCatchUpDone(): boolean {
    return this.#groupCatchUp?.done === true;
  }

  /**
   * Group catch-up: once the task is caught up, writes its end of catch-up
   * into the internal streams it writes (for its next commit) and is done;
   * true when it is done.
   */
  finishGroupCatchUp(): boolean {
    const c = this.#groupCatchUp;
    if (c === undefined) return false;
    if (!c.done && this.isCaughtUp()) {
      this.#output.endCatchUp(c.id);
      c.done = true;
    }
    return c.done;
  }

  /**
   * The run was paused (a rebalance: commits, hand-overs, restores), or a
   * writer's move ended (see `TaskInputs.takeMoveEnded`): an idle wait
   * under way starts again, since nothing was seen of the inputs
   * meanwhile — a pause of the run is not silence of its inputs.
   */
  restartIdleWait(): void {
    this.#idleSince = undefined;
  }

  /** Real time in a group: tells the consumers of this task's internal streams that it is leaving this member, or has arrived at it. */
  announceMove(move: 'leaving' | 'arrived'): void {
    this.#output.announceMove(move);
  }

  /** Records in the log not yet fetched, per input partition (`stream/partition`). */
  lag(): Map<string, number> {
    return this.#inputs.lag();
  }

  /** Reads more records into the buffers that run low; returns how many were read. */
  fetch(): number {
    return this.#inputs.fetch((input, index, raw, ingestTime) => {
      this.#admission.admit(input, index, raw, ingestTime);
      this.counters.consumed++;
    });
  }

  /**
   * Processes records while the scheduler allows, at most `budget`; returns
   * how many were taken from the buffers. Throws {@link BadInputError} or
   * {@link ProcessingError} when the run must stop.
   */
  process(budget: number): number {
    let done = 0;
    const now = this.#env.clock.now();
    if (this.#inputs.takeMoveEnded()) this.restartIdleWait();
    if (this.#env.maxIdleMs !== Infinity) this.#declareIdle(now);
    this.#graph.fireProcessingTimers(now);
    while (done < budget) {
      const decision = decideNext(this.#inputs.buffers, this.#env.maxIdleMs, this.#idleSince, now);
      if (decision.kind === 'empty') break;
      if (decision.kind === 'wait') {
        // The idle wait starts at the first idle wait and lasts until a record is processed with nothing
        // passed over. A wait for a fetch (data in the log, e.g. a buffer of fetch size 1 just emptied
        // while another still holds a record) does not end it: the silent partition stayed silent, and
        // restarting the clock there would wait `maxIdleMs` again after every fetch of a backlog.
        if (decision.idle) this.#idleSince ??= now;
        break;
      }
      if (decision.passedOver.length > 0) {
        // An internal partition's share is not idle while its producer task, in this run, still holds
        // records or uncommitted outputs for it (it may itself be waiting at the tail): its data is on
        // the way, and passing it over would put it after records that follow it in catch-up.
        if (decision.passedOver.some((b) => b.producer !== '' && this.#env.producerPending?.(b.producer, b.stream, b.partition) === true)) break;
        this.#notes.passingOver(decision.passedOver, decision.buffer);
      } else {
        this.#idleSince = undefined;
        this.#notes.notPassingOver();
      }
      const buf = decision.buffer;
      // A record that stops the run stays at the head of its buffer, so the
      // commit the run makes before stopping resumes exactly there.
      const failure = (buf.head() as BufferedRecord).failure;
      if (failure?.fatal) throw new BadInputError(failure);
      const record = buf.take() as BufferedRecord;
      if (record.report === undefined) this.#inputs.notePassingAtEnd(buf, record.timestamp);
      this.#processOne(record, buf);
      done++;
    }
    return done;
  }

  /** Whether this task still holds buffered records, or uncommitted outputs to `stream`/`partition`: more output for it may be coming. */
  hasPending(stream: string, partition: number): boolean {
    return this.#inputs.hasBuffered() || this.#output.hasPending(stream, partition);
  }

  #processOne(record: BufferedRecord, buf: PartitionBuffer): void {
    const input = this.#inputs.inputOf(buf);
    input.processedUpTo.set(buf.producer, record.offset + 1);
    // A record and the clock changes it causes share one step of the trace.
    this.#traceSeq++;
    if (record.report !== undefined) return this.#processWatermarkRecord(record, record.report, input);
    if (input.passedAtEnd !== undefined) this.#notes.lateAfterEnd(input, record);
    if (record.failure !== undefined) {
      this.#notes.failure(input, record.failure);
      return this.#output.deadLetter(record.failure);
    }
    this.#notes.record(input, record);
    const cursor = this.#cursor;
    const before = cursor.streamTime;
    cursor.streamTime = advanceStreamTime(before, record.timestamp);
    cursor.current = record;
    cursor.lateInCurrent = false;
    this.counters.processed++;
    try {
      this.#graph.entry(record.stream)(record);
      // Checked here, not only in #trace: the event (and its key's text) is not built for a run that does not trace.
      if (this.#env.trace !== undefined) this.#trace({ kind: 'record', time: record.timestamp, key: traceKey(record.key), late: cursor.lateInCurrent, stream: record.stream, partition: record.partition, offset: record.offset });
      // Stream time moved: operators that close windows on it do so now, after the
      // record's own depth-first pass, whether or not the record reached them.
      if (cursor.streamTime > before) {
        if (this.#env.trace !== undefined) this.#trace({ kind: 'stream-time', time: cursor.streamTime });
        this.#graph.onStreamTime(record, this.#eventClock === 'stream-time');
      }
      // Then the watermark, which a generator computes from the records processed, this one included.
      this.#watermarks.onData(this.#inputs.list.indexOf(input), record, record.producer, record.ingestTime);
      this.#advanceWatermarks(record);
    } catch (e) {
      if (e instanceof ProcessingError || e instanceof BadInputError) throw e;
      throw new ProcessingError(cursor.currentNode, record, e);
    }
  }

  #processWatermarkRecord(record: BufferedRecord, report: WatermarkReport, input: TaskInput): void {
    this.#cursor.current = record;
    if (report.released === true) {
      this.#env.auditor.record('release', this.id, record, `${producerIdOf(report.application, report.task)} released by an operator: no longer waited for on ${record.stream}/${record.partition}`);
    }
    // Stops, announcements and releases mark runs, not event time: the picture shows watermarks only.
    if (watermarkRecordKind(report) === 'watermark') this.#trace({ kind: 'watermark-record', time: report.watermark, producer: producerIdOf(report.application, report.task), stream: record.stream, partition: record.partition, offset: record.offset });
    this.#watermarks.onReport(this.#inputs.list.indexOf(input), report, record.ingestTime);
    try {
      this.#advanceWatermarks(record);
    } catch (e) {
      if (e instanceof ProcessingError || e instanceof BadInputError) throw e;
      throw new ProcessingError(this.#cursor.currentNode, record, e);
    }
  }

  /**
   * Recomputes the watermarks after a record; operators whose input
   * watermark advanced fire (windows, event-time timers), then the task
   * writes watermark records into its output streams where due.
   */
  #advanceWatermarks(trigger: StreamRecord): void {
    if (!this.#watermarks.update()) return;
    publish('watermarkAdvanced', (): WatermarkAdvancedMessage => ({ applicationId: this.#env.applicationId, taskId: this.id, watermark: this.watermark }));
    if (this.#env.trace !== undefined) this.#trace({ kind: 'watermark', time: this.watermark });
    this.#graph.onWatermarks(trigger, this.#eventClock === 'watermark');
    if (this.#eventClock === 'watermark') this.#output.publishWatermarks(false);
  }

  /** Real-time idleness (docs/watermarks.md, "Idleness"): inputs silent past their timeout stop holding the watermark back. Audited. */
  #declareIdle(now: number): void {
    const decisions = this.#watermarks.declareIdle(now, (i) => this.#inputs.drained(i), (i) => this.#inputs.fetchedToEnd(i));
    if (decisions.length === 0) return;
    for (const d of decisions) {
      const input = this.#inputs.list[d.input]!;
      this.#env.auditor.record('nondeterministic:idle-watermark', this.id, { stream: input.stream, partition: input.partition, offset: input.fetchPosition }, d.detail);
    }
    const first = this.#inputs.list[decisions[0]!.input]!;
    const trigger: StreamRecord = { stream: first.stream, partition: first.partition, offset: first.fetchPosition, key: null, value: null, headers: {}, eventTime: null, brokerTime: null, ingestTime: now, timestamp: this.#cursor.streamTime };
    this.#cursor.current = trigger;
    this.#traceSeq++;
    this.#advanceWatermarks(trigger);
  }

  /** A clean stop (watermark mode): tells the consumers of every output stream that this task stopped, at its watermark now (its last promise). */
  publishStop(): void {
    if (this.#eventClock === 'watermark') this.#output.publishWatermarks(true);
  }

  #trace(event: DistributiveOmit<TraceEvent, 'node' | 'seq'>): void {
    const trace = this.#env.trace;
    if (trace !== undefined) trace({ ...event, node: this.producerId, seq: this.#traceSeq } as TraceEvent);
  }

  /** True in catch-up when every input is at its end and every buffer is drained. */
  isCaughtUp(): boolean {
    return this.#inputs.isCaughtUp();
  }

  /** Everything to commit since the last commit: outputs, state writes, positions, clocks, audit. */
  prepareCommit(): CommitUnit {
    const stateWrites = this.#graph.drainWrites();
    const outputs = this.#output.drain();
    this.#commits++;
    const catchUp = this.#inputs.groupCatchUpState(this.#groupCatchUp?.done ?? false);
    const checkpoint = buildCheckpoint(this.#inputs.list, { streamTime: this.#cursor.streamTime, commits: this.#commits }, this.#watermarks, this.#env.generation, catchUp);
    return {
      applicationId: this.#env.applicationId,
      taskId: this.id,
      outputs,
      stateWrites,
      checkpoint,
      audit: this.#env.auditor.drain(this.id),
    };
  }
}

/** A record key as the trace shows it. */
function traceKey(key: unknown): string | undefined {
  if (key === null || key === undefined) return undefined;
  return typeof key === 'string' ? key : JSON.stringify(key);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
