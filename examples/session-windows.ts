/**
 * User sessions: session windows with an inactivity gap of 5 minutes.
 *
 * A session is a burst of a user's clicks with no pause longer than the
 * gap; its bounds are its first and last click, inclusive (as in Kafka
 * Streams). A click within 5 minutes of a session joins it; a click that
 * arrives out of order and falls within 5 minutes of two sessions bridges
 * them: they merge into one, and `merge` combines their aggregates.
 *
 * The same clicks feed two aggregations:
 *
 * - `emit: 'updates'`: a result on every change. A session's key is its
 *   bounds, so when a session grows or merges, the results for its old
 *   bounds are retracted with a tombstone (a null value) — a downstream
 *   table keyed by session drops them;
 * - `emit: 'final'`: one result per session, when it closes: when stream
 *   time reaches lastTs + gap + grace + 1 ms (a click at lastTs + gap can
 *   still join it, and grace is 5 minutes more).
 *
 * A click that would join a session already closed (and emitted as final)
 * is late: tidemark does not reopen the session, so a final result is never
 * contradicted. (Kafka Streams would merge it and emit a different result
 * for the session.) Here it is dropped, counted and audited.
 *
 * Run it: `node examples/session-windows.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, SessionWindows, StreamsBuilder, type Windowed } from '../src/index.ts';

interface Click {
  readonly page: string;
}
interface Activity {
  readonly clicks: number;
  readonly pages: readonly string[];
}

const CLICKS = 'clicks';
const UPDATES = 'sessions-updates';
const FINAL = 'sessions-final';
const APP = 'user-sessions';
const MINUTE = 60_000;

const keySerde = Serdes.string();
const clickSerde = Serdes.json<Click>();
const windowedSerde = Serdes.json<Windowed<string>>();
const activitySerde = Serdes.json<Activity | null>();

// 1. The topology: clicks and pages visited per session, in both emission modes.
const builder = new StreamsBuilder();
const sessions = builder
  .stream<string, Click>(CLICKS, { key: keySerde, value: clickSerde })
  .groupByKey()
  .windowedBy(SessionWindows.ofInactivityGap(5 * MINUTE).grace(5 * MINUTE));
const init = (): Activity => ({ clicks: 0, pages: [] });
const add = (_user: string, click: Click, a: Activity): Activity => ({ clicks: a.clicks + 1, pages: [...a.pages, click.page] });
const merge = (_user: string, a: Activity, b: Activity): Activity => ({ clicks: a.clicks + b.clicks, pages: [...a.pages, ...b.pages] });
sessions.aggregate(init, add, merge, { emit: 'updates' }).to(UPDATES);
sessions.aggregate(init, add, merge, { emit: 'final', name: 'final-sessions' }).to(FINAL);

// 2. The input, in arrival order (one partition: one task, one stream time).
const day = Date.UTC(2025, 5, 1);
const at = (hhmm: string): number => day + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))) * MINUTE;
const hhmm = (t: number): string => new Date(t).toISOString().slice(11, 16);
const input: [user: string, hhmm: string, page: string][] = [
  ['ana', '10:00', '/home'],
  ['ana', '10:02', '/docs'],
  ['ana', '10:04', '/pricing'], // session [10:00, 10:04]
  ['bo', '10:05', '/home'],
  ['ana', '10:10', '/signup'], // 6 min after 10:04: a new session
  ['ana', '10:11', '/checkout'], // session [10:10, 10:11]
  ['ana', '10:07', '/pricing'], // out of order, 3 min from both: bridges them into [10:00, 10:11]
  ['bo', '10:22', '/home'], // stream time 10:22 >= 10:11 + 5 + 5 min + 1 ms: ana's session closes (and bo's first)
  ['ana', '10:14', '/help'], // within 5 min of the closed [10:00, 10:11]: late, although its own session would still be open
  ['ana', '10:30', '/home'], // a new session
  ['bo', '10:45', '/docs'], // closes bo's [10:22, 10:22] and ana's [10:30, 10:30]; bo's new session stays open
];

interface Result {
  readonly user: string;
  readonly start: number;
  readonly end: number;
  readonly activity: Activity | null;
  readonly timestamp: number;
}

function readAll(log: EmbeddedLog, stream: string): Result[] {
  const out: Result[] = [];
  for (const r of log.read(stream, 0, 0, 1000)) {
    const w = windowedSerde.deserialize(r.key);
    out.push({ user: w.key, start: w.start, end: w.end, activity: activitySerde.deserialize(r.value), timestamp: r.eventTime! });
  }
  return out;
}

const describe = (r: Result): string =>
  `[${hhmm(r.start)}, ${hhmm(r.end)}]  ${r.activity === null ? 'null (tombstone: retracted)' : `${r.activity.clicks} click${r.activity.clicks === 1 ? '' : 's'}: ${r.activity.pages.join(' ')}`}`;

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-sessions-'));
const log = await EmbeddedLog.open({ dataDir });
try {
  log.ensureStream(CLICKS, 1);
  log.ensureStream(UPDATES, 1);
  log.ensureStream(FINAL, 1);
  await log.append(input.map(([user, time, page]) => ({ stream: CLICKS, partition: 0, key: keySerde.serialize(user), value: clickSerde.serialize({ page }), eventTime: at(time) })));

  const topology = builder.build();
  const summary = await new Application(topology, { applicationId: APP, log }).run({ mode: 'catch-up' });
  console.log(`processed ${summary.processed} clicks; stream time ${hhmm(summary.streamTimes.get('0_0')!)}`);

  const updates = readAll(log, UPDATES);
  // Each accepted click gives its tombstones, then its session's new result: group them by click.
  console.log(`updates mode: ${updates.length} results, click by click:`);
  const accepted = input.filter(([, time]) => time !== '10:14');
  let group: Result[] = [];
  for (const u of updates) {
    group.push(u);
    if (u.activity === null) continue;
    const [user, time, page] = accepted.shift()!;
    console.log(`  ${user.padEnd(4)} ${time} ${page.padEnd(10)} → ${group.map(describe).join('\n'.padEnd(27))}`);
    group = [];
  }

  const finals = readAll(log, FINAL);
  console.log(`final mode: ${finals.length} sessions closed by stream time ${hhmm(summary.streamTimes.get('0_0')!)}:`);
  for (const f of finals) console.log(`  ${f.user.padEnd(4)} ${describe(f)}   (timestamp ${hhmm(f.timestamp)}: the last click)`);

  const finalNode = [...topology.nodes.values()].find((n) => n.kind === 'processor' && n.stores.includes('final-sessions'))!.name;
  const late = log.readAudit(APP).filter((e) => e.kind === 'late-record' && e.detail.startsWith(finalNode));
  console.log(`late (dropped) in the final aggregation:`);
  for (const e of late) console.log(`  ${e.stream}/${e.partition}@${e.offset}: ${e.detail.slice(finalNode.length + 2).replace(/\d{13}/g, (ms) => hhmm(Number(ms)))}`);

  // The facts this example shows:
  // The bridging click retracts both sessions it merges and emits the merged one.
  const merged = (r: Result): boolean => r.user === 'ana' && r.start === at('10:00') && r.end === at('10:11');
  const i = updates.findIndex(merged);
  const retracted = updates.slice(i - 2, i);
  check(
    retracted.every((r) => r.activity === null) && retracted.map((r) => `${hhmm(r.start)}-${hhmm(r.end)}`).join() === '10:00-10:04,10:10-10:11',
    'tombstones for [10:00, 10:04] and [10:10, 10:11] just before the merged session',
  );
  check(updates[i]!.activity?.clicks === 6, 'the merged session has 6 clicks');
  // Tombstones and results are timestamped with the session's last click.
  check(updates.every((u) => u.timestamp === u.end), 'results timestamped lastTs');
  // Final mode: one result per closed session, in closing order, no tombstones; bo's [10:45] is still open at stream time 10:45.
  check(
    finals.map((f) => `${f.user} ${hhmm(f.start)}-${hhmm(f.end)} ${f.activity?.clicks}`).join(', ') === 'bo 10:05-10:05 1, ana 10:00-10:11 6, bo 10:22-10:22 1, ana 10:30-10:30 1',
    'the final sessions',
  );
  check(finals.every((f) => f.timestamp === f.end), 'final results timestamped lastTs');
  // The click at 10:14 was late: the final [10:00, 10:11] stands, and the click is in no session of either mode.
  check(late.length === 1 && late[0]!.detail.includes('already closed'), 'the 10:14 click audited as late');
  check(![...updates, ...finals].some((r) => r.activity?.pages.includes('/help')), 'the late click counted nowhere');
  check(summary.lateRecords === 2, 'late for both aggregations');
} finally {
  await log.close();
  rmSync(dataDir, { recursive: true, force: true });
}
