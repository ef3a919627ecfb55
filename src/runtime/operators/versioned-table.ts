import type { Processor, ProcessorContext } from '../processor.ts';
import type { Serde } from '../../records/serde.ts';
import type { EventClock } from '../../time/event-clock.ts';
import { hasTableKey, isVisibleChange, type Change } from '../../tables/change.ts';
import { historyHorizon } from '../../tables/versioned.ts';
import { VersionedKeyValueStore } from '../../state/versioned-store.ts';
import { clockHooks, clockNow, describeClock, handleLateRecord } from './aggregate-spec.ts';
import { NULL_TABLE_KEY } from './table-operators.ts';
import { heldHorizon } from '../../joins/stream-table.ts';
import { oldestWaitingBefore } from './waiting-records.ts';

/** What a versioned table's source needs: its store, serdes, retention, clock, and where late updates go. */
export interface VersionedTableSpec<K, V> {
  readonly store: string;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  readonly historyRetentionMs: number;
  readonly clock: EventClock;
  /** The pass-through node the table's changes leave by. */
  readonly changesNode: string;
  /** The sink late updates are forwarded to, untouched; undefined: they are dropped (counted and audited either way). */
  readonly lateNode: string | undefined;
  /**
   * Filled in as the topology is built, by the stream–table joins that read
   * the table: their stores, whose waiting records hold the horizon back
   * (`heldHorizon`), and their nodes, which get every accepted update.
   */
  readonly joins: { readonly stores: string[]; readonly nodes: string[] };
}

/**
 * The source of a versioned table: each record writes a version of its key
 * in a versioned store (a null value: a delete version) as of its
 * timestamp. Before each record, and whenever the node's clock moves, the
 * store's horizon follows `historyHorizon(now, historyRetentionMs)` and
 * purges what no exact read can find. An update older than the horizon is
 * late (`isLateTableUpdate`): counted, audited, dropped or sent to the late
 * stream, and it changes nothing. Only a change of the latest value
 * (`isLatestUpdate`) goes downstream, as a `Change` of the latest value; a
 * history write changes what reads as of the past find, and nothing else.
 * Stream–table joins reading the table get every accepted update, and hold
 * its horizon back to their oldest waiting record (`heldHorizon`).
 */
export function versionedTableSource<K, V>(spec: VersionedTableSpec<K, V>): () => Processor<K, V | null, K, Change<V>> {
  return () => {
    let store: VersionedKeyValueStore<K, V> | undefined;
    const storeOf = (ctx: ProcessorContext<any, any>): VersionedKeyValueStore<K, V> =>
      (store ??= new VersionedKeyValueStore(ctx.getOrderedStore(spec.store), spec.keySerde, spec.valueSerde));
    const advance = (now: number, ctx: ProcessorContext<any, any>): void => {
      const horizon = historyHorizon(now, spec.historyRetentionMs);
      // Only a record waiting below the horizon can hold it back: the scan stops there.
      let waiting: number | undefined;
      for (const s of spec.joins.stores) {
        const oldest = oldestWaitingBefore(ctx.getOrderedStore(s), horizon);
        if (oldest !== undefined && (waiting === undefined || oldest < waiting)) waiting = oldest;
      }
      storeOf(ctx).advanceHorizon(heldHorizon(horizon, waiting));
    };
    return {
      process(record, ctx) {
        if (!hasTableKey(record.key)) return ctx.reportDropped(record, NULL_TABLE_KEY);
        advance(clockNow(spec, ctx), ctx);
        const result = storeOf(ctx).put(record.key, record.value, record.timestamp);
        if (result.kind === 'late') {
          const detail = `table update at ${record.timestamp} is older than the history horizon ${result.horizon} (${describeClock(spec, ctx)}, history retention ${spec.historyRetentionMs})`;
          return handleLateRecord(ctx, spec, record, detail);
        }
        for (const join of spec.joins.nodes) ctx.forward(record as never, join);
        if (result.kind === 'history') return;
        const change: Change<V> = { old: result.old, new: record.value ?? undefined };
        if (isVisibleChange(change)) ctx.forward({ ...record, value: change }, spec.changesNode);
      },
      ...clockHooks(spec, (now, _trigger, ctx) => advance(now, ctx)),
    };
  };
}
