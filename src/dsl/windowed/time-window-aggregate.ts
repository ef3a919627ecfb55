import type { Processor } from '../../runtime/processor.ts';
import type { StreamRecord } from '../../time/record.ts';
import { hexToBytes } from '../../state/key-value-store.ts';
import type { TimeWindows } from '../../windows/time-windows.ts';
import { isWindowClosed } from '../../windows/lateness.ts';
import { decodeTime, encodeTime } from '../../windows/emission.ts';
import { floorMod, resultTimestamp, type Windowed } from '../../windows/window.ts';
import { forwardResult, handleLateRecord, keyHexOf, type AggregateSpec } from './aggregate-spec.ts';

/**
 * Aggregates records into tumbling or hopping windows per key, on the
 * task's stream time. Store keys are `start ‖ keyHex`, so windows are kept
 * in start order — which, for windows of one size, is closing order.
 */
export function timeWindowAggregate<K, V, A>(windows: TimeWindows, spec: AggregateSpec<K, V, A>): () => Processor<K, V, Windowed<K>, A> {
  const { size, advance, offset, graceMs: grace } = windows;
  const late = (r: StreamRecord, st: number): string => `late for every window of timestamp ${r.timestamp} (stream time ${st}, grace ${grace})`;
  return () => {
    // Every window starting below `scannedTo` (the bound of the last closing scan) is
    // gone, and none can open again: stream time never decreases. So the next scan
    // starts there, and is skipped until the bound passes a window start (starts lie
    // on the grid offset + k·advance). In an LMDB store every scan is a cursor over the
    // committed entries, which would otherwise pass every window deleted since the last
    // commit, once per record. A task's processors and stores are created together, so
    // after a restart the first scan starts from the beginning.
    let scannedTo: number | undefined;
    return {
      process(record, ctx) {
        const store = ctx.getOrderedStore(spec.store);
        const st = ctx.streamTime;
        const ws = windows.windowsFor(record.timestamp);
        const open = ws.filter((w) => !isWindowClosed(w.end, grace, st));
        if (open.length === 0) return handleLateRecord(ctx, spec, record, late(record, st));
        for (const w of ws) if (!open.includes(w)) ctx.reportLate(record, `window [${w.start}, ${w.end}) closed at stream time ${st}`, 'window');
        const keyHex = keyHexOf(spec, record.key);
        for (const w of open) {
          const k = encodeTime(w.start) + keyHex;
          const old = store.get(k);
          const agg = spec.add(record.key, record.value, old === undefined ? spec.init() : spec.aggSerde.deserialize(old));
          store.put(k, spec.aggSerde.serialize(agg)!);
          if (spec.emit === 'updates') forwardResult(ctx, spec, record, { key: record.key, start: w.start, end: w.end }, agg, resultTimestamp(w));
        }
      },
      onStreamTime(st, trigger, ctx) {
        // Closed: end + grace <= st, i.e. start <= st − grace − size.
        const keepFrom = st - grace - size + 1 - (spec.emit === 'updates' ? spec.retentionMs : 0);
        if (scannedTo !== undefined) {
          if (keepFrom <= scannedTo) return;
          // No window can start in [scannedTo, keepFrom) when the first grid start at or after scannedTo is beyond it.
          if (scannedTo + floorMod(offset - scannedTo, advance) >= keepFrom) {
            scannedTo = keepFrom;
            return;
          }
        }
        const store = ctx.getOrderedStore(spec.store);
        for (const [k, bytes] of store.range(scannedTo === undefined ? '' : encodeTime(scannedTo), encodeTime(keepFrom))) {
          if (spec.emit === 'final') {
            const start = decodeTime(k.slice(0, 16));
            const key = spec.keySerde.deserialize(hexToBytes(k.slice(16)));
            forwardResult(ctx, spec, trigger, { key, start, end: start + size }, spec.aggSerde.deserialize(bytes), start + size - 1);
          }
          store.delete(k);
        }
        scannedTo = keepFrom;
      },
    };
  };
}
