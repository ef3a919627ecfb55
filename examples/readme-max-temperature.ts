/**
 * The README's example, as a program: the maximum temperature per sensor,
 * over readings timestamped by a field of the value, on the embedded log.
 *
 * Run it: `node examples/readme-max-temperature.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamsBuilder, Serdes, Extractors, keyValueStore, Application, EmbeddedLog } from '../src/index.ts';
import { partitionForKey } from '../src/semantics.ts';

type Reading = { sensor: string; celsius: number; ts: number };

const builder = new StreamsBuilder();
builder.addStateStore(keyValueStore('max', { key: Serdes.string(), value: Serdes.json<number>() }));
builder
  .stream<string, Reading>('readings', { key: Serdes.string(), timestamp: Extractors.field('ts') })
  .filter((_, r) => Number.isFinite(r.celsius))
  .process<string, number>(() => ({
    process(record, ctx) {
      const max = ctx.getStore<string, number>('max');
      const m = Math.max(max.get(record.key) ?? -Infinity, record.value.celsius);
      max.put(record.key, m);
      ctx.forward({ ...record, value: m });
    },
  }), { stores: ['max'], key: Serdes.string() })
  .to('max-per-sensor');

const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-readme-'));
try {
  const log = await EmbeddedLog.open({ dataDir });
  log.ensureStream('readings', 2);
  const readings: Reading[] = [
    { sensor: 's1', celsius: 21.5, ts: 1_000 },
    { sensor: 's2', celsius: 19.0, ts: 1_100 },
    { sensor: 's1', celsius: 23.0, ts: 900 },
    { sensor: 's1', celsius: 22.0, ts: 1_200 },
  ];
  await log.append(readings.map((r) => {
    const key = Serdes.string().serialize(r.sensor);
    return { stream: 'readings', partition: partitionForKey(key!, 2), key, value: Serdes.json<Reading>().serialize(r), eventTime: null };
  }));

  const app = new Application(builder.build(), { applicationId: 'max-temps', log });
  const summary = await app.run({ mode: 'catch-up' });
  console.log(`processed ${summary.processed}, wrote ${summary.outputs.get('max-per-sensor')} results`);
  const results = [0, 1].flatMap((p) => log.read('max-per-sensor', p, 0, 100)).map((r) => `${Serdes.string().deserialize(r.key)}=${Serdes.json<number>().deserialize(r.value)} @${r.eventTime}`);
  console.log(results.join('\n'));
  // s1 lives in one partition, whose records keep their offset order (1000, 900, 1200): the max after 900 is 23.
  if (!results.includes('s1=23 @1200')) throw new Error('unexpected result for s1');
  await log.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
