/**
 * Event-time timers on watermarks: an alert for each sensor silent for
 * 10 minutes of event time.
 *
 * Each reading (re)arms a per-sensor event-time timer at its timestamp plus
 * 10 minutes and disarms the previous one. The processor's event clock is
 * its input watermark (`eventClock: 'watermark'`), generated per partition
 * with `boundedOutOfOrderness(1 min)`: a timer fires when the watermark
 * passes it, so a reading up to a minute out of order still disarms its
 * sensor's timer in time. Timers are state: they commit with the task's
 * outputs, so after a crash each fires exactly once, and a replay of the
 * same readings fires the same alerts at the same points.
 *
 * The example runs the same readings twice — all at once, and in two runs
 * stopped after 5 records — and checks the alerts are the same.
 *
 * Run it: `node examples/inactivity-alerts.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, StreamsBuilder, Watermarks, fingerprintStream, keyValueStore, type Processor } from '../src/index.ts';

const MINUTE = 60_000;
const SILENCE = 10 * MINUTE;
const day = Date.UTC(2025, 5, 1);
const at = (hhmm: string): number => day + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))) * MINUTE;
const hhmm = (t: number): string => new Date(t).toISOString().slice(11, 16);

// 1. The topology: a processor with a store (each sensor's armed timer) and timers.
const builder = new StreamsBuilder({ eventClock: 'watermark' });
builder.addStateStore(keyValueStore('armed', { key: Serdes.string(), value: Serdes.json<number>() }));
const silence: Processor<string, number, string, string> = {
  process(record, ctx) {
    const armed = ctx.getStore<string, number>('armed');
    const previous = armed.get(record.key);
    if (previous !== undefined) ctx.timers.deleteEventTimeTimer(previous, record.key);
    const due = record.timestamp + SILENCE;
    armed.put(record.key, due);
    ctx.timers.registerEventTimeTimer(due, record.key);
  },
  onTimer(timer, ctx) {
    ctx.getStore<string, number>('armed').delete(timer.name);
    const since = timer.time - SILENCE;
    ctx.forward({ stream: '', partition: ctx.partition, offset: -1, eventTime: timer.time, brokerTime: null, ingestTime: 0, headers: {}, key: timer.name, value: `silent since ${hhmm(since)}`, timestamp: timer.time });
  },
};
builder
  .stream<string, number>('readings', { key: Serdes.string(), value: Serdes.json<number>(), watermarks: Watermarks.boundedOutOfOrderness(MINUTE) })
  .process<string, string>(() => silence, { stores: ['armed'] })
  .to('alerts', { key: Serdes.string(), value: Serdes.string() });
const topology = builder.build();

// 2. The readings, in arrival order; one partition.
const readings: [sensor: string, hhmm: string][] = [
  ['s1', '10:00'],
  ['s2', '10:01'],
  ['s1', '10:05'],
  ['s2', '10:04'], // out of order by a minute: still re-arms s2 before its timer (10:11) is due
  ['s1', '10:09'],
  ['s1', '10:16'], // W = 10:15 − 1 ms: s2's timer (10:14) fires
  ['s1', '10:20'],
  ['s3', '10:40'], // W = 10:39: s1's timer (10:30) fires
];

async function runOnce(stopEvery: number | undefined): Promise<{ alerts: string[]; fingerprint: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-inactivity-'));
  try {
    const log = await EmbeddedLog.open({ dataDir });
    log.ensureStream('readings', 1);
    const enc = new TextEncoder();
    await log.append(readings.map(([s, t]) => ({ stream: 'readings', partition: 0, key: enc.encode(s), value: enc.encode('1'), eventTime: at(t) })));
    const app = new Application(topology, { applicationId: 'inactivity', log });
    // Stopped and restarted every `stopEvery` records: the timers are restored from the last commit.
    for (let done = false; !done; ) {
      const s = await app.run({ mode: 'catch-up', ...(stopEvery === undefined ? {} : { maxRecords: stopEvery }) });
      done = stopEvery === undefined || s.processed < stopEvery;
    }
    const dec = new TextDecoder();
    const alerts = log.read('alerts', 0, 0, 100).filter((r) => r.control === undefined).map((r) => `${dec.decode(r.key!)} at ${hhmm(r.eventTime!)}: ${dec.decode(r.value!)}`);
    const fingerprint = fingerprintStream(log, 'alerts');
    await log.close();
    return { alerts, fingerprint };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const once = await runOnce(undefined);
const restarted = await runOnce(5);
for (const a of once.alerts) console.log(a);
console.log(`\nstopped and restarted every 5 records: ${restarted.fingerprint === once.fingerprint ? 'the same alerts' : 'DIFFERENT alerts'} (fingerprint ${once.fingerprint.slice(0, 16)}…)`);
// s3's timer (10:50) never fires: no reading moved the watermark past it. Watermarks come only from records.
if (once.alerts.length !== 2 || restarted.fingerprint !== once.fingerprint) process.exitCode = 1;
