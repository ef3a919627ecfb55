/**
 * Stream–table joins against brute-force references written here, for
 * random inputs on a few keys of both sides (table deletes included),
 * random history retention and grace, inner and left, both store kinds:
 *
 * (a) the set reference, for inputs of bounded disorder (each record
 *     processed while stream time <= its timestamp + grace, by
 *     construction): each stream record due by the end joins the version
 *     of its key with the largest (timestamp, arrival) at or before its own
 *     timestamp among *all* the table's updates — no clock rule at all.
 *     Nothing is late, nothing audited. Compared as multisets.
 * (b) the replay reference, for arbitrary disorder, on both clocks: replay
 *     the clocks (stream time, advanced before each record; or the
 *     watermarks — the table's own input's for its horizon, both inputs'
 *     for the join — advanced after it), the table's horizon (monotonic,
 *     `heldHorizon` of the retention's and the oldest waiting record), and
 *     the waiting records; a table update is late by `isLateTableUpdate`,
 *     a stream record when its as-of read is not `isExactAsOf`; waiting
 *     records are released after the pass that makes them
 *     `isStreamRecordDue`, in (timestamp, arrival) order; `late-table-update`
 *     audits by `missedJoinedRecords`. No store, no incremental state
 *     beyond plain lists.
 * (c) the latest-value join: each record joins the value last processed
 *     for its key (a replayed Map); every result that differs from what
 *     the as-of join of the whole input gives is audited
 *     (`nondeterministic:latest-value-join`) at the record, or at a table
 *     update of its key at or before its time processed after it.
 *
 * Case counts: `TIDEMARK_PROPERTY_RUNS` multiplies the base count of 150 per property;
 * replay a failure with `TIDEMARK_PROPERTY_SEED=<seed> TIDEMARK_PROPERTY_PATH=<path>`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { eventClockNow, type EventClock } from '../../src/time/event-clock.ts';
import { NO_WATERMARK } from '../../src/time/watermark.ts';
import { NO_HORIZON, historyHorizon, isExactAsOf, isLateTableUpdate } from '../../src/tables/versioned.ts';
import { heldHorizon, isStreamRecordDue, missedJoinedRecords } from '../../src/joins/stream-table.ts';

const RUNS = propertyRuns(150);

type Kind = 'inner' | 'left';
type Side = 'stream' | 'table';
interface Rec {
  readonly side: Side;
  readonly key: string;
  readonly ts: number;
  /** Table records only: a delete. */
  readonly del: boolean;
}
interface Case {
  readonly kind: Kind;
  readonly clock: EventClock;
  readonly store: StoreKind;
  readonly retention: number;
  readonly grace: number;
  readonly records: readonly Rec[];
}
type Row = readonly [key: string, value: string, ts: number];

const joiner = (s: string, t: string | undefined): string => `${s}+${t ?? '-'}`;
/** A record's value names it by its index: S3, T7. */
const valueOf = (r: Rec, i: number): string => `${r.side === 'stream' ? 'S' : 'T'}${i}`;

interface Ran {
  readonly rows: Row[];
  readonly late: number;
  /** Audit entries as [kind, index of the record in the case]. */
  readonly audits: [string, number][];
}

/** Runs the join on the TopologyTestDriver, one record per pipe (so in the order given). */
function run(c: Case, latest = false): Ran {
  const b = new StreamsBuilder({ eventClock: c.clock });
  const orders = b.stream<string, string>('orders', { key: Serdes.string() });
  const table = b.table<string, string>('customers', { key: Serdes.string(), ...(latest ? {} : { versioned: { historyRetentionMs: c.retention } }) });
  const options = { store: c.store };
  const joined = latest
    ? c.kind === 'inner'
      ? orders.joinLatest(table, joiner, options)
      : orders.leftJoinLatest(table, joiner, options)
    : c.kind === 'inner'
      ? orders.join(table, joiner, { ...options, grace: c.grace })
      : orders.leftJoin(table, joiner, { ...options, grace: c.grace });
  joined.to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  const inputs = { stream: d.inputStream<string, string | null>('orders', { partitions: 1, key: Serdes.string() }), table: d.inputStream<string, string | null>('customers', { partitions: 1, key: Serdes.string() }) };
  const indexOf = new Map<string, number>();
  const offsets = { stream: 0, table: 0 };
  for (const [i, r] of c.records.entries()) {
    inputs[r.side].pipe(r.key, r.del ? null : valueOf(r, i), { eventTime: r.ts, partition: 0 });
    indexOf.set(`${r.side === 'stream' ? 'orders' : 'customers'}@${offsets[r.side]++}`, i);
  }
  const audits = d
    .audit()
    .filter((e) => e.kind === 'late-table-update' || e.kind === 'nondeterministic:latest-value-join')
    .map((e): [string, number] => [e.kind, indexOf.get(`${e.stream}@${e.offset}`)!]);
  return { rows: d.readOutput<string, string>('out', { key: Serdes.string() }).map((o): Row => [o.key, o.value, o.timestamp]), late: d.summary().lateRecords, audits };
}

const sortRows = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => (a.join('|') < b.join('|') ? -1 : a.join('|') > b.join('|') ? 1 : 0));

/** The version of `key` as of `t` among the table records `updates` (indices into the case): the largest (timestamp, index) at or before `t`; a delete or none: undefined. */
function asOf(c: Case, updates: readonly number[], key: string, t: number): string | undefined {
  let found: number | undefined;
  for (const i of updates) {
    const u = c.records[i]!;
    if (u.key !== key || u.ts > t) continue;
    if (found === undefined || u.ts >= c.records[found]!.ts) found = i;
  }
  return found === undefined || c.records[found]!.del ? undefined : valueOf(c.records[found]!, found);
}

/** (a) The set reference: each stream record due by the end, joined as of its time over every table update. */
function setReference(c: Case): Row[] {
  const table = [...c.records.keys()].filter((i) => c.records[i]!.side === 'table');
  const end = Math.max(...c.records.map((r) => r.ts));
  const rows: Row[] = [];
  for (const [i, r] of c.records.entries()) {
    if (r.side !== 'stream' || !isStreamRecordDue(r.ts, c.grace, end)) continue;
    const v = asOf(c, table, r.key, r.ts);
    if (v !== undefined || c.kind === 'left') rows.push([r.key, joiner(valueOf(r, i), v), r.ts]);
  }
  return sortRows(rows);
}

/** (b) The replay reference: the expected output sequence, late count and audits for any processing order. */
function replayReference(c: Case): Ran {
  const rows: Row[] = [];
  const audits: [string, number][] = [];
  let late = 0;
  const maxTs = { stream: -Infinity, table: -Infinity };
  // The table node's clock reads its own input; the join's reads both.
  const watermarkOf = (ts: number): number => (ts === -Infinity ? NO_WATERMARK : ts - 1);
  const tableNow = (): number => eventClockNow(c.clock, Math.max(maxTs.stream, maxTs.table), watermarkOf(maxTs.table));
  const joinNow = (): number => eventClockNow(c.clock, Math.max(maxTs.stream, maxTs.table), Math.min(watermarkOf(maxTs.stream), watermarkOf(maxTs.table)));
  let horizon = NO_HORIZON;
  const accepted: number[] = [];
  const lastJoined = new Map<string, number>();
  let waiting: number[] = [];
  const advance = (): void => {
    const oldest = waiting.length === 0 ? undefined : Math.min(...waiting.map((i) => c.records[i]!.ts));
    horizon = Math.max(horizon, heldHorizon(historyHorizon(tableNow(), c.retention), oldest));
  };
  const join = (i: number): void => {
    const r = c.records[i]!;
    // The store's latest version of the key: the largest (timestamp, index); a delete older than the horizon is purged.
    const mine = accepted.filter((u) => c.records[u]!.key === r.key);
    const latestTs = mine.length === 0 ? undefined : Math.max(...mine.map((u) => c.records[u]!.ts));
    const latestIsDelete = latestTs !== undefined && c.records[mine.filter((u) => c.records[u]!.ts === latestTs).at(-1)!]!.del;
    const latestFrom = latestIsDelete && latestTs! < horizon ? undefined : latestTs;
    if (!isExactAsOf(r.ts, horizon, latestFrom)) {
      late++;
      return;
    }
    lastJoined.set(r.key, Math.max(lastJoined.get(r.key) ?? -Infinity, r.ts));
    const v = asOf(c, accepted, r.key, r.ts);
    if (v !== undefined || c.kind === 'left') rows.push([r.key, joiner(valueOf(r, i), v), r.ts]);
  };
  for (const [i, r] of c.records.entries()) {
    const before = { stream: joinNow(), table: tableNow() };
    if (c.clock === 'stream-time') maxTs[r.side] = Math.max(maxTs[r.side], r.ts);
    if (r.side === 'table') {
      advance();
      if (isLateTableUpdate(r.ts, horizon)) late++;
      else {
        accepted.push(i);
        if (missedJoinedRecords(r.ts, lastJoined.get(r.key))) audits.push(['late-table-update', i]);
      }
    } else if (isStreamRecordDue(r.ts, c.grace, joinNow())) join(i);
    else waiting.push(i);
    if (c.clock === 'watermark') maxTs[r.side] = Math.max(maxTs[r.side], r.ts);
    // The clock hooks after the pass, upstream first: the table's horizon, then the join's releases.
    if (tableNow() > before.table) advance();
    if (joinNow() > before.stream) {
      const now = joinNow();
      const due = waiting.filter((w) => isStreamRecordDue(c.records[w]!.ts, c.grace, now)).sort((a, b) => c.records[a]!.ts - c.records[b]!.ts || a - b);
      waiting = waiting.filter((w) => !due.includes(w));
      for (const w of due) join(w);
    }
  }
  return { rows, late, audits };
}

const recArb = fc.record({
  side: fc.constantFrom<Side>('stream', 'table'),
  key: fc.constantFrom('a', 'b', 'ab'),
  ts: fc.integer({ min: 0, max: 60 }),
  del: fc.boolean(),
});
const common = { kind: fc.constantFrom<Kind>('inner', 'left'), store: fc.constantFrom<StoreKind>('in-memory', 'in-memory', 'lmdb') };
/** Deletes on the table side only, about one update in six. */
const tidy = (r: Rec): Rec => (r.side === 'stream' ? { ...r, del: false } : { ...r, del: r.del && r.ts % 3 === 0 });

/** Bounded disorder by construction: arrival times increase, and a record's timestamp is at most `grace` before its arrival. */
const boundedArb: fc.Arbitrary<Case> = fc
  .record({ ...common, clock: fc.constant<EventClock>('stream-time'), grace: fc.integer({ min: 0, max: 6 }), extra: fc.integer({ min: 0, max: 10 }) })
  .chain((w) =>
    fc.array(fc.record({ r: recArb, step: fc.integer({ min: 0, max: 4 }), delay: fc.integer({ min: 0, max: w.grace }) }), { minLength: 1, maxLength: 25 }).map((xs) => {
      let t = w.grace;
      const records = xs.map((x) => tidy({ ...x.r, ts: (t += x.step) - x.delay }));
      return { kind: w.kind, clock: w.clock, store: w.store, grace: w.grace, retention: w.grace + w.extra, records };
    }),
  );

test('(a) under bounded disorder each stream record joins the table as of its time over every update, whatever their arrival order; nothing is late or audited', () => {
  fc.assert(
    fc.property(boundedArb, (c) => {
      const { rows, late, audits } = run(c);
      assert.deepEqual(sortRows(rows), setReference(c));
      assert.equal(late, 0);
      assert.deepEqual(audits, []);
    }),
    propertyParams(RUNS),
  );
});

const anyArb: fc.Arbitrary<Case> = fc
  .record({
    ...common,
    clock: fc.constantFrom<EventClock>('stream-time', 'watermark'),
    retention: fc.integer({ min: 0, max: 15 }),
    graceShare: fc.double({ min: 0, max: 1, noNaN: true }),
    records: fc.array(recArb, { minLength: 1, maxLength: 25 }),
  })
  .map((x) => ({ kind: x.kind, clock: x.clock, store: x.store, retention: x.retention, grace: Math.floor(x.graceShare * x.retention), records: x.records.map(tidy) }));

test('(b) under any disorder the join writes exactly the replay reference’s sequence, late records and late-table-update audits', () => {
  fc.assert(
    fc.property(anyArb, (c) => {
      assert.deepEqual(run(c), replayReference(c));
    }),
    propertyParams(RUNS),
  );
});

test('(c) joinLatest joins the value last processed; every result that differs from the as-of join of the whole input is audited', () => {
  fc.assert(
    fc.property(anyArb, (c) => {
      const { rows, audits } = run(c, true);
      const current = new Map<string, string | undefined>();
      const expected: Row[] = [];
      const differing: number[] = [];
      const table = [...c.records.keys()].filter((i) => c.records[i]!.side === 'table');
      for (const [i, r] of c.records.entries()) {
        if (r.side === 'table') {
          current.set(r.key, r.del ? undefined : valueOf(r, i));
          continue;
        }
        const v = current.get(r.key);
        if (v !== undefined || c.kind === 'left') expected.push([r.key, joiner(valueOf(r, i), v), r.ts]);
        if (v !== asOf(c, table, r.key, r.ts)) differing.push(i);
      }
      assert.deepEqual(rows, expected);
      const audited = new Set(audits.filter(([k]) => k === 'nondeterministic:latest-value-join').map(([, i]) => i));
      for (const i of differing) {
        const r = c.records[i]!;
        const laterUpdate = [...c.records.keys()].some((u) => u > i && audited.has(u) && c.records[u]!.side === 'table' && c.records[u]!.key === r.key && c.records[u]!.ts <= r.ts);
        assert.ok(audited.has(i) || laterUpdate, `record ${i} (${r.key}@${r.ts}) joined another value than the as-of join's, unaudited`);
      }
    }),
    propertyParams(RUNS),
  );
});
