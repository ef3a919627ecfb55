import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedLog } from '../../src/connectors/embedded/embedded-log.ts';
import { ManualClock } from '../../src/time/clock.ts';
import type { CommitUnit } from '../../src/runtime/log.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString());

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'tidemark-log-'));
  dirs.push(d);
  return d;
};

const clock = new ManualClock(1_000);
let log: EmbeddedLog;

before(async () => {
  log = await EmbeddedLog.open({ dataDir: tempDir(), clock });
});

after(async () => {
  await log.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------

test('embedded log ensureStream: creates a stream once; the same count again is accepted', () => {
  log.ensureStream('clicks', 3);
  log.ensureStream('clicks', 3);
  assert.equal(log.partitionCount('clicks'), 3);
  assert.ok(log.streams().includes('clicks'));
  assert.equal(log.partitionCount('nope'), undefined);
});

test('embedded log ensureStream: a different partition count for an existing stream is an error naming both counts', () => {
  log.ensureStream('fixed', 2);
  assert.throws(() => log.ensureStream('fixed', 4), /stream fixed exists with 2 partitions, not 4/);
  assert.equal(log.partitionCount('fixed'), 2, 'unchanged');
});

test('embedded log ensureStream: a partition count that is not a positive integer is refused', () => {
  for (const n of [0, -1, 1.5, NaN]) assert.throws(() => log.ensureStream(`bad-${n}`, n), RangeError);
  assert.equal(log.partitionCount('bad-0'), undefined);
});

// ---------------------------------------------------------------------------
// Append and read
// ---------------------------------------------------------------------------

test('embedded log append: assigns consecutive offsets per partition and the broker time of the injected clock', async () => {
  log.ensureStream('orders', 2);
  clock.set(5_000);
  const first = await log.append([
    { stream: 'orders', partition: 0, key: utf8('k'), value: utf8('a'), eventTime: 10 },
    { stream: 'orders', partition: 1, key: null, value: utf8('b'), eventTime: null },
    { stream: 'orders', partition: 0, key: utf8('k'), value: null, eventTime: 12, headers: { h: 'v' } },
  ]);
  assert.deepEqual(first.map((r) => [r.partition, r.offset, r.brokerTime]), [[0, 0, 5_000], [1, 0, 5_000], [0, 1, 5_000]]);
  clock.set(6_000);
  const second = await log.append([{ stream: 'orders', partition: 0, key: null, value: utf8('c'), eventTime: 13 }]);
  assert.equal(second[0]!.offset, 2);
  assert.equal(second[0]!.brokerTime, 6_000);
  assert.equal(log.endOffset('orders', 0), 3);
  assert.equal(log.endOffset('orders', 1), 1);

  const read = log.read('orders', 0, 0, 100);
  assert.deepEqual(
    read.map((r) => ({ stream: r.stream, partition: r.partition, offset: r.offset, key: text(r.key), value: text(r.value), headers: r.headers, eventTime: r.eventTime, brokerTime: r.brokerTime })),
    [
      { stream: 'orders', partition: 0, offset: 0, key: 'k', value: 'a', headers: {}, eventTime: 10, brokerTime: 5_000 },
      { stream: 'orders', partition: 0, offset: 1, key: 'k', value: null, headers: { h: 'v' }, eventTime: 12, brokerTime: 5_000 },
      { stream: 'orders', partition: 0, offset: 2, key: null, value: 'c', headers: {}, eventTime: 13, brokerTime: 6_000 },
    ],
  );
  assert.equal(read[1]!.key instanceof Uint8Array, true, 'keys come back as bytes');
  assert.equal(log.read('orders', 1, 0, 10)[0]!.eventTime, null, 'a missing event time stays null');
});

test('embedded log read: from an offset, at most max records, empty past the end', async () => {
  log.ensureStream('range', 1);
  await log.append(Array.from({ length: 10 }, (_, i) => ({ stream: 'range', partition: 0, key: null, value: utf8(String(i)), eventTime: i })));
  assert.deepEqual(log.read('range', 0, 3, 4).map((r) => r.offset), [3, 4, 5, 6]);
  assert.deepEqual(log.read('range', 0, 8, 100).map((r) => r.offset), [8, 9]);
  assert.deepEqual(log.read('range', 0, 10, 100), []);
  assert.deepEqual(log.read('range', 0, 0, 0), []);
  assert.deepEqual(log.read('range', 0, 0, Number.MAX_SAFE_INTEGER).length, 10);
  assert.deepEqual(log.read('nope', 0, 0, 10), [], 'an unknown stream reads as empty');
});

test('embedded log endOffset: 0 for an empty partition and an unknown stream', () => {
  log.ensureStream('empty', 2);
  assert.equal(log.endOffset('empty', 1), 0);
  assert.equal(log.endOffset('unknown', 0), 0);
});

test('embedded log append: a bad partition or an unknown stream is refused and nothing of the batch is appended', async () => {
  log.ensureStream('strict', 2);
  await log.append([{ stream: 'strict', partition: 0, key: null, value: utf8('ok'), eventTime: 1 }]);
  for (const partition of [2, -1, 0.5]) {
    await assert.rejects(
      log.append([
        { stream: 'strict', partition: 0, key: null, value: utf8('first'), eventTime: 1 },
        { stream: 'strict', partition, key: null, value: utf8('bad'), eventTime: 1 },
      ]),
      (e: Error) => e instanceof RangeError && e.message.includes(`strict/${partition}`) && e.message.includes('0..1'),
    );
  }
  await assert.rejects(
    log.append([
      { stream: 'strict', partition: 0, key: null, value: utf8('first'), eventTime: 1 },
      { stream: 'missing', partition: 0, key: null, value: utf8('bad'), eventTime: 1 },
    ]),
    /cannot append to stream missing: no such stream/,
  );
  assert.equal(log.endOffset('strict', 0), 1, 'the good record of each failed batch was not appended');
  assert.deepEqual(log.read('strict', 0, 0, 10).map((r) => text(r.value)), ['ok']);
});

// ---------------------------------------------------------------------------
// Commit (docs/semantics.md, "Exactly-once"): outputs, state, checkpoint and audit in one transaction
// ---------------------------------------------------------------------------

const unit = (over: Partial<CommitUnit> & { taskId: string }): CommitUnit => ({
  applicationId: 'app',
  outputs: [],
  stateWrites: [],
  checkpoint: { positions: { 'in/0': { next: 5 } }, streamTime: 500, partitionTimes: { 'in/0': 500 }, commits: 1 },
  audit: [],
  ...over,
});

test('embedded log commit is atomic: when any part fails, no output, state write, checkpoint or audit entry of any task is visible', () => {
  log.ensureStream('out', 1);
  const before = log.endOffset('out', 0);
  assert.throws(() =>
    log.commit([
      unit({
        taskId: '0_0',
        outputs: [{ stream: 'out', partition: 0, key: null, value: utf8('x'), eventTime: 1 }],
        stateWrites: [{ store: 's', key: '61', value: utf8('1') }],
        audit: [{ kind: 'dead-letter', taskId: '0_0', stream: 'in', partition: 0, offset: 3, detail: 'd', at: 0 }],
      }),
      unit({ taskId: '0_1', outputs: [{ stream: 'out', partition: 7, key: null, value: utf8('y'), eventTime: 1 }] }),
    ]),
  );
  assert.equal(log.endOffset('out', 0), before);
  assert.equal(log.stateBackend('app', '0_0').get('s', '61'), undefined);
  assert.equal(log.readCheckpoint('app', '0_0'), undefined);
  assert.deepEqual(log.readAudit('app'), []);
});

test('embedded log commit: outputs, state, checkpoint and audit of several tasks become visible together', () => {
  log.ensureStream('out2', 2);
  const audit = (taskId: string, offset: number) => ({ kind: 'fallback:brokerTime', taskId, stream: 'in', partition: 0, offset, detail: 'd', at: 0 });
  log.commit([
    unit({
      taskId: '0_0',
      outputs: [
        { stream: 'out2', partition: 0, key: null, value: utf8('a'), eventTime: 1 },
        { stream: 'out2', partition: 0, key: null, value: utf8('b'), eventTime: 2 },
      ],
      stateWrites: [{ store: 's', key: '61', value: utf8('1') }, { store: 's', key: '62', value: utf8('2') }],
      audit: [audit('0_0', 1), audit('0_0', 2)],
    }),
    unit({ taskId: '0_1', outputs: [{ stream: 'out2', partition: 1, key: null, value: utf8('c'), eventTime: 3 }], audit: [audit('0_1', 9)] }),
  ]);
  assert.deepEqual(log.read('out2', 0, 0, 10).map((r) => text(r.value)), ['a', 'b']);
  assert.deepEqual(log.read('out2', 1, 0, 10).map((r) => text(r.value)), ['c']);
  assert.deepEqual([...log.stateBackend('app', '0_0').entries('s')].map(([k, v]) => [k, text(v)]), [['61', '1'], ['62', '2']]);
  assert.deepEqual(log.readCheckpoint('app', '0_0'), unit({ taskId: '0_0' }).checkpoint);
  assert.deepEqual(log.readCheckpoint('app', '0_1'), unit({ taskId: '0_1' }).checkpoint);
  assert.deepEqual(log.readAudit('app').map((a) => [a.taskId, a.offset]), [['0_0', 1], ['0_0', 2], ['0_1', 9]]);

  // A second commit deletes a state key, moves the checkpoint on and appends to the audit, in order.
  log.commit([unit({ taskId: '0_0', stateWrites: [{ store: 's', key: '61', value: null }], checkpoint: { positions: { 'in/0': { next: 9 } }, streamTime: 900, partitionTimes: {}, commits: 2 }, audit: [audit('0_0', 7)] })]);
  assert.deepEqual([...log.stateBackend('app', '0_0').entries('s')].map(([k]) => k), ['62']);
  assert.equal(log.readCheckpoint('app', '0_0')!.positions['in/0']!.next, 9);
  assert.deepEqual(log.readAudit('app').map((a) => a.offset), [1, 2, 9, 7]);
  assert.deepEqual(log.readAudit('other-app'), []);
});

test('embedded log resetApplication: forgets one application\'s checkpoints, state and audit, and nothing else', () => {
  const audit = { kind: 'dead-letter', taskId: '0_0', stream: 'in', partition: 0, offset: 1, detail: 'd', at: 0 };
  log.commit([
    unit({ applicationId: 'r1', taskId: '0_0', stateWrites: [{ store: 's', key: '61', value: utf8('1') }], audit: [audit] }),
    unit({ applicationId: 'r2', taskId: '0_0', stateWrites: [{ store: 's', key: '61', value: utf8('1') }], audit: [audit] }),
  ]);
  log.resetApplication('r1');
  assert.equal(log.readCheckpoint('r1', '0_0'), undefined);
  assert.equal(log.stateBackend('r1', '0_0').get('s', '61'), undefined);
  assert.deepEqual(log.readAudit('r1'), []);
  assert.ok(log.readCheckpoint('r2', '0_0') !== undefined);
  assert.ok(log.stateBackend('r2', '0_0').get('s', '61') !== undefined);
  assert.equal(log.readAudit('r2').length, 1);
});

// ---------------------------------------------------------------------------
// Several processes on one data directory
// ---------------------------------------------------------------------------

const FIXTURE = fileURLToPath(new URL('../fixtures/append-child.ts', import.meta.url));

interface Child {
  readonly proc: ChildProcess;
  readonly lines: string[];
  waitFor(line: string): Promise<void>;
  send(line: string): void;
  exited: Promise<number | null>;
}

function startChild(args: string[]): Child {
  const proc = spawn(process.execPath, [FIXTURE, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { line: string; resolve: () => void }[] = [];
  let partial = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of waiters.filter((x) => x.line === l)) w.resolve();
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    lines,
    exited,
    waitFor: (line) =>
      lines.includes(line)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ line, resolve });
            void exited.then((code) => reject(new Error(`child exited (${code}) before printing ${line}; output: ${lines.join('|')}`)));
          }),
    send: (line) => proc.stdin!.write(`${line}\n`),
  };
}

/** Reads a partition from `from` until `count` records were seen, polling like a tailing consumer. */
async function tail(reader: EmbeddedLog, stream: string, from: number, count: number, timeoutMs = 20_000): Promise<{ offset: number; value: string }[]> {
  const seen: { offset: number; value: string }[] = [];
  const deadline = Date.now() + timeoutMs;
  let next = from;
  while (seen.length < count) {
    if (Date.now() > deadline) throw new Error(`tail of ${stream}: saw ${seen.length} of ${count} records`);
    const batch = reader.read(stream, 0, next, 7);
    for (const r of batch) {
      assert.equal(r.offset, next, 'a tailing reader sees no gap');
      seen.push({ offset: r.offset, value: text(r.value)! });
      next++;
    }
    if (batch.length === 0) await sleep(2);
  }
  return seen;
}

test('embedded log, several processes: this process tails a stream while a child process appends to it', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const reader = await EmbeddedLog.open({ dataDir: dir });
  try {
    reader.ensureStream('shared', 1);
    const child = startChild([dir, 'shared', '0', '200', 'c', '100']);
    await child.waitFor('ready');
    child.send('go');
    // The child appends its first half and pauses, still holding the data directory open.
    await child.waitFor('paused');
    const firstHalf = await tail(reader, 'shared', 0, 100);
    assert.equal(reader.endOffset('shared', 0), 100, 'the reader sees the end offset the child wrote');
    assert.equal(child.proc.exitCode, null, 'the child is still running');
    child.send('go');
    const secondHalf = await tail(reader, 'shared', 100, 100);
    assert.equal(await child.exited, 0);
    const all = [...firstHalf, ...secondHalf];
    assert.deepEqual(all.map((r) => r.offset), Array.from({ length: 200 }, (_, i) => i), 'offsets unique and dense');
    assert.deepEqual(all.map((r) => r.value), Array.from({ length: 200 }, (_, i) => `c:${i}`), 'no record lost, in append order');
    assert.deepEqual(child.lines.filter((l) => /^\d+$/.test(l)).map(Number), all.map((r) => r.offset), 'the child was told the offsets it got');
  } finally {
    await reader.close();
  }
});

test('embedded log, several processes: two child processes appending to one partition at once get distinct, dense offsets', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const reader = await EmbeddedLog.open({ dataDir: dir });
  try {
    reader.ensureStream('contended', 1);
    const n = 300;
    const a = startChild([dir, 'contended', '0', String(n), 'A']);
    const b = startChild([dir, 'contended', '0', String(n), 'B']);
    await Promise.all([a.waitFor('ready'), b.waitFor('ready')]);
    a.send('go');
    b.send('go');
    // Tail while they write: every read is gap-free.
    const seen = await tail(reader, 'contended', 0, 2 * n);
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
    assert.equal(reader.endOffset('contended', 0), 2 * n);
    assert.deepEqual(seen.map((r) => r.offset), Array.from({ length: 2 * n }, (_, i) => i), 'dense offsets');
    for (const tag of ['A', 'B']) {
      assert.deepEqual(seen.filter((r) => r.value.startsWith(`${tag}:`)).map((r) => r.value), Array.from({ length: n }, (_, i) => `${tag}:${i}`), `every record of ${tag}, in its order`);
    }
    const offsetsA = a.lines.filter((l) => /^\d+$/.test(l)).map(Number);
    const offsetsB = b.lines.filter((l) => /^\d+$/.test(l)).map(Number);
    assert.equal(new Set([...offsetsA, ...offsetsB]).size, 2 * n, 'no offset given twice');
    for (const [offsets, tag] of [[offsetsA, 'A'], [offsetsB, 'B']] as const) {
      offsets.forEach((o, i) => assert.equal(seen[o]!.value, `${tag}:${i}`, 'the offset returned to the producer holds its record'));
    }
    const switches = seen.filter((r, i) => i > 0 && r.value[0] !== seen[i - 1]!.value[0]).length;
    if (process.env.TIDEMARK_TEST_VERBOSE) console.log(`writers alternated ${switches} times`);
  } finally {
    await reader.close();
  }
});
