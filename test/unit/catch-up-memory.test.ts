import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Application, MemoryLog, Serdes, StreamsBuilder, type Progress } from '../../src/index.ts';
import { SHARE_CAP_FETCHES } from '../../src/runtime/share-reads.ts';

// A repartition read by producer: partition 0 of the input holds ten times the records of
// partition 1 over the same event time, so the task of partition 1 writes its share of the
// repartition stream long before the task of partition 0 writes the records of the same time.
const BIG = 20_000;
const SMALL = 2_000;
const FETCH_SIZE = 50;

function setup(): { log: MemoryLog; app: Application } {
  const log = new MemoryLog();
  log.ensureStream('events', 2);
  const records = [];
  for (let i = 0; i < BIG; i++) records.push({ stream: 'events', partition: 0, key: Serdes.string().serialize(`k${i % 7}`), value: Serdes.json().serialize(i), eventTime: i * 10 });
  for (let i = 0; i < SMALL; i++) records.push({ stream: 'events', partition: 1, key: Serdes.string().serialize(`k${i % 7}`), value: Serdes.json().serialize(i), eventTime: i * 100 });
  log.appendSync(records);
  const b = new StreamsBuilder();
  b.stream<string, number>('events', { key: Serdes.string(), value: Serdes.json() })
    .groupBy((_k, v) => `g${v % 10}`, { key: Serdes.string() })
    .count()
    .to('counts');
  return { log, app: new Application(b.build(), { applicationId: 'memory', log }) };
}

/** The most records the run held read but not yet processed, over its progress reports. */
function heldRecords(): { onProgress: (p: Progress) => void; max: () => number } {
  let max = 0;
  return { onProgress: (p) => void (max = Math.max(max, p.consumed - p.processed)), max: () => max };
}

/** Each group's last count in `counts`. */
function finalCounts(log: MemoryLog): Map<string, number> {
  const counts = new Map<string, number>();
  for (let p = 0; p < (log.partitionCount('counts') ?? 0); p++) {
    for (const r of log.read('counts', p, 0, log.endOffset('counts', p))) counts.set(Serdes.string().deserialize(r.key), Serdes.json().deserialize(r.value) as number);
  }
  return counts;
}

const expectedCounts = (): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const n of [BIG, SMALL]) for (let i = 0; i < n; i++) counts.set(`g${i % 10}`, (counts.get(`g${i % 10}`) ?? 0) + 1);
  return counts;
};

// Each producer's share of a partition is read into a buffer of its own: one producer's share
// must not pile up in memory while the reader looks for another's records further on. A share
// holds at most SHARE_CAP_FETCHES fetches; here 2 tasks read 2 shares each (the input, 1 share
// per task, is drained by then). Before, the run held a whole share: BIG / 2 records per task.
const BOUND = 2 * 2 * SHARE_CAP_FETCHES * FETCH_SIZE;

test('catch-up through a repartition holds a bounded number of records, however far apart its producers wrote the same event time', async () => {
  const { log, app } = setup();
  const held = heldRecords();
  // One commit at the end of the first stage: each producer's whole share is one run of offsets.
  const summary = await app.run({ mode: 'catch-up', fetchSize: FETCH_SIZE, commitIntervalMs: 60_000, progressIntervalMs: 0, onProgress: held.onProgress });
  assert.equal(summary.processed, 2 * (BIG + SMALL));
  assert.equal(summary.consumed, summary.processed, 'each record is read into the run once');
  assert.deepEqual(finalCounts(log), expectedCounts());
  assert.ok(held.max() <= BOUND, `the run held up to ${held.max()} records read but not processed; the bound is ${BOUND}`);
});

test('real time through a repartition holds a bounded number of records too', async () => {
  const { log, app } = setup();
  const held = heldRecords();
  const abort = new AbortController();
  const summary = await app.run({
    mode: 'real-time',
    fetchSize: FETCH_SIZE,
    progressIntervalMs: 0,
    signal: abort.signal,
    onProgress: (p) => {
      held.onProgress(p);
      if (p.processed === 2 * (BIG + SMALL)) abort.abort();
    },
  });
  assert.equal(summary.processed, 2 * (BIG + SMALL));
  assert.deepEqual(finalCounts(log), expectedCounts());
  assert.ok(held.max() <= BOUND, `the run held up to ${held.max()} records read but not processed; the bound is ${BOUND}`);
});
