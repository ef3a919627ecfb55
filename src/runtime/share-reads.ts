import type { PartitionBuffer } from '../scheduling/partition-buffer.ts';

/**
 * How many records a producer's share of a partition may hold in its buffer,
 * in fetch sizes, before the reader leaves its further records in the log.
 * Above what the tasks of a stage commit at once into a partition (so that
 * shares written in step are read in one pass), small enough to bound memory.
 */
export const SHARE_CAP_FETCHES = 8;

/** One read of a partition: from which offset, how many records at most. */
export interface ShareRead {
  readonly from: number;
  readonly max: number;
}

/**
 * Where each producer's share of one input partition has been read up to.
 * A partition of an internal stream is written by several producer tasks
 * and merged by timestamp, one buffer per producer (docs/semantics.md, "Scheduling"), so the
 * reader needs the next record of every share at once. The tasks of the
 * stage before may have written the same event time far apart in the
 * partition (one ran ahead in event time): reading on in one pass until
 * the late share's record comes would hold everything in between in
 * memory, a quantity that grows with the input. Instead, a share whose
 * buffer is full (see {@link SHARE_CAP_FETCHES}) keeps its position, its
 * further records are skipped, and they are read again when its buffer
 * runs low. Every share's records still enter its buffer in offset order,
 * exactly once, so what the scheduler sees — and the output — is the same.
 *
 * Shares of a partition read in step share one position, and the reads are
 * the single sequential pass they were; an input with one share (any
 * partition but an internal one) is always read that way.
 */
export class ShareReads {
  readonly #fetchSize: number;
  readonly #cap: number;
  /** Offset each share is read up to: all its records below it are in its buffer or processed. */
  readonly #positions = new Map<string, number>();
  #start: number;
  /** The read under way: its first offset, and the shares whose records are skipped from some offset of it on. */
  #from = 0;
  readonly #left = new Set<string>();

  constructor(start: number, producers: Iterable<string>, fetchSize: number) {
    this.#start = start;
    this.#fetchSize = fetchSize;
    this.#cap = SHARE_CAP_FETCHES * fetchSize;
    for (const p of producers) this.#positions.set(p, start);
  }

  /** Where `producer`'s share is read up to; a share not seen yet starts at the least position. */
  at(producer: string): number {
    return this.#positions.get(producer) ?? this.low;
  }

  /** The least position: every share's records below it were read. */
  get low(): number {
    let low = Infinity;
    for (const p of this.#positions.values()) if (p < low) low = p;
    return low === Infinity ? this.#start : low;
  }

  /**
   * The next read, for the buffers of this partition, below offset `end`:
   * when a buffer is empty, `fetchSize` records from the position of the
   * emptiest (earliest first); otherwise, as long as fewer than `fetchSize`
   * records are buffered in all, the rest from the earliest position.
   * Undefined when nothing needs reading.
   */
  next(buffers: Iterable<PartitionBuffer>, end: number): ShareRead | undefined {
    let from = Infinity;
    let starving = false;
    let buffered = 0;
    for (const b of buffers) {
      buffered += b.size;
      const at = this.at(b.producer);
      if (at >= end || b.size >= this.#cap) continue;
      const empty = b.isEmpty();
      if ((empty && !starving) || (empty === starving && at < from)) from = at;
      starving ||= empty;
    }
    if (from === Infinity) return undefined;
    const max = Math.min(starving ? this.#fetchSize : this.#fetchSize - buffered, end - from);
    if (max <= 0) return undefined;
    this.#from = from;
    this.#left.clear();
    return { from, max };
  }

  /**
   * During the read: whether the record of `producer` at `offset` enters its
   * buffer (holding `buffered` records now). A share read up to past the
   * read's start is taken from its position on; a share read up to a point
   * before it, or full, is left for a later read from its position.
   */
  takes(producer: string, offset: number, buffered: number): boolean {
    if (this.#left.has(producer)) return false;
    const at = this.#positions.get(producer);
    if (at !== undefined && at > offset) return false;
    if (at !== undefined && at < this.#from) {
      this.#left.add(producer);
      return false;
    }
    if (buffered >= this.#cap) {
      this.#left.add(producer);
      this.#positions.set(producer, offset);
      return false;
    }
    // A share first seen now: its earlier records would have been seen by an earlier read.
    if (at === undefined) this.#positions.set(producer, this.#from);
    return true;
  }

  /** After the read, which covered the offsets up to `end`: the shares read through it are read up to there. */
  done(end: number): void {
    for (const [p, at] of this.#positions) {
      if (!this.#left.has(p) && at >= this.#from && at < end) this.#positions.set(p, end);
    }
  }
}
