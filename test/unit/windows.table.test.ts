/**
 * Table tests for windowed aggregations (docs/windows.md), each with its
 * expected output worked out by hand from the rules:
 * - windows are `[start, end)` on the grid `offset + k·advance`;
 * - a window closes when `streamTime >= end + grace` (sessions: `end` is
 *   `lastTs + gap + 1`; sliding: `start + d + 1`), stream time being advanced
 *   by each record before it is processed;
 * - `updates` emits on every change, `final` once per window when it closes,
 *   after the pass of the record that advanced stream time, in (start or
 *   end, key bytes) order;
 * - result timestamp `end − 1` (`lastTs` for sessions).
 * Rows are `[key, start, end, value, timestamp]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import type { KStream } from '../../src/dsl/kstream.ts';
import type { KGroupedStream } from '../../src/dsl/grouped-stream.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { TimeWindows } from '../../src/windows/time-windows.ts';
import { SlidingWindows } from '../../src/windows/sliding-windows.ts';
import { SessionWindows } from '../../src/windows/session-windows.ts';
import type { Windowed } from '../../src/windows/window.ts';
import type { EmitStrategy, LatePolicy } from '../../src/windows/emission.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { Serdes } from '../../src/records/serde.ts';

type Row = [key: string, start: number, end: number, value: unknown, timestamp: number];
/** An input record: key, value, event time. */
type In = readonly [key: string, value: unknown, ts: number];

interface Opts {
  readonly emit: EmitStrategy;
  readonly late?: LatePolicy;
  readonly store?: StoreKind;
}

const rows = (records: readonly { key: Windowed<string>; value: unknown; timestamp: number }[]): Row[] =>
  records.map((r) => [r.key.key, r.key.start, r.key.end, r.value, r.timestamp]);

/** Builds `in → groupByKey → (aggregation) → out`, pipes the records in one batch (one partition), returns the output rows. */
function run<V>(define: (g: KGroupedStream<string, V>) => KStream<Windowed<string>, any>, records: readonly In[]): { out: Row[]; d: TopologyTestDriver } {
  const b = new StreamsBuilder();
  define(b.stream<string, V>('in').groupByKey()).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, unknown>('in', { partitions: 1 }).pipeAll(records.map(([key, value, eventTime]) => ({ key, value, eventTime })));
  return { out: rows(d.readOutput<Windowed<string>, unknown>('out')), d };
}

/** `[kind, offset]` of the late-record and late-window audit entries. */
const lateAudit = (d: TopologyTestDriver): [string, number][] =>
  d
    .audit()
    .filter((a) => a.kind === 'late-record' || a.kind === 'late-window')
    .map((a) => [a.kind, a.offset]);

const xs = (...ts: number[]): In[] => ts.map((t, i) => ['a', `v${i}`, t] as const);

// ---------------------------------------------------------------------------
// Tumbling windows
// ---------------------------------------------------------------------------

test('tumbling: a record exactly at a window end belongs to the next window (updates and final)', () => {
  // size 10, grace 0: 0, 9 → [0,10); 10, 19 → [10,20); 20 → [20,30).
  const input = xs(0, 9, 10, 19, 20);
  const count = (emit: EmitStrategy) => run((g) => g.windowedBy(TimeWindows.ofSize(10)).count({ emit }), input).out;
  // updates: one result per record, for its one window.
  assert.deepEqual(count('updates'), [
    ['a', 0, 10, 1, 9],
    ['a', 0, 10, 2, 9],
    ['a', 10, 20, 1, 19],
    ['a', 10, 20, 2, 19],
    ['a', 20, 30, 1, 29],
  ]);
  // final: 10 moves stream time to 10 = end of [0,10) + grace → closes it; 20 closes [10,20);
  // [20,30) stays open (stream time 20 < 30).
  assert.deepEqual(count('final'), [
    ['a', 0, 10, 2, 9],
    ['a', 10, 20, 2, 19],
  ]);
});

test('tumbling: positive, negative and zero offsets shift the grid (negative starts allowed)', () => {
  const count = (w: TimeWindows, input: In[]) => run((g) => g.windowedBy(w).count({ emit: 'updates' }), input).out;
  // offset 3: grid …, −7, 3, 13, …: 2 → [−7,3) (a negative start), 3 and 12 → [3,13), 13 → [13,23).
  assert.deepEqual(count(TimeWindows.ofSize(10).withOffset(3), xs(2, 3, 12, 13)), [
    ['a', -7, 3, 1, 2],
    ['a', 3, 13, 1, 12],
    ['a', 3, 13, 2, 12],
    ['a', 13, 23, 1, 22],
  ]);
  // offset −3: grid …, −3, 7, 17: 0 and 6 → [−3,7), 7 → [7,17).
  assert.deepEqual(count(TimeWindows.ofSize(10).withOffset(-3), xs(0, 6, 7)), [
    ['a', -3, 7, 1, 6],
    ['a', -3, 7, 2, 6],
    ['a', 7, 17, 1, 16],
  ]);
  // offset 0 is the epoch grid: 0 and 9 → [0,10), 10 → [10,20).
  const zero = count(TimeWindows.ofSize(10).withOffset(0), xs(0, 9, 10));
  assert.deepEqual(zero, [
    ['a', 0, 10, 1, 9],
    ['a', 0, 10, 2, 9],
    ['a', 10, 20, 1, 19],
  ]);
  assert.deepEqual(count(TimeWindows.ofSize(10), xs(0, 9, 10)), zero);
  // Offsets equal modulo the size give the same grid: 23 ≡ 3, −13 ≡ −3 ≡ 7.
  assert.deepEqual(count(TimeWindows.ofSize(10).withOffset(23), xs(2, 3, 12, 13)), count(TimeWindows.ofSize(10).withOffset(3), xs(2, 3, 12, 13)));
  assert.deepEqual(count(TimeWindows.ofSize(10).withOffset(-13), xs(0, 6, 7)), count(TimeWindows.ofSize(10).withOffset(7), xs(0, 6, 7)));
});

test('tumbling: out-of-order records inside grace update the result (updates) and are included (final); at end + grace they are late', () => {
  // size 10, grace 5: [0,10) closes when stream time reaches 15.
  //   0  (st 0)  → [0,10) = 1
  //   14 (st 14) → [10,20) = 1
  //   9  (st 14 = end + grace − 1: open) → [0,10) = 2
  //   15 (st 15 = end + grace: [0,10) closes) → [10,20) = 2
  //   9  (st 15: [0,10) closed, its only window) → late record
  const input = xs(0, 14, 9, 15, 9);
  const updates = run((g) => g.windowedBy(TimeWindows.ofSize(10).grace(5)).count({ emit: 'updates' }), input);
  assert.deepEqual(updates.out, [
    ['a', 0, 10, 1, 9],
    ['a', 10, 20, 1, 19],
    ['a', 0, 10, 2, 9],
    ['a', 10, 20, 2, 19],
  ]);
  assert.equal(updates.d.summary().lateRecords, 1);
  assert.equal(updates.d.summary().lateWindows, 0);
  assert.deepEqual(lateAudit(updates.d), [['late-record', 4]]);
  // final: [0,10) is emitted once, after 15 moved stream time to 15, with the in-grace 9 counted.
  const final = run((g) => g.windowedBy(TimeWindows.ofSize(10).grace(5)).count({ emit: 'final' }), input);
  assert.deepEqual(final.out, [['a', 0, 10, 2, 9]]);
  assert.deepEqual(lateAudit(final.d), [['late-record', 4]]);
});

test('tumbling final: nothing before a window closes, each window exactly once', () => {
  // size 10, grace 5: [0,10) closes at stream time 15, [10,20) at 25, [20,30) at 35.
  const b = new StreamsBuilder();
  b.stream<string, number>('in').groupByKey().windowedBy(TimeWindows.ofSize(10).grace(5)).count({ emit: 'final' }).to('out');
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { partitions: 1 });
  const step = (ts: number, expected: Row[]): void => {
    input.pipe('a', 0, { eventTime: ts });
    assert.deepEqual(rows(d.readOutput('out')), expected, `after the record at ${ts}`);
  };
  step(1, []);
  step(9, []);
  step(14, []); // st 14 < 15
  step(5, []); // in grace: counted in [0,10)
  step(15, [['a', 0, 10, 3, 9]]); // 1, 9, 5
  step(20, []); // [0,10) is not emitted again
  step(25, [['a', 10, 20, 2, 19]]); // 14, 15
  step(3, []); // late for [0,10): dropped, no second result
  step(26, []);
  step(100, [['a', 20, 30, 3, 29]]); // 20, 25, 26; [100,110) still open
  assert.equal(d.summary().lateRecords, 1);
});

test('tumbling: count, reduce and aggregate over the same windows', () => {
  // size 10: [0,10) gets 3 then 4; [10,20) gets 5.
  const input: In[] = [
    ['a', 3, 1],
    ['a', 4, 8],
    ['a', 5, 10],
  ];
  const w = TimeWindows.ofSize(10);
  assert.deepEqual(run<number>((g) => g.windowedBy(w).count({ emit: 'updates' }), input).out, [
    ['a', 0, 10, 1, 9],
    ['a', 0, 10, 2, 9],
    ['a', 10, 20, 1, 19],
  ]);
  assert.deepEqual(run<number>((g) => g.windowedBy(w).reduce((x, y) => x + y, { emit: 'updates' }), input).out, [
    ['a', 0, 10, 3, 9],
    ['a', 0, 10, 7, 9],
    ['a', 10, 20, 5, 19],
  ]);
  assert.deepEqual(
    run<number>((g) => g.windowedBy(w).aggregate(() => ({ n: 0, values: [] as number[] }), (_k, v, acc) => ({ n: acc.n + 1, values: [...acc.values, v] }), { emit: 'updates' }), input).out,
    [
      ['a', 0, 10, { n: 1, values: [3] }, 9],
      ['a', 0, 10, { n: 2, values: [3, 4] }, 9],
      ['a', 10, 20, { n: 1, values: [5] }, 19],
    ],
  );
});

test('tumbling final: windows closing together come out in (start, key bytes) order', () => {
  // size 10, grace 0: b@1, a@2 in [0,10); c@11 moves stream time to 11 and closes [0,10); a@12 in
  // [10,20); z@30 closes [10,20).
  const input: In[] = [
    ['b', 0, 1],
    ['a', 0, 2],
    ['c', 0, 11],
    ['a', 0, 12],
    ['z', 0, 30],
  ];
  // st 11 closes [0,10): a before b (key bytes "a" < "b"), though b came first; st 30 closes [10,20): a before c.
  assert.deepEqual(run((g) => g.windowedBy(TimeWindows.ofSize(10)).count({ emit: 'final' }), input).out, [
    ['a', 0, 10, 1, 9],
    ['b', 0, 10, 1, 9],
    ['a', 10, 20, 1, 19],
    ['c', 10, 20, 1, 19],
  ]);
});

// ---------------------------------------------------------------------------
// Late policies
// ---------------------------------------------------------------------------

test('late policy drop: the late record is counted and audited with its position, and dropped', () => {
  // size 10, grace 0: 10 closes [0,10); the 5 after it is late for its only window.
  const { out, d } = run((g) => g.windowedBy(TimeWindows.ofSize(10)).count({ emit: 'updates', late: 'drop' }), xs(1, 10, 5));
  assert.deepEqual(out, [
    ['a', 0, 10, 1, 9],
    ['a', 10, 20, 1, 19],
  ]);
  assert.equal(d.summary().lateRecords, 1);
  const audit = d.audit().filter((a) => a.kind === 'late-record');
  assert.equal(audit.length, 1);
  assert.deepEqual([audit[0]!.stream, audit[0]!.partition, audit[0]!.offset], ['in', 0, 2]);
  assert.match(audit[0]!.detail, /late/);
});

test('late policy sideOutput: the late record goes, untouched, to its stream (and is still counted)', () => {
  // Same input as above, with a value and headers that must come through untouched.
  const b = new StreamsBuilder();
  b.stream<string, { n: number }>('in').groupByKey().windowedBy(TimeWindows.ofSize(10)).count({ emit: 'updates', late: { sideOutput: 'too-late' } }).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, { n: number }>('in', { partitions: 1 }).pipeAll([
    { key: 'a', value: { n: 1 }, eventTime: 1 },
    { key: 'a', value: { n: 2 }, eventTime: 10 },
    { key: 'a', value: { n: 3 }, eventTime: 5, headers: { trace: 'x1' } },
  ]);
  assert.deepEqual(rows(d.readOutput('out')), [
    ['a', 0, 10, 1, 9],
    ['a', 10, 20, 1, 19],
  ]);
  const side = d.readOutput<string, { n: number }>('too-late');
  assert.deepEqual(side.map((r) => [r.key, r.value, r.timestamp, r.headers['trace']]), [['a', { n: 3 }, 5, 'x1']]);
  assert.equal(d.summary().lateRecords, 1);
  assert.deepEqual(lateAudit(d), [['late-record', 2]]);
});

// ---------------------------------------------------------------------------
// Hopping windows
// ---------------------------------------------------------------------------

test('hopping: size 10, advance 3 (size not a multiple of the advance)', () => {
  // Grid …, −9, −6, −3, 0, 3, 6, 9, …; a record at t is in every [s, s+10) with s <= t < s + 10:
  //   0  → −9, −6, −3, 0     2 → −6, −3, 0     11 → 3, 6, 9
  const w = TimeWindows.ofSize(10).advanceBy(3);
  const input = xs(0, 2, 11);
  assert.deepEqual(run((g) => g.windowedBy(w).count({ emit: 'updates' }), input).out, [
    ['a', -9, 1, 1, 0],
    ['a', -6, 4, 1, 3],
    ['a', -3, 7, 1, 6],
    ['a', 0, 10, 1, 9],
    ['a', -6, 4, 2, 3],
    ['a', -3, 7, 2, 6],
    ['a', 0, 10, 2, 9],
    ['a', 3, 13, 1, 12],
    ['a', 6, 16, 1, 15],
    ['a', 9, 19, 1, 18],
  ]);
  // final, grace 0: st 2 closes [−9,1); st 11 closes [−6,4), [−3,7), [0,10); the rest stay open.
  assert.deepEqual(run((g) => g.windowedBy(w).count({ emit: 'final' }), input).out, [
    ['a', -9, 1, 1, 0],
    ['a', -6, 4, 2, 3],
    ['a', -3, 7, 2, 6],
    ['a', 0, 10, 2, 9],
  ]);
});

test('hopping: a record late for some of its windows only is accepted by the others; each skipping window is counted (late-window), not a late record', () => {
  // size 10, advance 5, grace 0.
  //   a@0  (st 0)  → [−5,5), [0,10)
  //   b@12 (st 12) → [5,15), [10,20); closes [−5,5) (5 <= 12) and [0,10) (10 <= 12)
  //   a@7  (st 12) → [0,10) closed (late window), [5,15) open: accepted there
  //   a@3  (st 12) → [−5,5) and [0,10) both closed: a late record
  //   c@20 (st 20) → [15,25), [20,30); closes [5,15) (15) and [10,20) (20)
  const input: In[] = [
    ['a', 0, 0],
    ['b', 0, 12],
    ['a', 0, 7],
    ['a', 0, 3],
    ['c', 0, 20],
  ];
  const w = TimeWindows.ofSize(10).advanceBy(5);
  const updates = run((g) => g.windowedBy(w).count({ emit: 'updates' }), input);
  assert.deepEqual(updates.out, [
    ['a', -5, 5, 1, 4],
    ['a', 0, 10, 1, 9],
    ['b', 5, 15, 1, 14],
    ['b', 10, 20, 1, 19],
    ['a', 5, 15, 1, 14],
    ['c', 15, 25, 1, 24],
    ['c', 20, 30, 1, 29],
  ]);
  assert.equal(updates.d.summary().lateWindows, 1);
  assert.equal(updates.d.summary().lateRecords, 1);
  assert.deepEqual(lateAudit(updates.d), [
    ['late-window', 2],
    ['late-record', 3],
  ]);
  // final: st 12 emits [−5,5) and [0,10) of a (a@7 is not in [0,10)); st 20 emits [5,15) for a then b
  // (key bytes order), then [10,20) of b.
  const final = run((g) => g.windowedBy(w).count({ emit: 'final' }), input);
  assert.deepEqual(final.out, [
    ['a', -5, 5, 1, 4],
    ['a', 0, 10, 1, 9],
    ['a', 5, 15, 1, 14],
    ['b', 5, 15, 1, 14],
    ['b', 10, 20, 1, 19],
  ]);
  assert.deepEqual(lateAudit(final.d), lateAudit(updates.d));
});

test('hopping with sideOutput: a partly late record is not sent to the side stream, a wholly late one is', () => {
  // As above: a@7 is accepted by [5,15) (late window only), a@3 is a late record.
  const b = new StreamsBuilder();
  b.stream<string, number>('in').groupByKey().windowedBy(TimeWindows.ofSize(10).advanceBy(5)).count({ emit: 'updates', late: { sideOutput: 'late' } }).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in', { partitions: 1 }).pipeAll([
    { key: 'a', value: 1, eventTime: 0 },
    { key: 'b', value: 2, eventTime: 12 },
    { key: 'a', value: 3, eventTime: 7 },
    { key: 'a', value: 4, eventTime: 3 },
  ]);
  assert.deepEqual(d.readOutput<string, number>('late').map((r) => [r.key, r.value, r.timestamp]), [['a', 4, 3]]);
  assert.equal(d.summary().lateWindows, 1);
  assert.equal(d.summary().lateRecords, 1);
});

// ---------------------------------------------------------------------------
// Record-anchored sliding windows
// ---------------------------------------------------------------------------

test('sliding: left and right windows, out-of-order updates, no duplicate result for a window that already existed', () => {
  // d = 5, grace 10 (nothing closes here). Windows [s, s+5] are reported as [s, s+6) with timestamp s+5.
  //   10 → left [5,10] = {10}
  //   13 → left [8,13] = {10,13}; right of 10 [11,16] (13 is in (10,16]) = {13}
  //   20 → left [15,20] = {20}  (no record in (13,19] or (10,16] besides 13: no other new window)
  //   14 (st 20) → left [9,14] = {10,13,14}; right of 10 [11,16] = {13,14}; right of 13 [14,19], new
  //      (14 is in (13,19]) = {14}. Its own right window [15,20] (20 is in (14,20]) is the left window
  //      of 20, which already existed and does not change: no result for it.
  const input = xs(10, 13, 20, 14);
  const { out } = run((g) => g.windowedBy(SlidingWindows.ofTimeDifference(5).grace(10)).count({ emit: 'updates' }), input);
  assert.deepEqual(out, [
    ['a', 5, 11, 1, 10],
    ['a', 8, 14, 2, 13],
    ['a', 11, 17, 1, 16],
    ['a', 15, 21, 1, 20],
    ['a', 9, 15, 3, 14],
    ['a', 11, 17, 2, 16],
    ['a', 14, 20, 1, 19],
  ]);
});

test('sliding: a right window created by an out-of-order record is emitted (updates)', () => {
  // d = 5, grace 10: 20 → [15,20] = {20}; then 16 (st 20) → left [11,16] = {16}; its right window
  // [17,22] (20 is in (16,22]) is new = {20}; 20's left window [15,20] now = {16,20}.
  const { out } = run((g) => g.windowedBy(SlidingWindows.ofTimeDifference(5).grace(10)).count({ emit: 'updates' }), xs(20, 16));
  assert.deepEqual(out, [
    ['a', 15, 21, 1, 20],
    ['a', 11, 17, 1, 16],
    ['a', 15, 21, 2, 20],
    ['a', 17, 23, 1, 22],
  ]);
});

test('sliding: windows near the epoch are not clipped at 0', () => {
  // d = 5: 2 → left [−3,2] (Kafka Streams would use [0,5]); 4 → left [−1,4] = {2,4}, right of 2 [3,8] = {4}.
  const { out } = run((g) => g.windowedBy(SlidingWindows.ofTimeDifference(5)).count({ emit: 'updates' }), xs(2, 4));
  assert.deepEqual(out, [
    ['a', -3, 3, 1, 2],
    ['a', -1, 5, 2, 4],
    ['a', 3, 9, 1, 8],
  ]);
});

test('sliding final: each window once, when stream time reaches start + d + 1 + grace', () => {
  // d = 5, grace 0. a: 10 → [5,10] (closes at 11); 13 → [8,13] (closes 14) and right of 10 [11,16] (closes 17).
  //   st 13 closes [5,10] = {10}; b@30 (st 30) closes [8,13] = {10,13} and [11,16] = {13}, in start order;
  //   b's [25,30] closes at 31: not yet.
  const input: In[] = [
    ['a', 0, 10],
    ['a', 0, 13],
    ['b', 0, 30],
  ];
  assert.deepEqual(run((g) => g.windowedBy(SlidingWindows.ofTimeDifference(5)).count({ emit: 'final' }), input).out, [
    ['a', 5, 11, 1, 10],
    ['a', 8, 14, 2, 13],
    ['a', 11, 17, 1, 16],
  ]);
  // updates, same input: 10 → [5,10]; 13 → [8,13], [11,16]; b@30 → [25,30].
  assert.deepEqual(run((g) => g.windowedBy(SlidingWindows.ofTimeDifference(5)).count({ emit: 'updates' }), input).out, [
    ['a', 5, 11, 1, 10],
    ['a', 8, 14, 2, 13],
    ['a', 11, 17, 1, 16],
    ['b', 25, 31, 1, 30],
  ]);
});

test('sliding: grace boundary — accepted at end + grace − 1, late at end + grace', () => {
  // d = 5, grace 2. a@10's left window [5,10] is [5,11): it closes at stream time 11 + 2 = 13.
  //   a@10 (st 10) → [5,10] = 1
  //   b@12 (st 12) → b [7,12] = 1
  //   a@10 (st 12 = 13 − 1: open) → [5,10] = 2  (no later a record: no right window)
  //   b@13 (st 13: a's [5,10] closes) → b [8,13] = {12,13}, right of 12 [13,18] = {13}
  //   a@10 (st 13: its only window is closed) → late record
  const input: In[] = [
    ['a', 0, 10],
    ['b', 0, 12],
    ['a', 0, 10],
    ['b', 0, 13],
    ['a', 0, 10],
  ];
  const w = SlidingWindows.ofTimeDifference(5).grace(2);
  const updates = run((g) => g.windowedBy(w).count({ emit: 'updates' }), input);
  assert.deepEqual(updates.out, [
    ['a', 5, 11, 1, 10],
    ['b', 7, 13, 1, 12],
    ['a', 5, 11, 2, 10],
    ['b', 8, 14, 2, 13],
    ['b', 13, 19, 1, 18],
  ]);
  assert.deepEqual(lateAudit(updates.d), [['late-record', 4]]);
  // final: only a's [5,10] closes (at st 13), with both in-grace records.
  const final = run((g) => g.windowedBy(w).count({ emit: 'final' }), input);
  assert.deepEqual(final.out, [['a', 5, 11, 2, 10]]);
  assert.deepEqual(lateAudit(final.d), [['late-record', 4]]);
});

test('sliding: a record late for some windows only counts each skipping window (late-window)', () => {
  // d = 5, grace 0. 10 (st 10), then 16 (st 16): closes [5,10] (11) … and 10's right window [11,16]
  //   (contains 16, closes at 17: open). 9 (st 16): its windows are left [4,9] (closes 10: closed) and
  //   left of 10 [5,10] (closed) → late record. 12 (st 16): left [7,12] closes 13 (closed); right of 10
  //   [11,16] closes 17 (open) → accepted, one late window.
  const input = xs(10, 16, 9, 12);
  const { out, d } = run((g) => g.windowedBy(SlidingWindows.ofTimeDifference(5)).count({ emit: 'updates' }), input);
  assert.deepEqual(out, [
    ['a', 5, 11, 1, 10],
    ['a', 11, 17, 1, 16], // left of 16 [11,16] = {16}; also 10's right window (same interval)
    ['a', 11, 17, 2, 16], // 12 joins [11,16]; its right window [13,18] = {16} is new but …
    ['a', 13, 19, 1, 18], // … open (closes at 19): emitted
  ]);
  assert.deepEqual(lateAudit(d), [
    ['late-record', 2],
    ['late-window', 3],
  ]);
});

test('sliding: a right window outlives the record it hangs on — still updated and emitted after that record is old', () => {
  // d = 5, grace 0. a@0 and a@3: left [−5,0] (closes 1), left [−2,3] (closes 4), right of 0 [1,6] = {3}
  // (closes 7 — one later than any window containing 0, which close by 0 + 5 + 1 = 6).
  //   b@6 (st 6): b's left [1,6]
  //   final, b@7 (st 7): a's [1,6] and b's [1,6] close, a before b
  const final = run((g) => g.windowedBy(SlidingWindows.ofTimeDifference(5)).count({ emit: 'final' }), [
    ['a', 0, 0],
    ['a', 0, 3],
    ['b', 0, 6],
    ['b', 0, 7],
  ]);
  assert.deepEqual(final.out, [
    ['a', -5, 1, 1, 0], // st 3
    ['a', -2, 4, 2, 3], // st 6
    ['a', 1, 7, 1, 6], // st 7
    ['b', 1, 7, 1, 6],
  ]);
  //   updates, a@5 after b@6 (st 6): left [0,5] closes at 6 (late window); 0's right window [1,6] is open
  //   (closes 7) = {3,5}; 3's right window [4,9] = {5} is new; 5 has no later record: no right window.
  const updates = run((g) => g.windowedBy(SlidingWindows.ofTimeDifference(5)).count({ emit: 'updates' }), [
    ['a', 0, 0],
    ['a', 0, 3],
    ['b', 0, 6],
    ['a', 0, 5],
  ]);
  assert.deepEqual(updates.out, [
    ['a', -5, 1, 1, 0],
    ['a', -2, 4, 2, 3],
    ['a', 1, 7, 1, 6],
    ['b', 1, 7, 1, 6],
    ['a', 1, 7, 2, 6],
    ['a', 4, 10, 1, 9],
  ]);
  assert.deepEqual(lateAudit(updates.d), [['late-window', 3]]);
});

test('sliding: every closed window a record belongs to is counted, also the right window of an old record', () => {
  // d = 5, grace 0. a@0, a@3 (right of 0: [1,6] = {3}), a@7 (st 7): left [2,7] = {3,7}, right of 3 [4,9] = {7}.
  // a@2 (st 7) belongs to [−3,2] (closed at 3), [−2,3] (closed at 4), 0's right window [1,6] (closed at 7)
  // and 7's left window [2,7] (open until 8): accepted, 3 late windows. [2,7] = {2,3,7}; 2's right window
  // [3,8] (3 and 7 are in (2,8]) is new = {3,7}.
  const { out, d } = run((g) => g.windowedBy(SlidingWindows.ofTimeDifference(5)).count({ emit: 'updates' }), xs(0, 3, 7, 2));
  assert.deepEqual(out, [
    ['a', -5, 1, 1, 0],
    ['a', -2, 4, 2, 3],
    ['a', 1, 7, 1, 6],
    ['a', 2, 8, 2, 7],
    ['a', 4, 10, 1, 9],
    ['a', 2, 8, 3, 7],
    ['a', 3, 9, 2, 8],
  ]);
  assert.deepEqual(lateAudit(d), [
    ['late-window', 3],
    ['late-window', 3],
    ['late-window', 3],
  ]);
  assert.equal(d.summary().lateWindows, 3);
  assert.equal(d.summary().lateRecords, 0);
});

// ---------------------------------------------------------------------------
// Session windows
// ---------------------------------------------------------------------------

test('session: a record exactly gap away joins; gap + 1 away starts a new session', () => {
  // gap 5, grace 0.
  //   0  → [0,0] = 1
  //   5  → 5 <= 0 + 5: joins → [0,5] = 2; [0,0] is merged away: tombstone
  //   11 → 11 > 5 + 5: new session [11,11]; st 11 = 5 + 5 + 1 closes [0,5]
  const input = xs(0, 5, 11);
  const count = (emit: EmitStrategy) => run((g) => g.windowedBy(SessionWindows.ofInactivityGap(5)).count({ emit }), input).out;
  assert.deepEqual(count('updates'), [
    ['a', 0, 0, 1, 0],
    ['a', 0, 0, null, 0],
    ['a', 0, 5, 2, 5],
    ['a', 11, 11, 1, 11],
  ]);
  assert.deepEqual(count('final'), [['a', 0, 5, 2, 5]]);
});

test('session: one record bridging the sessions on both sides merges them (and itself) into one', () => {
  // A record can join at most two sessions — one on each side: sessions of a key are more than `gap`
  // apart, so no third session can lie within `gap` of the same instant. Three sessions (left, the
  // record's own, right) become one. gap 5, grace 30 (nothing closes):
  //   0 → [0,0] "a"      10 → [10,10] "b" (10 > 0 + 5)      20 → [20,20] "c"
  //   15 (st 20) → within 5 of [10,10] and [20,20]: tombstones for both (in end order), then [10,20] "bcd"
  //   5  (st 20) → within 5 of [0,0] and [10,20]: tombstones, then [0,20] "abcde"
  // The merger combines the sessions' aggregates (sorted letters, so the order of merging does not show).
  const input: In[] = [
    ['k', 'a', 0],
    ['k', 'b', 10],
    ['k', 'c', 20],
    ['k', 'd', 15],
    ['k', 'e', 5],
  ];
  const sorted = (s: string): string => [...s].sort().join('');
  const { out } = run<string>(
    (g) => g.windowedBy(SessionWindows.ofInactivityGap(5).grace(30)).aggregate(() => '', (_k, v, acc) => sorted(acc + v), (_k, l, r) => sorted(l + r), { emit: 'updates' }),
    input,
  );
  assert.deepEqual(out, [
    ['k', 0, 0, 'a', 0],
    ['k', 10, 10, 'b', 10],
    ['k', 20, 20, 'c', 20],
    ['k', 10, 10, null, 10],
    ['k', 20, 20, null, 20],
    ['k', 10, 20, 'bcd', 20],
    ['k', 0, 0, null, 0],
    ['k', 10, 20, null, 20],
    ['k', 0, 20, 'abcde', 20],
  ]);
});

test('session: out-of-order records extend a session backwards; the result timestamp is its last record', () => {
  // gap 5, grace 0: 10 → [10,10]; 7 (st 10) → [7,10] (tombstone for [10,10]); 9 (st 10) → inside: [7,10] = 3, no tombstone.
  const { out } = run((g) => g.windowedBy(SessionWindows.ofInactivityGap(5)).count({ emit: 'updates' }), xs(10, 7, 9));
  assert.deepEqual(out, [
    ['a', 10, 10, 1, 10],
    ['a', 10, 10, null, 10],
    ['a', 7, 10, 2, 10],
    ['a', 7, 10, 3, 10],
  ]);
});

test('session: grace boundary — a session [a, b] closes at b + gap + 1 + grace', () => {
  // gap 5, grace 3: [0,0] closes at stream time 9.
  //   a@0 (st 0) → [0,0] = 1;  b@8 (st 8 = 9 − 1);  a@0 (st 8: open) → [0,0] = 2
  //   b@9 (st 9 closes a's [0,0]; b's [8,9] stays open);  a@0 (st 9) → would join the closed [0,0]: late
  const input: In[] = [
    ['a', 0, 0],
    ['b', 0, 8],
    ['a', 0, 0],
    ['b', 0, 9],
    ['a', 0, 0],
  ];
  const w = SessionWindows.ofInactivityGap(5).grace(3);
  const updates = run((g) => g.windowedBy(w).count({ emit: 'updates' }), input);
  assert.deepEqual(updates.out, [
    ['a', 0, 0, 1, 0],
    ['b', 8, 8, 1, 8],
    ['a', 0, 0, 2, 0],
    ['b', 8, 8, null, 8],
    ['b', 8, 9, 2, 9],
  ]);
  assert.deepEqual(lateAudit(updates.d), [['late-record', 4]]);
  const final = run((g) => g.windowedBy(w).count({ emit: 'final' }), input);
  assert.deepEqual(final.out, [['a', 0, 0, 2, 0]]);
});

test('session: a record that would join a closed session is late, even when its own merged session would be open', () => {
  // gap 5, grace 0.
  //   a@0  (st 0)  → [0,0]
  //   a@11 (st 11) → new [11,11] (11 > 0 + 5); st 11 >= 0 + 5 + 1 closes [0,0] (final: emitted)
  //   a@6  (st 11) → 6 > 0 + 5: not near [0,0]; joins [11,11] (11 − 6 = 5) → [6,11], open (closes 17)
  //   a@1  (st 11) → within 5 of the closed [0,0] (and of [6,11]): late, though [1,11] would be open —
  //                  accepting it would contradict the final [0,0]
  //   a@5  (st 11) → same: 5 <= 0 + 5
  const input = xs(0, 11, 6, 1, 5);
  const updates = run((g) => g.windowedBy(SessionWindows.ofInactivityGap(5)).count({ emit: 'updates' }), input);
  assert.deepEqual(updates.out, [
    ['a', 0, 0, 1, 0],
    ['a', 11, 11, 1, 11],
    ['a', 11, 11, null, 11],
    ['a', 6, 11, 2, 11],
  ]);
  assert.deepEqual(lateAudit(updates.d), [
    ['late-record', 3],
    ['late-record', 4],
  ]);
  const final = run((g) => g.windowedBy(SessionWindows.ofInactivityGap(5)).count({ emit: 'final' }), input);
  assert.deepEqual(final.out, [['a', 0, 0, 1, 0]]);
  assert.equal(final.d.summary().lateRecords, 2);
});

test('session: a record whose own session would be closed is late, even if it would extend an open one', () => {
  // gap 3, grace 0. [0,0] closes at st 4 (0 + 3 + 1). At st 40, a record at t is late when its own
  // session [t, t] is closed: t + 3 + 1 <= 40, i.e. t <= 36. So 37 joins [40,40] → [37,40]; 34 (offset 3)
  // and every older record of the chain are late — an open session cannot be dragged back, one record
  // at a time, to a session emitted long ago (which keeps closed sessions purgeable).
  const chain = [40, 37, 34, 31, 28, 25, 22, 19, 16, 13, 10, 7, 4];
  const input = xs(0, ...chain, 3);
  const final = run((g) => g.windowedBy(SessionWindows.ofInactivityGap(3)).count({ emit: 'final', store: 'in-memory' }), [...input, ['z', 'v', 100]]);
  // st 40 closes [0,0]; st 100 closes [37,40].
  assert.deepEqual(final.out, [
    ['a', 0, 0, 1, 0],
    ['a', 37, 40, 2, 40],
  ]);
  assert.deepEqual(lateAudit(final.d), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((offset) => ['late-record', offset]));
});

test('session: sideOutput and the reduce/aggregate flavours', () => {
  // gap 5, grace 0. 0 → [0,0]; 3 → [0,3]; 20 (st 20 closes [0,3]) → [20,20]; 2 (st 20) → late, to the side.
  const input: In[] = [
    ['a', 1, 0],
    ['a', 2, 3],
    ['a', 3, 20],
    ['a', 4, 2],
  ];
  const b = new StreamsBuilder();
  const g = b.stream<string, number>('in').groupByKey().windowedBy(SessionWindows.ofInactivityGap(5));
  g.reduce((x, y) => x + y, { emit: 'final', late: { sideOutput: 'late' } }).to('sum');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in', { partitions: 1 }).pipeAll(input.map(([key, value, eventTime]) => ({ key, value: value as number, eventTime })));
  assert.deepEqual(rows(d.readOutput('sum')), [['a', 0, 3, 3, 3]]);
  assert.deepEqual(d.readOutput<string, number>('late').map((r) => [r.key, r.value, r.timestamp]), [['a', 4, 2]]);
  assert.equal(d.summary().lateRecords, 1);
});

test('session aggregate: the merger combines the aggregates of bridged sessions', () => {
  // gap 2, grace 10 (nothing closes); values v@t:
  //   1@0 → [0,0] {n 1, sum 1}      2@6 → [6,6] {1, 2} (6 − 0 > 2)
  //   4@3 → 3 − 0 > 2 and 6 − 3 > 2: a session of its own [3,3] {1, 4}
  //   4@4 → within 2 of [3,3] and of [6,6] → [3,6] = merge({1,4}, {1,2}) + 4 = {3, 10}
  //   5@2 → within 2 of [0,0] and of [3,6] → [0,6] = merge({1,1}, {3,10}) + 5 = {5, 16}
  type Acc = { n: number; sum: number };
  const input: In[] = [
    ['a', 1, 0],
    ['a', 2, 6],
    ['a', 4, 3],
    ['a', 4, 4],
    ['a', 5, 2],
  ];
  const { out } = run<number>(
    (g) =>
      g
        .windowedBy(SessionWindows.ofInactivityGap(2).grace(10))
        .aggregate<Acc>(() => ({ n: 0, sum: 0 }), (_k, v, acc) => ({ n: acc.n + 1, sum: acc.sum + v }), (_k, l, r) => ({ n: l.n + r.n, sum: l.sum + r.sum }), { emit: 'updates' }),
    input,
  );
  assert.deepEqual(out, [
    ['a', 0, 0, { n: 1, sum: 1 }, 0],
    ['a', 6, 6, { n: 1, sum: 2 }, 6],
    ['a', 3, 3, { n: 1, sum: 4 }, 3],
    ['a', 3, 3, null, 3],
    ['a', 6, 6, null, 6],
    ['a', 3, 6, { n: 3, sum: 10 }, 6],
    ['a', 0, 0, null, 0],
    ['a', 3, 6, null, 6],
    ['a', 0, 6, { n: 5, sum: 16 }, 6],
  ]);
});

test('session final: sessions closing together come out in (end, key bytes) order, a key that is a prefix of another first', () => {
  // gap 1, grace 0, raw string keys: "ab" and "a" both [0,0], "b" [1,1]; st 3 closes [0,0] (at 2) and
  // [1,1] (at 3). Order: end 0: "a" (bytes 61) before "ab" (61 62); then end 1: "b".
  const b = new StreamsBuilder();
  b.stream<string, number>('in', { key: Serdes.string() }).groupByKey().windowedBy(SessionWindows.ofInactivityGap(1)).count({ emit: 'final' }).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in', { partitions: 1, key: Serdes.string() }).pipeAll([
    { key: 'ab', value: 0, eventTime: 0 },
    { key: 'a', value: 0, eventTime: 0 },
    { key: 'b', value: 0, eventTime: 1 },
    { key: 'z', value: 0, eventTime: 3 },
  ]);
  assert.deepEqual(rows(d.readOutput('out')), [
    ['a', 0, 0, 1, 0],
    ['ab', 0, 0, 1, 0],
    ['b', 1, 1, 1, 1],
  ]);
});

// ---------------------------------------------------------------------------
// Stores, non-windowed aggregations, repartitioning
// ---------------------------------------------------------------------------

test('in-memory and LMDB stores give the same results, for every window kind and both emissions', () => {
  const input: In[] = [
    ['a', 1, 3],
    ['b', 2, 4],
    ['a', 3, 9],
    ['a', 4, 1],
    ['b', 5, 15],
    ['a', 6, 12],
    ['a', 7, 6],
    ['b', 8, 30],
    ['a', 9, 14],
    ['a', 10, 50],
  ];
  const kinds = {
    tumbling: (g: KGroupedStream<string, number>, o: Opts) => g.windowedBy(TimeWindows.ofSize(10).grace(4)).count(o),
    hopping: (g: KGroupedStream<string, number>, o: Opts) => g.windowedBy(TimeWindows.ofSize(10).advanceBy(3).grace(4)).count(o),
    sliding: (g: KGroupedStream<string, number>, o: Opts) => g.windowedBy(SlidingWindows.ofTimeDifference(5).grace(4)).count(o),
    session: (g: KGroupedStream<string, number>, o: Opts) => g.windowedBy(SessionWindows.ofInactivityGap(4).grace(4)).count(o),
  };
  for (const [kind, define] of Object.entries(kinds)) {
    for (const emit of ['updates', 'final'] as const) {
      const mem = run<number>((g) => define(g, { emit, store: 'in-memory' }), input);
      const lmdb = run<number>((g) => define(g, { emit, store: 'lmdb' }), input);
      assert.ok(mem.out.length > 0, `${kind} ${emit} has results`);
      assert.deepEqual(lmdb.out, mem.out, `${kind} ${emit}`);
      assert.deepEqual(lateAudit(lmdb.d), lateAudit(mem.d), `${kind} ${emit}: late records`);
    }
  }
});

test('non-windowed groupByKey().count() emits an updated count on every record, with the record timestamp', () => {
  const b = new StreamsBuilder();
  b.stream<string, string>('in').groupByKey().count().to('counts');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, string>('in', { partitions: 1 }).pipeAll([
    { key: 'a', value: 'x', eventTime: 5 },
    { key: 'b', value: 'y', eventTime: 3 },
    { key: 'a', value: 'z', eventTime: 1 },
  ]);
  assert.deepEqual(d.readOutput<string, number>('counts').map((r) => [r.key, r.value, r.timestamp]), [
    ['a', 1, 5],
    ['b', 1, 3],
    ['a', 2, 1],
  ]);
});

test('groupBy with a new key repartitions, so each new key is counted in one place', () => {
  // Visits of three users on two input partitions, grouped by country: "fr" arrives on both partitions.
  const b = new StreamsBuilder();
  b.stream<string, { country: string }>('visits').groupBy((_user, v) => v.country).count().to('per-country');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, { country: string }>('visits', { partitions: 2 }).pipeAll([
    { key: 'u1', value: { country: 'fr' }, eventTime: 1, partition: 0 },
    { key: 'u2', value: { country: 'fr' }, eventTime: 2, partition: 1 },
    { key: 'u3', value: { country: 'de' }, eventTime: 3, partition: 1 },
    { key: 'u4', value: { country: 'fr' }, eventTime: 4, partition: 0 },
  ]);
  const out = d.readOutput<string, number>('per-country');
  const byKey = (k: string): number[] => out.filter((r) => r.key === k).map((r) => r.value);
  assert.deepEqual(byKey('fr'), [1, 2, 3]);
  assert.deepEqual(byKey('de'), [1]);
  const repartition = d.log.streams().filter((s) => s.endsWith('-repartition'));
  assert.equal(repartition.length, 1);
  // The count's task is not an input task: it reads the repartition stream.
  assert.ok([...d.streamTimes().keys()].some((t) => t.startsWith('1_')));
});

test('groupBy then windowedBy: a windowed count by the new key', () => {
  // Tumbling size 10 by country: fr at 1 (p0) and 2 (p1) → [0,10) = 2; de at 3 → 1.
  const b = new StreamsBuilder();
  b.stream<string, { country: string }>('visits')
    .groupBy((_user, v) => v.country)
    .windowedBy(TimeWindows.ofSize(10))
    .count({ emit: 'updates' })
    .to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, { country: string }>('visits', { partitions: 2 }).pipeAll([
    { key: 'u1', value: { country: 'fr' }, eventTime: 1, partition: 0 },
    { key: 'u2', value: { country: 'fr' }, eventTime: 2, partition: 1 },
    { key: 'u3', value: { country: 'de' }, eventTime: 3, partition: 1 },
  ]);
  const out = rows(d.readOutput('out'));
  assert.deepEqual(out.filter((r) => r[0] === 'fr').map((r) => r[3]), [1, 2]);
  assert.deepEqual(out.filter((r) => r[0] === 'de'), [['de', 0, 10, 1, 9]]);
});

test('aggregations drop a record with a null key, counted and audited (as Kafka Streams skips them)', () => {
  const b = new StreamsBuilder();
  const grouped = b.stream<string | null, number>('in').groupByKey();
  grouped.windowedBy(TimeWindows.ofSize(10)).count().to('windowed');
  grouped.count().to('plain');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string | null, number>('in').pipeAll([
    { key: 'a', value: 1, eventTime: 1 },
    { key: null, value: 2, eventTime: 2 },
  ]);
  assert.equal(d.readOutput('windowed').length, 1);
  assert.equal(d.readOutput('plain').length, 1);
  assert.equal(d.summary().dropped, 2);
  assert.deepEqual(d.audit().filter((a) => a.kind === 'dropped').map((a) => a.offset), [1, 1]);
});
