/**
 * The versioned-table rules of `src/tables/versioned.ts`, pinned by tables
 * of worked examples: the history horizon, late updates, the version a read
 * as of a time finds, when such a read is exact, which updates become the
 * latest, and what purging may drop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_HORIZON, historyHorizon, isExactAsOf, isExactRangeAsOf, isLateTableUpdate, isLatestUpdate, isPurgeableVersion, purgeableAt, versionAsOf, type Version } from '../../src/semantics.ts';

test('historyHorizon: now minus the retention, never below NO_HORIZON', () => {
  const rows: [now: number, retention: number, expected: number][] = [
    [1000, 300, 700],
    [1000, 0, 1000],
    [100, 300, -200], // negative horizons are horizons
    [-1, 0, -1], // stream time before any record
    [NO_HORIZON + 1, 5000, NO_HORIZON], // a watermark that has not started
  ];
  for (const [now, r, expected] of rows) assert.equal(historyHorizon(now, r), expected, `${now} − ${r}`);
});

test('isLateTableUpdate: strictly before the horizon', () => {
  const rows: [ts: number, horizon: number, expected: boolean][] = [[699, 700, true], [700, 700, false], [701, 700, false], [0, NO_HORIZON, false]];
  for (const [ts, h, expected] of rows) assert.equal(isLateTableUpdate(ts, h), expected, `${ts} vs ${h}`);
});

test('versionAsOf: the largest validFrom at or before t; none before the first', () => {
  const vs: Version<string>[] = [
    { validFrom: 10, validTo: 20, value: 'a' },
    { validFrom: 20, validTo: 30, value: undefined }, // a delete
    { validFrom: 30, validTo: undefined, value: 'c' },
  ];
  const rows: [t: number, expected: number | undefined][] = [[9, undefined], [10, 10], [19, 10], [20, 20], [29, 20], [30, 30], [1000, 30]];
  for (const [t, from] of rows) assert.equal(versionAsOf(vs, t)?.validFrom, from, `as of ${t}`);
  assert.equal(versionAsOf(vs, 25)?.value, undefined, 'a delete version reads as absent');
  assert.equal(versionAsOf([...vs].reverse(), 19)?.value, 'a', 'the order of the list does not matter');
  assert.equal(versionAsOf([], 5), undefined);
});

test('isExactAsOf: within the history, or at or after the latest version', () => {
  const rows: [t: number, horizon: number, latestFrom: number | undefined, expected: boolean][] = [
    [800, 700, undefined, true],
    [700, 700, 900, true], // at the horizon
    [699, 700, 900, false],
    [500, 700, 400, true], // the latest began before t: it still holds at t
    [500, 700, 500, true],
    [500, 700, 600, false],
    [500, 700, undefined, false], // no entry: a purged delete may have hidden a value
  ];
  for (const [t, h, from, expected] of rows) assert.equal(isExactAsOf(t, h, from), expected, `${t}, ${h}, ${from}`);
});

test('isExactRangeAsOf: only at or after the horizon, whatever the keys\' latest versions', () => {
  const rows: [t: number, horizon: number, expected: boolean][] = [
    [800, 700, true],
    [700, 700, true], // at the horizon
    [699, 700, false], // a key deleted before 699 may have been purged whole: the range cannot list it
    [NO_HORIZON, NO_HORIZON, true], // nothing purged yet
  ];
  for (const [t, h, expected] of rows) assert.equal(isExactRangeAsOf(t, h), expected, `${t}, ${h}`);
});

test('isLatestUpdate: at or after the latest version, or the first version', () => {
  const rows: [ts: number, latestFrom: number | undefined, expected: boolean][] = [[20, 10, true], [10, 10, true], [9, 10, false], [5, undefined, true]];
  for (const [ts, from, expected] of rows) assert.equal(isLatestUpdate(ts, from), expected, `${ts} vs ${from}`);
});

test('isPurgeableVersion / purgeableAt: past versions ended by the horizon, old latest deletes; never a latest value', () => {
  const rows: [validTo: number | undefined, isDelete: boolean, validFrom: number, horizon: number, expected: boolean, at: number | undefined][] = [
    [700, false, 600, 700, true, 700], // ended exactly at the horizon: no read at t >= 700 finds it
    [701, false, 600, 700, false, 701], // still valid at 700
    [700, true, 600, 700, true, 700], // a past delete like any past version
    [undefined, false, 10, 700, false, undefined], // the latest value never expires
    [undefined, true, 699, 700, true, 700], // a latest delete before the horizon reads as no entry
    [undefined, true, 700, 700, false, 701], // kept while the horizon is at it; purged once the horizon passes it
  ];
  for (const [to, del, from, h, expected, at] of rows) {
    assert.equal(isPurgeableVersion(to, del, from, h), expected, `${from}..${to} ${del ? 'delete' : 'value'} at ${h}`);
    assert.equal(purgeableAt(to, del, from), at);
  }
});
