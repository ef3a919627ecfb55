/**
 * A key-value store gives back what its committed bytes would read back
 * as, whatever the store kind, the commit points and restarts: a value
 * JSON changes (a `Date` reads back as a string) comes back changed on the
 * next read, and a value changed after it was put (downstream, in place)
 * does not change what the store holds. Either, if the store handed back
 * the object it was given, would make a run that never restarts compute
 * something else than a run restored from a commit — or an in-memory store
 * something else than an LMDB one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { Application } from '../../src/runtime/application.ts';
import type { KStream } from '../../src/dsl/kstream.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const RECORDS = 12;

/** Runs `define` over RECORDS records of two keys, in one run or one record per run (a restart after each). */
async function outputs(define: (s: KStream<string, { ts: number }>, store: StoreKind) => KStream<string, any>, store: StoreKind, restarts: boolean): Promise<unknown[]> {
  const b = new StreamsBuilder();
  define(b.stream<string, { ts: number }>('in', { key: Serdes.string() }), store).to('out', { key: Serdes.string() });
  const topology = b.build();
  const log = new MemoryLog();
  log.ensureStream('in', 1);
  log.appendSync(Array.from({ length: RECORDS }, (_, i) => ({ stream: 'in', partition: 0, key: enc.encode(i % 2 === 0 ? 'a' : 'b'), value: enc.encode(JSON.stringify({ ts: i })), eventTime: i })));
  for (let run = 0; run < (restarts ? RECORDS : 1); run++) {
    await new Application(topology, { applicationId: 'values', log }).run({ mode: 'catch-up', ...(restarts ? { maxRecords: 1 } : {}) });
  }
  return log.read('out', 0, 0, 1000).filter((r) => r.control !== 'watermark').map((r) => JSON.parse(dec.decode(r.value!)) as unknown);
}

const CASES: [string, (s: KStream<string, { ts: number }>, store: StoreKind) => KStream<string, any>, (i: number) => unknown][] = [
  [
    'an aggregate holding a Date reads back with the Date as JSON wrote it',
    (s, store) =>
      s
        .groupByKey()
        .aggregate<{ n: number; first: unknown }>(() => ({ n: 0, first: null }), (_k, v, a) => ({ n: a.n + 1, first: a.first ?? new Date(v.ts) }), { store })
        .mapValues((a) => ({ n: a.n, first: typeof a.first })),
    // A key's first result is the aggregator's own value; every later one was built on the value read back.
    (i) => ({ n: Math.floor(i / 2) + 1, first: i < 2 ? 'object' : 'string' }),
  ],
  [
    'an aggregate changed in place downstream after it was put stays as it was put',
    (s, store) =>
      s
        .groupByKey()
        .aggregate<{ n: number; marks: number }>(() => ({ n: 0, marks: 0 }), (_k, _v, a) => ({ n: a.n + 1, marks: a.marks }), { store })
        .mapValues((a) => {
          a.marks += 1;
          return { n: a.n, marks: a.marks };
        }),
    (i) => ({ n: Math.floor(i / 2) + 1, marks: 1 }),
  ],
];

for (const [what, define, expected] of CASES) {
  for (const store of ['in-memory', 'lmdb'] as StoreKind[]) {
    test(`${store} store: ${what}, in one run and across restarts`, async () => {
      const want = Array.from({ length: RECORDS }, (_, i) => expected(i));
      assert.deepEqual(await outputs(define, store, false), want, 'one run');
      assert.deepEqual(await outputs(define, store, true), want, 'a restart after every record');
    });
  }
}
