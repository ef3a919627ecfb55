import type { LogRecord } from '../records/record.ts';
import { PartitionBuffer } from '../scheduling/partition-buffer.ts';
import { partitionKey } from './log.ts';
import type { SourceNode } from './topology.ts';
import { PRODUCER_HEADER } from './headers.ts';
import { ShareReads } from './share-reads.ts';
import type { TaskEnvironment } from './task-environment.ts';
import { internalCatchUpEnd, isShareEnded, type GroupCatchUpState } from './group-catch-up.ts';

/** One input partition of a task, and the buffers its records wait in. */
export interface TaskInput {
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
  /** The tasks writing this input in this run (`application/task`; none for an external input): its producer shares. */
  readonly writers: readonly string[];
  /** Group catch-up: the writers whose end of catch-up was read here, at which offset; their shares are at their end. */
  readonly ended: Map<string, number>;
  /** Real time in a group: the writers that wrote they are leaving a member and have not written since (see `PartitionBuffer.writerMoving`). */
  readonly moving: Set<string>;
  /** Records of a producer below this offset were processed before the last commit. */
  readonly skipBelow: Map<string, number>;
  /** Offset after the last processed record of each producer. */
  readonly processedUpTo: Map<string, number>;
  partitionTime: number;
  /** Whether this run already audited its ingest-time extraction. */
  auditedIngestTime: boolean;
  /** Whether this run already reported data without a producer on this `fromStream()` input. */
  reportedNoProducer: boolean;
  /** Whether this run already reported keys its key serde does not read as meant (`keyFormatMismatch`). */
  reportedKeyFormat: boolean;
  /**
   * Catch-up: the largest timestamp processed from other partitions while
   * this one was empty at its end offset. A record appended here later, older
   * than that, is processed after records a single uninterrupted run would
   * have processed after it (see `InputNotes.lateAfterEnd`).
   */
  passedAtEnd: number | undefined;
}

/** Where an input partition starts in a run: from its checkpoint, or where a task without one starts. */
export interface InputStart {
  readonly next: number;
  readonly skipBelow: Map<string, number>;
  readonly partitionTime: number;
  readonly passedAtEnd: number | undefined;
  /** The writers moving between members when the checkpoint was written (see `TaskInput.moving`). */
  readonly moving: readonly string[];
}

/** Queues one fetched record (`index`: its input's) in a buffer of `input`, or drops it. */
export type Admit = (input: TaskInput, index: number, raw: LogRecord, ingestTime: number) => void;

/**
 * A task's input partitions: their buffers (one per producer share), what
 * was fetched from the log and up to where, and the end offsets a catch-up
 * run stops at.
 */
export class TaskInputs {
  readonly list: TaskInput[] = [];
  /** Every buffer of every input, in the order they were made: the scheduler's candidates. */
  readonly buffers: PartitionBuffer[] = [];
  readonly #inputOf = new Map<PartitionBuffer, TaskInput>();
  readonly #env: Pick<TaskEnvironment, 'log' | 'clock' | 'fetchSize'>;
  readonly #partition: number;
  /** The group catch-up these inputs take part in (its number); undefined outside one. */
  #groupCatchUp: number | undefined;
  /** A writer's move ended since {@link takeMoveEnded} was last asked. */
  #moveEnded = false;

  constructor(env: Pick<TaskEnvironment, 'log' | 'clock' | 'fetchSize'>, partition: number) {
    this.#env = env;
    this.#partition = partition;
  }

  add(source: SourceNode, sourceIndex: number, start: InputStart, producers: readonly string[]): void {
    const shares = source.internal ? producers : [''];
    const input: TaskInput = {
      source,
      sourceIndex,
      stream: source.stream,
      partition: this.#partition,
      fetchPosition: start.next,
      shares: new ShareReads(start.next, shares, this.#env.fetchSize),
      catchUpEnd: undefined,
      buffers: new Map(),
      writers: source.internal ? producers : [],
      ended: new Map(),
      moving: new Set(source.internal ? start.moving : []),
      skipBelow: start.skipBelow,
      processedUpTo: new Map(),
      partitionTime: start.partitionTime,
      auditedIngestTime: false,
      reportedNoProducer: false,
      reportedKeyFormat: false,
      passedAtEnd: start.passedAtEnd,
    };
    for (const p of shares) this.bufferFor(input, p).writerMoving = input.moving.has(p);
    this.list.push(input);
  }

  /** The input a buffer belongs to. */
  inputOf(buf: PartitionBuffer): TaskInput {
    return this.#inputOf.get(buf)!;
  }

  bufferFor(input: TaskInput, producer: string): PartitionBuffer {
    let buf = input.buffers.get(producer);
    if (buf === undefined) {
      buf = new PartitionBuffer(input.stream, input.partition, input.sourceIndex, producer);
      input.buffers.set(producer, buf);
      this.#inputOf.set(buf, input);
      this.buffers.push(buf);
      this.#refreshEnd(input);
    }
    return buf;
  }

  /**
   * Catch-up: stop inputs at the end offsets seen now. The run calls it for
   * the external inputs at its start ("the end offsets seen at start") and for
   * internal inputs when the sub-topologies writing them have finished.
   */
  startCatchUp(inputs: 'external' | 'internal' | 'all'): void {
    for (const input of this.list) {
      if (inputs !== 'all' && input.source.internal !== (inputs === 'internal')) continue;
      input.catchUpEnd = this.#env.log.endOffset(input.stream, input.partition);
      this.#refreshEnd(input);
    }
  }

  /**
   * Group catch-up number `id`: external inputs stop at the ends `saved`
   * (this task's state in that catch-up, when it already took part in it)
   * fixed, or else at the end offsets seen now; internal inputs end as their
   * writers' ends of catch-up are read (see {@link endShare}).
   */
  startGroupCatchUp(id: number, saved: GroupCatchUpState | undefined): void {
    this.#groupCatchUp = id;
    for (const input of this.list) {
      const key = partitionKey(input.stream, input.partition);
      if (!input.source.internal) {
        input.catchUpEnd = saved?.ends[key] ?? this.#env.log.endOffset(input.stream, input.partition);
      } else {
        for (const [producer, at] of Object.entries(saved?.ended[key] ?? {})) input.ended.set(producer, at);
        input.catchUpEnd = internalCatchUpEnd(input.writers, input.ended);
      }
      this.#refreshEnd(input);
    }
  }

  /**
   * An end of catch-up of `producer` at `offset` of internal input `input`,
   * for catch-up number `id`: its share ends there. One of another catch-up
   * (an earlier one, interrupted) says nothing about this one.
   */
  endShare(input: TaskInput, producer: string, offset: number, id: number): void {
    if (id !== this.#groupCatchUp || !input.source.internal || !input.writers.includes(producer)) return;
    input.ended.set(producer, offset);
    input.catchUpEnd = internalCatchUpEnd(input.writers, input.ended);
    this.#refreshEnd(input);
  }

  /**
   * A record of `producer` on internal input `input` was read: `move` says
   * it is leaving a member (its share is waited for until it writes again)
   * or arrived at one; any other record means it is writing again.
   */
  noteWriter(input: TaskInput, producer: string, move?: 'leaving' | 'arrived'): void {
    if (!input.source.internal || !input.writers.includes(producer)) return;
    if (move === 'leaving') input.moving.add(producer);
    else if (!input.moving.delete(producer)) return;
    else this.#moveEnded = true;
    const buf = input.buffers.get(producer);
    if (buf !== undefined) buf.writerMoving = input.moving.has(producer);
  }

  /**
   * Whether a writer's move between members ended (it arrived, or wrote
   * again) since the last call. Rule: a writer's silence counts from the
   * end of its move — the task's idle wait starts again then, so a wait
   * begun before the move (its writer fell quiet as its member began the
   * rebalance) does not pass its share over the moment it arrives.
   */
  takeMoveEnded(): boolean {
    const ended = this.#moveEnded;
    this.#moveEnded = false;
    return ended;
  }

  /** This task's state in its group catch-up now, for its checkpoint; undefined outside one. */
  groupCatchUpState(done: boolean): GroupCatchUpState | undefined {
    const id = this.#groupCatchUp;
    if (id === undefined) return undefined;
    const ends: Record<string, number> = {};
    const ended: Record<string, Record<string, number>> = {};
    for (const input of this.list) {
      const key = partitionKey(input.stream, input.partition);
      if (!input.source.internal) ends[key] = input.catchUpEnd!;
      else if (input.ended.size > 0) ended[key] = Object.fromEntries(input.ended);
    }
    return { id, ends, ended, done };
  }

  /** Where an input ends: at its catch-up end, or, while tailing, at the log's end offset now. */
  #endOf(input: TaskInput): number {
    return input.catchUpEnd ?? this.#env.log.endOffset(input.stream, input.partition);
  }

  #refreshEnd(input: TaskInput): void {
    const end = this.#endOf(input);
    for (const buf of input.buffers.values()) {
      // Per share: one read to its end may still be a fetch away for another share of the partition.
      const at = input.shares.at(buf.producer);
      buf.unfetched = unfetched(end, at);
      buf.atEnd = (input.catchUpEnd !== undefined && at >= input.catchUpEnd) || isShareEnded(input.ended.get(buf.producer), at);
    }
  }

  /** The lag per input partition (`stream/partition`): records up to its end not processed yet, fetched or not. */
  lag(): Map<string, number> {
    const lag = new Map<string, number>();
    for (const input of this.list) {
      let buffered = 0;
      for (const b of input.buffers.values()) buffered += b.size;
      lag.set(partitionKey(input.stream, input.partition), unfetched(this.#endOf(input), input.fetchPosition) + buffered);
    }
    return lag;
  }

  /** Reads more records into the buffers that run low, each through `admit`; returns how many were read. */
  fetch(admit: Admit): number {
    let fetched = 0;
    for (const [index, input] of this.list.entries()) {
      // A partition split by producer (an internal stream) is read from the position of the share
      // that needs records: see ShareReads, which bounds what the buffers hold.
      const read = input.shares.next(input.buffers.values(), input.catchUpEnd ?? Infinity);
      if (read !== undefined) {
        const records = this.#env.log.read(input.stream, input.partition, read.from, read.max);
        const ingestTime = records.length > 0 ? this.#env.clock.now() : 0;
        for (const raw of records) {
          const producer = input.source.internal ? (raw.headers[PRODUCER_HEADER] ?? '') : '';
          if (!input.shares.takes(producer, raw.offset, input.buffers.get(producer)?.size ?? 0)) continue;
          admit(input, index, raw, ingestTime);
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

  /** True in catch-up when every input is at its end and every buffer is drained. */
  isCaughtUp(): boolean {
    return this.buffers.every((b) => b.atEnd && b.isEmpty());
  }

  /** Whether any buffer still holds records. */
  hasBuffered(): boolean {
    return this.buffers.some((b) => !b.isEmpty());
  }

  /** Whether every buffer of input `i` is empty. */
  drained(i: number): boolean {
    return [...this.list[i]!.buffers.values()].every((b) => b.isEmpty());
  }

  /** Whether input `i` was fetched up to the log's end offset now (not its catch-up end: whether the log has more). */
  fetchedToEnd(i: number): boolean {
    const input = this.list[i]!;
    return input.fetchPosition >= this.#env.log.endOffset(input.stream, input.partition);
  }

  /** Catch-up: remembers, for each empty partition at its end offset, how far the others went past it. */
  notePassingAtEnd(chosen: PartitionBuffer, timestamp: number): void {
    for (const b of this.buffers) {
      if (b === chosen || !b.atEnd || !b.isEmpty()) continue;
      const input = this.#inputOf.get(b)!;
      if (input.passedAtEnd === undefined || timestamp > input.passedAtEnd) input.passedAtEnd = timestamp;
    }
  }
}

/** Offsets from `position` up to `end` that no read has reached yet (none past the end). */
function unfetched(end: number, position: number): number {
  return Math.max(0, end - position);
}
