/**
 * The versioned store, worked by hand: the versions a sequence of writes
 * makes (in order and out of order, deletes, the same timestamp twice),
 * reads as of each time, refused late writes, what purging keeps — and
 * that the versions commit with the task and come back after a restart,
 * in memory (restored from the committed entries) and in LMDB (the data
 * directory closed and opened again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLog } from '../../src/connectors/embedded/embedded-log.ts';
import { InMemoryOrderedStore, LmdbOrderedStore, type CommittableOrderedStore } from '../../src/state/ordered-store.ts';
import type { StateBackend } from '../../src/state/key-value-store.ts';
import { BEYOND_HISTORY, VersionedKeyValueStore } from '../../src/state/versioned-store.ts';
import { Serdes } from '../../src/records/serde.ts';
import { taskIdOf } from '../../src/runtime/ids.ts';

type Kind = 'in-memory' | 'lmdb';
const APP = 'versioned-store';
const TASK = taskIdOf(0, 0);

function open(kind: Kind, backend: StateBackend): [CommittableOrderedStore, VersionedKeyValueStore<string, string>] {
  const ordered = kind === 'lmdb' ? new LmdbOrderedStore('prices', backend) : new InMemoryOrderedStore('prices', backend);
  return [ordered, new VersionedKeyValueStore(ordered, Serdes.string(), Serdes.string())];
}

async function withLog(f: (log: EmbeddedLog, dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-versioned-store-'));
  const log = await EmbeddedLog.open({ dataDir: dir });
  try {
    await f(log, dir);
  } finally {
    await log.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function commit(log: EmbeddedLog, ordered: CommittableOrderedStore): void {
  log.commit([{ applicationId: APP, taskId: TASK, outputs: [], stateWrites: ordered.drainWrites(), checkpoint: { positions: {}, streamTime: 0, partitionTimes: {}, commits: 1 }, audit: [] }]);
}

/** `key`'s value as of each t in `times`, '∅' for absent, '…' beyond history. */
function readings(store: VersionedKeyValueStore<string, string>, key: string, times: readonly number[]): string[] {
  return times.map((t) => {
    const r = store.getAsOf(key, t);
    return r === BEYOND_HISTORY ? '…' : r === undefined ? '∅' : `${r.value}[${r.validFrom},${r.validTo ?? '∞'})`;
  });
}

for (const kind of ['in-memory', 'lmdb'] as const) {
  test(`${kind} versioned store: writes in and out of order, a delete, the same timestamp twice`, () =>
    withLog((log) => {
      const [, store] = open(kind, log.stateBackend(APP, TASK));
      assert.deepEqual(store.put('apple', 'p10', 10), { kind: 'latest', old: undefined });
      assert.deepEqual(store.put('apple', 'p30', 30), { kind: 'latest', old: 'p10' });
      assert.deepEqual(store.put('apple', 'p20', 20), { kind: 'history' }, 'older than the latest: history only');
      assert.deepEqual(store.put('apple', null, 25), { kind: 'history' }, 'a delete in the past');
      assert.deepEqual(store.put('apple', 'p5', 5), { kind: 'history' }, 'before every version: until the first');
      assert.deepEqual(store.put('apple', 'p20b', 20), { kind: 'history' }, 'the same timestamp replaces');
      assert.deepEqual(store.put('apple', 'p30b', 30), { kind: 'latest', old: 'p30' }, 'the same timestamp as the latest replaces it');
      assert.equal(store.get('apple'), 'p30b');
      assert.deepEqual(readings(store, 'apple', [4, 5, 9, 10, 19, 20, 24, 25, 29, 30, 99]), [
        '∅', 'p5[5,10)', 'p5[5,10)', 'p10[10,20)', 'p10[10,20)', 'p20b[20,25)', 'p20b[20,25)', '∅', '∅', 'p30b[30,∞)', 'p30b[30,∞)',
      ]);
      assert.equal(store.versionCount(), 5);
      assert.equal(store.get('app'), undefined, 'a key that prefixes another is another key');
    }));

  test(`${kind} versioned store: the horizon refuses older writes and purges what no exact read can find`, () =>
    withLog((log) => {
      const [, store] = open(kind, log.stateBackend(APP, TASK));
      store.put('apple', 'p10', 10);
      store.put('apple', 'p20', 20);
      store.put('apple', 'p30', 30);
      store.put('pear', 'q5', 5);
      store.put('pear', null, 15);
      store.advanceHorizon(20);
      // apple [10,20) ended at the horizon: purged. pear's delete began before it: purged, and q5 with it.
      assert.equal(store.versionCount(), 2);
      assert.deepEqual(store.put('apple', 'late', 19), { kind: 'late', horizon: 20 });
      assert.deepEqual(store.put('pear', null, 19), { kind: 'late', horizon: 20 }, 'a late delete is refused too');
      assert.deepEqual(readings(store, 'apple', [15, 19, 20, 29, 30]), ['…', '…', 'p20[20,30)', 'p20[20,30)', 'p30[30,∞)']);
      assert.deepEqual(readings(store, 'pear', [10, 19, 20, 40]), ['…', '…', '∅', '∅']);
      store.advanceHorizon(35);
      assert.deepEqual(readings(store, 'apple', [29, 30, 40]), ['…', 'p30[30,∞)', 'p30[30,∞)'], 'the latest never expires: exact from its start');
      assert.equal(store.versionCount(), 1);
      store.advanceHorizon(10);
      assert.equal(store.horizon, 35, 'the horizon never moves back');
    }));

  test(`${kind} versioned store: versions and horizon commit with the task; uncommitted writes are lost with a crash`, () =>
    withLog(async (log, dir) => {
      let [ordered, store] = open(kind, log.stateBackend(APP, TASK));
      store.put('apple', 'p10', 10);
      store.put('apple', 'p30', 30);
      store.put('apple', 'p20', 20);
      store.advanceHorizon(15);
      commit(log, ordered);
      store.put('apple', 'p40', 40);
      store.advanceHorizon(35);
      // A crash: the store is made again from what was committed.
      [ordered, store] = open(kind, log.stateBackend(APP, TASK));
      assert.equal(store.horizon, 15);
      assert.equal(store.get('apple'), 'p30');
      assert.deepEqual(readings(store, 'apple', [15, 20, 30, 40]), ['p10[10,20)', 'p20[20,30)', 'p30[30,∞)', 'p30[30,∞)']);
      store.put('apple', 'p40', 40);
      commit(log, ordered);
      await log.close();
      const reopened = await EmbeddedLog.open({ dataDir: dir });
      try {
        [, store] = open(kind, reopened.stateBackend(APP, TASK));
        assert.deepEqual(readings(store, 'apple', [15, 35, 40]), ['p10[10,20)', 'p30[30,40)', 'p40[40,∞)']);
      } finally {
        await reopened.close();
      }
    }));
}
