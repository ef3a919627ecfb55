/**
 * Opening a data dir while another process commits loses nothing. Every
 * process that opens an LMDB environment (lmdb-js's build of LMDB) writes
 * the last transaction id into the shared lock file from the meta page it
 * read a moment before, holding no lock: a commit by another process in
 * that moment (LMDB's bug ITS#9496, which the LMDB of lmdb-js 3.5 still has)
 * is then forgotten, and the next write transaction starts from
 * the snapshot before it — the commit's outputs silently vanish, or the
 * B-tree is damaged. `tidemark run`, `consume`, `query` and producers open
 * data dirs that others write all the time (the embedded fencing test lost a
 * run's commit so, opening the data dir every 20 ms), so the log opens under a lock that every write
 * transaction takes too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedLog } from '../../src/index.ts';

const CHILD = fileURLToPath(new URL('../fixtures/open-race-child.ts', import.meta.url));
// In memory where there is one (Linux): commits that need not wait for the disk come often, and the moment is hit often.
const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tidemark-open-race-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function child(args: readonly string[]): { process: ChildProcess; exit: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const c = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(c);
  let stdout = '';
  let stderr = '';
  c.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  c.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    c.on('error', reject);
    c.on('close', (code) => {
      children.delete(c);
      resolve({ code, stdout, stderr });
    });
  });
  return { process: c, exit };
}

test('every commit of a process stays while other processes open and close the data dir (read-only and for writing) meanwhile', { timeout: 240_000 }, async () => {
  const dataDir = join(root, 'd');
  const setup = await EmbeddedLog.open({ dataDir });
  setup.ensureStream('out', 1);
  await setup.close();
  const count = 30_000;
  const openers = ['ro', 'ro', 'rw'].map((mode) => child(['open', dataDir, mode]));
  const committer = await child(['commit', dataDir, String(count)]).exit;
  for (const o of openers) o.process.kill('SIGTERM');
  const ended = await Promise.all(openers.map((o) => o.exit));
  assert.equal(committer.code, 0, `the committing process failed: ${committer.stderr}`);
  assert.equal(committer.stdout, 'done\n');
  // An opener may only be stopped by the signal, never fail on its own.
  for (const e of ended) assert.equal(e.stderr, '', 'an opener failed');

  const log = await EmbeddedLog.open({ dataDir, readOnly: true });
  try {
    const decoder = new TextDecoder();
    const values = log.read('out', 0, 0, Number.MAX_SAFE_INTEGER).map((r) => decoder.decode(r.value!));
    const missing = Array.from({ length: count }, (_, i) => String(i)).filter((v, i) => values[i] !== v);
    assert.deepEqual({ records: values.length, firstWrong: missing.slice(0, 5) }, { records: count, firstWrong: [] }, 'outputs of commits were lost');
    assert.equal(decoder.decode(log.stateBackend('race', '0_0').get('n', '6e')), String(count));
    assert.equal(log.readCheckpoint('race', '0_0')?.positions['in/0']?.next, count);
  } finally {
    await log.close();
  }
});
