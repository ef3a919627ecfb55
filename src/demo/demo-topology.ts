/**
 * The demo's topology: temperature monitoring for a building's sensors.
 *
 * Two input streams, keyed by sensor id and co-partitioned (same partition
 * count), so that one task sees a sensor's readings and its calibrations:
 *
 * - `sensor-readings`: `{"celsius": 21.4}` from gateways, timestamped with
 *   each gateway's own (skewed) clock as event time;
 * - `sensor-calibrations`: `{"offset": -0.4}`, written now and then by a
 *   maintenance tool.
 *
 * Readings outside -40..80 °C are sensor glitches and dropped. Each
 * remaining reading is corrected by the sensor's calibration *in effect at
 * the reading's event time* — which is why the order of readings and
 * calibrations across the two streams matters, and why tidemark schedules
 * them by timestamp. Per sensor, a state store keeps running statistics;
 * every reading emits the sensor's statistics to `sensor-stats`, and
 * crossing the sensor's limit (with 1 °C of hysteresis) emits an alert to
 * `sensor-alerts`.
 *
 * Besides, the plausible readings are aggregated per sensor in 10-second
 * tumbling windows of event time (raw values: a window summarizes what the
 * sensor sent), with 5 s of grace and final emission: when a task's stream
 * time reaches a window's end + 5 s, the window's count, minimum, maximum
 * and mean go to `sensor-windows`, once. A reading that arrives after its
 * window closed (a gateway's backlog after an outage) is late: it goes,
 * untouched, to `sensor-readings-late`, and the audit records why.
 *
 * Runnable on its own: `tidemark run src/demo/demo-topology.ts --data-dir D`
 * (with the two streams produced into D; `tidemark demo --keep` leaves one).
 *
 * @module
 */
import { StreamsBuilder } from '../dsl/stream-builder.ts';
import type { KStream } from '../dsl/kstream.ts';
import { keyValueStore } from '../dsl/stores.ts';
import { TimeWindows } from '../windows/time-windows.ts';
import type { Windowed } from '../windows/window.ts';
import { jsonSerde, stringSerde, type Serde } from '../records/serde.ts';
import type { StreamRecord } from '../records/record.ts';
import type { ProcessorContext } from '../runtime/processor.ts';
import type { Topology } from '../runtime/topology.ts';

export const READINGS = 'sensor-readings';
export const CALIBRATIONS = 'sensor-calibrations';
export const STATS = 'sensor-stats';
export const ALERTS = 'sensor-alerts';
export const WINDOWS = 'sensor-windows';
export const LATE_READINGS = 'sensor-readings-late';
/** The windows of `sensor-windows`: tumbling, 10 s of event time, 5 s of grace. */
export const WINDOW_MS = 10_000;
export const WINDOW_GRACE_MS = 5_000;
export const DEMO_APPLICATION_ID = 'sensor-monitor';

/** A reading as a gateway sends it. */
export interface Reading {
  readonly celsius: number;
}

/** A calibration: added to the sensor's raw readings from its timestamp on. */
export interface Calibration {
  readonly offset: number;
}

/** What `sensor-stats` carries after each reading of a sensor. */
export interface SensorStats {
  readonly sensor: string;
  readonly readings: number;
  readonly last: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** The calibration offset applied to `last`. */
  readonly offset: number;
  /** Readings older than an earlier-processed reading of the same sensor. */
  readonly outOfOrder: number;
}

/** What `sensor-alerts` carries: a sensor crossed its limit, or came back below it. */
export interface Alert {
  readonly sensor: string;
  readonly state: 'ALERT' | 'CLEARED';
  readonly celsius: number;
  readonly limit: number;
  /** The reading's timestamp, ISO-8601. */
  readonly at: string;
}

/** What `sensor-windows` carries for a sensor's closed window (keyed by `Windowed<sensor>`). */
export interface WindowStats {
  readonly readings: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

/** A window's running aggregate, in the window store (as JSON: null before the first reading, JSON has no Infinity). */
interface WindowSum {
  readonly n: number;
  readonly sum: number;
  readonly min: number | null;
  readonly max: number | null;
}

function addToWindow(w: WindowSum, celsius: number): WindowSum {
  return { n: w.n + 1, sum: w.sum + celsius, min: Math.min(w.min ?? celsius, celsius), max: Math.max(w.max ?? celsius, celsius) };
}

/** Per sensor, in the `sensors` store. */
interface SensorState {
  readings: number;
  sum: number;
  /** Null before the first reading (JSON has no Infinity). */
  min: number | null;
  max: number | null;
  last: number;
  offset: number;
  latest: number;
  outOfOrder: number;
  alerting: boolean;
}

type SensorEvent = { readonly kind: 'reading'; readonly celsius: number } | { readonly kind: 'calibration'; readonly offset: number };
type Emitted = { readonly stats: SensorStats; readonly alert?: Alert };

/** Plausible range: outside it is a glitch, e.g. the 85 °C a DS18B20 reports after a power-on reset. */
export const PLAUSIBLE_CELSIUS = { min: -40, max: 80 } as const;

/** Upper limit by kind of sensor, from its id (`server-rack-3` → server-rack). */
export function limitFor(sensor: string): number {
  if (sensor.startsWith('freezer')) return -15;
  if (sensor.startsWith('cold-room')) return 8;
  if (sensor.startsWith('greenhouse')) return 35;
  return 40;
}

/** A value checker for jsonSerde: names the field at fault, so dead letters say what was wrong. */
function numberField(field: string): (v: unknown) => string | undefined {
  return (v) =>
    v !== null && typeof v === 'object' && typeof (v as Record<string, unknown>)[field] === 'number' ? undefined : `${field}: expected a number`;
}

/**
 * Builds the topology. `outputPrefix` renames the two output streams
 * (`replay.` gives `replay.sensor-stats`…), so that a second application
 * can replay the same input into streams of its own and compare.
 */
export function buildDemoTopology(options: { outputPrefix?: string } = {}): Topology {
  const prefix = options.outputPrefix ?? '';
  const builder = new StreamsBuilder();
  builder.addStateStore(keyValueStore('sensors', { key: stringSerde() as Serde<string>, value: jsonSerde<SensorState>() }));
  const key = stringSerde() as Serde<string>;

  // A null value is a tombstone, as in Kafka: serdes pass it through unchecked. No reading to count;
  // for a calibration, the sensor's calibration is removed.
  const plausible = builder
    .stream<string, Reading | null>(READINGS, { key, value: jsonSerde<Reading | null>(numberField('celsius')) })
    .filter((_, r) => r !== null && r.celsius >= PLAUSIBLE_CELSIUS.min && r.celsius <= PLAUSIBLE_CELSIUS.max) as KStream<string, Reading>;
  const readings = plausible.mapValues((r): SensorEvent => ({ kind: 'reading', celsius: r.celsius }));
  const calibrations = builder
    .stream<string, Calibration | null>(CALIBRATIONS, { key, value: jsonSerde<Calibration | null>(numberField('offset')) })
    .mapValues((c): SensorEvent => ({ kind: 'calibration', offset: c?.offset ?? 0 }));

  const emitted = readings.merge(calibrations).process<string, Emitted>(() => ({ process: monitor }), { stores: ['sensors'], key });
  emitted.mapValues((e) => e.stats).to(`${prefix}${STATS}`, { key });
  emitted
    .filter((_, e) => e.alert !== undefined)
    .mapValues((e) => e.alert!)
    .to(`${prefix}${ALERTS}`, { key });

  // Per sensor and 10 s of event time: one summary when the window closes; late readings, untouched, to a stream of their own.
  plausible
    .groupByKey()
    .windowedBy(TimeWindows.ofSize(WINDOW_MS).grace(WINDOW_GRACE_MS))
    .aggregate<WindowSum>(() => ({ n: 0, sum: 0, min: null, max: null }), (_, r, w) => addToWindow(w, r.celsius), {
      name: 'sensor-windows-store',
      emit: 'final',
      late: { sideOutput: `${prefix}${LATE_READINGS}` },
    })
    .mapValues((w): WindowStats => ({ readings: w.n, min: w.min!, max: w.max!, mean: Math.round((w.sum / w.n) * 100) / 100 }))
    // Partitioned by the sensor, not the whole windowed key: a sensor's windows stay in one partition, in closing order.
    .to(`${prefix}${WINDOWS}`, { key: jsonSerde<Windowed<string>>() });
  return builder.build();
}

/** The per-sensor logic: calibrations update the state; readings update it and emit statistics (and alerts). */
function monitor(record: StreamRecord<string, SensorEvent>, ctx: ProcessorContext<string, Emitted>): void {
  const store = ctx.getStore<string, SensorState>('sensors');
  const sensor = record.key;
  const s = store.get(sensor) ?? { readings: 0, sum: 0, min: null, max: null, last: 0, offset: 0, latest: -1, outOfOrder: 0, alerting: false };
  const event = record.value;
  if (event.kind === 'calibration') {
    s.offset = event.offset;
    store.put(sensor, s);
    return;
  }
  const celsius = Math.round((event.celsius + s.offset) * 10) / 10;
  s.readings++;
  s.sum += celsius;
  s.min = Math.min(s.min ?? celsius, celsius);
  s.max = Math.max(s.max ?? celsius, celsius);
  s.last = celsius;
  if (record.timestamp < s.latest) s.outOfOrder++;
  else s.latest = record.timestamp;
  const limit = limitFor(sensor);
  let alert: Alert | undefined;
  // Hysteresis: a sensor hovering at its limit raises one alert, not one per reading.
  if (!s.alerting && celsius > limit) alert = { sensor, state: 'ALERT', celsius, limit, at: new Date(record.timestamp).toISOString() };
  else if (s.alerting && celsius < limit - 1) alert = { sensor, state: 'CLEARED', celsius, limit, at: new Date(record.timestamp).toISOString() };
  if (alert !== undefined) s.alerting = alert.state === 'ALERT';
  store.put(sensor, s);
  const stats: SensorStats = {
    sensor,
    readings: s.readings,
    last: celsius,
    min: s.min,
    max: s.max,
    mean: Math.round((s.sum / s.readings) * 100) / 100,
    offset: s.offset,
    outOfOrder: s.outOfOrder,
  };
  ctx.forward({ ...record, value: alert === undefined ? { stats } : { stats, alert } });
}

/** An application: its id and topology; the shape of a topology module's default export, for `tidemark run`. */
export interface DemoApplication {
  readonly applicationId: string;
  readonly topology: Topology;
}

/** The demo application: the topology and its id, as `tidemark run` and the demo use it. */
export function demoApplication(options: { applicationId?: string; outputPrefix?: string } = {}): DemoApplication {
  return { applicationId: options.applicationId ?? DEMO_APPLICATION_ID, topology: buildDemoTopology(options) };
}

/** For `tidemark run`: the demo application with its default names. */
export default function (): DemoApplication {
  return demoApplication();
}
