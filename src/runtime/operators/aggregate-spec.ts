import type { Serde } from '../../records/serde.ts';
import type { StreamRecord } from '../../records/record.ts';
import type { ProcessorContext } from '../processor.ts';
import type { EmitStrategy } from '../../windows/emission.ts';
import { resultTimestamp, type TimeWindow, type Windowed } from '../../windows/window.ts';
import { keyToHex } from '../../state/key-value-store.ts';
import { eventClockNow, type EventClock } from '../../time/event-clock.ts';

/** What a windowed aggregation operator needs: its store, serdes, functions, and where results and late records go. */
export interface AggregateSpec<K, V, A> {
  readonly store: string;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  readonly aggSerde: Serde<A>;
  readonly init: () => A;
  readonly add: (key: K, value: V, aggregate: A) => A;
  readonly emit: EmitStrategy;
  /** The pass-through node results are forwarded to. */
  readonly resultsNode: string;
  /** The sink node late records are forwarded to, untouched; undefined: they are dropped. */
  readonly lateNode: string | undefined;
  /** How long after a window closes its state is kept (updates mode). */
  readonly retentionMs: number;
  /** The event clock the operator closes windows on; the windows' grace is the allowed lateness in watermark mode. */
  readonly clock: EventClock;
}

/** The operator's event clock, read as one number (see {@link eventClockNow}). */
export function clockNow(spec: Pick<AggregateSpec<unknown, unknown, unknown>, 'clock'>, ctx: AnyContext): number {
  return eventClockNow(spec.clock, ctx.streamTime, ctx.watermark);
}

/** Words for error and audit lines: which clock, at what value. */
export function describeClock(spec: Pick<AggregateSpec<unknown, unknown, unknown>, 'clock'>, ctx: AnyContext): string {
  return spec.clock === 'stream-time' ? `stream time ${ctx.streamTime}` : `watermark ${ctx.watermark}`;
}

/**
 * Calls `advance(now)` on the hook of the operator's clock: window operators
 * implement both hooks and ignore the clock they do not run on.
 */
export function clockHooks(spec: Pick<AggregateSpec<unknown, unknown, unknown>, 'clock'>, advance: (now: number, trigger: StreamRecord, ctx: AnyContext) => void) {
  return {
    onStreamTime(st: number, trigger: StreamRecord, ctx: AnyContext): void {
      if (spec.clock === 'stream-time') advance(st, trigger, ctx);
    },
    onWatermark(w: number, trigger: StreamRecord, ctx: AnyContext): void {
      if (spec.clock === 'watermark') advance(eventClockNow('watermark', 0, w), trigger, ctx);
    },
  };
}

type AnyContext = ProcessorContext<any, any>;

/** Hex of a key's serialized bytes: the key part of window store keys. */
export function keyHexOf<K>(spec: Pick<AggregateSpec<K, unknown, unknown>, 'keySerde'>, key: K): string {
  return keyToHex(spec.keySerde.serialize(key));
}

/**
 * Forwards the result of `window` for `key`, timestamped with the last
 * instant the window covers (`resultTimestamp`). The result is keyed by the
 * window's bounds, or by `reportedAs` (a session's inclusive bounds).
 */
export function forwardResult<K, A>(
  ctx: AnyContext,
  spec: Pick<AggregateSpec<K, unknown, A>, 'resultsNode'>,
  trigger: StreamRecord,
  key: K,
  window: TimeWindow,
  value: A | null,
  reportedAs: { readonly start: number; readonly end: number } = window,
): void {
  const windowed: Windowed<K> = { key, start: reportedAs.start, end: reportedAs.end };
  const timestamp = resultTimestamp(window);
  ctx.reportWindowFired(window.start, window.end, timestamp, key);
  ctx.forward({ ...trigger, key: windowed, value, timestamp, headers: {} }, spec.resultsNode);
}

/** A record late for every window it belongs to: counted, audited, and dropped or sent on untouched. */
export function handleLateRecord(ctx: AnyContext, spec: Pick<AggregateSpec<unknown, unknown, unknown>, 'lateNode'>, record: StreamRecord, detail: string): void {
  ctx.reportLate(record, detail, 'record');
  if (spec.lateNode !== undefined) ctx.forward(record, spec.lateNode);
}

/**
 * Store keys are ASCII strings; `.` separates variable-length key hex from
 * what follows. It sorts below every hex digit, so `<keyHex>.` orders keys
 * by their bytes even when one key is a prefix of another (`61.` < `6162.`).
 */
export const SEP = '.';
/** Sorts right after `SEP` and still below every hex digit: the end of a key's range. */
export const AFTER = '/';
