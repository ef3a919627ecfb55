/**
 * Table–table joins against a brute-force reference written here, for
 * random inputs of both tables — a few keys (one a prefix of another),
 * tombstones, out-of-order timestamps, one to three co-partitioned
 * partitions laid out by key or at random — every join kind, both store
 * kinds, a random chain of `filter` and `mapValues` below each side, and
 * either side plain or versioned (with a history long enough that nothing
 * is late), a joiner that sometimes returns null:
 *
 * The reference replays each task's records (both streams' partition of
 * the task) in scheduled order with two plain `Map`s — the latest row of
 * each key per side: a plain table's last update in that order, a
 * versioned table's latest by timestamp (an update older than the key's
 * latest version, a delete included, changes nothing) — and after each
 * record recomputes the joined value at the record's key from scratch:
 * each side's row through its chain, then `tableJoinValue`. When the
 * record changed its side's row below the chain visibly (a change reaches
 * the join only then), it expects a row `[key, new value or null,
 * timestamp]` whenever the joined value before and after is not absent
 * both times (`isVisibleChange`), with
 * `tableJoinTimestamp(record's timestamp, the other side's row's)`. The
 * run must write exactly that changelog (per writing task and output
 * partition, in order), and the joined table it commits must be the join
 * of the two final maps, each row with the timestamp of its last change.
 * No store, no incremental state.
 *
 * Case counts: `TIDEMARK_PROPERTY_RUNS` multiplies the base count of 200;
 * replay a failure with `TIDEMARK_PROPERTY_SEED=<seed> TIDEMARK_PROPERTY_PATH=<path>`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import type { KTable } from '../../src/dsl/ktable.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { partitionForKey } from '../../src/runtime/partitioner.ts';
import { PRODUCER_HEADER } from '../../src/runtime/headers.ts';
import { taskIdOf } from '../../src/runtime/ids.ts';
import { compareBytes, schedulerOrder } from '../fixtures/window-reference.ts';
import { applyOp, type TableOp } from '../fixtures/table-reference.ts';
import { isVisibleChange } from '../../src/tables/change.ts';
import { tableJoinTimestamp, tableJoinValue, type TableJoinKind } from '../../src/joins/table-table.ts';

const RUNS = propertyRuns(200);
const APP = 'table-joins';
/** Longer than any timestamp: a versioned side's horizon stays below 0, nothing is late or purged. */
const HISTORY = 10_000;

type Side = 'L' | 'R';
interface SideSpec {
  readonly versioned: boolean;
  readonly chain: readonly TableOp[];
}
interface Rec {
  readonly side: Side;
  readonly key: string;
  readonly value: number | null;
  readonly timestamp: number;
  readonly spread: number;
}
interface Case {
  readonly kind: TableJoinKind;
  readonly partitions: number;
  readonly partitioning: 'key' | 'random';
  readonly store: StoreKind;
  readonly left: SideSpec;
  readonly right: SideSpec;
  /** The joiner returns null (the key reads as absent) when `l + r` is this. */
  readonly nullAt: number;
  readonly records: readonly Rec[];
}

const opArb: fc.Arbitrary<TableOp> = fc.oneof(
  fc.integer({ min: 2, max: 4 }).chain((m) => fc.integer({ min: 0, max: m - 1 }).map((r) => ({ kind: 'filter' as const, m, r }))),
  fc.record({ add: fc.integer({ min: 0, max: 3 }), nullIf: fc.integer({ min: 3, max: 7 }) }).map((o) => ({ kind: 'mapValues' as const, ...o })),
);
const sideArb: fc.Arbitrary<SideSpec> = fc.record({ versioned: fc.boolean(), chain: fc.array(opArb, { maxLength: 2 }) });
const recArb = (keys: readonly string[], maxTs: number): fc.Arbitrary<Rec> =>
  fc.record({
    side: fc.constantFrom<Side>('L', 'R'),
    key: fc.constantFrom(...keys),
    value: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 1, arbitrary: fc.constant(null) }),
    timestamp: fc.integer({ min: 0, max: maxTs }),
    spread: fc.nat({ max: 100 }),
  });

const caseArb: fc.Arbitrary<Case> = fc.record({
  kind: fc.constantFrom<TableJoinKind>('inner', 'left', 'outer'),
  partitions: fc.integer({ min: 1, max: 3 }),
  partitioning: fc.constantFrom<Case['partitioning']>('key', 'key', 'random'),
  store: fc.constantFrom<StoreKind>('lmdb', 'in-memory'),
  left: sideArb,
  right: sideArb,
  nullAt: fc.integer({ min: 0, max: 40 }),
  records: fc.oneof(fc.array(recArb(['a', 'ab', 'b'], 40), { maxLength: 14 }), fc.array(recArb(['a', 'ab', 'b', 'c', 'd'], 200), { minLength: 14, maxLength: 70 })),
});

type Row = [key: string, value: string | null, timestamp: number];
type Rows = Record<string, Row[]>;
interface Outcome {
  /** The changelog by `writer|output partition`. */
  readonly outputs: Rows;
  /** Per task, the committed joined table in key-byte order. */
  readonly joined: Record<string, [string, { value: string; timestamp: number }][]>;
}

const joinerOf = (c: Case) => (l: number | undefined, r: number | undefined): string | null => ((l ?? 0) + (r ?? 0) === c.nullAt ? null : `${l ?? '-'}+${r ?? '-'}`);
const keySerde = Serdes.string();

/** Each record with its partition and offset (per stream, in append order). */
function laidOut(c: Case): (Rec & { partition: number; offset: number })[] {
  const next = { L: new Array<number>(c.partitions).fill(0), R: new Array<number>(c.partitions).fill(0) };
  return c.records.map((r) => {
    const partition = c.partitioning === 'key' ? partitionForKey(keySerde.serialize(r.key)!, c.partitions) : r.spread % c.partitions;
    return { ...r, partition, offset: next[r.side][partition]!++ };
  });
}

function observed(c: Case): Outcome {
  const b = new StreamsBuilder();
  const table = (stream: string, spec: SideSpec): KTable<string, number> => {
    let t = b.table<string, number>(stream, { key: keySerde, value: Serdes.json<number>(), store: c.store, ...(spec.versioned ? { versioned: { historyRetentionMs: HISTORY } } : {}) });
    for (const op of spec.chain) t = op.kind === 'filter' ? t.filter((_, v) => applyOp(op, v) !== undefined) : t.mapValues((v) => applyOp(op, v) ?? null, { value: Serdes.json<number>() });
    return t;
  };
  const left = table('left', c.left);
  const right = table('right', c.right);
  const joiner = joinerOf(c);
  const options = { name: 'joined', store: c.store, value: Serdes.json<string>() };
  const joined = c.kind === 'inner' ? left.join(right, joiner, options) : c.kind === 'left' ? left.leftJoin(right, joiner, options) : left.outerJoin(right, joiner, options);
  joined.toStream().to('out', { key: keySerde });
  const d = new TopologyTestDriver(b.build(), { applicationId: APP });
  d.inputStream('left', { partitions: c.partitions });
  d.inputStream('right', { partitions: c.partitions });
  const json = Serdes.json<number | null>();
  d.pipeRaw(laidOut(c).map((r) => ({ stream: r.side === 'L' ? 'left' : 'right', partition: r.partition, key: keySerde.serialize(r.key), value: json.serialize(r.value), headers: {}, eventTime: r.timestamp })));
  const outputs: Rows = {};
  for (const r of d.readOutput<string, string | null>('out', { key: keySerde, value: Serdes.json<string | null>() })) (outputs[`${r.headers[PRODUCER_HEADER]}|${r.partition}`] ??= []).push([r.key, r.value, r.timestamp]);
  const result: Outcome['joined'] = {};
  for (let p = 0; p < c.partitions; p++) result[taskIdOf(0, p)] = d.storeEntries<string, { value: string; timestamp: number }>('joined', taskIdOf(0, p));
  return { outputs, joined: result };
}

/** A value through a side's chain; undefined: absent there. */
function through(chain: readonly TableOp[], v: number | undefined): number | undefined {
  let x = v;
  for (const op of chain) if (x !== undefined) x = applyOp(op, x);
  return x;
}

function expected(c: Case): Outcome {
  const joiner = joinerOf(c);
  const outputs: Rows = {};
  const joined: Outcome['joined'] = {};
  const all = laidOut(c);
  for (let p = 0; p < c.partitions; p++) {
    const task = taskIdOf(0, p);
    // The latest row of each key per side (value undefined: a versioned table's latest version is a delete).
    const rows = { L: new Map<string, { value: number | undefined; ts: number }>(), R: new Map<string, { value: number | undefined; ts: number }>() };
    const spec = { L: c.left, R: c.right };
    /** A side's row at a key as the join sees it: through the chain; undefined: absent. */
    const seen = (side: Side, key: string): { value: number; ts: number } | undefined => {
      const row = rows[side].get(key);
      const value = through(spec[side].chain, row?.value);
      return value === undefined ? undefined : { value, ts: row!.ts };
    };
    const joinAt = (key: string): string | undefined => tableJoinValue(c.kind, seen('L', key)?.value, seen('R', key)?.value, joiner);
    const lastTs = new Map<string, number>();
    const mine = all.filter((r) => r.partition === p).map((r) => ({ key: r, value: 0, timestamp: r.timestamp, source: r.side === 'L' ? 0 : 1, partition: r.partition, offset: r.offset }));
    for (const { key: r } of schedulerOrder(mine)) {
      const before = joinAt(r.key);
      const sideBefore = seen(r.side, r.key);
      const latest = rows[r.side].get(r.key);
      if (spec[r.side].versioned) {
        // Only an update at or after the latest version changes the latest value; any other writes history only, and goes nowhere.
        if (latest !== undefined && r.timestamp < latest.ts) continue;
        rows[r.side].set(r.key, { value: r.value ?? undefined, ts: r.timestamp });
      } else if (r.value === null) rows[r.side].delete(r.key);
      else rows[r.side].set(r.key, { value: r.value, ts: r.timestamp });
      // The join hears of a change only when its side's table changed visibly below its chain.
      if (!isVisibleChange({ old: sideBefore?.value, new: seen(r.side, r.key)?.value })) continue;
      const after = joinAt(r.key);
      if (!isVisibleChange({ old: before, new: after })) continue;
      const ts = tableJoinTimestamp(r.timestamp, seen(r.side === 'L' ? 'R' : 'L', r.key)?.ts);
      (outputs[`${APP}/${task}|${partitionForKey(keySerde.serialize(r.key)!, c.partitions)}`] ??= []).push([r.key, after ?? null, ts]);
      lastTs.set(r.key, ts);
    }
    // The joined table at the end: the join of the final maps, each row with its last change's timestamp.
    const keys = new Set([...rows.L.keys(), ...rows.R.keys()]);
    const final: [string, { value: string; timestamp: number }][] = [];
    for (const key of keys) {
      const value = joinAt(key);
      if (value !== undefined) final.push([key, { value, timestamp: lastTs.get(key)! }]);
    }
    joined[task] = final.sort(([a], [b]) => compareBytes(keySerde.serialize(a)!, keySerde.serialize(b)!));
  }
  return { outputs, joined };
}

test('table–table joins: the changelog and the committed joined table agree with the brute-force reference', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      assert.deepEqual(observed(c), expected(c));
    }),
    propertyParams(RUNS),
  );
});
