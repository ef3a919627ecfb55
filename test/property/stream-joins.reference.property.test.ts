/**
 * Stream–stream joins against brute-force references written here, for
 * random inputs on a few keys of both sides, every join kind, random join
 * windows (negative bounds included) and grace, both store kinds:
 *
 * (a) the set reference, for inputs of bounded disorder (each record
 *     processed while stream time <= its timestamp + grace, by
 *     construction): the joined pairs are all pairs with `isJoinMatch` —
 *     no clock rule at all — and the unmatched results every record with
 *     no partner whose window has closed by the end; nothing is late.
 *     Compared as multisets.
 * (b) the replay reference, for arbitrary disorder, on both clocks: replay
 *     the clock (stream time, advanced before each record; or the join's
 *     watermark, the minimum of both sides', advanced after it); a record
 *     is late by `isLateJoinRecord` at its index; a pair is joined iff
 *     neither is late, `isJoinMatch`, and `isPairOpen` at the later one's
 *     index; a non-late record with no joined pair is due at the first
 *     index after whose pass `isUnmatchedDue` holds. The expected
 *     sequence: per index, its pairs in partner (timestamp, index) order,
 *     then the results due after its pass by `compareUnmatched`.
 *     No store, no scan bounds, no incremental state.
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
import { JoinWindows } from '../../src/joins/join-windows.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import type { EventClock } from '../../src/time/event-clock.ts';
import {
  compareUnmatched,
  isJoinMatch,
  isLateJoinRecord,
  isPairOpen,
  isUnmatchedDue,
  joinWindowEnd,
  streamJoinResultTimestamp,
  type JoinSide,
} from '../../src/joins/stream-stream.ts';
import { NO_WATERMARK } from '../../src/time/watermark.ts';

const RUNS = propertyRuns(150);

type Kind = 'inner' | 'left' | 'outer';
interface Rec {
  readonly side: JoinSide;
  readonly key: string;
  readonly ts: number;
}
interface Case {
  readonly kind: Kind;
  readonly clock: EventClock;
  readonly store: StoreKind;
  readonly before: number;
  readonly after: number;
  readonly grace: number;
  readonly records: readonly Rec[];
}
type Row = readonly [key: string, value: string, ts: number];

const joiner = (l: string | undefined, r: string | undefined): string => `${l ?? '-'}+${r ?? '-'}`;
/** A record's value names it by its index: L3, R7. */
const valueOf = (r: Rec, i: number): string => `${r.side === 'left' ? 'L' : 'R'}${i}`;
const emits = (kind: Kind, side: JoinSide): boolean => kind === 'outer' || (kind === 'left' && side === 'left');

/** Runs the join on the TopologyTestDriver, one record per pipe (so in the order given). */
function run(c: Case): { rows: Row[]; late: number } {
  const b = new StreamsBuilder({ eventClock: c.clock });
  const left = b.stream<string, string>('left', { key: Serdes.string() });
  const right = b.stream<string, string>('right', { key: Serdes.string() });
  const windows = JoinWindows.ofTimeDifference(0).before(c.before).after(c.after).grace(c.grace);
  const options = { store: c.store };
  const joined = c.kind === 'inner' ? left.join(right, joiner, windows, options) : c.kind === 'left' ? left.leftJoin(right, joiner, windows, options) : left.outerJoin(right, joiner, windows, options);
  joined.to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  const inputs = { left: d.inputStream<string, string>('left', { partitions: 1, key: Serdes.string() }), right: d.inputStream<string, string>('right', { partitions: 1, key: Serdes.string() }) };
  for (const [i, r] of c.records.entries()) inputs[r.side].pipe(r.key, valueOf(r, i), { eventTime: r.ts, partition: 0 });
  return { rows: d.readOutput<string, string>('out', { key: Serdes.string() }).map((o): Row => [o.key, o.value, o.timestamp]), late: d.summary().lateRecords };
}

const sortRows = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => (a.join('|') < b.join('|') ? -1 : a.join('|') > b.join('|') ? 1 : 0));

/** (a) The set reference: every matching pair, and every partnerless record whose window closed by the final stream time. */
function setReference(c: Case): Row[] {
  const rows: Row[] = [];
  const partnered = new Set<number>();
  for (const [i, l] of c.records.entries()) {
    if (l.side !== 'left') continue;
    for (const [j, r] of c.records.entries()) {
      if (r.side !== 'right' || r.key !== l.key || !isJoinMatch(l.ts, r.ts, c.before, c.after)) continue;
      rows.push([l.key, joiner(valueOf(l, i), valueOf(r, j)), Math.max(l.ts, r.ts)]);
      partnered.add(i).add(j);
    }
  }
  const end = Math.max(...c.records.map((r) => r.ts));
  for (const [i, r] of c.records.entries()) {
    if (partnered.has(i) || !emits(c.kind, r.side)) continue;
    // closed by the end: the final stream time reached the window end plus the grace
    if (end < joinWindowEnd(r.side, r.ts, c.before, c.after) + c.grace) continue;
    rows.push([r.key, r.side === 'left' ? joiner(valueOf(r, i), undefined) : joiner(undefined, valueOf(r, i)), r.ts]);
  }
  return sortRows(rows);
}

/** (b) The replay reference: the expected output sequence for any processing order. */
function replayReference(c: Case): { rows: Row[]; late: number } {
  const rows: Row[] = [];
  // The clock. Stream time (the largest timestamp so far) is advanced by a record before it is processed. On the
  // watermark it is the join's watermark plus one — the minimum of both sides' monotonic watermarks (largest
  // timestamp − 1), NO_WATERMARK until both sides have had a record — and a record advances the watermark after
  // it is processed. `nowAt[j]`: the clock record j is processed at; `closeAt[j]`: after its pass.
  const nowAt: number[] = [];
  const closeAt: number[] = [];
  const maxTs = { left: -Infinity, right: -Infinity };
  const clock = (): number => {
    if (c.clock === 'stream-time') return Math.max(maxTs.left, maxTs.right);
    const w = Math.min(maxTs.left, maxTs.right) - 1;
    return (w === -Infinity ? NO_WATERMARK : w) + 1;
  };
  for (const r of c.records) {
    if (c.clock === 'watermark') nowAt.push(clock());
    maxTs[r.side] = Math.max(maxTs[r.side], r.ts);
    if (c.clock === 'stream-time') nowAt.push(clock());
    closeAt.push(clock());
  }
  const late = c.records.map((r, i) => isLateJoinRecord(r.side, r.ts, c.before, c.after, c.grace, nowAt[i]!));
  const joined = new Set<number>();
  const emitted = new Set<number>();
  for (const [j, r] of c.records.entries()) {
    if (!late[j]) {
      // pairs with earlier records, in (timestamp, index) order
      const partners = [...c.records.keys()]
        .filter((i) => i < j && !late[i] && c.records[i]!.side !== r.side && c.records[i]!.key === r.key)
        .sort((a, b) => c.records[a]!.ts - c.records[b]!.ts || a - b);
      for (const i of partners) {
        const [li, ri] = r.side === 'left' ? [j, i] : [i, j];
        const [l, rr] = [c.records[li]!, c.records[ri]!];
        if (!isJoinMatch(l.ts, rr.ts, c.before, c.after) || !isPairOpen(l.ts, rr.ts, c.before, c.after, c.grace, nowAt[j]!)) continue;
        rows.push([r.key, joiner(valueOf(l, li), valueOf(rr, ri)), streamJoinResultTimestamp(l.ts, rr.ts)]);
        joined.add(i).add(j);
      }
    }
    // after the pass: every non-late record (this one included) due now and not yet released
    const due = [...c.records.keys()]
      .filter((i) => i <= j && !late[i] && !emitted.has(i) && isUnmatchedDue(c.records[i]!.side, c.records[i]!.ts, c.before, c.after, c.grace, closeAt[j]!))
      .map((i) => ({ i, e: { side: c.records[i]!.side, ts: c.records[i]!.ts, windowEnd: joinWindowEnd(c.records[i]!.side, c.records[i]!.ts, c.before, c.after), seq: i } }))
      .sort((a, b) => compareUnmatched(a.e, b.e));
    for (const { i } of due) {
      emitted.add(i);
      const d = c.records[i]!;
      if (joined.has(i) || !emits(c.kind, d.side)) continue;
      rows.push([d.key, d.side === 'left' ? joiner(valueOf(d, i), undefined) : joiner(undefined, valueOf(d, i)), streamJoinResultTimestamp(d.side === 'left' ? d.ts : undefined, d.side === 'right' ? d.ts : undefined)]);
    }
  }
  return { rows, late: late.filter((l) => l).length };
}

const recArb = fc.record({ side: fc.constantFrom<JoinSide>('left', 'right'), key: fc.constantFrom('a', 'b', 'ab'), ts: fc.integer({ min: 0, max: 60 }) });
const common = {
  kind: fc.constantFrom<Kind>('inner', 'left', 'outer'),
  clock: fc.constant<EventClock>('stream-time'),
  store: fc.constantFrom<StoreKind>('in-memory', 'in-memory', 'lmdb'),
};

/** Bounded disorder by construction: arrival times increase, and a record's timestamp is at most `grace` before its arrival (so stream time <= ts + grace). */
const boundedArb: fc.Arbitrary<Case> = fc
  .record({ ...common, before: fc.integer({ min: 0, max: 8 }), after: fc.integer({ min: 0, max: 8 }), grace: fc.integer({ min: 0, max: 6 }) })
  .chain((w) =>
    fc.array(fc.record({ side: recArb.map((r) => r.side), key: recArb.map((r) => r.key), step: fc.integer({ min: 0, max: 4 }), delay: fc.integer({ min: 0, max: w.grace }) }), { minLength: 1, maxLength: 25 }).map((xs) => {
      let t = w.grace; // timestamps stay >= 0: a negative one is invalid input
      const records = xs.map((x) => ({ side: x.side, key: x.key, ts: (t += x.step) - x.delay }));
      return { ...w, records };
    }),
  );

test('(a) under bounded disorder the join yields every matching pair and every partnerless record once its window closed; nothing is late', () => {
  fc.assert(
    fc.property(boundedArb, (c) => {
      const { rows, late } = run(c);
      assert.deepEqual(sortRows(rows), setReference(c));
      assert.equal(late, 0);
    }),
    propertyParams(RUNS),
  );
});

const anyArb: fc.Arbitrary<Case> = fc.record({
  ...common,
  clock: fc.constantFrom<EventClock>('stream-time', 'watermark'),
  before: fc.integer({ min: -4, max: 8 }),
  after: fc.integer({ min: -4, max: 8 }),
  grace: fc.integer({ min: 0, max: 6 }),
  records: fc.array(recArb, { minLength: 1, maxLength: 25 }),
});

test('(b) under any disorder the join writes exactly the replay reference’s sequence: pairs, late records, unmatched results and their order', () => {
  fc.assert(
    fc.property(anyArb, (c) => {
      assert.deepEqual(run(c), replayReference(c));
    }),
    propertyParams(RUNS),
  );
});
