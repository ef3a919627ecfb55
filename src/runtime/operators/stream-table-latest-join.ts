import type { Processor, ProcessorContext } from '../processor.ts';
import type { StreamRecord } from '../../records/record.ts';
import type { Serde } from '../../records/serde.ts';
import type { OrderedStore } from '../../state/ordered-store.ts';
import { applyTableRecord, hasTableKey, type Change } from '../../tables/change.ts';
import { latestMayDifferFromAsOf, missedJoinedRecords, streamTableResultTimestamp } from '../../joins/stream-table.ts';
import { keyHexOf } from './aggregate-spec.ts';
import type { StreamTableJoinKind } from './stream-table-join.ts';

/** What the join on a table's latest value needs. */
export interface LatestValueJoinSpec<K, VS, VT, VOut> {
  readonly kind: StreamTableJoinKind;
  /** The join's own ordered store: per key, the table's latest value and the times `latestMayDifferFromAsOf` needs. */
  readonly store: string;
  /** The parent the stream's records come from; the other parent is the table, passing its changes. */
  readonly streamParent: string;
  /** What the table's parent passes: its changes, or (a table read from a stream) the stream's records. */
  readonly tableInput: 'changes' | 'records';
  readonly keySerde: Serde<K>;
  readonly tableSerde: Serde<VT>;
  readonly joiner: (value: VS, row: VT | undefined) => VOut;
  readonly resultsNode: string;
}

/** A key's row as the join sees it: its value (absent: undefined), the times of its current and newest updates, and the largest timestamp joined. */
interface Row<VT> {
  readonly value: VT | undefined;
  readonly currentFrom: number | undefined;
  readonly maxFrom: number | undefined;
  readonly lastJoined: number | undefined;
}

/**
 * The stream–table join on the table's latest value (Kafka Streams'
 * `KStream#join(KTable)` without versioning): each stream record joins, on
 * arrival, the value the table holds at that point of the task's scheduled
 * order. That answer depends on which input was processed first, so each
 * join that may answer differently from the as-of join
 * (`latestMayDifferFromAsOf`), and each table change that comes after a
 * stream record it would have changed was joined (`missedJoinedRecords`),
 * is audited `nondeterministic:latest-value-join`. The join keeps its own
 * copy of each key's latest value — from the records of a table read from a
 * stream (`applyTableRecord`; a delete of an absent key too, which changes
 * what the table held as of its time), from the changes of any other — so
 * any table can be joined, a filtered or mapped one included.
 */
export function latestValueJoin<K, VS, VT, VOut>(spec: LatestValueJoinSpec<K, VS, VT, VOut>): () => Processor<K, unknown, K, VOut> {
  const rowKey = (key: K): string => `t${keyHexOf(spec, key)}`;
  const read = (store: OrderedStore, key: K): Row<VT> | undefined => {
    const bytes = store.get(rowKey(key));
    if (bytes === undefined) return undefined;
    const nl = bytes.indexOf(NEWLINE);
    const meta = JSON.parse(Buffer.from(bytes.subarray(0, nl)).toString('utf8')) as Meta;
    const value = meta.a ? undefined : spec.tableSerde.deserialize(bytes.subarray(nl + 1));
    return { value, currentFrom: meta.f ?? undefined, maxFrom: meta.m ?? undefined, lastJoined: meta.j ?? undefined };
  };
  const write = (store: OrderedStore, key: K, row: Row<VT>): void => {
    const meta: Meta = { a: row.value === undefined, f: row.currentFrom ?? null, m: row.maxFrom ?? null, j: row.lastJoined ?? null };
    const value = row.value === undefined ? new Uint8Array() : (spec.tableSerde.serialize(row.value) ?? new Uint8Array());
    store.put(rowKey(key), new Uint8Array(Buffer.concat([Buffer.from(JSON.stringify(meta)), Buffer.of(NEWLINE), value])));
  };
  const onChange = (change: StreamRecord<K, unknown>, ctx: ProcessorContext<K, VOut>): void => {
    if (!hasTableKey(change.key)) return; // the table drops it too
    const value = spec.tableInput === 'changes' ? (change.value as Change<VT>).new : applyTableRecord(undefined, change.value as VT | null);
    const store = ctx.getOrderedStore(spec.store);
    const row = read(store, change.key);
    const ts = change.timestamp;
    if (missedJoinedRecords(ts, row?.lastJoined)) {
      ctx.auditJoin('nondeterministic:latest-value-join', change, `table change at ${ts} came after a stream record of its key at ${row!.lastJoined} was joined with the value before it`);
    }
    const maxFrom = row?.maxFrom === undefined || ts > row.maxFrom ? ts : row.maxFrom;
    write(store, change.key, { value, currentFrom: ts, maxFrom, lastJoined: row?.lastJoined });
  };
  const onRecord = (record: StreamRecord<K, VS>, ctx: ProcessorContext<K, VOut>): void => {
    const keyed = record.key !== null && record.key !== undefined;
    const store = ctx.getOrderedStore(spec.store);
    const row = keyed ? read(store, record.key) : undefined;
    const ts = record.timestamp;
    if (keyed) {
      if (latestMayDifferFromAsOf(ts, row?.currentFrom, row?.maxFrom)) {
        const newest = row!.maxFrom! > row!.currentFrom! ? `, after an update at ${row!.maxFrom}` : '';
        ctx.auditJoin('nondeterministic:latest-value-join', record, `stream record at ${ts} joined the table's latest value, written at ${row!.currentFrom}${newest}; as of ${ts} the table may have held another`);
      }
      if (row === undefined || row.lastJoined === undefined || ts > row.lastJoined) write(store, record.key, { value: row?.value, currentFrom: row?.currentFrom, maxFrom: row?.maxFrom, lastJoined: ts });
    }
    if (row?.value === undefined && spec.kind === 'inner') return;
    ctx.forward({ ...record, value: spec.joiner(record.value, row?.value), timestamp: streamTableResultTimestamp(ts) }, spec.resultsNode);
  };
  return () => ({
    process(record, ctx) {
      if (ctx.parentNode === spec.streamParent) onRecord(record as StreamRecord<K, VS>, ctx);
      else onChange(record, ctx);
    },
  });
}

/** A row's times (`f` current, `m` newest, `j` joined) and whether its value is absent (`a`), as JSON before the value's bytes. */
interface Meta {
  readonly a: boolean;
  readonly f: number | null;
  readonly m: number | null;
  readonly j: number | null;
}

const NEWLINE = 0x0a;
