import type { StreamRecord } from '../records/record.ts';
import { SerializationError } from '../records/serde.ts';
import { NO_WATERMARK, combineWatermarks } from '../time/watermark.ts';
import type { WatermarkReport } from '../time/producer-watermarks.ts';
import type { AppendRecord } from './log.ts';
import type { SinkNode } from './topology.ts';
import type { TaskWatermarks } from './task-watermarks.ts';
import { endOfCatchUpRecord, moveRecord, watermarkRecord } from './watermark-record.ts';
import { partitionForKey } from './partitioner.ts';
import { BadInputError, type InputFailure } from './input-failure.ts';
import { DEAD_LETTER_HEADERS, PRODUCER_HEADER, PRODUCER_LATE_HEADER } from './headers.ts';
import type { TaskCounters, TaskCursor, TaskEnvironment } from './task-environment.ts';
import { parseProducerId, producerIdOf } from './ids.ts';

/** What a task's outputs are written with. */
export interface OutputParts {
  readonly env: Pick<TaskEnvironment, 'applicationId' | 'topology' | 'log' | 'auditor' | 'deadLetterStream' | 'generation'>;
  readonly taskId: string;
  readonly partition: number;
  readonly sinks: readonly SinkNode[];
  readonly counters: TaskCounters;
  readonly cursor: TaskCursor;
  readonly watermarks: TaskWatermarks;
  /** Watermark group of each node: the inputs upstream of it. */
  readonly groupOf: ReadonlyMap<string, number>;
  readonly producersOf: (stream: string) => readonly string[];
}

/**
 * A task's outputs until the next commit: records its sinks emit, dead
 * letters, and the watermark records (announcements, watermarks, stops) it
 * writes into its output streams.
 */
export class TaskOutput {
  readonly #parts: OutputParts;
  /** `application/task`: the producer header on everything it writes. */
  readonly #producerId: string;
  #outputs: AppendRecord[] = [];
  /** The streams this task writes, with the watermark groups of the sinks writing each. */
  readonly #sinkGroups = new Map<string, number[]>();
  readonly #internalSinks = new Set<string>();
  /** Partition counts of the streams this task writes; they do not change during a run. */
  readonly #partitionCounts = new Map<string, number>();

  constructor(parts: OutputParts) {
    this.#parts = parts;
    this.#producerId = producerIdOf(parts.env.applicationId, parts.taskId);
    for (const sink of parts.sinks) {
      if (sink.internal) this.#internalSinks.add(sink.stream);
      const list = this.#sinkGroups.get(sink.stream) ?? [];
      list.push(parts.groupOf.get(sink.name)!);
      this.#sinkGroups.set(sink.stream, list);
    }
  }

  /** Everything written since the last call, for the commit. */
  drain(): AppendRecord[] {
    const outputs = this.#outputs;
    this.#outputs = [];
    return outputs;
  }

  /** Whether uncommitted outputs go to `stream`/`partition`. */
  hasPending(stream: string, partition: number): boolean {
    return this.#outputs.some((o) => o.stream === stream && o.partition === partition);
  }

  /**
   * Watermark mode: before anything else it writes in this run, the task
   * announces, into every partition of each stream it writes, the run's
   * generation and every task writing that stream. A consumer then knows the
   * producer's task set — a restarted task is waited for, a task rescaled
   * away is not — before any watermark of the run reaches it.
   */
  announce(): void {
    const { env, taskId } = this.#parts;
    for (const stream of this.#sinkGroups.keys()) {
      const members = this.#parts.producersOf(stream).map((id) => parseProducerId(id).task);
      const report: WatermarkReport = { application: env.applicationId, task: taskId, tasks: members.length, watermark: NO_WATERMARK, stopped: false, generation: env.generation, members };
      for (let p = 0; p < this.#partitionsOf(stream); p++) this.#outputs.push(watermarkRecord(stream, p, report));
    }
  }

  /**
   * Watermark mode: writes a watermark record into every partition of each
   * output stream whose watermark crossed a multiple of the interval since
   * the last one written — or, at a clean stop, one saying the task stops.
   */
  publishWatermarks(stopping: boolean): void {
    const { env, taskId, watermarks } = this.#parts;
    const interval = env.topology.watermarkIntervalMs ?? 1000;
    for (const [stream, groups] of this.#sinkGroups) {
      // No stop inside the application: a stop carries the exact watermark, where a running task
      // writes one only at interval crossings, so a downstream task of this application would fire
      // windows earlier than in an uninterrupted run, and its output would depend on where runs stopped.
      if (stopping && this.#internalSinks.has(stream)) continue;
      // The stream's watermark is the minimum over the operators writing it (none of them idle: they run here).
      const w = combineWatermarks(groups.map((g) => ({ watermark: watermarks.groupWatermark(g), idle: false })))!;
      const last = watermarks.published(stream);
      if (!stopping && (w === NO_WATERMARK || Math.floor(w / interval) <= Math.floor(last / interval))) continue;
      const report: WatermarkReport = { application: env.applicationId, task: taskId, tasks: this.#parts.producersOf(stream).length, watermark: w, stopped: stopping };
      for (let p = 0; p < this.#partitionsOf(stream); p++) this.#outputs.push(watermarkRecord(stream, p, report));
      watermarks.markPublished(stream, w);
    }
  }

  /**
   * Group catch-up number `id`: the task has processed its inputs to their
   * ends, and writes its end of catch-up into every partition of each
   * internal stream it writes, after all it wrote there.
   */
  endCatchUp(id: number): void {
    this.#intoInternalPartitions((stream, p, application, task) => endOfCatchUpRecord(stream, p, application, task, id));
  }

  /**
   * Real time in a group: the task is `leaving` this member (written in
   * its last commit here) or has `arrived` at it (first thing), into every
   * partition of each internal stream it writes, so that its consumers wait
   * for it while it moves rather than pass its share over.
   */
  announceMove(move: 'leaving' | 'arrived'): void {
    this.#intoInternalPartitions((stream, p, application, task) => moveRecord(stream, p, application, task, move));
  }

  /** Writes one control record of this task's, made by `make`, into every partition of each internal stream it writes. */
  #intoInternalPartitions(make: (stream: string, partition: number, application: string, task: string) => AppendRecord): void {
    const { env, taskId } = this.#parts;
    for (const stream of this.#internalSinks) {
      for (let p = 0; p < this.#partitionsOf(stream); p++) this.#outputs.push(make(stream, p, env.applicationId, taskId));
    }
  }

  emit(sink: SinkNode, r: StreamRecord): void {
    const { env, counters } = this.#parts;
    const partitions = this.#partitionsOf(sink.stream);
    const keyBytes = serializeFor(sink, 'key', r.key);
    const valueBytes = serializeFor(sink, 'value', r.value);
    const partition = sink.partitioner
      ? sink.partitioner(r.key, keyBytes, r.value, partitions)
      : keyBytes === null
        ? this.#parts.partition % partitions
        : partitionForKey(keyBytes, partitions);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new Error(`the partitioner of ${sink.name} chose partition ${partition} of ${sink.stream}, which has partitions 0..${partitions - 1}`);
    }
    const headers: Record<string, string> = { ...r.headers, [PRODUCER_HEADER]: this.#producerId };
    // The mark an upstream producer put on its own late record is not this task's to pass on.
    delete headers[PRODUCER_LATE_HEADER];
    const output: AppendRecord = { stream: sink.stream, partition, key: keyBytes, value: valueBytes, eventTime: r.timestamp, headers };
    const tooLarge = env.log.tooLarge?.(output);
    if (tooLarge !== undefined) return this.#deadLetterOutput(sink, output, tooLarge);
    this.#outputs.push(output);
    counters.output.set(sink.stream, (counters.output.get(sink.stream) ?? 0) + 1);
  }

  /** Bad input: a dead letter, or, when it must stop the run, thrown. */
  deadLetter(failure: InputFailure): void {
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
    const { env, taskId } = this.#parts;
    const dlq = env.deadLetterStream;
    env.auditor.record('dead-letter', taskId, at, `${field}: ${error}`);
    this.#parts.counters.deadLettered++;
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
        [PRODUCER_HEADER]: this.#producerId,
      },
    });
  }

  /**
   * An output record the log can never take (over its topic's size limit):
   * written neither there nor, too large as it is, whole to the dead-letter
   * stream, but named there — the input record that made it, its stream,
   * partition, key size and value size, and why — counted and audited, so
   * the run goes on and nothing is lost without a word.
   */
  #deadLetterOutput(sink: SinkNode, output: AppendRecord, reason: string): void {
    const input = this.#parts.cursor.current ?? { stream: '', partition: this.#parts.partition, offset: -1 };
    const error = `output record to ${output.stream}/${output.partition} (key ${output.key?.byteLength ?? 0} bytes, value ${output.value?.byteLength ?? 0} bytes, from ${sink.name}) cannot be written: ${reason}`;
    this.#writeDeadLetter(input, { key: null, value: null, eventTime: output.eventTime, headers: {} }, 'output', error);
  }

  #partitionsOf(stream: string): number {
    let n = this.#partitionCounts.get(stream);
    if (n === undefined) {
      n = this.#parts.env.log.partitionCount(stream);
      if (n === undefined) throw new Error(`output stream ${stream} does not exist`);
      this.#partitionCounts.set(stream, n);
    }
    return n;
  }
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

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
