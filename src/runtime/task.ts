import type { EventClock } from '../time/event-clock.ts';
import type { LogRecord, StreamRecord } from '../time/record.ts';
import type { Clock } from '../time/clock.ts';
import { DeserializationError, SerializationError } from '../time/serde.ts';
import { resolveTimestamp } from '../time/invalid-timestamp-policy.ts';
import { advanceStreamTime } from '../time/stream-time.ts';
import { NO_TIMESTAMP } from '../time/timestamp.ts';
import { NO_WATERMARK } from '../time/watermark.ts';
import type { WatermarkHolder, WatermarkReport } from '../time/producer-watermarks.ts';
import { PartitionBuffer } from '../scheduling/partition-buffer.ts';
import { decideNext } from '../scheduling/scheduler.ts';
import type { CommittableStore, KeyValueStore } from '../state/key-value-store.ts';
import { InMemoryKeyValueStore } from '../state/in-memory-store.ts';
import { LmdbKeyValueStore } from '../state/lmdb-store.ts';
import { InMemoryOrderedStore, LmdbOrderedStore, type CommittableOrderedStore, type OrderedStore } from '../state/ordered-store.ts';
import type { AppendRecord, CommitUnit, InputPosition, Log, TaskCheckpoint, TaskStorage } from './log.ts';
import { partitionKey } from './log.ts';
import type { Auditor } from './audit.ts';
import type { SinkNode, SourceNode, SubTopology, Topology, TopologyNode } from './topology.ts';
import type { Processor, ProcessorContext } from './processor.ts';
import { TaskWatermarks } from './task-watermarks.ts';
import { ProcessorTimers, isTimerStore, timerStoreName, type TimerDomain } from './timers.ts';
import { readWatermarkRecord, watermarkRecord, watermarkRecordKind } from './watermark-record.ts';
import type { TraceEvent } from './trace.ts';
import { partitionForKey } from './partitioner.ts';
import { BadInputError, ProcessingError, type InputFailure } from './input-failure.ts';
import { DEAD_LETTER_HEADERS, PRODUCER_HEADER, PRODUCER_LATE_HEADER } from './headers.ts';
import { ShareReads } from './share-reads.ts';

/** What every task of an application shares. */
export interface TaskEnvironment {
  readonly applicationId: string;
  readonly topology: Topology;
  readonly log: Log;
  readonly storage: TaskStorage;
  readonly clock: Clock;
  readonly auditor: Auditor;
  /** Real-time: how long to wait for an empty partition that may still have data; catch-up: Infinity. */
  readonly maxIdleMs: number;
  /** Most records read from a partition at once. */
  readonly fetchSize: number;
  /** Records whose key plus value exceed this many bytes are dead-lettered. */
  readonly maxRecordBytes: number;
  /** Bad input: dead-letter it, or stop the run. */
  readonly badInput: 'dead-letter' | 'fail';
  readonly deadLetterStream: string;
  /** Where a task without a checkpoint starts reading each input partition. */
  readonly startOffset: (stream: string, partition: number) => number;
  /**
   * Whether the task writing as `producer` (`<applicationId>/<taskId>`) runs in this run and still
   * holds records to process, or outputs to commit to `stream`/`partition`.
   */
  readonly producerPending?: (producer: string, stream: string, partition: number) => boolean;
  /** Receives the task's trace: records, clocks and watermark records, for the timeline picture. */
  readonly trace?: (event: TraceEvent) => void;
  /** This run's generation, announced with its tasks in watermark mode (`nextGeneration`). */
  readonly generation: number;
}

/** One input partition of a task, and the buffers its records wait in. */
interface TaskInput {
  readonly source: SourceNode;
  readonly sourceIndex: number;
  readonly stream: string;
  readonly partition: number;
  /** Every share's records below this offset were read (the least of `shares`' positions). */
  fetchPosition: number;
  /** Where each producer's share was read up to: they part when one share's buffer is full (see `ShareReads`). */
  readonly shares: ShareReads;
  /** Catch-up: the end offset this run stops at; undefined while tailing (real-time) or before the stage starts. */
  catchUpEnd: number | undefined;
  readonly buffers: Map<string, PartitionBuffer>;
  /** Records of a producer below this offset were processed before the last commit. */
  readonly skipBelow: Map<string, number>;
  /** Offset after the last processed record of each producer. */
  readonly processedUpTo: Map<string, number>;
  partitionTime: number;
  /** Whether this run already audited its ingest-time extraction. */
  auditedIngestTime: boolean;
  /** Whether this run already reported data without a producer on this `fromStream()` input. */
  reportedNoProducer: boolean;
  /**
   * Catch-up: the largest timestamp processed from other partitions while
   * this one was empty at its end offset. A record appended here later, older
   * than that, is processed after records a single uninterrupted run would
   * have processed after it (see `#noteLateAfterEnd`).
   */
  passedAtEnd: number | undefined;
}

/** A buffered record; `partitionTimeBefore` is its partition's time before it, to checkpoint partition time at any offset. */
type BufferedRecord = StreamRecord & {
  readonly failure?: InputFailure;
  readonly partitionTimeBefore: number;
  /** Set when the timestamp is a fallback: audited when the record is processed, so exactly once. */
  readonly fallback?: { readonly kind: 'fallback:brokerTime' | 'fallback:streamTime'; readonly detail: string };
  /** A watermark record: scheduled at its watermark, it moves the input's watermark when processed. */
  readonly report?: WatermarkReport;
  /** The `tidemark.producer` header: whose data this is, for watermarks read from the stream. */
  readonly producer?: string;
};

/**
 * A processor node's clocks as one task sees them: which watermark group
 * feeds it, the watermark it was last told, its hooks and its timers.
 */
interface NodeClock {
  readonly node: string;
  readonly group: number;
  notified: number;
  readonly processor: Processor;
  readonly ctx: ProcessorContext;
  readonly timers: ProcessorTimers | undefined;
}

/** Counters of one task, read by the runtime's metrics. */
export interface TaskCounters {
  consumed: number;
  processed: number;
  deadLettered: number;
  /** Records late for every window they belong to (DESIGN 4.5). */
  lateRecords: number;
  /** Windows that skipped a record because they were closed. */
  lateWindows: number;
  /** Records a processor could not use (a null key in an aggregation). */
  dropped: number;
  output: Map<string, number>;
  enforcedProcessing: number;
}

/**
 * A task: one partition number of the co-partitioned inputs of a
 * sub-topology (DESIGN glossary). It fetches its partitions into buffers,
 * lets the scheduler pick the next record, advances stream time and pushes
 * the record depth-first through its processors. Outputs, state changes,
 * positions and clocks wait for the next commit, which writes them at once.
 */
export class StreamTask {
  readonly id: string;
  readonly partition: number;
  readonly subTopology: SubTopology;
  /** One-line warnings about this task's inputs, for the run's summary (each is audited too). */
  readonly warnings: string[] = [];
  readonly counters: TaskCounters = { consumed: 0, processed: 0, deadLettered: 0, lateRecords: 0, lateWindows: 0, dropped: 0, output: new Map(), enforcedProcessing: 0 };
  readonly #env: TaskEnvironment;
  readonly #inputs: TaskInput[] = [];
  readonly #allBuffers: PartitionBuffer[] = [];
  readonly #inputOf = new Map<PartitionBuffer, TaskInput>();
  readonly #stores = new Map<string, CommittableStore<unknown, unknown>>();
  readonly #orderedStores = new Map<string, CommittableOrderedStore>();
  /** Processors told when stream time or their watermark advances (window operators closing windows), in topology order. */
  readonly #nodeClocks: NodeClock[] = [];
  readonly #eventClock: EventClock;
  readonly #watermarks: TaskWatermarks;
  /** Watermark group of each node: the inputs upstream of it. */
  readonly #groupOf = new Map<string, number>();
  /** The streams this task writes, with the watermark groups of the sinks writing each. */
  readonly #sinkGroups = new Map<string, number[]>();
  readonly #producersOf: (stream: string) => readonly string[];
  readonly #internalSinks = new Set<string>();
  #traceSeq = 0;
  #lateInCurrent = false;
  readonly #entries = new Map<string, (r: StreamRecord) => void>();
  #streamTime = NO_TIMESTAMP;
  #commits = 0;
  #outputs: AppendRecord[] = [];
  #idleSince: number | undefined;
  readonly #passingOver = new Set<PartitionBuffer>();
  #current: BufferedRecord | undefined;
  /** Partition counts of the streams this task writes; they do not change during a run. */
  readonly #partitionCounts = new Map<string, number>();
  #currentNode = '';

  constructor(env: TaskEnvironment, subTopology: SubTopology, partition: number, producersOf: (stream: string) => readonly string[]) {
    this.#env = env;
    this.subTopology = subTopology;
    this.partition = partition;
    this.id = `${subTopology.id}_${partition}`;
    this.#eventClock = env.topology.eventClock ?? 'stream-time';
    this.#producersOf = producersOf;
    const checkpoint = env.storage.readCheckpoint(env.applicationId, this.id);
    this.#restoreClocks(checkpoint);
    subTopology.sources.forEach((source, sourceIndex) => this.#addInput(source, sourceIndex, checkpoint, producersOf(source.stream)));
    const upstream = upstreamInputs(subTopology, env.topology);
    const groups = [...new Map([...upstream.values()].map((g) => [g.join(','), g])).values()];
    this.#watermarks = new TaskWatermarks(
      this.#inputs.map((i) => ({ key: partitionKey(i.stream, i.partition), strategy: i.source.watermarks })),
      groups,
      checkpoint?.watermarks,
      env.clock.now(),
    );
    for (const [node, inputs] of upstream) this.#groupOf.set(node, this.#watermarks.groupOf(inputs));
    for (const sink of subTopology.sinks) {
      if (sink.internal) this.#internalSinks.add(sink.stream);
      const list = this.#sinkGroups.get(sink.stream) ?? [];
      list.push(this.#groupOf.get(sink.name)!);
      this.#sinkGroups.set(sink.stream, list);
    }
    const backend = env.storage.stateBackend(env.applicationId, this.id);
    for (const name of subTopology.stores) {
      if (isTimerStore(name)) continue;
      const def = env.topology.stores.get(name);
      if (def === undefined) throw new Error(`store ${name} is used but not declared`);
      if (def.ordered) this.#orderedStores.set(name, def.kind === 'lmdb' ? new LmdbOrderedStore(name, backend) : new InMemoryOrderedStore(name, backend));
      else this.#stores.set(name, def.kind === 'lmdb' ? new LmdbKeyValueStore(def, backend) : new InMemoryKeyValueStore(def, backend));
    }
    // One map for every source: a node reached from several sources (below a merge) is built, and its processor created, once.
    const built = new Map<string, (r: StreamRecord) => void>();
    for (const source of subTopology.sources) this.#entries.set(source.stream, this.#compile(source.name, built));
    // Built children first (post-order); reversed, upstream operators come first, so the results a
    // window fires when the clock moves reach the windows below it before those react to the same move.
    this.#nodeClocks.reverse();
    if (this.#eventClock === 'watermark') this.#announce();
  }

  /**
   * Watermark mode: before anything else it writes in this run, the task
   * announces, into every partition of each stream it writes, the run's
   * generation and every task writing that stream. A consumer then knows the
   * producer's task set — a restarted task is waited for, a task rescaled
   * away is not — before any watermark of the run reaches it.
   */
  #announce(): void {
    const prefix = `${this.#env.applicationId}/`;
    for (const stream of this.#sinkGroups.keys()) {
      const members = this.#producersOf(stream).map((id) => id.slice(prefix.length));
      const report: WatermarkReport = { application: this.#env.applicationId, task: this.id, tasks: members.length, watermark: NO_WATERMARK, stopped: false, generation: this.#env.generation, members };
      for (let p = 0; p < this.#partitionsOf(stream); p++) this.#outputs.push(watermarkRecord(stream, p, report));
    }
  }

  /** The largest timestamp processed so far; never decreases. */
  get streamTime(): number {
    return this.#streamTime;
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

  #restoreClocks(checkpoint: TaskCheckpoint | undefined): void {
    if (checkpoint === undefined) return;
    this.#streamTime = checkpoint.streamTime;
    this.#commits = checkpoint.commits;
  }

  #addInput(source: SourceNode, sourceIndex: number, checkpoint: TaskCheckpoint | undefined, producers: readonly string[]): void {
    const key = partitionKey(source.stream, this.partition);
    const saved: InputPosition | undefined = checkpoint?.positions[key];
    const start = saved?.next ?? this.#env.startOffset(source.stream, this.partition);
    const shares = source.internal ? producers : [''];
    const input: TaskInput = {
      source,
      sourceIndex,
      stream: source.stream,
      partition: this.partition,
      fetchPosition: start,
      shares: new ShareReads(start, shares, this.#env.fetchSize),
      catchUpEnd: undefined,
      buffers: new Map(),
      skipBelow: new Map(Object.entries(saved?.producers ?? {})),
      processedUpTo: new Map(),
      partitionTime: checkpoint?.partitionTimes[key] ?? NO_TIMESTAMP,
      auditedIngestTime: false,
      reportedNoProducer: false,
      passedAtEnd: saved?.passedAtEnd,
    };
    for (const p of shares) this.#bufferFor(input, p);
    this.#inputs.push(input);
  }

  #bufferFor(input: TaskInput, producer: string): PartitionBuffer {
    let buf = input.buffers.get(producer);
    if (buf === undefined) {
      buf = new PartitionBuffer(input.stream, input.partition, input.sourceIndex, producer);
      input.buffers.set(producer, buf);
      this.#inputOf.set(buf, input);
      this.#allBuffers.push(buf);
      this.#refreshEnd(input);
    }
    return buf;
  }

  /**
   * Catch-up: stop inputs at the end offsets seen now. The run calls it for
   * the external inputs at its start ("the end offsets seen at start") and for
   * internal inputs when the sub-topologies writing them have finished.
   */
  startCatchUp(inputs: 'external' | 'internal' | 'all' = 'all'): void {
    for (const input of this.#inputs) {
      if (inputs !== 'all' && input.source.internal !== (inputs === 'internal')) continue;
      input.catchUpEnd = this.#env.log.endOffset(input.stream, input.partition);
      this.#refreshEnd(input);
    }
  }

  #refreshEnd(input: TaskInput): void {
    const end = input.catchUpEnd ?? this.#env.log.endOffset(input.stream, input.partition);
    for (const buf of input.buffers.values()) {
      // Per share: one read to its end may still be a fetch away for another share of the partition.
      const at = input.shares.at(buf.producer);
      buf.unfetched = Math.max(0, end - at);
      buf.atEnd = input.catchUpEnd !== undefined && at >= input.catchUpEnd;
    }
  }

  /** Records in the log not yet fetched, per input partition (`stream/partition`). */
  lag(): Map<string, number> {
    const lag = new Map<string, number>();
    for (const input of this.#inputs) {
      const end = input.catchUpEnd ?? this.#env.log.endOffset(input.stream, input.partition);
      let buffered = 0;
      for (const b of input.buffers.values()) buffered += b.size;
      lag.set(partitionKey(input.stream, input.partition), Math.max(0, end - input.fetchPosition) + buffered);
    }
    return lag;
  }

  /** Reads more records into the buffers that run low; returns how many were read. */
  fetch(): number {
    let fetched = 0;
    for (const [index, input] of this.#inputs.entries()) {
      // A partition split by producer (an internal stream) is read from the position of the share
      // that needs records: see ShareReads, which bounds what the buffers hold.
      const read = input.shares.next(input.buffers.values(), input.catchUpEnd ?? Infinity);
      if (read !== undefined) {
        const records = this.#env.log.read(input.stream, input.partition, read.from, read.max);
        const ingestTime = records.length > 0 ? this.#env.clock.now() : 0;
        for (const raw of records) {
          const producer = input.source.internal ? (raw.headers[PRODUCER_HEADER] ?? '') : '';
          if (!input.shares.takes(producer, raw.offset, input.buffers.get(producer)?.size ?? 0)) continue;
          this.#admit(input, index, raw, ingestTime);
          this.counters.consumed++;
        }
        let end = records.length > 0 ? records[records.length - 1]!.offset + 1 : read.from;
        // Offsets without records (a broker's transaction markers) are stepped over, or the end is never reached.
        const skipTo = this.#env.log.skipTo?.(input.stream, input.partition, end);
        if (skipTo !== undefined && skipTo > end) end = input.catchUpEnd === undefined ? skipTo : Math.min(skipTo, input.catchUpEnd);
        input.shares.done(end);
        input.fetchPosition = input.shares.low;
        fetched += records.length;
      }
      this.#refreshEnd(input);
    }
    return fetched;
  }

  /** Deserializes and timestamps a fetched record, and queues it (or its failure) in its buffer. */
  #admit(input: TaskInput, index: number, raw: LogRecord, ingestTime: number): void {
    const writer = raw.headers[PRODUCER_HEADER];
    const producer = input.source.internal ? (writer ?? '') : '';
    if (raw.offset < (input.skipBelow.get(producer) ?? 0)) return;
    this.#watermarks.onFetched(index, writer, ingestTime);
    const buf = this.#bufferFor(input, producer);
    const partitionTimeBefore = input.partitionTime;
    const failed = (error: string, field: string, fatal = this.#env.badInput === 'fail'): void => {
      buf.push(this.#failureRecord(input, raw, ingestTime, { raw, error, field, fatal }));
    };
    if (raw.control === 'watermark') {
      // Sources with a generator make their own watermarks: the stream's watermark records are not theirs to read.
      if (input.source.watermarks.kind !== 'from-stream') return;
      let report: WatermarkReport;
      try {
        report = readWatermarkRecord(raw);
      } catch (e) {
        return failed(errorMessage(e), 'value');
      }
      const control: BufferedRecord = { stream: raw.stream, partition: raw.partition, offset: raw.offset, key: null, value: null, headers: raw.headers, eventTime: raw.eventTime, brokerTime: raw.brokerTime, ingestTime, timestamp: report.watermark, partitionTimeBefore, report };
      buf.push(control);
      return;
    }
    const size = recordBytes(raw);
    if (size > this.#env.maxRecordBytes) return failed(`record too large: ${size} bytes of key, value and headers, the limit is ${this.#env.maxRecordBytes}`, largestPart(raw, size));
    let key: unknown;
    let value: unknown;
    try {
      key = input.source.keySerde.deserialize(raw.key);
    } catch (e) {
      return failed(`key: ${errorMessage(e)}`, fieldOf('key', e));
    }
    try {
      value = input.source.valueSerde.deserialize(raw.value);
    } catch (e) {
      return failed(`value: ${errorMessage(e)}`, fieldOf('value', e));
    }
    const extractor = input.source.extractor;
    const candidate = extractor.extract({ key, value, eventTime: raw.eventTime, brokerTime: raw.brokerTime, ingestTime });
    const resolution = resolveTimestamp(candidate, input.source.onInvalidTimestamp, raw.brokerTime, input.partitionTime);
    if (resolution.kind === 'fail') return failed(`${extractor.name}: ${resolution.reason}`, extractor.field, true);
    if (resolution.kind === 'skip') return failed(`${extractor.name}: ${resolution.reason}`, extractor.field, false);
    const timestamp = resolution.timestamp;
    if (timestamp > input.partitionTime) input.partitionTime = timestamp;
    const fallback: BufferedRecord['fallback'] =
      resolution.kind === 'fallback'
        ? { kind: `fallback:${resolution.used}`, detail: `${extractor.name}: ${resolution.reason}; used ${resolution.used} ${timestamp}` }
        : undefined;
    const record: BufferedRecord = { stream: raw.stream, partition: raw.partition, offset: raw.offset, key, value, headers: raw.headers, eventTime: raw.eventTime, brokerTime: raw.brokerTime, ingestTime, timestamp, partitionTimeBefore, fallback, producer: writer };
    buf.push(record);
  }

  /** A failure is scheduled at its partition's time, so it keeps its place among its partition's records. */
  #failureRecord(input: TaskInput, raw: LogRecord, ingestTime: number, failure: InputFailure): BufferedRecord {
    const t = input.partitionTime;
    return { stream: raw.stream, partition: raw.partition, offset: raw.offset, key: null, value: null, headers: raw.headers, eventTime: raw.eventTime, brokerTime: raw.brokerTime, ingestTime, timestamp: t, failure, partitionTimeBefore: t };
  }

  /**
   * Processes records while the scheduler allows, at most `budget`; returns
   * how many were taken from the buffers. Throws {@link BadInputError} or
   * {@link ProcessingError} when the run must stop.
   */
  process(budget: number): number {
    let done = 0;
    const now = this.#env.clock.now();
    if (this.#env.maxIdleMs !== Infinity) this.#declareIdle(now);
    this.#fireProcessingTimers(now);
    while (done < budget) {
      const decision = decideNext(this.#allBuffers, this.#env.maxIdleMs, this.#idleSince, now);
      if (decision.kind === 'empty') break;
      if (decision.kind === 'wait') {
        this.#idleSince = decision.idle ? (this.#idleSince ?? now) : undefined;
        break;
      }
      if (decision.passedOver.length > 0) {
        // An internal partition's share is not idle while its producer task, in this run, still holds
        // records or uncommitted outputs for it (it may itself be waiting at the tail): its data is on
        // the way, and passing it over would put it after records that follow it in catch-up.
        if (decision.passedOver.some((b) => b.producer !== '' && this.#env.producerPending?.(b.producer, b.stream, b.partition) === true)) break;
        this.#notePassingOver(decision.passedOver, decision.buffer);
      } else {
        this.#idleSince = undefined;
        this.#passingOver.clear();
      }
      const buf = decision.buffer;
      // A record that stops the run stays at the head of its buffer, so the
      // commit the run makes before stopping resumes exactly there.
      const failure = (buf.head() as BufferedRecord).failure;
      if (failure?.fatal) throw new BadInputError(failure);
      const record = buf.take() as BufferedRecord;
      if (record.report === undefined) this.#notePassingAtEnd(buf, record.timestamp);
      this.#processOne(record, buf);
      done++;
    }
    return done;
  }

  /** Whether this task still holds buffered records, or uncommitted outputs to `stream`/`partition`: more output for it may be coming. */
  hasPending(stream: string, partition: number): boolean {
    return this.#allBuffers.some((b) => !b.isEmpty()) || this.#outputs.some((o) => o.stream === stream && o.partition === partition);
  }

  /** Proceeding without partitions that may still have data: the one nondeterministic choice of scheduling (DESIGN 4.2). */
  #notePassingOver(passedOver: readonly PartitionBuffer[], chosen: PartitionBuffer): void {
    this.counters.enforcedProcessing++;
    const next = chosen.head()!;
    for (const buf of passedOver) {
      if (this.#passingOver.has(buf)) continue;
      this.#passingOver.add(buf);
      const input = this.#inputOf.get(buf)!;
      this.#env.auditor.record(
        'nondeterministic:idle-partition',
        this.id,
        { stream: buf.stream, partition: buf.partition, offset: input.fetchPosition },
        `proceeded with ${next.stream}/${next.partition}@${next.offset} (timestamp ${next.timestamp}) without ${buf.stream}/${buf.partition}${buf.producer ? ` from ${buf.producer}` : ''}, empty for ${this.#env.maxIdleMs} ms`,
      );
    }
  }

  /** Catch-up: remembers, for each empty partition at its end offset, how far the others went past it. */
  #notePassingAtEnd(chosen: PartitionBuffer, timestamp: number): void {
    for (const b of this.#allBuffers) {
      if (b === chosen || !b.atEnd || !b.isEmpty()) continue;
      const input = this.#inputOf.get(b)!;
      if (input.passedAtEnd === undefined || timestamp > input.passedAtEnd) input.passedAtEnd = timestamp;
    }
  }

  /**
   * A record on a partition that an earlier catch-up run passed at its end
   * offset: if it is older than what was processed meanwhile, its place in
   * the processing order depended on when that run started — a
   * nondeterministic decision (DESIGN 4.7), noticed here where it matters.
   */
  #noteLateAfterEnd(input: TaskInput, record: StreamRecord): void {
    const passed = input.passedAtEnd;
    input.passedAtEnd = undefined;
    if (passed === undefined || record.timestamp >= passed) return;
    this.#env.auditor.record(
      'nondeterministic:end-of-input',
      this.id,
      record,
      `${input.stream}/${input.partition} was at its end when a catch-up run went on to timestamp ${passed}; this record (timestamp ${record.timestamp}) arrived afterwards, so it follows records a single run would have put after it`,
    );
  }

  #processOne(record: BufferedRecord, buf: PartitionBuffer): void {
    const input = this.#inputOf.get(buf)!;
    input.processedUpTo.set(buf.producer, record.offset + 1);
    // A record and the clock changes it causes share one step of the trace.
    this.#traceSeq++;
    if (record.report !== undefined) return this.#processWatermarkRecord(record, record.report, input);
    if (input.passedAtEnd !== undefined) this.#noteLateAfterEnd(input, record);
    if (record.failure !== undefined) return this.#deadLetter(record.failure);
    if (record.fallback !== undefined) this.#env.auditor.record(record.fallback.kind, this.id, record, record.fallback.detail);
    if (input.source.extractor.readsWallClock && !input.auditedIngestTime) {
      input.auditedIngestTime = true;
      this.#env.auditor.record('nondeterministic:ingest-time', this.id, record, `timestamps of ${input.stream}/${input.partition} come from this consumer's wall clock`);
    }
    this.#noteProducerSide(input, record);
    const before = this.#streamTime;
    this.#streamTime = advanceStreamTime(before, record.timestamp);
    this.#current = record;
    this.#lateInCurrent = false;
    this.counters.processed++;
    try {
      this.#entries.get(record.stream)!(record);
      this.#trace({ kind: 'record', time: record.timestamp, key: traceKey(record.key), late: this.#lateInCurrent, stream: record.stream, partition: record.partition, offset: record.offset });
      // Stream time moved: operators that close windows on it do so now, after the
      // record's own depth-first pass, whether or not the record reached them.
      if (this.#streamTime > before) {
        this.#trace({ kind: 'stream-time', time: this.#streamTime });
        this.#onStreamTimeAdvanced(record);
      }
      // Then the watermark, which a generator computes from the records processed, this one included.
      this.#watermarks.onData(this.#inputs.indexOf(input), record, record.producer, record.ingestTime);
      this.#advanceWatermarks(record);
    } catch (e) {
      if (e instanceof ProcessingError || e instanceof BadInputError) throw e;
      throw new ProcessingError(this.#currentNode, record, e);
    }
  }

  /**
   * What a record says of its producer that the consumer must not keep to
   * itself: data without a producer on a `fromStream()` input (its
   * watermark cannot move on such data: reported once per run, audited and
   * in the summary), and data its producer marked as written below its own
   * watermark (audited).
   */
  #noteProducerSide(input: TaskInput, record: BufferedRecord): void {
    if (input.source.watermarks.kind === 'from-stream' && !input.source.internal && (record.producer === undefined || record.producer === '') && !input.reportedNoProducer) {
      input.reportedNoProducer = true;
      const line = `${input.stream}/${input.partition} has records without a ${PRODUCER_HEADER} header (the first at offset ${record.offset}): Watermarks.fromStream() reads watermarks from tidemark producers only, so this partition's watermark cannot advance on them — give the source a generator (Watermarks.monotonic(), boundedOutOfOrderness(d)) or write it through StreamProducer`;
      this.warnings.push(line);
      this.#env.auditor.record('no-producer', this.id, record, line);
    }
    const late = record.headers[PRODUCER_LATE_HEADER];
    if (late !== undefined) this.#env.auditor.record('producer-late', this.id, record, `${record.producer ?? 'its producer'} wrote it at event time ${record.eventTime}, at or below the watermark ${late} it had written to ${record.stream}/${record.partition}`);
  }

  #processWatermarkRecord(record: BufferedRecord, report: WatermarkReport, input: TaskInput): void {
    this.#current = record;
    if (report.released === true) {
      this.#env.auditor.record('release', this.id, record, `${report.application}/${report.task} released by an operator: no longer waited for on ${record.stream}/${record.partition}`);
    }
    // Stops, announcements and releases mark runs, not event time: the picture shows watermarks only.
    if (watermarkRecordKind(report) === 'watermark') this.#trace({ kind: 'watermark-record', time: report.watermark, producer: `${report.application}/${report.task}`, stream: record.stream, partition: record.partition, offset: record.offset });
    this.#watermarks.onReport(this.#inputs.indexOf(input), report, record.ingestTime);
    try {
      this.#advanceWatermarks(record);
    } catch (e) {
      if (e instanceof ProcessingError || e instanceof BadInputError) throw e;
      throw new ProcessingError(this.#currentNode, record, e);
    }
  }

  #onStreamTimeAdvanced(trigger: StreamRecord): void {
    for (const c of this.#nodeClocks) {
      this.#inNode(c.node, () => c.processor.onStreamTime?.(this.#streamTime, trigger, c.ctx));
      if (this.#eventClock === 'stream-time') this.#fireEventTimers(c, this.#streamTime);
    }
  }

  /**
   * Recomputes the watermarks after a record; operators whose input
   * watermark advanced fire (windows, event-time timers), then the task
   * writes watermark records into its output streams where due.
   */
  #advanceWatermarks(trigger: StreamRecord): void {
    if (!this.#watermarks.update()) return;
    if (this.#env.trace !== undefined) this.#trace({ kind: 'watermark', time: this.watermark });
    for (const c of this.#nodeClocks) {
      const w = this.#watermarks.groupWatermark(c.group);
      if (w <= c.notified) continue;
      c.notified = w;
      this.#inNode(c.node, () => c.processor.onWatermark?.(w, trigger, c.ctx));
      if (this.#eventClock === 'watermark') this.#fireEventTimers(c, w);
    }
    if (this.#eventClock === 'watermark') this.#publishWatermarks(false);
  }

  #fireEventTimers(c: NodeClock, now: number): void {
    if (c.timers === undefined) return;
    for (let t = c.timers.takeDue('event-time', now); t !== undefined; t = c.timers.takeDue('event-time', now)) {
      const timer = t;
      this.#inNode(c.node, () => c.processor.onTimer!(timer, c.ctx));
    }
  }

  /** Processing-time timers fire by the wall clock: each firing is a nondeterministic decision. */
  #fireProcessingTimers(now: number): void {
    for (const c of this.#nodeClocks) {
      if (c.timers === undefined) continue;
      for (let t = c.timers.takeDue('processing-time', now); t !== undefined; t = c.timers.takeDue('processing-time', now)) {
        const timer = t;
        const where = this.#current ?? { stream: '', partition: this.partition, offset: -1 };
        this.#env.auditor.record('nondeterministic:processing-time', this.id, where, `${c.node}: processing-time timer ${timer.time}${timer.name ? ` (${timer.name})` : ''} fired at wall-clock ${now}`);
        try {
          this.#inNode(c.node, () => c.processor.onTimer!(timer, c.ctx));
        } catch (e) {
          throw e instanceof ProcessingError ? e : new ProcessingError(c.node, where, e);
        }
      }
    }
  }

  /** Real-time idleness (DESIGN 4.3, 4.7): inputs silent past their timeout stop holding the watermark back. Audited. */
  #declareIdle(now: number): void {
    const drained = (i: number): boolean => [...this.#inputs[i]!.buffers.values()].every((b) => b.isEmpty());
    const fetchedToEnd = (i: number): boolean => {
      const input = this.#inputs[i]!;
      return input.fetchPosition >= this.#env.log.endOffset(input.stream, input.partition);
    };
    const decisions = this.#watermarks.declareIdle(now, drained, fetchedToEnd);
    if (decisions.length === 0) return;
    for (const d of decisions) {
      const input = this.#inputs[d.input]!;
      this.#env.auditor.record('nondeterministic:idle-watermark', this.id, { stream: input.stream, partition: input.partition, offset: input.fetchPosition }, d.detail);
    }
    const first = this.#inputs[decisions[0]!.input]!;
    const trigger: StreamRecord = { stream: first.stream, partition: first.partition, offset: first.fetchPosition, key: null, value: null, headers: {}, eventTime: null, brokerTime: null, ingestTime: now, timestamp: this.#streamTime };
    this.#current = trigger as BufferedRecord;
    this.#traceSeq++;
    this.#advanceWatermarks(trigger);
  }

  /**
   * Watermark mode: writes a watermark record into every partition of each
   * output stream whose watermark crossed a multiple of the interval since
   * the last one written — or, at a clean stop, one saying the task stops.
   */
  #publishWatermarks(stopping: boolean): void {
    const interval = this.#env.topology.watermarkIntervalMs ?? 1000;
    for (const [stream, groups] of this.#sinkGroups) {
      // No stop inside the application: a stop carries the exact watermark, where a running task
      // writes one only at interval crossings, so a downstream task of this application would fire
      // windows earlier than in an uninterrupted run, and its output would depend on where runs stopped.
      if (stopping && this.#internalSinks.has(stream)) continue;
      const w = Math.min(...groups.map((g) => this.#watermarks.groupWatermark(g)));
      const last = this.#watermarks.published(stream);
      if (!stopping && (w === NO_WATERMARK || Math.floor(w / interval) <= Math.floor(last / interval))) continue;
      const report: WatermarkReport = { application: this.#env.applicationId, task: this.id, tasks: this.#producersOf(stream).length, watermark: w, stopped: stopping };
      for (let p = 0; p < this.#partitionsOf(stream); p++) this.#outputs.push(watermarkRecord(stream, p, report));
      this.#watermarks.markPublished(stream, w);
    }
  }

  /** A clean stop (watermark mode): tells the consumers of every output stream that this task stopped, at its watermark now (its last promise). */
  publishStop(): void {
    if (this.#eventClock === 'watermark') this.#publishWatermarks(true);
  }

  #inNode(node: string, fn: () => void): void {
    const outer = this.#currentNode;
    this.#currentNode = node;
    fn();
    this.#currentNode = outer;
  }

  #trace(event: DistributiveOmit<TraceEvent, 'node' | 'seq'>): void {
    const trace = this.#env.trace;
    if (trace !== undefined) trace({ ...event, node: `${this.#env.applicationId}/${this.id}`, seq: this.#traceSeq } as TraceEvent);
  }

  #deadLetter(failure: InputFailure): void {
    if (failure.fatal) throw new BadInputError(failure);
    const r = failure.raw;
    this.#writeDeadLetter(r, { key: r.key, value: r.value, eventTime: r.eventTime, headers: r.headers }, failure.field, failure.error);
  }

  /**
   * Writes one dead letter: `record` (its bytes, or none) to the
   * dead-letter stream, with headers naming the error, the field at fault
   * and the input position `at`; counted and audited.
   */
  #writeDeadLetter(at: { stream: string; partition: number; offset: number }, record: Pick<AppendRecord, 'key' | 'value' | 'eventTime' | 'headers'>, field: string, error: string): void {
    const dlq = this.#env.deadLetterStream;
    this.#env.auditor.record('dead-letter', this.id, at, `${field}: ${error}`);
    this.counters.deadLettered++;
    this.#outputs.push({
      stream: dlq,
      partition: at.partition % this.#partitionsOf(dlq),
      key: record.key,
      value: record.value,
      eventTime: record.eventTime,
      headers: {
        ...record.headers,
        [DEAD_LETTER_HEADERS.error]: error,
        [DEAD_LETTER_HEADERS.field]: field,
        [DEAD_LETTER_HEADERS.stream]: at.stream,
        [DEAD_LETTER_HEADERS.partition]: String(at.partition),
        [DEAD_LETTER_HEADERS.offset]: String(at.offset),
        [PRODUCER_HEADER]: `${this.#env.applicationId}/${this.id}`,
      },
    });
  }

  /** Builds the function that pushes a record into node `name` and, depth-first, everything below it. */
  #compile(name: string, built: Map<string, (r: StreamRecord) => void>): (r: StreamRecord) => void {
    const existing = built.get(name);
    if (existing !== undefined) return existing;
    const node = this.#env.topology.nodes.get(name);
    if (node === undefined) throw new Error(`topology: node ${name} is referenced but not defined`);
    let fn: (r: StreamRecord) => void;
    if (node.kind === 'sink') {
      fn = (r) => this.#emit(node, r);
    } else {
      const children = node.children.map((c) => [c, this.#compile(c, built)] as const);
      const toAll = (r: StreamRecord): void => {
        for (const [, child] of children) child(r);
      };
      if (node.kind === 'source') fn = toAll;
      else {
        const processor = node.create();
        const byName = new Map(children);
        const group = this.#groupOf.get(node.name)!;
        const timers = processor.onTimer === undefined ? undefined : this.#timersOf(node.name);
        const ctx = this.#contextFor(node.name, node.stores, group, timers, (r, child) => {
          if (child === undefined) return toAll(r);
          const target = byName.get(child);
          if (target === undefined) throw new Error(`processor ${node.name} forwarded to ${child}, which is not one of its children`);
          target(r);
        });
        processor.init?.(ctx);
        if (processor.onStreamTime !== undefined || processor.onWatermark !== undefined || timers !== undefined) {
          this.#nodeClocks.push({ node: node.name, group, notified: this.#watermarks.groupWatermark(group), processor, ctx, timers });
        }
        fn = (r) => {
          const outer = this.#currentNode;
          this.#currentNode = node.name;
          processor.process(r, ctx);
          this.#currentNode = outer;
        };
      }
    }
    built.set(name, fn);
    return fn;
  }

  /** A processor's timers live in a store of their own, committed with the task's state, so they survive crashes exactly once. */
  #timersOf(node: string): ProcessorTimers {
    const name = timerStoreName(node);
    const store = new InMemoryOrderedStore(name, this.#env.storage.stateBackend(this.#env.applicationId, this.id));
    this.#orderedStores.set(name, store);
    return new ProcessorTimers(store, node);
  }

  #contextFor(node: string, stores: readonly string[], group: number, timers: ProcessorTimers | undefined, forward: (r: StreamRecord, child?: string) => void): ProcessorContext {
    const streamTime = (): number => this.#streamTime;
    const watermark = (): number => this.#watermarks.groupWatermark(group);
    const noTimers = (domain: TimerDomain) => (): never => {
      throw new Error(`processor ${node} registered ${domain === 'event-time' ? 'an' : 'a'} ${domain} timer but has no onTimer() to fire it`);
    };
    const store = (name: string): CommittableStore<unknown, unknown> | undefined => (stores.includes(name) ? this.#stores.get(name) : undefined);
    const readWallClock = (): number => {
      const where = this.#current ?? { stream: '', partition: this.partition, offset: -1 };
      this.#env.auditor.record('nondeterministic:wall-clock', this.id, where, `processor ${node} read the wall clock`);
      return this.#env.clock.now();
    };
    return {
      taskId: this.id,
      partition: this.partition,
      get streamTime() {
        return streamTime();
      },
      get watermark() {
        return watermark();
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
        this.counters.dropped++;
        this.#env.auditor.record('dropped', this.id, record, `${node}: ${reason}`);
      },
    };
  }

  /** Late records are data (DESIGN 4.5): each is counted and audited with its position. */
  #reportLate(node: string, record: StreamRecord, detail: string, lateFor: 'record' | 'window'): void {
    if (lateFor === 'record') {
      this.counters.lateRecords++;
      if (record === this.#current) this.#lateInCurrent = true;
    } else this.counters.lateWindows++;
    this.#env.auditor.record(lateFor === 'record' ? 'late-record' : 'late-window', this.id, record, `${node}: ${detail}`);
  }

  #emit(sink: SinkNode, r: StreamRecord): void {
    const partitions = this.#partitionsOf(sink.stream);
    const keyBytes = serializeFor(sink, 'key', r.key);
    const valueBytes = serializeFor(sink, 'value', r.value);
    const partition = sink.partitioner
      ? sink.partitioner(r.key, keyBytes, r.value, partitions)
      : keyBytes === null
        ? this.partition % partitions
        : partitionForKey(keyBytes, partitions);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new Error(`the partitioner of ${sink.name} chose partition ${partition} of ${sink.stream}, which has partitions 0..${partitions - 1}`);
    }
    const headers: Record<string, string> = { ...r.headers, [PRODUCER_HEADER]: `${this.#env.applicationId}/${this.id}` };
    // The mark an upstream producer put on its own late record is not this task's to pass on.
    delete headers[PRODUCER_LATE_HEADER];
    const output: AppendRecord = { stream: sink.stream, partition, key: keyBytes, value: valueBytes, eventTime: r.timestamp, headers };
    const tooLarge = this.#env.log.tooLarge?.(output);
    if (tooLarge !== undefined) return this.#deadLetterOutput(sink, output, tooLarge);
    this.#outputs.push(output);
    this.counters.output.set(sink.stream, (this.counters.output.get(sink.stream) ?? 0) + 1);
  }

  /**
   * An output record the log can never take (over its topic's size limit):
   * written neither there nor, too large as it is, whole to the dead-letter
   * stream, but named there — the input record that made it, its stream,
   * partition, key size and value size, and why — counted and audited, so
   * the run goes on and nothing is lost without a word.
   */
  #deadLetterOutput(sink: SinkNode, output: AppendRecord, reason: string): void {
    const input = this.#current ?? { stream: '', partition: this.partition, offset: -1 };
    const error = `output record to ${output.stream}/${output.partition} (key ${output.key?.byteLength ?? 0} bytes, value ${output.value?.byteLength ?? 0} bytes, from ${sink.name}) cannot be written: ${reason}`;
    this.#writeDeadLetter(input, { key: null, value: null, eventTime: output.eventTime, headers: {} }, 'output', error);
  }

  #partitionsOf(stream: string): number {
    let n = this.#partitionCounts.get(stream);
    if (n === undefined) {
      n = this.#env.log.partitionCount(stream);
      if (n === undefined) throw new Error(`output stream ${stream} does not exist`);
      this.#partitionCounts.set(stream, n);
    }
    return n;
  }

  /** True in catch-up when every input is at its end and every buffer is drained. */
  isCaughtUp(): boolean {
    return this.#allBuffers.every((b) => b.atEnd && b.isEmpty());
  }

  /** Everything to commit since the last commit: outputs, state writes, positions, clocks, audit. */
  prepareCommit(): CommitUnit {
    const stateWrites = [...this.#stores.values(), ...this.#orderedStores.values()].flatMap((s) => s.drainWrites());
    const outputs = this.#outputs;
    this.#outputs = [];
    this.#commits++;
    return {
      applicationId: this.#env.applicationId,
      taskId: this.id,
      outputs,
      stateWrites,
      checkpoint: this.#checkpoint(),
      audit: this.#env.auditor.drain(this.id),
    };
  }

  #checkpoint(): TaskCheckpoint {
    const positions: Record<string, InputPosition> = {};
    const partitionTimes: Record<string, number> = {};
    for (const input of this.#inputs) {
      let next = input.fetchPosition;
      let partitionTime = input.partitionTime;
      for (const b of input.buffers.values()) {
        const h = b.head() as BufferedRecord | undefined;
        if (h !== undefined && h.offset < next) {
          next = h.offset;
          partitionTime = h.partitionTimeBefore;
        }
      }
      const producers: Record<string, number> = {};
      for (const p of new Set([...input.skipBelow.keys(), ...input.processedUpTo.keys()])) {
        const below = Math.max(input.skipBelow.get(p) ?? 0, input.processedUpTo.get(p) ?? 0);
        if (below > next) producers[p] = below;
      }
      const key = partitionKey(input.stream, input.partition);
      positions[key] = {
        next,
        ...(Object.keys(producers).length > 0 ? { producers } : {}),
        ...(input.passedAtEnd !== undefined ? { passedAtEnd: input.passedAtEnd } : {}),
      };
      partitionTimes[key] = partitionTime;
    }
    return { positions, streamTime: this.#streamTime, partitionTimes, commits: this.#commits, watermarks: this.#watermarks.snapshot(), generation: this.#env.generation };
  }
}

/**
 * The inputs (source indices) upstream of each processor and sink of a
 * sub-topology: an operator's watermark is the minimum over exactly those
 * (DESIGN 4.3), so a branch fed by one source does not wait for another.
 */
function upstreamInputs(sub: SubTopology, topology: Topology): Map<string, number[]> {
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

/**
 * A sink's serialized key or value. A value its serde cannot write exactly
 * (`undefined`, a function, `NaN`, …) is an error naming the sink and the
 * part at fault; the run turns it into a {@link ProcessingError} naming the
 * processor and the input record, like any processing failure.
 */
function serializeFor(sink: SinkNode, part: 'key' | 'value', v: unknown): Uint8Array | null {
  try {
    return (part === 'key' ? sink.keySerde : sink.valueSerde).serialize(v);
  } catch (e) {
    const field = e instanceof SerializationError && e.field !== undefined ? `${part}.${e.field}` : part;
    const reason = e instanceof SerializationError && e.field !== undefined ? e.message.slice(e.field.length + 2) : errorMessage(e);
    throw new Error(`writing to ${sink.stream}: ${field}: ${reason}`, { cause: e });
  }
}

/**
 * A record's size as the record-size limit counts it: key, value, and each
 * header's name and value (as UTF-8), so that neither many headers nor one
 * huge header passes the limit unseen.
 */
export function recordBytes(raw: LogRecord): number {
  let size = (raw.key?.byteLength ?? 0) + (raw.value?.byteLength ?? 0);
  for (const name in raw.headers) size += Buffer.byteLength(name) + Buffer.byteLength(raw.headers[name]!);
  return size;
}

/** The part of an oversize record to name: its headers when they outweigh the value. */
function largestPart(raw: LogRecord, size: number): 'headers' | 'value' {
  const value = raw.value?.byteLength ?? 0;
  return size - value - (raw.key?.byteLength ?? 0) > value ? 'headers' : 'value';
}

/** A record key as the trace shows it. */
function traceKey(key: unknown): string | undefined {
  if (key === null || key === undefined) return undefined;
  return typeof key === 'string' ? key : JSON.stringify(key);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function fieldOf(part: 'key' | 'value', e: unknown): string {
  return e instanceof DeserializationError && e.field !== undefined ? `${part}.${e.field}` : part;
}
