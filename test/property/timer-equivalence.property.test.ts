/**
 * Event-time timers read the same "event time now" as windows: stream time,
 * or the watermark plus one. So a processor whose timers run on stream time
 * and the same processor on `Watermarks.monotonic()` watermarks (W = the
 * largest timestamp − 1, so W + 1 is stream time) fire the same timers after
 * the same records, in the same order.
 *
 * Each case: random records (in order, with ties, or out of order) spread
 * over 1–3 partitions of one source (one task per partition, so a task's
 * stream time and its watermark come from the same partition), piped in a
 * random interleaving of the partitions in random batches. Each record
 * registers an event-time timer `delay` after its timestamp (0 = due at
 * once), may delete the timer of an earlier record of its key, and a timer
 * whose delay is odd registers a follow-up timer when it fires. Every firing
 * writes the timer, the stream time it fired at, and how many records its
 * task had processed; the two runs must write the same per partition.
 *
 * Case count: `TIDEMARK_PROPERTY_RUNS` (default 1) × 150.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import { Watermarks } from '../../src/time/watermark.ts';
import { keyValueStore } from '../../src/dsl/stores.ts';
import { partitionForKey } from '../../src/runtime/partitioner.ts';
import type { Processor } from '../../src/runtime/processor.ts';
import type { EventClock } from '../../src/time/event-clock.ts';

const RUNS = propertyRuns(150);

interface Command {
  /** The record's timer: `delay` after its timestamp, named by the record's id. */
  readonly delay: number;
  /** Delete the timer of the key's previous record. */
  readonly deletePrevious: boolean;
  readonly id: number;
}

interface Case {
  readonly partitions: 1 | 2 | 3;
  readonly records: readonly { readonly key: string; readonly timestamp: number; readonly command: Command }[];
  readonly order: readonly number[];
  readonly batches: readonly number[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    partitions: fc.constantFrom(1 as const, 2 as const, 3 as const),
    raw: fc.array(
      fc.record({
        key: fc.constantFrom('a', 'b', 'c', 'd'),
        step: fc.integer({ min: 0, max: 6 }),
        lag: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 20 }), weight: 1 }),
        delay: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 25 })),
        deletePrevious: fc.boolean(),
      }),
      { minLength: 1, maxLength: 60 },
    ),
    order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 }),
    batches: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }),
  })
  .map(({ raw, ...c }) => {
    let clock = 0;
    const records = raw.map((r, id) => {
      clock += r.step;
      return { key: r.key, timestamp: Math.max(0, clock - r.lag), command: { delay: r.delay, deletePrevious: r.deletePrevious, id } };
    });
    return { ...c, records };
  });

interface Firing {
  readonly time: number;
  readonly name: string;
  readonly streamTime: number;
  readonly processed: number;
}

/** Registers, deletes and follows up timers as the commands say; every firing is forwarded. */
const timed = (): Processor<string, Command, string, Firing> => {
  let processed = 0;
  return {
    process(r, ctx) {
      processed++;
      const last = ctx.getStore<string, number>('last');
      const previous = last.get(r.key);
      if (r.value.deletePrevious && previous !== undefined) ctx.timers.deleteEventTimeTimer(previous, `${r.key}`);
      const at = r.timestamp + r.value.delay;
      ctx.timers.registerEventTimeTimer(at, `${r.key}`);
      if (r.value.delay % 2 === 1) ctx.timers.registerEventTimeTimer(at, `${r.key}+${r.value.delay}`);
      last.put(r.key, at);
    },
    onTimer(timer, ctx) {
      const value: Firing = { time: timer.time, name: timer.name, streamTime: ctx.streamTime, processed };
      ctx.forward({ stream: '', partition: ctx.partition, offset: -1, key: timer.name, value, headers: {}, eventTime: null, brokerTime: null, ingestTime: 0, timestamp: timer.time });
      // A follow-up, 3 ms later: timers registered while timers fire are due by the same rule.
      const plus = timer.name.indexOf('+');
      if (plus > 0 && !timer.name.endsWith('!')) ctx.timers.registerEventTimeTimer(timer.time + 3, `${timer.name}!`);
    },
  };
};

/** The firings of one run, per partition, as lines. */
function run(c: Case, clock: EventClock): Record<number, string[]> {
  const b = clock === 'stream-time' ? new StreamsBuilder() : new StreamsBuilder({ eventClock: 'watermark' });
  b.addStateStore(keyValueStore('last', { key: Serdes.string(), value: Serdes.json<number>() }));
  b.stream<string, Command>('in', { key: Serdes.string(), value: Serdes.json<Command>(), ...(clock === 'watermark' ? { watermarks: Watermarks.monotonic<string, Command>() } : {}) })
    .process(timed, { key: Serdes.string(), value: Serdes.json<Firing>(), stores: ['last'] })
    .to('fired', { key: Serdes.string(), value: Serdes.json<Firing>() });
  const d = new TopologyTestDriver(b.build());
  d.inputStream('in', { partitions: c.partitions });
  const key = Serdes.string();
  const json = Serdes.json<Command>();
  const laid = c.records.map((r, i) => ({ ...r, partition: partitionForKey(key.serialize(r.key)!, c.partitions), rank: c.order[i % c.order.length]! }));
  // A random interleaving of the partitions, each keeping its own order.
  const byPartition = new Map<number, typeof laid>();
  for (const r of laid) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
  const next = new Map<number, number>();
  const input = [...laid]
    .sort((x, y) => x.rank - y.rank || x.command.id - y.command.id)
    .map(({ partition }) => {
      const k = next.get(partition) ?? 0;
      next.set(partition, k + 1);
      return byPartition.get(partition)![k]!;
    })
    .map((r) => ({ stream: 'in', partition: r.partition, key: key.serialize(r.key), value: json.serialize(r.command), headers: {}, eventTime: r.timestamp }));
  for (let i = 0, k = 0; i < input.length; k++) {
    const size = c.batches[k % c.batches.length]!;
    d.pipeRaw(input.slice(i, i + size));
    i += size;
  }
  const out: Record<number, string[]> = {};
  for (const r of d.readOutput<string, Firing>('fired', { key: Serdes.string(), value: Serdes.json<Firing>() })) {
    (out[r.partition] ??= []).push(`${r.value.time} ${r.value.name} at stream time ${r.value.streamTime} after ${r.value.processed} records`);
  }
  return out;
}

test('event-time timers fire after the same records on stream time and on monotonic watermarks', () => {
  let firings = 0;
  let cases = 0;
  fc.assert(
    fc.property(caseArb, (c) => {
      const streamTime = run(c, 'stream-time');
      const watermark = run(c, 'watermark');
      assert.deepEqual(watermark, streamTime);
      cases++;
      firings += Object.values(streamTime).flat().length;
    }),
    propertyParams(RUNS),
  );
  // Not vacuous: timers fired, about one per record.
  assert.ok(firings > cases, `${firings} firings in ${cases} cases`);
});
