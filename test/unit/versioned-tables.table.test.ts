/**
 * Table tests for versioned tables (`builder.table(stream, { versioned })`)
 * and for reading state while an application runs (`app.store`), each
 * expected value worked out by hand from the rules of
 * `src/tables/versioned.ts`: with a history retention of 10 ms on stream
 * time the horizon is `streamTime − 10`; an update at or after a key's
 * latest version goes downstream, an older one within the horizon only
 * rewrites history, one older than the horizon is late (counted, audited,
 * dropped or sent to the late stream). Rows are `[key, value, timestamp]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder, type TableOptions, type TopologyOptions } from '../../src/dsl/stream-builder.ts';
import { Watermarks } from '../../src/time/watermark.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { Application } from '../../src/runtime/application.ts';
import { ManualClock } from '../../src/time/clock.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { BEYOND_HISTORY } from '../../src/state/versioned-store.ts';
import type { Timestamped } from '../../src/state/timestamped.ts';

type Row = [key: string, value: unknown, timestamp: number];
type In = readonly [key: string | null, value: number | null, ts: number];
const KINDS: readonly StoreKind[] = ['lmdb', 'in-memory'];
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The worked input: stream time 10, 30, 30, 30, 30, 30, 40; horizon 0, 20, 20, 20, 20, 20, 30. */
const INPUT: readonly In[] = [
  ['a', 1, 10], // a's first version: out
  ['a', 2, 30], // the latest: out
  ['a', 9, 25], // 25 >= horizon 20, before the latest: history only, nothing out
  ['a', 8, 15], // 15 < horizon 20: late
  ['a', null, 27], // a delete in the past: history only
  ['b', null, 30], // a delete of an absent key: the latest, but nothing a reader could see changed
  ['a', null, 40], // a delete of the latest: a tombstone out
];
const OUTPUT: readonly Row[] = [['a', 1, 10], ['a', 2, 30], ['a', null, 40]];

/** Runs `table('in', versioned) → toStream → out` over `records` in catch-up on a memory log. */
async function runVersioned(records: readonly In[], options: TableOptions<string, number> & { kind?: StoreKind } = {}, topology: TopologyOptions = {}) {
  const b = new StreamsBuilder(topology);
  const table = b.table<string, number>('in', { key: Serdes.string(), value: Serdes.json<number>(), name: 'prices', store: options.kind ?? 'lmdb', versioned: { historyRetentionMs: 10 }, ...options });
  table.toStream().to('out', { key: Serdes.string() });
  const log = new MemoryLog();
  log.ensureStream('in', 1);
  log.appendSync(records.map(([k, v, ts]) => ({ stream: 'in', partition: 0, key: k === null ? null : enc.encode(k), value: v === null ? null : enc.encode(JSON.stringify(v)), headers: {}, eventTime: ts })));
  const app = new Application(b.build(), { applicationId: 'versioned', log });
  const summary = await app.run({ mode: 'catch-up', clock: new ManualClock(1000) });
  const read = (stream: string): Row[] =>
    log.read(stream, 0, 0, 1000).filter((r) => r.control !== 'watermark').map((r): Row => [dec.decode(r.key!), r.value === null ? null : JSON.parse(dec.decode(r.value)), r.eventTime!]);
  return { app, log, summary, read };
}

for (const kind of KINDS) {
  test(`${kind} versioned table: only changes of the latest value go downstream; history writes go nowhere; a late update is dropped, counted and audited`, async () => {
    const { summary, read, log } = await runVersioned(INPUT, { kind });
    assert.deepEqual(read('out'), OUTPUT);
    assert.equal(summary.lateRecords, 1);
    const late = log.readAudit('versioned').filter((e) => e.kind === 'late-record');
    assert.equal(late.length, 1);
    assert.match(late[0]!.detail, /table update at 15 is older than the history horizon 20/);
  });

  test(`${kind} versioned table: app.store reads the latest value and the values as of past times, back to the horizon`, async () => {
    const { app } = await runVersioned(INPUT, { kind });
    const prices = app.store<string, number>('prices');
    assert.equal(prices.kind, 'versioned');
    if (prices.kind !== 'versioned') return;
    assert.equal(prices.horizon, 30, 'stream time 40 − 10');
    assert.equal(prices.get('a'), undefined, 'deleted at 40');
    const asOf = (t: number): unknown => {
      const r = prices.getAsOf('a', t);
      return r === BEYOND_HISTORY ? '…' : r === undefined ? '∅' : [r.value, r.validFrom, r.validTo];
    };
    // 25 → 9 and 27 → deleted were purged at horizon 30: reads before it are beyond history.
    assert.deepEqual([26, 29, 30, 39, 40, 99].map(asOf), ['…', '…', [2, 30, 40], [2, 30, 40], '∅', '∅']);
    assert.equal(prices.getAsOf('b', 35), undefined, 'never present');
    assert.equal(prices.getAsOf('zz', 10), BEYOND_HISTORY, 'a key no task holds, before the horizon');
  });
}

test('versioned table: late updates go to the side output, untouched, counted and audited', async () => {
  const { summary, read, log } = await runVersioned(INPUT, { late: { sideOutput: 'late-prices' } });
  assert.deepEqual(read('out'), OUTPUT);
  assert.deepEqual(read('late-prices'), [['a', 8, 15]]);
  assert.equal(summary.lateRecords, 1);
  assert.equal(log.readAudit('versioned').filter((e) => e.kind === 'late-record').length, 1);
});

test('versioned table: a history retention must be a non-negative integer; a late policy needs a versioned table', () => {
  assert.throws(() => new StreamsBuilder().table('in', { versioned: { historyRetentionMs: -1 } }), /historyRetentionMs must be a non-negative integer/);
  assert.throws(() => new StreamsBuilder().table('in', { late: 'drop' }), /a late policy needs a versioned table/);
});

test('versioned table: with no history (retention 0) an update older than stream time is late', async () => {
  const { read, summary } = await runVersioned([['a', 1, 10], ['a', 2, 9], ['a', 3, 10]], { versioned: { historyRetentionMs: 0 } });
  assert.deepEqual(read('out'), [['a', 1, 10], ['a', 3, 10]], 'the same timestamp as stream time is on time, and replaces');
  assert.equal(summary.lateRecords, 1);
});

test('versioned table on the watermark clock: the horizon is W + 1 − retention', async () => {
  // boundedOutOfOrderness(5): W = max ts − 6, now = W + 1 = max ts − 5; retention 10: horizon = max ts − 15.
  const input: In[] = [
    ['a', 1, 10], // W 4 after it: horizon −5
    ['a', 2, 40], // W 34 after it: horizon 25
    ['a', 3, 24], // 24 < 25: late
    ['a', 4, 25], // at the horizon: history only
    ['a', 5, 45], // the latest
  ];
  const { read, summary, app } = await runVersioned(input, { watermarks: Watermarks.boundedOutOfOrderness(5) }, { eventClock: 'watermark' });
  assert.deepEqual(read('out'), [['a', 1, 10], ['a', 2, 40], ['a', 5, 45]]);
  assert.equal(summary.lateRecords, 1);
  const prices = app.store<string, number>('prices');
  assert.ok(prices.kind === 'versioned');
  assert.equal(prices.horizon, 30, 'W 39 after the last record: the watermark hook moved the horizon to 39 + 1 − 10');
  const r = prices.getAsOf('a', 30);
  assert.ok(r !== BEYOND_HISTORY && r !== undefined);
  assert.deepEqual([r.value, r.validFrom, r.validTo], [4, 25, 40]);
});

for (const versioned of [false, true]) {
  test(`app.store (${versioned ? 'versioned' : 'plain'} table): a value written but not yet committed is not visible; after the commit it is`, async () => {
    const seen: unknown[] = [];
    const b = new StreamsBuilder();
    const table = b.table<string, number>('in', { key: Serdes.string(), value: Serdes.json<number>(), name: 'rows', ...(versioned ? { versioned: { historyRetentionMs: 100 } } : {}) });
    const ref: { app?: Application } = {};
    // Runs after the table wrote the record's change, in the same task, before any commit can happen.
    table.toStream().peek((k) => {
      const s = ref.app!.store<string, unknown>('rows');
      seen.push(s.kind === 'versioned' ? s.get(k) : (s.get(k) as Timestamped<number> | undefined)?.value);
    });
    const log = new MemoryLog();
    log.ensureStream('in', 1);
    const append = (v: number, ts: number): void => void log.appendSync([{ stream: 'in', partition: 0, key: enc.encode('a'), value: enc.encode(String(v)), headers: {}, eventTime: ts }]);
    append(1, 10);
    append(2, 20);
    const app = (ref.app = new Application(b.build(), { applicationId: 'query', log }));
    const clock = new ManualClock(1000); // never moves: no interval commit between the two records
    await app.run({ mode: 'catch-up', clock });
    assert.deepEqual(seen, [undefined, undefined], 'in one commit interval, neither write is visible while it is processed');
    const s = app.store<string, unknown>('rows');
    assert.equal(s.kind === 'versioned' ? s.get('a') : (s.get('a') as Timestamped<number>).value, 2, 'committed at the end of the run');
    if (s.kind === 'key-value') {
      assert.deepEqual([...s.all()].map(([k, v]) => [k, (v as Timestamped<number>).value]), [['a', 2]]);
      assert.deepEqual([...s.range('a', 'b')].length, 1);
      assert.deepEqual([...s.range('b', 'c')].length, 0);
    }
    // A second run sees the first run's commit while it processes.
    append(3, 30);
    seen.length = 0;
    await app.run({ mode: 'catch-up', clock });
    assert.deepEqual(seen, [2], 'the committed value, not the one being written');
  });
}

test('app.store: an unknown store is refused, naming the stores there are', () => {
  const app = new Application(new StreamsBuilder().build(), { applicationId: 'none', log: new MemoryLog() });
  assert.throws(() => app.store('nope'), /has no store nope/);
});

test('TopologyTestDriver.store: a versioned table read as of a time, after the driver processed (and committed) its input', () => {
  const b = new StreamsBuilder();
  b.table<string, number>('in', { key: Serdes.string(), value: Serdes.json<number>(), name: 'prices', versioned: { historyRetentionMs: 100 } });
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { key: Serdes.string(), value: Serdes.json<number>() });
  input.pipe('apple', 3, { eventTime: 10 });
  input.pipe('apple', 5, { eventTime: 30 });
  input.pipe('apple', 4, { eventTime: 20 });
  const prices = d.store<string, number>('prices');
  assert.ok(prices.kind === 'versioned');
  const at = (t: number): unknown => {
    const r = prices.getAsOf('apple', t);
    return r === BEYOND_HISTORY ? '…' : r?.value;
  };
  assert.deepEqual([9, 10, 19, 20, 29, 30].map(at), [undefined, 3, 3, 4, 4, 5]);
  assert.equal(prices.get('apple'), 5);
});

/**
 * Two tasks (partitions 0 and 1), retention 10. Task 0: stream time 22,
 * horizon 12; task 1: stream time 31, horizon 21; the view's horizon 21.
 * Versions: a 2@[12,20) 3@[20,∞); b 1@[10,22), deleted at 22;
 * c 5@[5,31) 7@[31,∞); ab 6@[30,∞). Keys in byte order: a, ab, b, c.
 */
for (const kind of KINDS) {
  test(`${kind} versioned table: app.store range and all list the keys of every task in byte order, latest or as of a time, and beyond the horizon say so`, async () => {
    const b = new StreamsBuilder();
    b.table<string, number>('in', { key: Serdes.string(), value: Serdes.json<number>(), name: 'prices', store: kind, versioned: { historyRetentionMs: 10 } });
    const log = new MemoryLog();
    log.ensureStream('in', 2);
    const rows: [partition: number, key: string, value: number | null, ts: number][] = [
      [0, 'b', 1, 10], [0, 'a', 2, 12], [0, 'a', 3, 20], [0, 'b', null, 22],
      [1, 'c', 5, 5], [1, 'ab', 6, 30], [1, 'c', 7, 31],
    ];
    log.appendSync(rows.map(([partition, k, v, ts]) => ({ stream: 'in', partition, key: enc.encode(k), value: v === null ? null : enc.encode(JSON.stringify(v)), headers: {}, eventTime: ts })));
    const app = new Application(b.build(), { applicationId: 'ranges', log });
    const summary = await app.run({ mode: 'catch-up', clock: new ManualClock(1000) });
    assert.equal(summary.lateRecords, 0);
    const prices = app.store<string, number>('prices');
    assert.ok(prices.kind === 'versioned');
    assert.equal(prices.horizon, 21);
    const list = (entries: IterableIterator<[string, { value: number; validFrom: number; validTo: number | undefined }]> | typeof BEYOND_HISTORY): unknown =>
      entries === BEYOND_HISTORY ? '…' : [...entries].map(([k, r]) => [k, r.value, r.validFrom, r.validTo]);
    assert.deepEqual(list(prices.all()), [['a', 3, 20, undefined], ['ab', 6, 30, undefined], ['c', 7, 31, undefined]], 'b is deleted');
    assert.deepEqual(list(prices.all(25)), [['a', 3, 20, undefined], ['c', 5, 5, 31]], 'ab not yet, b deleted since 22');
    assert.deepEqual(list(prices.all(21)), [['a', 3, 20, undefined], ['b', 1, 10, 22], ['c', 5, 5, 31]]);
    assert.equal(list(prices.all(20)), '…', 'older than task 1\'s horizon, though task 0 still holds 20');
    assert.deepEqual(list(prices.range('a', 'b')), [['a', 3, 20, undefined], ['ab', 6, 30, undefined]]);
    assert.deepEqual(list(prices.range('a', 'b', 30)), [['a', 3, 20, undefined], ['ab', 6, 30, undefined]]);
    assert.deepEqual(list(prices.range('ab', 'c', 21)), [['b', 1, 10, 22]], 'ab absent at 21; c is the bound, left out');
    assert.deepEqual(list(prices.range('b', 'c')), [], 'b deleted');
    assert.equal(list(prices.range('a', 'z', 0)), '…');
  });
}
