/**
 * Table tests for regrouped tables (`KTable.groupBy(...).count / reduce /
 * aggregate`), each expected output worked out by hand from the rules of
 * `src/tables/regroup.ts`:
 * - a row's change takes its old value out of its old group and puts its
 *   new value into its new group (one update when the group is the same:
 *   subtract, then add; otherwise the old group first);
 * - a group exists while it has a row; when the last leaves it is deleted
 *   (a tombstone), and it starts from the initial aggregate when one joins
 *   again;
 * - a group's row is timestamped with the largest timestamp of its updates
 *   since it last became non-empty.
 * Rows are `[group, aggregate or null, timestamp]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import type { KTable } from '../../src/dsl/ktable.ts';
import type { KGroupedTable } from '../../src/dsl/grouped-table.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { DeserializationError, Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { groupUpdateSerde } from '../../src/runtime/operators/group-update-serde.ts';

type Row = [group: string, value: unknown, timestamp: number];
type Customer = { city: string; spent: number };
/** An input record: key (null: none), value (null: a tombstone), event time. */
type In = readonly [key: string | null, value: Customer | null, ts: number];

const enc = new TextEncoder();

/** `table('customers') → groupBy(city) → (aggregate) → out`, one partition, the records piped in one batch. */
function run(aggregate: (g: KGroupedTable<string, Customer>) => KTable<string, any>, records: readonly In[]): { out: Row[]; d: TopologyTestDriver } {
  const b = new StreamsBuilder();
  aggregate(b.table<string, Customer>('customers', { key: Serdes.string() }).groupBy((_, c) => [c.city, c], { key: Serdes.string() }))
    .toStream()
    .to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  d.inputStream('customers', { partitions: 1 });
  d.pipeRaw(records.map(([k, v, ts]) => ({ stream: 'customers', partition: 0, key: k === null ? null : enc.encode(k), value: v === null ? null : enc.encode(JSON.stringify(v)), headers: {}, eventTime: ts })));
  return { out: d.readOutput<string, unknown>('out', { key: Serdes.string() }).map((r): Row => [r.key, r.value, r.timestamp]), d };
}

const customers: readonly In[] = [
  ['ann', { city: 'Oslo', spent: 10 }, 1], // Oslo gets ann
  ['bob', { city: 'Oslo', spent: 5 }, 2], // Oslo gets bob
  ['ann', { city: 'Rome', spent: 10 }, 3], // ann moves: out of Oslo, then into Rome
  ['bob', { city: 'Oslo', spent: 7 }, 4], // bob changes within Oslo: subtract 5, add 7
  ['bob', null, 5], // bob leaves: Oslo is empty, deleted
  [null, { city: 'Oslo', spent: 1 }, 6], // no key: dropped
  ['cy', { city: 'Oslo', spent: 2 }, 8], // Oslo again, from scratch: its timestamp starts over
  ['ann', { city: 'Rome', spent: 4 }, 2], // out of order within Rome: the row keeps its larger timestamp 3
  ['dan', null, 9], // delete of an absent row: nothing
];

for (const store of ['lmdb', 'in-memory'] as const satisfies readonly StoreKind[]) {
  test(`${store}: count per city (the worked example of docs/joins.md): a move leaves one group and joins another; an emptied group is deleted and starts over`, () => {
    const { out, d } = run((g) => g.count({ name: 'per-city', store }), customers);
    assert.deepEqual(out, [
      ['Oslo', 1, 1],
      ['Oslo', 2, 2],
      ['Oslo', 1, 3],
      ['Rome', 1, 3],
      ['Oslo', 1, 4], // subtract then add within the group: the same count, forwarded (a rewrite)
      ['Oslo', null, 5],
      ['Oslo', 1, 8],
      ['Rome', 1, 3],
    ]);
    assert.deepEqual(d.storeEntries<string, unknown>('per-city', '1_0'), [['Oslo', { value: 1, timestamp: 8 }], ['Rome', { value: 1, timestamp: 3 }]]);
    assert.deepEqual(d.storeEntries<string, number>('per-city-groups', '1_0'), [['Oslo', 1], ['Rome', 1]]);
    assert.equal(d.summary().dropped, 1);
  });
}

test('aggregate: the amount spent per city, with an adder and a subtractor', () => {
  const { out } = run((g) => g.aggregate(() => 0, (_city, c, sum) => sum + c.spent, (_city, c, sum) => sum - c.spent), customers);
  assert.deepEqual(out, [
    ['Oslo', 10, 1],
    ['Oslo', 15, 2],
    ['Oslo', 5, 3],
    ['Rome', 10, 3],
    ['Oslo', 7, 4],
    ['Oslo', null, 5],
    ['Oslo', 2, 8],
    ['Rome', 4, 3],
  ]);
});

test('reduce: the first value as is, then the adder; the subtractor for a value that leaves', () => {
  const b = new StreamsBuilder();
  b.table<string, number>('balances', { key: Serdes.string() })
    .groupBy((k, v) => [k.slice(0, 1), v], { key: Serdes.string() })
    .reduce((sum, v) => sum + v, (sum, v) => sum - v)
    .toStream()
    .to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number | null>('balances', { key: Serdes.string() }).pipeAll([
    { key: 'a1', value: 3, eventTime: 1 }, // a: 3
    { key: 'a2', value: 4, eventTime: 2 }, // a: 7
    { key: 'a1', value: 1, eventTime: 3 }, // a: 7 − 3 + 1 = 5
    { key: 'a2', value: null, eventTime: 4 }, // a: 5 − 4 = 1
    { key: 'a1', value: null, eventTime: 5 }, // a: empty, deleted
    { key: 'a1', value: 9, eventTime: 6 }, // a: 9, the first value as is
  ]);
  assert.deepEqual(d.readOutput<string, number | null>('out', { key: Serdes.string() }).map((r) => [r.key, r.value, r.timestamp]), [
    ['a', 3, 1],
    ['a', 7, 2],
    ['a', 5, 3],
    ['a', 1, 4],
    ['a', null, 5],
    ['a', 9, 6],
  ]);
});

test('a row that select puts in no group (null) leaves its group and joins none; filter below the aggregate sees the group table', () => {
  const b = new StreamsBuilder();
  b.table<string, number>('in', { key: Serdes.string() })
    .groupBy((_k, v) => (v < 0 ? null : [v % 2 === 0 ? 'even' : 'odd', v]), { key: Serdes.string() })
    .count()
    .filter((_, n) => n >= 2)
    .toStream()
    .to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number | null>('in', { key: Serdes.string() }).pipeAll([
    { key: 'x', value: 2, eventTime: 1 }, // even: 1 (hidden by the filter)
    { key: 'y', value: 4, eventTime: 2 }, // even: 2
    { key: 'x', value: -1, eventTime: 3 }, // x in no group: even 1 → hidden: a tombstone
    { key: 'x', value: 6, eventTime: 4 }, // even: 2
  ]);
  assert.deepEqual(d.readOutput<string, number | null>('out', { key: Serdes.string() }).map((r) => [r.key, r.value, r.timestamp]), [
    ['even', 2, 2],
    ['even', null, 3],
    ['even', 2, 4],
  ]);
});

test('groupUpdateSerde: a subtraction and an addition in one record, with any inner serde; malformed bytes are a deserialization error', () => {
  const s = groupUpdateSerde(Serdes.string());
  for (const u of [{ subtract: 'ab', add: 'c' }, { subtract: '' }, { add: 'xyz' }, { subtract: 'é', add: '' }, {}]) assert.deepEqual(s.deserialize(s.serialize(u)), u);
  assert.deepEqual([...s.serialize({ subtract: 'ab', add: 'c' })!], [3, 0, 0, 0, 2, 0x61, 0x62, 0x63]);
  for (const bad of [null, new Uint8Array([]), new Uint8Array([4]), new Uint8Array([1, 0, 0]), new Uint8Array([1, 0, 0, 0, 5, 0x61]), new Uint8Array([1, 0, 0, 0, 1, 0x61, 0x62])]) {
    assert.throws(() => s.deserialize(bad), DeserializationError, String(bad));
  }
});
