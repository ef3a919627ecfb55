/**
 * Sensor alerts: a complete tidemark program on the embedded log.
 *
 * Two gateways send temperature readings with their own (skewed) clocks, so
 * the log is out of event-time order. The topology drops glitches, keeps
 * the highest temperature per sensor in a state store and raises an alert
 * the first time a sensor goes above 30 °C. A catch-up run processes
 * everything in the log and stops; the same input always gives the same
 * output, which the fingerprints at the end identify.
 *
 * Run it: `node examples/sensor-alerts.ts` (Node >= 22.18).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, StreamsBuilder, fingerprintStream, keyValueStore } from '../src/index.ts';
import { partitionForKey } from '../src/semantics.ts';

interface Reading {
  readonly celsius: number;
}
interface Alert {
  readonly sensor: string;
  readonly celsius: number;
  readonly at: string;
}

const LIMIT = 30;
// Keys are sensor ids, values JSON; the same serdes write the input and read it.
const keySerde = Serdes.json<string>();
const readingSerde = Serdes.json<Reading>();

// 1. The topology.
const builder = new StreamsBuilder();
builder.addStateStore(keyValueStore('max-by-sensor', { key: keySerde, value: Serdes.json<number>() }));
builder
  .stream<string, Reading>('readings', { key: keySerde, value: readingSerde })
  .filter((_, r) => r.celsius > -40 && r.celsius < 80) // 85 °C is a sensor's power-on glitch, not a fire
  .process<string, Alert>(
    () => ({
      process(record, ctx) {
        const maxima = ctx.getStore<string, number>('max-by-sensor');
        const before = maxima.get(record.key) ?? -Infinity;
        if (record.value.celsius > before) maxima.put(record.key, record.value.celsius);
        if (before <= LIMIT && record.value.celsius > LIMIT) {
          ctx.forward({ ...record, value: { sensor: record.key, celsius: record.value.celsius, at: new Date(record.timestamp).toISOString() } });
        }
      },
    }),
    { stores: ['max-by-sensor'], key: keySerde },
  )
  .to('alerts');

// 2. Some input: readings appended in gateway order, not event-time order.
const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-example-'));
const log = await EmbeddedLog.open({ dataDir });
try {
  log.ensureStream('readings', 2);
  const t0 = Date.UTC(2025, 5, 1, 9, 0, 0);
  const reading = (sensor: string, celsius: number, secondsAfter: number) => {
    const key = keySerde.serialize(sensor)!;
    // Kafka's default partitioner, as the runtime uses for keyed output.
    return { stream: 'readings', partition: partitionForKey(key, 2), key, value: readingSerde.serialize({ celsius }), eventTime: t0 + secondsAfter * 1000 };
  };
  // Gateway A's clock runs 2 s fast; gateway B sends a batch late.
  await log.append([reading('rack-1', 24.5, 2), reading('rack-2', 26.0, 3), reading('rack-1', 31.2, 6), reading('rack-2', 85, 7)]);
  await log.append([reading('rack-2', 29.1, 1), reading('rack-2', 33.4, 4), reading('rack-1', 35.0, 8), reading('rack-2', 28.0, 9)]);

  // 3. Run it: catch up with everything in the log, then stop.
  const app = new Application(builder.build(), { applicationId: 'sensor-alerts', log });
  const summary = await app.run({ mode: 'catch-up' });

  // 4. The results.
  console.log(`processed ${summary.processed} readings (one a glitch), ${summary.deadLettered} dead-lettered, ${summary.nondeterministicDecisions} nondeterministic decisions`);
  for (let p = 0; p < (log.partitionCount('alerts') ?? 0); p++) {
    for (const r of log.read('alerts', p, 0, 100)) {
      const alert = JSON.parse(new TextDecoder().decode(r.value!)) as Alert;
      console.log(`alert: ${alert.sensor} reached ${alert.celsius} °C at ${alert.at}`);
    }
  }
  for (const stream of summary.outputStreams) console.log(`fingerprint ${stream} ${fingerprintStream(log, stream)}`);
} finally {
  await log.close();
  rmSync(dataDir, { recursive: true, force: true });
}
