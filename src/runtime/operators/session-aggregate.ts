import type { Processor } from '../processor.ts';
import { hexToBytes } from '../../state/key-value-store.ts';
import type { OrderedStore } from '../../state/ordered-store.ts';
import { decodeTime, encodeTime } from '../../state/time-key.ts';
import { firesBeforeClosing, fireDelay, isWindowFired, stateLateness } from '../../windows/lateness.ts';
import {
  closedEndsBelow,
  firstJoinableEnd,
  isLateSessionRecord,
  joinsSession,
  mergeSessions,
  sessionCloseEnd,
  sessionInterval,
  sessionJoinRange,
  type Session,
  type SessionWindows,
} from '../../windows/session-windows.ts';
import type { Windowed } from '../../windows/window.ts';
import { AFTER, SEP, clockHooks, clockNow, describeClock, forwardResult, handleLateRecord, keyHexOf, type AggregateSpec } from './aggregate-spec.ts';

/** Session aggregations also merge two sessions' aggregates when a record bridges them. */
export interface SessionAggregateSpec<K, V, A> extends AggregateSpec<K, V, A> {
  readonly merge: (key: K, left: A, right: A) => A;
}

interface StoredSession extends Session {
  readonly primaryKey: string;
  readonly closed: boolean;
  readonly aggregate: Uint8Array;
}

const OPEN = 0;
const CLOSED = 1;

/*
 * Store layout (one ordered store, ASCII keys):
 *   k<keyHex>.<end><start>  → [OPEN|CLOSED, …aggregate bytes]   the sessions of a key, by end
 *   c<end><keyHex>.<start>  → [1]                               open sessions, by end: the closing scan
 *   p<end><keyHex>.<start>  → [1]                               closed sessions kept for late joins, by end: the purge scan
 *
 * A record is late when its own session `[ts, ts]` would already be closed
 * (`ts + gap + 1 + grace <= st`), even if it would extend an open session
 * backwards, and when it would join a closed session. The first rule bounds
 * the state: a record that is not late has `ts > st − gap − 1 − grace`, so it
 * can join only closed sessions ending after `st − 2·gap − 1 − grace`; older
 * closed sessions are purged. (Without it, an open session could be extended
 * backwards one accepted record at a time until it reached a session emitted
 * long ago, and every closed session would have to be kept forever.)
 */
const primaryKey = (keyHex: string, s: Session): string => `k${keyHex}${SEP}${encodeTime(s.end)}${encodeTime(s.start)}`;
const indexKey = (prefix: 'c' | 'p', keyHex: string, s: Session): string => `${prefix}${encodeTime(s.end)}${keyHex}${SEP}${encodeTime(s.start)}`;
const MARK = Uint8Array.of(1);

/** Parses an index key back into the key hex and the session. */
function parseIndexKey(k: string): { keyHex: string; session: Session } {
  const end = decodeTime(k.slice(1, 17));
  const start = decodeTime(k.slice(-16));
  return { keyHex: k.slice(17, -17), session: { start, end } };
}

/** The sessions of `keyHex` a record at `ts` joins (`joinsSession`), by end. */
function sessionsJoined(store: OrderedStore, keyHex: string, ts: number, gap: number): StoredSession[] {
  const { fromEnd, toStart } = sessionJoinRange(ts, gap);
  const found: StoredSession[] = [];
  for (const [k, v] of store.range(`k${keyHex}${SEP}${encodeTime(fromEnd)}`, `k${keyHex}${AFTER}`)) {
    const session = { start: decodeTime(k.slice(-16)), end: decodeTime(k.slice(-32, -16)) };
    // Sessions of one key never overlap, so in end order they are in start order too.
    if (session.start > toStart) break;
    if (joinsSession(session, ts, gap)) found.push({ primaryKey: k, ...session, closed: v[0] === CLOSED, aggregate: v.subarray(1) });
  }
  return found;
}

function withState(state: number, aggregate: Uint8Array): Uint8Array {
  const out = new Uint8Array(aggregate.byteLength + 1);
  out[0] = state;
  out.set(aggregate, 1);
  return out;
}

/**
 * Aggregates records into session windows per key: a record
 * within `gap` of a session (inclusive) joins it, and sessions it bridges
 * merge. A session `[a, b]` closes when the event clock (`clockNow`)
 * reaches `b + gap + 1 + grace`; a record that would join a closed session
 * is late, so a final result is never contradicted (Kafka Streams would
 * merge it). With `final` emission in watermark mode a session fires when
 * the watermark passes `b + gap`; a record within the allowed lateness (the
 * grace) that joins it retracts the fired result (a tombstone) and the
 * merged session fires again.
 */
export function sessionAggregate<K, V, A>(windows: SessionWindows, spec: SessionAggregateSpec<K, V, A>): () => Processor<K, V, Windowed<K>, A> {
  const { gap, graceMs: grace } = windows;
  const delay = fireDelay(spec.clock, grace);
  const firesEarly = firesBeforeClosing(spec.emit, grace, spec.clock);
  const kept = stateLateness(spec.emit, grace, spec.retentionMs);
  const fired = (s: Session, now: number): boolean => firesEarly && isWindowFired(sessionCloseEnd(s, gap), grace, spec.clock, now);
  const result = (ctx: Parameters<Processor['process']>[1], trigger: Parameters<Processor['process']>[0], key: K, session: Session, value: A | null): void =>
    forwardResult(ctx, spec, trigger, key, sessionInterval(session), value, session);
  return () => {
    // Closing and purge scans start where the previous ones ended: everything below is
    // gone (closed, or purged), and no session ending there can be created or closed
    // again (see the note above the store layout). In an LMDB store this spares passing
    // over every entry deleted since the last commit. A restart starts from the prefix.
    let closedTo = 'c';
    let purgedTo = 'p';
    // Open sessions below `firedTo` have fired (early firing only); set from the restored clock.
    let firedTo = 'c';
    return {
      init(ctx) {
        firedTo = `c${encodeTime(closedEndsBelow(gap, delay, clockNow(spec, ctx)))}`;
      },
      process(record, ctx) {
        const store = ctx.getOrderedStore(spec.store);
        const st = clockNow(spec, ctx);
        const keyHex = keyHexOf(spec, record.key);
        const found = sessionsJoined(store, keyHex, record.timestamp, gap);
        const merged = mergeSessions(found, record.timestamp);
        const closed = found.find((s) => s.closed);
        const own = { start: record.timestamp, end: record.timestamp };
        if (isLateSessionRecord(record.timestamp, closed !== undefined, gap, grace, st)) {
          const why =
            closed !== undefined
              ? `would join session [${closed.start}, ${closed.end}], already closed`
              : `its own session [${own.start}, ${own.end}] closed at ${describeClock(spec, ctx)} (gap ${gap}, grace ${grace})`;
          return handleLateRecord(ctx, spec, record, `timestamp ${record.timestamp} ${why}`);
        }
        let agg = spec.init();
        for (const s of found) agg = spec.merge(record.key, agg, spec.aggSerde.deserialize(s.aggregate));
        agg = spec.add(record.key, record.value, agg);
        for (const s of found) {
          store.delete(s.primaryKey);
          store.delete(indexKey('c', keyHex, s));
          const mergedAway = s.start !== merged.start || s.end !== merged.end;
          if ((spec.emit === 'updates' || fired(s, st)) && mergedAway) result(ctx, record, record.key, s, null);
        }
        store.put(primaryKey(keyHex, merged), withState(OPEN, spec.aggSerde.serialize(agg)!));
        store.put(indexKey('c', keyHex, merged), MARK);
        if (spec.emit === 'updates' || fired(merged, st)) result(ctx, record, record.key, merged, agg);
      },
      ...clockHooks(spec, (st, trigger, ctx) => {
        const store = ctx.getOrderedStore(spec.store);
        if (firesEarly) {
          // Fired: closed on the fire delay. They stay open, to be updated within the allowed lateness.
          const fireTo = `c${encodeTime(closedEndsBelow(gap, delay, st))}`;
          for (const [k] of store.range(firedTo, fireTo)) {
            const { keyHex, session } = parseIndexKey(k);
            const bytes = store.get(primaryKey(keyHex, session))!.subarray(1);
            result(ctx, trigger, spec.keySerde.deserialize(hexToBytes(keyHex)), session, spec.aggSerde.deserialize(bytes));
          }
          if (fireTo > firedTo) firedTo = fireTo;
        }
        const closeTo = `c${encodeTime(closedEndsBelow(gap, grace, st))}`;
        for (const [k] of store.range(closedTo, closeTo)) {
          const { keyHex, session } = parseIndexKey(k);
          const pk = primaryKey(keyHex, session);
          const bytes = store.get(pk)!.subarray(1);
          if (spec.emit === 'final' && !firesEarly) {
            result(ctx, trigger, spec.keySerde.deserialize(hexToBytes(keyHex)), session, spec.aggSerde.deserialize(bytes));
          }
          store.put(pk, withState(CLOSED, bytes));
          store.delete(k);
          store.put(indexKey('p', keyHex, session), MARK);
        }
        // A closed session is kept while a record that is not late could still join it (firstJoinableEnd).
        if (closeTo > closedTo) closedTo = closeTo;
        const purgeTo = `p${encodeTime(firstJoinableEnd(gap, kept, st))}`;
        for (const [k] of store.range(purgedTo, purgeTo)) {
          const { keyHex, session } = parseIndexKey(k);
          store.delete(primaryKey(keyHex, session));
          store.delete(k);
        }
        if (purgeTo > purgedTo) purgedTo = purgeTo;
      }),
    };
  };
}
