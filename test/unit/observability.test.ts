/**
 * What a run shows of itself while it goes on: its observation
 * (`app.observe()`), the metrics made from it, and the diagnostics-channel
 * events — on a memory log with a hand-made input whose clocks, late
 * records and windows are known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Application, DIAGNOSTICS_CHANNELS, ManualClock, MemoryLog, Serdes, StreamsBuilder, TimeWindows, createMetrics } from '../../src/index.ts';
import { httpOption } from '../../src/cli/run.ts';

const key = Serdes.string();

/** readings → 10 ms tumbling counts (final); partition 0 gets `times`, partition 1 nothing. */
function setup(times: readonly number[]) {
  const b = new StreamsBuilder();
  b.stream<string, number>('readings', { key }).groupByKey().windowedBy(TimeWindows.ofSize(10)).count({ emit: 'final' }).to('counts');
  const log = new MemoryLog();
  log.ensureStream('readings', 2);
  log.appendSync(times.map((t) => ({ stream: 'readings', partition: 0, key: key.serialize('k'), value: Serdes.json<number>().serialize(t), eventTime: t })));
  return new Application(b.build(), { applicationId: 'obs', log });
}

test('observe: undefined before a run; after it, per task its clocks, per input its lag and watermark, per operator its late count, and the recent late records', async () => {
  const app = setup([1, 12, 25, 3]);
  assert.equal(app.observe(), undefined);
  await app.run({ mode: 'catch-up', clock: new ManualClock(1_000) });
  const o = app.observe()!;
  assert.equal(o.running, false);
  assert.equal(o.processed, 4);
  assert.equal(o.lag, 0);
  const [t0, t1] = o.tasks;
  assert.deepEqual([t0!.id, t0!.streamTime, t0!.caughtUp, t0!.lateRecords], ['0_0', 25, true, 1]);
  assert.equal(t1!.streamTime, null, 'a task that processed nothing has no stream time (not -1)');
  assert.equal(t1!.eventTimeLagMs, t1!.watermark === null ? null : 1_000 - t1!.watermark);
  assert.deepEqual(t0!.inputs.map((i) => [i.key, i.lag, i.idle]), [['readings/0', 0, false]]);
  const late = t0!.operators.filter((p) => p.lateRecords > 0);
  assert.equal(late.length, 1);
  assert.match(late[0]!.node, /^window-aggregate-/);
  assert.deepEqual(o.recentLate.map((l) => [l.kind, l.stream, l.partition, l.offset]), [['late-record', 'readings', 0, 3]]);
  assert.equal(o.audited['late-record'], 1);
});

test('metrics: the observation in the Prometheus format; a task without a watermark has no watermark sample and has_watermark 0, never NaN', async () => {
  const app = setup([1, 12, 25, 3]);
  const metrics = createMetrics(() => app.observe(), 'obs');
  try {
    assert.doesNotMatch(await metrics.text(), /^tidemark_task_/m, 'no samples before the first run');
    await app.run({ mode: 'catch-up', clock: new ManualClock(1_000) });
    const text = await metrics.text();
    assert.doesNotMatch(text, /NaN/);
    assert.match(text, /^tidemark_task_stream_time_milliseconds\{application="obs",task="0_0"\} 25$/m);
    assert.doesNotMatch(text, /^tidemark_task_stream_time_milliseconds\{application="obs",task="0_1"\}/m);
    assert.match(text, /^tidemark_records_processed_total\{application="obs",task="0_0"\} 4$/m);
    assert.match(text, /^tidemark_late_records_total\{application="obs",task="0_0",operator="window-aggregate-\d+"\} 1$/m);
    assert.match(text, /^tidemark_audit_entries_total\{application="obs",kind="late-record"\} 1$/m);
    assert.match(text, /^tidemark_input_lag_records\{application="obs",task="0_1",stream="readings",partition="1"\} 0$/m);
    const has = /^tidemark_task_has_watermark\{application="obs",task="0_1"\} (\d)$/m.exec(text);
    const watermarkSample = /^tidemark_task_watermark_milliseconds\{application="obs",task="0_1"\}/m.test(text);
    assert.equal(has?.[1], watermarkSample ? '1' : '0', 'has_watermark says whether there is a watermark sample');
    assert.match(text, /^tidemark_commit_duration_seconds_count\{application="obs"\} [1-9]\d*$/m);
    assert.match(text, /^tidemark_commits_total\{application="obs"\} [1-9]\d*$/m);
  } finally {
    metrics.close();
  }
});

test('diagnostics channels: a late record, fired windows, watermarks, commits, audit entries and tasks assigned and revoked, each with its application', async () => {
  const seen = new Map<string, unknown[]>();
  const listeners = Object.values(DIAGNOSTICS_CHANNELS).map((name) => {
    const l = (m: unknown): void => void seen.set(name, [...(seen.get(name) ?? []), m]);
    subscribe(name, l);
    return [name, l] as const;
  });
  try {
    await setup([1, 12, 25, 3]).run({ mode: 'catch-up', clock: new ManualClock(1_000) });
  } finally {
    for (const [name, l] of listeners) unsubscribe(name, l);
  }
  const late = seen.get(DIAGNOSTICS_CHANNELS.recordLate) as { applicationId: string; stream: string; offset: number; timestamp: number; lateFor: string }[];
  assert.deepEqual(late.map((m) => [m.applicationId, m.stream, m.offset, m.timestamp, m.lateFor]), [['obs', 'readings', 3, 3, 'record']]);
  // Final counts fire for [0, 10) at 12 and [10, 20) at 25.
  const fired = seen.get(DIAGNOSTICS_CHANNELS.windowFired) as { start: number; end: number; timestamp: number }[];
  assert.deepEqual(fired.map((m) => [m.start, m.end, m.timestamp]), [[0, 10, 9], [10, 20, 19]]);
  assert.ok((seen.get(DIAGNOSTICS_CHANNELS.watermarkAdvanced) ?? []).length > 0);
  assert.ok(((seen.get(DIAGNOSTICS_CHANNELS.commit) ?? []) as { durationMs: number }[]).every((m) => m.durationMs >= 0));
  assert.deepEqual((seen.get(DIAGNOSTICS_CHANNELS.audit) as { kind: string }[]).map((m) => m.kind), ['late-record']);
  const tasks = (seen.get(DIAGNOSTICS_CHANNELS.task) as { taskId: string; event: string }[]).map((m) => `${m.event} ${m.taskId}`);
  assert.deepEqual(tasks, ['assigned 0_0', 'assigned 0_1', 'revoked 0_0', 'revoked 0_1']);
});

test('--http takes [HOST:]PORT; the host defaults to 127.0.0.1', () => {
  assert.deepEqual(httpOption('9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(httpOption('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(httpOption('[::1]:9464'), { host: '::1', port: 9464 });
  assert.equal(httpOption(undefined), undefined);
  assert.throws(() => httpOption('localhost'), /--http must be \[HOST:\]PORT/);
  assert.throws(() => httpOption('99999'), /--http must be \[HOST:\]PORT/);
});
