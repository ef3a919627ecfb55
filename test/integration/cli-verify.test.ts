/**
 * `tidemark verify` on the embedded log, as a user runs it: a catch-up run
 * verified equal (with the fingerprints `tidemark run` printed) and the
 * data dir left byte for byte as it was; a record written into an output
 * stream by hand found as a difference nothing explains; input appended
 * after the run left out of the replay; and a real-time run that proceeded
 * without an empty partition, whose minute closed before a record of that
 * partition came, found different, with the decision that explains it.
 * Expected window counts are worked out by hand in each test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, freshDir, lines, MAIN } from '../fixtures/cli.ts';

const PAGE_VIEWS = fileURLToPath(new URL('../../examples/topologies/page-views.ts', import.meta.url));
const MERGED = fileURLToPath(new URL('../fixtures/merged-counts-topology.ts', import.meta.url));
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const S = 1_000;

function produce(dir: string, stream: string, records: readonly object[], partitions = 2): void {
  const r = cli(['produce', '--data-dir', dir, '--stream', stream, '--partitions', String(partitions), '--key-format', 'string'], records.map((x) => JSON.stringify(x)).join('\n') + '\n');
  assert.equal(r.status, 0, r.stderr);
}

const click = (user: string, page: string, second: number, partition: number): object => ({ key: user, value: { page, ts: new Date(T0 + second * S).toISOString() }, partition });

const CLICKS = [click('u1', '/a', 5, 0), click('u2', '/b', 20, 1), click('u1', '/a', 50, 1), click('u3', '/a', 65, 0), click('u2', '/b', 130, 0), click('u1', '/a', 200, 1)];

const digest = (dir: string): string => createHash('sha256').update(readFileSync(join(dir, 'data.mdb'))).digest('hex');

function runCatchUp(dir: string, module: string): string[] {
  const run = cli(['run', module, '--data-dir', dir, '--quiet']);
  assert.equal(run.status, 0, run.stderr);
  return lines(run.stdout).filter((l) => l.startsWith('fingerprint '));
}

test('verify: a catch-up run matches its replay, with the fingerprints run printed; the data dir is only read', () => {
  const dir = freshDir();
  produce(dir, 'clicks', CLICKS);
  const fingerprints = runCatchUp(dir, PAGE_VIEWS);
  const before = digest(dir);
  const r = cli(['verify', PAGE_VIEWS, '--data-dir', dir]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = lines(r.stdout);
  assert.equal(out[0], 'page-views: replayed its committed input: clicks/0 [0, 3), clicks/1 [0, 3)');
  const [, stream, sha] = /^fingerprint (\S+) (\S+)$/.exec(fingerprints[0]!)!;
  assert.equal(stream, 'page-views');
  assert.ok(out.some((l) => new RegExp(`^ {2}equal +page-views +${sha}$`).test(l)), r.stdout);
  assert.ok(out.some((l) => /^ {2}equal +page-views\.dead-letter /.test(l)), r.stdout);
  assert.equal(out.at(-1), 'page-views: every output stream matches the replay (2 streams)');
  assert.equal(digest(dir), before, 'verify wrote nothing into the data dir');
});

test('verify: input appended after the run is left out of the replay (said so), and the outputs still match', () => {
  const dir = freshDir();
  produce(dir, 'clicks', CLICKS);
  runCatchUp(dir, PAGE_VIEWS);
  produce(dir, 'clicks', [click('u9', '/a', 10, 0)]);
  const r = cli(['verify', PAGE_VIEWS, '--data-dir', dir]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = lines(r.stdout);
  assert.equal(out[0], 'page-views: replayed its committed input: clicks/0 [0, 3), clicks/1 [0, 3)');
  assert.ok(out.includes('  warning   input clicks/0: the application committed up to offset 3 of 4; the replay stops there too'), r.stdout);
});

test('verify: a record written into an output stream by hand is a difference no decision explains (exit 3); --scratch-dir keeps the replay', () => {
  const dir = freshDir();
  produce(dir, 'clicks', CLICKS);
  runCatchUp(dir, PAGE_VIEWS);
  const written = cli(['consume', '--data-dir', dir, '--stream', 'page-views']);
  assert.equal(written.status, 0, written.stderr);
  produce(dir, 'page-views', [{ key: 'not from the topology', value: 99, partition: 0 }]);
  const scratch = join(freshDir(), 'replay');
  const r = cli(['verify', PAGE_VIEWS, '--data-dir', dir, '--scratch-dir', scratch]);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  const out = lines(r.stdout);
  const at = out.findIndex((l) => /^ {2}differs +page-views +written [0-9a-f]{64} · replayed [0-9a-f]{64}$/.test(l));
  assert.ok(at > 0, r.stdout);
  const before = lines(written.stdout).filter((l) => (JSON.parse(l) as { partition: number }).partition === 0).length;
  assert.equal(out[at + 1], `            partition 0: ${before + 1} records written, ${before} replayed`);
  assert.match(out[at + 2]!, /^ {12}no nondeterministic decision was audited where it is written/);
  assert.ok(out.some((l) => /^ {2}equal +page-views\.dead-letter /.test(l)), r.stdout);
  assert.equal(out.at(-1), 'page-views: 1 of 2 output streams differ from the replay');
  // The replay, kept: the counts as the topology computes them, without the record written by hand.
  const replayed = cli(['consume', '--data-dir', scratch, '--stream', 'page-views']);
  assert.equal(replayed.status, 0, replayed.stderr);
  const data = (stdout: string): unknown[] => lines(stdout).map((l) => {
    const { partition, key, value, eventTime } = JSON.parse(l) as Record<string, unknown>;
    return { partition, key, value, eventTime };
  });
  assert.deepEqual(data(replayed.stdout), data(written.stdout));
  assert.ok(data(written.stdout).length > 0);
});

test('verify: a real-time run that proceeded without an empty partition differs from the replay, and the idle-partition decision is named', async () => {
  const dir = freshDir();
  // Stream a: key k at 10 s, 70 s and 130 s; stream b empty while the run starts.
  produce(dir, 'a', [10, 70, 130].map((s) => ({ key: 'k', value: s, eventTime: T0 + s * S })), 1);
  produce(dir, 'b', [], 1);
  const run = spawn(process.execPath, [MAIN, 'run', MERGED, '--data-dir', dir, '--mode', 'real-time', '--max-idle-ms', '50', '--commit-interval-ms', '50', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  run.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
  const until = async (what: string, ok: () => boolean): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!ok()) {
      assert.ok(Date.now() < deadline, `${what}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const committed = (kind: string): number => lines(cli(['audit', '--data-dir', dir, '--application-id', 'merged-counts', '--kind', kind]).stdout).length;
  try {
    // Without b, the run goes on: minute [0, 60) closes at 70 s with a count of 1, minute [60, 120) at 130 s with 1.
    await until('the run proceeds without b', () => lines(cli(['consume', '--data-dir', dir, '--stream', 'counts']).stdout).length === 2);
    // b's record at 20 s belongs to the closed minute: late, dropped.
    produce(dir, 'b', [{ key: 'k', value: 20, eventTime: T0 + 20 * S }], 1);
    await until('the late record is committed', () => committed('late-record') === 1);
  } finally {
    run.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  const counts = lines(cli(['consume', '--data-dir', dir, '--stream', 'counts']).stdout).map((l) => (JSON.parse(l) as { value: number }).value);
  assert.deepEqual(counts, [1, 1]);

  // The replay merges a and b by time: minute [0, 60) counts 10 s and 20 s (2), [60, 120) counts 70 s (1).
  const scratch = join(freshDir(), 'replay');
  const r = cli(['verify', MERGED, '--data-dir', dir, '--scratch-dir', scratch]);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  const out = lines(r.stdout);
  assert.equal(out[0], 'merged-counts: replayed its committed input: a/0 [0, 3), b/0 [0, 1)');
  const at = out.findIndex((l) => /^ {2}differs +counts /.test(l));
  assert.ok(at > 0, r.stdout);
  assert.equal(out[at + 1], '            partition 0: 2 records written, 2 replayed (same count, other records or order)');
  assert.match(out[at + 2]!, /^ {12}may be explained by \d+ nondeterministic decisions? \(\d+ idle-partition\):$/);
  assert.match(out[at + 3]!, /^ {14}nondeterministic:idle-partition task 0_0 b\/0@0: /);
  const replayed = lines(cli(['consume', '--data-dir', scratch, '--stream', 'counts']).stdout).map((l) => (JSON.parse(l) as { value: number }).value);
  assert.deepEqual(replayed, [2, 1]);
});

test('verify: bad usage in one line each', () => {
  const dir = freshDir();
  const none = cli(['verify']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^tidemark verify: which topology module\?/);
  const kafka = cli(['verify', PAGE_VIEWS, '--kafka', 'localhost:9092']);
  assert.equal(kafka.status, 2);
  assert.match(kafka.stderr, /^tidemark verify: verify replays an application of the embedded log/);
  produce(dir, 'clicks', CLICKS);
  const nothing = cli(['verify', PAGE_VIEWS, '--data-dir', dir]);
  assert.equal(nothing.status, 1);
  assert.deepEqual(lines(nothing.stderr), ['tidemark verify: application page-views has committed nothing here yet: run it first (nothing to verify)']);
  const same = cli(['verify', PAGE_VIEWS, '--data-dir', dir, '--scratch-dir', dir]);
  assert.equal(same.status, 2);
  assert.match(same.stderr, /--scratch-dir must not be the application's data dir/);
});
