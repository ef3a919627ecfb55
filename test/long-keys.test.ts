/**
 * Keys of any size a record can carry (1 KB, 100 KB, 1 MB) in every kind of
 * store: a count per key (key-value store), a tumbling-window count (final
 * results, emitted in key-byte order within a window) and a session count
 * (updates, with the per-key range scans of session merging), on the
 * embedded log, with LMDB and in-memory stores, stopped halfway and
 * restarted on a reopened data directory (so state is restored from what was
 * committed). The output must equal that of the same topology on short keys,
 * mapped back one to one — the short keys sort like the long ones, so the
 * order of final results is compared too.
 *
 * `maxRecordBytes` is raised to 8 MiB: a 1 MiB key plus its value is above
 * the 1 MiB default, which would dead-letter those records instead.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLog } from '../src/connectors/embedded/embedded-log.ts';
import { Application } from '../src/runtime/application.ts';
import { StreamsBuilder } from '../src/dsl/stream-builder.ts';
import { keyValueStore } from '../src/dsl/stores.ts';
import type { StoreKind } from '../src/state/key-value-store.ts';
import type { Topology } from '../src/runtime/topology.ts';
import { TimeWindows } from '../src/windows/time-windows.ts';
import { SessionWindows } from '../src/windows/session-windows.ts';
import { Serdes } from '../src/time/serde.ts';

const KB = 1024;
const SIZES = [KB, 100 * KB, KB * KB];
const MAX_RECORD_BYTES = 8 * KB * KB;
const OUTPUTS = ['counts', 'tumbling', 'sessions'] as const;

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'tidemark-long-keys-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Per size, keys that differ only in their last character (so they share any
 * prefix a store might keep of them) and one that differs in its first; and
 * one short key among them. Sorted: the order final results come out in.
 */
const LONG_KEYS = [...SIZES.flatMap((n) => [`${'a'.repeat(n - 1)}2`, `${'a'.repeat(n - 1)}1`, `b${'a'.repeat(n - 1)}`]), 'a'].sort();
/** Short keys in the same order as the long ones: `k00` < `k01` < … */
const SHORT_KEYS = LONG_KEYS.map((_, i) => `k${String(i).padStart(2, '0')}`);
const toShort = new Map(LONG_KEYS.map((k, i) => [k, SHORT_KEYS[i]!]));

/** The input: key indexes and event times, chosen so that windows close and sessions merge along the way. */
const INPUT = Array.from({ length: 40 }, (_, i) => ({ key: (i * 7) % LONG_KEYS.length, eventTime: i * 60 + ((i * 37) % 5) * 40 }));

function topology(kind: StoreKind): Topology {
  const b = new StreamsBuilder();
  const g = b.stream<string, string>('in', { key: Serdes.string(), value: Serdes.string() }).groupByKey();
  const sink = { key: Serdes.string(), value: Serdes.string() };
  g.count({ name: 'count-store', store: kind })
    .mapValues((n) => String(n))
    .to('counts', sink);
  g.windowedBy(TimeWindows.ofSize(300))
    .count({ name: 'tumbling-store', store: kind, emit: 'final' })
    .map((w, n) => [w.key, `[${w.start},${w.end})=${n}`] as const)
    .to('tumbling', sink);
  g.windowedBy(SessionWindows.ofInactivityGap(100))
    .count({ name: 'session-store', store: kind })
    .map((w, n) => [w.key, `[${w.start},${w.end}]=${n}`] as const)
    .to('sessions', sink);
  return b.build();
}

type Output = Record<(typeof OUTPUTS)[number], [key: string, value: string, timestamp: number][]>;

/**
 * Runs the topology on `keys` over a fresh data directory, in catch-up mode;
 * with `stopAfter`, first only that many records, then the rest after
 * closing and reopening the directory. Returns what each output stream holds.
 */
async function runOn(kind: StoreKind, keys: readonly string[], stopAfter?: number): Promise<Output> {
  const dataDir = tempDir();
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  let log = await EmbeddedLog.open({ dataDir });
  log.ensureStream('in', 1);
  await log.append(INPUT.map((r, i) => ({ stream: 'in', partition: 0, key: utf8(keys[r.key]!), value: utf8(`v${i}`), eventTime: r.eventTime })));
  const options = { mode: 'catch-up', maxRecordBytes: MAX_RECORD_BYTES, commitIntervalMs: 0 } as const;
  if (stopAfter !== undefined) {
    const first = await new Application(topology(kind), { applicationId: 'long', log }).run({ ...options, maxRecords: stopAfter });
    assert.equal(first.consumed, stopAfter, 'the first run stopped halfway');
    await log.close();
    log = await EmbeddedLog.open({ dataDir });
  }
  await new Application(topology(kind), { applicationId: 'long', log }).run(options);
  assert.deepEqual(log.read('long.dead-letter', 0, 0, 1_000), [], 'nothing was dead-lettered');
  const text = (b: Uint8Array | null): string => Buffer.from(b!).toString();
  const out = Object.fromEntries(OUTPUTS.map((s) => [s, log.read(s, 0, 0, 10_000).map((r) => [text(r.key), text(r.value), r.eventTime!] as [string, string, number])])) as Output;
  await log.close();
  return out;
}

for (const kind of ['lmdb', 'in-memory'] as const) {
  test(`long keys (${SIZES.map((n) => `${n / KB} KB`).join(', ')}), ${kind} stores: count, tumbling and session windows across a restart give the short-key output`, async () => {
    const expected = await runOn(kind, SHORT_KEYS);
    assert.ok(expected.tumbling.length > 5 && expected.sessions.length > 20, 'windows fired and sessions merged');
    const got = await runOn(kind, LONG_KEYS, INPUT.length / 2);
    for (const s of OUTPUTS) {
      const mapped = got[s].map(([k, v, t]) => [toShort.get(k) ?? `unknown key of ${k.length} chars`, v, t]);
      assert.deepEqual(mapped, expected[s], `output ${s}`);
    }
  });
}
