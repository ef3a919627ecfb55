import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Serdes, StreamsBuilder, TimeWindows, Watermarks, type StreamRecord, type WatermarkGenerator } from '../../src/index.ts';
import { NO_WATERMARK, combineWatermarks, eventClockNow, isWindowClosed, isTimerDue, isWindowFired, producersWatermark } from '../../src/semantics.ts';
import { applyAnnouncement, applyRelease, holdingBack, nextGeneration, type ProducerApplication } from '../../src/time/producer-watermarks.ts';
import { TopologyTestDriver } from '../../src/testing/index.ts';
import { releaseRecord } from '../../src/runtime/watermark-record.ts';

const rec = (timestamp: number, value: unknown = null): StreamRecord => ({ stream: 's', partition: 0, offset: 0, key: null, value, headers: {}, eventTime: timestamp, brokerTime: null, ingestTime: 0, timestamp });

/** Feeds timestamps through a strategy's generator, as a partition's records are processed; returns the watermark after each. */
function watermarksOf(generator: WatermarkGenerator, records: readonly StreamRecord[]): number[] {
  let w = NO_WATERMARK;
  return records.map((r) => (w = generator.next(w, r)));
}

function generatorOf(strategy: ReturnType<typeof Watermarks.monotonic>): WatermarkGenerator {
  assert.equal(strategy.kind, 'generated');
  return (strategy as { generator: WatermarkGenerator }).generator;
}

test('generators: monotonic is maxTs − 1, boundedOutOfOrderness(d) is maxTs − d − 1, and neither goes back on an older record', () => {
  const ts = [5, 9, 7, 20, 3];
  assert.deepEqual(watermarksOf(generatorOf(Watermarks.monotonic()), ts.map((t) => rec(t))), [4, 8, 8, 19, 19]);
  assert.deepEqual(watermarksOf(generatorOf(Watermarks.boundedOutOfOrderness(3)), ts.map((t) => rec(t))), [1, 5, 5, 16, 16]);
  assert.deepEqual(watermarksOf(generatorOf(Watermarks.boundedOutOfOrderness(0)), ts.map((t) => rec(t))), [4, 8, 8, 19, 19]);
  assert.throws(() => Watermarks.boundedOutOfOrderness(-1), /non-negative integer/);
});

test('generators: punctuated takes the watermark some records carry; custom generators are clamped so the watermark never decreases', () => {
  const punct = generatorOf(Watermarks.punctuated((r) => (r.value as { wm?: number } | null)?.wm));
  assert.deepEqual(watermarksOf(punct, [rec(1, { wm: 0 }), rec(2), rec(8, { wm: 6 }), rec(9, { wm: 4 })]), [0, 0, 6, 6]);
  const erratic = generatorOf(Watermarks.custom({ name: 'erratic', next: (_w, r) => (r.timestamp % 2 === 0 ? r.timestamp : 0) }));
  assert.deepEqual(watermarksOf(erratic, [rec(4), rec(3), rec(10), rec(1)]), [4, 4, 10, 10]);
});

test('withIdleness sets the timeout; it must be a positive integer', () => {
  assert.equal(Watermarks.boundedOutOfOrderness(5).withIdleness(1000).idlenessMs, 1000);
  assert.equal(Watermarks.fromStream().withIdleness(50).idlenessMs, 50);
  assert.equal(Watermarks.monotonic().idlenessMs, undefined);
  assert.throws(() => Watermarks.monotonic().withIdleness(0), /positive integer/);
});

test('min-combination: the least of the inputs that are not idle; no input left, no watermark', () => {
  assert.equal(combineWatermarks([{ watermark: 10, idle: false }, { watermark: 4, idle: false }]), 4);
  assert.equal(combineWatermarks([{ watermark: 10, idle: false }, { watermark: 4, idle: true }]), 10);
  assert.equal(combineWatermarks([{ watermark: 10, idle: true }]), undefined);
  assert.equal(combineWatermarks([]), undefined);
});

function app(tasks: number | undefined, producers: Record<string, { watermark: number; stopped?: boolean; idle?: boolean }>, missingIdle = false): ProducerApplication {
  return {
    tasks,
    generation: undefined,
    members: undefined,
    producers: new Map(Object.entries(producers).map(([t, p]) => [t, { watermark: p.watermark, stopped: p.stopped ?? false, idle: p.idle ?? false, lastSeenAt: 0 }])),
    released: new Set(),
    missingIdle,
    expectedSince: 0,
  };
}

test('producers on a partition: the least watermark of the tasks known; unreported tasks hold back; a stop is a promise; idle ones are left out', () => {
  assert.equal(producersWatermark([app(2, { t0: { watermark: 30 }, t1: { watermark: 12 } })]), 12);
  assert.equal(producersWatermark([app(2, { t0: { watermark: 30 } })]), NO_WATERMARK, 'the second task has not reported: hold back');
  assert.equal(producersWatermark([app(2, { t0: { watermark: 30 } }, true)]), 30, 'the missing task was declared idle');
  assert.equal(producersWatermark([app(2, { t0: { watermark: 30 }, t1: { watermark: 12, stopped: true } })]), 12, 'a stopped task may run again: its last watermark still holds');
  assert.equal(producersWatermark([app(2, { t0: { watermark: 30 }, t1: { watermark: 12, idle: true } })]), 30);
  assert.equal(producersWatermark([app(undefined, { t0: { watermark: NO_WATERMARK } })]), NO_WATERMARK, 'a task seen only by its data has promised nothing');
  assert.equal(producersWatermark([app(1, { t0: { watermark: 5, stopped: true } })]), 5, 'everyone stopped: the partition is at what they promised');
  assert.equal(producersWatermark([app(1, { t0: { watermark: 5, idle: true } })]), undefined, 'nobody left: the partition holds nothing back');
  assert.equal(producersWatermark([app(1, { a: { watermark: 50 } }), app(3, { x: { watermark: 70 }, y: { watermark: 60 }, z: { watermark: 65 } })]), 50);
});

test('announcements: the newest generation names the task set; tasks it leaves out are dropped, tasks it names are waited for; an older one changes nothing', () => {
  const p = app(undefined, { '0_0': { watermark: 30 }, '0_1': { watermark: 9, stopped: true }, '0_2': { watermark: 9 } });
  assert.equal(applyAnnouncement(p, 100, ['0_0', '0_1'], 0), true);
  assert.deepEqual([...p.producers.keys()], ['0_0', '0_1'], '0_2 was rescaled away');
  assert.equal(producersWatermark([p]), 9, '0_1 stopped at 9: the restarted run resumes from there');
  assert.equal(applyAnnouncement(p, 99, ['0_0', '0_1', '0_2'], 0), false, 'a run that started earlier');
  assert.equal(producersWatermark([p]), 9);
  assert.equal(applyAnnouncement(p, 101, ['0_0', '0_1', '0_2', '0_3'], 0), true);
  assert.equal(producersWatermark([p]), NO_WATERMARK, 'new tasks have not reported yet');
  assert.deepEqual(holdingBack(new Map([['B', p]])), { application: 'B', task: '0_2', watermark: NO_WATERMARK, state: 'expected' });
  applyRelease(p, '0_2');
  applyRelease(p, '0_3');
  assert.equal(producersWatermark([p]), 9, 'released tasks are no longer waited for');
  assert.deepEqual(holdingBack(new Map([['B', p]])), { application: 'B', task: '0_1', watermark: 9, state: 'stopped' });
  assert.equal(nextGeneration(50, undefined), 50);
  assert.equal(nextGeneration(50, 70), 71, 'a clock that went back still gives a later generation');
  assert.equal(nextGeneration(80, 70), 80);
});

test('event time now: windows and timers read one clock, as documented for both modes', () => {
  for (const end of [10, 11, 100]) {
    for (const lateness of [0, 1, 5]) {
      for (let w = end - 8; w <= end + 8; w++) {
        const now = eventClockNow('watermark', 0, w);
        // The documented watermark-mode statements: closed at W >= end - 1 + lateness, fired (final) at W >= end - 1.
        assert.equal(isWindowClosed(end, lateness, now), w >= end - 1 + lateness, `end ${end}, lateness ${lateness}, watermark ${w}`);
        assert.equal(isWindowFired(end, lateness, 'watermark', now), w >= end - 1);
        // A timer at t fires once W >= t - 1: when a window ending at t, without lateness, closes.
        assert.equal(isTimerDue(end, now), w >= end - 1);
        assert.equal(isTimerDue(end, now), isWindowClosed(end, 0, now));
        // Stream time: closed and fired (final) at st >= end + grace; a timer at t fires at st >= t.
        const st = w;
        const stNow = eventClockNow('stream-time', st, NO_WATERMARK);
        assert.equal(isWindowClosed(end, lateness, stNow), st >= end + lateness);
        assert.equal(isWindowFired(end, lateness, 'stream-time', stNow), st >= end + lateness);
        assert.equal(isTimerDue(end, stNow), st >= end);
      }
    }
  }
});

/** A watermark-mode count per key in tumbling windows of 10 on a stream whose watermarks come from its producers. */
function countsFromStream(idlenessMs?: number, grace = 0) {
  const b = new StreamsBuilder({ eventClock: 'watermark', watermarkIntervalMs: 10 });
  const strategy = idlenessMs === undefined ? Watermarks.fromStream() : Watermarks.fromStream().withIdleness(idlenessMs);
  b.stream<string, number>('in', { key: Serdes.string(), watermarks: strategy })
    .groupByKey()
    .windowedBy(TimeWindows.ofSize(10).grace(grace))
    .count({ emit: 'final' })
    .to('out');
  return b.build();
}

const results = (driver: TopologyTestDriver): string[] =>
  driver.readOutput<{ key: string; start: number }, number>('out').map((r) => `${r.key.key}@${r.key.start}=${r.value}`);

test('a consumer of two producer applications with different task counts waits for every task of both', () => {
  const d = new TopologyTestDriver(countsFromStream());
  const input = d.inputStream<string, number>('in', { key: Serdes.string() });
  // The log tells a consumer who its producers are, as it goes: Q announces three tasks before P's watermark comes.
  d.pipeWatermark('in', 50, { application: 'Q', task: 'q0', tasks: 3 });
  input.pipe('k', 1, { eventTime: 3, headers: { 'tidemark.producer': 'P/p0' } });
  d.pipeWatermark('in', 50, { application: 'P', task: 'p0', tasks: 1 });
  d.pipeWatermark('in', 50, { application: 'Q', task: 'q1', tasks: 3 });
  assert.equal(d.watermarks().get('0_0'), NO_WATERMARK, 'q2 has not reported');
  assert.deepEqual(results(d), []);
  d.pipeWatermark('in', 12, { application: 'Q', task: 'q2', tasks: 3 });
  assert.equal(d.watermarks().get('0_0'), 12, 'the least of P/p0 50, Q/q0 50, Q/q1 50, Q/q2 12');
  assert.deepEqual(results(d), ['k@0=1']);
  d.pipeWatermark('in', 40, { application: 'Q', task: 'q2', tasks: 3 });
  assert.equal(d.watermarks().get('0_0'), 40);
});

test('a producer stopping cleanly holds its consumers at its last promise, since it may run again; when it writes again it moves on', () => {
  const d = new TopologyTestDriver(countsFromStream());
  const input = d.inputStream<string, number>('in', { key: Serdes.string() });
  d.pipeWatermark('in', 5, { application: 'P', task: 'p0', tasks: 2 });
  d.pipeWatermark('in', 30, { application: 'P', task: 'p1', tasks: 2 });
  input.pipe('k', 1, { eventTime: 7, headers: { 'tidemark.producer': 'P/p1' } });
  assert.equal(d.watermarks().get('0_0'), 5);
  d.pipeWatermark('in', 5, { application: 'P', task: 'p0', tasks: 2, stopped: true });
  assert.equal(d.watermarks().get('0_0'), 5, 'p0 stopped at 5: data above 5 may still come from it');
  assert.deepEqual(results(d), []);
  input.pipe('k', 1, { eventTime: 8, headers: { 'tidemark.producer': 'P/p0' } });
  d.pipeWatermark('in', 35, { application: 'P', task: 'p0', tasks: 2 });
  assert.deepEqual(results(d), ['k@0=2'], 'the record p0 wrote after its restart is on time');
  d.pipeWatermark('in', 90, { application: 'P', task: 'p1', tasks: 2 });
  assert.equal(d.watermarks().get('0_0'), 35, 'p0 is back and holds the watermark at its own');
  assert.equal(d.audit().filter((e) => e.kind.startsWith('nondeterministic:')).length, 0, 'a clean stop is in the log: nothing nondeterministic');
});

test('a producer that vanishes holds its consumers back until idleness declares it idle, which is audited', () => {
  const d = new TopologyTestDriver(countsFromStream(1000), { mode: 'real-time', maxIdleMs: 0 });
  d.inputStream<string, number>('in', { key: Serdes.string() });
  d.pipeWatermark('in', 40, { application: 'P', task: 'p0', tasks: 2 });
  d.pipeWatermark('in', 8, { application: 'P', task: 'p1', tasks: 2 });
  d.advanceWallClockTime(500);
  d.pipeWatermark('in', 60, { application: 'P', task: 'p0', tasks: 2 });
  assert.equal(d.watermarks().get('0_0'), 8, 'p1 (killed) still holds it back');
  d.advanceWallClockTime(499);
  assert.equal(d.watermarks().get('0_0'), 8, 'not yet silent for 1000 ms');
  d.advanceWallClockTime(1);
  assert.equal(d.watermarks().get('0_0'), 60, 'p1 declared idle');
  const idle = d.audit().filter((e) => e.kind === 'nondeterministic:idle-watermark');
  assert.equal(idle.length, 1);
  assert.match(idle[0]!.detail, /producer P\/p1 silent for 1000 ms/);
  assert.equal(d.summary().nondeterministicDecisions, 1);
});

test('a generated input with no data for its idleness timeout stops holding the task back (real time only), audited', () => {
  const b = new StreamsBuilder({ eventClock: 'watermark' });
  const left = b.stream<string, number>('left', { key: Serdes.string(), watermarks: Watermarks.monotonic().withIdleness(100) });
  const right = b.stream<string, number>('right', { key: Serdes.string(), watermarks: Watermarks.monotonic().withIdleness(100) });
  left.merge(right).groupByKey().windowedBy(TimeWindows.ofSize(10)).count({ emit: 'final' }).to('out');
  for (const mode of ['catch-up', 'real-time'] as const) {
    const d = new TopologyTestDriver(b.build(), { mode, maxIdleMs: 0 });
    const l = d.inputStream<string, number>('left', { key: Serdes.string() });
    const r = d.inputStream<string, number>('right', { key: Serdes.string() });
    r.pipe('k', 1, { eventTime: 2 });
    d.advanceWallClockTime(150);
    l.pipe('k', 1, { eventTime: 25 });
    if (mode === 'catch-up') {
      assert.equal(d.watermarks().get('0_0'), 1, 'catch-up never declares idleness: right holds the watermark at 1');
      assert.equal(d.audit().filter((e) => e.kind === 'nondeterministic:idle-watermark').length, 0);
    } else {
      assert.equal(d.watermarks().get('0_0'), 24, 'right idle: the watermark is left alone');
      assert.deepEqual(results(d), ['k@0=1']);
      // Both were silent for 150 ms by then (left had no data yet); left's record brought it back.
      const idle = d.audit().filter((e) => e.kind === 'nondeterministic:idle-watermark');
      assert.deepEqual(idle.map((e) => e.stream).sort(), ['left', 'right']);
    }
  }
});

test('an operator fed by one source does not wait for another source of its task', () => {
  const b = new StreamsBuilder({ eventClock: 'watermark' });
  const fast = b.stream<string, number>('fast', { key: Serdes.string(), watermarks: Watermarks.monotonic() });
  const slow = b.stream<string, number>('slow', { key: Serdes.string(), watermarks: Watermarks.monotonic() });
  fast.groupByKey().windowedBy(TimeWindows.ofSize(10)).count({ emit: 'final', name: 'fast-counts' }).to('out');
  fast.merge(slow).to('merged');
  const d = new TopologyTestDriver(b.build());
  const fastIn = d.inputStream('fast', { key: Serdes.string() });
  const slowIn = d.inputStream('slow', { key: Serdes.string() });
  fastIn.pipe('k', 1, { eventTime: 5 });
  fastIn.pipe('k', 1, { eventTime: 30 });
  slowIn.pipe('k', 1, { eventTime: 3 });
  const ops = d.operatorWatermarks();
  const windowOp = [...ops].find(([n]) => n.startsWith('window-aggregate'))!;
  assert.equal(windowOp[1], 29, 'the window operator reads only `fast`');
  assert.equal(ops.get([...ops.keys()].find((n) => n.startsWith('sink-merged'))!), 2, 'the merged sink reads both');
  assert.deepEqual(results(d), ['k@0=1']);
});

test('watermark mode writes watermark records into every partition of its outputs when the output watermark crosses a multiple of the interval', () => {
  const b = new StreamsBuilder({ eventClock: 'watermark', watermarkIntervalMs: 100 });
  b.stream<string, number>('in', { key: Serdes.string(), watermarks: Watermarks.boundedOutOfOrderness(10) }).to('out', { partitions: 2 });
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { key: Serdes.string() });
  for (const t of [50, 111, 150, 199, 250, 180]) input.pipe('k', 1, { eventTime: t });
  const all = d.readWatermarks('out');
  // The run's task announces itself first, into each partition, before any watermark.
  assert.deepEqual(all.filter((w) => w.kind === 'announce').map((w) => [w.partition, w.members]), [[0, ['0_0']], [1, ['0_0']]]);
  for (const p of [0, 1]) assert.equal(all.find((w) => w.partition === p)!.kind, 'announce', `partition ${p} starts with the announcement`);
  const wms = all.filter((w) => w.kind === 'watermark');
  // W = maxTs − 11: 39 (first), 100 (crosses 100), 139, 188, 239 (crosses 200).
  assert.deepEqual(wms.filter((w) => w.partition === 0).map((w) => w.watermark), [39, 100, 239]);
  assert.deepEqual(wms.filter((w) => w.partition === 1).map((w) => w.watermark), [39, 100, 239]);
  assert.ok(wms.every((w) => w.application === 'test' && w.task === '0_0' && w.tasks === 1 && !w.stopped));
  assert.deepEqual(d.readOutput('out', { key: Serdes.string() }).map((r) => r.timestamp), [50, 111, 150, 199, 250, 180], 'data records are unaffected');
});

test('allowed lateness in watermark mode: a fired window takes records within the lateness and re-emits its result; later ones are late', () => {
  const b = new StreamsBuilder({ eventClock: 'watermark' });
  b.stream<string, number>('in', { key: Serdes.string(), watermarks: Watermarks.monotonic() })
    .groupByKey()
    .windowedBy(TimeWindows.ofSize(10).grace(5))
    .count({ emit: 'final' })
    .to('out');
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { key: Serdes.string() });
  input.pipe('k', 1, { eventTime: 3 });
  input.pipe('k', 1, { eventTime: 10 }); // W = 9: [0,10) fires
  assert.deepEqual(results(d), ['k@0=1']);
  input.pipe('k', 1, { eventTime: 4 }); // within lateness: updated result
  assert.deepEqual(results(d), ['k@0=2']);
  input.pipe('k', 1, { eventTime: 15 }); // W = 14 >= 10 − 1 + 5: [0,10) expired
  input.pipe('k', 1, { eventTime: 5 });
  assert.deepEqual(results(d), []);
  assert.equal(d.summary().lateRecords, 1);
});

test('releases of producers that count their tasks: the released task is no longer expected; a release of an application never seen changes nothing', () => {
  const d = new TopologyTestDriver(countsFromStream());
  d.inputStream<string, number>('in', { key: Serdes.string() });
  d.pipeWatermark('in', 50, { application: 'P', task: 'p0', tasks: 2 });
  d.pipeWatermark('in', 10, { application: 'P', task: 'p1', tasks: 2 });
  assert.equal(d.watermarks().get('0_0'), 10);
  d.pipeRaw([releaseRecord('in', 0, 'Q', 'q0')]);
  assert.equal(d.watermarks().get('0_0'), 10, 'nothing of Q was seen: nothing to release');
  d.pipeRaw([releaseRecord('in', 0, 'P', 'p1')]);
  assert.equal(d.watermarks().get('0_0'), 50, 'P/p1 released: P/p0 alone counts, and P/p1 is not expected again');
  d.pipeWatermark('in', 60, { application: 'P', task: 'p1', tasks: 2 });
  d.pipeWatermark('in', 90, { application: 'P', task: 'p0', tasks: 2 });
  assert.equal(d.watermarks().get('0_0'), 60, 'P/p1 wrote again: it counts again');
});

test('an announcement of a new run resets the idleness of the tasks it expects: a task announced later is waited for its full timeout', () => {
  const p = app(undefined, { '0_0': { watermark: 500 } });
  p.missingIdle = true;
  applyAnnouncement(p, 7, ['0_0', '0_1'], 3_600_000);
  assert.equal(p.missingIdle, false);
  assert.equal(p.expectedSince, 3_600_000);
  assert.equal(producersWatermark([p]), NO_WATERMARK, '0_1 is expected');
  applyAnnouncement(p, 7, ['0_0', '0_1'], 3_700_000);
  assert.equal(p.expectedSince, 3_600_000, 'the same generation again (another task of the run) does not restart it');
});
