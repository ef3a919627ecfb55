import type { LogRecord, StreamRecord } from '../records/record.ts';
import { DeserializationError } from '../records/serde.ts';
import { oneLine } from '../records/one-line.ts';
import { resolveTimestamp } from '../time/invalid-timestamp-policy.ts';
import type { WatermarkReport } from '../time/producer-watermarks.ts';
import type { TaskWatermarks } from './task-watermarks.ts';
import { readWatermarkRecord } from './watermark-record.ts';
import type { InputFailure } from './input-failure.ts';
import { PRODUCER_HEADER } from './headers.ts';
import type { TaskEnvironment } from './task-environment.ts';
import type { TaskInput, TaskInputs } from './task-inputs.ts';
import { advancePartitionTime } from '../time/stream-time.ts';
import type { PartitionBuffer } from '../scheduling/partition-buffer.ts';

/** A buffered record; `partitionTimeBefore` is its partition's time before it, to checkpoint partition time at any offset. */
export type BufferedRecord = StreamRecord & {
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
 * Admission: turns a fetched raw record into a buffered one — a watermark
 * record, or data deserialized and timestamped — or into its failure (too
 * large, undeserializable, without a usable timestamp), which keeps its
 * place among its partition's records.
 */
export class TaskAdmission {
  readonly #env: Pick<TaskEnvironment, 'badInput' | 'maxRecordBytes'>;
  readonly #inputs: TaskInputs;
  readonly #watermarks: TaskWatermarks;

  constructor(env: Pick<TaskEnvironment, 'badInput' | 'maxRecordBytes'>, inputs: TaskInputs, watermarks: TaskWatermarks) {
    this.#env = env;
    this.#inputs = inputs;
    this.#watermarks = watermarks;
  }

  /** Deserializes and timestamps a fetched record, and queues it (or its failure) in its buffer. */
  admit(input: TaskInput, index: number, raw: LogRecord, ingestTime: number): void {
    const writer = raw.headers[PRODUCER_HEADER];
    const producer = input.source.internal ? (writer ?? '') : '';
    if (raw.offset < (input.skipBelow.get(producer) ?? 0)) return;
    this.#watermarks.onFetched(index, writer, ingestTime);
    // Whatever a moving writer writes next says it runs again (a move record may say it leaves again).
    if (input.moving.size > 0) this.#inputs.noteWriter(input, producer);
    const buf = this.#inputs.bufferFor(input, producer);
    const partitionTimeBefore = input.partitionTime;
    if (raw.control === 'watermark') {
      // Sources with a generator make their own watermarks: the stream's watermark records are not theirs to read,
      // but an internal stream's ends of catch-up are for every reader of it.
      const readsWatermarks = input.source.watermarks.kind === 'from-stream';
      if (!readsWatermarks && !input.source.internal) return;
      let report: WatermarkReport;
      try {
        report = readWatermarkRecord(raw);
      } catch (e) {
        return readsWatermarks ? this.#failed(buf, input, raw, ingestTime, errorMessage(e), 'value') : undefined;
      }
      // An end of catch-up or a move moves no watermark: it ends its producer's share (in the group catch-up
      // it belongs to), or says the producer is moving between members.
      if (report.endOfCatchUp !== undefined) return this.#inputs.endShare(input, producer, raw.offset, report.endOfCatchUp);
      if (report.move !== undefined) return this.#inputs.noteWriter(input, producer, report.move);
      if (!readsWatermarks) return;
      const control: BufferedRecord = { stream: raw.stream, partition: raw.partition, offset: raw.offset, key: null, value: null, headers: raw.headers, eventTime: raw.eventTime, brokerTime: raw.brokerTime, ingestTime, timestamp: report.watermark, partitionTimeBefore, report };
      buf.push(control);
      return;
    }
    const size = recordBytes(raw);
    if (size > this.#env.maxRecordBytes) return this.#failed(buf, input, raw, ingestTime, `record too large: ${size} bytes of key, value and headers, the limit is ${this.#env.maxRecordBytes}`, largestPart(raw, size));
    let key: unknown;
    let value: unknown;
    try {
      key = input.source.keySerde.deserialize(raw.key);
    } catch (e) {
      return this.#failed(buf, input, raw, ingestTime, `key: ${errorMessage(e)}`, fieldOf('key', e));
    }
    try {
      value = input.source.valueSerde.deserialize(raw.value);
    } catch (e) {
      return this.#failed(buf, input, raw, ingestTime, `value: ${errorMessage(e)}`, fieldOf('value', e));
    }
    const extractor = input.source.extractor;
    const candidate = extractor.extract({ key, value, eventTime: raw.eventTime, brokerTime: raw.brokerTime, ingestTime });
    const resolution = resolveTimestamp(candidate, input.source.onInvalidTimestamp, raw.brokerTime, input.partitionTime);
    if (resolution.kind === 'fail') return this.#failed(buf, input, raw, ingestTime, `${extractor.name}: ${resolution.reason}`, extractor.field, true);
    if (resolution.kind === 'skip') return this.#failed(buf, input, raw, ingestTime, `${extractor.name}: ${resolution.reason}`, extractor.field, false);
    const timestamp = resolution.timestamp;
    input.partitionTime = advancePartitionTime(input.partitionTime, timestamp);
    const fallback: BufferedRecord['fallback'] =
      resolution.kind === 'fallback'
        ? { kind: `fallback:${resolution.used}`, detail: `${extractor.name}: ${resolution.reason}; used ${resolution.used} ${timestamp}` }
        : undefined;
    const record: BufferedRecord = { stream: raw.stream, partition: raw.partition, offset: raw.offset, key, value, headers: raw.headers, eventTime: raw.eventTime, brokerTime: raw.brokerTime, ingestTime, timestamp, partitionTimeBefore, fallback, producer: writer };
    buf.push(record);
  }

  /** Queues the failure of `raw` in its place (a method, not a closure made for every record: few fail). The reason may quote the input's bytes (a deserializer's message does): it stays one line. */
  #failed(buf: PartitionBuffer, input: TaskInput, raw: LogRecord, ingestTime: number, error: string, field: string, fatal = this.#env.badInput === 'fail'): void {
    buf.push(failureRecord(input, raw, ingestTime, { raw, error: oneLine(error), field, fatal }));
  }
}

/** A failure is scheduled at its partition's time, so it keeps its place among its partition's records. */
function failureRecord(input: TaskInput, raw: LogRecord, ingestTime: number, failure: InputFailure): BufferedRecord {
  const t = input.partitionTime;
  return { stream: raw.stream, partition: raw.partition, offset: raw.offset, key: null, value: null, headers: raw.headers, eventTime: raw.eventTime, brokerTime: raw.brokerTime, ingestTime, timestamp: t, failure, partitionTimeBefore: t };
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

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function fieldOf(part: 'key' | 'value', e: unknown): string {
  return e instanceof DeserializationError && e.field !== undefined ? `${part}.${e.field}` : part;
}
