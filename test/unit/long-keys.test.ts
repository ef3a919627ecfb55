/**
 * Keys of any size a record can carry (1 KB, 100 KB, 1 MB) in every kind of
 * store: a count per key (key-value store), a tumbling-window count (final
 * results, emitted in key-byte order within a window) and a session count
 * (updates, with the per-key range scans of session merging), on the
 * embedded log, with LMDB and in-memory stores, stopped halfway and
 * restarted on a reopened data directory (so state is restored from what was
 * committed). The output must equal that of the same topology on short keys,
 * mapped back one to one — the short keys sort like the long ones, so the
 * order of final results is compared too.
 *
 * `maxRecordBytes` is raised to 8 MiB: a 1 MiB key plus its value is above
 * the 1 MiB default, which would dead-letter those records instead.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLog } from '../../src/connectors/embedded/embedded-log.ts';
import { Application } from '../../src/runtime/application.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { keyValueStore } from '../../src/dsl/stores.ts';
import { InMemoryKeyValueStore } from '../../src/state/in-memory-store.ts';
import { LmdbKeyValueStore } from '../../src/state/lmdb-store.ts';
import { InMemoryOrderedStore, LmdbOrderedStore, type CommittableOrderedStore } from '../../src/state/ordered-store.ts';
import { LITERAL_KEY_CHARS, encodeWrite, storedKeyOf } from '../../src/state/long-keys.ts';
import type { CommittableStore, StateBackend, StateWrite, StoreKind } from '../../src/state/key-value-store.ts';
import type { Topology } from '../../src/runtime/topology.ts';
import { TimeWindows } from '../../src/windows/time-windows.ts';
import { SessionWindows } from '../../src/windows/session-windows.ts';
import { Serdes } from '../../src/records/serde.ts';

const KB = 1024;
const SIZES = [KB, 100 * KB, KB * KB];
const MAX_RECORD_BYTES = 8 * KB * KB;
const OUTPUTS = ['counts', 'tumbling', 'sessions'] as const;

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'tidemark-long-keys-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Per size, keys that differ only in their last character (so they share any
 * prefix a store might keep of them) and one that differs in its first; and
 * one short key among them. Sorted: the order final results come out in.
 */
const LONG_KEYS = [...SIZES.flatMap((n) => [`${'a'.repeat(n - 1)}2`, `${'a'.repeat(n - 1)}1`, `b${'a'.repeat(n - 1)}`]), 'a'].sort();
/** Short keys in the same order as the long ones: `k00` < `k01` < … */
const SHORT_KEYS = LONG_KEYS.map((_, i) => `k${String(i).padStart(2, '0')}`);
const toShort = new Map(LONG_KEYS.map((k, i) => [k, SHORT_KEYS[i]!]));

/** The input: key indexes and event times, chosen so that windows close and sessions merge along the way. */
const INPUT = Array.from({ length: 40 }, (_, i) => ({ key: (i * 7) % LONG_KEYS.length, eventTime: i * 60 + ((i * 37) % 5) * 40 }));

function topology(kind: StoreKind): Topology {
  const b = new StreamsBuilder();
  const g = b.stream<string, string>('in', { key: Serdes.string(), value: Serdes.string() }).groupByKey();
  const sink = { key: Serdes.string(), value: Serdes.string() };
  g.count({ name: 'count-store', store: kind })
    .mapValues((n) => String(n))
    .to('counts', sink);
  g.windowedBy(TimeWindows.ofSize(300))
    .count({ name: 'tumbling-store', store: kind, emit: 'final' })
    .map((w, n): [string, string] => [w.key, `[${w.start},${w.end})=${n}`])
    .to('tumbling', sink);
  g.windowedBy(SessionWindows.ofInactivityGap(100))
    .count({ name: 'session-store', store: kind })
    .map((w, n): [string, string] => [w.key, `[${w.start},${w.end}]=${n}`])
    .to('sessions', sink);
  return b.build();
}

type Output = Record<(typeof OUTPUTS)[number], [key: string, value: string, timestamp: number][]>;

/**
 * Runs the topology on `keys` over a fresh data directory, in catch-up mode;
 * with `stopAfter`, first only that many records, then the rest after
 * closing and reopening the directory. Returns what each output stream holds.
 */
async function runOn(kind: StoreKind, keys: readonly string[], stopAfter?: number): Promise<Output> {
  const dataDir = tempDir();
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  let log = await EmbeddedLog.open({ dataDir });
  log.ensureStream('in', 1);
  await log.append(INPUT.map((r, i) => ({ stream: 'in', partition: 0, key: utf8(keys[r.key]!), value: utf8(`v${i}`), eventTime: r.eventTime })));
  const options = { mode: 'catch-up', maxRecordBytes: MAX_RECORD_BYTES, commitIntervalMs: 0 } as const;
  if (stopAfter !== undefined) {
    const first = await new Application(topology(kind), { applicationId: 'long', log }).run({ ...options, maxRecords: stopAfter });
    assert.equal(first.processed, stopAfter, 'the first run stopped halfway');
    await log.close();
    log = await EmbeddedLog.open({ dataDir });
  }
  await new Application(topology(kind), { applicationId: 'long', log }).run(options);
  assert.deepEqual(log.read('long.dead-letter', 0, 0, 1_000), [], 'nothing was dead-lettered');
  const text = (b: Uint8Array | null): string => Buffer.from(b!).toString();
  const out = Object.fromEntries(OUTPUTS.map((s) => [s, log.read(s, 0, 0, 10_000).map((r) => [text(r.key), text(r.value), r.eventTime!] as [string, string, number])])) as Output;
  await log.close();
  return out;
}

for (const kind of ['lmdb', 'in-memory'] as const) {
  test(`long keys (${SIZES.map((n) => `${n / KB} KB`).join(', ')}), ${kind} stores: count, tumbling and session windows across a restart give the short-key output`, async () => {
    const expected = await runOn(kind, SHORT_KEYS);
    assert.ok(expected.tumbling.length > 5 && expected.sessions.length > 20, 'windows fired and sessions merged');
    const got = await runOn(kind, LONG_KEYS, INPUT.length / 2);
    for (const s of OUTPUTS) {
      const mapped = got[s].map(([k, v, t]) => [toShort.get(k) ?? `unknown key of ${k.length} chars`, v, t]);
      assert.deepEqual(mapped, expected[s], `output ${s}`);
    }
  });
}

// ---------------------------------------------------------------------------
// The stores themselves, around the length where keys go under a digest
// ---------------------------------------------------------------------------

let storeLog: EmbeddedLog;
let taskSeq = 0;
before(async () => {
  storeLog = await EmbeddedLog.open({ dataDir: tempDir() });
});
after(async () => {
  await storeLog.close();
});

function commitWrites(taskId: string, stateWrites: StateWrite[]): void {
  storeLog.commit([{ applicationId: 'stores', taskId, outputs: [], stateWrites, checkpoint: { positions: {}, streamTime: 0, partitionTimes: {}, commits: 1 }, audit: [] }]);
}

/** Every key the backend holds for `store` is short enough for LMDB, whatever the keys put. */
function assertStoredKeysBounded(backend: StateBackend, store: string): void {
  for (const [k] of backend.entries(store)) assert.ok(k.length <= LITERAL_KEY_CHARS + 65, `a stored key of ${k.length} characters`);
}

const kvDef = keyValueStore<string, number>('kv', { key: Serdes.string(), value: Serdes.json<number>() });
const makeKv = (kind: StoreKind, backend: StateBackend): CommittableStore<string, number> =>
  kind === 'lmdb' ? new LmdbKeyValueStore(kvDef, backend) : new InMemoryKeyValueStore(kvDef, backend);
const makeOrdered = (kind: StoreKind, backend: StateBackend): CommittableOrderedStore =>
  kind === 'lmdb' ? new LmdbOrderedStore('ordered', backend) : new InMemoryOrderedStore('ordered', backend);
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

// Keys (hex of their bytes: two characters a byte) just under, at and over the length
// kept literally, differing only at the end: all long ones share their stored prefix.
const nearArb = (near: number): fc.Arbitrary<string> =>
  fc.tuple(fc.integer({ min: 0, max: 6 }), fc.constantFrom('', 'x', 'y', 'xy', 'yx')).map(([n, tail]) => `${'q'.repeat(near + n)}${tail}`);
/** Record keys for key-value stores, whose keys are hex. */
const keyArb = nearArb(LITERAL_KEY_CHARS / 2 - 3);
/** The key part of ordered-store keys, which are stored as they are. */
const rawKeyArb = nearArb(LITERAL_KEY_CHARS - 3);

for (const kind of ['lmdb', 'in-memory'] as const) {
  test(`${kind} key-value store: keys around the digest length behave like a map, in key-byte order, across commits, rollbacks and restores (property)`, () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('put' as const), k: keyArb, v: fc.integer() }),
      fc.record({ t: fc.constant('put' as const), k: keyArb, v: fc.integer() }),
      fc.record({ t: fc.constant('delete' as const), k: keyArb }),
      fc.record({ t: fc.constantFrom('commit' as const, 'discard' as const, 'reopen' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const taskId = `kv_${taskSeq++}`;
        const backend = storeLog.stateBackend('stores', taskId);
        let store = makeKv(kind, backend);
        let committed = new Map<string, number>();
        let current = new Map<string, number>();
        for (const o of ops) {
          if (o.t === 'put') {
            store.put(o.k, o.v);
            current.set(o.k, o.v);
          } else if (o.t === 'delete') {
            store.delete(o.k);
            current.delete(o.k);
          } else if (o.t === 'commit') {
            commitWrites(taskId, store.drainWrites());
            committed = new Map(current);
          } else {
            // A rollback, or a restart: either way back to the last commit.
            if (o.t === 'discard') store.discardWrites();
            else store = makeKv(kind, backend);
            current = new Map(committed);
          }
          for (const [k, v] of current) assert.equal(store.get(k), v);
          assert.deepEqual([...store.all()], [...current].sort(([a], [b]) => byBytes(a, b)));
        }
        assertStoredKeysBounded(backend, 'kv');
      }),
      { numRuns: 60 },
    );
  });

  test(`${kind} ordered store: range scans over keys around the digest length see exactly the keys in range, in order, across commits and restores (property)`, () => {
    // Keys as window stores make them: a (long) key, then a time; bounds of both lengths.
    const entryKey = fc.tuple(rawKeyArb, fc.integer({ min: 0, max: 9 })).map(([k, t]) => `${k}.${t}`);
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.record({ t: fc.constant('put' as const), k: entryKey, v: fc.integer({ min: 0, max: 255 }) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), k: entryKey }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('commit' as const, 'reopen' as const) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('range' as const), from: fc.oneof(entryKey, rawKeyArb, fc.constant('')), to: fc.oneof(entryKey, rawKeyArb.map((k) => `${k}/`), fc.constant('\uffff')) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const taskId = `ord_${taskSeq++}`;
        const backend = storeLog.stateBackend('stores', taskId);
        let store = makeOrdered(kind, backend);
        let committed = new Map<string, number>();
        const current = new Map<string, number>();
        for (const o of ops) {
          if (o.t === 'put') {
            store.put(o.k, Uint8Array.of(o.v));
            current.set(o.k, o.v);
          } else if (o.t === 'delete') {
            store.delete(o.k);
            current.delete(o.k);
          } else if (o.t === 'commit') {
            commitWrites(taskId, store.drainWrites());
            committed = new Map(current);
          } else if (o.t === 'range') {
            const expected = [...current].filter(([k]) => k >= o.from && k < o.to).sort(([a], [b]) => (a < b ? -1 : 1));
            assert.deepEqual([...store.range(o.from, o.to)].map(([k, v]) => [k, v[0]]), expected);
          } else {
            store = makeOrdered(kind, backend);
            current.clear();
            for (const [k, v] of committed) current.set(k, v);
          }
          assert.equal(store.count(), current.size);
          for (const [k, v] of current) assert.equal(store.get(k)?.[0], v);
        }
        assertStoredKeysBounded(backend, 'ordered');
      }),
      { numRuns: 60 },
    );
  });

  test(`${kind} stores: long keys sharing their first ${LITERAL_KEY_CHARS} characters come out in key order, committed or not, after a restore too`, () => {
    const taskId = `order_${taskSeq++}`;
    const backend = storeLog.stateBackend('stores', taskId);
    const tails = ['', 'a', 'b', 'ab', 'ba', 'bb', 'c', 'ca'];
    const kvKeys = tails.map((t) => `${'q'.repeat(KB)}${t}`);
    const rawKeys = tails.flatMap((t) => [1, 2].map((time) => `${'q'.repeat(2 * KB)}${t}.${time}`));
    let kv = makeKv(kind, backend);
    let ordered = makeOrdered(kind, backend);
    kvKeys.forEach((k, i) => i % 2 === 0 && kv.put(k, i));
    rawKeys.forEach((k, i) => i % 2 === 0 && ordered.put(k, Uint8Array.of(i)));
    commitWrites(taskId, [...kv.drainWrites(), ...ordered.drainWrites()]);
    kvKeys.forEach((k, i) => i % 2 === 1 && kv.put(k, i));
    rawKeys.forEach((k, i) => i % 2 === 1 && ordered.put(k, Uint8Array.of(i)));
    const sortedKv = [...kvKeys].sort(byBytes);
    const sortedRaw = [...rawKeys].sort();
    const check = (): void => {
      assert.deepEqual([...kv.all()].map(([k]) => k), sortedKv);
      assert.deepEqual([...ordered.range('', '\uffff')].map(([k]) => k), sortedRaw);
      const one = `${'q'.repeat(2 * KB)}b.`;
      assert.deepEqual([...ordered.range(one, `${'q'.repeat(2 * KB)}b/`)].map(([k]) => k), [`${one}1`, `${one}2`], "one key's entries, by time");
    };
    check();
    commitWrites(taskId, [...kv.drainWrites(), ...ordered.drainWrites()]);
    kv = makeKv(kind, backend);
    ordered = makeOrdered(kind, backend);
    check();
    assertStoredKeysBounded(backend, 'kv');
    assertStoredKeysBounded(backend, 'ordered');
  });

  test(`${kind} stores: an entry a data directory holds of a key of 800 bytes in the old whole-key form is read, and moved to the digest form by its next write`, () => {
    const taskId = `legacy_${taskSeq++}`;
    const backend = storeLog.stateBackend('stores', taskId);
    const key = 'w'.repeat(800);
    const kvKey = Buffer.from(key).toString('hex');
    const orderedKey = `${kvKey}.1`;
    // What a version without long keys committed: the whole key (1600 hex characters fit in LMDB).
    commitWrites(taskId, [
      { store: 'kv', key: kvKey, value: new TextEncoder().encode('7') },
      { store: 'ordered', key: orderedKey, value: Uint8Array.of(7) },
    ]);
    let kv = makeKv(kind, backend);
    let ordered = makeOrdered(kind, backend);
    assert.equal(kv.get(key), 7);
    assert.deepEqual([...kv.all()], [[key, 7]]);
    assert.equal(ordered.get(orderedKey)?.[0], 7);
    assert.deepEqual([...ordered.range(kvKey, `${kvKey}/`)].map(([k, v]) => [k, v[0]]), [[orderedKey, 7]]);
    assert.equal(ordered.count(), 1);
    kv.put(key, 8);
    ordered.put(orderedKey, Uint8Array.of(8));
    assert.equal(ordered.count(), 1);
    commitWrites(taskId, [...kv.drainWrites(), ...ordered.drainWrites()]);
    assert.equal(backend.get('kv', kvKey), undefined, 'the old entry is gone');
    assert.equal(backend.get('ordered', orderedKey), undefined, 'the old entry is gone');
    assert.deepEqual([...backend.entries('kv')].map(([k]) => k), [storedKeyOf(kvKey)]);
    kv = makeKv(kind, backend);
    ordered = makeOrdered(kind, backend);
    assert.deepEqual([...kv.all()], [[key, 8]]);
    assert.deepEqual([...ordered.range('', '\uffff')].map(([k, v]) => [k, v[0]]), [[orderedKey, 8]]);
    assert.equal(ordered.count(), 1);
  });

  test(`${kind} key-value store: a long key whose digest's entry holds another key reads as absent, and writing it is refused`, () => {
    const taskId = `collision_${taskSeq++}`;
    const backend = storeLog.stateBackend('stores', taskId);
    const hex = (s: string): string => Buffer.from(s).toString('hex');
    const a = `${'c'.repeat(2 * KB)}a`;
    const b = `${'c'.repeat(2 * KB)}b`;
    // What a SHA-256 collision of a and b would leave: a's entry where b's digest points.
    const planted = encodeWrite('kv', hex(a), new TextEncoder().encode('1'));
    commitWrites(taskId, [{ ...planted, key: storedKeyOf(hex(b)) }]);
    const store = makeKv(kind, backend);
    assert.equal(store.get(b), undefined, "never another key's value");
    assert.throws(() => store.put(b, 2), /store kv: two different keys of over 1434 characters share the SHA-256 digest [0-9a-f]{64}; the write is refused, so that neither value is lost/);
    assert.throws(() => store.delete(b), /share the SHA-256 digest/);
    assert.deepEqual([...store.all()], [[a, 1]], 'the entry is still the other key’s');
  });
}
