/**
 * The versioned store against a brute-force reference: a list of every
 * accepted write `(key, ts, value, seq)`. For random writes (a few keys, one
 * a prefix of another; deletes; timestamps in any order), horizon moves,
 * commits and crashes (uncommitted writes lost, the store reopened from its
 * committed entries), on both store kinds:
 * - a write is refused exactly when `ts < horizon`;
 * - after each step, for every key and every `t >= horizon`, `getAsOf(key, t)`
 *   is the reference's `asOf` (the accepted writes with `ts <= t`, the
 *   largest by `(ts, seq)`; a delete reads as absent), with its `validFrom`;
 *   below the horizon a read is either `BEYOND_HISTORY` or that same answer;
 * - `get(key)` is the latest value by `(ts, seq)`;
 * - the store keeps no more versions than the reference's versions still
 *   valid somewhere at or after the horizon, plus each key's latest value.
 *
 * Case counts: `TIDEMARK_PROPERTY_RUNS` multiplies the base count of 200;
 * replay a failure with `TIDEMARK_PROPERTY_SEED=<seed> TIDEMARK_PROPERTY_PATH=<path>`.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';
import { EmbeddedLog } from '../../src/connectors/embedded/embedded-log.ts';
import { InMemoryOrderedStore, LmdbOrderedStore, type CommittableOrderedStore } from '../../src/state/ordered-store.ts';
import { BEYOND_HISTORY, VersionedKeyValueStore } from '../../src/state/versioned-store.ts';
import { Serdes } from '../../src/records/serde.ts';
import { taskIdOf } from '../../src/runtime/ids.ts';
import { NO_HORIZON, isLateTableUpdate, isPurgeableVersion } from '../../src/tables/versioned.ts';

const RUNS = propertyRuns(200);
const APP = 'versioned';
const KEYS = ['a', 'ab', 'b'];
const MAX_TS = 40;

let dir: string;
let log: EmbeddedLog;
let taskSeq = 0;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tidemark-versioned-'));
  log = await EmbeddedLog.open({ dataDir: dir });
});
after(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

type Op =
  | { readonly kind: 'put'; readonly key: string; readonly ts: number; readonly value: number | null }
  | { readonly kind: 'advance'; readonly by: number }
  | { readonly kind: 'commit' }
  | { readonly kind: 'crash' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.constantFrom(...KEYS), ts: fc.integer({ min: 0, max: MAX_TS }), value: fc.option(fc.integer({ min: 0, max: 9 }), { freq: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

/** An accepted write. */
interface Write {
  readonly key: string;
  readonly ts: number;
  readonly value: number | null;
  readonly seq: number;
}

/** The reference's answer as of `t`: the accepted write with the largest (ts, seq) at or before `t`. */
function asOf(writes: readonly Write[], key: string, t: number): Write | undefined {
  let best: Write | undefined;
  for (const w of writes) if (w.key === key && w.ts <= t && (best === undefined || w.ts > best.ts || (w.ts === best.ts && w.seq > best.seq))) best = w;
  return best;
}

/** The reference's versions of `key`: one per distinct timestamp (the last write there), each until the next. */
function versionsOf(writes: readonly Write[], key: string): { validFrom: number; validTo: number | undefined; isDelete: boolean }[] {
  const stamps = [...new Set(writes.filter((w) => w.key === key).map((w) => w.ts))].sort((a, b) => a - b);
  return stamps.map((ts, i) => ({ validFrom: ts, validTo: stamps[i + 1], isDelete: asOf(writes, key, ts)!.value === null }));
}

test('versioned store: as-of reads, refused writes and kept versions equal a brute-force reference, across commits and crashes, in memory and in LMDB', () => {
  fc.assert(
    fc.property(fc.constantFrom('in-memory' as const, 'lmdb' as const), fc.array(opArb, { minLength: 1, maxLength: 60 }), (kind, ops) => {
      const taskId = taskIdOf(0, taskSeq++);
      const backend = log.stateBackend(APP, taskId);
      const open = (): [CommittableOrderedStore, VersionedKeyValueStore<string, number>] => {
        const ordered = kind === 'lmdb' ? new LmdbOrderedStore('v', backend) : new InMemoryOrderedStore('v', backend);
        return [ordered, new VersionedKeyValueStore(ordered, Serdes.string(), Serdes.json<number>())];
      };
      let [ordered, store] = open();
      let writes: Write[] = [];
      let horizon = NO_HORIZON;
      let committed = { writes, horizon };
      let seq = 0;
      for (const op of ops) {
        if (op.kind === 'put') {
          const result = store.put(op.key, op.value, op.ts);
          assert.equal(result.kind === 'late', isLateTableUpdate(op.ts, horizon), `put ${op.key}@${op.ts} at horizon ${horizon}: ${result.kind}`);
          if (result.kind !== 'late') {
            const latestBefore = asOf(writes, op.key, Infinity);
            assert.equal(result.kind === 'latest', latestBefore === undefined || op.ts >= latestBefore.ts, `put ${op.key}@${op.ts}: ${result.kind}`);
            if (result.kind === 'latest') assert.equal(result.old, latestBefore?.value ?? undefined);
            writes = [...writes, { key: op.key, ts: op.ts, value: op.value, seq: seq++ }];
          }
        } else if (op.kind === 'advance') {
          // The first move starts the clock somewhere in the timestamps' range.
          horizon = horizon === NO_HORIZON ? op.by * 3 : horizon + op.by;
          store.advanceHorizon(horizon);
        } else if (op.kind === 'commit') {
          log.commit([{ applicationId: APP, taskId, outputs: [], stateWrites: ordered.drainWrites(), checkpoint: { positions: {}, streamTime: 0, partitionTimes: {}, commits: 1 }, audit: [] }]);
          committed = { writes, horizon };
        } else {
          [ordered, store] = open();
          ({ writes, horizon } = committed);
        }
        assert.equal(store.horizon, horizon);
        let kept = 0;
        for (const key of KEYS) {
          const latest = asOf(writes, key, Infinity);
          assert.equal(store.get(key), latest?.value ?? undefined, `get ${key}`);
          for (let t = Math.max(-2, horizon - 3); t <= MAX_TS + 1; t++) {
            const expected = asOf(writes, key, t);
            const got = store.getAsOf(key, t);
            if (got === BEYOND_HISTORY) {
              assert.ok(t < horizon, `${key} as of ${t} is beyond history at horizon ${horizon}`);
              continue;
            }
            const value = expected?.value ?? undefined;
            assert.equal(got?.value, value, `${key} as of ${t} (horizon ${horizon})`);
            if (value !== undefined) assert.equal(got?.validFrom, expected!.ts, `${key} as of ${t}: validFrom`);
          }
          kept += versionsOf(writes, key).filter((v) => !isPurgeableVersion(v.validTo, v.isDelete, v.validFrom, horizon)).length;
        }
        assert.ok(store.versionCount() <= kept, `the store keeps ${store.versionCount()} versions, the reference ${kept} still reachable`);
      }
    }),
    propertyParams(RUNS),
  );
});
