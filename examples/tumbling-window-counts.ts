/**
 * Page views per minute: tumbling windows with final emission.
 *
 * A web front end logs page views; the log is keyed by page and its records
 * arrive slightly out of event-time order (several web servers, batching).
 * The topology counts views per page in one-minute tumbling windows with
 * 10 s of grace, and emits each window's count once, when it closes: when
 * the stream time (the largest timestamp processed) reaches the window's
 * end + grace. A view that arrives after its window closed is late; it goes,
 * untouched, to a side-output stream instead of vanishing, and the audit
 * says why it was late.
 *
 * Two catch-up runs show that final emission is driven by stream time only:
 * the first leaves the last minute open (no record has pushed stream time
 * past its end + grace yet); the second, after one more view is appended,
 * resumes from the first run's commit and emits it.
 *
 * Run it: `node examples/tumbling-window-counts.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, StreamsBuilder, TimeWindows, type Windowed } from '../src/index.ts';

interface PageView {
  readonly user: string;
}

const VIEWS = 'page-views';
const COUNTS = 'page-views-per-minute';
const LATE = 'page-views-late';
const APP = 'page-views-per-minute';

const keySerde = Serdes.string();
const viewSerde = Serdes.json<PageView>();
const windowedSerde = Serdes.json<Windowed<string>>();
const countSerde = Serdes.json<number>();

// 1. The topology: count per page per minute; a result only when a minute closes.
const builder = new StreamsBuilder();
builder
  .stream<string, PageView>(VIEWS, { key: keySerde, value: viewSerde })
  .groupByKey()
  .windowedBy(TimeWindows.ofSize(60_000).grace(10_000))
  .count({ emit: 'final', late: { sideOutput: LATE } })
  .to(COUNTS);

// 2. The input, in arrival order. One partition: one task, one stream time.
const t0 = Date.UTC(2025, 5, 1, 12, 0, 0); // 12:00:00
const at = (mmss: string): number => t0 + (Number(mmss.slice(0, 2)) * 60 + Number(mmss.slice(3))) * 1000;
const hhmmss = (t: number): string => new Date(t).toISOString().slice(11, 19);
const input: [page: string, user: string, mmss: string][] = [
  ['/home', 'ana', '00:05'],
  ['/pricing', 'ana', '00:20'],
  ['/home', 'bo', '00:50'],
  ['/home', 'cy', '01:02'], // stream time 12:01:02: the 12:00 minute is over, but in grace until 12:01:10
  ['/home', 'di', '00:58'], // out of order, within grace: counted in 12:00
  ['/pricing', 'bo', '01:30'], // stream time 12:01:30 >= 12:01:10: the 12:00 minute closes and is emitted
  ['/home', 'ed', '00:45'], // its minute closed 20 s ago (stream time): late, to the side output
  ['/home', 'fa', '01:40'],
  ['/pricing', 'cy', '02:15'], // stream time 12:02:15 >= 12:02:10: the 12:01 minute closes
  ['/home', 'gu', '02:30'],
];
const record = (page: string, user: string, mmss: string) => ({
  stream: VIEWS,
  partition: 0,
  key: keySerde.serialize(page),
  value: viewSerde.serialize({ user }),
  eventTime: at(mmss),
});

interface Count {
  readonly page: string;
  readonly minute: string;
  readonly views: number;
  readonly timestamp: number;
}

function readCounts(log: EmbeddedLog): Count[] {
  return log.read(COUNTS, 0, 0, 1000).map((r) => {
    const w = windowedSerde.deserialize(r.key);
    return { page: w.key, minute: `${hhmmss(w.start)}–${hhmmss(w.end)}`, views: countSerde.deserialize(r.value), timestamp: r.eventTime! };
  });
}

const plural = (n: number): string => `${n} view${n === 1 ? '' : 's'}`;

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-tumbling-'));
const log = await EmbeddedLog.open({ dataDir });
try {
  log.ensureStream(VIEWS, 1);
  log.ensureStream(COUNTS, 1);
  log.ensureStream(LATE, 1);
  await log.append(input.map(([page, user, mmss]) => record(page, user, mmss)));

  // 3. First run: catch up with the log, then stop.
  const app = new Application(builder.build(), { applicationId: APP, log });
  const first = await app.run({ mode: 'catch-up' });
  console.log(`run 1: processed ${first.processed} views, stream time ${hhmmss(first.streamTimes.get('0_0')!)}, ${first.lateRecords} late`);
  const afterFirst = readCounts(log);
  for (const c of afterFirst) console.log(`  ${c.minute}  ${c.page.padEnd(9)} ${plural(c.views).padEnd(8)} (result timestamp ${hhmmss(c.timestamp)}.999)`);

  // The 12:00 minute counts the out-of-order view at 00:58 but not the late one at 00:45.
  check(afterFirst.find((c) => c.page === '/home' && c.minute.startsWith('12:00:00'))?.views === 3, '/home 12:00 counts 3 views');
  // A window's result is timestamped with the last instant it covers, end − 1.
  check(afterFirst.every((c) => c.timestamp % 60_000 === 59_999), 'results timestamped end − 1');
  // Four windows closed (two pages × two minutes); 12:02 is still open at stream time 12:02:30 (< 12:03:10).
  check(afterFirst.length === 4, '4 results after run 1');
  check(!afterFirst.some((c) => c.minute.startsWith('12:02')), 'the 12:02 minute not emitted yet');

  // The late view, untouched, on the side output; the audit says why.
  const late = log.read(LATE, 0, 0, 100);
  check(late.length === 1 && viewSerde.deserialize(late[0]!.value).user === 'ed' && late[0]!.eventTime === at('00:45'), 'ed’s view on the side output');
  console.log(`late views on ${LATE}:`);
  for (const e of log.readAudit(APP).filter((a) => a.kind === 'late-record')) {
    const r = log.read(e.stream, e.partition, e.offset, 1)[0]!;
    console.log(`  ${e.stream}/${e.partition}@${e.offset} (${keySerde.deserialize(r.key)} at ${hhmmss(r.eventTime!)}): ${e.detail}`);
  }
  check(first.lateRecords === 1, 'one late record counted');

  // 4. One more view, then a second run: it resumes from the first run's commit, and stream time 12:03:12
  // passes 12:02's end + grace (12:03:10): the last minute is emitted, once.
  await log.append([record('/home', 'ha', '03:12')]);
  const second = await app.run({ mode: 'catch-up' });
  const added = readCounts(log).slice(afterFirst.length);
  console.log(`run 2: processed ${second.processed} view, stream time ${hhmmss(second.streamTimes.get('0_0')!)}`);
  for (const c of added) console.log(`  ${c.minute}  ${c.page.padEnd(9)} ${plural(c.views)}`);
  check(second.processed === 1, 'run 2 processes only the new view');
  check(added.length === 2 && added.every((c) => c.minute.startsWith('12:02')), 'run 2 emits the two 12:02 results');
  check(added.find((c) => c.page === '/home')?.views === 1 && added.find((c) => c.page === '/pricing')?.views === 1, '12:02: one view each');
} finally {
  await log.close();
  rmSync(dataDir, { recursive: true, force: true });
}
