/**
 * Table tests for tables (`builder.table`, `KTable.filter / mapValues /
 * toStream`), each expected output worked out by hand from the rules of
 * `src/tables/change.ts`:
 * - a record with a null value deletes its key, any other value replaces
 *   it; the record processed last (offset order in a partition, oldest head
 *   first across partitions) wins, whatever its timestamp;
 * - a record with a null key is dropped, counted and audited;
 * - each operator forwards a change unless the key is absent before and
 *   after; filter and mapValues act on the old and the new value alike;
 * - `toStream()` writes the new value, or null for a delete, with the
 *   change's record's timestamp.
 * Rows are `[key, value, timestamp]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamsBuilder, type TableOptions } from '../../src/dsl/stream-builder.ts';
import type { KTable } from '../../src/dsl/ktable.ts';
import type { KStream } from '../../src/dsl/kstream.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { EmbeddedLog } from '../../src/connectors/embedded/embedded-log.ts';
import { Application } from '../../src/runtime/application.ts';
import { fingerprintStream } from '../../src/runtime/fingerprint.ts';

type Row = [key: string, value: unknown, timestamp: number];
/** An input record: key (null: none), value (null: a tombstone), event time. */
type In = readonly [key: string | null, value: unknown, ts: number];

const KINDS: readonly StoreKind[] = ['lmdb', 'in-memory'];
const enc = new TextEncoder();

/** Builds `table('in') → (define) → out`, pipes the records in one batch into one partition, returns the rows written to `out`. */
function run(define: (t: KTable<string, any>) => KStream<string, any>, records: readonly In[], options: TableOptions<string, unknown> = {}): { out: Row[]; d: TopologyTestDriver; store: string } {
  const b = new StreamsBuilder();
  const table = b.table<string, unknown>('in', { key: Serdes.string(), name: 'rows', ...options });
  define(table).to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  d.inputStream('in', { partitions: 1 });
  d.pipeRaw(records.map(([k, v, ts]) => ({ stream: 'in', partition: 0, key: k === null ? null : enc.encode(k), value: v === null ? null : enc.encode(JSON.stringify(v)), headers: {}, eventTime: ts })));
  const out = d.readOutput<string, unknown>('out', { key: Serdes.string() }).map((r): Row => [r.key, r.value, r.timestamp]);
  return { out, d, store: table.storeName! };
}

for (const store of KINDS) {
  test(`${store} table: inserts, updates and deletes come out as its changelog; a delete of an absent key and a null key come out as nothing`, () => {
    const { out, d } = run((t) => t.toStream(), [
      ['a', 1, 10], // insert a
      ['b', 2, 11], // insert b
      ['a', 3, 12], // update a
      ['c', null, 13], // delete of an absent key: nothing
      [null, 9, 14], // null key: dropped
      ['a', null, 15], // delete a: tombstone
      ['a', null, 16], // delete again: a is absent, nothing
      ['a', 4, 17], // insert a again
      ['b', 2, 18], // rewrite with an equal value: forwarded
    ], { store });
    assert.deepEqual(out, [
      ['a', 1, 10],
      ['b', 2, 11],
      ['a', 3, 12],
      ['a', null, 15],
      ['a', 4, 17],
      ['b', 2, 18],
    ]);
    // Each row with the timestamp of the record that wrote it.
    assert.deepEqual(d.storeEntries<string, unknown>('rows'), [['a', { value: 4, timestamp: 17 }], ['b', { value: 2, timestamp: 18 }]]);
    assert.equal(d.summary().dropped, 1);
    assert.equal(d.summary().outOfOrderTableUpdates, 0);
    assert.deepEqual(d.audit().filter((e) => e.kind === 'dropped').map((e) => e.offset), [4]);
  });

  test(`${store} table: the update processed last wins, even with an older timestamp; updates older than their row are counted`, () => {
    // One partition: offset order. The row ends as the last record says.
    const { out, d } = run((t) => t.toStream(), [
      ['a', 1, 20],
      ['a', 2, 5], // older than the row (20): still replaces 1; counted
      ['b', 7, 19],
      ['b', null, 3], // an older delete: still deletes; counted
      ['a', 3, 5], // as old as the row (5): not out of order
      ['c', 1, 1], // no row yet: not out of order, though stream time is 20
    ], { store });
    assert.deepEqual(out, [
      ['a', 1, 20],
      ['a', 2, 5],
      ['b', 7, 19],
      ['b', null, 3],
      ['a', 3, 5],
      ['c', 1, 1],
    ]);
    assert.deepEqual(d.storeEntries<string, unknown>('rows'), [['a', { value: 3, timestamp: 5 }], ['c', { value: 1, timestamp: 1 }]]);
    assert.equal(d.summary().outOfOrderTableUpdates, 2);
    assert.equal(d.audit().length, 0, 'nothing audited: the counts depend on the input alone');
  });
}

test('each partition of the table\'s stream is a task with rows of its own, in offset order', () => {
  const b = new StreamsBuilder();
  b.table<string, number>('in', { key: Serdes.string(), name: 'rows' }).toStream().to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  d.inputStream('in', { partitions: 2 });
  d.pipeRaw([
    { stream: 'in', partition: 0, key: enc.encode('a'), value: enc.encode('1'), headers: {}, eventTime: 5 },
    { stream: 'in', partition: 1, key: enc.encode('b'), value: enc.encode('2'), headers: {}, eventTime: 1 },
    { stream: 'in', partition: 1, key: enc.encode('b'), value: null, headers: {}, eventTime: 2 },
  ]);
  const rows = d.readOutput<string, number | null>('out', { key: Serdes.string() }).map((r) => [r.key, r.value, r.timestamp]);
  assert.deepEqual(rows.filter((r) => r[0] === 'a'), [['a', 1, 5]]);
  assert.deepEqual(rows.filter((r) => r[0] === 'b'), [['b', 2, 1], ['b', null, 2]]);
  assert.deepEqual(d.storeEntries<string, unknown>('rows', '0_0'), [['a', { value: 1, timestamp: 5 }]]);
  assert.deepEqual(d.storeEntries<string, unknown>('rows', '0_1'), []);
});

test('filter: a row that stops passing becomes a tombstone below it, one that starts passing an insert; a row hidden before and after its change, or deleted while hidden, makes no tombstone', () => {
  const { out } = run((t) => t.filter((_, v: number) => v % 2 === 0).toStream(), [
    ['a', 2, 1], // passes: insert
    ['b', 3, 2], // hidden: nothing
    ['a', 4, 3], // passes → passes: update
    ['a', 5, 4], // passes → hidden: tombstone
    ['a', 7, 5], // hidden → hidden: nothing
    ['a', 8, 6], // hidden → passes: insert
    ['b', null, 7], // delete of a hidden row: nothing (Kafka Streams sends a tombstone here unless old values are sent)
    ['a', null, 8], // delete of a passing row: tombstone
  ]);
  assert.deepEqual(out, [
    ['a', 2, 1],
    ['a', 4, 3],
    ['a', null, 4],
    ['a', 8, 6],
    ['a', null, 8],
  ]);
});

test('the worked example of docs/joins.md: accounts filtered by balance < 0', () => {
  const { out } = run((t) => t.filter((_, balance: number) => balance < 0).toStream(), [
    ['a', -5, 1],
    ['b', 10, 2],
    ['a', 3, 3],
    ['b', null, 4],
    ['a', null, 5],
  ]);
  assert.deepEqual(out, [['a', -5, 1], ['a', null, 3]]);
});

test('mapValues then filterNot: old and new mapped alike, a value mapped to null reads as absent', () => {
  const { out } = run(
    (t) =>
      t
        .mapValues((v: number) => (v < 0 ? null : v * 10))
        .filterNot((_, v) => v >= 100)
        .toStream(),
    [
      ['a', 1, 1], // 10: insert
      ['a', 2, 2], // 20: update
      ['a', -1, 3], // null: reads as absent, tombstone
      ['a', -2, 4], // absent → absent: nothing
      ['a', 30, 5], // 300: hidden by filterNot, nothing
      ['a', 3, 6], // 30: insert
      ['b', 11, 7], // 110: hidden
      ['b', null, 8], // delete of a hidden row: nothing
    ],
  );
  assert.deepEqual(out, [
    ['a', 10, 1],
    ['a', 20, 2],
    ['a', null, 3],
    ['a', 30, 6],
  ]);
});

test('two branches of one table see every change: toStream() of the table itself and of a filter of it', () => {
  const b = new StreamsBuilder();
  const t = b.table<string, number>('in', { key: Serdes.string() });
  t.toStream().to('all', { key: Serdes.string() });
  t.filter((_, v) => v > 1).toStream().to('big', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number | null>('in', { key: Serdes.string() }).pipeAll([
    { key: 'a', value: 1, eventTime: 1 },
    { key: 'a', value: 2, eventTime: 2 },
    { key: 'a', value: null, eventTime: 3 },
  ]);
  const rows = (s: string): Row[] => d.readOutput<string, number | null>(s, { key: Serdes.string() }).map((r) => [r.key, r.value, r.timestamp]);
  assert.deepEqual(rows('all'), [['a', 1, 1], ['a', 2, 2], ['a', null, 3]]);
  assert.deepEqual(rows('big'), [['a', 2, 2], ['a', null, 3]]);
});

test('a table reads its stream once: a second source of the stream is refused', () => {
  const b = new StreamsBuilder();
  b.table('in');
  assert.throws(() => b.stream('in'), /stream in is already read by/);
  assert.throws(() => b.table('in'), /stream in is already read by/);
});

for (const store of KINDS) {
  test(`${store} table on the embedded log: a restart goes on from the committed rows (a delete after it is a tombstone, an update of a row from before it is an update)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-table-'));
    const build = () => {
      const b = new StreamsBuilder();
      b.table<string, number>('in', { key: Serdes.string(), store, name: 'rows' }).filter((_, v) => v > 0).toStream().to('out', { key: Serdes.string() });
      return b.build();
    };
    const append = async (records: readonly In[]): Promise<void> => {
      const log = await EmbeddedLog.open({ dataDir: dir });
      log.ensureStream('in', 1);
      await log.append(records.map(([k, v, ts]) => ({ stream: 'in', partition: 0, key: enc.encode(k!), value: v === null ? null : enc.encode(JSON.stringify(v)), headers: {}, eventTime: ts })));
      await log.close();
    };
    const catchUp = async (): Promise<void> => {
      const log = await EmbeddedLog.open({ dataDir: dir });
      await new Application(build(), { applicationId: 'tables', log }).run({ mode: 'catch-up' });
      await log.close();
    };
    try {
      await append([['a', 1, 1], ['b', 2, 2], ['c', -1, 3]]);
      await catchUp();
      await append([['a', null, 4], ['b', 5, 5], ['c', null, 6], ['c', 3, 7]]);
      await catchUp();
      const log = await EmbeddedLog.open({ dataDir: dir });
      const rows = log.read('out', 0, 0, 100).map((r) => [new TextDecoder().decode(r.key!), r.value === null ? null : JSON.parse(new TextDecoder().decode(r.value)), r.eventTime]);
      assert.deepEqual(rows, [
        ['a', 1, 1],
        ['b', 2, 2],
        // second run
        ['a', null, 4], // the row a = 1 came back from the store: its delete is a tombstone
        ['b', 5, 5],
        // c = -1 was hidden by the filter; its delete is nothing
        ['c', 3, 7],
      ]);
      // The same output as one run over all of the input.
      const once = mkdtempSync(join(tmpdir(), 'tidemark-table-once-'));
      try {
        const l2 = await EmbeddedLog.open({ dataDir: once });
        l2.ensureStream('in', 1);
        await l2.append(log.read('in', 0, 0, 100).map((r) => ({ stream: 'in', partition: 0, key: r.key, value: r.value, headers: {}, eventTime: r.eventTime })));
        await new Application(build(), { applicationId: 'tables', log: l2 }).run({ mode: 'catch-up' });
        assert.equal(fingerprintStream(l2, 'out'), fingerprintStream(log, 'out'));
        await l2.close();
      } finally {
        rmSync(once, { recursive: true, force: true });
      }
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
