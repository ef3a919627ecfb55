/**
 * Windowed aggregations against an independent brute-force reference
 * (`fixtures/window-reference.ts`; docs/windows.md): for random window
 * definitions (sizes, advances, offsets, time differences, gaps, grace),
 * random out-of-order inputs (small key sets, timestamp ties and disorder,
 * one or two source streams merged in one task), both store kinds, both
 * late policies and random retention, the topology run by the
 * TopologyTestDriver must give exactly the reference's results in the same
 * order (updates or final), the same late records (audit, counter and side
 * output) and the same late windows.
 *
 * Each record's value is a unique id and the aggregate is the sorted list of
 * ids, so a result names exactly the records of its window.
 *
 * Case counts. `TIDEMARK_PROPERTY_RUNS` is a multiplier (default 1) of the
 * base count of 100 runs for each of the 8 kind × emission combinations
 * (tumbling, hopping, sliding, session × updates, final): 800 cases, about
 * 4–8 s. `TIDEMARK_PROPERTY_RUNS=5` runs 4000 (about 20 s).
 * Replay a failure with `TIDEMARK_PROPERTY_SEED=<seed> TIDEMARK_PROPERTY_PATH=<path>`
 * (with `--test-name-pattern` for the one property);
 * `TIDEMARK_PROPERTY_NO_SHRINK=1` reports the first failure unshrunk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import type { KStream } from '../../src/dsl/kstream.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes, type Serde } from '../../src/records/serde.ts';
import { TimeWindows } from '../../src/windows/time-windows.ts';
import { SlidingWindows } from '../../src/windows/sliding-windows.ts';
import { SessionWindows } from '../../src/windows/session-windows.ts';
import type { Windowed } from '../../src/windows/window.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { referenceRun, type RefRecord, type RefWindows } from '../fixtures/window-reference.ts';

const RUNS = propertyRuns(100);
const params = <T>(): fc.Parameters<T> => propertyParams<T>(RUNS);

type Kind = 'tumbling' | 'hopping' | 'sliding' | 'session';
type Mode = 'updates' | 'final';

interface Case {
  readonly windows: RefWindows;
  readonly sources: 1 | 2;
  /** `json`: keys are JSON strings; `string`: raw UTF-8, where one key can be a prefix of another. */
  readonly keySerde: 'json' | 'string';
  readonly store: StoreKind;
  readonly late: 'drop' | 'side';
  readonly retentionMs: number;
  /** Per record, in append order: key, timestamp, source. */
  readonly records: readonly { readonly key: string; readonly timestamp: number; readonly source: number }[];
}

const grace = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 }));

function windowsArb(kind: Kind): fc.Arbitrary<RefWindows> {
  switch (kind) {
    case 'tumbling':
      return fc.record({ size: fc.integer({ min: 1, max: 12 }), offset: fc.integer({ min: -15, max: 15 }), grace }).map((w) => ({ kind: 'time' as const, size: w.size, advance: w.size, offset: w.offset, grace: w.grace }));
    case 'hopping':
      return fc
        .record({ size: fc.integer({ min: 2, max: 12 }), advance: fc.integer({ min: 1, max: 11 }), offset: fc.integer({ min: -15, max: 15 }), grace })
        .map((w) => ({ kind: 'time' as const, size: w.size, advance: Math.min(w.advance, w.size - 1), offset: w.offset, grace: w.grace }));
    case 'sliding':
      return fc.record({ timeDifference: fc.integer({ min: 0, max: 8 }), grace }).map((w) => ({ kind: 'sliding' as const, ...w }));
    case 'session':
      return fc.record({ gap: fc.integer({ min: 1, max: 8 }), grace }).map((w) => ({ kind: 'session' as const, ...w }));
  }
}

/**
 * Timestamps: a clock that moves on by 0–6 (ties), each record lagging it by
 * 0 (in order) or up to 25 (out of order, often late), never below 0.
 */
const recordsArb = (keys: readonly string[], sources: number) => {
  const record = fc.record({
    key: fc.constantFrom(...keys),
    step: fc.integer({ min: 0, max: 6 }),
    lag: fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.integer({ min: 0, max: 25 }), weight: 1 }),
    source: fc.integer({ min: 0, max: sources - 1 }),
  });
  // Half short inputs (easy to read when shrunk), half long ones (windows with many records, long sessions).
  return fc.oneof(fc.array(record, { minLength: 1, maxLength: 12 }), fc.array(record, { minLength: 12, maxLength: 60, size: 'max' })).map((rs) => {
    let clock = 0;
    return rs.map((r) => {
      clock += r.step;
      return { key: r.key, timestamp: Math.max(0, clock - r.lag), source: r.source };
    });
  });
};

function caseArb(kind: Kind): fc.Arbitrary<Case> {
  return fc
    .record({
      windows: windowsArb(kind),
      sources: fc.constantFrom(1 as const, 2 as const),
      keySerde: fc.constantFrom('json' as const, 'string' as const),
      store: fc.constantFrom<StoreKind>('lmdb', 'in-memory'),
      late: fc.constantFrom('drop' as const, 'side' as const),
      retentionMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })),
      keyCount: fc.integer({ min: 1, max: 3 }),
    })
    .chain((c) => recordsArb(['a', 'ab', 'b'].slice(0, c.keyCount), c.sources).map((records) => ({ ...c, records })));
}

const insertSorted = (list: readonly number[], id: number): number[] => [...list, id].sort((a, b) => a - b);
const union = (a: readonly number[], b: readonly number[]): number[] => [...a, ...b].sort((x, y) => x - y);

interface Observed {
  readonly results: { key: string; start: number; end: number; value: number[] | null; timestamp: number }[];
  readonly late: { kind: string; source: number; offset: number }[];
  readonly lateRecords: number;
  readonly lateWindows: number;
  readonly side: { key: string; value: number; timestamp: number }[];
}

function runTopology(c: Case, mode: Mode): Observed {
  const keySerde: Serde<string> = c.keySerde === 'json' ? Serdes.json<string>() : Serdes.string();
  const b = new StreamsBuilder();
  let s: KStream<string, number> = b.stream<string, number>('in0', { key: keySerde, value: Serdes.json<number>() });
  if (c.sources === 2) s = s.merge(b.stream<string, number>('in1', { key: keySerde, value: Serdes.json<number>() }));
  const g = s.groupByKey();
  const options = { emit: mode, store: c.store, late: c.late === 'drop' ? ('drop' as const) : { sideOutput: 'late' }, retentionMs: c.retentionMs };
  const w = c.windows;
  let out: KStream<Windowed<string>, number[]>;
  if (w.kind === 'session') {
    out = g.windowedBy(SessionWindows.ofInactivityGap(w.gap).grace(w.grace)).aggregate<number[]>(() => [], (_k, v, agg) => insertSorted(agg, v), (_k, a, bb) => union(a, bb), options);
  } else {
    const windows = w.kind === 'time' ? TimeWindows.ofSize(w.size).advanceBy(w.advance).withOffset(w.offset).grace(w.grace) : SlidingWindows.ofTimeDifference(w.timeDifference).grace(w.grace);
    out = g.windowedBy(windows).aggregate<number[]>(() => [], (_k, v, agg) => insertSorted(agg, v), options);
  }
  out.to('out');
  const d = new TopologyTestDriver(b.build());
  for (let i = 0; i < c.sources; i++) d.inputStream(`in${i}`, { partitions: 1 });
  const json = Serdes.json<number>();
  d.pipeRaw(c.records.map((r, id) => ({ stream: `in${r.source}`, partition: 0, key: keySerde.serialize(r.key), value: json.serialize(id), headers: {}, eventTime: r.timestamp })));
  const results = d.readOutput<Windowed<string>, number[] | null>('out').map((r) => ({ key: r.key.key, start: r.key.start, end: r.key.end, value: r.value, timestamp: r.timestamp }));
  const late = d
    .audit()
    .filter((a) => a.kind === 'late-record' || a.kind === 'late-window')
    .map((a) => ({ kind: a.kind, source: Number(a.stream.slice(2)), offset: a.offset }));
  const summary = d.summary();
  const side = c.late === 'side' ? d.readOutput<string, number>('late', { key: keySerde, value: json }).map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp })) : [];
  return { results, late, lateRecords: summary.lateRecords, lateWindows: summary.lateWindows, side };
}

function expected(c: Case, mode: Mode): Observed {
  const offsets = [0, 0];
  const records: RefRecord[] = c.records.map((r, id) => ({ key: r.key, value: id, timestamp: r.timestamp, source: r.source, partition: 0, offset: offsets[r.source]!++ }));
  const encoder = new TextEncoder();
  const keyBytes = (k: string): Uint8Array => encoder.encode(c.keySerde === 'json' ? JSON.stringify(k) : k);
  const ref = referenceRun(c.windows, records, keyBytes);
  const lateRecords = ref.late.filter((l) => l.kind === 'late-record').map((l) => l.record);
  return {
    results: (mode === 'updates' ? ref.updates : ref.final).map((o) => ({ key: o.key, start: o.start, end: o.end, value: o.value, timestamp: o.timestamp })),
    late: ref.late.map((l) => ({ kind: l.kind, source: l.record.source, offset: l.record.offset })),
    lateRecords: lateRecords.length,
    lateWindows: ref.late.length - lateRecords.length,
    side: c.late === 'side' ? lateRecords.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp })) : [],
  };
}

for (const kind of ['tumbling', 'hopping', 'sliding', 'session'] as const) {
  for (const mode of ['updates', 'final'] as const) {
    test(`${kind} windows, ${mode}: the topology agrees with the brute-force reference`, () => {
      fc.assert(
        fc.property(caseArb(kind), (c) => {
          assert.deepEqual(runTopology(c, mode), expected(c, mode));
        }),
        params(),
      );
    });
  }
}
