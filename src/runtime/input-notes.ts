import type { StreamRecord } from '../records/record.ts';
import type { PartitionBuffer } from '../scheduling/partition-buffer.ts';
import { PRODUCER_HEADER, PRODUCER_LATE_HEADER } from './headers.ts';
import { keyFormatMismatch } from '../records/key-format.ts';
import type { InputFailure } from './input-failure.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
import type { TaskCounters, TaskEnvironment } from './task-environment.ts';
import type { BufferedRecord } from './task-admission.ts';
import type { TaskInput, TaskInputs } from './task-inputs.ts';

/**
 * What a task notes about its inputs as it processes them, for the audit
 * (and the run's summary): the nondeterministic decisions of scheduling —
 * passing over an idle partition, a record arriving after a catch-up run
 * passed its partition's end — and what a record says of its timestamp and
 * its producer.
 */
export class InputNotes {
  readonly #env: Pick<TaskEnvironment, 'auditor' | 'maxIdleMs'>;
  readonly #taskId: string;
  readonly #counters: TaskCounters;
  readonly #inputs: TaskInputs;
  readonly #warnings: string[];
  readonly #passingOver = new Set<PartitionBuffer>();

  constructor(env: Pick<TaskEnvironment, 'auditor' | 'maxIdleMs'>, taskId: string, counters: TaskCounters, inputs: TaskInputs, warnings: string[]) {
    this.#env = env;
    this.#taskId = taskId;
    this.#counters = counters;
    this.#inputs = inputs;
    this.#warnings = warnings;
  }

  /** Proceeding without partitions that may still have data: the one nondeterministic choice of scheduling (docs/semantics.md, "Scheduling"). */
  passingOver(passedOver: readonly PartitionBuffer[], chosen: PartitionBuffer): void {
    this.#counters.enforcedProcessing++;
    const next = chosen.head()!;
    for (const buf of passedOver) {
      if (this.#passingOver.has(buf)) continue;
      this.#passingOver.add(buf);
      const input = this.#inputs.inputOf(buf);
      this.#env.auditor.record(
        'nondeterministic:idle-partition',
        this.#taskId,
        { stream: buf.stream, partition: buf.partition, offset: input.fetchPosition },
        `proceeded with ${next.stream}/${next.partition}@${next.offset} (timestamp ${next.timestamp}) without ${buf.stream}/${buf.partition}${buf.producer ? ` from ${buf.producer}` : ''}, empty for ${this.#env.maxIdleMs} ms`,
      );
    }
  }

  /** Scheduling proceeded without passing any partition over: the next passing over is a new decision. */
  notPassingOver(): void {
    if (this.#passingOver.size > 0) this.#passingOver.clear();
  }

  /**
   * A record on a partition that an earlier catch-up run passed at its end
   * offset: if it is older than what was processed meanwhile, its place in
   * the processing order depended on when that run started — a
   * nondeterministic decision (docs/semantics.md, "Determinism and the audit"), noticed here where it matters.
   */
  lateAfterEnd(input: TaskInput, record: StreamRecord): void {
    const passed = input.passedAtEnd;
    input.passedAtEnd = undefined;
    if (passed === undefined || record.timestamp >= passed) return;
    this.#env.auditor.record(
      'nondeterministic:end-of-input',
      this.#taskId,
      record,
      `${input.stream}/${input.partition} was at its end when a catch-up run went on to timestamp ${passed}; this record (timestamp ${record.timestamp}) arrived afterwards, so it follows records a single run would have put after it`,
    );
  }

  /** A data record about to be processed: its fallback timestamp, its wall-clock timestamps, what it says of its producer. */
  record(input: TaskInput, record: BufferedRecord): void {
    if (record.fallback !== undefined) this.#env.auditor.record(record.fallback.kind, this.#taskId, record, record.fallback.detail);
    if (input.source.extractor.readsWallClock && !input.auditedIngestTime) {
      input.auditedIngestTime = true;
      this.#env.auditor.record('nondeterministic:ingest-time', this.#taskId, record, `timestamps of ${input.stream}/${input.partition} come from this consumer's wall clock`);
    }
    this.#producerSide(input, record);
    this.#keyFormat(input, record, record.key, false);
  }

  /** A record that goes to the dead-letter stream: a key its serde could not read may be a key of the other format. */
  failure(input: TaskInput, failure: InputFailure): void {
    if (failure.field !== 'key' || failure.raw.key === null) return;
    let text: string | undefined;
    try {
      text = strictUtf8.decode(failure.raw.key);
    } catch {
      text = undefined;
    }
    this.#keyFormat(input, failure.raw, text, true);
  }

  /**
   * Keys written in one format and read in another (`keyFormatMismatch`):
   * the first such key of each input partition in a run is a warning of
   * the summary, naming stream, partition and offset. Not audited: the
   * committed audit is the same however a run is stopped and resumed, and a
   * note made once per run is not (an unreadable key is audited all the
   * same, as a dead letter).
   */
  #keyFormat(input: TaskInput, at: { stream: string; partition: number; offset: number }, key: unknown, unreadable: boolean): void {
    if (input.reportedKeyFormat || input.source.internal) return;
    const serde = input.source.keySerde.name;
    const mismatch = keyFormatMismatch(serde, key, unreadable);
    if (mismatch === undefined) return;
    input.reportedKeyFormat = true;
    const where = `${at.stream}/${at.partition} offset ${at.offset}`;
    const line =
      mismatch === 'json-read-as-string'
        ? `${where}: key ${key as string} is JSON text (as tidemark produce writes keys by default) but the source reads keys with Serdes.string(), which keeps the quotes: a different key, maybe on another partition — write keys with tidemark produce --key-format string, or read them with Serdes.json()`
        : `${where}: the source reads keys with Serdes.json() (the default) and this key is not JSON (keys written as plain strings, by tidemark produce --key-format string or Kafka's StringSerializer?): such records go to the dead-letter stream — read them with key: Serdes.string()`;
    this.#warnings.push(line);
  }

  /**
   * What a record says of its producer that the consumer must not keep to
   * itself: data without a producer on a `fromStream()` input (its
   * watermark cannot move on such data: reported once per run, audited and
   * in the summary), and data its producer marked as written below its own
   * watermark (audited).
   */
  #producerSide(input: TaskInput, record: BufferedRecord): void {
    if (input.source.watermarks.kind === 'from-stream' && !input.source.internal && (record.producer === undefined || record.producer === '') && !input.reportedNoProducer) {
      input.reportedNoProducer = true;
      const line = `${input.stream}/${input.partition} has records without a ${PRODUCER_HEADER} header (the first at offset ${record.offset}): Watermarks.fromStream() reads watermarks from tidemark producers only, so this partition's watermark cannot advance on them — give the source a generator (Watermarks.monotonic(), boundedOutOfOrderness(d)) or write it through StreamProducer`;
      this.#warnings.push(line);
      this.#env.auditor.record('no-producer', this.#taskId, record, line);
    }
    const late = record.headers[PRODUCER_LATE_HEADER];
    if (late !== undefined) this.#env.auditor.record('producer-late', this.#taskId, record, `${record.producer ?? 'its producer'} wrote it at event time ${record.eventTime}, at or below the watermark ${late} it had written to ${record.stream}/${record.partition}`);
  }
}
