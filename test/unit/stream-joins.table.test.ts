/**
 * Table tests for stream–stream joins (`KStream.join / leftJoin /
 * outerJoin` with `JoinWindows`), each expected output worked out by hand
 * from the rules of `src/joins/stream-stream.ts`:
 * - a left record at `l` and a right one at `r` of one key match when
 *   `l − before <= r <= l + after`; a pair is joined, once, when the second
 *   is processed while both join windows are open, with timestamp max(l, r);
 * - an unmatched record (left join: left; outer: both) comes out with its
 *   own timestamp when its join window `[.., ts + after + 1)` (left) or
 *   `[.., ts + before + 1)` (right) closes: `now >= end + grace`;
 * - a record whose join window is closed on arrival is late.
 * Records are piped one at a time, so they are processed in the order
 * given. Rows are `[key, value, timestamp]`; the joiner writes `l+r`, `-`
 * for a missing side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import { JoinWindows } from '../../src/joins/join-windows.ts';
import { Application } from '../../src/runtime/application.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { ManualClock } from '../../src/time/clock.ts';
import { partitionForKey } from '../../src/runtime/partitioner.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import type { StreamJoinOptions } from '../../src/dsl/stream-join.ts';
import type { EventClock } from '../../src/time/event-clock.ts';

type Kind = 'inner' | 'left' | 'outer';
type Row = [key: string, value: string, timestamp: number];
/** An input record: side, key (null: none), value, event time. */
type In = readonly [side: 'L' | 'R', key: string | null, value: string, ts: number];

const KINDS: readonly StoreKind[] = ['lmdb', 'in-memory'];
const joiner = (l: string | undefined, r: string | undefined): string => `${l ?? '-'}+${r ?? '-'}`;

function driverFor(kind: Kind, windows: JoinWindows, options: StreamJoinOptions<string> = {}, eventClock: EventClock = 'stream-time') {
  const b = new StreamsBuilder({ eventClock, watermarkIntervalMs: 1 });
  const left = b.stream<string, string>('left', { key: Serdes.string() });
  const right = b.stream<string, string>('right', { key: Serdes.string() });
  const joined = kind === 'inner' ? left.join(right, joiner, windows, options) : kind === 'left' ? left.leftJoin(right, joiner, windows, options) : left.outerJoin(right, joiner, windows, options);
  joined.to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  const streams = { L: d.inputStream<string | null, string>('left', { partitions: 1, key: Serdes.string<string | null>() }), R: d.inputStream<string | null, string>('right', { partitions: 1, key: Serdes.string<string | null>() }) };
  const pipe = (records: readonly In[]): void => {
    for (const [side, key, value, ts] of records) streams[side].pipe(key, value, { eventTime: ts, partition: 0 });
  };
  const out = (): Row[] => d.readOutput<string, string>('out', { key: Serdes.string() }).map((r): Row => [r.key, r.value, r.timestamp]);
  return { d, pipe, out };
}

for (const store of KINDS) {
  test(`${store} inner join, ofTimeDifference(5): every open matching pair once, timestamp max(l, r), partners in (ts, arrival) order`, () => {
    const { pipe, out } = driverFor('inner', JoinWindows.ofTimeDifference(5), { store });
    pipe([
      ['L', 'a', 'l1', 10],
      ['R', 'a', 'r1', 12], // 5 <= 12 <= 15: (l1, r1)@12
      ['R', 'a', 'r2', 15], // the upper edge, inclusive: (l1, r2)@15 (now 15 < min(15, 20) + 1)
      ['R', 'a', 'r3', 16], // past l1's window: nothing
      ['L', 'a', 'l2', 20], // partners [15, 25]: r2 (window [10, 21)) and r3, in timestamp order
      ['R', 'b', 'rb', 20], // no left record of b
    ]);
    assert.deepEqual(out(), [
      ['a', 'l1+r1', 12],
      ['a', 'l1+r2', 15],
      ['a', 'l2+r2', 20],
      ['a', 'l2+r3', 20],
    ]);
  });

  test(`${store} left and outer join, before 10, after 0 (the docs' worked example): unmatched results when the window closes, never followed by a pair`, () => {
    const records: In[] = [
      ['L', 'k', 'L', 100], // window [90, 101)
      ['L', 'j', 'X', 101], // stream time 101: L's window closes → (L, -)@100
      ['R', 'k', 'R', 100], // window [100, 111): not late; matches L but the pair closed at 101: nothing
    ];
    const leftJoin = driverFor('left', JoinWindows.ofTimeDifference(0).before(10), { store });
    leftJoin.pipe(records);
    assert.deepEqual(leftJoin.out(), [['k', 'L+-', 100]]);
    leftJoin.pipe([['L', 'z', 'Z', 111]]); // stream time 111: X's window [91, 102) closed → (X, -)@101; R is right: no result in a left join
    assert.deepEqual(leftJoin.out(), [['j', 'X+-', 101]]);

    const outer = driverFor('outer', JoinWindows.ofTimeDifference(0).before(10), { store });
    outer.pipe(records);
    assert.deepEqual(outer.out(), [['k', 'L+-', 100]]);
    outer.pipe([['L', 'z', 'Z', 111]]); // X (end 102) then R (end 111): by window end; Z (end 112) waits
    assert.deepEqual(outer.out(), [['j', 'X+-', 101], ['k', '-+R', 100]]);
    assert.equal(outer.d.summary().lateRecords, 0);
  });

  test(`${store} left join, ofTimeDifference(5).grace(3): a pair within the grace joins, a closed pair does not, a late record goes to the side output`, () => {
    const { d, pipe, out } = driverFor('left', JoinWindows.ofTimeDifference(5).grace(3), { store, late: { sideOutput: 'late' } });
    pipe([
      ['L', 'a', 'l1', 10], // window [5, 16), closes at 16 + 3 = 19
      ['L', 'b', 'lb', 18], // stream time 18
      ['R', 'a', 'r1', 14], // out of order, within the grace: 18 < min(15, 19) + 1 + 3 → (l1, r1)@14
      ['L', 'c', 'lc', 19], // stream time 19: l1 closes, matched: nothing more
      ['R', 'a', 'r2', 15], // matches l1, but 19 < min(15, 20) + 1 + 3 fails: nothing
      ['L', 'a', 'l0', 5], // window [0, 11) closed at 14 <= 19: late
    ]);
    assert.deepEqual(out(), [['a', 'l1+r1', 14]]);
    assert.equal(d.summary().lateRecords, 1);
    assert.deepEqual(d.readOutput<string, string>('late', { key: Serdes.string() }).map((r) => [r.key, r.value, r.timestamp]), [['a', 'l0', 5]]);
    pipe([['L', 'z', 'z', 27]]); // stream time 27: lb (end 24, + 3) and lc (end 25) close unmatched; r2 is right
    assert.deepEqual(out(), [['b', 'lb+-', 18]]);
    pipe([['L', 'z', 'z2', 28]]);
    assert.deepEqual(out(), [['c', 'lc+-', 19]]);
  });

  test(`${store} negative before (partners only 5 to 10 ms later): in order, a right record joins only with grace >= 5`, () => {
    const windows = JoinWindows.ofTimeDifference(0).before(-5).after(10);
    const records: In[] = [
      ['L', 'a', 'l', 100],
      ['R', 'a', 'r104', 104], // too early for l
      ['R', 'a', 'r105', 105], // right window [95, 101): open at 105 only with grace >= 5 → (l, r105)@105
      ['R', 'a', 'r110', 110], // the upper edge → (l, r110)@110
      ['R', 'a', 'r111', 111], // past it
    ];
    const ok = driverFor('inner', windows.grace(5), { store });
    ok.pipe(records);
    assert.deepEqual(ok.out(), [['a', 'l+r105', 105], ['a', 'l+r110', 110]]);
    assert.equal(ok.d.summary().lateRecords, 0);
    const short = driverFor('inner', windows.grace(4), { store });
    short.pipe(records);
    assert.deepEqual(short.out(), []);
    assert.equal(short.d.summary().lateRecords, 4); // every right record: its window closed when it came
  });
}

test('a null key or value is dropped, counted and audited', () => {
  const { d, pipe, out } = driverFor('outer', JoinWindows.ofTimeDifference(5), { store: 'in-memory' });
  pipe([
    ['L', null, 'x', 10],
    ['L', 'a', 'l', 11],
    ['R', 'a', 'r', 12],
  ]);
  assert.deepEqual(out(), [['a', 'l+r', 12]]);
  assert.equal(d.summary().dropped, 1);
});

test('watermark clock: the join waits for both sides’ watermarks, so an out-of-order partner still joins', () => {
  const { pipe, out } = driverFor('left', JoinWindows.ofTimeDifference(0).before(10), { store: 'in-memory' }, 'watermark');
  pipe([
    ['L', 'k', 'L', 100],
    ['L', 'j', 'X', 101], // the left watermark is 100, the right has none: the join's watermark is none, L waits
    ['R', 'k', 'R', 100], // the right watermark 99: now 100 < min(100, 110) + 1 → (L, R)@100
  ]);
  assert.deepEqual(out(), [['k', 'L+R', 100]]);
  pipe([['R', 'q', 'Q', 130]]); // the join's watermark: min(100, 129) = 100, now 101: L closes (matched), X (end 102) waits
  assert.deepEqual(out(), []);
  pipe([['L', 'm', 'M', 140]]); // min(139, 129) = 129: X closes unmatched
  assert.deepEqual(out(), [['j', 'X+-', 101]]);
});

test('a late record of either side goes to the side output untouched; each is counted', () => {
  const { d, pipe, out } = driverFor('outer', JoinWindows.ofTimeDifference(2), { store: 'in-memory', late: { sideOutput: 'late' } });
  pipe([
    ['L', 'a', 'l', 50], // window [48, 53)
    ['R', 'a', 'r-old', 40], // window [38, 43): closed at 50, late
    ['L', 'a', 'l-old', 45], // window [43, 48): closed at 50, late
    ['R', 'a', 'r', 52], // 48 <= 52 <= 52 → (l, r)@52
  ]);
  assert.deepEqual(out(), [['a', 'l+r', 52]]);
  assert.deepEqual(d.readOutput<string, string>('late', { key: Serdes.string() }).map((r) => [r.key, r.value, r.timestamp]), [['a', 'r-old', 40], ['a', 'l-old', 45]]);
  assert.equal(d.summary().lateRecords, 2);
  assert.deepEqual(d.audit().filter((e) => e.kind === 'late-record').length, 2);
});

test('JoinWindows: integer bounds, a non-negative difference and grace; a stream cannot be joined with itself', () => {
  assert.throws(() => JoinWindows.ofTimeDifference(-1), RangeError);
  assert.throws(() => JoinWindows.ofTimeDifference(1.5), RangeError);
  assert.throws(() => JoinWindows.ofTimeDifference(5).grace(-1), RangeError);
  assert.throws(() => JoinWindows.ofTimeDifference(5).before(0.5), RangeError);
  const w = JoinWindows.ofTimeDifference(5).before(-2).after(9).grace(3);
  assert.deepEqual([w.beforeMs, w.afterMs, w.graceMs], [-2, 9, 3]);
  const b = new StreamsBuilder();
  const s = b.stream<string, string>('s', { key: Serdes.string() });
  assert.throws(() => s.join(s, joiner, JoinWindows.ofTimeDifference(1)), /cannot be joined with itself/);
});

test('a join of two streams with different partition counts fails before it runs, in one line naming both', async () => {
  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('orders', 4);
  log.ensureStream('payments', 2);
  const b = new StreamsBuilder();
  const orders = b.stream<string, number>('orders', { key: Serdes.string(), value: Serdes.json<number>() });
  const payments = b.stream<string, number>('payments', { key: Serdes.string(), value: Serdes.json<number>() });
  orders.join(payments, (o, p) => ({ o, p }), JoinWindows.ofTimeDifference(10)).to('paid');
  await assert.rejects(
    new Application(b.build(), { applicationId: 'shop', log }).run({ mode: 'catch-up' }),
    (e: Error) => /^streams orders \(4 partitions\) and payments \(2 partitions\) feed one sub-topology, so they must be co-partitioned/.test(e.message) && !e.message.includes('\n'),
  );
  assert.equal(log.partitionCount('paid'), undefined, 'nothing was created');
});

test('a side re-keyed before a join is repartitioned into as many partitions as the other side, and joins', async () => {
  const clock = new ManualClock(0);
  const log = new MemoryLog(clock);
  log.ensureStream('orders', 4);
  log.ensureStream('payments', 2);
  const b = new StreamsBuilder();
  const orders = b.stream<string, number>('orders', { key: Serdes.string(), value: Serdes.json<number>() });
  // Payments are keyed by payment id; the value names the order.
  const payments = b.stream<string, string>('payments', { key: Serdes.string(), value: Serdes.json<string>() }).selectKey((_k, order) => order, Serdes.string());
  orders.join(payments, (amount, pay) => ({ amount, pay }), JoinWindows.ofTimeDifference(10)).to('paid');
  const encoder = new TextEncoder();
  const append = (stream: string, partitions: number, key: string, value: unknown, ts: number): void =>
    void log.appendSync([{ stream, partition: partitionForKey(encoder.encode(key), partitions), key: encoder.encode(key), value: encoder.encode(JSON.stringify(value)), eventTime: ts }]);
  append('orders', 4, 'o1', 30, 100);
  append('orders', 4, 'o2', 12, 101);
  append('payments', 2, 'pay-7', 'o2', 105);
  append('payments', 2, 'pay-8', 'o1', 108);
  append('orders', 4, 'o3', 1, 200); // moves stream time on
  const app = new Application(b.build(), { applicationId: 'shop', log });
  await app.run({ mode: 'catch-up' });
  const repartition = log.streams().find((s) => s.endsWith('-repartition'))!;
  assert.equal(log.partitionCount(repartition), 4, `${repartition} takes the orders' partition count`);
  const paid = Array.from({ length: log.partitionCount('paid')! }, (_, p) => log.read('paid', p, 0, 100)).flat().filter((r) => r.control === undefined);
  assert.deepEqual(paid.map((r) => `${new TextDecoder().decode(r.key!)} ${new TextDecoder().decode(r.value!)}`).sort(), ['o1 {"amount":30,"pay":"o1"}', 'o2 {"amount":12,"pay":"o2"}']);
});
