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
 * Runnable on its own: `tidemark run src/cli/demo-topology.ts --data-dir D`
 * (with the two streams produced into D; `tidemark demo --keep` leaves one).
 *
 * @module
 */
import { StreamsBuilder } from '../dsl/stream-builder.ts';
import { keyValueStore } from '../dsl/stores.ts';
import { jsonSerde, stringSerde, type Serde } from '../time/serde.ts';
import type { StreamRecord } from '../time/record.ts';
import type { ProcessorContext } from '../runtime/processor.ts';
import type { Topology } from '../runtime/topology.ts';
import type { TopologyModule } from './topology-module.ts';

export const READINGS = 'sensor-readings';
export const CALIBRATIONS = 'sensor-calibrations';
export const STATS = 'sensor-stats';
export const ALERTS = 'sensor-alerts';
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
  const readings = builder
    .stream<string, Reading | null>(READINGS, { key, value: jsonSerde<Reading | null>(numberField('celsius')) })
    .filter((_, r) => r !== null && r.celsius >= PLAUSIBLE_CELSIUS.min && r.celsius <= PLAUSIBLE_CELSIUS.max)
    .mapValues((r): SensorEvent => ({ kind: 'reading', celsius: r!.celsius }));
  const calibrations = builder
    .stream<string, Calibration | null>(CALIBRATIONS, { key, value: jsonSerde<Calibration | null>(numberField('offset')) })
    .mapValues((c): SensorEvent => ({ kind: 'calibration', offset: c?.offset ?? 0 }));

  const emitted = readings.merge(calibrations).process<string, Emitted>(() => ({ process: monitor }), { stores: ['sensors'], key });
  emitted.mapValues((e) => e.stats).to(`${prefix}${STATS}`, { key });
  emitted
    .filter((_, e) => e.alert !== undefined)
    .mapValues((e) => e.alert!)
    .to(`${prefix}${ALERTS}`, { key });
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

/** The demo application: the topology and its id, as `tidemark run` and the demo use it. */
export function demoApplication(options: { applicationId?: string; outputPrefix?: string } = {}): TopologyModule {
  return { applicationId: options.applicationId ?? DEMO_APPLICATION_ID, topology: buildDemoTopology(options) };
}

/** For `tidemark run`: the demo application with its default names. */
export default function (): TopologyModule {
  return demoApplication();
}
