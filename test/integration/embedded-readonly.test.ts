/**
 * Read-only commands on the embedded log (`consume`, `audit`, `query`): they create
 * nothing — not in a directory that is not a data dir (`consume --data-dir
 * /etc` used to leave an `/etc/data.mdb`), not in a data dir — and they read
 * a data dir the user may only read (LMDB opened read-only; it then reads
 * without its lock file).
 *
 * "May only read" is tested for real: the suite runs as root, whom file
 * modes do not stop, so the commands run as user nobody (uid 65534) on a
 * data dir owned by root with modes 555 (directory) and 444 (files). Not as
 * root, they run as the user itself on the same modes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const MAX_TEMPERATURE = fileURLToPath(new URL('../../examples/topologies/max-temperature.ts', import.meta.url));
const NOBODY = 65534;

const root = mkdtempSync(join(tmpdir(), 'tidemark-readonly-'));
// Other users (nobody, below) must be able to reach the data dirs inside.
chmodSync(root, 0o755);
after(() => {
  chmodTree(root, 0o755, 0o644);
  rmSync(root, { recursive: true, force: true });
});

function cli(args: readonly string[], input = '', options: SpawnSyncOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { input, encoding: 'utf8', timeout: 60_000, ...options });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

function chmodTree(dir: string, dirMode: number, fileMode: number): void {
  chmodSync(dir, dirMode);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chmodTree(path, dirMode, fileMode);
    else chmodSync(path, fileMode);
  }
}

/** A data dir with three readings, and a max-temperature run over them (so it has an audit log). */
function producedDir(name: string): string {
  const dir = join(root, name);
  const readings = [
    { key: 's1', value: { celsius: 21.5 }, eventTime: 1_000 },
    { key: 's2', value: { celsius: 'hot' }, eventTime: 2_000 },
    { key: 's1', value: { celsius: 25 }, eventTime: 1_500 },
  ];
  const p = cli(['produce', '--data-dir', dir, '--stream', 'readings'], readings.map((r) => JSON.stringify(r)).join('\n') + '\n');
  assert.equal(p.status, 0, p.stderr);
  const r = cli(['run', MAX_TEMPERATURE, '--data-dir', dir, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

test('consume, audit and run on a directory that is not a data dir: one line, and no file created; consume and audit change nothing in a data dir', async () => {
  const foreign = join(root, 'foreign');
  mkdirSync(foreign);
  const missing = join(root, 'missing');
  for (const dir of [foreign, missing]) {
    for (const args of [
      ['consume', '--data-dir', dir, '--stream', 'readings'],
      ['audit', '--data-dir', dir, '--application-id', 'max-temperature'],
      ['run', MAX_TEMPERATURE, '--data-dir', dir, '--quiet'],
    ]) {
      const r = cli(args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.deepEqual(lines(r.stderr), [`tidemark ${args[0]}: no tidemark data dir at ${dir} (no data.mdb); produce into it first or check --data-dir`]);
    }
  }
  assert.deepEqual(readdirSync(foreign), [], 'nothing was created in the foreign directory');
  assert.throws(() => statSync(missing), 'the missing directory was not created');

  const help = cli(['run', '--help', '--data-dir', foreign]);
  assert.equal(help.status, 0, help.stderr);
  assert.deepEqual(readdirSync(foreign), []);

  // Another program's LMDB environment: refused, and nothing written into it.
  const other = join(root, 'other-lmdb');
  const env = open({ path: other, maxDbs: 4 });
  env.openDB('theirs', {}).putSync('k', 'v');
  await env.close();
  const size = statSync(join(other, 'data.mdb')).size;
  for (const args of [
    ['consume', '--data-dir', other, '--stream', 'readings'],
    ['run', MAX_TEMPERATURE, '--data-dir', other, '--quiet'],
  ]) {
    const r = cli(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(lines(r.stderr), [`tidemark ${args[0]}: data dir ${other} holds an LMDB environment that is not a tidemark log (it has no streams database)`]);
  }
  const reopened = open({ path: other, maxDbs: 4, readOnly: true });
  assert.deepEqual([...reopened.getKeys()].map(String), ['theirs'], 'no database was added');
  await reopened.close();
  assert.equal(statSync(join(other, 'data.mdb')).size, size);

  // And in a data dir, consume, audit and query add or change no file.
  const dir = producedDir('untouched');
  rmSync(join(dir, 'lock.mdb'));
  const before = new Map(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).mtimeMs]));
  const consumed = cli(['consume', '--data-dir', dir, '--stream', 'readings']);
  assert.equal(consumed.status, 0, consumed.stderr);
  assert.equal(lines(consumed.stdout).length, 3);
  const audit = cli(['audit', '--data-dir', dir, '--application-id', 'max-temperature']);
  assert.equal(audit.status, 0, audit.stderr);
  const queried = cli(['query', MAX_TEMPERATURE, '--data-dir', dir, '--store', 'max', '--all']);
  assert.equal(queried.status, 0, queried.stderr);
  assert.equal(statSync(join(dir, 'data.mdb')).mtimeMs, before.get('data.mdb'), 'data.mdb was not written');
  // LMDB creates its lock file where it may (readers register in it), and nothing else.
  assert.deepEqual(readdirSync(dir).filter((f) => f !== 'lock.mdb'), [...before.keys()]);
});

test('consume, audit and query read a data dir the user may only read (mode 555, files 444, owned by another user)', () => {
  const dir = producedDir('read-only');
  chmodTree(dir, 0o555, 0o444);
  const asReader: SpawnSyncOptions = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
  const consumed = cli(['consume', '--data-dir', dir, '--stream', 'readings'], '', asReader);
  assert.equal(consumed.status, 0, consumed.stderr);
  assert.deepEqual(lines(consumed.stdout).map((l) => (JSON.parse(l) as { key: string }).key), ['s1', 's2', 's1']);
  const audit = cli(['audit', '--data-dir', dir, '--application-id', 'max-temperature'], '', asReader);
  assert.equal(audit.status, 0, audit.stderr);
  assert.match(audit.stdout, /"kind":"dead-letter"/);
  const output = cli(['consume', '--data-dir', dir, '--stream', 'max-temperature', '--data-only'], '', asReader);
  assert.equal(output.status, 0, output.stderr);
  assert.ok(lines(output.stdout).length > 0);
  const queried = cli(['query', MAX_TEMPERATURE, '--data-dir', dir, '--store', 'max', '--all'], '', asReader);
  assert.equal(queried.status, 0, queried.stderr);
  assert.deepEqual(lines(queried.stdout), ['{"key":"s1","value":25}'], 's1 read 21.5 then 25; s2 was dead-lettered');
});
