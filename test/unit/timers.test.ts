/**
 * Timers (docs/watermarks.md, "Timers"): a processor's
 * event-time timers fire in (time, name) order once its event clock —
 * stream time, or its input watermark in watermark mode — reaches them,
 * after the record that moved the clock; a deleted timer never fires; a
 * timer registered in `onTimer` for a time already due fires in the same
 * pass. Processing-time timers fire by the (virtual) wall clock, each firing
 * audited as a nondeterministic decision. Registering a timer without an
 * `onTimer` hook throws, naming the processor. Timers are state: a run
 * stopped and restarted fires every timer exactly once, and writes what a
 * run that never stopped writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Application,
  EmbeddedLog,
  ProcessingError,
  Serdes,
  StreamsBuilder,
  Watermarks,
  fingerprintStream,
  keyValueStore,
  type AppendRecord,
  type Processor,
  type ProcessorContext,
  type Topology,
} from '../../src/index.ts';
import { partitionForKey } from '../../src/semantics.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { eventClockNow, isTimerDue } from '../../src/time/event-clock.ts';

/** What a test record asks the processor to do with its timers. */
interface Command {
  readonly register?: readonly (readonly [number, string])[];
  readonly delete?: readonly (readonly [number, string])[];
  readonly registerProcessing?: readonly (readonly [number, string])[];
  readonly deleteProcessing?: readonly (readonly [number, string])[];
}

/** What a firing writes: the timer, and the processor's clocks when it fired. */
interface Fired {
  readonly domain: string;
  readonly time: number;
  readonly name: string;
  readonly streamTime: number;
  readonly watermark: number;
}

/** Forwards a record for a timer that fired (there is no input record to forward). */
function forwardFired(ctx: ProcessorContext<string, Fired>, domain: string, time: number, name: string): void {
  const value: Fired = { domain, time, name, streamTime: ctx.streamTime, watermark: ctx.watermark };
  ctx.forward({ stream: '', partition: ctx.partition, offset: -1, key: name, value, headers: {}, eventTime: null, brokerTime: null, ingestTime: 0, timestamp: Math.max(0, time) });
}

/**
 * Registers and deletes the timers each record's value asks for; when the
 * timer `chain` fires it registers `chained` 20 ms later and `chained-due`
 * at its own time (due at once).
 */
const commanded = (): Processor<string, Command, string, Fired> => ({
  process(r, ctx) {
    for (const [t, n] of r.value.register ?? []) ctx.timers.registerEventTimeTimer(t, n);
    for (const [t, n] of r.value.delete ?? []) ctx.timers.deleteEventTimeTimer(t, n);
    for (const [t, n] of r.value.registerProcessing ?? []) ctx.timers.registerProcessingTimeTimer(t, n);
    for (const [t, n] of r.value.deleteProcessing ?? []) ctx.timers.deleteProcessingTimeTimer(t, n);
  },
  onTimer(timer, ctx) {
    forwardFired(ctx, timer.domain, timer.time, timer.name);
    if (timer.name === 'chain') {
      ctx.timers.registerEventTimeTimer(timer.time + 20, 'chained');
      ctx.timers.registerEventTimeTimer(timer.time, 'chained-due');
    }
  },
});

function commandedTopology(clock: 'stream-time' | 'watermark'): Topology {
  const b = clock === 'stream-time' ? new StreamsBuilder() : new StreamsBuilder({ eventClock: 'watermark' });
  b.stream<string, Command>('in', { key: Serdes.string(), ...(clock === 'watermark' ? { watermarks: Watermarks.boundedOutOfOrderness<string, Command>(10) } : {}) })
    .process(commanded, { key: Serdes.string() })
    .to('fired', { key: Serdes.string() });
  return b.build();
}

/** The timers fired since the last read, as `time name`. */
function firedSince(d: TopologyTestDriver): string[] {
  return d.readOutput<string, Fired>('fired', { key: Serdes.string() }).map((r) => `${r.value.time} ${r.value.name}`);
}

/** Every firing so far came once event time now had reached the timer's time. */
function assertFiredWhenDue(fired: readonly Fired[], clock: 'stream-time' | 'watermark'): void {
  for (const f of fired) assert.ok(isTimerDue(f.time, eventClockNow(clock, f.streamTime, f.watermark)), `${JSON.stringify(f)} fired before its time`);
}

const REGISTER: Command = {
  register: [
    [150, 'b'],
    [150, 'a'],
    [150, 'a'], // registered twice: still one timer
    [120, 'z'],
    [200, 'a'],
    [130, 'deleted'],
    [145, 'chain'],
  ],
};

test('event-time timers on stream time fire in time order, then name order, once stream time reaches them', () => {
  const d = new TopologyTestDriver(commandedTopology('stream-time'));
  const input = d.inputStream<string, Command>('in', { key: Serdes.string() });
  input.pipe('k', REGISTER, { eventTime: 100 });
  assert.deepEqual(firedSince(d), [], 'nothing is due at stream time 100');
  input.pipe('k', { delete: [[130, 'deleted']] }, { eventTime: 110 });
  input.pipe('k', {}, { eventTime: 119 });
  assert.deepEqual(firedSince(d), [], 'nothing is due at stream time 119');
  input.pipe('k', {}, { eventTime: 120 });
  assert.deepEqual(firedSince(d), ['120 z'], 'a timer fires when stream time reaches its time');
  // Out of order: stream time stays at 120.
  input.pipe('k', {}, { eventTime: 60 });
  assert.deepEqual(firedSince(d), []);
  // Stream time 150: everything up to 150, in (time, name) order; `chain` registers
  // `chained-due` at 145, due at once, which fires in the same pass, before 150.
  input.pipe('k', {}, { eventTime: 150 });
  assert.deepEqual(firedSince(d), ['145 chain', '145 chained-due', '150 a', '150 b']);
  input.pipe('k', {}, { eventTime: 164 });
  assert.deepEqual(firedSince(d), [], '`chained` at 165 is not due at 164');
  input.pipe('k', {}, { eventTime: 165 });
  assert.deepEqual(firedSince(d), ['165 chained']);
  input.pipe('k', {}, { eventTime: 1_000 });
  assert.deepEqual(firedSince(d), ['200 a'], 'the deleted timer (130) never fired');
  input.pipe('k', {}, { eventTime: 5_000 });
  assert.deepEqual(firedSince(d), [], 'each timer fires once');
  assertFiredWhenDue(allFired(d), 'stream-time');
  assert.deepEqual(d.audit().filter((a) => a.kind.startsWith('nondeterministic:')), [], 'event-time timers are deterministic');
});

test('event-time timers in watermark mode fire in time order, then name order, once event time now (W + 1) reaches them', () => {
  const d = new TopologyTestDriver(commandedTopology('watermark'));
  const input = d.inputStream<string, Command>('in', { key: Serdes.string() });
  // boundedOutOfOrderness(10): W = maxTs − 11, moved after each record's pass; event time now is W + 1.
  input.pipe('k', REGISTER, { eventTime: 100 });
  input.pipe('k', { delete: [[130, 'deleted']] }, { eventTime: 129 });
  assert.deepEqual(firedSince(d), [], 'nothing is due at W = 118, though stream time is past 120');
  input.pipe('k', {}, { eventTime: 130 });
  assert.deepEqual(firedSince(d), ['120 z'], 'a timer at t fires once W >= t − 1: no record before t can still come on time');
  // Behind the newest record, within the bound: the watermark stays at 119.
  input.pipe('k', {}, { eventTime: 125 });
  assert.deepEqual(firedSince(d), []);
  input.pipe('k', {}, { eventTime: 160 });
  assert.deepEqual(firedSince(d), ['145 chain', '145 chained-due', '150 a', '150 b']);
  input.pipe('k', {}, { eventTime: 174 });
  assert.deepEqual(firedSince(d), [], '`chained` at 165 is not due at W = 163');
  input.pipe('k', {}, { eventTime: 175 });
  assert.deepEqual(firedSince(d), ['165 chained']);
  input.pipe('k', {}, { eventTime: 1_000 });
  assert.deepEqual(firedSince(d), ['200 a'], 'the deleted timer (130) never fired');
  input.pipe('k', {}, { eventTime: 5_000 });
  assert.deepEqual(firedSince(d), [], 'each timer fires once');
  const all = allFired(d);
  assertFiredWhenDue(all, 'watermark');
  assert.deepEqual(
    all.map((f) => f.watermark),
    [119, 149, 149, 149, 149, 164, 989],
    'the watermark each timer fired at: the one the record after its time moved to',
  );
  assert.deepEqual(d.audit().filter((a) => a.kind.startsWith('nondeterministic:')), [], 'event-time timers are deterministic');
});

function allFired(d: TopologyTestDriver): Fired[] {
  return d.log.read('fired', 0, 0, Number.MAX_SAFE_INTEGER).filter((r) => r.control === undefined).map((r) => JSON.parse(new TextDecoder().decode(r.value!)) as Fired);
}

test('processing-time timers fire by the wall clock in real time, each firing audited as a nondeterministic decision', () => {
  const d = new TopologyTestDriver(commandedTopology('stream-time'), { mode: 'real-time', startTime: 1_000 });
  const input = d.inputStream<string, Command>('in', { key: Serdes.string() });
  input.pipe('k', { registerProcessing: [[1_500, 'p-late'], [1_200, 'p-b'], [1_200, 'p-a'], [1_300, 'p-deleted']], register: [[10, 'event']] }, { eventTime: 5 });
  input.pipe('k', { deleteProcessing: [[1_300, 'p-deleted']] }, { eventTime: 6 });
  assert.deepEqual(firedSince(d), [], 'nothing is due at wall-clock 1000');
  d.advanceWallClockTime(199);
  assert.deepEqual(firedSince(d), [], 'nothing is due at wall-clock 1199');
  d.advanceWallClockTime(1);
  assert.deepEqual(firedSince(d), ['1200 p-a', '1200 p-b'], 'due at wall-clock 1200, in name order');
  d.advanceWallClockTime(250);
  assert.deepEqual(firedSince(d), [], 'the deleted timer (1300) never fires');
  d.advanceWallClockTime(50);
  assert.deepEqual(firedSince(d), ['1500 p-late']);
  d.advanceWallClockTime(10_000);
  assert.deepEqual(firedSince(d), [], 'each fires once; the event-time timer at 10 waits for stream time, not the wall clock');
  input.pipe('k', {}, { eventTime: 10 });
  assert.deepEqual(firedSince(d), ['10 event']);
  const audited = d.audit().filter((a) => a.kind.startsWith('nondeterministic:'));
  assert.deepEqual(audited.map((a) => a.kind), ['nondeterministic:processing-time', 'nondeterministic:processing-time', 'nondeterministic:processing-time']);
  assert.match(audited[0]!.detail, /processing-time timer 1200 \(p-a\) fired at wall-clock 1200/);
  assert.match(audited[2]!.detail, /processing-time timer 1500 \(p-late\) fired at wall-clock 1500/);
  assert.equal(d.summary().nondeterministicDecisions, 3);
});

test('registering a timer without an onTimer hook throws a clear error naming the processor', () => {
  for (const domain of ['event-time', 'processing-time'] as const) {
    const b = new StreamsBuilder();
    b.stream<string, number>('in', { key: Serdes.string() })
      .process<string, number>(() => ({
        process(r, ctx) {
          if (domain === 'event-time') ctx.timers.registerEventTimeTimer(r.timestamp + 10);
          else ctx.timers.registerProcessingTimeTimer(r.timestamp + 10);
          ctx.forward(r);
        },
      }))
      .to('out');
    const d = new TopologyTestDriver(b.build());
    const input = d.inputStream<string, number>('in', { key: Serdes.string() });
    assert.throws(
      () => input.pipe('k', 1, { eventTime: 100 }),
      (e: unknown) => {
        assert.ok(e instanceof ProcessingError, `a ProcessingError, got ${String(e)}`);
        assert.match(e.message, new RegExp(`processor process-\\d+ registered an? ${domain} timer but has no onTimer\\(\\)`));
        assert.match(e.message, /stream in, partition 0, offset 0/);
        return true;
      },
    );
  }
});

// ---------------------------------------------------------------------------
// Restarts: timers are committed state
// ---------------------------------------------------------------------------

/** What the restart topology writes: every record it processes, and every timer that fires. */
type Written = { readonly kind: 'record'; readonly key: string; readonly ts: number } | { readonly kind: 'timer'; readonly name: string; readonly time: number; readonly clock: number };

/**
 * Per record, a timer of its own (`key@offset`, 20 ms after it) and an idle
 * timeout per key (`idle:key`, 50 ms after its newest record, re-armed by
 * each record: the old one is deleted). A firing of a record's timer at a
 * time divisible by 3 registers a follow-up 7 ms later (`…+`).
 */
function restartTopology(clock: 'stream-time' | 'watermark'): Topology {
  const b = clock === 'stream-time' ? new StreamsBuilder() : new StreamsBuilder({ eventClock: 'watermark', watermarkIntervalMs: 10 });
  b.addStateStore(keyValueStore('newest', { kind: 'lmdb', key: Serdes.string(), value: Serdes.json<number>() }));
  const timers = (): Processor<string, number, string, Written> => ({
    process(r, ctx) {
      const newest = ctx.getStore<string, number>('newest');
      const before = newest.get(r.key);
      if (before !== undefined) ctx.timers.deleteEventTimeTimer(before + 50, `idle:${r.key}`);
      const now = Math.max(before ?? r.timestamp, r.timestamp);
      newest.put(r.key, now);
      ctx.timers.registerEventTimeTimer(now + 50, `idle:${r.key}`);
      ctx.timers.registerEventTimeTimer(r.timestamp + 20, `${r.key}@${r.offset}`);
      ctx.forward({ ...r, value: { kind: 'record', key: r.key, ts: r.timestamp } });
    },
    onTimer(timer, ctx) {
      if (!timer.name.startsWith('idle:') && !timer.name.endsWith('+') && timer.time % 3 === 0) ctx.timers.registerEventTimeTimer(timer.time + 7, `${timer.name}+`);
      const value: Written = { kind: 'timer', name: timer.name, time: timer.time, clock: eventClockNow(clock, ctx.streamTime, ctx.watermark) };
      ctx.forward({ stream: '', partition: ctx.partition, offset: -1, key: timer.name.replace(/^idle:/, '').replace(/@.*$/, ''), value, headers: {}, eventTime: null, brokerTime: null, ingestTime: 0, timestamp: timer.time });
    },
  });
  b.stream<string, number>('in', { key: Serdes.string(), ...(clock === 'watermark' ? { watermarks: Watermarks.boundedOutOfOrderness<string, number>(5) } : {}) })
    .process(timers, { stores: ['newest'], key: Serdes.string() })
    .to('fired', { key: Serdes.string() });
  return b.build();
}

const PARTITIONS = 2;
const encoder = new TextEncoder();

/** 60 records of 6 keys, roughly in time order with some disorder, then (`tail`) one far-off record per key that makes every timer due. */
function restartInput(): { head: AppendRecord[]; tail: AppendRecord[] } {
  const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
  const record = (key: string, ts: number): AppendRecord => {
    const k = encoder.encode(key);
    return { stream: 'in', partition: partitionForKey(k, PARTITIONS), key: k, value: encoder.encode(String(ts)), headers: {}, eventTime: ts };
  };
  let seed = 7;
  const rnd = (n: number): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
  const head = Array.from({ length: 60 }, (_, i) => record(keys[rnd(keys.length)]!, Math.max(0, i * 3 + rnd(9) - 4)));
  return { head, tail: keys.map((k) => record(k, 100_000)) };
}

/** One catch-up run on `dir`, with its own log instance, as a new process would. */
async function runTimers(dir: string, clock: 'stream-time' | 'watermark', maxRecords?: number): Promise<number> {
  const log = await EmbeddedLog.open({ dataDir: dir });
  try {
    const app = new Application(restartTopology(clock), { applicationId: 'timers', log });
    const summary = await app.run({ mode: 'catch-up', ...(maxRecords === undefined ? {} : { maxRecords }), commitIntervalMs: 1 });
    return summary.processed;
  } finally {
    await log.close();
  }
}

async function append(dir: string, records: readonly AppendRecord[]): Promise<void> {
  const log = await EmbeddedLog.open({ dataDir: dir });
  try {
    log.ensureStream('in', PARTITIONS);
    await log.append(records);
  } finally {
    await log.close();
  }
}

/** What `dir` holds of the output: per partition the written records in order, and the data and watermark fingerprints. */
async function written(dir: string): Promise<{ partitions: Written[][]; fingerprints: string[] }> {
  const log = await EmbeddedLog.open({ dataDir: dir });
  try {
    const partitions = Array.from({ length: log.partitionCount('fired') ?? 0 }, (_, p) =>
      log.read('fired', p, 0, Number.MAX_SAFE_INTEGER).filter((r) => r.control === undefined).map((r) => JSON.parse(new TextDecoder().decode(r.value!)) as Written),
    );
    return { partitions, fingerprints: [fingerprintStream(log, 'fired'), fingerprintStream(log, 'fired', 'watermarks')] };
  } finally {
    await log.close();
  }
}

const firedNames = (w: { partitions: Written[][] }): string[] => w.partitions.flat().flatMap((r) => (r.kind === 'timer' ? [r.name] : []));

for (const clock of ['stream-time', 'watermark'] as const) {
  test(`timers survive stops and restarts exactly once (${clock}): the same output as a run that never stopped`, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'tidemark-timers-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const { head, tail } = restartInput();

    const referenceDir = join(root, 'reference');
    await append(referenceDir, [...head, ...tail]);
    assert.equal(await runTimers(referenceDir, clock), head.length + tail.length);
    const reference = await written(referenceDir);
    const names = firedNames(reference);
    // Every head record's own timer fired, once (the tail's, 20 ms after the newest time, are not due);
    // every name fired at most once (idle timeouts are re-armed, follow-ups registered once).
    assert.equal(new Set(names).size, names.length, 'a timer fired twice in the reference');
    assert.equal(names.filter((n) => n.includes('@') && !n.endsWith('+')).length, head.length);
    assert.ok(names.some((n) => n.endsWith('+')) && names.some((n) => n.startsWith('idle:')), 'follow-ups and idle timeouts fired');
    for (const r of reference.partitions.flat()) if (r.kind === 'timer') assert.ok(isTimerDue(r.time, r.clock), `${r.name} fired at event time ${r.clock}, before its time ${r.time}`);

    // Stopped after k records (k1, then k2 more), then run to the end; or run through the head, then the tail appended and run.
    let pendingAcrossStops = 0;
    const scenarios: { name: string; stops: number[]; tailLater: boolean }[] = [
      ...[[1], [7], [23, 11], [45], [13, 13, 13, 13]].map((stops) => ({ name: `stops after ${stops.join(', ')} records`, stops, tailLater: false })),
      { name: 'head, then the tail appended', stops: [], tailLater: true },
      { name: 'stop after 30 records, head, then the tail appended', stops: [30], tailLater: true },
    ];
    for (const s of scenarios) {
      const dir = join(root, s.name.replace(/[^a-z0-9]+/g, '-'));
      await append(dir, s.tailLater ? head : [...head, ...tail]);
      let processed = 0;
      for (const k of s.stops) {
        const before = firedNames(await written(dir)).length;
        assert.equal(await runTimers(dir, clock, k), k, `${s.name}: the run stops after ${k} records`);
        processed += k;
        const after = await written(dir);
        // Records processed so far whose own timers have not fired yet: they wait, in the committed state, for a later run.
        const seen = after.partitions.flat().filter((r) => r.kind === 'record').length;
        pendingAcrossStops += seen - firedNames(after).filter((n) => n.includes('@') && !n.endsWith('+')).length;
        assert.ok(firedNames(after).length >= before);
      }
      processed += await runTimers(dir, clock);
      if (s.tailLater) {
        await append(dir, tail);
        processed += await runTimers(dir, clock);
      }
      assert.equal(processed, head.length + tail.length, `${s.name}: every record processed once`);
      const got = await written(dir);
      assert.deepEqual(got.partitions, reference.partitions, `${s.name}: output (records and timers, in order) differs from the uninterrupted run`);
      assert.deepEqual(got.fingerprints, reference.fingerprints, `${s.name}: data and watermark fingerprints`);
    }
    assert.ok(pendingAcrossStops > 0, 'some timers were pending across a stop');
  });
}
