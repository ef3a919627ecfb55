import type { Headers, StreamRecord } from '../records/record.ts';
import type { KeyValueStore } from '../state/key-value-store.ts';
import type { OrderedStore } from '../state/ordered-store.ts';
import type { Timer, TimerService } from './timers.ts';

/** What a processor forwards downstream: a record whose key, value, timestamp or headers may have changed. */
export type Forwarded<K, V> = Omit<StreamRecord<K, V>, 'key' | 'value' | 'headers'> & {
  /** The key sent on. */
  readonly key: K;
  /** The value sent on. */
  readonly value: V;
  /** The headers sent on (and written by a sink). */
  readonly headers: Headers;
};

/**
 * What a processor can see and do while it processes a record. Everything
 * here is deterministic except `wallClockTime()`, whose every call is
 * counted and audited as a nondeterministic decision.
 */
export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  /** The task running this processor, e.g. `0_3` (sub-topology 0, partition 3). */
  readonly taskId: string;
  /** The task's partition number. */
  readonly partition: number;
  /** The task's stream time: the largest timestamp processed so far, this record included. */
  readonly streamTime: number;
  /**
   * This processor's input watermark: the minimum over the watermarks of the
   * non-idle input partitions upstream of it, never decreasing
   * (`NO_WATERMARK` until every one of them has promised something).
   */
  readonly watermark: number;
  /**
   * The node that passed the record being processed to this one: its parent
   * in the topology (a source or a processor). An operator with two parents
   * (a join) tells its inputs apart by it. Undefined outside `process`
   * (clock hooks, timers).
   * @internal
   */
  readonly parentNode: string | undefined;
  /** Event-time and processing-time timers of this processor in this task; they fire `onTimer`. */
  readonly timers: TimerService;
  /** Sends a record to the children (or only the named child). */
  forward(record: Forwarded<KOut, VOut>, child?: string): void;
  /** A key-value store declared on this processor. */
  getStore<K, V>(name: string): KeyValueStore<K, V>;
  /** Wall-clock (processing) time. Nondeterministic: each call is counted and audited. */
  wallClockTime(): number;
  /** An ordered store (window and session stores are built on them) declared on this processor. */
  getOrderedStore(name: string): OrderedStore;
  /**
   * Reports a late record: late for every window it belongs to (`record`),
   * or skipped by one closed window while others took it (`window`). Counted
   * and audited with the record's position.
   */
  reportLate(record: StreamRecord, detail: string, lateFor: 'record' | 'window'): void;
  /** Reports a record the processor cannot use and drops (e.g. a null key in an aggregation): counted and audited. */
  reportDropped(record: StreamRecord, reason: string): void;
  /** Counts a table update older than the row it changes (`outOfOrderTableUpdates`); not audited: it depends on the input alone. @internal */
  countOutOfOrderTableUpdate(): void;
  /** Audits what a join saw (`late-table-update`, `nondeterministic:latest-value-join`) at the position of `record`, counted by kind. @internal */
  auditJoin(kind: 'late-table-update' | 'nondeterministic:latest-value-join', record: StreamRecord, detail: string): void;
  /**
   * Tells observers (`tidemark:window-fired`) and the trace (a `window` event, for `tidemark timeline`)
   * that this window operator emitted the result of `[start, end)` for `key` at `timestamp`. @internal
   */
  reportWindowFired(start: number, end: number, timestamp: number, key: unknown): void;
}

/**
 * A low-level processor: `process` is called once per record, depth-first,
 * with the task's stream time already advanced to include the record.
 *
 * @example
 * const dedupe: Processor<string, Click, string, Click> = {
 *   process(record, ctx) {
 *     const seen = ctx.getStore<string, number>('seen');
 *     if (seen.get(record.key) === undefined) ctx.forward(record);
 *     seen.put(record.key, record.timestamp);
 *   },
 * };
 */
export interface Processor<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> {
  /** Called once per task before its first record, with the task's restored clocks and stores. */
  init?(ctx: ProcessorContext<KOut, VOut>): void;
  /** Called for each record that reaches this processor, in the task's processing order; forward results with `ctx.forward`. */
  process(record: StreamRecord<KIn, VIn>, ctx: ProcessorContext<KOut, VOut>): void;
  /**
   * Called after a record's depth-first pass when it advanced the task's
   * stream time (whether or not it reached this processor): where window
   * operators close windows. `trigger` is the record that advanced it.
   */
  onStreamTime?(streamTime: number, trigger: StreamRecord, ctx: ProcessorContext<KOut, VOut>): void;
  /**
   * Called when this processor's input watermark advances, after the
   * record (or watermark record) that advanced it: where window operators
   * in watermark mode fire windows. `trigger` is that record.
   */
  onWatermark?(watermark: number, trigger: StreamRecord, ctx: ProcessorContext<KOut, VOut>): void;
  /**
   * A timer of this processor fired: an event-time timer once event time
   * now (the topology's clock: stream time, or the watermark plus one)
   * reached the timer's time, after `onStreamTime` / `onWatermark`; a processing-time one once
   * the wall clock did.
   */
  onTimer?(timer: Timer, ctx: ProcessorContext<KOut, VOut>): void;
}
