/**
 * The rules of the foreign-key table join (`left.joinOnForeignKey(right,
 * fk, joiner)`): which right row a left row joins, which subscriptions a
 * change of a left row makes and ends, and which answers still count. The
 * joined value at a key is the table–table join's rule
 * (`tableJoinValue(kind, left, right)` with the right row under the left
 * row's foreign key), and so is its timestamp (`tableJoinTimestamp`).
 *
 * The join runs in three steps: where the left table is, each change of a
 * row — numbered by a per-key version — subscribes it to the right row
 * under its foreign key; where the right table is, each subscription, and
 * each change of a right row for its subscribers, is answered with the
 * right row; a third step keeps, per left key, the newest version it has
 * seen and the joined row.
 */

/** Which left rows a foreign-key join keeps: those with a right row (`inner`), or all (`left`). */
export type ForeignKeyJoinKind = 'inner' | 'left';

/**
 * Rule: a left row joins the right row under its foreign key `fk(value)`;
 * a null (or undefined) foreign key, or an absent left row, joins nothing
 * (`undefined`): an inner join has no row for it, a left join joins it with
 * no right row.
 *
 * @example
 * foreignKeyOf({ product: 'p1' }, (l) => l.product); // 'p1'
 * foreignKeyOf({ product: null }, (l) => l.product); // undefined
 * foreignKeyOf(undefined, (l: { product: string }) => l.product); // undefined: no left row
 */
export function foreignKeyOf<V, KO>(value: V | undefined, fk: (value: V) => KO | null | undefined): KO | undefined {
  if (value === undefined) return undefined;
  const key = fk(value);
  return key === null || key === undefined ? undefined : key;
}

/** A subscription a left row's change makes or ends, under a foreign key. */
export interface SubscriptionChange<KO> {
  /** The foreign key subscribed to, or no longer. */
  readonly fk: KO;
  /** Whether the subscription begins (or is renewed with a new value) or ends. */
  readonly kind: 'subscribe' | 'unsubscribe';
}

/**
 * Rule: a change of a left row whose foreign key goes from `oldFk` to
 * `newFk` (undefined: none — no row, or a null foreign key) ends the
 * subscription to `oldFk` when the foreign key changed or went (no answer
 * from it counts any more), then subscribes to `newFk` when there is one —
 * again when it is unchanged, since the subscription carries the left
 * row's new value and version. From then on the row's result follows
 * `newFk` alone. `same` says whether two foreign keys are one (Kafka
 * Streams: their serialized bytes are equal).
 *
 * @example
 * const same = (a: string, b: string) => a === b;
 * subscriptionChanges('p1', 'p2', same);       // unsubscribe p1, subscribe p2
 * subscriptionChanges('p1', 'p1', same);       // subscribe p1 (the new value)
 * subscriptionChanges('p1', undefined, same);  // unsubscribe p1: a deleted row, or a null foreign key
 * subscriptionChanges(undefined, undefined, same); // nothing
 */
export function subscriptionChanges<KO>(oldFk: KO | undefined, newFk: KO | undefined, same: (a: KO, b: KO) => boolean): SubscriptionChange<KO>[] {
  const out: SubscriptionChange<KO>[] = [];
  if (oldFk !== undefined && (newFk === undefined || !same(oldFk, newFk))) out.push({ fk: oldFk, kind: 'unsubscribe' });
  if (newFk !== undefined) out.push({ fk: newFk, kind: 'subscribe' });
  return out;
}

/**
 * Rule: each change of a left row gets the next version of its key (never
 * reused, not even after a delete), and an answer — a right row sent for a
 * subscription, or a change of the left row that needs none (a delete, a
 * null foreign key) — counts when its version is at least the newest the
 * join has seen for the key: an older one was computed for a left value
 * that has changed since, and is dropped (Kafka Streams compares hashes of
 * the left value instead, which lets an answer for `v1` through after `v1 →
 * v2 → v1`).
 *
 * @example
 * isCurrentResponse(3, 3);         // true: for the newest left value seen
 * isCurrentResponse(4, 3);         // true: for a newer one, whose change has not come yet
 * isCurrentResponse(2, 3);         // false: stale
 * isCurrentResponse(0, undefined); // true: the first
 */
export function isCurrentResponse(responseVersion: number, newestSeen: number | undefined): boolean {
  return newestSeen === undefined || responseVersion >= newestSeen;
}
