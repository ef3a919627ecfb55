/**
 * A damaged data directory: LMDB maps `data.mdb` and trusts it, so a
 * cut-short file was a SIGBUS and a garbled meta page a crash, with no
 * message. The embedded log checks what it can before LMDB opens the file,
 * and the CLI exits 1 with one line saying the directory is damaged and
 * what to do — without printing any data first.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, openSync, closeSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const MAX_TEMPERATURE = fileURLToPath(new URL('../../examples/topologies/max-temperature.ts', import.meta.url));

const root = mkdtempSync(join(tmpdir(), 'tidemark-damage-'));
after(() => rmSync(root, { recursive: true, force: true }));

function cli(args: readonly string[], input = ''): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A data dir with enough readings that data.mdb has many pages. */
const produced = ((): string => {
  const dir = join(root, 'produced');
  const readings = Array.from({ length: 4_000 }, (_, i) => JSON.stringify({ key: `s${i % 17}`, value: { celsius: i % 40, note: 'x'.repeat(100) }, eventTime: 1_000 + i }));
  const r = cli(['produce', '--data-dir', dir, '--stream', 'readings', '--partitions', '4'], readings.join('\n') + '\n');
  assert.equal(r.status, 0, r.stderr);
  return dir;
})();

let copies = 0;
/** A copy of the produced data dir, damaged by `damage(data.mdb path)`. */
function damagedCopy(damage: (file: string) => void): string {
  const dir = join(root, `copy-${copies++}`);
  cpSync(produced, dir, { recursive: true });
  damage(join(dir, 'data.mdb'));
  return dir;
}

function overwrite(file: string, at: number, length: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(length, 0x5a), 0, length, at);
  } finally {
    closeSync(fd);
  }
}

const DAMAGED = (dir: string, what: RegExp): RegExp =>
  new RegExp(`^tidemark (consume|run|audit): data dir ${dir} is damaged: ${what.source}; restore the directory from a backup, or move it away and produce into a new one$`);

/** The read-only and the writing commands on `dir`: each exits 1, with the one line and nothing on stdout. */
function assertRefused(dir: string, line: RegExp): void {
  for (const args of [
    ['consume', '--data-dir', dir, '--stream', 'readings'],
    ['audit', '--data-dir', dir, '--application-id', 'max-temperature'],
    ['run', MAX_TEMPERATURE, '--data-dir', dir, '--quiet'],
  ]) {
    const r = cli(args);
    assert.equal(r.signal, null, `${args[0]} was killed by ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').filter((l) => l !== '').length, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr.trim(), line, args[0]);
    assert.equal(r.stdout, '', `${args[0]} printed data before failing`);
  }
}

test('a cut-short data.mdb: every command exits 1 with one line saying the data dir is damaged (no SIGBUS)', () => {
  const size = statSync(join(produced, 'data.mdb')).size;
  const dir = damagedCopy((file) => truncateSync(file, Math.floor(size / 2 / 4096) * 4096));
  assertRefused(dir, DAMAGED(dir, /data\.mdb is \d+ bytes, but its last commit reaches byte \d+ \(the file was cut short\)/));
  const tiny = damagedCopy((file) => truncateSync(file, 100));
  assertRefused(tiny, DAMAGED(tiny, /data\.mdb is 100 bytes, too short for LMDB's meta pages \(the file was cut short\)/));
});

test('overwritten meta pages: every command exits 1 with one line saying the data dir is damaged (no crash, no assertion)', () => {
  const both = damagedCopy((file) => overwrite(file, 0, 8192));
  assertRefused(both, DAMAGED(both, /data\.mdb does not begin with an LMDB meta page \(its first page was overwritten, or it is not an LMDB file\)/));
  const second = damagedCopy((file) => overwrite(file, 4096, 4096));
  assertRefused(second, DAMAGED(second, /data\.mdb's second meta page is not an LMDB meta page \(overwritten\)/));
  // Only the last page number of the latest meta garbled: it names pages far past the end of the file.
  const lastPage = damagedCopy((file) => {
    overwrite(file, 24 + 120, 8);
    overwrite(file, 4096 + 24 + 120, 8);
  });
  assertRefused(lastPage, DAMAGED(lastPage, /data\.mdb is \d+ bytes, but its last commit reaches byte \d+ \(the file was cut short\)/));
});

test('a data dir of an unknown tidemark data format is refused with one line; an intact one works', async () => {
  const dir = damagedCopy(() => undefined);
  const ok = cli(['consume', '--data-dir', dir, '--stream', 'readings', '--limit', '3']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.split('\n').filter((l) => l !== '').length, 3);

  const env = open({ path: dir, maxDbs: 16, compression: false });
  const meta = env.openDB<number, string>('meta', { keyEncoding: 'ordered-binary', encoding: 'msgpack' });
  assert.equal(meta.get('format'), 1, 'the format is stored in the data dir');
  await meta.put('format', 99);
  await env.close();
  assertRefused(dir, new RegExp(`^tidemark (consume|run|audit): data dir ${dir} holds tidemark data format 99, and this tidemark reads format 1: open it with the tidemark version that wrote it$`));
});
