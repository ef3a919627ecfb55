/**
 * Windows and joins keep what they store as objects between commits only
 * where the bytes they would commit read back as the same value: the rest
 * goes through its bytes on every read, as after a restart. These tests
 * give them values JSON changes (a `Date` reads back as a string) and check
 * that the results are those of the bytes — in a run that never restarts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { TimeWindows } from '../../src/windows/time-windows.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { InMemoryOrderedStore, LmdbOrderedStore, type CommittableOrderedStore } from '../../src/state/ordered-store.ts';
import { keptEncoder, storedValue } from '../../src/state/kept-value.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { Application } from '../../src/runtime/application.ts';
import { ManualClock } from '../../src/time/clock.ts';

interface Reading {
  readonly n: number;
  readonly ts: number;
}

for (const store of ['in-memory', 'lmdb'] as StoreKind[]) {
  test(`${store} tumbling window, final results: an aggregate holding a Date is read back through its bytes, as after a restart`, () => {
    const b = new StreamsBuilder();
    b.stream<string, Reading>('in')
      .groupByKey()
      .windowedBy(TimeWindows.ofSize(10))
      .aggregate<{ count: number; first: unknown }>(
        () => ({ count: 0, first: null }),
        // The first reading's time as a Date: JSON writes it as its ISO string.
        (_k, r, a) => ({ count: a.count + 1, first: a.first ?? new Date(r.ts) }),
        { emit: 'final', store },
      )
      .mapValues((a) => ({ count: a.count, first: typeof a.first }))
      .to('out');
    const d = new TopologyTestDriver(b.build());
    const input = d.inputStream<string, Reading>('in', { partitions: 1 });
    // One window of one record, one of three, then a record that closes both.
    input.pipeAll([0, 10, 11, 12, 40].map((ts) => ({ key: 'k', value: { n: 1, ts }, eventTime: ts })));
    const out = d.readOutput<unknown, { count: number; first: string }>('out').map((r) => r.value);
    assert.deepEqual(out, [
      { count: 1, first: 'string' },
      { count: 3, first: 'string' },
    ]);
  });
}

test('a stream–table join: a waiting record whose value holds a Date is released as its bytes read back', async () => {
  const b = new StreamsBuilder();
  const customers = b.table<string, string>('customers', { key: Serdes.string(), value: Serdes.string(), versioned: { historyRetentionMs: 100 } });
  b.stream<string, Reading>('orders', { key: Serdes.string() })
    .mapValues((r) => ({ n: r.n, at: new Date(r.ts) }))
    .leftJoin(customers, (o, c) => ({ n: o.n, at: typeof o.at, customer: c ?? null }), { grace: 5 })
    .to('out', { key: Serdes.string() });
  const log = new MemoryLog();
  const enc = new TextEncoder();
  log.ensureStream('customers', 1);
  log.ensureStream('orders', 1);
  log.appendSync([{ stream: 'customers', partition: 0, key: enc.encode('c'), value: enc.encode('Ann'), headers: {}, eventTime: 0 }]);
  // The first order waits out the grace; the last, 20 ms later, releases it.
  log.appendSync([1, 21].map((ts) => ({ stream: 'orders', partition: 0, key: enc.encode('c'), value: enc.encode(JSON.stringify({ n: ts, ts })), headers: {}, eventTime: ts })));
  const app = new Application(b.build(), { applicationId: 'kept', log });
  await app.run({ mode: 'catch-up', clock: new ManualClock(1000) });
  const out = log.read('out', 0, 0, 100).filter((r) => r.control !== 'watermark').map((r) => JSON.parse(new TextDecoder().decode(r.value!)) as unknown);
  assert.deepEqual(out, [{ n: 1, at: 'string', customer: 'Ann' }]);
});

for (const [kind, make] of [
  ['in-memory', (backend: ReturnType<typeof emptyBackend>) => new InMemoryOrderedStore('s', backend)],
  ['lmdb', (backend: ReturnType<typeof emptyBackend>) => new LmdbOrderedStore('s', backend)],
] as const) {
  test(`${kind} ordered store: a kept value is committed as its bytes, and one changed after it was stored fails the commit naming the store`, () => {
    const json = Serdes.json<{ a: unknown }>();
    const encode = keptEncoder(json, 's');
    const store: CommittableOrderedStore = make(emptyBackend());
    const kept = { a: 1 };
    store.put('k1', storedValue(json, kept, encode));
    assert.deepEqual(store.get('k1'), json.serialize({ a: 1 }));
    const writes = store.drainWrites();
    assert.deepEqual(writes, [{ store: 's', key: 'k1', value: json.serialize({ a: 1 }) }]);
    const changed = { a: 2 };
    store.put('k2', storedValue(json, changed, encode));
    changed.a = new Date(0) as unknown as number;
    assert.throws(() => store.drainWrites(), /^Error: store s: a value it kept as an object was changed after it was stored/);
  });
}

function emptyBackend() {
  return { get: () => undefined, entries: () => [], count: () => 0 };
}
