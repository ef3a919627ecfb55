/**
 * Foreign-key table joins against a final-state reference and invariants
 * of the changelog, for random inputs of both tables — a few left keys, a
 * few foreign keys, null foreign keys, tombstones on both sides, random
 * timestamps — on one to three partitions per table (independently, laid
 * out by key), both kinds, both store kinds, piped in random batches (so
 * that the three steps interleave differently):
 *
 * - final state: the joined table the run commits is, for every left key
 *   `k` with a final row `L(k)`, `tableJoinValue(kind, L(k),
 *   R(fk(L(k))))` over the final maps (each a `Map` replayed in offset
 *   order: the last update of a key wins); each row's timestamp is at
 *   least its left row's, and — where it joins a right row — the larger of
 *   the two rows' timestamps;
 * - the changelog ends, for each key, with the final row (or a tombstone,
 *   or nothing, when the key has none);
 * - every row it emits joins a value the left key really had and, if any,
 *   a value the right row under that value's foreign key really had; and
 *   the left values it joins, per key, never go back to an older change of
 *   the row (the stale answers are dropped).
 * No store, no incremental state.
 *
 * Case counts: `TIDEMARK_PROPERTY_RUNS` multiplies the base count of 150;
 * replay a failure with `TIDEMARK_PROPERTY_SEED=<seed> TIDEMARK_PROPERTY_PATH=<path>`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { StoreKind } from '../../src/state/key-value-store.ts';
import { partitionForKey } from '../../src/runtime/partitioner.ts';
import { taskIdOf } from '../../src/runtime/ids.ts';
import { tableJoinValue } from '../../src/joins/table-table.ts';
import type { ForeignKeyJoinKind } from '../../src/joins/foreign-key.ts';

const RUNS = propertyRuns(150);

interface Rec {
  readonly side: 'L' | 'R';
  readonly key: number;
  /** Left: the foreign key's index (−1: null); right: unused. Null: a tombstone. */
  readonly fk: number | null;
  readonly timestamp: number;
}
interface Case {
  readonly kind: ForeignKeyJoinKind;
  readonly leftPartitions: number;
  readonly rightPartitions: number;
  readonly store: StoreKind;
  /** Where the input is cut into batches, each piped (and processed) on its own. */
  readonly cuts: readonly number[];
  readonly records: readonly Rec[];
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  kind: fc.constantFrom<ForeignKeyJoinKind>('inner', 'left'),
  leftPartitions: fc.integer({ min: 1, max: 3 }),
  rightPartitions: fc.integer({ min: 1, max: 3 }),
  store: fc.constantFrom<StoreKind>('in-memory', 'in-memory', 'lmdb'),
  cuts: fc.array(fc.nat({ max: 60 }), { maxLength: 4 }),
  records: fc.array(
    fc.record({
      side: fc.constantFrom<'L' | 'R'>('L', 'R'),
      key: fc.integer({ min: 0, max: 4 }),
      fk: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: -1, max: 3 }) }, { weight: 1, arbitrary: fc.constant(null) }),
      timestamp: fc.integer({ min: 0, max: 100 }),
    }),
    { maxLength: 60 },
  ),
});

/** Every value is unique: a left value names its foreign key and its record (`p2/7`; `/7`: no foreign key), a right value its record (`r9`). */
const leftKey = (i: number): string => `k${i}`;
const rightKey = (i: number): string => `p${i}`;
const valueOf = (r: Rec, i: number): string | null => (r.fk === null ? null : r.side === 'L' ? `${r.fk < 0 ? '' : rightKey(r.fk)}/${i}` : `r${i}`);
const fk = (v: string): string | null => v.split('/')[0] || null;
const joiner = (l: string, r: string | undefined): string => `${l}@${r ?? '-'}`;
const keySerde = Serdes.string();

type Row = { key: string; value: string | null; timestamp: number };

function run(c: Case): { rows: Row[]; joined: Map<string, { value: string; timestamp: number }> } {
  const b = new StreamsBuilder();
  const lines = b.table<string, string>('lines', { key: keySerde });
  const products = b.table<string, string>('products', { key: keySerde });
  lines.joinOnForeignKey(products, fk, joiner, { kind: c.kind, store: c.store, name: 'joined' }).toStream().to('out', { key: keySerde });
  const d = new TopologyTestDriver(b.build());
  d.inputStream('lines', { partitions: c.leftPartitions });
  d.inputStream('products', { partitions: c.rightPartitions });
  const json = Serdes.json<string | null>();
  const appends = c.records.map((r, i) => {
    const key = r.side === 'L' ? leftKey(r.key) : rightKey(r.key);
    const stream = r.side === 'L' ? 'lines' : 'products';
    const partitions = r.side === 'L' ? c.leftPartitions : c.rightPartitions;
    return { stream, partition: partitionForKey(keySerde.serialize(key)!, partitions), key: keySerde.serialize(key), value: json.serialize(valueOf(r, i)), headers: {}, eventTime: r.timestamp };
  });
  const cuts = [...new Set(c.cuts.filter((x) => x < appends.length))].sort((x, y) => x - y);
  let from = 0;
  for (const to of [...cuts, appends.length]) {
    if (to > from) d.pipeRaw(appends.slice(from, to));
    from = Math.max(from, to);
  }
  const rows = d.readOutput<string, string | null>('out', { key: keySerde, value: json }).map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp }));
  const joined = new Map<string, { value: string; timestamp: number }>();
  for (let p = 0; p < c.leftPartitions; p++) for (const [k, v] of d.storeEntries<string, { value: string; timestamp: number }>('joined', taskIdOf(2, p))) joined.set(k, v);
  return { rows, joined };
}

test('foreign-key joins: the final joined table is the join of the final tables, and the changelog ends with it and never joins a stale left value', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const { rows, joined } = run(c);
      // The final maps, and every value each key ever had, in its offset order (one partition per key).
      const L = new Map<string, { value: string; ts: number }>();
      const R = new Map<string, { value: string; ts: number }>();
      const leftHistory = new Map<string, string[]>();
      const rightValues = new Map<string, Set<string>>();
      c.records.forEach((r, i) => {
        const key = r.side === 'L' ? leftKey(r.key) : rightKey(r.key);
        const value = valueOf(r, i);
        const map = r.side === 'L' ? L : R;
        if (value === null) map.delete(key);
        else map.set(key, { value, ts: r.timestamp });
        if (value !== null && r.side === 'L') leftHistory.set(key, [...(leftHistory.get(key) ?? []), value]);
        if (value !== null && r.side === 'R') rightValues.set(key, new Set([...(rightValues.get(key) ?? []), value]));
      });
      const expected = new Map<string, string>();
      for (const [k, l] of L) {
        const f = fk(l.value);
        const value = tableJoinValue(c.kind, l.value, f === null ? undefined : R.get(f)?.value, (lv, rv) => joiner(lv!, rv));
        if (value !== undefined) expected.set(k, value);
      }
      assert.deepEqual(new Map([...joined].map(([k, v]) => [k, v.value])), expected, 'the committed joined table');
      for (const [k, { timestamp }] of joined) {
        const l = L.get(k)!;
        const f = fk(l.value);
        const r = f === null ? undefined : R.get(f);
        if (r !== undefined) assert.equal(timestamp, Math.max(l.ts, r.ts), `timestamp of ${k}`);
        else assert.ok(timestamp >= l.ts, `timestamp of ${k}`);
      }
      const byKey = new Map<string, Row[]>();
      for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
      for (const [k, list] of byKey) {
        assert.equal(list.at(-1)!.value, expected.get(k) ?? null, `the last change of ${k}`);
        let version = -1;
        for (const row of list) {
          if (row.value === null) continue;
          const at = row.value.lastIndexOf('@');
          const [l, r] = [row.value.slice(0, at), row.value.slice(at + 1)];
          const v = (leftHistory.get(k) ?? []).indexOf(l);
          assert.ok(v >= 0, `${k}: ${row.value} joins a value the row never had`);
          assert.ok(v >= version, `${k}: ${row.value} joins an older value of the row than a row emitted before it`);
          version = v;
          if (r === '-') assert.ok(c.kind === 'left', `${k}: an inner join row without a right row`);
          else assert.ok(fk(l) !== null && rightValues.get(fk(l)!)?.has(r), `${k}: ${row.value} joins a right value ${fk(l)} never had`);
        }
      }
      for (const k of expected.keys()) assert.ok(byKey.has(k), `${k} is in the joined table but was never emitted`);
    }),
    propertyParams(RUNS),
  );
});
