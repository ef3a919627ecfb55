import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreStart } from '../../src/connectors/kafka/kafka-restore.ts';
import { KafkaLocalState } from '../../src/connectors/kafka/kafka-local-state.ts';
import { lockStateDir } from '../../src/connectors/kafka/kafka-state-dir.ts';
import { dirNameOf } from '../../src/connectors/kafka/kafka-task-store.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

function withDir(f: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-local-state-'));
    try {
      await f(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('restoreStart: a local position within the log is kept, and the restore reads only from it', () => {
  assert.deepEqual(restoreStart(40, 0, 100), { from: 40, wipe: false });
  assert.deepEqual(restoreStart(100, 0, 100), { from: 100, wipe: false }, 'up to date: nothing to read');
  assert.deepEqual(restoreStart(10, 10, 100), { from: 10, wipe: false });
});

test('restoreStart: no local position, one before the log start, or one past the committed end wipes and restores from the log start', () => {
  assert.deepEqual(restoreStart(undefined, 0, 100), { from: 0, wipe: true });
  assert.deepEqual(restoreStart(5, 10, 100), { from: 10, wipe: true }, 'records it never saw were deleted');
  assert.deepEqual(restoreStart(101, 0, 100), { from: 0, wipe: true }, 'an aborted transaction or another cluster: never kept');
  assert.deepEqual(restoreStart(7, 0, 0), { from: 0, wipe: true }, 'a topic made again, empty');
});

test('local state: a commit\'s writes and its changelog positions are kept together, and read back after a reopen', withDir(async (dir) => {
  let local = new KafkaLocalState(dir);
  local.applyCommit('0_1', [{ store: 's', key: '6b', value: bytes('v1') }, { store: 's', key: '6c', value: bytes('v2') }], [{ topic: 'cl', partition: 1, topicId: 'id1', offset: 3 }]);
  local.applyCommit('0_1', [{ store: 's', key: '6c', value: null }], [{ topic: 'cl', partition: 1, topicId: 'id1', offset: 5 }]);
  await local.close();
  local = new KafkaLocalState(dir);
  try {
    const b = local.backend('0_1');
    assert.equal(text(b.get('s', '6b')), 'v1');
    assert.equal(b.get('s', '6c'), undefined);
    assert.equal(b.count('s'), 1);
    assert.deepEqual(local.applied('cl', 1), { topicId: 'id1', offset: 5 });
    assert.equal(local.applied('cl', 0), undefined);
    assert.equal(local.backend('0_0').count('s'), 0, 'tasks are apart');
  } finally {
    await local.close();
  }
}));

test('local state: entries come in key order within bounds; a wipe empties one task\'s store and forgets its position', withDir(async (dir) => {
  const local = new KafkaLocalState(dir);
  try {
    local.applyRestored('0_0', 's', ['03', '01', '02'].map((key) => ({ key, value: bytes(key) })), { topic: 'cl', partition: 0, topicId: 'x', offset: 9 });
    local.applyRestored('0_0', 't', [{ key: '01', value: bytes('t') }], { topic: 'cl2', partition: 0, topicId: 'y', offset: 1 });
    assert.deepEqual([...local.backend('0_0').entries('s')].map(([k]) => k), ['01', '02', '03']);
    assert.deepEqual([...local.backend('0_0').entries('s', '02', '03')].map(([k]) => k), ['02']);
    local.wipe('0_0', 's', 'cl', 0);
    assert.equal(local.backend('0_0').count('s'), 0);
    assert.equal(local.applied('cl', 0), undefined);
    assert.equal(local.backend('0_0').count('t'), 1, 'the other store is kept');
  } finally {
    await local.close();
  }
}));

test('state dir lock: a second log of this process, or another running process, is refused in one line naming the dir and the holder', withDir(async (dir) => {
  const local = new KafkaLocalState(dir);
  try {
    assert.throws(() => new KafkaLocalState(dir), (e: Error) => e.message.includes(dir) && e.message.includes(`pid ${process.pid}`) && !e.message.includes('\n'));
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `import { lockStateDir } from ${JSON.stringify(join(import.meta.dirname, '../../src/connectors/kafka/kafka-state-dir.ts'))}; try { lockStateDir(${JSON.stringify(dir)}); } catch (e) { console.log(e.message); process.exit(3); }`], { encoding: 'utf8' });
    assert.equal(child.status, 3, child.stderr);
    assert.match(child.stdout.trim(), new RegExp(`^state dir .*${dir.split('/').at(-1)!} is in use by another tidemark process \\(pid ${process.pid}\\)`));
  } finally {
    await local.close();
  }
  lockStateDir(dir)(); // released: taken and let go again
}));

test('state dir lock: one left by a process that died is taken over', withDir((dir) => {
  const dead = spawnSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(join(dir, 'tidemark.lock'))}, process.pid + '\\n')`]);
  assert.equal(dead.status, 0);
  lockStateDir(dir)();
}));

test('state dir: each application id has its own directory name, never . or ..', () => {
  const ids = ['a', 'a/0_0', 'a_2f0_0', '.', '..', 'A', 'a.b'];
  const names = ids.map(dirNameOf);
  assert.equal(new Set(names).size, ids.length);
  for (const n of names) assert.match(n, /^[a-zA-Z0-9_-]+$/);
});
