import type { Processor } from '../processor.ts';
import type { StreamRecord } from '../../records/record.ts';
import { hexToBytes } from '../../state/key-value-store.ts';
import type { OrderedStore } from '../../state/ordered-store.ts';
import { isWindowClosed } from '../../windows/lateness.ts';
import { decodeTime, encodeTime } from '../../state/time-key.ts';
import type { SlidingWindows } from '../../windows/sliding-windows.ts';
import type { Windowed } from '../../windows/window.ts';
import { fireDelay } from '../../time/event-clock.ts';
import { AFTER, SEP, clockHooks, clockNow, describeClock, forwardResult, handleLateRecord, keyHexOf, type AggregateSpec } from './aggregate-spec.ts';

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
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function readMeta(store: OrderedStore): Meta {
  const m = store.get('m');
  return m === undefined ? { seq: 0, closedUpTo: null } : (JSON.parse(decoder.decode(m)) as Meta);
}

function writeMeta(store: OrderedStore, meta: Meta): void {
  store.put('m', encoder.encode(JSON.stringify(meta)));
}

/** The key's records with `from <= ts <= to`, in (timestamp, arrival) order. */
function recordsBetween(store: OrderedStore, keyHex: string, from: number, to: number): [string, Uint8Array][] {
  return [...store.range(`r${keyHex}${SEP}${encodeTime(from)}`, to === Infinity ? `r${keyHex}${AFTER}` : `r${keyHex}${SEP}${encodeTime(to + 1)}`)];
}

const tsOf = (recordStoreKey: string): number => decodeTime(recordStoreKey.slice(-28, -12));

/**
 * Rule: the starts of the windows containing `t`, among those present for
 * the timestamps `near` (a key's record timestamps within `d + 1` of `t`,
 * `t` included): left windows `[q − d, q]` of records `q` in `[t, t + d]`,
 * and right windows `[q + 1, q + d + 1]` of records `q` in `[t − d − 1, t)`
 * that have a later record within `d + 1`.
 */
export function slidingStartsContaining(t: number, near: readonly number[], d: number): number[] {
  const starts = new Set<number>();
  for (const q of near) {
    if (q >= t && q <= t + d) starts.add(q - d);
    if (q < t && q >= t - d - 1 && near.some((n) => n > q && n <= q + d + 1)) starts.add(q + 1);
  }
  return [...starts].sort((a, b) => a - b);
}

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
  const firesEarly = spec.emit === 'final' && delay < grace;
  const aggregateOf = (key: K, keyHex: string, start: number, store: OrderedStore): A => {
    let agg = spec.init();
    for (const [, bytes] of recordsBetween(store, keyHex, start, start + d)) agg = spec.add(key, spec.valueSerde.deserialize(bytes), agg);
    return agg;
  };
  const emitWindow = (ctx: Parameters<Processor['process']>[1], trigger: StreamRecord, key: K, keyHex: string, start: number, store: OrderedStore): void => {
    forwardResult(ctx, spec, trigger, { key, start, end: start + d + 1 }, aggregateOf(key, keyHex, start, store), start + d);
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
      const open = starts.filter((s) => !isWindowClosed(s + d + 1, grace, st));
      if (open.length === 0) return handleLateRecord(ctx, spec, record, `late for every sliding window containing timestamp ${t} (${describeClock(spec, ctx)}, grace ${grace})`);
      for (const s of starts) if (!open.includes(s)) ctx.reportLate(record, `window [${s}, ${s + d + 1}) closed at ${describeClock(spec, ctx)}`, 'window');
      const meta = readMeta(store);
      const seq = meta.seq.toString(16).padStart(12, '0');
      meta.seq++;
      writeMeta(store, meta);
      store.put(recordKey(keyHex, t, seq), spec.valueSerde.serialize(record.value) ?? new Uint8Array(0));
      store.put(timeKey(keyHex, t, seq), MARK);
      // Updates: every changed window. Final: only windows that already fired and now change,
      // within the allowed lateness (watermark mode) — the others fire when the clock reaches them.
      const emits = (s: number): boolean => spec.emit === 'updates' || (firesEarly && isWindowClosed(s + d + 1, delay, st));
      for (const s of open) if (emits(s)) emitWindow(ctx, record, record.key, keyHex, s, store);
      // The record's own right window [t + 1, t + d + 1] is new if a later record is near, no record
      // at t was there before, and it is not the left window of a record at t + d + 1 (then it existed).
      const rightIsNew = !before.includes(t) && !before.includes(t + d + 1) && before.some((q) => q > t && q <= t + d + 1);
      if (rightIsNew && !isWindowClosed(t + d + 2, grace, st) && emits(t + 1)) emitWindow(ctx, record, record.key, keyHex, t + 1, store);
    },
    ...clockHooks(spec, (st, trigger, ctx) => {
      const store = ctx.getOrderedStore(spec.store);
      const meta = readMeta(store);
      if (spec.emit === 'final') closeWindows(store, meta.closedUpTo, st, trigger, ctx);
      meta.closedUpTo = st;
      writeMeta(store, meta);
      // A record at q is in no open window once q + d + 1 + grace <= st, but its right window
      // [q + 1, q + d + 1] exists only while q is known: it must be closed (q + d + 2 + grace <= st)
      // and no record it contains may still be accepted (t <= q + d + 1 is, while st < t + d + 1 + grace),
      // or that record would not be counted as skipped by it. Keep q until q + 2d + 2 + grace <= st.
      const purgeBelow = st - 2 * d - 1 - grace - (spec.emit === 'updates' ? spec.retentionMs : 0);
      for (const [k] of store.range('x', `x${encodeTime(purgeBelow)}`)) {
        const ts = decodeTime(k.slice(1, 17));
        const sep = k.lastIndexOf(SEP);
        store.delete(recordKey(k.slice(17, sep), ts, k.slice(sep + 1)));
        store.delete(k);
      }
    }),
  });

  /** Emits, in (start, key) order, every window whose firing point `start + d + 1 + delay` lies in `(from, st]`. */
  function closeWindows(store: OrderedStore, from: number | null, st: number, trigger: StreamRecord, ctx: Parameters<Processor['process']>[1]): void {
    const lo = from === null ? '' : `x${encodeTime(from - d - 1 - delay)}`;
    const closing = new Map<string, { keyHex: string; start: number }>();
    const closesNow = (start: number): boolean => isWindowClosed(start + d + 1, delay, st) && (from === null || !isWindowClosed(start + d + 1, delay, from));
    for (const [k] of store.range(lo === '' ? 'x' : lo, `x${encodeTime(st - delay)}`)) {
      const q = decodeTime(k.slice(1, 17));
      const keyHex = k.slice(17, k.lastIndexOf(SEP));
      if (closesNow(q - d)) closing.set(`${encodeTime(q - d)}${keyHex}`, { keyHex, start: q - d });
      if (closesNow(q + 1) && recordsBetween(store, keyHex, q + 1, q + d + 1).length > 0) closing.set(`${encodeTime(q + 1)}${keyHex}`, { keyHex, start: q + 1 });
    }
    for (const id of [...closing.keys()].sort()) {
      const { keyHex, start } = closing.get(id)!;
      emitWindow(ctx, trigger, spec.keySerde.deserialize(hexToBytes(keyHex)), keyHex, start, store);
    }
  }
}
