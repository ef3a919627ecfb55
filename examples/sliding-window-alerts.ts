/**
 * Brute-force detection: 3 failed logins for one user within 60 seconds,
 * with record-anchored sliding windows (Kafka Streams' `SlidingWindows`).
 *
 * Hopping windows would check fixed 60 s intervals on a grid, and a burst
 * straddling two of them would go unseen unless the hop is tiny (and then
 * each record lands in thousands of windows). Sliding windows exist only
 * where records are: each failure at `t` has a window `[t − 60 s, t]`
 * ending at it, and a window `[t + 1 ms, t + 60 s + 1 ms]` starting just
 * after it when a later failure falls inside. Every distinct set of
 * failures within 60 s of each other is some window's content, so a
 * burst is always caught, whatever its alignment.
 *
 * The auth service logs attempts keyed by client IP; the topology keeps
 * the failures, re-keys them by user (`groupBy`: a repartition through an
 * internal stream), counts them in sliding windows with final emission —
 * a count is only reported once its window can no longer change — and
 * alerts on counts of 3 or more. A failure that arrives after every
 * window containing it has closed is a late record: dropped, counted and
 * audited.
 *
 * Run it: `node examples/sliding-window-alerts.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, SlidingWindows, StreamsBuilder, type Windowed } from '../src/index.ts';

interface Attempt {
  readonly user: string;
  readonly ok: boolean;
}

const ATTEMPTS = 'auth-attempts';
const COUNTS = 'failed-logins-per-60s';
const ALERTS = 'brute-force-alerts';
const APP = 'brute-force-detector';
const THRESHOLD = 3;

const ipSerde = Serdes.string();
const attemptSerde = Serdes.json<Attempt>();
const windowedSerde = Serdes.json<Windowed<string>>();
const countSerde = Serdes.json<number>();

// 1. The topology.
const builder = new StreamsBuilder();
const counts = builder
  .stream<string, Attempt>(ATTEMPTS, { key: ipSerde, value: attemptSerde })
  .filter((_ip, a) => !a.ok)
  .groupBy((_ip, a) => a.user, { key: Serdes.string() })
  .windowedBy(SlidingWindows.ofTimeDifference(60_000).grace(10_000))
  .count({ emit: 'final' });
counts.to(COUNTS);
counts.filter((_w, n) => n >= THRESHOLD).to(ALERTS);

// 2. The input, in arrival order (minutes:seconds after 09:00:00).
const t0 = Date.UTC(2025, 5, 1, 9, 0, 0);
const at = (mmss: string): number => t0 + (Number(mmss.slice(0, 2)) * 60 + Number(mmss.slice(3))) * 1000;
const clock = (t: number): string => new Date(t).toISOString().slice(11, t % 1000 === 0 ? 19 : 23);
const input: [mmss: string, ip: string, user: string, ok: boolean][] = [
  ['00:05', '10.0.0.7', 'alice', false], // a typo
  ['00:06', '10.0.0.7', 'alice', true],
  ['00:10', '203.0.113.9', 'mallory', false],
  ['00:40', '203.0.113.9', 'mallory', false],
  ['00:35', '198.51.100.4', 'mallory', false], // from another IP, out of order but in grace: 3 failures within 30 s
  ['01:20', '10.0.0.7', 'alice', false], // 75 s after her first failure: never in one window with it
  ['02:30', '203.0.113.9', 'mallory', false],
  ['00:20', '198.51.100.4', 'mallory', false], // stream time 02:30: every window containing 00:20 closed by 01:30: late
  ['03:00', '192.0.2.33', 'bob', false],
  ['03:20', '192.0.2.33', 'bob', false],
  ['03:40', '192.0.2.33', 'bob', false],
  ['04:05', '192.0.2.33', 'bob', false],
  // Traffic goes on. It must reach the windowed task to move its stream time past the end + grace
  // of bob's windows: a successful login would not, the filter drops it before the repartition.
  ['05:30', '10.0.0.9', 'carol', false],
];

interface Count {
  readonly user: string;
  readonly from: number;
  /** Inclusive, as Kafka Streams reports sliding windows: `[start, end − 1]`. */
  readonly to: number;
  readonly failures: number;
}

function readCounts(log: EmbeddedLog, stream: string): Count[] {
  const out: Count[] = [];
  for (let p = 0; p < (log.partitionCount(stream) ?? 0); p++) {
    for (const r of log.read(stream, p, 0, 1000)) {
      const w = windowedSerde.deserialize(r.key);
      out.push({ user: w.key, from: w.start, to: w.end - 1, failures: countSerde.deserialize(r.value) });
    }
  }
  return out.sort((a, b) => a.user.localeCompare(b.user) || a.from - b.from);
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-sliding-'));
const log = await EmbeddedLog.open({ dataDir });
try {
  log.ensureStream(ATTEMPTS, 1);
  await log.append(input.map(([mmss, ip, user, ok]) => ({ stream: ATTEMPTS, partition: 0, key: ipSerde.serialize(ip), value: attemptSerde.serialize({ user, ok }), eventTime: at(mmss) })));

  const summary = await new Application(builder.build(), { applicationId: APP, log }).run({ mode: 'catch-up' });
  console.log(`processed ${summary.processed} records (attempts, then failures re-keyed by user); ${summary.lateRecords} late`);
  for (const e of log.readAudit(APP).filter((a) => a.kind === 'late-record')) {
    const r = log.read(e.stream, e.partition, e.offset, 1)[0]!;
    // The position is the one the windowed task read: in the internal repartition stream.
    console.log(`  late: ${e.stream}/${e.partition}@${e.offset} at ${clock(r.eventTime!)}: ${e.detail.replace(/\d{13}/g, (ms) => clock(Number(ms)))}`);
  }

  const all = readCounts(log, COUNTS);
  check(summary.lateWindows === 0, 'no record was late for only some of its windows');
  console.log(`${all.length} sliding windows closed, each anchored at a failure (inclusive bounds):`);
  for (const c of all) console.log(`  ${c.user.padEnd(8)} ${`[${clock(c.from)}, ${clock(c.to)}]`.padEnd(28)}  ${c.failures} failed`);
  const alerts = readCounts(log, ALERTS);
  console.log(`alerts (${THRESHOLD}+ failures within 60 s; bob's two windows hold different sets of three):`);
  for (const a of alerts) console.log(`  ${a.user}: ${a.failures} failed logins in [${clock(a.from)}, ${clock(a.to)}]`);

  // The facts this example shows:
  // mallory's burst (00:10, 00:40, then 00:35 out of order) is caught, in the window ending at 00:40; the late 00:20 is in no window.
  check(alerts.some((a) => a.user === 'mallory' && a.failures === 3 && a.from === at('00:40') - 60_000 && a.to === at('00:40')), 'an alert for mallory');
  check(!all.some((c) => c.user === 'mallory' && c.failures > 3), 'the late failure at 00:20 counted nowhere');
  check(summary.lateRecords === 1, 'one late record');
  // alice's two failures, 75 s apart, never share a window.
  check(all.filter((c) => c.user === 'alice').every((c) => c.failures === 1), 'alice: never 2 in a window');
  // bob's four failures span 65 s: two windows of 3, none of 4.
  check(alerts.filter((a) => a.user === 'bob').map((a) => a.failures).join() === '3,3', 'two alerting windows for bob');
  // Windows exist only where records are: every window starts 60 s before a failure or 1 ms after one.
  const failures = input.filter(([, , , ok]) => !ok).map(([mmss, , user]) => ({ user, t: at(mmss) }));
  check(all.every((c) => failures.some((f) => f.user === c.user && (c.from === f.t - 60_000 || c.from === f.t + 1))), 'windows anchored at records');
} finally {
  await log.close();
  rmSync(dataDir, { recursive: true, force: true });
}
