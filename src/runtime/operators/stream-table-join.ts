import type { Processor, ProcessorContext } from '../processor.ts';
import type { StreamRecord } from '../../records/record.ts';
import type { Serde } from '../../records/serde.ts';
import type { OrderedStore } from '../../state/ordered-store.ts';
import { decodeTime, encodeTime } from '../../state/time-key.ts';
import { BEYOND_HISTORY, VersionedKeyValueStore } from '../../state/versioned-store.ts';
import type { EventClock } from '../../time/event-clock.ts';
import { dueBefore, isStreamRecordDue, missedJoinedRecords, streamTableResultTimestamp } from '../../joins/stream-table.ts';
import { clockHooks, clockNow, describeClock, handleLateRecord, keyHexOf } from './aggregate-spec.ts';
import { WaitingRecords } from './waiting-records.ts';
import { KeptValue, keptOr } from '../../state/kept-value.ts';
import { utf8Bytes, utf8Text } from '../../records/utf8.ts';

/** Which stream records a stream–table join emits when the table has no row for them: none (inner) or all (left). */
export type StreamTableJoinKind = 'inner' | 'left';

/** What the stream–table join by event time needs. */
export interface StreamTableJoinSpec<K, VS, VT, VOut> {
  readonly kind: StreamTableJoinKind;
  readonly graceMs: number;
  /** The join's own ordered store: waiting records, the largest timestamp joined per key. */
  readonly store: string;
  /** The versioned table's store, read as of each record's time. */
  readonly tableStore: string;
  /** The parent the stream's records come from; the other parent is the table's source, passing its accepted updates. */
  readonly streamParent: string;
  readonly keySerde: Serde<K>;
  /** The table's own key serde: its store holds keys as the table wrote them. */
  readonly tableKeySerde: Serde<K>;
  readonly streamSerde: Serde<VS>;
  readonly tableSerde: Serde<VT>;
  readonly joiner: (value: VS, row: VT | undefined) => VOut;
  readonly resultsNode: string;
  /** The sink late stream records are forwarded to, untouched; undefined: dropped (counted and audited either way). */
  readonly lateNode: string | undefined;
  readonly clock: EventClock;
}

/** Per key, the largest timestamp joined: `j<keyHex>` → its time (16 hex digits). */
const joinedKey = (keyHex: string): string => `j${keyHex}`;

/**
 * The stream–table join by event time of one task: each stream record
 * waits until `isStreamRecordDue(ts, grace, now)` — it arrives due, or a
 * clock move makes it due — and then joins the versioned table as of its
 * own timestamp; those due together go in (timestamp, arrival) order. A
 * record whose as-of read is no longer exact is late (`isExactAsOf`,
 * which the store's `BEYOND_HISTORY` answer says). Each table update the
 * table's source accepted is checked against what was already joined
 * (`missedJoinedRecords`): audited `late-table-update` when it came too
 * late for a result. The table keeps its history back to the oldest
 * waiting record (`heldHorizon`, applied by the table's source).
 */
export function streamTableJoin<K, VS, VT, VOut>(spec: StreamTableJoinSpec<K, VS, VT, VOut>): () => Processor<K, unknown, K, VOut> {
  const waiting = new WaitingRecords<K, VS>(spec.keySerde, spec.streamSerde, spec.store);
  return () => {
    let table: VersionedKeyValueStore<K, VT> | undefined;
    const tableOf = (ctx: ProcessorContext<any, any>): VersionedKeyValueStore<K, VT> =>
      (table ??= new VersionedKeyValueStore(ctx.getOrderedStore(spec.tableStore), spec.tableKeySerde, spec.tableSerde));
    const join = (record: StreamRecord<K, VS>, ctx: ProcessorContext<K, VOut>): void => {
      const store = ctx.getOrderedStore(spec.store);
      const keyed = record.key !== null && record.key !== undefined;
      const found = keyed ? tableOf(ctx).getAsOf(record.key, record.timestamp) : undefined;
      if (found === BEYOND_HISTORY) {
        const detail = `stream record at ${record.timestamp} is older than the table's history (horizon ${tableOf(ctx).horizon}, ${describeClock(spec, ctx)})`;
        return handleLateRecord(ctx, spec, record, detail);
      }
      if (keyed) noteJoined(store, keyHexOf(spec, record.key), record.timestamp);
      if (found === undefined && spec.kind === 'inner') return;
      const value = spec.joiner(record.value, found?.value);
      ctx.forward({ ...record, value, timestamp: streamTableResultTimestamp(record.timestamp) }, spec.resultsNode);
    };
    const onUpdate = (update: StreamRecord<K, VT | null>, ctx: ProcessorContext<K, VOut>): void => {
      const store = ctx.getOrderedStore(spec.store);
      const last = lastJoined(store, keyHexOf(spec, update.key));
      if (missedJoinedRecords(update.timestamp, last)) {
        ctx.auditJoin('late-table-update', update, `table update at ${update.timestamp} came after a stream record of its key at ${last} was joined (${describeClock(spec, ctx)}, grace ${spec.graceMs}): a larger grace would have seen it`);
      }
    };
    return {
      process(record, ctx) {
        if (ctx.parentNode !== spec.streamParent) return onUpdate(record as StreamRecord<K, VT | null>, ctx);
        const r = record as StreamRecord<K, VS>;
        if (isStreamRecordDue(r.timestamp, spec.graceMs, clockNow(spec, ctx))) join(r, ctx);
        else waiting.add(ctx.getOrderedStore(spec.store), r);
      },
      ...clockHooks(spec, (now, _trigger, ctx) => {
        const due = waiting.takeDue(ctx.getOrderedStore(spec.store), (ts) => isStreamRecordDue(ts, spec.graceMs, now), dueBefore(spec.graceMs, now));
        for (const r of due) join(r, ctx);
      }),
    };
  };
}

function lastJoined(store: OrderedStore, keyHex: string): number | undefined {
  const stored = store.getStored(joinedKey(keyHex));
  return stored === undefined ? undefined : keptOr(stored, (bytes) => decodeTime(utf8Text(bytes)));
}

/** Kept as a number between commits. */
function noteJoined(store: OrderedStore, keyHex: string, ts: number): void {
  const last = lastJoined(store, keyHex);
  if (last === undefined || ts > last) store.put(joinedKey(keyHex), new KeptValue(ts, timeText) as KeptValue);
}

const timeText = (ts: number): Uint8Array => utf8Bytes(encodeTime(ts));
