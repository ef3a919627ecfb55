import type { StreamRecord } from '../records/record.ts';

/**
 * The records of one input partition (or, for an internal stream written by
 * several producer tasks, of one producer's share of a partition) that were
 * fetched but not yet processed, in offset order.
 *
 * A buffer is never reordered: the scheduler only ever takes its head.
 */
export class PartitionBuffer {
  readonly stream: string;
  readonly partition: number;
  /** Declaration order of the source this partition belongs to: the first tie-breaker after timestamp. */
  readonly sourceIndex: number;
  /** The producer task whose records this buffer holds, for internal streams; '' otherwise. */
  readonly producer: string;
  #records: StreamRecord[] = [];
  #head = 0;
  /**
   * True once nothing more can arrive for this buffer in this run (catch-up:
   * the end offset seen at start was reached). A buffer at its end is never
   * waited for.
   */
  atEnd = false;
  /**
   * Records known to be in the log but not yet fetched into this buffer's
   * partition (the lag). While it is above 0 an empty buffer is waited for
   * without counting as idle: the data exists, it just has not arrived.
   */
  unfetched = 0;
  /**
   * True while the producer task of this share is moving between members
   * of a group: it wrote that it is leaving one, and its new owner has not
   * written yet. Its records are on their way, so an empty buffer is waited
   * for, however long, and never passed over as idle.
   */
  writerMoving = false;

  constructor(stream: string, partition: number, sourceIndex: number, producer = '') {
    this.stream = stream;
    this.partition = partition;
    this.sourceIndex = sourceIndex;
    this.producer = producer;
  }

  get size(): number {
    return this.#records.length - this.#head;
  }

  isEmpty(): boolean {
    return this.#head >= this.#records.length;
  }

  head(): StreamRecord | undefined {
    return this.#records[this.#head];
  }

  push(record: StreamRecord): void {
    this.#records.push(record);
  }

  /** Removes and returns the head. */
  take(): StreamRecord {
    const r = this.#records[this.#head];
    if (r === undefined) throw new Error(`PartitionBuffer ${this.stream}/${this.partition}: take() on an empty buffer`);
    this.#head++;
    // Compact now and then so a long-running buffer does not keep processed records alive.
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
    return r;
  }

  /** Whether this buffer may still receive records: empty, not at its end. */
  mayStillHaveData(): boolean {
    return this.isEmpty() && !this.atEnd;
  }
}
