import type { Processor } from '../processor.ts';
import type { StreamRecord } from '../../records/record.ts';
import { hexToBytes } from '../../state/key-value-store.ts';
import type { OrderedStore } from '../../state/ordered-store.ts';
import { keptEncoder, storedValue, valueOf, type StoredValue } from '../../state/kept-value.ts';
import { decodeTime, encodeTime } from '../../state/time-key.ts';
import { firesBeforeClosing, fireDelay, isLateRecord, isWindowClosed, isWindowFired, stateLateness } from '../../windows/lateness.ts';
import { firstOpenStart, timeWindowAt, type TimeWindows } from '../../windows/time-windows.ts';
import { nextAlignedStart, type TimeWindow, type Windowed } from '../../windows/window.ts';
import { clockHooks, clockNow, describeClock, forwardResult, handleLateRecord, keyHexOf, type AggregateSpec } from './aggregate-spec.ts';

/**
 * Aggregates records into tumbling or hopping windows per key, on the
 * operator's event clock (stream time, or the watermark). Store keys are
 * `start ‖ keyHex`, so windows are kept in start order — which, for windows
 * of one size, is closing order.
 *
 * A window closes (later records are late, its state goes) at
 * `now >= end + grace`, `now` being the clock read by `clockNow`. With
 * `final` emission it fires at `now >= end + fireDelay`: as it closes in
 * stream-time mode, at `W >= end − 1` in watermark mode — where records
 * within the allowed lateness (the grace) then re-emit the corrected result.
 *
 * A window's aggregate is kept as an object between records (`KeptValue`)
 * when only the aggregator sees it before the window closes — results
 * emitted once, at the close, as the state goes: it is then serialized at
 * commit instead of twice per record. Emitting updates or firing early hands
 * the aggregate on while the window keeps it, so those windows store bytes.
 */
export function timeWindowAggregate<K, V, A>(windows: TimeWindows, spec: AggregateSpec<K, V, A>): () => Processor<K, V, Windowed<K>, A> {
  const { size, advance, offset, graceMs: grace } = windows;
  const delay = fireDelay(spec.clock, grace);
  const firesEarly = firesBeforeClosing(spec.emit, grace, spec.clock);
  const kept = stateLateness(spec.emit, grace, spec.retentionMs);
  const keepsObjects = spec.emit === 'final' && !firesEarly;
  const encode = keptEncoder(spec.aggSerde, spec.store);
  const stored = (agg: A): StoredValue => (keepsObjects ? storedValue(spec.aggSerde, agg, encode) : spec.aggSerde.serialize(agg)!);
  // The last window of the record (the largest end) is the one that closed last: naming it says by how much the record missed.
  const late = (r: StreamRecord, ws: readonly TimeWindow[], clock: string): string => {
    const last = ws.reduce((a, w) => (w.end > a.end ? w : a));
    return `late for every window of timestamp ${r.timestamp}: the last, [${last.start}, ${last.end}), closed at ${last.end + grace} (${clock}, grace ${grace})`;
  };
  return () => {
    // Every window starting below `scannedTo` (the bound of the last closing scan) is
    // gone, and none can open again: the clock never goes back. So the next scan
    // starts there, and is skipped until the bound passes a window start (starts lie
    // on the grid offset + k·advance). In an LMDB store every scan is a cursor over the
    // committed entries, which would otherwise pass every window deleted since the last
    // commit, once per record. A task's processors and stores are created together, so
    // after a restart the first scan starts from the beginning.
    let scannedTo: number | undefined;
    // Windows starting below `firedTo` have fired (early firing only). Set from the
    // restored clock: everything due by the last commit fired before it.
    let firedTo = 0;
    const emit = (ctx: Parameters<Processor['process']>[1], trigger: StreamRecord, k: string, agg: StoredValue): void => {
      const window = timeWindowAt(decodeTime(k.slice(0, 16)), size);
      forwardResult(ctx, spec, trigger, spec.keySerde.deserialize(hexToBytes(k.slice(16))), window, valueOf(spec.aggSerde, agg));
    };
    const fireUpTo = (store: OrderedStore, now: number, trigger: StreamRecord, ctx: Parameters<Processor['process']>[1]): void => {
      const bound = firstOpenStart(size, delay, now);
      if (bound <= firedTo) return;
      for (const [k, bytes] of store.range(encodeTime(firedTo), encodeTime(bound))) emit(ctx, trigger, k, bytes);
      firedTo = bound;
    };
    return {
      init(ctx) {
        firedTo = firstOpenStart(size, delay, clockNow(spec, ctx));
      },
      process(record, ctx) {
        const store = ctx.getOrderedStore(spec.store);
        const now = clockNow(spec, ctx);
        const ws = windows.windowsFor(record.timestamp);
        const closed = ws.map((w) => isWindowClosed(w.end, grace, now));
        if (isLateRecord(closed)) return handleLateRecord(ctx, spec, record, late(record, ws, describeClock(spec, ctx)));
        const open = ws.filter((_, i) => !closed[i]);
        for (const [i, w] of ws.entries()) if (closed[i]) ctx.reportLate(record, `window [${w.start}, ${w.end}) closed at ${describeClock(spec, ctx)}`, 'window');
        const keyHex = keyHexOf(spec, record.key);
        for (const w of open) {
          const k = encodeTime(w.start) + keyHex;
          const old = store.getStored(k);
          const agg = spec.add(record.key, record.value, old === undefined ? spec.init() : valueOf(spec.aggSerde, old));
          store.put(k, stored(agg));
          // A fired window updated within the allowed lateness: its corrected result.
          const refire = firesEarly && isWindowFired(w.end, grace, spec.clock, now);
          if (spec.emit === 'updates' || refire) forwardResult(ctx, spec, record, record.key, w, agg);
        }
      },
      ...clockHooks(spec, (now, trigger, ctx) => {
        const store = ctx.getOrderedStore(spec.store);
        if (firesEarly) fireUpTo(store, now, trigger, ctx);
        // Windows starting below keepFrom are closed (and past their retention): their state goes.
        const keepFrom = firstOpenStart(size, kept, now);
        if (scannedTo !== undefined) {
          if (keepFrom <= scannedTo) return;
          // No window can start in [scannedTo, keepFrom) when the first grid start at or after scannedTo is beyond it.
          if (nextAlignedStart(scannedTo, advance, offset) >= keepFrom) {
            scannedTo = keepFrom;
            return;
          }
        }
        for (const [k, agg] of store.rangeStored(scannedTo === undefined ? '' : encodeTime(scannedTo), encodeTime(keepFrom))) {
          if (spec.emit === 'final' && !firesEarly) emit(ctx, trigger, k, agg);
          store.delete(k);
        }
        scannedTo = keepFrom;
      }),
    };
  };
}
