import type { LogRecord } from '../records/record.ts';
import { NO_WATERMARK } from '../time/watermark.ts';
import { isProducerLate } from '../time/producer-watermarks.ts';
import type { AppendRecord, Log } from './log.ts';
import { PRODUCER_HEADER, PRODUCER_LATE_HEADER } from './headers.ts';
import { readWatermarkRecord, watermarkRecord } from './watermark-record.ts';
import { producerIdOf } from './ids.ts';

/** Who a producer is: one task of a producing application that has `tasks` tasks in all. */
export interface ProducerIdentity {
  /** The producing application (or producer group): non-empty, no `/` in it. */
  readonly application: string;
  /** This producer's task within it (`A0`): no `/` in it, as the producer id `application/task` reads back at its last `/`. */
  readonly task: string;
  /** How many tasks (processes) of this application write the same streams; consumers wait for all of them (default 1). */
  readonly tasks?: number;
}

/** How a {@link StreamProducer} treats late records, and where it learns the watermarks it wrote before. */
export interface ProducerOptions {
  /**
   * A record at or below the watermark this producer already wrote to its
   * partition would be late for every consumer. `reject` (default): `send`
   * throws, naming it, and appends nothing of the call. `write`: it is
   * written with the `tidemark.producer-late` header, and consumers audit it
   * as `producer-late`.
   */
  readonly lateRecords?: 'reject' | 'write';
  /**
   * Also find the watermarks this producer wrote in earlier processes, by
   * reading each partition back from its end (on a log that reads
   * synchronously, as the embedded log does). Default: only those written
   * through this object.
   */
  readonly resume?: boolean;
}

/**
 * A producer at the edge of a tidemark pipeline (a service writing the
 * first stream): it writes data records tagged with its identity, and
 * watermark records that tell consumers in watermark mode how far its
 * event time has gone, so that consumers with `Watermarks.fromStream()`
 * wait for it. It is the one place where a wall clock may become a
 * watermark — and since the watermark is then a record in the
 * log, a replay sees exactly what the live run saw.
 *
 * @example
 * const a0 = new StreamProducer(log, { application: 'A', task: 'A0', tasks: 2 });
 * await a0.send([{ stream: 'a', partition: 0, key: bytes('X'), value: bytes('1'), eventTime: 1 }]);
 * await a0.emitWatermark('a', 1); // W(1) into every partition of `a`
 * await a0.stop('a');             // a clean stop: W(1) stays A0's promise until it runs again
 */
export class StreamProducer {
  readonly #log: Log;
  readonly #identity: Required<ProducerIdentity>;
  readonly #options: ProducerOptions;
  readonly #id: string;
  /** The last watermark written by this producer, per `stream/partition`. */
  readonly #partitionWatermarks = new Map<string, number>();

  /**
   * @param log the log it writes to.
   * @param identity who it is: consumers wait for every task of its application.
   */
  constructor(log: Log, identity: ProducerIdentity, options: ProducerOptions = {}) {
    const tasks = identity.tasks ?? 1;
    if (identity.application === '' || identity.application.includes('/')) throw new Error(`producer application "${identity.application}" must be non-empty and without "/"`);
    // A task with a "/" is refused here: its id would read back as another application's task.
    this.#id = producerIdOf(identity.application, identity.task);
    if (!Number.isSafeInteger(tasks) || tasks < 1) throw new RangeError(`producer ${this.#id}: tasks must be a positive integer, got ${tasks}`);
    this.#log = log;
    this.#identity = { ...identity, tasks };
    this.#options = options;
  }

  /** `application/task`, the value of the `tidemark.producer` header on everything it writes. */
  get id(): string {
    return this.#id;
  }

  /**
   * Appends data records, tagged with this producer. A record whose event
   * time is at or below the watermark this producer wrote to its partition
   * is refused (or, with `lateRecords: 'write'`, written and marked).
   */
  send(records: readonly AppendRecord[]): Promise<LogRecord[]> {
    const tagged: AppendRecord[] = [];
    for (const r of records) {
      const headers: Record<string, string> = { ...r.headers, [PRODUCER_HEADER]: this.id };
      const w = r.eventTime === null ? NO_WATERMARK : this.#watermarkOf(r.stream, r.partition);
      if (isProducerLate(r.eventTime, w)) {
        if (this.#options.lateRecords !== 'write') {
          const why = `${this.id}: a record for ${r.stream}/${r.partition} at event time ${r.eventTime} is at or below the watermark ${w} this producer wrote there, so every consumer would treat it as late; nothing of this call was appended (write it anyway with lateRecords: 'write', marked and audited)`;
          return Promise.reject(new RangeError(why));
        }
        headers[PRODUCER_LATE_HEADER] = String(w);
      }
      tagged.push({ ...r, headers });
    }
    return this.#log.append(tagged);
  }

  /** The watermark this producer last wrote to `stream`/`partition` (`NO_WATERMARK`: none). */
  #watermarkOf(stream: string, partition: number): number {
    const key = `${stream}/${partition}`;
    let w = this.#partitionWatermarks.get(key);
    if (w === undefined) {
      w = this.#options.resume === true ? lastWatermarkOf(this.#log, this.id, stream, partition) : NO_WATERMARK;
      this.#partitionWatermarks.set(key, w);
    }
    return w;
  }

  /**
   * Writes W(`watermark`) into every partition of `stream`: this producer
   * will write no more records with a timestamp at or below it there. A
   * watermark below one already emitted is refused: it would take back a
   * promise consumers may have acted on. A producer that owns some
   * partitions only (each written by `tasks` producers) passes them.
   */
  async emitWatermark(stream: string, watermark: number, partitions?: readonly number[]): Promise<LogRecord[]> {
    if (!Number.isSafeInteger(watermark)) throw new RangeError(`watermark for ${stream}: must be an integer, got ${watermark}`);
    const targets = this.#targets(stream, partitions);
    for (const p of targets) {
      const last = this.#watermarkOf(stream, p);
      if (watermark < last) throw new RangeError(`watermark for ${stream}/${p}: ${watermark} is below ${last}, which ${this.id} already emitted`);
    }
    const written = await this.#log.append(targets.map((p) => watermarkRecord(stream, p, { ...this.#identity, watermark, stopped: false })));
    // Only once written: a failed append promised nothing.
    for (const p of targets) this.#partitionWatermarks.set(`${stream}/${p}`, watermark);
    return written;
  }

  /**
   * A clean stop: tells the consumers of `stream` that this producer is not
   * running, repeating in each partition the watermark it last wrote there,
   * which stays its promise (it may run again). To have consumers stop
   * waiting for a producer that is gone for good, write a release (`tidemark
   * release`), or emit `MAX_WATERMARK` before stopping if it will never
   * write again.
   */
  stop(stream: string, partitions?: readonly number[]): Promise<LogRecord[]> {
    const targets = this.#targets(stream, partitions);
    return this.#log.append(targets.map((p) => watermarkRecord(stream, p, { ...this.#identity, watermark: this.#watermarkOf(stream, p), stopped: true })));
  }

  /** The partitions of `stream` a watermark or stop goes to: `only`, checked, or all. */
  #targets(stream: string, only: readonly number[] | undefined): number[] {
    const partitions = this.#log.partitionCount(stream);
    if (partitions === undefined) throw new Error(`cannot write a watermark to stream ${stream}: no such stream`);
    const bad = only?.find((p) => !Number.isInteger(p) || p < 0 || p >= partitions);
    if (bad !== undefined) throw new RangeError(`cannot write a watermark to ${stream}/${bad}: the stream has partitions 0..${partitions - 1}`);
    return only === undefined ? [...Array(partitions).keys()] : [...only];
  }
}

/**
 * The last watermark `producer` wrote to `stream`/`partition`, read back
 * from the partition's end (`NO_WATERMARK` if it wrote none). Reads in
 * chunks, so a producer that writes watermarks often is found at once.
 */
export function lastWatermarkOf(log: Log, producer: string, stream: string, partition: number): number {
  const chunk = 1000;
  for (let end = log.endOffset(stream, partition); end > 0; end -= chunk) {
    const from = Math.max(0, end - chunk);
    const records = log.read(stream, partition, from, end - from);
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i]!;
      if (r.control !== 'watermark' || r.headers[PRODUCER_HEADER] !== producer) continue;
      const report = readWatermarkRecord(r);
      // Watermarks and stops that promise something; a producer's watermarks never go back, so the newest is the highest.
      if (report.released !== true && report.members === undefined && report.watermark !== NO_WATERMARK) return report.watermark;
    }
  }
  return NO_WATERMARK;
}
