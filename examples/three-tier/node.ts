/**
 * One node of the three-tier example (see ../three-tier.ts), run as its own
 * OS process on a shared embedded log:
 *
 *   node node.ts producer <dataDir> <A0|A1> <phase> <trace.ndjson>
 *   node node.ts service  <dataDir> <B|C-stream-time|C-watermark> <instance> <trace.ndjson>
 *
 * A service prints one JSON line: what its run did (late records, clocks).
 */
import { appendFileSync } from 'node:fs';
import {
  Application,
  EmbeddedLog,
  PRODUCER_HEADER,
  Serdes,
  StreamProducer,
  StreamsBuilder,
  TimeWindows,
  Watermarks,
  type EventClock,
  type Topology,
  type TraceEvent,
} from '../../src/index.ts';

/** A reading: its value, and the zone (C instance) service B routes it to. */
export interface Reading {
  readonly v: number;
  readonly zone: number;
}

/** What each producer writes in each phase: records (key, event time, zone), then a watermark. */
export const PRODUCERS = {
  A0: { partition: 0, phases: [{ records: [['X', 1, 0], ['Z', 2, 1]], watermark: 2 }, { records: [], watermark: 40 }] },
  A1: { partition: 1, phases: [{ records: [['Y', 11, 0], ['B', 22, 1]], watermark: 22 }, { records: [], watermark: 40 }] },
} as const;

export const SERVICES = ['B', 'C-stream-time', 'C-watermark'] as const;
export type Service = (typeof SERVICES)[number];

const encoder = new TextEncoder();

/** Friendly node names for the picture: `B/0_1` is B1, `C-watermark/0_1` is C1 (watermark). */
function nodeName(taskNode: string): string {
  const [app, task] = taskNode.split('/') as [string, string];
  const instance = task.split('_')[1];
  return app === 'B' ? `B${instance}` : `C${instance} (${app.slice(2)})`;
}

function traceTo(file: string, rename: (node: string) => string): (e: TraceEvent) => void {
  return (e) => appendFileSync(file, `${JSON.stringify({ ...e, node: rename(e.node) })}\n`);
}

/**
 * Service B: enriches nothing, just routes each reading to the zone's
 * partition of `b`, reading `a`'s watermarks from the stream and writing
 * its own into `b` (watermark mode). Service C counts readings per key in
 * 10-unit tumbling windows, final results only, late ones to a side
 * output — on stream time (grace 0), or on the watermarks B wrote.
 */
function topologyOf(service: Service): Topology {
  const clock: EventClock = service === 'C-stream-time' ? 'stream-time' : 'watermark';
  const builder = new StreamsBuilder({ eventClock: clock, watermarkIntervalMs: 1 });
  const readings = builder.stream<string, Reading>(service === 'B' ? 'a' : 'b', { key: Serdes.string(), value: Serdes.json<Reading>(), watermarks: Watermarks.fromStream() });
  if (service === 'B') {
    readings.to('b', { key: Serdes.string(), partitioner: (_k, _bytes, r, n) => r.zone % n, partitions: 2 });
  } else {
    readings
      .groupByKey()
      .windowedBy(TimeWindows.ofSize(10).grace(0))
      .count({ emit: 'final', late: { sideOutput: `${service}.late` } })
      .to(`${service}.counts`);
  }
  return builder.build();
}

async function runProducer(dataDir: string, name: keyof typeof PRODUCERS, phase: number, trace: string): Promise<void> {
  const log = await EmbeddedLog.open({ dataDir });
  log.ensureStream('a', 2);
  const spec = PRODUCERS[name];
  // Each producer owns one partition of `a`: it is that partition's only writer (tasks: 1).
  const producer = new StreamProducer(log, { application: 'A', task: name, tasks: 1 });
  const write = traceTo(trace, () => name);
  let seq = phase * 100;
  const step = spec.phases[phase]!;
  for (const [key, t, zone] of step.records) {
    await producer.send([{ stream: 'a', partition: spec.partition, key: encoder.encode(key), value: encoder.encode(JSON.stringify({ v: 1, zone })), eventTime: t }]);
    write({ node: name, seq: seq++, kind: 'record', time: t, key, stream: 'a', partition: spec.partition });
  }
  await producer.emitWatermark('a', step.watermark, [spec.partition]);
  write({ node: name, seq: seq++, kind: 'watermark-record', time: step.watermark, producer: name, stream: 'a', partition: spec.partition });
  await log.close();
}

async function runService(dataDir: string, service: Service, instance: number, trace: string): Promise<void> {
  const log = await EmbeddedLog.open({ dataDir });
  const app = new Application(topologyOf(service), { applicationId: service, log });
  const summary = await app.run({ mode: 'catch-up', instance: { instance, instances: 2 }, trace: traceTo(trace, nodeName) });
  const late = service === 'B' ? [] : lateKeys(log, `${service}.late`, instance);
  console.log(
    JSON.stringify({
      service,
      instance,
      lateRecords: summary.lateRecords,
      late,
      streamTimes: Object.fromEntries(summary.streamTimes),
      watermarks: Object.fromEntries(summary.watermarks),
    }),
  );
  await log.close();
}

/** Keys and timestamps of the late records this instance (its task `0_<instance>`) sent to its side output. */
function lateKeys(log: EmbeddedLog, stream: string, instance: number): string[] {
  const decoder = new TextDecoder();
  const late: string[] = [];
  for (let p = 0; p < (log.partitionCount(stream) ?? 0); p++) {
    for (const r of log.read(stream, p, 0, 1000)) {
      if (r.control === undefined && r.headers[PRODUCER_HEADER] === `${stream.replace(/\.late$/, '')}/0_${instance}`) late.push(`(${decoder.decode(r.key!)}, ${r.eventTime})`);
    }
  }
  return late;
}

const [role, dataDir, name, arg, trace] = process.argv.slice(2);
if (role === 'producer' && dataDir && trace && (name === 'A0' || name === 'A1')) await runProducer(dataDir, name, Number(arg), trace);
else if (role === 'service' && dataDir && trace && SERVICES.includes(name as Service)) await runService(dataDir, name as Service, Number(arg), trace);
else {
  console.error('usage: node node.ts producer <dataDir> <A0|A1> <phase> <trace> | service <dataDir> <B|C-stream-time|C-watermark> <instance> <trace>');
  process.exitCode = 2;
}
