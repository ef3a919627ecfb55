/**
 * A topology module for `tidemark run`: the highest temperature seen per
 * sensor so far, emitted on every new maximum to `max-temperature`.
 *
 * Input: stream `readings`, keys and values as `tidemark produce` writes
 * them by default (JSON), e.g. `{"key":"s1","value":{"celsius":21.5}}`.
 * Readings without a numeric `celsius` go to `max-temperature.dead-letter`.
 *
 *   tidemark produce --data-dir ./data --stream readings --partitions 2 < readings.ndjson
 *   tidemark run examples/topologies/max-temperature.ts --data-dir ./data
 */
import { StreamsBuilder, Serdes, keyValueStore } from '../../src/index.ts';

interface Reading {
  readonly celsius: number;
}

const builder = new StreamsBuilder();
builder.addStateStore(keyValueStore('max', { value: Serdes.json<number>() }));
builder
  .stream<string, Reading | null>('readings', {
    value: Serdes.json<Reading | null>((v) => (typeof (v as Reading | null)?.celsius === 'number' ? undefined : 'celsius: expected a number')),
  })
  // A null value is a tombstone (serdes pass it through unchecked): no reading.
  .filter((_, reading) => reading !== null)
  .process<string, { sensor: string; max: number }>(
    () => ({
      process(record, ctx) {
        const max = ctx.getStore<string, number>('max');
        const celsius = record.value!.celsius;
        const before = max.get(record.key);
        if (before === undefined || celsius > before) {
          max.put(record.key, celsius);
          ctx.forward({ ...record, value: { sensor: record.key, max: celsius } });
        }
      },
    }),
    { stores: ['max'] },
  )
  .to('max-temperature');

export default { applicationId: 'max-temperature', topology: builder.build() };
