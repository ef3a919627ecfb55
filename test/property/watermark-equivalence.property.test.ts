/**
 * The equivalence of the two event clocks (docs/watermarks.md, "Choosing the clock"): stream time
 * with grace G and a watermark `maxTs − G − 1` close windows at the same
 * point. For every window kind (tumbling, hopping, sliding, session) and
 * both emissions (updates, final), the same random input goes through
 *   (a) a stream-time topology whose windows have grace G, and
 *   (b) a watermark-mode topology whose source has
 *       `Watermarks.boundedOutOfOrderness(G)` and whose windows have grace 0
 *       (allowed lateness 0: a window fires and closes at `W >= end − 1`),
 * and the two must write the same results (key, value, timestamp, and order
 * per output partition and writing task), the same late records to the
 * side output, and count and audit the same late records and late windows
 * at the same positions.
 *
 * One input partition per task. Stream time is per task (the max over all
 * of its input partitions) while a watermark is the min over the task's
 * partitions of each partition's own generator, so the two clocks coincide
 * only where a task reads a single partition. Here there is one source
 * stream of 1–3 partitions, aggregated with `groupByKey` (no repartition):
 * each task reads exactly one partition, whatever the partition count. The
 * records are spread over the partitions by key or at random (then a key's
 * windows come from several tasks, compared per writing task), and piped in
 * a random interleaving of the partitions (each partition's order kept), in
 * random batches, each processed by the TopologyTestDriver before the next.
 *
 * Each record's value is a unique id and the aggregate is the sorted list of
 * ids, so a result names exactly the records of its window.
 *
 * A second set of properties takes an allowed lateness L > 0 (see below):
 * the watermark then closes a window where stream time with grace G + L
 * does, and fires it earlier, at `W >= end − 1`.
 *
 * Case counts. `TIDEMARK_PROPERTY_RUNS` is a multiplier (default 1) of the
 * base count of 50 runs for each of the 8 kind × emission combinations, in
 * each of the two sets: 800 cases (about 1,800 topology runs), 5–10 s.
 * Replay a failure with
 * `TIDEMARK_PROPERTY_SEED=<seed> TIDEMARK_PROPERTY_PATH=<path>` (with
 * `--test-name-pattern` for the one property); `TIDEMARK_PROPERTY_NO_SHRINK=1`
 * reports the first failure unshrunk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import type { KStream } from '../../src/dsl/kstream.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes, type Serde } from '../../src/records/serde.ts';
import { Watermarks } from '../../src/time/watermark.ts';
import { TimeWindows } from '../../src/windows/time-windows.ts';
import { SlidingWindows } from '../../src/windows/sliding-windows.ts';
import { SessionWindows } from '../../src/windows/session-windows.ts';
import type { Windowed } from '../../src/windows/window.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { PRODUCER_HEADER } from '../../src/runtime/headers.ts';
import { parseProducerId, taskIdOf } from '../../src/runtime/ids.ts';
import { partitionForKey } from '../../src/runtime/partitioner.ts';
import type { RefWindows } from '../fixtures/window-reference.ts';

const RUNS = propertyRuns(50);
const params = <T>(): fc.Parameters<T> => propertyParams<T>(RUNS);

type Kind = 'tumbling' | 'hopping' | 'sliding' | 'session';
type Mode = 'updates' | 'final';

interface Case {
  /** The windows, with `grace` = G: the stream-time grace and the watermark's out-of-orderness bound. */
  readonly windows: RefWindows;
  readonly partitions: 1 | 2 | 3;
  readonly partitioning: 'key' | 'random';
  readonly keySerde: 'json' | 'string';
  readonly store: StoreKind;
  readonly late: 'drop' | 'side';
  readonly retentionMs: number;
  /** Watermark mode: how often watermark records are written (they must not change the data). */
  readonly watermarkIntervalMs: number;
  /** Per record, in its partition's order: key, timestamp, and what picks its partition under random partitioning. */
  readonly records: readonly { readonly key: string; readonly timestamp: number; readonly spread: number }[];
  /** Arrival: one rank per record (reused cyclically) interleaving the partitions, and the sizes of the piped batches. */
  readonly order: readonly number[];
  readonly batches: readonly number[];
}

const graceArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 12 }));

function windowsArb(kind: Kind): fc.Arbitrary<RefWindows> {
  switch (kind) {
    case 'tumbling':
      return fc.record({ size: fc.integer({ min: 1, max: 12 }), offset: fc.integer({ min: -15, max: 15 }), grace: graceArb }).map((w) => ({ kind: 'time' as const, size: w.size, advance: w.size, offset: w.offset, grace: w.grace }));
    case 'hopping':
      return fc
        .record({ size: fc.integer({ min: 2, max: 12 }), advance: fc.integer({ min: 1, max: 11 }), offset: fc.integer({ min: -15, max: 15 }), grace: graceArb })
        .map((w) => ({ kind: 'time' as const, size: w.size, advance: Math.min(w.advance, w.size - 1), offset: w.offset, grace: w.grace }));
    case 'sliding':
      return fc.record({ timeDifference: fc.integer({ min: 0, max: 8 }), grace: graceArb }).map((w) => ({ kind: 'sliding' as const, ...w }));
    case 'session':
      return fc.record({ gap: fc.integer({ min: 1, max: 8 }), grace: graceArb }).map((w) => ({ kind: 'session' as const, ...w }));
  }
}

/**
 * Timestamps: a clock that moves on by 0–6 (ties), each record lagging it by
 * 0 (in order) or up to 25 (out of order: within G, or late), never below 0.
 */
const recordsArb = (keys: readonly string[]) => {
  const record = fc.record({
    key: fc.constantFrom(...keys),
    step: fc.integer({ min: 0, max: 6 }),
    lag: fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.integer({ min: 0, max: 25 }), weight: 1 }),
    spread: fc.nat({ max: 99 }),
  });
  return fc.oneof(fc.array(record, { minLength: 1, maxLength: 12 }), fc.array(record, { minLength: 12, maxLength: 80, size: 'max' })).map((rs) => {
    let clock = 0;
    return rs.map((r) => {
      clock += r.step;
      return { key: r.key, timestamp: Math.max(0, clock - r.lag), spread: r.spread };
    });
  });
};

function caseArb(kind: Kind): fc.Arbitrary<Case> {
  return fc
    .record({
      windows: windowsArb(kind),
      partitions: fc.constantFrom(1 as const, 2 as const, 3 as const),
      partitioning: fc.constantFrom('key' as const, 'random' as const),
      keySerde: fc.constantFrom('json' as const, 'string' as const),
      store: fc.constantFrom<StoreKind>('lmdb', 'in-memory'),
      late: fc.constantFrom('drop' as const, 'side' as const),
      retentionMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })),
      watermarkIntervalMs: fc.integer({ min: 1, max: 20 }),
      keyCount: fc.integer({ min: 1, max: 4 }),
      order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }),
      batches: fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 10 }),
    })
    .chain(({ keyCount, ...c }) => recordsArb(['a', 'ab', 'b', 'c'].slice(0, keyCount)).map((records) => ({ ...c, records })));
}

const insertSorted = (list: readonly number[], id: number): number[] => [...list, id].sort((a, b) => a - b);
const union = (a: readonly number[], b: readonly number[]): number[] => [...a, ...b].sort((x, y) => x - y);

interface Out {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly value: number[] | null;
  readonly timestamp: number;
}

/** What a run wrote and counted, comparable across the two clocks. */
interface Observed {
  /** Results by `partition producer`, each writer's in offset order. */
  readonly results: Record<string, Out[]>;
  /** Late records on the side output, by `partition producer`. */
  readonly side: Record<string, { key: string; value: number; timestamp: number }[]>;
  /** Audited late records and late windows: kind and position (the detail names the clock, so it differs). */
  readonly late: string[];
  readonly lateRecords: number;
  readonly lateWindows: number;
  readonly processed: number;
  /**
   * Per task that read records: stream time − G − 1 (a), the task's
   * watermark (b): the clocks themselves agree, W = maxTs − G − 1.
   */
  readonly clocks: Record<string, number>;
}

function byWriter<T>(records: readonly { partition: number; headers: Readonly<Record<string, string>> }[], map: (i: number) => T): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  records.forEach((r, i) => (out[`${r.partition} ${r.headers[PRODUCER_HEADER] ?? ''}`] ??= []).push(map(i)));
  return out;
}

/** The case's input laid out per partition, in each partition's order, then interleaved in arrival order. */
function arrivals(c: Case, keySerde: Serde<string>): { partition: number; key: Uint8Array | null; id: number; timestamp: number }[] {
  const laid = c.records.map((r, id) => {
    const key = keySerde.serialize(r.key);
    const partition = c.partitioning === 'key' ? partitionForKey(key!, c.partitions) : r.spread % c.partitions;
    return { partition, key, id, timestamp: r.timestamp, rank: c.order[id % c.order.length]! };
  });
  // A random interleaving of the partitions, each keeping its records in order: the k-th slot
  // (by rank) of partition p takes partition p's k-th record.
  const byPartition = new Map<number, typeof laid>();
  for (const r of laid) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
  const slots = [...laid].sort((a, b) => a.rank - b.rank || a.id - b.id);
  const next = new Map<number, number>();
  return slots.map(({ partition }) => {
    const k = next.get(partition) ?? 0;
    next.set(partition, k + 1);
    return byPartition.get(partition)![k]!;
  });
}

/**
 * Runs the case on one clock: stream time with grace G + L, or watermarks
 * `boundedOutOfOrderness(G)` with allowed lateness L (default 0).
 */
function run(c: Case, mode: Mode, clock: 'stream-time' | 'watermark', tally?: Tally, L = 0): Observed {
  const keySerde: Serde<string> = c.keySerde === 'json' ? Serdes.json<string>() : Serdes.string();
  const w = c.windows;
  const G = w.grace;
  const b = clock === 'stream-time' ? new StreamsBuilder() : new StreamsBuilder({ eventClock: 'watermark', watermarkIntervalMs: c.watermarkIntervalMs });
  const s: KStream<string, number> = b.stream<string, number>('in', {
    key: keySerde,
    value: Serdes.json<number>(),
    ...(clock === 'watermark' ? { watermarks: Watermarks.boundedOutOfOrderness<string, number>(G) } : {}),
  });
  const g = s.groupByKey();
  // (a) grace G (+ L) on stream time; (b) allowed lateness 0 (or L) on a watermark G behind.
  const lateness = clock === 'stream-time' ? G + L : L;
  const options = { emit: mode, store: c.store, late: c.late === 'drop' ? ('drop' as const) : { sideOutput: 'late' }, retentionMs: c.retentionMs };
  let out: KStream<Windowed<string>, number[]>;
  if (w.kind === 'session') {
    out = g.windowedBy(SessionWindows.ofInactivityGap(w.gap).grace(lateness)).aggregate<number[]>(() => [], (_k, v, agg) => insertSorted(agg, v), (_k, x, y) => union(x, y), options);
  } else {
    const windows = w.kind === 'time' ? TimeWindows.ofSize(w.size).advanceBy(w.advance).withOffset(w.offset).grace(lateness) : SlidingWindows.ofTimeDifference(w.timeDifference).grace(lateness);
    out = g.windowedBy(windows).aggregate<number[]>(() => [], (_k, v, agg) => insertSorted(agg, v), options);
  }
  out.to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream('in', { partitions: c.partitions });
  const json = Serdes.json<number>();
  const input = arrivals(c, keySerde).map((r) => ({ stream: 'in', partition: r.partition, key: r.key, value: json.serialize(r.id), headers: {}, eventTime: r.timestamp }));
  for (let i = 0, k = 0; i < input.length; k++) {
    const size = c.batches[k % c.batches.length]!;
    d.pipeRaw(input.slice(i, i + size));
    i += size;
  }
  const raw = d.readOutput<Windowed<string>, number[] | null>('out');
  const sideRaw = c.late === 'side' ? d.readOutput<string, number>('late', { key: keySerde, value: json }) : [];
  const summary = d.summary();
  if (tally !== undefined) tally.watermarkRecords += d.readWatermarks('out').length;
  const clocks: Record<string, number> = {};
  const times = clock === 'stream-time' ? d.streamTimes() : d.watermarks();
  for (const p of new Set(input.map((r) => r.partition))) clocks[taskIdOf(0, p)] = (times.get(taskIdOf(0, p)) as number) - (clock === 'stream-time' ? G + 1 : 0);
  return {
    results: byWriter(raw, (i) => ({ key: raw[i]!.key.key, start: raw[i]!.key.start, end: raw[i]!.key.end, value: raw[i]!.value, timestamp: raw[i]!.timestamp })),
    side: byWriter(sideRaw, (i) => ({ key: sideRaw[i]!.key, value: sideRaw[i]!.value, timestamp: sideRaw[i]!.timestamp })),
    late: d
      .audit()
      .filter((a) => a.kind === 'late-record' || a.kind === 'late-window')
      .map((a) => `${a.kind} ${a.taskId} ${a.stream}/${a.partition}@${a.offset}`)
      .sort(),
    lateRecords: summary.lateRecords,
    lateWindows: summary.lateWindows,
    processed: summary.processed,
    clocks,
  };
}

/** What the properties ran through, so that a vacuous pass shows. */
class Tally {
  cases = 0;
  results = 0;
  tombstones = 0;
  lateRecords = 0;
  lateWindows = 0;
  multiWriter = 0;
  watermarkRecords = 0;
  add(o: Observed): void {
    this.cases++;
    const all = Object.values(o.results).flat();
    this.results += all.length;
    this.tombstones += all.filter((r) => r.value === null).length;
    this.lateRecords += o.lateRecords;
    this.lateWindows += o.lateWindows;
    const partitions = Object.keys(o.results).map((k) => k.split(' ')[0]);
    if (new Set(partitions).size < partitions.length) this.multiWriter++;
  }
  toString(): string {
    return `${this.cases} cases: ${this.results} results (${this.tombstones} tombstones), ${this.lateRecords} late records, ${this.lateWindows} late windows, ${this.multiWriter} cases with several writers of one output partition, ${this.watermarkRecords} watermark records written`;
  }
}

for (const kind of ['tumbling', 'hopping', 'sliding', 'session'] as const) {
  for (const mode of ['updates', 'final'] as const) {
    test(`${kind} windows, ${mode}: stream time with grace G and boundedOutOfOrderness(G) watermarks with allowed lateness 0 agree`, (t) => {
      const tally = new Tally();
      fc.assert(
        fc.property(caseArb(kind), (c) => {
          const streamTime = run(c, mode, 'stream-time');
          const watermark = run(c, mode, 'watermark', tally);
          assert.equal(streamTime.processed, c.records.length);
          assert.deepEqual(watermark, streamTime);
          tally.add(streamTime);
        }),
        params(),
      );
      t.diagnostic(tally.toString());
      // Not vacuous: results, and late records or windows, came out over the cases.
      assert.ok(tally.results > 0 && tally.lateRecords + tally.lateWindows > 0, tally.toString());
    });
  }
}

/**
 * With an allowed lateness L > 0 the watermark clock keeps a fired window
 * open until `W >= end − 1 + L`, that is `maxTs >= end + G + L`: where
 * stream time with grace G + L closes it. So
 *   - `updates` output, late records and late windows are the same as
 *     stream time's with grace G + L;
 *   - `final` results differ — the watermark fires a window at
 *     `maxTs >= end + G` and re-fires it, corrected, for each record within
 *     the lateness (sessions: retracting what a record extends or merges) —
 *     but read as a table (each result replaces its window's; a tombstone
 *     deletes it), restricted to the windows closed by the end of the input,
 *     they are exactly stream time's final results with grace G + L; on
 *     all the windows fired by the end (`W >= end − 1`), they are stream
 *     time's `updates` with grace G + L read as a table; and late records
 *     and late windows are the same.
 */
const lateness = fc.integer({ min: 1, max: 12 });

/** Results applied in order as a table per writer: `writer key start end` → value; tombstones delete. */
function table(results: Observed['results'], keep: (writer: string, r: Out) => boolean): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [writer, list] of Object.entries(results)) {
    for (const r of list) {
      const k = `${writer} ${r.key} [${r.start}, ${r.end}]`;
      if (r.value === null) delete out[k];
      else if (keep(writer, r)) out[k] = r.value;
    }
  }
  return out;
}

for (const kind of ['tumbling', 'hopping', 'sliding', 'session'] as const) {
  for (const mode of ['updates', 'final'] as const) {
    test(`${kind} windows, ${mode}: boundedOutOfOrderness(G) watermarks with allowed lateness L agree with stream time with grace G + L`, (t) => {
      const tally = new Tally();
      let refired = 0;
      fc.assert(
        fc.property(caseArb(kind), lateness, (c, L) => {
          const streamTime = run(c, mode, 'stream-time', undefined, L);
          const watermark = run(c, mode, 'watermark', tally, L);
          tally.add(watermark);
          if (mode === 'updates') return assert.deepEqual(watermark, streamTime);
          const { results: wr, ...wRest } = watermark;
          const { results: sr, ...sRest } = streamTime;
          assert.deepEqual(wRest, sRest);
          // A window fires once W + 1 >= its closing end (sessions: lastTs + gap + 1), and closes L later;
          // W is the watermark of the task that wrote the result.
          const w = c.windows;
          const since = (writer: string, r: Out): number => watermark.clocks[parseProducerId(writer).task]! + 1 - (w.kind === 'session' ? r.end + w.gap + 1 : r.end);
          const closed = (writer: string, r: Out): boolean => since(writer, r) >= L;
          const fired = (writer: string, r: Out): boolean => since(writer, r) >= 0;
          assert.deepEqual(table(wr, closed), table(sr, () => true));
          // Stream time emits each window once, when it closes.
          assert.equal(Object.values(sr).flat().length, Object.keys(table(sr, () => true)).length);
          // And every window that fired (W >= its closing end − 1) did, with its current contents:
          // stream time's `updates` table with grace G + L, on the windows fired.
          assert.deepEqual(table(wr, () => true), table(run(c, 'updates', 'stream-time', undefined, L).results, fired));
          refired += Object.values(wr).flat().length - Object.keys(table(wr, () => true)).length;
        }),
        params(),
      );
      t.diagnostic(`${tally}${mode === 'final' ? `; ${refired} re-fired results and tombstones` : ''}`);
      assert.ok(tally.results > 0 && tally.lateRecords + tally.lateWindows > 0, tally.toString());
      if (mode === 'final') assert.ok(refired > 0, 'no window was re-fired within the allowed lateness');
    });
  }
}
