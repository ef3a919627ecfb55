/**
 * The rules of versioned tables: how far back a table's history reaches
 * (its horizon), which updates are late, which version a read as of a time
 * finds, which updates change the latest value, and what purging may drop.
 * The versioned store (`src/state/versioned-store.ts`), the versioned table
 * operator and the tests' references call these, rather than restating them.
 */

/**
 * One version of a key: its value (undefined for a delete) valid over
 * `[validFrom, validTo)`; `validTo` is undefined for the latest version.
 *
 * @example
 * const v: Version<number> = { validFrom: 10, validTo: 20, value: 3 }; // the key read 3 from 10 until 20
 */
export interface Version<V> {
  /** The timestamp of the update that wrote it: the first instant it is valid. */
  readonly validFrom: number;
  /** The timestamp of the next version: the first instant it is no longer valid; undefined for the latest. */
  readonly validTo: number | undefined;
  /** The key's value over the version; undefined: the key is absent (a delete). */
  readonly value: V | undefined;
}

/** The horizon before any clock has moved: no update is late, nothing is purged. */
export const NO_HORIZON = Number.MIN_SAFE_INTEGER;

/**
 * Rule: a versioned table's history horizon is `now − historyRetentionMs`,
 * `now` being the table node's event time now (stream time, or its input
 * watermark + 1: `eventClockNow`) — not, as in Kafka Streams, the largest
 * timestamp written to the store. Reads as of any `t >= horizon` are exact.
 * A clock that has not started yet gives {@link NO_HORIZON}.
 *
 * @example
 * historyHorizon(1_000, 300); // 700: reads as of 700 or later are exact
 */
export function historyHorizon(now: number, historyRetentionMs: number): number {
  return Math.max(NO_HORIZON, now - historyRetentionMs);
}

/**
 * Rule: a table update older than the horizon (`ts < horizon`) is late: it
 * goes to the late policy (dropped and counted, or a side output; audited
 * either way) and changes neither the history nor the latest value, a
 * delete included. Kafka Streams drops it silently.
 *
 * @example
 * isLateTableUpdate(699, 700); // true
 * isLateTableUpdate(700, 700); // false: at the horizon is on time
 */
export function isLateTableUpdate(ts: number, horizon: number): boolean {
  return ts < horizon;
}

/**
 * Rule: a table's value as of `t` is the version with the largest
 * `validFrom <= t` (inclusive); a delete version reads as absent, and a `t`
 * before every version finds none. (Two updates of a key at the same
 * timestamp make one version: the later one in scheduled order replaced
 * the earlier — see {@link isLatestUpdate}.)
 *
 * @example
 * const vs = [{ validFrom: 10, validTo: 20, value: 'a' }, { validFrom: 20, validTo: undefined, value: 'b' }];
 * versionAsOf(vs, 19)?.value; // 'a'
 * versionAsOf(vs, 20)?.value; // 'b'
 * versionAsOf(vs, 9);         // undefined
 */
export function versionAsOf<V>(versions: readonly Version<V>[], t: number): Version<V> | undefined {
  let found: Version<V> | undefined;
  for (const v of versions) if (v.validFrom <= t && (found === undefined || v.validFrom > found.validFrom)) found = v;
  return found;
}

/**
 * Rule: a read as of `t` is exact when `t >= horizon`, or when the key's
 * latest version (a delete included) has `validFrom <= t`: the latest
 * version never expires, and nothing older than the horizon can be written
 * any more. Any other read is beyond the history kept, and says so (it is
 * never answered "absent").
 *
 * @example
 * isExactAsOf(800, 700, undefined); // true: within the history
 * isExactAsOf(500, 700, 400);       // true: the latest version began at 400
 * isExactAsOf(500, 700, 600);       // false: what held at 500 may have been purged
 */
export function isExactAsOf(t: number, horizon: number, latestFrom: number | undefined): boolean {
  return t >= horizon || (latestFrom !== undefined && latestFrom <= t);
}

/**
 * Rule: a read of a range of keys (or of every key) as of `t` is exact only
 * when `t >= horizon`. Before the horizon, a key whose versions were all
 * purged (one deleted long ago) is no longer known at all, so a range would
 * silently miss it: such a read is beyond the history kept, as a one-key
 * read may be ({@link isExactAsOf}), and says so rather than list fewer
 * keys. A range of the latest versions is always exact.
 *
 * @example
 * isExactRangeAsOf(700, 700); // true: at the horizon
 * isExactRangeAsOf(699, 700); // false: a key deleted before 699 may be gone
 */
export function isExactRangeAsOf(t: number, horizon: number): boolean {
  return isExactAsOf(t, horizon, undefined);
}

/**
 * Rule: an update becomes the latest version when its timestamp is at or
 * after the latest version's (at the same timestamp it replaces it);
 * otherwise it only rewrites history — the version it falls in ends at its
 * timestamp, or it replaces the version of its own timestamp — and nothing
 * is forwarded downstream.
 *
 * @example
 * isLatestUpdate(20, 10);        // true
 * isLatestUpdate(10, 10);        // true: replaces the latest
 * isLatestUpdate(5, 10);         // false: a history write
 * isLatestUpdate(5, undefined);  // true: the key's first version
 */
export function isLatestUpdate(ts: number, latestFrom: number | undefined): boolean {
  return latestFrom === undefined || ts >= latestFrom;
}

/**
 * The smallest horizon at which a version can be purged (see
 * {@link isPurgeableVersion}): its `validTo` for a past version,
 * `validFrom + 1` for a latest delete; undefined for a latest value, which
 * is kept forever.
 *
 * @example
 * purgeableAt(20, false, 10);        // 20
 * purgeableAt(undefined, true, 10);  // 11
 * purgeableAt(undefined, false, 10); // undefined
 */
export function purgeableAt(validTo: number | undefined, isDelete: boolean, validFrom: number): number | undefined {
  if (validTo !== undefined) return validTo;
  return isDelete ? validFrom + 1 : undefined;
}

/**
 * Rule: a past version can be purged once it ended at or before the
 * horizon (`validTo <= horizon`): no exact read can find it any more. The
 * latest version is kept whatever its age, except a delete whose
 * `validFrom < horizon`, which reads the same as no entry at all (and no
 * update before it can come any more). So a store holds, per key, the
 * versions still valid somewhere in `[horizon, ∞)` plus its latest value.
 *
 * @example
 * isPurgeableVersion(700, false, 600, 700);       // true: ended at the horizon
 * isPurgeableVersion(701, false, 600, 700);       // false: valid at 700
 * isPurgeableVersion(undefined, false, 10, 700);  // false: the latest value
 * isPurgeableVersion(undefined, true, 699, 700);  // true: an old delete
 */
export function isPurgeableVersion(validTo: number | undefined, isDelete: boolean, validFrom: number, horizon: number): boolean {
  const at = purgeableAt(validTo, isDelete, validFrom);
  return at !== undefined && at <= horizon;
}
