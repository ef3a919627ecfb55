/**
 * What a task did, step by step, for the event-time timeline picture
 * (`tidemark timeline`): one line of NDJSON each.
 *
 * @module
 */

/** What every trace event has. */
export interface TraceEventBase {
  /** The node: a task of an application instance (`B0`, `app/0_1`) or a producer (`A0`). */
  readonly node: string;
  /** The node's own order, 0, 1, 2, …; events of different nodes are not ordered against each other. */
  readonly seq: number;
  /** An event time: an integer (ms, or abstract units); for clocks MIN_SAFE_INTEGER is "none yet", MAX_SAFE_INTEGER "end of stream". */
  readonly time: number;
}

/** Where a record was read from (or, for a producer, written to). All optional: the picture does not need them. */
export interface LogPosition {
  /** The stream. */
  readonly stream?: string;
  /** The partition. */
  readonly partition?: number;
  /** The offset. */
  readonly offset?: number;
}

/**
 * One line of a trace.
 *
 * - `record`: the node processed (a producer: wrote) a data record with event
 *   timestamp `time`; `late: true` when it was late (dropped or side output).
 * - `stream-time`: the node's stream time became `time`.
 * - `watermark`: the node's watermark (its event clock in watermark mode) became `time`.
 * - `watermark-record`: the node received (a producer: wrote) a watermark
 *   record W(`time`) from (for) `producer`.
 * - `window`: the windowed operator `operator` of the node emitted the result
 *   of window [`time`, `end`) for `key`: when the window fired (final results),
 *   or on each update (updates emission). A session's window is its interval,
 *   `end` one past its last record; a session merged into another is emitted
 *   too (its tombstone), at the step of the merge.
 *
 * @example
 * {"node":"C1","seq":12,"kind":"record","time":2,"key":"Z","late":true,"stream":"b","partition":1,"offset":5}
 * {"node":"C1","seq":3,"kind":"watermark-record","time":2,"producer":"B/0_0","stream":"b","partition":1,"offset":3}
 * {"node":"C1","seq":14,"kind":"window","time":0,"end":10,"operator":"window-aggregate-3","key":"Z"}
 */
export type TraceEvent =
  | (TraceEventBase &
      LogPosition & {
        /** A data record processed (or written). */
        readonly kind: 'record';
        /** The record's key, as text. */
        readonly key?: string | undefined;
        /** True when it was late: dropped or sent to a side output. */
        readonly late?: boolean;
      })
  | (TraceEventBase & {
      /** The node's stream time moved to `time`. */
      readonly kind: 'stream-time';
    })
  | (TraceEventBase & {
      /** The node's watermark moved to `time`. */
      readonly kind: 'watermark';
    })
  | (TraceEventBase &
      LogPosition & {
        /** A watermark record W(`time`) received (or written). */
        readonly kind: 'watermark-record';
        /** The producer task it is from: `application/task`. */
        readonly producer: string;
      })
  | (TraceEventBase & {
      /** A window's result emitted; `time` is the window's start. */
      readonly kind: 'window';
      /** The window's end, exclusive. */
      readonly end: number;
      /** The windowed operator (processor node) that emitted it. */
      readonly operator: string;
      /** The result's key, as text. */
      readonly key?: string | undefined;
    });

