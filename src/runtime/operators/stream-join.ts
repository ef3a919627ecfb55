import type { Processor, ProcessorContext } from '../processor.ts';
import type { StreamRecord } from '../../records/record.ts';
import type { Serde } from '../../records/serde.ts';
import { hexToBytes } from '../../state/key-value-store.ts';
import { decodeTime, encodeTime } from '../../state/time-key.ts';
import type { EventClock } from '../../time/event-clock.ts';
import { lastClosedEnd } from '../../windows/lateness.ts';
import type { JoinWindows } from '../../joins/join-windows.ts';
import {
  isJoinMatch,
  isLateJoinRecord,
  isPairOpen,
  isUnmatchedDue,
  joinWindowEnd,
  streamJoinResultTimestamp,
  type JoinSide,
} from '../../joins/stream-stream.ts';
import { SEP, clockHooks, clockNow, describeClock, keyHexOf } from './aggregate-spec.ts';
import { utf8Bytes, utf8Text } from '../../records/utf8.ts';
import { nextArrivalSeq } from './arrival-sequence.ts';

/** Which unmatched records a join emits: none (inner), the left ones (left), both sides' (outer). */
export type StreamJoinKind = 'inner' | 'left' | 'outer';

/** What the stream–stream join operator needs. */
export interface StreamJoinSpec<K, VL, VR, VOut> {
  readonly kind: StreamJoinKind;
  readonly windows: JoinWindows;
  readonly store: string;
  /** The parent node the left stream's records come from; every other parent is the right stream. */
  readonly leftParent: string;
  readonly keySerde: Serde<K>;
  readonly leftSerde: Serde<VL>;
  readonly rightSerde: Serde<VR>;
  /** Called with both values for a pair, with `undefined` on the missing side for an unmatched record. */
  readonly joiner: (left: VL | undefined, right: VR | undefined) => VOut;
  readonly resultsNode: string;
  /** Per side, the sink its late records are forwarded to, untouched; undefined: dropped. */
  readonly lateNodes: { readonly left: string | undefined; readonly right: string | undefined };
  readonly clock: EventClock;
}

const sideChar = (side: JoinSide): string => (side === 'left' ? 'l' : 'r');
const other = (side: JoinSide): JoinSide => (side === 'left' ? 'right' : 'left');
/** A stored record: `s ‖ side ‖ keyHex ‖ . ‖ ts ‖ seq` — one range per partner lookup, in (ts, seq) order. */
const recordKey = (side: JoinSide, keyHex: string, ts: number, seq: number): string => `s${sideChar(side)}${keyHex}${SEP}${encodeTime(ts)}${encodeTime(seq)}`;
/** The close index: `c ‖ windowEnd ‖ side ‖ seq`, in `compareUnmatched` order (within a side, the window end fixes the timestamp). */
const closeKey = (end: number, side: JoinSide, seq: number): string => `c${encodeTime(end)}${sideChar(side)}${encodeTime(seq)}`;
/** `x` → the close-index bound every entry below was closed under (16 hex digits), where the next pass's scan starts. */
const CLOSED_KEY = 'x';
const MATCHED = 1;
const UNMATCHED = 0;

/** A stored record's bytes: its matched flag, then its value (copied at once: spreading the value into arguments was a hot spot). */
function flagged(flag: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + value.byteLength);
  out[0] = flag;
  out.set(value, 1);
  return out;
}

/**
 * The stream–stream windowed join of one task: each record is stored with
 * its side, joined at once with every stored partner of its key whose pair
 * is open (`isPairOpen`), and kept until its join window closes
 * (`isUnmatchedDue`), when — unmatched and on an emitting side — it yields
 * its unmatched result, and goes. A record whose join window is closed on
 * arrival is late (`isLateJoinRecord`). All state (records, matched flags,
 * the close index, the sequence number) is in one committed ordered store.
 */
export function streamJoin<K, VL, VR, VOut>(spec: StreamJoinSpec<K, VL, VR, VOut>): () => Processor<K, unknown, K, VOut> {
  const { beforeMs: before, afterMs: after, graceMs: grace } = spec.windows;
  const emitsUnmatched = (side: JoinSide): boolean => spec.kind === 'outer' || (spec.kind === 'left' && side === 'left');
  const serdeOf = (side: JoinSide): Serde<unknown> => (side === 'left' ? spec.leftSerde : spec.rightSerde) as Serde<unknown>;
  const forward = (ctx: ProcessorContext<K, VOut>, trigger: StreamRecord, key: K, l: { ts: number; v: unknown } | undefined, r: { ts: number; v: unknown } | undefined): void => {
    const value = spec.joiner(l?.v as VL | undefined, r?.v as VR | undefined);
    ctx.forward({ ...trigger, key, value, timestamp: streamJoinResultTimestamp(l?.ts, r?.ts), headers: {} }, spec.resultsNode);
  };
  return () => ({
    process(record, ctx) {
      const store = ctx.getOrderedStore(spec.store);
      const side: JoinSide = ctx.parentNode === spec.leftParent ? 'left' : 'right';
      const now = clockNow(spec, ctx);
      const ts = record.timestamp;
      if (isLateJoinRecord(side, ts, before, after, grace, now)) {
        ctx.reportLate(record, `${side} join window of timestamp ${ts} closed (${describeClock(spec, ctx)}, grace ${grace})`, 'record');
        const lateNode = spec.lateNodes[side];
        if (lateNode !== undefined) ctx.forward(record as never, lateNode);
        return;
      }
      const keyHex = keyHexOf(spec, record.key);
      const partnerSide = other(side);
      // The partners' timestamps: [ts − before, ts + after] seen from the left, [ts − after, ts + before] from the right.
      const [from, to] = side === 'left' ? [ts - before, ts + after] : [ts - after, ts + before];
      const prefix = `s${sideChar(partnerSide)}${keyHex}${SEP}`;
      const mine = { ts, v: record.value as unknown };
      let matched = false;
      for (const [k, bytes] of store.range(prefix + encodeTime(from), prefix + encodeTime(to + 1))) {
        const pts = decodeTime(k.slice(prefix.length, prefix.length + 16));
        const [l, r] = side === 'left' ? [ts, pts] : [pts, ts];
        // A stored partner whose window just closed is purged only after this pass: the pair is closed.
        if (!isJoinMatch(l, r, before, after) || !isPairOpen(l, r, before, after, grace, now)) continue;
        const partner = { ts: pts, v: serdeOf(partnerSide).deserialize(bytes.subarray(1)) };
        if (side === 'left') forward(ctx, record, record.key, mine, partner);
        else forward(ctx, record, record.key, partner, mine);
        matched = true;
        if (bytes[0] !== MATCHED) store.put(k, flagged(MATCHED, bytes.subarray(1)));
      }
      const seq = nextArrivalSeq(store);
      const valueBytes = serdeOf(side).serialize(record.value) ?? new Uint8Array();
      const key = recordKey(side, keyHex, ts, seq);
      store.put(key, flagged(matched ? MATCHED : UNMATCHED, valueBytes));
      store.put(closeKey(joinWindowEnd(side, ts, before, after), side, seq), utf8Bytes(key));
    },
    ...clockHooks(spec, (now, trigger, ctx) => {
      const store = ctx.getOrderedStore(spec.store);
      // The close index is in window-end order (then side, then sequence: compareUnmatched), so the first record not due ends the scan.
      // A range scan copies what it covers: only the entries of windows closed now are read (`lastClosedEnd`), from where the last
      // pass stopped (a record whose window is closed is late, never stored; in LMDB the committed entries of the records gone since
      // the last commit would be read again).
      const closedBytes = store.get(CLOSED_KEY);
      const closedFrom = closedBytes === undefined ? '' : utf8Text(closedBytes);
      let upTo = encodeTime(lastClosedEnd(grace, now) + 1);
      const due: { ck: string; key: string; side: JoinSide; ts: number }[] = [];
      for (const [ck, bytes] of store.range(`c${closedFrom}`, `c${upTo}`)) {
        const side: JoinSide = ck[17] === 'l' ? 'left' : 'right';
        const key = utf8Text(bytes);
        const at = key.indexOf(SEP) + 1;
        const ts = decodeTime(key.slice(at, at + 16));
        if (!isUnmatchedDue(side, ts, before, after, grace, now)) {
          upTo = ck.slice(1, 17);
          break;
        }
        due.push({ ck, key, side, ts });
      }
      // Most clock moves close nothing: the bound is written only when it moves.
      if (upTo !== closedFrom) store.put(CLOSED_KEY, utf8Bytes(upTo));
      for (const { ck, key, side, ts } of due) {
        const stored = store.get(key);
        if (stored !== undefined && stored[0] === UNMATCHED && emitsUnmatched(side)) {
          const k = spec.keySerde.deserialize(hexToBytes(key.slice(2, key.indexOf(SEP))));
          const rec = { ts, v: serdeOf(side).deserialize(stored.subarray(1)) };
          if (side === 'left') forward(ctx, trigger, k, rec, undefined);
          else forward(ctx, trigger, k, undefined, rec);
        }
        store.delete(key);
        store.delete(ck);
      }
    }),
  });
}
