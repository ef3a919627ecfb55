import type { LogRecord } from '../time/record.ts';
import { NO_WATERMARK } from '../time/watermark.ts';
import type { WatermarkReport } from '../time/producer-watermarks.ts';
import type { AppendRecord, Log } from './log.ts';
import { PRODUCER_HEADER } from './headers.ts';
import { watermarkRecord } from './watermark-record.ts';

/** Who a producer is: one task of a producing application that has `tasks` tasks in all. */
export interface ProducerIdentity {
  readonly application: string;
  readonly task: string;
  /** How many tasks (processes) of this application write the same streams; consumers wait for all of them (default 1). */
  readonly tasks?: number;
}

/**
 * A producer at the edge of a tidemark pipeline (A0 and A1 in the source
 * notes' diagram): it writes data records tagged with its identity, and
 * watermark records that tell consumers in watermark mode how far its
 * event time has gone (DESIGN 4.10). It is the one place where a wall clock
 * may become a watermark — and since the watermark is then a record in the
 * log, a replay sees exactly what the live run saw.
 *
 * @example
 * const a0 = new StreamProducer(log, { application: 'A', task: 'A0', tasks: 2 });
 * await a0.send([{ stream: 'a', partition: 0, key: bytes('X'), value: bytes('1'), eventTime: 1 }]);
 * await a0.emitWatermark('a', 1); // W(1) into every partition of `a`
 * await a0.stop('a');             // a clean stop: consumers no longer wait for A0
 */
export class StreamProducer {
  readonly #log: Log;
  readonly #identity: Required<ProducerIdentity>;
  readonly #emitted = new Map<string, number>();

  constructor(log: Log, identity: ProducerIdentity) {
    const tasks = identity.tasks ?? 1;
    if (identity.application === '' || identity.application.includes('/')) throw new Error(`producer application "${identity.application}" must be non-empty and without "/"`);
    if (!Number.isSafeInteger(tasks) || tasks < 1) throw new RangeError(`producer ${identity.application}/${identity.task}: tasks must be a positive integer, got ${tasks}`);
    this.#log = log;
    this.#identity = { ...identity, tasks };
  }

  /** `application/task`, the value of the `tidemark.producer` header on everything it writes. */
  get id(): string {
    return `${this.#identity.application}/${this.#identity.task}`;
  }

  /** Appends data records, tagged with this producer. */
  send(records: readonly AppendRecord[]): Promise<LogRecord[]> {
    return this.#log.append(records.map((r) => ({ ...r, headers: { ...r.headers, [PRODUCER_HEADER]: this.id } })));
  }

  /**
   * Writes W(`watermark`) into every partition of `stream`: this producer
   * will write no more records with a timestamp at or below it there. A
   * watermark below one already emitted is refused: it would take back a
   * promise consumers may have acted on. A producer that owns some
   * partitions only (each written by `tasks` producers) passes them.
   */
  emitWatermark(stream: string, watermark: number, partitions?: readonly number[]): Promise<LogRecord[]> {
    if (!Number.isSafeInteger(watermark)) throw new RangeError(`watermark for ${stream}: must be an integer, got ${watermark}`);
    const last = this.#emitted.get(stream) ?? NO_WATERMARK;
    if (watermark < last) throw new RangeError(`watermark for ${stream}: ${watermark} is below ${last}, which ${this.id} already emitted`);
    this.#emitted.set(stream, watermark);
    return this.#writeReport(stream, watermark, false, partitions);
  }

  /** A clean stop: consumers of `stream` no longer wait for this producer, until it writes again. */
  stop(stream: string, partitions?: readonly number[]): Promise<LogRecord[]> {
    return this.#writeReport(stream, this.#emitted.get(stream) ?? NO_WATERMARK, true, partitions);
  }

  #writeReport(stream: string, watermark: number, stopped: boolean, only: readonly number[] | undefined): Promise<LogRecord[]> {
    const partitions = this.#log.partitionCount(stream);
    if (partitions === undefined) throw new Error(`cannot write a watermark to stream ${stream}: no such stream`);
    const bad = only?.find((p) => !Number.isInteger(p) || p < 0 || p >= partitions);
    if (bad !== undefined) throw new RangeError(`cannot write a watermark to ${stream}/${bad}: the stream has partitions 0..${partitions - 1}`);
    const report: WatermarkReport = { ...this.#identity, watermark, stopped };
    return this.#log.append((only ?? [...Array(partitions).keys()]).map((p) => watermarkRecord(stream, p, report)));
  }
}
