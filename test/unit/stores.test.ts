import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLog } from '../../src/connectors/embedded/embedded-log.ts';
import { InMemoryKeyValueStore } from '../../src/state/in-memory-store.ts';
import { LmdbKeyValueStore } from '../../src/state/lmdb-store.ts';
import { keyToHex, type CommittableStore, type StateBackend, type StoreDefinition } from '../../src/state/key-value-store.ts';
import { DeserializationError, SerializationError, Serdes } from '../../src/records/serde.ts';
import { timestampedSerde } from '../../src/state/timestamped.ts';
import { keyValueStore } from '../../src/dsl/stores.ts';
import { taskIdOf } from '../../src/runtime/ids.ts';

const APP = 'stores-app';
let dir: string;
let log: EmbeddedLog;
let taskSeq = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tidemark-stores-'));
  log = await EmbeddedLog.open({ dataDir: dir });
});

after(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

type Kind = 'in-memory' | 'lmdb';
const KINDS: Kind[] = ['in-memory', 'lmdb'];

const def = (kind: Kind): StoreDefinition<string, unknown> =>
  keyValueStore<string, unknown>('kv', { kind, key: Serdes.string(), value: Serdes.json() });

/** A fresh task's store over the embedded log's state backend. */
function fresh(kind: Kind): { store: CommittableStore<string, unknown>; backend: StateBackend; taskId: string; reopen: () => CommittableStore<string, unknown> } {
  const taskId = taskIdOf(0, taskSeq++);
  const backend = log.stateBackend(APP, taskId);
  const make = (): CommittableStore<string, unknown> =>
    kind === 'lmdb' ? new LmdbKeyValueStore(def(kind), backend) : new InMemoryKeyValueStore(def(kind), backend);
  return { store: make(), backend, taskId, reopen: make };
}

/** Commits the store's writes as the task would: in one transaction with its checkpoint. */
function commit(store: CommittableStore<string, unknown>, taskId: string): void {
  log.commit([
    {
      applicationId: APP,
      taskId,
      outputs: [],
      stateWrites: store.drainWrites(),
      checkpoint: { positions: {}, streamTime: 0, partitionTimes: {}, commits: 1 },
      audit: [],
    },
  ]);
}

const hex = (s: string): string => keyToHex(new TextEncoder().encode(s));

for (const kind of KINDS) {
  test(`${kind} store: read-your-writes before commit, while the committed state is unchanged`, () => {
    const { store, backend, taskId } = fresh(kind);
    assert.equal(store.get('a'), undefined);
    store.put('a', { n: 1 });
    assert.deepEqual(store.get('a'), { n: 1 });
    assert.equal(backend.get('kv', hex('a')), undefined, 'nothing is durable before the commit');
    commit(store, taskId);
    assert.deepEqual(JSON.parse(Buffer.from(backend.get('kv', hex('a'))!).toString()), { n: 1 });
    store.put('a', { n: 2 });
    assert.deepEqual(store.get('a'), { n: 2 }, 'the overlay wins over the committed value');
  });

  test(`${kind} store: all() yields committed and pending entries merged, in key-byte order`, () => {
    const { store, taskId } = fresh(kind);
    for (const k of ['b', 'd', 'f', 'h']) store.put(k, `old-${k}`);
    commit(store, taskId);
    store.put('a', 'new-a');
    store.put('c', 'new-c');
    store.put('d', 'new-d');
    store.delete('f');
    store.put('i', 'new-i');
    assert.deepEqual([...store.all()], [
      ['a', 'new-a'],
      ['b', 'old-b'],
      ['c', 'new-c'],
      ['d', 'new-d'],
      ['h', 'old-h'],
      ['i', 'new-i'],
    ]);
  });

  test(`${kind} store: all() orders by the serialized key bytes, not by JavaScript string order`, () => {
    const { store, taskId } = fresh(kind);
    // UTF-8 bytes: '' < 'B' (42) < 'a' (61) < 'ab' < 'b' < 'é' (c3 a9) < '😀' (f0 …); UTF-16 order would put '😀' (d83d) before 'ｚ' (ff5a).
    const keys = ['ｚ', '😀', 'b', '', 'ab', 'é', 'a', 'B'];
    keys.slice(0, 4).forEach((k) => store.put(k, k));
    commit(store, taskId);
    keys.slice(4).forEach((k) => store.put(k, k));
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...store.all()].map(([k]) => k), expected);
    commit(store, taskId);
    assert.deepEqual([...store.all()].map(([k]) => k), expected, 'the same order once all is committed');
  });

  test(`${kind} store: delete hides a committed key at once and removes it at commit`, () => {
    const { store, backend, taskId, reopen } = fresh(kind);
    store.put('k', 1);
    store.put('keep', 2);
    commit(store, taskId);
    store.delete('k');
    assert.equal(store.get('k'), undefined);
    assert.deepEqual([...store.all()], [['keep', 2]]);
    assert.ok(backend.get('kv', hex('k')) !== undefined, 'still committed');
    commit(store, taskId);
    assert.equal(backend.get('kv', hex('k')), undefined);
    assert.deepEqual([...reopen().all()], [['keep', 2]]);
  });

  test(`${kind} store: putting null or undefined deletes the key`, () => {
    const { store, taskId } = fresh(kind);
    store.put('x', 1);
    store.put('y', 1);
    commit(store, taskId);
    store.put('x', null);
    store.put('y', undefined);
    assert.equal(store.get('x'), undefined);
    assert.deepEqual([...store.all()], []);
  });

  test(`${kind} store: drainWrites returns each key's last write once (null for a delete) and forgets them`, () => {
    const { store } = fresh(kind);
    store.put('a', 1);
    store.put('a', 2);
    store.put('b', 3);
    store.delete('b');
    const writes = store.drainWrites();
    assert.deepEqual(
      writes.map((w) => [w.store, w.key, w.value === null ? null : Buffer.from(w.value).toString()]).sort(),
      [['kv', hex('a'), '2'], ['kv', hex('b'), null]],
    );
    assert.deepEqual(store.drainWrites(), []);
  });

  test(`${kind} store: discardWrites rolls back to the last commit`, () => {
    const { store, taskId } = fresh(kind);
    store.put('a', 'committed-a');
    store.put('b', 'committed-b');
    commit(store, taskId);
    store.put('a', 'changed');
    store.delete('b');
    store.put('c', 'new');
    store.discardWrites();
    assert.equal(store.get('a'), 'committed-a');
    assert.equal(store.get('b'), 'committed-b');
    assert.equal(store.get('c'), undefined);
    assert.deepEqual([...store.all()], [['a', 'committed-a'], ['b', 'committed-b']]);
    assert.deepEqual(store.drainWrites(), [], 'nothing left to commit');
  });

  test(`${kind} store: a key serializing to null is refused with a clear error`, () => {
    const { store } = fresh(kind);
    assert.throws(() => store.put(null as unknown as string, 1), /store key must not serialize to null/);
  });

  test(`${kind} store: behaves like a map with commit and rollback (property)`, () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('put' as const), k: fc.constantFrom('a', 'b', 'c', 'ab', ''), v: fc.integer() }),
      fc.record({ t: fc.constant('delete' as const), k: fc.constantFrom('a', 'b', 'c', 'ab', '') }),
      fc.record({ t: fc.constantFrom('commit' as const, 'discard' as const, 'reopen' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const f = fresh(kind);
        let store = f.store;
        let committed = new Map<string, number>();
        let current = new Map<string, number>();
        for (const o of ops) {
          if (o.t === 'put') current.set(o.k, o.v);
          else if (o.t === 'delete') current.delete(o.k);
          else if (o.t === 'commit') committed = new Map(current);
          else current = new Map(committed);
          if (o.t === 'put') store.put(o.k, o.v);
          else if (o.t === 'delete') store.delete(o.k);
          else if (o.t === 'commit') commit(store, f.taskId);
          else if (o.t === 'discard') store.discardWrites();
          else store = f.reopen(); // a restart: uncommitted writes are gone
          for (const k of ['a', 'b', 'c', 'ab', '']) assert.equal(store.get(k), current.get(k));
          const expected = [...current].sort(([x], [y]) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
          assert.deepEqual([...store.all()], expected);
        }
      }),
      { numRuns: 150 },
    );
  });
}

test('in-memory store: restored from the committed entries when its task starts again', () => {
  const { store, taskId, reopen } = fresh('in-memory');
  store.put('x', { deep: [1, 2] });
  store.put('y', 'gone');
  commit(store, taskId);
  store.delete('y');
  store.put('z', 'uncommitted');
  commit(store, taskId);
  store.put('w', 'never committed');
  const restored = reopen();
  assert.deepEqual([...restored.all()], [['x', { deep: [1, 2] }], ['z', 'uncommitted']]);
  assert.deepEqual(restored.get('x'), { deep: [1, 2] });
  assert.equal(restored.get('w'), undefined);
});

test('lmdb store: committed entries survive closing and reopening the data directory', async () => {
  const d = mkdtempSync(join(tmpdir(), 'tidemark-stores-reopen-'));
  try {
    const l1 = await EmbeddedLog.open({ dataDir: d });
    const s1 = new LmdbKeyValueStore(def('lmdb'), l1.stateBackend(APP, '0_0'));
    s1.put('a', 1);
    s1.put('b', 2);
    l1.commit([{ applicationId: APP, taskId: '0_0', outputs: [], stateWrites: s1.drainWrites(), checkpoint: { positions: {}, streamTime: 0, partitionTimes: {}, commits: 1 }, audit: [] }]);
    s1.put('c', 3);
    await l1.close();
    const l2 = await EmbeddedLog.open({ dataDir: d });
    const s2 = new LmdbKeyValueStore(def('lmdb'), l2.stateBackend(APP, '0_0'));
    assert.deepEqual([...s2.all()], [['a', 1], ['b', 2]]);
    const other = new LmdbKeyValueStore(def('lmdb'), l2.stateBackend(APP, '0_1'));
    assert.deepEqual([...other.all()], [], 'another task sees none of it');
    const otherApp = new LmdbKeyValueStore(def('lmdb'), l2.stateBackend('other-app', '0_0'));
    assert.equal(otherApp.get('a'), undefined, 'another application sees none of it');
    await l2.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('stores: two stores of one task keep their entries apart, even when one name prefixes the other', () => {
  const taskId = taskIdOf(0, taskSeq++);
  const backend = log.stateBackend(APP, taskId);
  const a = new LmdbKeyValueStore(keyValueStore<string, number>('counts', { key: Serdes.string() }), backend);
  const b = new LmdbKeyValueStore(keyValueStore<string, number>('counts2', { key: Serdes.string() }), backend);
  a.put('k', 1);
  b.put('k', 2);
  log.commit([{ applicationId: APP, taskId, outputs: [], stateWrites: [...a.drainWrites(), ...b.drainWrites()], checkpoint: { positions: {}, streamTime: 0, partitionTimes: {}, commits: 1 }, audit: [] }]);
  assert.deepEqual([...a.all()], [['k', 1]]);
  assert.deepEqual([...b.all()], [['k', 2]]);
});

test('timestampedSerde: the timestamp in 8 big-endian bytes, then the value; malformed bytes are a deserialization error', () => {
  const s = timestampedSerde(Serdes.string());
  for (const t of [{ value: 'x', timestamp: 0 }, { value: '', timestamp: 1_717_236_000_000 }, { value: 'é', timestamp: -1 }, { value: 'y', timestamp: Number.MAX_SAFE_INTEGER }]) {
    assert.deepEqual(s.deserialize(s.serialize(t)), t);
  }
  assert.deepEqual([...s.serialize({ value: 'a', timestamp: 258 })!], [0, 0, 0, 0, 0, 0, 1, 2, 0x61]);
  for (const bad of [null, new Uint8Array(7)]) assert.throws(() => s.deserialize(bad), DeserializationError);
  assert.throws(() => s.serialize({ value: 'a', timestamp: 0.5 }), SerializationError);
  assert.throws(() => timestampedSerde(Serdes.json<null>()).serialize({ value: null, timestamp: 1 }), SerializationError);
});
