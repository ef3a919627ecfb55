/**
 * Table tests for stream–table joins, each expected output worked out by
 * hand from the rules of `src/joins/stream-table.ts`: on stream time a
 * stream record at `ts` joins the versioned table as of `ts` once stream
 * time reached `ts + 1 + grace`; the table keeps its history back to the
 * oldest waiting record; a record whose as-of read is not exact any more is
 * late; a table update older than a record already joined is audited
 * `late-table-update`. Inputs are one partition per stream, so the
 * scheduled order is the oldest head first. Outputs are `[key, value, ts]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import type { KStream } from '../../src/dsl/kstream.ts';
import type { KTable } from '../../src/dsl/ktable.ts';
import { Serdes } from '../../src/records/serde.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { Application } from '../../src/runtime/application.ts';
import { ManualClock } from '../../src/time/clock.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';

type In = readonly [key: string | null, value: string | null, ts: number];
type Out = [key: string | null, value: unknown, ts: number];
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Setup {
  readonly table: readonly In[];
  readonly stream: readonly In[];
  /** Adds the join below `orders` and `customers`; returns the joined stream. */
  readonly join: (orders: KStream<string, string>, customers: (options?: { versioned?: boolean }) => KTable<string, string>) => KStream<string, string>;
  readonly late?: boolean;
}

async function run(setup: Setup) {
  const b = new StreamsBuilder();
  const orders = b.stream<string, string>('orders', { key: Serdes.string(), value: Serdes.string() });
  const customers = ({ versioned = true } = {}): KTable<string, string> =>
    b.table<string, string>('customers', { key: Serdes.string(), value: Serdes.string(), ...(versioned ? { versioned: { historyRetentionMs: 10 } } : {}) });
  setup.join(orders, customers).to('out', { key: Serdes.string() });
  const log = new MemoryLog();
  for (const [stream, records] of [['customers', setup.table], ['orders', setup.stream]] as const) {
    log.ensureStream(stream, 1);
    log.appendSync(records.map(([k, v, ts]) => ({ stream, partition: 0, key: k === null ? null : enc.encode(k), value: v === null ? null : enc.encode(v), headers: { from: `${stream}@${ts}` }, eventTime: ts })));
  }
  const app = new Application(b.build(), { applicationId: 'st', log });
  const summary = await app.run({ mode: 'catch-up', clock: new ManualClock(1000) });
  const read = (stream: string): Out[] =>
    log.read(stream, 0, 0, 1000).filter((r) => r.control !== 'watermark').map((r): Out => [r.key === null ? null : dec.decode(r.key), JSON.parse(dec.decode(r.value!)), r.eventTime!]);
  const audit = (kind: string) => log.readAudit('st').filter((e) => e.kind === kind);
  return { summary, read, audit, log };
}

const pair = (o: string, c: string | undefined): string => `${o}+${c ?? '∅'}`;

// The worked example: history retention 10; table c:b0@0, d:y@6, c:b3@3 (b3 out of order in its
// partition); stream c:o1@1, c:o5@5, e:x@9, then z@100 to move stream time on. Scheduled order:
// b0@0, o1@1, o5@5, y@6, b3@3, x@9, z@100.
const TABLE: readonly In[] = [['c', 'b0', 0], ['d', 'y', 6], ['c', 'b3', 3]];
const STREAM: readonly In[] = [['c', 'o1', 1], ['c', 'o5', 5], ['e', 'x', 9], ['z', 'z', 100]];

for (const store of ['lmdb', 'in-memory'] as StoreKind[]) {
  test(`${store} stream–table join, grace 3: each record joins the table as of its time, the out-of-order update b3 included`, async () => {
    // o1 is due at stream time 1 + 1 + 3 = 5 (after o5's pass): b0. o5 is due at 9 (after x's pass): b3,
    // which came at stream time 6 < 3 + 1 + 3, on time. x (key e) has no row: the inner join drops it.
    const { read, audit, summary } = await run({ table: TABLE, stream: STREAM, join: (o, c) => o.join(c(), pair, { grace: 3, store }) });
    assert.deepEqual(read('out'), [['c', 'o1+b0', 1], ['c', 'o5+b3', 5]]);
    assert.equal(audit('late-table-update').length, 0);
    assert.equal(summary.lateRecords, 0);
    assert.equal(summary.nondeterministicDecisions, 0);
  });
}

test('stream–table join, grace 0: o5 joins b0 as it is due at 6, before b3 comes; b3 is audited late-table-update', async () => {
  const { read, audit } = await run({ table: TABLE, stream: STREAM, join: (o, c) => o.join(c(), pair) });
  assert.deepEqual(read('out'), [['c', 'o1+b0', 1], ['c', 'o5+b0', 5]]);
  const [entry, ...more] = audit('late-table-update');
  assert.equal(more.length, 0);
  assert.deepEqual([entry?.stream, entry?.partition, entry?.offset], ['customers', 0, 2]);
  assert.match(entry!.detail, /table update at 3 came after a stream record of its key at 5 was joined/);
});

test('stream–table leftJoin: a record with no row as of its time joins undefined, when due; results keep the record\'s timestamp and headers', async () => {
  const { read, log } = await run({ table: TABLE, stream: STREAM, join: (o, c) => o.leftJoin(c(), pair, { grace: 3 }) });
  assert.deepEqual(read('out'), [['c', 'o1+b0', 1], ['c', 'o5+b3', 5], ['e', 'x+∅', 9]]);
  assert.deepEqual(log.read('out', 0, 0, 10).filter((r) => r.control !== 'watermark').map((r) => r.headers.from), ['orders@1', 'orders@5', 'orders@9']);
});

test('stream–table join: an update at exactly the record\'s time is seen; a delete before it reads as absent', async () => {
  const table: In[] = [['a', 'v1', 0], ['a', 'v2', 5], ['b', 'w', 0], ['b', null, 4]];
  const stream: In[] = [['a', 's', 5], ['b', 't', 5], ['z', 'z', 50]];
  const { read } = await run({ table, stream, join: (o, c) => o.leftJoin(c(), pair) });
  assert.deepEqual(read('out'), [['a', 's+v2', 5], ['b', 't+∅', 5]]);
});

test('stream–table join: a waiting record keeps the history it needs when the clock jumps past the retention', async () => {
  // s@5 waits (due at 6); v2@100 moves stream time to 100: horizon 90 by the retention, held at 5 while s
  // waits, so s still joins v1 exactly (without the hold, as of 5 would be beyond the history kept).
  const table: In[] = [['a', 'v1', 0], ['a', 'v2', 100]];
  const stream: In[] = [['a', 's', 5], ['z', 'z', 200]];
  const { read, summary } = await run({ table, stream, join: (o, c) => o.join(c(), pair) });
  assert.deepEqual(read('out'), [['a', 's+v1', 5]]);
  assert.equal(summary.lateRecords, 0);
});

for (const late of [false, true]) {
  test(`stream–table join: a record that arrives after the table's history of its time is gone is late (${late ? 'side output' : 'dropped'}), never joined with what is left`, async () => {
    // v1@0, v2@45, t@50 (t waits: horizon min(40, 50) = 40), then s@20: due on arrival; as of 20 is
    // not exact (horizon 40, a's latest version began at 45): late.
    const table: In[] = [['a', 'v1', 0], ['a', 'v2', 45]];
    const stream: In[] = [['b', 't', 50], ['a', 's', 20]];
    const { read, summary, audit, log } = await run({ table, stream, join: (o, c) => o.leftJoin(c(), pair, late ? { late: { sideOutput: 'late-orders' } } : {}) });
    assert.deepEqual(read('out'), [], 't still waits; s is late');
    assert.equal(summary.lateRecords, 1);
    const [entry] = audit('late-record');
    assert.deepEqual([entry?.stream, entry?.offset], ['orders', 1]);
    assert.match(entry!.detail, /stream record at 20 is older than the table's history \(horizon 40/);
    if (late) assert.deepEqual(log.read('late-orders', 0, 0, 10).map((r) => [dec.decode(r.key!), dec.decode(r.value!), r.eventTime]), [['a', 's', 20]]);
  });
}

test('stream–table join: stream records without a value are dropped; without a key, the inner join drops them and the left join joins undefined', async () => {
  const table: In[] = [['a', 'v', 0]];
  const stream: In[] = [[null, 'n', 3], ['a', null, 4], ['z', 'z', 50]];
  const inner = await run({ table, stream, join: (o, c) => o.join(c(), pair) });
  assert.deepEqual(inner.read('out'), []);
  assert.equal(inner.summary.dropped, 2);
  const left = await run({ table, stream, join: (o, c) => o.leftJoin(c(), pair) });
  assert.deepEqual(left.read('out'), [[null, 'n+∅', 3]]);
  assert.equal(left.summary.dropped, 1);
});

test('stream–table join by event time: refused on a plain table, with a grace beyond the retention, or a negative grace', () => {
  const b = new StreamsBuilder();
  const orders = b.stream<string, string>('orders');
  assert.throws(() => orders.join(b.table<string, string>('customers'), pair), /a join by event time needs a versioned table .*use joinLatest/);
  const versioned = b.table<string, string>('customers-v', { versioned: { historyRetentionMs: 10 } });
  assert.throws(() => orders.join(versioned, pair, { grace: 11 }), /grace \(11 ms\) exceeds the table's history retention \(10 ms\)/);
  assert.throws(() => orders.leftJoin(versioned, pair, { grace: -1 }), /grace must be a non-negative integer/);
});

test('stream–table join: a stream joined with a table both as it is and re-keyed is refused in one line saying why', async () => {
  const b = new StreamsBuilder();
  const orders = b.stream<string, string>('orders');
  const table = b.table<string, string>('customers', { versioned: { historyRetentionMs: 10 } });
  orders.join(table, pair).to('a');
  orders.selectKey((_k, v) => v).join(table, pair).to('b');
  await assert.rejects(new Application(b.build(), { applicationId: 'st', log: new MemoryLog() }).run({ mode: 'catch-up' }), /^Error: topology: internal stream st-select-key-\d+-repartition is written and read by one sub-topology: what reads it \(stream-table-inner-join-\d+\) shares a store with what writes it — e\.g\. a stream joined with a table both as it is and re-keyed; join the re-keyed stream with a table of its own$/);
});

test('joinLatest: each record joins the value the table holds when it is processed; joins that may differ from the as-of join are audited nondeterministic', async () => {
  // Scheduled (oldest head first): v1@0, s@5, v2@10, u@3, x@30, t@40, s2@8.
  const table: In[] = [['a', 'v1', 0], ['a', 'v2', 10], ['a', 'u', 3], ['x', 'x', 30]];
  const stream: In[] = [['a', 's', 5], ['b', 't', 40], ['a', 's2', 8]];
  const { read, audit, summary } = await run({ table, stream, join: (o, c) => o.leftJoinLatest(c({ versioned: false }), pair) });
  // s joins v1 (written at 0 <= 5, the newest: what the table held as of 5 too). u@3 comes after s@5 was
  // joined: audited. t has no row. s2@8 joins u, the latest processed: an older update (u@3) replaced a
  // newer one (v2@10) and 8 > 3, so it may differ: audited — conservatively, as the table held u as of 8
  // too (v2@10 is after 8), which one number per key cannot tell.
  assert.deepEqual(read('out'), [['a', 's+v1', 5], ['b', 't+∅', 40], ['a', 's2+u', 8]]);
  const entries = audit('nondeterministic:latest-value-join');
  assert.deepEqual(entries.map((e) => [e.stream, e.offset]), [['customers', 2], ['orders', 2]]);
  assert.equal(summary.nondeterministicDecisions, 2);
});

test('joinLatest: a record joined with a value written after its time, or after an older update replaced a newer one, is audited; an in-order key is not', async () => {
  // Scheduled: v1@0, v2@4, u@2 (the table's heads are older than t@9), t@9, s@3, x@1, r@6; a's state is u
  // (from 2), its newest update v2@4. x@1 joins u, written at 2 > 1: audited (as of 1 it held v1). r@6
  // joins u though v2@4 <= 6 was newer: audited (as of 6 it held v2). s@3 is after u and v2 was newer:
  // audited too, conservatively (as of 3 it held u).
  const table: In[] = [['a', 'v1', 0], ['a', 'v2', 4], ['a', 'u', 2]];
  const stream: In[] = [['b', 't', 9], ['a', 's', 3], ['a', 'x', 1], ['a', 'r', 6]];
  const { read, audit } = await run({ table, stream, join: (o, c) => o.joinLatest(c({ versioned: false }), pair) });
  assert.deepEqual(read('out'), [['a', 's+u', 3], ['a', 'x+u', 1], ['a', 'r+u', 6]]);
  assert.deepEqual(audit('nondeterministic:latest-value-join').map((e) => [e.stream, e.offset]), [['orders', 1], ['orders', 2], ['orders', 3]]);
});
