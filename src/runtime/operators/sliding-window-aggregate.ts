import type { Processor } from '../processor.ts';
import type { StreamRecord } from '../../records/record.ts';
import { hexToBytes } from '../../state/key-value-store.ts';
import type { OrderedStore } from '../../state/ordered-store.ts';
import { decodeTime, encodeTime } from '../../state/time-key.ts';
import { firesBeforeClosing, fireDelay, isLateRecord, isWindowClosed, isWindowFired, stateLateness } from '../../windows/lateness.ts';
import { closedStartsBelow, hasRightWindow, leftWindow, neededFrom, rightWindow, slidingStartsContaining, slidingWindowAt, type SlidingWindows } from '../../windows/sliding-windows.ts';
import type { Windowed } from '../../windows/window.ts';
import { AFTER, SEP, clockHooks, clockNow, describeClock, forwardResult, handleLateRecord, keyHexOf, type AggregateSpec } from './aggregate-spec.ts';
import { utf8Bytes, utf8Text } from '../../records/utf8.ts';

/*
 * Record-anchored windows exist only where records are, so the store keeps
 * the accepted records themselves (until no open window contains them or exists because of them)
 * and computes each window from them:
 *   r<keyHex>.<ts><seq>  → value bytes     a key's records, in time order
 *   x<ts><keyHex>.<seq>  → [1]             every record by time: the closing and purge scans
 *   m                    → JSON meta       the next sequence number; the stream time of the last closing scan
 */
interface Meta {
  seq: number;
  closedUpTo: number | null;
}

const recordKey = (keyHex: string, ts: number, seq: string): string => `r${keyHex}${SEP}${encodeTime(ts)}${seq}`;
const timeKey = (keyHex: string, ts: number, seq: string): string => `x${encodeTime(ts)}${keyHex}${SEP}${seq}`;
const MARK = Uint8Array.of(1);

function readMeta(store: OrderedStore): Meta {
  const m = store.get('m');
  return m === undefined ? { seq: 0, closedUpTo: null } : (JSON.parse(utf8Text(m)) as Meta);
}

function writeMeta(store: OrderedStore, meta: Meta): void {
  store.put('m', utf8Bytes(JSON.stringify(meta)));
}

/** The key's records with `from <= ts <= to`, in (timestamp, arrival) order. */
function recordsBetween(store: OrderedStore, keyHex: string, from: number, to: number): [string, Uint8Array][] {
  return [...store.range(`r${keyHex}${SEP}${encodeTime(from)}`, to === Infinity ? `r${keyHex}${AFTER}` : `r${keyHex}${SEP}${encodeTime(to + 1)}`)];
}

const tsOf = (recordStoreKey: string): number => decodeTime(recordStoreKey.slice(-28, -12));

/**
 * Aggregates records into record-anchored sliding windows per key (Kafka
 * Streams' `SlidingWindows`), on the operator's event clock. A window is
 * `[start, start + d]` inclusive, reported as the half-open
 * `[start, start + d + 1)`; it closes when the clock (`clockNow`) reaches
 * `start + d + 1 + grace`. With `final` emission in watermark mode it fires
 * earlier, when the watermark passes its end, and re-fires on records within
 * the allowed lateness (the grace).
 */
export function slidingWindowAggregate<K, V, A>(windows: SlidingWindows, spec: AggregateSpec<K, V, A>): () => Processor<K, V, Windowed<K>, A> {
  const { timeDifference: d, graceMs: grace } = windows;
  const delay = fireDelay(spec.clock, grace);
  const firesEarly = firesBeforeClosing(spec.emit, grace, spec.clock);
  const kept = stateLateness(spec.emit, grace, spec.retentionMs);
  const windowAt = (start: number) => slidingWindowAt(start, d);
  const aggregateOf = (key: K, keyHex: string, start: number, store: OrderedStore): A => {
    let agg = spec.init();
    for (const [, bytes] of recordsBetween(store, keyHex, start, windowAt(start).end - 1)) agg = spec.add(key, spec.valueSerde.deserialize(bytes), agg);
    return agg;
  };
  const emitWindow = (ctx: Parameters<Processor['process']>[1], trigger: StreamRecord, key: K, keyHex: string, start: number, store: OrderedStore): void => {
    forwardResult(ctx, spec, trigger, key, windowAt(start), aggregateOf(key, keyHex, start, store));
  };
  return () => ({
    process(record, ctx) {
      const store = ctx.getOrderedStore(spec.store);
      const st = clockNow(spec, ctx);
      const t = record.timestamp;
      const keyHex = keyHexOf(spec, record.key);
      const before = recordsBetween(store, keyHex, t - d - 1, t + d + 1).map(([k]) => tsOf(k));
      const near = [...before, t];
      const starts = slidingStartsContaining(t, near, d);
      const closed = starts.map((s) => isWindowClosed(windowAt(s).end, grace, st));
      if (isLateRecord(closed)) return handleLateRecord(ctx, spec, record, `late for every sliding window containing timestamp ${t} (${describeClock(spec, ctx)}, grace ${grace})`);
      const open = starts.filter((_, i) => !closed[i]);
      for (const [i, s] of starts.entries()) if (closed[i]) ctx.reportLate(record, `window [${s}, ${windowAt(s).end}) closed at ${describeClock(spec, ctx)}`, 'window');
      const meta = readMeta(store);
      const seq = meta.seq.toString(16).padStart(12, '0');
      meta.seq++;
      writeMeta(store, meta);
      store.put(recordKey(keyHex, t, seq), spec.valueSerde.serialize(record.value) ?? new Uint8Array(0));
      store.put(timeKey(keyHex, t, seq), MARK);
      // Updates: every changed window. Final: only windows that already fired and now change,
      // within the allowed lateness (watermark mode) — the others fire when the clock reaches them.
      const emits = (s: number): boolean => spec.emit === 'updates' || (firesEarly && isWindowFired(windowAt(s).end, grace, spec.clock, st));
      for (const s of open) if (emits(s)) emitWindow(ctx, record, record.key, keyHex, s, store);
      // The record's own right window is new if a later record falls in it, no record at t was there
      // before, and it is not the left window of a record already there (then it existed).
      const right = rightWindow(t, d);
      const rightIsNew = !before.includes(t) && !before.some((q) => leftWindow(q, d).start === right.start) && hasRightWindow(t, before, d);
      if (rightIsNew && !isWindowClosed(right.end, grace, st) && emits(right.start)) emitWindow(ctx, record, record.key, keyHex, right.start, store);
    },
    ...clockHooks(spec, (st, trigger, ctx) => {
      const store = ctx.getOrderedStore(spec.store);
      const meta = readMeta(store);
      if (spec.emit === 'final') closeWindows(store, meta.closedUpTo, st, trigger, ctx);
      meta.closedUpTo = st;
      writeMeta(store, meta);
      // A record is kept while a window it belongs to, or a record its right window holds, may still change (neededFrom).
      const purgeBelow = neededFrom(d, kept, st);
      for (const [k] of store.range('x', `x${encodeTime(purgeBelow)}`)) {
        const ts = decodeTime(k.slice(1, 17));
        const sep = k.lastIndexOf(SEP);
        store.delete(recordKey(k.slice(17, sep), ts, k.slice(sep + 1)));
        store.delete(k);
      }
    }),
  });

  /** Emits, in (start, key) order, every window that fires (closes on `delay`) on the clock's move from `from` to `st`. */
  function closeWindows(store: OrderedStore, from: number | null, st: number, trigger: StreamRecord, ctx: Parameters<Processor['process']>[1]): void {
    // The windows closing now start in [closedStartsBelow at from, closedStartsBelow at st): they are the
    // left windows (start q − d) or right windows (start q + 1) of the records q scanned.
    const lo = from === null ? 'x' : `x${encodeTime(closedStartsBelow(d, delay, from) - 1)}`;
    const hi = `x${encodeTime(closedStartsBelow(d, delay, st) + d)}`;
    const closing = new Map<string, { keyHex: string; start: number }>();
    const closesNow = (w: { end: number }): boolean => isWindowClosed(w.end, delay, st) && (from === null || !isWindowClosed(w.end, delay, from));
    for (const [k] of store.range(lo, hi)) {
      const q = decodeTime(k.slice(1, 17));
      const keyHex = k.slice(17, k.lastIndexOf(SEP));
      const left = leftWindow(q, d);
      const right = rightWindow(q, d);
      if (closesNow(left)) closing.set(`${encodeTime(left.start)}${keyHex}`, { keyHex, start: left.start });
      if (closesNow(right) && recordsBetween(store, keyHex, right.start, right.end - 1).length > 0) closing.set(`${encodeTime(right.start)}${keyHex}`, { keyHex, start: right.start });
    }
    for (const id of [...closing.keys()].sort()) {
      const { keyHex, start } = closing.get(id)!;
      emitWindow(ctx, trigger, spec.keySerde.deserialize(hexToBytes(keyHex)), keyHex, start, store);
    }
  }
}
