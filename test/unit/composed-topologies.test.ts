import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { keyValueStore } from '../../src/dsl/stores.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import { Watermarks } from '../../src/time/watermark.ts';
import { TimeWindows } from '../../src/windows/time-windows.ts';
import { partitionForKey } from '../../src/runtime/partitioner.ts';
import type { Windowed } from '../../src/windows/window.ts';
import type { KStream } from '../../src/dsl/kstream.ts';
import type { ProcessorContext } from '../../src/runtime/processor.ts';
import type { StreamRecord } from '../../src/records/record.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { ManualClock } from '../../src/time/clock.ts';
import { Application } from '../../src/runtime/application.ts';
import { applicationInternals } from '../../src/runtime/application.ts';

// ---------------------------------------------------------------------------
// A node of a sub-topology exists once per task, however many paths lead to it
// ---------------------------------------------------------------------------

test('a processor below merge() is one instance per task: a per-instance counter counts every record of both sources', () => {
  const b = new StreamsBuilder();
  const a = b.stream<string, number>('a', { key: Serdes.string() });
  const c = b.stream<string, number>('b', { key: Serdes.string() });
  a.merge(c)
    .process<string, number>(() => {
      let seen = 0;
      return { process: (r, ctx) => ctx.forward({ ...r, value: ++seen }) };
    }, { key: Serdes.string() })
    .to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream('a');
  d.inputStream('b');
  // Both streams at once, so the scheduler orders them by timestamp.
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  d.pipeRaw([
    { stream: 'a', partition: 0, key: enc('x'), value: enc('0'), headers: {}, eventTime: 1 },
    { stream: 'a', partition: 0, key: enc('x'), value: enc('0'), headers: {}, eventTime: 3 },
    { stream: 'b', partition: 0, key: enc('y'), value: enc('0'), headers: {}, eventTime: 2 },
  ]);
  assert.deepEqual(d.readOutput<string, number>('out', { key: Serdes.string() }).map((r) => [r.key, r.value, r.timestamp]), [['x', 1, 1], ['y', 2, 2], ['x', 3, 3]]);
});

test('a stateful count below a merge of three paths (two sources, one filtered twice) sees each record once', () => {
  const b = new StreamsBuilder();
  b.addStateStore(keyValueStore('n', { key: Serdes.string(), value: Serdes.json<number>() }));
  const a = b.stream<string, number>('a', { key: Serdes.string() });
  const c = b.stream<string, number>('b', { key: Serdes.string() });
  a.filter((_, v) => v > 0).merge(a.filter((_, v) => v <= 0)).merge(c)
    .process<string, number>(() => ({
      process(r, ctx) {
        const store = ctx.getStore<string, number>('n');
        const n = (store.get(r.key) ?? 0) + 1;
        store.put(r.key, n);
        ctx.forward({ ...r, value: n });
      },
    }), { stores: ['n'], key: Serdes.string() })
    .to('out');
  const d = new TopologyTestDriver(b.build());
  const [inA, inB] = [d.inputStream<string, number>('a', { key: Serdes.string() }), d.inputStream<string, number>('b', { key: Serdes.string() })];
  inA.pipeAll([{ key: 'k', value: 1, eventTime: 1 }, { key: 'k', value: -1, eventTime: 2 }]);
  inB.pipe('k', 5, { eventTime: 3 });
  assert.deepEqual(d.readOutput<string, number>('out', { key: Serdes.string() }).map((r) => r.value), [1, 2, 3]);
});

test('a final windowed count after a merge, on watermarks with grace, emits each window once', () => {
  const b = new StreamsBuilder({ eventClock: 'watermark' });
  const src = { key: Serdes.string(), watermarks: Watermarks.boundedOutOfOrderness(0) };
  const a = b.stream<string, number>('a', src);
  const c = b.stream<string, number>('b', src);
  a.merge(c).groupByKey().windowedBy(TimeWindows.ofSize(10).grace(5)).count({ emit: 'final' }).to('out');
  const d = new TopologyTestDriver(b.build());
  const [inA, inB] = [d.inputStream<string, number>('a', { key: Serdes.string() }), d.inputStream<string, number>('b', { key: Serdes.string() })];
  // The watermark passes the window's end (fired) before it passes end + grace (closed).
  inA.pipeAll([{ key: 'k', value: 0, eventTime: 1 }, { key: 'k', value: 0, eventTime: 12 }, { key: 'k', value: 0, eventTime: 40 }]);
  inB.pipeAll([{ key: 'k', value: 0, eventTime: 2 }, { key: 'k', value: 0, eventTime: 12 }, { key: 'k', value: 0, eventTime: 41 }]);
  const out = d.readOutput<Windowed<string>, number>('out');
  assert.deepEqual(out.map((r) => [r.key.start, r.value]), [[0, 2], [10, 2]]);
});

// ---------------------------------------------------------------------------
// Windowed results keep the inner-key partitioner through key-preserving operators
// ---------------------------------------------------------------------------

type Counts = KStream<Windowed<string>, number>;

/** Each key-preserving operator a windowed result may pass through before `to()`. */
const keyPreserving: Record<string, (s: Counts) => Counts> = {
  direct: (s) => s,
  mapValues: (s) => s.mapValues((n) => n),
  filter: (s) => s.filter(() => true),
  filterNot: (s) => s.filterNot(() => false),
  peek: (s) => s.peek(() => {}),
  flatMapValues: (s) => s.flatMapValues((n) => [n]),
  'split branch': (s) => s.split().branch('all', () => true).noDefaultBranch().all,
  'branch()': (s) => s.branch(() => true)[0]!,
  'merge with itself filtered': (s) => s.filter((k) => k.key < 'm').merge(s.filter((k) => k.key >= 'm')),
  'a chain': (s) => s.filter(() => true).mapValues((n) => n).peek(() => {}),
};

for (const [name, through] of Object.entries(keyPreserving)) {
  test(`windowed results through ${name} land on the partition of their inner key`, () => {
    const b = new StreamsBuilder();
    const counts = b.stream<string, number>('in', { key: Serdes.string() }).groupByKey().windowedBy(TimeWindows.ofSize(10)).count();
    through(counts).to('out', { partitions: 4 });
    const d = new TopologyTestDriver(b.build());
    const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`);
    d.inputStream<string, number>('in', { key: Serdes.string(), partitions: 4 }).pipeAll(keys.map((key, i) => ({ key, value: 0, eventTime: i * 7 })));
    const out = d.readOutput<Windowed<string>, number>('out');
    assert.equal(out.length, keys.length);
    for (const r of out) assert.equal(r.partition, partitionForKey(new TextEncoder().encode(r.key.key), 4), `${r.key.key} on partition ${r.partition}`);
  });
}

test('a windowed stream written to one output both directly and through a filter keeps each key on one partition', () => {
  const b = new StreamsBuilder();
  const counts = b.stream<string, number>('in', { key: Serdes.string() }).groupByKey().windowedBy(TimeWindows.ofSize(10)).count();
  counts.to('out', { partitions: 3 });
  counts.filter(() => true).to('out', { partitions: 3 });
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in', { key: Serdes.string(), partitions: 3 }).pipeAll(Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 6}`, value: 0, eventTime: i * 3 })));
  const partitionsOf = new Map<string, Set<number>>();
  for (const r of d.readOutput<Windowed<string>, number>('out')) partitionsOf.set(r.key.key, (partitionsOf.get(r.key.key) ?? new Set()).add(r.partition));
  for (const [key, parts] of partitionsOf) assert.equal(parts.size, 1, `${key} on partitions ${[...parts].join(', ')}`);
});

test('operators that change the key drop the inner-key partitioner: map() results go by their new key', () => {
  const b = new StreamsBuilder();
  const counts = b.stream<string, number>('in', { key: Serdes.string() }).groupByKey().windowedBy(TimeWindows.ofSize(10)).count();
  counts.map((k, n) => [`${k.key}@${k.start}`, n] as const).to('out', { key: Serdes.string(), partitions: 4 });
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in', { key: Serdes.string(), partitions: 4 }).pipeAll(Array.from({ length: 12 }, (_, i) => ({ key: `key-${i}`, value: 0, eventTime: i })));
  const out = d.readOutput<string, number>('out', { key: Serdes.string() });
  assert.equal(out.length, 12);
  for (const r of out) assert.equal(r.partition, partitionForKey(new TextEncoder().encode(r.key), 4));
});

test('to() after merging windowed results with plain records, without a partitioner, is an error naming the stream', () => {
  const b = new StreamsBuilder();
  const counts = b.stream<string, number>('in', { key: Serdes.string() }).groupByKey().windowedBy(TimeWindows.ofSize(10)).count();
  const plain = b.stream<Windowed<string>, number>('other');
  assert.throws(() => counts.merge(plain).to('out'), /^Error: writing to out: the stream merges windowed results \(partitioned by their inner key\) with records partitioned by their whole key; give to\(\) a partitioner$/);
  assert.doesNotThrow(() => counts.merge(plain).to('out', { partitioner: () => 0 }));
});

// ---------------------------------------------------------------------------
// The test driver follows a run's catch-up order
// ---------------------------------------------------------------------------

test('the test driver processes a sub-topology reading an internal and an external stream as a catch-up run does: the internal records of the same input first', async () => {
  const build = (): ReturnType<StreamsBuilder['build']> => {
    const b = new StreamsBuilder();
    b.addStateStore(keyValueStore('n', { key: Serdes.string(), value: Serdes.json<number>() }));
    const counter = (): { process: (r: StreamRecord, ctx: ProcessorContext) => void } => ({
      process(r, ctx) {
        const n = (ctx.getStore<string, number>('n').get(String(r.key)) ?? 0) + 1;
        ctx.getStore<string, number>('n').put(String(r.key), n);
        ctx.forward({ ...r, value: [n, ctx.streamTime] });
      },
    });
    const rekeyed = b.stream<string, number>('in0', { key: Serdes.string() }).selectKey(() => 'k0', Serdes.string());
    rekeyed.process<string, unknown>(counter, { stores: ['n'], key: Serdes.string() }).merge(b.stream<string, unknown>('in1', { key: Serdes.string() })).to('out', { key: Serdes.string() });
    return b.build();
  };
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const input = [
    { stream: 'in0', partition: 0, key: enc('a'), value: enc('1'), headers: {}, eventTime: 1 },
    { stream: 'in1', partition: 0, key: enc('b'), value: enc('2'), headers: {}, eventTime: 2 },
  ];
  const d = new TopologyTestDriver(build());
  d.inputStream('in0');
  d.inputStream('in1');
  d.pipeRaw(input);
  const driven = d.readOutput('out', { key: Serdes.string() }).map((r) => [r.key, r.value, r.timestamp]);
  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('in0', 1);
  log.ensureStream('in1', 1);
  log.appendSync(input);
  await new Application(build(), { applicationId: 'test', log }).run({ mode: 'catch-up' });
  const ran = log.read('out', 0, 0, 100).filter((r) => r.control === undefined).map((r) => [new TextDecoder().decode(r.key!), JSON.parse(new TextDecoder().decode(r.value!)), r.eventTime]);
  assert.deepEqual(driven, ran);
  assert.deepEqual(ran, [['k0', [1, 1], 1], ['b', 2, 2]]);
});

test('a merge that joins the part before a repartition with the part after it is refused with one line naming the stream and the merge', async () => {
  const b = new StreamsBuilder();
  const s = b.stream<string, number>('in', { key: Serdes.string() });
  s.selectKey((k) => `${k}!`, Serdes.string()).groupByKey().count().merge(s).to('out');
  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('in', 1);
  await assert.rejects(
    new Application(b.build(), { applicationId: 'app', log }).run({ mode: 'catch-up' }),
    /^Error: topology: internal stream app-select-key-\d+-repartition is written and read by one sub-topology \(joined by merge-\d+\): merge streams only after repartitioning both, e\.g\. a\.repartition\(\)\.merge\(b\.repartition\(\)\)$/,
  );
});

test('a stateful step after an aggregation or a process() does not repartition when the key was not changed before it; process() results lose a windowed partitioner', () => {
  const b = new StreamsBuilder();
  b.addStateStore(keyValueStore('seen', { key: Serdes.string(), value: Serdes.json<number>() }));
  const counts = b.stream<string, number>('in', { key: Serdes.string() }).groupByKey().count();
  counts.groupByKey().count().process(() => ({ process: (r, ctx) => ctx.forward(r) }), { stores: ['seen'], key: Serdes.string() }).to('out');
  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('in', 2);
  const plan = applicationInternals(new Application(b.build(), { applicationId: 'app', log })).plan({});
  assert.equal(plan.subTopologies.length, 1, 'no repartition: one sub-topology');
  const w = new StreamsBuilder();
  const windowed = w.stream<string, number>('in', { key: Serdes.string() }).groupByKey().windowedBy(TimeWindows.ofSize(10)).count();
  assert.notEqual(windowed.defaultPartitioner, undefined);
  assert.equal(windowed.process(() => ({ process: (r, ctx) => ctx.forward(r) })).defaultPartitioner, undefined);
});
