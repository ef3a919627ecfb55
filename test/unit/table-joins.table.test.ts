/**
 * Table tests for table–table joins (`KTable.join / leftJoin / outerJoin`),
 * each expected output worked out by hand from the rules of
 * `src/joins/table-table.ts` and `src/tables/change.ts`:
 * - the joined table has a row at a key when inner: both tables have one;
 *   left: the left table has one; outer: either has one; its value is
 *   `joiner(left, right)`, the missing side undefined, and a joiner that
 *   returns null makes the key absent;
 * - each change of either side is a change of the joined table at its
 *   key, forwarded when a reader could see it (present before or after),
 *   with the largest timestamp of the change and the other side's row;
 * - a plain table's last update in processing order wins, whatever its
 *   timestamp; a versioned table joins with its latest value by timestamp.
 * Records are piped one at a time, so they are processed in the order
 * given. Rows are `[key, value, timestamp]`; the joiner writes `l+r`, `-`
 * for a missing side; a value of null in the input is a tombstone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder, type TableOptions } from '../../src/dsl/stream-builder.ts';
import type { KTable } from '../../src/dsl/ktable.ts';
import type { TableJoinOptions } from '../../src/dsl/table-join.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { Application } from '../../src/runtime/application.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { ManualClock } from '../../src/time/clock.ts';
import type { TableJoinKind } from '../../src/joins/table-table.ts';

type Row = [key: string, value: string | null, timestamp: number];
/** An input record: side, key, value (null: a tombstone), event time. */
type In = readonly [side: 'L' | 'R', key: string, value: string | null, ts: number];

const KINDS: readonly StoreKind[] = ['lmdb', 'in-memory'];
const joiner = (l: string | undefined, r: string | undefined): string => `${l ?? '-'}+${r ?? '-'}`;

type Shape = (t: KTable<string, string>) => KTable<string, string>;

function joinOf(kind: TableJoinKind, left: KTable<string, string>, right: KTable<string, string>, options: TableJoinOptions<string>, fn: (l: string | undefined, r: string | undefined) => string | null = joiner): KTable<string, string> {
  if (kind === 'inner') return left.join(right, fn, options);
  if (kind === 'left') return left.leftJoin(right, fn, options);
  return left.outerJoin(right, fn, options);
}

function driverFor(
  kind: TableJoinKind,
  setup: { options?: TableJoinOptions<string>; leftTable?: TableOptions<string, string>; rightTable?: TableOptions<string, string>; shapeLeft?: Shape; fn?: (l: string | undefined, r: string | undefined) => string | null } = {},
) {
  const b = new StreamsBuilder();
  const left = b.table<string, string>('left', { key: Serdes.string(), ...setup.leftTable });
  const right = b.table<string, string>('right', { key: Serdes.string(), ...setup.rightTable });
  joinOf(kind, (setup.shapeLeft ?? ((t) => t))(left), right, setup.options ?? {}, setup.fn).toStream().to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  const streams = { L: d.inputStream<string, string | null>('left', { partitions: 1, key: Serdes.string() }), R: d.inputStream<string, string | null>('right', { partitions: 1, key: Serdes.string() }) };
  const pipe = (records: readonly In[]): void => {
    for (const [side, key, value, ts] of records) streams[side].pipe(key, value, { eventTime: ts, partition: 0 });
  };
  const out = (): Row[] => d.readOutput<string, string | null>('out', { key: Serdes.string() }).map((r): Row => [r.key, r.value, r.timestamp]);
  return { d, pipe, out };
}

/** Out-of-order updates, deletes on each side, a delete of an absent key, a rewrite. */
const INPUT: readonly In[] = [
  ['L', 'a', 'l1', 10],
  ['R', 'a', 'r1', 5],
  ['L', 'a', 'l2', 3], // older than the row it replaces: it still wins
  ['R', 'b', 'rb', 7],
  ['R', 'a', null, 20], // the right row of a deleted
  ['L', 'a', null, 21], // the left row of a deleted
  ['L', 'c', null, 22], // a delete of a key neither table has: nothing anywhere
  ['R', 'a', 'r2', 8],
  ['L', 'a', 'l3', 9],
  ['L', 'a', 'l3', 9], // a rewrite with an equal value: a write, forwarded
];

const EXPECTED: Record<TableJoinKind, Row[]> = {
  inner: [
    ['a', 'l1+r1', 10], // max(5, 10)
    ['a', 'l2+r1', 5], // max(3, 5)
    ['a', null, 20], // the right row went: a tombstone at the delete's time
    // the left delete at 21: the key was already absent below the join
    ['a', 'l3+r2', 9],
    ['a', 'l3+r2', 9],
  ],
  left: [
    ['a', 'l1+-', 10],
    ['a', 'l1+r1', 10],
    ['a', 'l2+r1', 5],
    // b: no left row, nothing
    ['a', 'l2+-', 20], // max(20, 3)
    ['a', null, 21],
    // r2 with no left row: nothing
    ['a', 'l3+r2', 9],
    ['a', 'l3+r2', 9],
  ],
  outer: [
    ['a', 'l1+-', 10],
    ['a', 'l1+r1', 10],
    ['a', 'l2+r1', 5],
    ['b', '-+rb', 7],
    ['a', 'l2+-', 20],
    ['a', null, 21],
    ['a', '-+r2', 8],
    ['a', 'l3+r2', 9],
    ['a', 'l3+r2', 9],
  ],
};

for (const store of KINDS) {
  for (const kind of ['inner', 'left', 'outer'] as const) {
    test(`${store} table ${kind} join: out-of-order updates, deletes on each side, a delete of an absent key; the joined rows materialized`, () => {
      const { d, pipe, out } = driverFor(kind, { options: { store, name: 'joined' } });
      pipe(INPUT);
      assert.deepEqual(out(), EXPECTED[kind]);
      // The joined table at the end: a = l3 ⋈ r2 @9; with outer also b = ∅ ⋈ rb @7.
      const rows = kind === 'outer' ? [['a', { value: 'l3+r2', timestamp: 9 }], ['b', { value: '-+rb', timestamp: 7 }]] : [['a', { value: 'l3+r2', timestamp: 9 }]];
      assert.deepEqual(d.storeEntries('joined'), rows);
      const joined = d.store<string, { value: string; timestamp: number }>('joined');
      assert.equal(joined.kind, 'key-value');
      if (joined.kind === 'key-value') assert.deepEqual(joined.get('a'), { value: 'l3+r2', timestamp: 9 });
      // The join's copies of both sides, with the timestamps of the records that wrote them.
      assert.deepEqual(d.storeEntries('joined-left'), [['a', { value: 'l3', timestamp: 9 }]]);
      assert.deepEqual(d.storeEntries('joined-right'), [['a', { value: 'r2', timestamp: 8 }], ['b', { value: 'rb', timestamp: 7 }]]);
    });
  }
}

test('a joiner that returns null makes the key absent: a tombstone where it had a row, nothing where it had none', () => {
  const { pipe, out } = driverFor('left', { fn: (l, r) => (r === 'x' ? null : joiner(l, r)) });
  pipe([
    ['L', 'a', 'l', 1],
    ['R', 'a', 'x', 2], // null: a tombstone
    ['R', 'a', 'y', 3],
    ['R', 'b', 'x', 4], // no left row
    ['L', 'b', 'm', 5], // null: absent before and after, nothing
    ['R', 'b', null, 6], // m+- @6
  ]);
  assert.deepEqual(out(), [
    ['a', 'l+-', 1],
    ['a', null, 2],
    ['a', 'l+y', 3],
    ['b', 'm+-', 6],
  ]);
});

test('a side without a store of its own (a filter of a table) joins all the same: rows it hides are absent, and one that stops passing deletes its result', () => {
  const { pipe, out } = driverFor('inner', { shapeLeft: (t) => t.filter((_, v) => !v.startsWith('hide')) });
  pipe([
    ['R', 'a', 'r', 1],
    ['L', 'a', 'hide1', 2], // hidden by the filter: nothing
    ['L', 'a', 'l', 3], // passes: l+r @3
    ['L', 'a', 'hide2', 4], // stops passing: a tombstone
    ['L', 'a', null, 5], // deleted while hidden: nothing
    ['L', 'a', 'k', 6],
  ]);
  assert.deepEqual(out(), [['a', 'l+r', 3], ['a', null, 4], ['a', 'k+r', 6]]);
});

test('a versioned side joins with its latest value: an out-of-order update rewrites its history and changes nothing below the join', () => {
  const { pipe, out } = driverFor('inner', { rightTable: { versioned: { historyRetentionMs: 100 } } });
  pipe([
    ['L', 'a', 'l', 10],
    ['R', 'a', 'r20', 20], // l+r20 @20
    ['R', 'a', 'r15', 15], // older than the latest (20): history only
    ['R', 'a', null, 17], // a delete in the past: history only
    ['L', 'a', 'm', 12], // m+r20 @20 (the right row's timestamp)
    ['R', 'a', 'r25', 25],
    ['R', 'a', null, 30], // a delete of the latest: a tombstone
  ]);
  assert.deepEqual(out(), [['a', 'l+r20', 20], ['a', 'm+r20', 20], ['a', 'm+r25', 25], ['a', null, 30]]);
});

test('a joined table is a table: filter, mapValues, groupBy and another join apply to it', () => {
  const b = new StreamsBuilder();
  const prices = b.table<string, number>('prices', { key: Serdes.string() });
  const stock = b.table<string, number>('stock', { key: Serdes.string() });
  const names = b.table<string, string>('names', { key: Serdes.string() });
  const value = prices.join(stock, (p, s) => p * s);
  value.filter((_, v) => v > 0).join(names, (v, n) => `${n}: ${v}`).toStream().to('out', { key: Serdes.string() });
  value.groupBy((_, v) => ['all', v], { key: Serdes.string() }).reduce((a, v) => a + v, (a, v) => a - v).toStream().to('total', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  const p = d.inputStream<string, number | null>('prices', { key: Serdes.string() });
  const s = d.inputStream<string, number | null>('stock', { key: Serdes.string() });
  const n = d.inputStream<string, string | null>('names', { key: Serdes.string() });
  n.pipe('x', 'Ex', { eventTime: 1 });
  p.pipe('x', 2, { eventTime: 2 });
  s.pipe('x', 5, { eventTime: 3 }); // value x = 10 @3 → 'Ex: 10' @3, total 10
  p.pipe('y', 1, { eventTime: 4 });
  s.pipe('y', 7, { eventTime: 5 }); // value y = 7; no name for y; total 17
  s.pipe('x', 0, { eventTime: 6 }); // value x = 0: filtered out → tombstone below the filter; total 7
  const rows = (stream: string) => d.readOutput<string, unknown>(stream, { key: Serdes.string() }).map((r) => [r.key, r.value, r.timestamp]);
  assert.deepEqual(rows('out'), [['x', 'Ex: 10', 3], ['x', null, 6]]);
  assert.deepEqual(rows('total'), [['all', 10, 3], ['all', 17, 5], ['all', 7, 6]]);
});

test('a table cannot be joined with itself; the joined tables must be co-partitioned, checked before the run in one line naming both', async () => {
  const b = new StreamsBuilder();
  const t = b.table<string, string>('t', { key: Serdes.string() });
  assert.throws(() => t.join(t, joiner), /^Error: table inner join: a table cannot be joined with itself/);

  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('customers', 4);
  log.ensureStream('addresses', 2);
  const b2 = new StreamsBuilder();
  const customers = b2.table<string, string>('customers', { key: Serdes.string() });
  const addresses = b2.table<string, string>('addresses', { key: Serdes.string() });
  customers.leftJoin(addresses, joiner).toStream().to('out');
  await assert.rejects(
    new Application(b2.build(), { applicationId: 'shop', log }).run({ mode: 'catch-up' }),
    (e: Error) => /^streams customers \(4 partitions\) and addresses \(2 partitions\) feed one sub-topology, so they must be co-partitioned/.test(e.message) && !e.message.includes('\n'),
  );
  assert.equal(log.partitionCount('out'), undefined, 'nothing was created');
});

test('a join that would read a repartition stream in the sub-topology writing it is refused before the run, in one line naming the join', async () => {
  const b = new StreamsBuilder();
  const t1 = b.table<string, number>('t1', { key: Serdes.string() });
  const t2 = b.table<string, number>('t2', { key: Serdes.string() });
  t1.join(t2, (a, c) => a + c).toStream().to('sum');
  // t1's rows regrouped (a repartition written by the t1 ⋈ t2 sub-topology), then joined with t2 again: read there too.
  t1.groupBy((k, v) => [k, v], { key: Serdes.string() }).count().join(t2, (n, c) => n + c).toStream().to('counted');
  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('t1', 1);
  log.ensureStream('t2', 1);
  await assert.rejects(
    new Application(b.build(), { applicationId: 'app', log }).run({ mode: 'catch-up' }),
    (e: Error) => /^topology: internal stream app-table-regroup-\d+-repartition is written and read by one sub-topology \(joined by table-inner-join-\d+, table-inner-join-\d+\): a join's inputs would put/.test(e.message) && !e.message.includes('\n'),
  );
});
