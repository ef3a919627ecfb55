/**
 * The demo's workload: temperature sensors behind gateways, simulated
 * deterministically from a seed. What makes it realistic is what makes
 * stream processing hard:
 *
 * - each gateway stamps readings with its own clock, skewed by a second or
 *   two, and sends them in batches, so a partition's records are out of
 *   event-time order;
 * - now and then a gateway loses its uplink for several seconds and then
 *   sends its backlog: records arrive late;
 * - a few readings are broken: glitch values (85 °C, a DS18B20's power-on
 *   reset), invalid timestamps (missing, negative, fractional) and
 *   undecodable values (truncated JSON, a string where a number belongs);
 * - calibrations for single sensors arrive now and then on a second stream,
 *   until `calibrationsUntil`.
 *
 * The content — values, skews, outages, which records are broken — depends
 * only on the seed; times are relative to the `start` given.
 *
 * @module
 */
import { partitionForKey } from '../runtime/partitioner.ts';
import type { AppendRecord } from '../runtime/log.ts';
import { CALIBRATIONS, READINGS } from './demo-topology.ts';
import { seededRandom } from '../testing/seeded-random.ts';

/** A gateway: which sensors it serves, how wrong its clock is, how often it sends. */
export interface Gateway {
  readonly name: string;
  readonly skewMs: number;
  readonly flushEveryMs: number;
  readonly sensors: readonly string[];
}

/** A record and the time it reaches the log (its broker time). */
export interface SentRecord {
  readonly sentAt: number;
  readonly record: AppendRecord;
}

/** A gateway's uplink outage: what it measured from `from` on was queued and sent at `until` or the first flush after. */
export interface Outage {
  readonly gateway: string;
  readonly from: number;
  readonly until: number;
}

/** What the workload has sent so far: the truth the demo's summary is checked against. */
export interface WorkloadCounts {
  readings: number;
  calibrations: number;
  /** Readings outside the plausible range, which the topology filters out. */
  glitches: number;
  invalidTimestamps: number;
  undecodable: number;
  /** Readings with an event time older than one before them in their partition. */
  outOfOrder: number;
  /** … older by more than 5 s. */
  lateBy5s: number;
  /** Gateway uplink outages. */
  outages: number;
}

interface Sensor {
  readonly id: string;
  readonly base: number;
  readonly episodeBoost: number;
  readonly gateway: number;
  temp: number;
  episodeTicksLeft: number;
}

interface GatewayState {
  readonly profile: Gateway;
  readonly random: () => number;
  nextFlush: number;
  offlineUntil: number;
  queue: { trueTime: number; record: AppendRecord; plant: Plant }[];
}

const KINDS = [
  { prefix: 'server-rack', count: 8, base: 31, boost: 14 },
  { prefix: 'greenhouse', count: 6, base: 24, boost: 13 },
  { prefix: 'cold-room', count: 6, base: 4, boost: 7 },
  { prefix: 'freezer', count: 4, base: -21, boost: 9 },
] as const;

const encoder = new TextEncoder();

/** What is wrong with a planted record, counted when it is sent. */
type Plant = 'glitch' | 'invalidTimestamp' | 'undecodable' | undefined;

/** A simulation of the sensors, gateways and maintenance tool; call {@link SensorWorkload.sentBy} as time goes on. */
export class SensorWorkload {
  readonly gateways: readonly Gateway[];
  readonly sensors: readonly string[];
  readonly counts: WorkloadCounts = { readings: 0, calibrations: 0, glitches: 0, invalidTimestamps: 0, undecodable: 0, outOfOrder: 0, lateBy5s: 0, outages: 0 };
  /** The gateway outages so far, in the order they began. */
  readonly outages: Outage[] = [];
  /** Readings per second, all sensors together. */
  readonly rate: number;
  readonly #partitions: number;
  readonly #intervalMs: number;
  // One generator per concern, so that what each produces does not depend on how time is sliced into sentBy() calls.
  readonly #readingRandom: () => number;
  readonly #calibrationRandom: () => number;
  readonly #sensors: Sensor[] = [];
  readonly #gateways: GatewayState[];
  #nextTick: number;
  #nextCalibration: number;
  readonly #latestInPartition = new Map<string, number>();

  readonly #calibrationsUntil: number;

  constructor(options: { seed: number; start: number; partitions: number; intervalMs?: number; calibrationsUntil?: number }) {
    this.#calibrationsUntil = options.calibrationsUntil ?? Infinity;
    this.#partitions = options.partitions;
    this.#intervalMs = options.intervalMs ?? 200;
    this.#readingRandom = seededRandom(options.seed);
    this.#calibrationRandom = seededRandom(options.seed ^ 0x5bd1e995);
    const setup = seededRandom(options.seed ^ 0x2545f491);
    const profiles = [
      { name: 'gw-north', skewMs: Math.round(1000 + setup() * 1500), flushEveryMs: 500 },
      { name: 'gw-south', skewMs: -Math.round(500 + setup() * 1000), flushEveryMs: 1000 },
      { name: 'gw-roof', skewMs: Math.round((setup() - 0.5) * 600), flushEveryMs: 250 },
    ];
    let i = 0;
    for (const kind of KINDS) {
      for (let n = 1; n <= kind.count; n++, i++) {
        const base = kind.base + (setup() - 0.5) * 2;
        this.#sensors.push({ id: `${kind.prefix}-${n}`, base, episodeBoost: kind.boost, gateway: i % profiles.length, temp: base, episodeTicksLeft: 0 });
      }
    }
    this.sensors = this.#sensors.map((s) => s.id);
    this.gateways = profiles.map((p, g) => ({ ...p, sensors: this.#sensors.filter((s) => s.gateway === g).map((s) => s.id) }));
    this.#gateways = this.gateways.map((profile, g) => ({
      profile,
      random: seededRandom(options.seed + 7919 * (g + 1)),
      nextFlush: options.start + profile.flushEveryMs,
      offlineUntil: -Infinity,
      queue: [],
    }));
    this.rate = (this.#sensors.length * 1000) / this.#intervalMs;
    this.#nextTick = options.start;
    this.#nextCalibration = options.start + 2000 + Math.round(this.#calibrationRandom() * 8000);
  }

  /** Everything that reaches the log up to time `t`, in arrival order, not returned by an earlier call. */
  sentBy(t: number): SentRecord[] {
    for (; this.#nextTick <= t; this.#nextTick += this.#intervalMs) this.#tick(this.#nextTick);
    const sent: SentRecord[] = [];
    for (; this.#nextCalibration <= Math.min(t, this.#calibrationsUntil); this.#nextCalibration += 5000 + Math.round(this.#calibrationRandom() * 30_000)) {
      sent.push({ sentAt: this.#nextCalibration, record: this.#calibration(this.#nextCalibration) });
    }
    for (const g of this.#gateways) {
      for (; g.nextFlush <= t; g.nextFlush += g.profile.flushEveryMs) this.#flush(g, g.nextFlush, sent);
    }
    // Stable: records sent at the same instant keep their generation order.
    sent.sort((a, b) => a.sentAt - b.sentAt);
    for (const s of sent) this.#countOrder(s.record);
    return sent;
  }

  /** Every sensor measures once; readings queue at their gateway. */
  #tick(trueTime: number): void {
    const rnd = this.#readingRandom;
    for (const s of this.#sensors) {
      if (s.episodeTicksLeft > 0) s.episodeTicksLeft--;
      // About one episode (a cooling failure, a door left open) per sensor every 8 minutes, lasting 20-60 s.
      else if (rnd() < this.#intervalMs / 480_000) s.episodeTicksLeft = Math.round((20_000 + rnd() * 40_000) / this.#intervalMs);
      const target = s.base + (s.episodeTicksLeft > 0 ? s.episodeBoost : 0);
      s.temp += (target - s.temp) * 0.04 + (rnd() - 0.5) * 0.3;
      const gateway = this.#gateways[s.gateway]!;
      gateway.queue.push({ trueTime, ...this.#reading(s, trueTime + gateway.profile.skewMs, rnd) });
    }
  }

  #reading(s: Sensor, eventTime: number, rnd: () => number): { record: AppendRecord; plant: Plant } {
    let plant: Plant;
    let value = `{"celsius":${Math.round(s.temp * 10) / 10}}`;
    let time: number | null = eventTime;
    const roll = rnd();
    if (roll < 0.002) {
      value = '{"celsius":85}';
      plant = 'glitch';
    } else if (roll < 0.0025) {
      value = `{"celsius":${Math.round(s.temp * 10) / 10}`.slice(0, 12); // the connection dropped mid-message
      plant = 'undecodable';
    } else if (roll < 0.003) {
      value = '{"celsius":"ERR"}';
      plant = 'undecodable';
    } else if (roll < 0.0038) {
      const kind = Math.floor(rnd() * 3);
      time = kind === 0 ? null : kind === 1 ? -1 : eventTime + 0.5; // clock unset after a reboot; a sign bug; float arithmetic
      plant = 'invalidTimestamp';
    }
    return { record: this.#record(READINGS, s.id, value, time, { gateway: this.gateways[s.gateway]!.name }), plant };
  }

  #calibration(at: number): AppendRecord {
    const rnd = this.#calibrationRandom;
    const sensor = this.#sensors[Math.floor(rnd() * this.#sensors.length)]!;
    const offset = Math.round((rnd() * 3 - 1.5) * 10) / 10;
    this.counts.calibrations++;
    return this.#record(CALIBRATIONS, sensor.id, JSON.stringify({ offset }), at, { source: 'maintenance' });
  }

  #record(stream: string, key: string, value: string, eventTime: number | null, headers: Record<string, string>): AppendRecord {
    const keyBytes = encoder.encode(key);
    return { stream, partition: partitionForKey(keyBytes, this.#partitions), key: keyBytes, value: encoder.encode(value), eventTime, headers };
  }

  /** A gateway sends what it has queued, unless its uplink is down (then the queue waits for the next flush). */
  #flush(g: GatewayState, at: number, sent: SentRecord[]): void {
    if (at < g.offlineUntil) return;
    if (g.random() < 0.0015) {
      g.offlineUntil = at + 4000 + Math.round(g.random() * 8000);
      this.counts.outages++;
      this.outages.push({ gateway: g.profile.name, from: at, until: g.offlineUntil });
      return;
    }
    let n = 0;
    while (n < g.queue.length && g.queue[n]!.trueTime <= at) n++;
    for (const q of g.queue.splice(0, n)) {
      this.counts.readings++;
      if (q.plant === 'glitch') this.counts.glitches++;
      else if (q.plant === 'invalidTimestamp') this.counts.invalidTimestamps++;
      else if (q.plant === 'undecodable') this.counts.undecodable++;
      sent.push({ sentAt: at, record: q.record });
    }
  }

  #countOrder(r: AppendRecord): void {
    if (r.stream !== READINGS || r.eventTime === null || !Number.isSafeInteger(r.eventTime) || r.eventTime < 0) return;
    const key = `${r.partition}`;
    const latest = this.#latestInPartition.get(key) ?? -1;
    if (r.eventTime < latest) {
      this.counts.outOfOrder++;
      if (latest - r.eventTime > 5000) this.counts.lateBy5s++;
    } else this.#latestInPartition.set(key, r.eventTime);
  }
}
