/**
 * The sensors that are hot right now: a table, filtered, as a changelog.
 *
 * Gateways write each sensor's latest reading to a stream
 * keyed by sensor; a sensor taken out of service gets a tombstone (a null
 * value). `builder.table` reads that stream as a table — the latest reading
 * per sensor — and `filter` keeps the sensors above 30 °C. Its `toStream()`
 * is the changelog of "hot sensors": a record when a sensor becomes hot or
 * its hot reading changes, a tombstone when it cools down or leaves. A
 * sensor that is never hot makes no record at all, not even when it leaves
 * (Kafka Streams would write a tombstone for it unless old values are sent).
 *
 * Two catch-up runs show that the table's rows are state: the second run
 * resumes from the first one's commit, so a sensor that was hot before the
 * restart and leaves after it comes out as a tombstone.
 *
 * Run it: `node examples/hot-sensors-table.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, StreamsBuilder } from '../src/index.ts';

interface Reading {
  readonly celsius: number;
}

const LATEST = 'sensor-latest';
const HOT = 'hot-sensors';
const APP = 'hot-sensors';

const keySerde = Serdes.string();
const readingSerde = Serdes.json<Reading>();

// 1. The topology: the latest reading per sensor, the hot ones, as a changelog.
const builder = new StreamsBuilder();
builder
  .table<string, Reading>(LATEST, { key: keySerde, value: readingSerde, store: 'lmdb' })
  .filter((_, r) => r.celsius > 30)
  .toStream()
  .to(HOT, { key: keySerde, value: readingSerde });

const t0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const record = (sensor: string | null, celsius: number | null, second: number) => ({
  stream: LATEST,
  partition: 0,
  key: sensor === null ? null : keySerde.serialize(sensor),
  value: celsius === null ? null : readingSerde.serialize({ celsius }),
  eventTime: t0 + second * 1000,
});

function readHot(log: EmbeddedLog): string[] {
  return log.read(HOT, 0, 0, 1000).map((r) => {
    const reading = r.value === null ? null : readingSerde.deserialize(r.value);
    return `${keySerde.deserialize(r.key)} ${reading === null ? 'not hot (tombstone)' : `${reading.celsius} °C`}`;
  });
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-hot-sensors-'));
const log = await EmbeddedLog.open({ dataDir });
try {
  log.ensureStream(LATEST, 1);
  log.ensureStream(HOT, 1);
  await log.append([
    record('s1', 31, 1), // hot
    record('s2', 22, 2), // not hot: nothing
    record('s1', 33, 3), // still hot: the new reading
    record('s3', 35, 4), // hot
    record('s2', null, 5), // s2 leaves; it was never hot: nothing
    record(null, 40, 6), // no sensor: dropped, counted and audited
    record('s3', 29, 7), // cools down: tombstone
  ]);

  // 2. First run: catch up, then stop.
  const app = new Application(builder.build(), { applicationId: APP, log });
  const first = await app.run({ mode: 'catch-up' });
  const afterFirst = readHot(log);
  console.log(`run 1: ${first.processed} readings, ${first.dropped} dropped`);
  for (const line of afterFirst) console.log(`  ${line}`);
  check(JSON.stringify(afterFirst) === JSON.stringify(['s1 31 °C', 's1 33 °C', 's3 35 °C', 's3 not hot (tombstone)']), 'the hot sensors’ changelog of run 1');
  check(first.dropped === 1 && log.readAudit(APP).some((e) => e.kind === 'dropped' && e.offset === 5), 'the reading without a sensor dropped and audited');

  // 3. s1 leaves after the restart: the second run knows it from the committed table, so it writes its tombstone.
  await log.append([record('s1', null, 8), record('s3', 36, 9)]);
  const second = await app.run({ mode: 'catch-up' });
  const added = readHot(log).slice(afterFirst.length);
  console.log(`run 2: ${second.processed} readings`);
  for (const line of added) console.log(`  ${line}`);
  check(JSON.stringify(added) === JSON.stringify(['s1 not hot (tombstone)', 's3 36 °C']), 'the hot sensors’ changelog of run 2');
} finally {
  await log.close();
  rmSync(dataDir, { recursive: true, force: true });
}
