/**
 * Table tests for foreign-key table joins (`KTable.joinOnForeignKey`), each
 * expected output worked out by hand from the rules of
 * `src/joins/foreign-key.ts` and `src/joins/table-table.ts`:
 * - a left row joins the right row under its foreign key; inner: a row
 *   only where that right row exists; left: every left row, the right side
 *   undefined where there is none or the foreign key is null;
 * - a change of a left row's foreign key joins it with the new right row
 *   alone; a deleted left row deletes its result; a change of a right row
 *   updates every left row joined with it;
 * - each result has the larger of the two rows' timestamps (a delete
 *   counts as its row at its time);
 * - an answer for an older version of a left row than one already seen is
 *   dropped.
 * Left values are `<product>/<tag>` (an empty product: a null foreign key);
 * the joiner writes `<left value>@<right value or ->`. Rows are `[key,
 * value, timestamp]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import type { ForeignKeyJoinKind } from '../../src/joins/foreign-key.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { ManualClock } from '../../src/time/clock.ts';
import { Application } from '../../src/runtime/application.ts';
import { partitionForKey } from '../../src/runtime/partitioner.ts';

type Row = [key: string, value: string | null, timestamp: number];
type In = readonly [side: 'L' | 'R', key: string, value: string | null, ts: number];

const KINDS: readonly StoreKind[] = ['lmdb', 'in-memory'];
const fk = (v: string): string | null => v.split('/')[0] || null;
const joiner = (l: string, r: string | undefined): string => `${l}@${r ?? '-'}`;

function driverFor(kind: ForeignKeyJoinKind, store: StoreKind = 'in-memory') {
  const b = new StreamsBuilder();
  const lines = b.table<string, string>('lines', { key: Serdes.string() });
  const products = b.table<string, string>('products', { key: Serdes.string() });
  lines.joinOnForeignKey(products, fk, joiner, { kind, store, name: 'joined' }).toStream().to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  const streams = { L: d.inputStream<string, string | null>('lines', { key: Serdes.string() }), R: d.inputStream<string, string | null>('products', { key: Serdes.string() }) };
  /** One at a time: each record goes through all three steps before the next. */
  const pipe = (records: readonly In[]): void => {
    for (const [side, key, value, ts] of records) streams[side].pipe(key, value, { eventTime: ts });
  };
  /** All at once: the steps see them together. */
  const pipeAll = (records: readonly In[]): void => {
    for (const side of ['L', 'R'] as const) streams[side].pipeAll(records.filter((r) => r[0] === side).map(([, key, value, ts]) => ({ key, value, eventTime: ts })));
  };
  const out = (): Row[] => d.readOutput<string, string | null>('out', { key: Serdes.string() }).map((r): Row => [r.key, r.value, r.timestamp]);
  return { d, pipe, pipeAll, out };
}

const INPUT: readonly In[] = [
  ['R', 'p1', 'A', 1], // no left row joins p1 yet
  ['L', 'k1', 'p1/x', 2],
  ['L', 'k2', 'p2/y', 3], // no product p2 yet
  ['R', 'p2', 'B', 4],
  ['R', 'p1', 'A2', 5],
  ['L', 'k1', 'p2/z', 6], // k1 moves from p1 to p2
  ['R', 'p1', 'A3', 7], // k1 no longer follows p1
  ['L', 'k1', '/none', 8], // a null foreign key
  ['R', 'p2', null, 9], // p2 deleted: k2 loses its product
  ['L', 'k2', null, 10], // k2 deleted
  ['L', 'k3', 'p1/w', 11],
];

const EXPECTED: Record<ForeignKeyJoinKind, Row[]> = {
  inner: [
    ['k1', 'p1/x@A', 2], // max(2, 1)
    ['k2', 'p2/y@B', 4],
    ['k1', 'p1/x@A2', 5],
    ['k1', 'p2/z@B', 6],
    ['k1', null, 8], // no foreign key: no result
    ['k2', null, 9],
    ['k3', 'p1/w@A3', 11],
  ],
  left: [
    ['k1', 'p1/x@A', 2],
    ['k2', 'p2/y@-', 3],
    ['k2', 'p2/y@B', 4],
    ['k1', 'p1/x@A2', 5],
    ['k1', 'p2/z@B', 6],
    ['k1', '/none@-', 8],
    ['k2', 'p2/y@-', 9], // the product's delete at 9
    ['k2', null, 10],
    ['k3', 'p1/w@A3', 11],
  ],
};

for (const store of KINDS) {
  for (const kind of ['inner', 'left'] as const) {
    test(`${store} foreign-key ${kind} join: foreign-key changes, null foreign keys, deletes on both sides; the joined rows materialized`, () => {
      const { d, pipe, out } = driverFor(kind, store);
      pipe(INPUT);
      assert.deepEqual(out(), EXPECTED[kind]);
      const rows = kind === 'inner' ? [['k3', { value: 'p1/w@A3', timestamp: 11 }]] : [['k1', { value: '/none@-', timestamp: 8 }], ['k3', { value: 'p1/w@A3', timestamp: 11 }]];
      assert.deepEqual(d.storeEntries('joined', '2_0'), rows);
    });
  }
}

test('an answer for a left value that has changed since is dropped: a null foreign key with an older timestamp is resolved first, and the answer for the row before it does not come back', () => {
  for (const kind of ['inner', 'left'] as const) {
    const { pipeAll, out } = driverFor(kind);
    pipeAll([
      ['R', 'p1', 'A', 1],
      ['L', 'k1', 'p1/x', 20], // version 0: answered through the products' step, @20
      ['L', 'k1', '/none', 5], // version 1: no foreign key, straight to the third step, @5 — processed there first
    ]);
    // Without versions the answer for version 0 would come last and leave k1 = p1/x@A.
    assert.deepEqual(out(), kind === 'inner' ? [] : [['k1', '/none@-', 5]], kind);
  }
});

test('the internal streams are co-partitioned with the tables they serve: subscriptions like the right table, answers like the left one', async () => {
  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('lines', 3);
  log.ensureStream('products', 2);
  const b = new StreamsBuilder();
  const lines = b.table<string, string>('lines', { key: Serdes.string() });
  const products = b.table<string, string>('products', { key: Serdes.string() });
  lines.joinOnForeignKey(products, fk, joiner, { kind: 'left' }).toStream().to('out', { key: Serdes.string() });
  const enc = new TextEncoder();
  const append = (stream: string, partitions: number, key: string, value: string, ts: number): void =>
    void log.appendSync([{ stream, partition: partitionForKey(enc.encode(key), partitions), key: enc.encode(key), value: enc.encode(JSON.stringify(value)), eventTime: ts }]);
  append('products', 2, 'p1', 'A', 1);
  append('products', 2, 'p2', 'B', 2);
  for (let i = 0; i < 6; i++) append('lines', 3, `k${i}`, `p${1 + (i % 2)}/${i}`, 10 + i);
  await new Application(b.build(), { applicationId: 'shop', log }).run({ mode: 'catch-up' });
  const internal = (suffix: string): string => log.streams().find((s) => s.endsWith(suffix))!;
  assert.equal(log.partitionCount(internal('-subscription')), 2);
  assert.equal(log.partitionCount(internal('-response')), 3);
  assert.equal(log.partitionCount(internal('-left')), 3);
  const dec = new TextDecoder();
  const rows = Array.from({ length: log.partitionCount('out')! }, (_, p) => log.read('out', p, 0, 100)).flat().filter((r) => r.control === undefined);
  assert.deepEqual(rows.map((r) => `${dec.decode(r.key!)} ${dec.decode(r.value!)}`).sort(), ['k0 "p1/0@A"', 'k1 "p2/1@B"', 'k2 "p1/2@A"', 'k3 "p2/3@B"', 'k4 "p1/4@A"', 'k5 "p2/5@B"']);
});

test('a table cannot be joined with itself on a foreign key; the kind is inner or left', () => {
  const b = new StreamsBuilder();
  const t = b.table<string, string>('t', { key: Serdes.string() });
  assert.throws(() => t.joinOnForeignKey(t, fk, joiner), /^Error: foreign-key join: a table cannot be joined with itself/);
  const u = b.table<string, string>('u', { key: Serdes.string() });
  assert.throws(() => t.joinOnForeignKey(u, fk, joiner, { kind: 'outer' as never }), /^Error: foreign-key join: kind must be 'inner' or 'left', got outer$/);
});
