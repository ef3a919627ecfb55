import type { Processor } from '../processor.ts';
import { DeserializationError, type Serde } from '../../records/serde.ts';
import { hexToBytes, keyToHex } from '../../state/key-value-store.ts';
import type { Timestamped } from '../../state/timestamped.ts';
import { isVisibleChange, type Change } from '../../tables/change.ts';
import { tableJoinTimestamp, tableJoinValue } from '../../joins/table-table.ts';
import { foreignKeyOf, isCurrentResponse, subscriptionChanges, type ForeignKeyJoinKind } from '../../joins/foreign-key.ts';
import { AFTER, SEP } from './aggregate-spec.ts';
import { utf8Bytes, utf8Text } from '../../records/utf8.ts';

/**
 * A subscription of a left row to the right row under a foreign key (keyed
 * by the foreign key), or its end; or — on the stream straight to the
 * resolving step (keyed by the left key) — a change of a left row that
 * needs no right row: a delete, or a null foreign key.
 */
export interface ForeignKeyMessage {
  readonly op: 'subscribe' | 'unsubscribe' | 'resolve';
  /** The left key's bytes. */
  readonly pk: Uint8Array;
  /** The left row's version (`isCurrentResponse`). */
  readonly version: number;
  /** The left row's value bytes; null: none (unsubscribe, delete). */
  readonly left: Uint8Array | null;
  readonly leftTs: number;
}

/** An answer: a left row's version and value, with the right row under its foreign key (null: none). */
export interface ForeignKeyResponse {
  readonly version: number;
  readonly left: Uint8Array | null;
  readonly leftTs: number;
  readonly right: Uint8Array | null;
  /** The right row's timestamp, or its delete's; null: no right row was ever there. */
  readonly rightTs: number | null;
}

const b64 = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'));
const unb64 = (text: unknown): Uint8Array | null => (typeof text === 'string' ? Buffer.from(text, 'base64') : null);

/** The serde of a foreign-key join's internal records: JSON, bytes in base64. @internal */
export function foreignKeyEnvelopeSerde<T extends ForeignKeyMessage | ForeignKeyResponse>(name: string): Serde<T> {
  return {
    name,
    serialize(value) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = v instanceof Uint8Array ? b64(v) : v;
      return utf8Bytes(JSON.stringify(out));
    },
    deserialize(bytes) {
      if (bytes === null) throw new DeserializationError(`${name}: no value`);
      const raw = JSON.parse(utf8Text(bytes)) as Record<string, unknown>;
      for (const k of ['pk', 'left', 'right']) if (k in raw) raw[k] = unb64(raw[k]);
      return raw as unknown as T;
    },
  };
}

/** What the subscribing step (where the left table is) needs. */
export interface ForeignKeySubscribeSpec<K, VL, KO> {
  /** Each left key's version, the number of its changes so far. */
  readonly versions: string;
  readonly fk: (value: VL) => KO | null | undefined;
  readonly leftKeySerde: Serde<K>;
  readonly leftSerde: Serde<VL>;
  /** The right table's key serde: foreign keys are its keys, partitioned like them. */
  readonly foreignKeySerde: Serde<KO>;
  /** The sink of subscriptions (keyed by foreign key) and the sink of changes that need no right row (keyed by the left key). */
  readonly subscriptionsNode: string;
  readonly resolveNode: string;
}

/**
 * The first step of a foreign-key join, beside the left table: each
 * visible change of a left row takes the next version of its key, ends its
 * subscription to the old foreign key and subscribes to the new one
 * (`subscriptionChanges`), carrying its new value; a change to no foreign
 * key (a delete, a null foreign key) goes straight to the resolving step.
 */
export function foreignKeySubscribe<K, VL, KO>(spec: ForeignKeySubscribeSpec<K, VL, KO>): () => Processor<K, Change<VL>, unknown, unknown> {
  const bytesOf = (k: KO): string => keyToHex(spec.foreignKeySerde.serialize(k));
  const same = (a: KO, b: KO): boolean => Object.is(a, b) || bytesOf(a) === bytesOf(b);
  return () => ({
    process(record, ctx) {
      const versions = ctx.getStore<K, number>(spec.versions);
      const version = (versions.get(record.key) ?? -1) + 1;
      versions.put(record.key, version);
      const pk = spec.leftKeySerde.serialize(record.key);
      if (pk === null) throw new Error('a foreign-key join needs left keys that serialize to bytes');
      const change = record.value;
      const left = change.new === undefined ? null : spec.leftSerde.serialize(change.new);
      const newFk = foreignKeyOf(change.new, spec.fk);
      for (const { fk, kind } of subscriptionChanges(foreignKeyOf(change.old, spec.fk), newFk, same)) {
        const message: ForeignKeyMessage = { op: kind, pk, version, left: kind === 'subscribe' ? left : null, leftTs: record.timestamp };
        ctx.forward({ ...record, key: fk, value: message, headers: {} }, spec.subscriptionsNode);
      }
      if (newFk === undefined) {
        const message: ForeignKeyMessage = { op: 'resolve', pk, version, left, leftTs: record.timestamp };
        ctx.forward({ ...record, key: record.key, value: message, headers: {} }, spec.resolveNode);
      }
    },
  });
}

/** What the answering step (where the right table is) needs. */
export interface ForeignKeyRespondSpec<KO> {
  /** The parent node subscriptions come from; every other parent is the right table. */
  readonly subscriptionsParent: string;
  /** The step's copy of the right table's rows. */
  readonly rightRows: string;
  /** The subscriptions: `<foreign key hex>.<left key hex>` → the left row's version, value and timestamp. */
  readonly subscriptions: string;
  readonly foreignKeySerde: Serde<KO>;
  readonly rightSerde: Serde<unknown>;
  readonly responsesNode: string;
}

const subscriptionKey = (fkHex: string, pkHex: string): string => `${fkHex}${SEP}${pkHex}`;

/**
 * The second step of a foreign-key join, beside the right table: it keeps
 * the subscriptions of the left rows to each foreign key; answers a
 * subscription at once with the right row under it (or none), and a change
 * of a right row with one answer to each of its subscribers, keyed by
 * their left keys. Each answer carries the left row's version and value
 * and has the larger of the two rows' timestamps (`tableJoinTimestamp`).
 */
export function foreignKeyRespond<KO>(spec: ForeignKeyRespondSpec<KO>): () => Processor<unknown, unknown, Uint8Array, ForeignKeyResponse> {
  const envelope = foreignKeyEnvelopeSerde<ForeignKeyMessage>('foreign-key-subscription');
  return () => ({
    process(record, ctx) {
      const rows = ctx.getStore<KO, Timestamped<unknown>>(spec.rightRows);
      const subs = ctx.getOrderedStore(spec.subscriptions);
      const fk = record.key as KO;
      const fkHex = keyToHex(spec.foreignKeySerde.serialize(fk));
      const answer = (pk: Uint8Array, m: { version: number; left: Uint8Array | null; leftTs: number }, right: Uint8Array | null, rightTs: number | null, timestamp: number): void => {
        const value: ForeignKeyResponse = { version: m.version, left: m.left, leftTs: m.leftTs, right, rightTs };
        ctx.forward({ ...record, key: pk, value, timestamp, headers: {} }, spec.responsesNode);
      };
      if (ctx.parentNode === spec.subscriptionsParent) {
        const m = record.value as ForeignKeyMessage;
        const key = subscriptionKey(fkHex, keyToHex(m.pk));
        if (m.op === 'unsubscribe') return subs.delete(key);
        subs.put(key, envelope.serialize(m)!);
        const row = rows.get(fk);
        const right = row === undefined ? null : spec.rightSerde.serialize(row.value);
        return answer(m.pk, m, right, row?.timestamp ?? null, tableJoinTimestamp(m.leftTs, row?.timestamp));
      }
      const change = record.value as Change<unknown>;
      if (change.new === undefined) rows.delete(fk);
      else rows.put(fk, { value: change.new, timestamp: record.timestamp });
      const right = change.new === undefined ? null : spec.rightSerde.serialize(change.new);
      const prefix = `${fkHex}${SEP}`;
      for (const [key, bytes] of subs.range(prefix, `${fkHex}${AFTER}`)) {
        const m = envelope.deserialize(bytes);
        answer(hexToBytes(key.slice(prefix.length)), m, right, record.timestamp, tableJoinTimestamp(record.timestamp, m.leftTs));
      }
    },
  });
}

/** What the resolving step needs. */
export interface ForeignKeyResolveSpec<VL, VR, VOut> {
  readonly kind: ForeignKeyJoinKind;
  readonly joiner: (left: VL, right: VR | undefined) => VOut | null;
  /** The newest version seen of each left key. */
  readonly versions: string;
  /** The joined rows: the result table's store. */
  readonly results: string;
  readonly leftSerde: Serde<VL>;
  readonly rightSerde: Serde<VR>;
}

/**
 * The third step of a foreign-key join, co-partitioned with the left
 * table: an answer (or a change that needs none) counts when it is for the
 * newest version of its left row seen so far (`isCurrentResponse`; an older
 * one is dropped), and then sets the joined row to `tableJoinValue(kind,
 * left, right)`; the change goes on when a reader could see it.
 */
export function foreignKeyResolve<K, VL, VR, VOut>(spec: ForeignKeyResolveSpec<VL, VR, VOut>): () => Processor<K, ForeignKeyMessage | ForeignKeyResponse, K, Change<VOut>> {
  const joiner = (l: VL | undefined, r: VR | undefined): VOut | null => spec.joiner(l as VL, r);
  return () => ({
    process(record, ctx) {
      const versions = ctx.getStore<K, number>(spec.versions);
      const m = record.value;
      if (!isCurrentResponse(m.version, versions.get(record.key))) return;
      versions.put(record.key, m.version);
      const left = m.left === null ? undefined : spec.leftSerde.deserialize(m.left);
      const rightBytes = 'right' in m ? m.right : null;
      const right = rightBytes === null ? undefined : spec.rightSerde.deserialize(rightBytes);
      const results = ctx.getStore<K, Timestamped<VOut>>(spec.results);
      const old = results.get(record.key);
      const change: Change<VOut> = { old: old?.value, new: tableJoinValue(spec.kind, left, right, joiner) };
      if (!isVisibleChange(change)) return;
      if (change.new === undefined) results.delete(record.key);
      else results.put(record.key, { value: change.new, timestamp: record.timestamp });
      ctx.forward({ ...record, value: change, headers: {} });
    },
  });
}
