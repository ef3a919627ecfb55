/**
 * A producer application's lifecycle — restart, rescale, crash, crash then
 * rescale — as seen by a consumer that reads its watermarks from the log:
 * never on-time data treated as late, never stuck on a task that no longer
 * exists, and what holds a watermark back said in the run's summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Application, EmbeddedLog, Serdes, StreamProducer, StreamsBuilder } from '../../src/index.ts';
import { NO_WATERMARK } from '../../src/semantics.ts';
import { heldBackLines } from '../../src/cli/run.ts';
import { B_APP, B_OUT, appendReadings, assertCorrectConsumer, runB, runC, serviceB, serviceC, windowResults, type Reading } from '../fixtures/producer-lifecycle.ts';

async function withLog<T>(fn: (log: EmbeddedLog, dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-lifecycle-'));
  const log = await EmbeddedLog.open({ dataDir });
  try {
    return await fn(log, dataDir);
  } finally {
    await log.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const r = (key: string, t: number, partition: number): Reading => ({ key, t, partition });

test('restarting a producer application with two tasks: its consumer treats none of its records as late', () =>
  withLog(async (log) => {
    const batch1 = [r('x', 5, 0), r('y', 3, 1)];
    // In the second run task 0_0's watermark 30 reaches `b` before task 0_1's record at 13.
    const batch2 = [r('x', 31, 0), r('y', 13, 1)];
    await appendReadings(log, 'a', 2, batch1);
    await runB(log, 'a');
    await appendReadings(log, 'a', 2, batch2);
    await runB(log, 'a');
    const c = await runC(log);
    // B/0_1 last promised 12 (its record at 13, minus one): C holds there.
    assertCorrectConsumer(log, c, [...batch1, ...batch2], 12);
    assert.equal(Math.min(...c.watermarks.values()), 12);
    // The same as a consumer of one uninterrupted run of B over both batches.
    await withLog(async (once) => {
      await appendReadings(once, 'a', 2, [...batch1, ...batch2]);
      await runB(once, 'a');
      await runC(once);
      assert.deepEqual(windowResults(once), windowResults(log));
    });
  }));

test('rescaling a producer application from 3 tasks to 2: the task rescaled away no longer holds its consumer back', () =>
  withLog(async (log) => {
    const run1 = [r('x', 1, 0), r('y', 2, 1), r('z', 3, 2)];
    const run2 = [r('x', 35, 0), r('y', 14, 1), r('x', 41, 0), r('y', 43, 1)];
    await appendReadings(log, 'a3', 3, run1);
    await runB(log, 'a3');
    await appendReadings(log, 'a2', 2, run2);
    await runB(log, 'a2');
    const c = await runC(log);
    // B/0_2 promised only 2 before it went; 0_0 and 0_1 promised 40 and 42.
    assertCorrectConsumer(log, c, [...run1, ...run2], 40);
  }));

test('rescaling a producer application from 2 tasks to 3, its tasks writing at different paces: none of its records is late', () =>
  withLog(async (log) => {
    const run1 = [r('x', 1, 0), r('y', 2, 1)];
    await appendReadings(log, 'a2', 2, run1);
    await runB(log, 'a2');
    // Run 2 is live: 0_0 and the new 0_2 run ahead, and 0_1's first record of the run comes later, at 21.
    log.ensureStream('a3', 3);
    const ahead = [r('x', 35, 0), r('z', 33, 2)];
    const behind = [r('y', 21, 1), r('y', 45, 1), r('x', 46, 0), r('z', 47, 2)];
    const stop = new AbortController();
    const live = new Application(serviceB('a3'), { applicationId: B_APP, log }).run({ mode: 'real-time', signal: stop.signal, commitIntervalMs: 0, maxIdleMs: 0 });
    await appendReadings(log, 'a3', 3, ahead);
    await until(() => windowsOfB(log) >= 2, 'B to write the records ahead');
    await appendReadings(log, 'a3', 3, behind);
    await until(() => windowsOfB(log) >= 6, 'B to write the records behind');
    stop.abort();
    await live;
    const c = await runC(log);
    assertCorrectConsumer(log, c, [...run1, ...ahead, ...behind], 44);
  }));

test('a producer SIGKILLed with 3 tasks, then run with 2: a catch-up of its consumer completes, up to what the 2 promised', { timeout: 120_000 }, () =>
  withLog(async (log, dataDir) => {
    const run1 = [r('x', 1, 0), r('y', 2, 1), r('z', 9, 2)];
    await appendReadings(log, 'a3', 3, run1);
    await killWhenCommitted(dataDir, 'a3', run1.length);
    const run2 = [r('x', 25, 0), r('y', 31, 1)];
    await appendReadings(log, 'a2', 2, run2);
    await runB(log, 'a2');
    const c = await runC(log);
    // 0_0 and 0_1 promised 24 and 30 at their clean stop: window [10, 20) has fired.
    assertCorrectConsumer(log, c, [...run1, ...run2], 24);
    assert.deepEqual(c.warnings, []);
  }));

test('a producer SIGKILLed with 3 tasks, then run with 2, and a consumer in real time with idleness: its windows fire up to what the 2 promised', { timeout: 120_000 }, () =>
  withLog(async (log, dataDir) => {
    const run1 = [r('x', 1, 0), r('y', 2, 1), r('z', 9, 2)];
    await appendReadings(log, 'a3', 3, run1);
    await killWhenCommitted(dataDir, 'a3', run1.length);
    await appendReadings(log, 'a2', 2, [r('x', 25, 0), r('y', 31, 1)]);
    await runB(log, 'a2');
    const stop = new AbortController();
    const live = new Application(serviceC(200), { applicationId: 'C-live', log }).run({ mode: 'real-time', signal: stop.signal, maxIdleMs: 0 });
    // B/0_2 promised 8 before the kill; had it not been rescaled away, window [0, 10) would wait for it.
    await until(() => windowResults(log).length >= 3, 'C to fire the windows up to 24');
    stop.abort();
    const c = await live;
    assert.equal(c.lateRecords, 0);
    assert.deepEqual(windowResults(log), ['x [0,10) = 1', 'y [0,10) = 1', 'z [0,10) = 1']);
    assert.ok(Math.min(...c.watermarks.values()) >= 24, `C's watermark ${Math.min(...c.watermarks.values())}`);
  }));

test('a producer task killed and never back holds its consumer at its last promise; the summary names it and how to release it; a release lets the consumer go on', { timeout: 120_000 }, () =>
  withLog(async (log, dataDir) => {
    const readings = [r('x', 1, 0), r('y', 22, 1)];
    await appendReadings(log, 'a2', 2, readings);
    await killWhenCommitted(dataDir, 'a2', readings.length);
    const c1 = await runC(log);
    const holders = [...c1.watermarkHolders.values()];
    assert.deepEqual(holders, [{ application: B_APP, task: '0_0', watermark: 0, state: 'reported' }], 'B/0_0 (killed) holds C at 0');
    assert.deepEqual(windowResults(log), []);
    assert.deepEqual(heldBackLines(c1, `--data-dir ${dataDir}`), [
      `  held back  0_0 b/0: watermark 0, by B/0_0 (its watermark); if it no longer runs: tidemark release --data-dir ${dataDir} --stream b --producer B/0_0`,
    ]);
    // What an operator does for a task that is gone for good.
    const cli = execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts'), 'release', '--data-dir', dataDir, '--stream', B_OUT, '--producer', 'B/0_0'], { encoding: 'utf8' });
    assert.equal(cli.trim(), 'released B/0_0 on b/0: consumers stop waiting for it there');
    const c2 = await runC(log);
    assert.deepEqual(windowResults(log), ['x [0,10) = 1'], 'window [0,10) fired once 0_0 was released, at what 0_1 promised (21)');
    assert.equal(c2.audit.get('release'), 1);
    assert.equal(c2.nondeterministicDecisions, 0, 'a release is in the log: a replay makes the same decision');
  }));

test('fromStream() on a stream no tidemark producer writes: one warning, in the summary and the audit', () =>
  withLog(async (log) => {
    await appendReadings(log, B_OUT, 1, [r('x', 1, 0), r('x', 30, 0)]);
    const c = await runC(log);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0]!, /^b\/0 has records without a tidemark\.producer header \(the first at offset 0\): Watermarks\.fromStream\(\) reads watermarks from tidemark producers only, .* give the source a generator \(Watermarks\.monotonic\(\), boundedOutOfOrderness\(d\)\) or write it through StreamProducer$/);
    assert.equal(c.audit.get('no-producer'), 1);
    assert.deepEqual([...c.watermarkHolders.values()], ['none']);
    assert.equal(Math.min(...c.watermarks.values()), NO_WATERMARK);
  }));

test('a producer writing data at or below its own watermark is refused, or with lateRecords write, marked and audited by its consumers', () =>
  withLog(async (log) => {
    log.ensureStream(B_OUT, 1);
    const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
    const p = new StreamProducer(log, { application: 'P', task: 'p0' });
    await p.send([{ stream: B_OUT, partition: 0, key: bytes('x'), value: bytes('1'), headers: {}, eventTime: 5 }]);
    await p.emitWatermark(B_OUT, 9);
    await assert.rejects(
      p.send([{ stream: B_OUT, partition: 0, key: bytes('x'), value: bytes('1'), headers: {}, eventTime: 9 }]),
      /^RangeError: P\/p0: a record for b\/0 at event time 9 is at or below the watermark 9 this producer wrote there, so every consumer would treat it as late; nothing of this call was appended/,
    );
    // Another process of the same producer task finds its watermark in the log.
    const again = new StreamProducer(log, { application: 'P', task: 'p0' }, { resume: true });
    await assert.rejects(again.send([{ stream: B_OUT, partition: 0, key: bytes('x'), value: bytes('1'), headers: {}, eventTime: 3 }]), /at or below the watermark 9/);
    const marked = new StreamProducer(log, { application: 'P', task: 'p0' }, { resume: true, lateRecords: 'write' });
    await marked.send([{ stream: B_OUT, partition: 0, key: bytes('x'), value: bytes('1'), headers: {}, eventTime: 4 }]);
    await marked.emitWatermark(B_OUT, 30);
    const c = await runC(log);
    assert.equal(c.audit.get('producer-late'), 1);
    assert.equal(c.lateRecords, 1, 'and it is late at the consumer, as said');
  }));

/** Runs B on `input` in a child process, real time, and SIGKILLs it once its outputs for `records` inputs are committed. */
async function killWhenCommitted(dataDir: string, input: string, records: number): Promise<void> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'fixtures', 'lifecycle-child.ts'), dataDir, input], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const reader = await EmbeddedLog.open({ dataDir, readOnly: true });
  try {
    await until(() => dataRecords(reader, B_OUT) >= records, `B (pid ${child.pid}) to commit ${records} records`);
  } finally {
    child.kill('SIGKILL');
    await exited;
    await reader.close();
  }
}

function dataRecords(log: EmbeddedLog, stream: string): number {
  let n = 0;
  for (let p = 0; p < (log.partitionCount(stream) ?? 0); p++) n += log.read(stream, p, 0, Number.MAX_SAFE_INTEGER).filter((x) => x.control === undefined).length;
  return n;
}

function windowsOfB(log: EmbeddedLog): number {
  return dataRecords(log, B_OUT);
}

async function until(done: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('a producer resumed in a new process stops at the watermark it wrote before, so a third process still refuses data below it; a consumer does not pass the producer-late mark on', () =>
  withLog(async (log) => {
    log.ensureStream(B_OUT, 1);
    const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
    const rec = (t: number) => ({ stream: B_OUT, partition: 0, key: bytes('x'), value: bytes('1'), headers: {}, eventTime: t });
    await new StreamProducer(log, { application: 'P', task: 'p0' }).emitWatermark(B_OUT, 100);
    const reports = await new StreamProducer(log, { application: 'P', task: 'p0' }, { resume: true }).stop(B_OUT);
    assert.equal(reports.length, 1);
    await assert.rejects(new StreamProducer(log, { application: 'P', task: 'p0' }, { resume: true }).send([rec(50)]), /at or below the watermark 100/);
    await new StreamProducer(log, { application: 'P', task: 'p0' }, { resume: true, lateRecords: 'write' }).send([rec(60)]);
    // A pass-through of b: the mark is P's, not the pass-through's.
    const b = new StreamsBuilder();
    b.stream<string, string>(B_OUT, { key: Serdes.string(), value: Serdes.string() }).to('copy', { key: Serdes.string(), value: Serdes.string() });
    await new Application(b.build(), { applicationId: 'copier', log }).run({ mode: 'catch-up' });
    const copied = log.read('copy', 0, 0, 10).filter((x) => x.control === undefined);
    assert.equal(copied.length, 1);
    assert.equal(copied[0]!.headers['tidemark.producer-late'], undefined);
  }));
