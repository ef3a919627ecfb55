/**
 * Tables against an independent brute-force reference
 * (`fixtures/table-reference.ts`): for random inputs — a few keys (one a
 * prefix of another), null keys, tombstones, out-of-order timestamps, one
 * to three partitions partitioned by key or at random — both store kinds
 * and both key serdes, and a random chain of `filter` and `mapValues` below
 * the table, the topology run by the TopologyTestDriver must write exactly
 * the reference's changelog (per writing task and output partition, in
 * order) for the table itself and for the end of the chain, drop and audit
 * exactly the records with a null key, count exactly its out-of-order
 * updates, and commit exactly the reference's rows (with their timestamps)
 * in each task's store.
 *
 * A second property regroups the table (below a random chain) with
 * `groupBy` and counts or sums each group, on one to three partitions: the
 * aggregate tasks must write exactly the changelog of a reference that
 * recomputes each group from every upstream task's current table after
 * each of its updates (taken in the aggregate task's scheduled order), with
 * emptied groups deleted, and commit exactly its aggregates and member
 * counts.
 *
 * Case counts: `TIDEMARK_PROPERTY_RUNS` multiplies the base count of 300 per property;
 * replay a failure with `TIDEMARK_PROPERTY_SEED=<seed> TIDEMARK_PROPERTY_PATH=<path>`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import type { KTable } from '../../src/dsl/ktable.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes, type Serde } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { partitionForKey } from '../../src/runtime/partitioner.ts';
import { PRODUCER_HEADER } from '../../src/runtime/headers.ts';
import { taskIdOf } from '../../src/runtime/ids.ts';
import { compareBytes } from '../fixtures/window-reference.ts';
import { applyOp, groupedTableReference, tableReference, type GroupFold, type Selector, type TableInput, type TableOp } from '../fixtures/table-reference.ts';
import { tableAggregateTimestamp } from '../../src/tables/regroup.ts';

const RUNS = propertyRuns(300);
const APP = 'tables';

interface Case {
  readonly partitions: number;
  readonly partitioning: 'key' | 'random';
  readonly keySerde: 'json' | 'string';
  readonly store: StoreKind;
  readonly chain: readonly TableOp[];
  readonly records: readonly { readonly key: string | null; readonly value: number | null; readonly timestamp: number; readonly spread: number }[];
}

const opArb: fc.Arbitrary<TableOp> = fc.oneof(
  fc.integer({ min: 2, max: 4 }).chain((m) => fc.integer({ min: 0, max: m - 1 }).map((r) => ({ kind: 'filter' as const, m, r }))),
  fc.record({ add: fc.integer({ min: 0, max: 3 }), nullIf: fc.integer({ min: 3, max: 7 }) }).map((o) => ({ kind: 'mapValues' as const, ...o })),
);

const caseArb: fc.Arbitrary<Case> = fc.record({
  partitions: fc.integer({ min: 1, max: 3 }),
  partitioning: fc.constantFrom<Case['partitioning']>('key', 'key', 'random'),
  keySerde: fc.constantFrom<Case['keySerde']>('json', 'string'),
  store: fc.constantFrom<StoreKind>('lmdb', 'in-memory'),
  chain: fc.array(opArb, { maxLength: 3 }),
  records: fc.oneof(
    fc.array(fc.record({
      key: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('a', 'ab', 'b') }, { weight: 1, arbitrary: fc.constant(null) }),
      value: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 1, arbitrary: fc.constant(null) }),
      timestamp: fc.integer({ min: 0, max: 40 }),
      spread: fc.nat({ max: 100 }),
    }), { maxLength: 12 }),
    fc.array(fc.record({
      key: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('a', 'ab', 'b', 'c', 'd') }, { weight: 1, arbitrary: fc.constant(null) }),
      value: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 1, arbitrary: fc.constant(null) }),
      timestamp: fc.integer({ min: 0, max: 200 }),
      spread: fc.nat({ max: 100 }),
    }), { minLength: 12, maxLength: 80 }),
  ),
});

type Rows = Record<string, [string, number | null, number][]>;

interface Observed {
  /** Per output (`out-0`: the table; `out-1`: the end of the chain), rows by `writer|output partition`. */
  readonly outputs: Rows[];
  readonly dropped: string[];
  readonly droppedCount: number;
  readonly outOfOrder: number;
  /** Per task, its committed rows (with their timestamps) in key-byte order. */
  readonly stores: Record<string, [string, { value: number; timestamp: number }][]>;
}

const keySerdeOf = (c: Case): Serde<string> => (c.keySerde === 'json' ? Serdes.json<string>() : Serdes.string());

/** The case's input records, laid out in partitions (offsets in append order). */
function inputs(c: Case): TableInput[] {
  const keySerde = keySerdeOf(c);
  const next = new Array<number>(c.partitions).fill(0);
  return c.records.map((r) => {
    const partition = r.key !== null && c.partitioning === 'key' ? partitionForKey(keySerde.serialize(r.key)!, c.partitions) : r.spread % c.partitions;
    return { key: r.key, value: r.value, timestamp: r.timestamp, partition, offset: next[partition]!++ };
  });
}

function observed(c: Case): Observed {
  const keySerde = keySerdeOf(c);
  const b = new StreamsBuilder();
  const table = b.table<string, number>('in', { key: keySerde, value: Serdes.json<number>(), store: c.store, name: 'rows' });
  table.toStream().to('out-0');
  let t: KTable<string, number> = table;
  for (const op of c.chain) t = op.kind === 'filter' ? t.filter((_, v) => applyOp(op, v) !== undefined) : t.mapValues((v) => applyOp(op, v) ?? null, { value: Serdes.json<number>() });
  t.toStream().to('out-1');
  const d = new TopologyTestDriver(b.build(), { applicationId: APP });
  d.inputStream('in', { partitions: c.partitions });
  const json = Serdes.json<number | null>();
  d.pipeRaw(inputs(c).map((r) => ({ stream: 'in', partition: r.partition, key: r.key === null ? null : keySerde.serialize(r.key), value: json.serialize(r.value), headers: {}, eventTime: r.timestamp })));
  const outputs = ['out-0', 'out-1'].map((s) => {
    const rows: Rows = {};
    for (const r of d.readOutput<string, number | null>(s, { key: keySerde, value: json })) (rows[`${r.headers[PRODUCER_HEADER]}|${r.partition}`] ??= []).push([r.key, r.value, r.timestamp]);
    return rows;
  });
  const stores: Observed['stores'] = {};
  for (let p = 0; p < c.partitions; p++) stores[taskIdOf(0, p)] = d.storeEntries<string, { value: number; timestamp: number }>('rows', taskIdOf(0, p));
  return {
    outputs,
    dropped: d.audit().filter((e) => e.kind === 'dropped').map((e) => `${e.partition}@${e.offset}`).sort(),
    droppedCount: d.summary().dropped,
    outOfOrder: d.summary().outOfOrderTableUpdates,
    stores,
  };
}

function expected(c: Case): Observed {
  const keySerde = keySerdeOf(c);
  const all = inputs(c);
  const outputs: Rows[] = [{}, {}];
  const dropped: string[] = [];
  const stores: Observed['stores'] = {};
  let outOfOrder = 0;
  for (let p = 0; p < c.partitions; p++) {
    const task = taskIdOf(0, p);
    const result = tableReference(all.filter((r) => r.partition === p), [[], c.chain]);
    // A task writes each row to its key's partition of the output, created with one partition per writing task.
    result.changelogs.forEach((rows, i) => {
      for (const row of rows) (outputs[i]![`${APP}/${task}|${partitionForKey(keySerde.serialize(row[0])!, c.partitions)}`] ??= []).push(row);
    });
    dropped.push(...result.dropped.map((o) => `${p}@${o}`));
    outOfOrder += result.outOfOrder;
    stores[task] = [...result.rows].sort(([a], [b]) => compareBytes(keySerde.serialize(a)!, keySerde.serialize(b)!));
  }
  return { outputs, dropped: dropped.sort(), droppedCount: dropped.length, outOfOrder, stores };
}

test('tables, filter and mapValues below them: the changelog, the dropped null keys and the committed rows agree with the brute-force reference', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      assert.deepEqual(observed(c), expected(c));
    }),
    propertyParams(RUNS),
  );
});

interface GroupedCase extends Case {
  readonly fold: GroupFold;
  readonly groupCount: number;
  /** Values with `v % none === none − 1` are in no group. */
  readonly none: number;
}

const groupedCaseArb: fc.Arbitrary<GroupedCase> = fc
  .record({ fold: fc.constantFrom<GroupFold>('count', 'sum'), groupCount: fc.integer({ min: 1, max: 3 }), none: fc.integer({ min: 3, max: 9 }) })
  .chain((g) => caseArb.map((c) => ({ ...c, ...g, keySerde: 'string' as const })));

const selectorOf = (c: GroupedCase): Selector => (k, v) => (v % c.none === c.none - 1 ? null : [`g${(v + k.length) % c.groupCount}`, v]);

interface GroupedObserved {
  readonly outputs: Rows;
  readonly stores: Record<string, [string, { value: number; timestamp: number }][]>;
  readonly groups: Record<string, [string, number][]>;
}

function groupedObserved(c: GroupedCase): GroupedObserved {
  const keySerde = Serdes.string();
  const select = selectorOf(c);
  const b = new StreamsBuilder();
  let t: KTable<string, number> = b.table<string, number>('in', { key: keySerde, value: Serdes.json<number>(), store: c.store });
  for (const op of c.chain) t = op.kind === 'filter' ? t.filter((_, v) => applyOp(op, v) !== undefined) : t.mapValues((v) => applyOp(op, v) ?? null, { value: Serdes.json<number>() });
  const grouped = t.groupBy(select, { key: keySerde, value: Serdes.json<number>() });
  const options = { name: 'agg', store: c.store };
  const result = c.fold === 'count' ? grouped.count(options) : grouped.aggregate(() => 0, (_g, v, sum) => sum + v, (_g, v, sum) => sum - v, options);
  result.toStream().to('out', { key: keySerde });
  const d = new TopologyTestDriver(b.build(), { applicationId: APP });
  d.inputStream('in', { partitions: c.partitions });
  const json = Serdes.json<number | null>();
  d.pipeRaw(inputs(c).map((r) => ({ stream: 'in', partition: r.partition, key: r.key === null ? null : keySerde.serialize(r.key), value: json.serialize(r.value), headers: {}, eventTime: r.timestamp })));
  const outputs: Rows = {};
  for (const r of d.readOutput<string, number | null>('out', { key: keySerde, value: json })) (outputs[`${r.headers[PRODUCER_HEADER]}|${r.partition}`] ??= []).push([r.key, r.value, r.timestamp]);
  const stores: GroupedObserved['stores'] = {};
  const groups: GroupedObserved['groups'] = {};
  for (let q = 0; q < c.partitions; q++) {
    stores[taskIdOf(1, q)] = d.storeEntries<string, { value: number; timestamp: number }>('agg', taskIdOf(1, q));
    groups[taskIdOf(1, q)] = d.storeEntries<string, number>('agg-groups', taskIdOf(1, q));
  }
  return { outputs, stores, groups };
}

function groupedExpected(c: GroupedCase): GroupedObserved {
  const keySerde = Serdes.string();
  const partitionOf = (g: string): number => partitionForKey(keySerde.serialize(g)!, c.partitions);
  const ref = groupedTableReference(inputs(c), c.partitions, c.chain, selectorOf(c), c.fold, partitionOf, tableAggregateTimestamp);
  const outputs: Rows = {};
  for (const [q, rows] of ref.changelogs) if (rows.length > 0) outputs[`${APP}/${taskIdOf(1, q)}|${q}`] = rows;
  const stores: GroupedObserved['stores'] = {};
  const groups: GroupedObserved['groups'] = {};
  for (const [q, last] of ref.groups) {
    const sorted = [...last].sort(([a], [b]) => compareBytes(keySerde.serialize(a)!, keySerde.serialize(b)!));
    stores[taskIdOf(1, q)] = sorted.map(([g, s]) => [g, { value: s.aggregate, timestamp: s.timestamp }]);
    groups[taskIdOf(1, q)] = sorted.map(([g, s]) => [g, s.members]);
  }
  return { outputs, stores, groups };
}

test('tables regrouped and counted or summed: the changelog and the committed aggregates agree with the brute-force reference', () => {
  fc.assert(
    fc.property(groupedCaseArb, (c) => {
      assert.deepEqual(groupedObserved(c), groupedExpected(c));
    }),
    propertyParams(RUNS),
  );
});
