import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { keyValueStore } from '../../src/dsl/stores.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import { partitionForKey } from '../../src/runtime/partitioner.ts';
import { ProcessingError } from '../../src/runtime/input-failure.ts';
import { taskIdOf } from '../../src/runtime/ids.ts';
import type { Processor } from '../../src/runtime/processor.ts';

const json = Serdes.json<unknown>();
const values = <V>(records: readonly { value: V }[]): V[] => records.map((r) => r.value);

// ---------------------------------------------------------------------------
// Stateless operators
// ---------------------------------------------------------------------------

test('filter keeps the records the predicate accepts, with their key and timestamp', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in').filter((_k, v, r) => v % 2 === 0 && r.timestamp > 0).to('out');
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in');
  input.pipeAll([1, 2, 3, 4, 6].map((v, i) => ({ key: `k${v}`, value: v, eventTime: i * 10 })));
  const out = d.readOutput<string, number>('out');
  assert.deepEqual(out.map((r) => [r.key, r.value, r.timestamp]), [['k2', 2, 10], ['k4', 4, 30], ['k6', 6, 40]]);
});

test('filterNot drops the records the predicate accepts', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in').filterNot((k) => k === 'drop').to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll([{ key: 'drop', value: 1 }, { key: 'keep', value: 2 }, { key: 'drop', value: 3 }]);
  assert.deepEqual(values(d.readOutput('out')), [2]);
});

test('map replaces key and value and keeps the timestamp', () => {
  const b = new StreamsBuilder();
  b.stream<string, { n: number }>('in').map((k, v) => [`${k}!`, v.n * 10] as const).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, { n: number }>('in').pipe('a', { n: 4 }, { eventTime: 77 });
  assert.deepEqual(d.readOutput<string, number>('out').map((r) => [r.key, r.value, r.timestamp]), [['a!', 40, 77]]);
});

test('mapValues replaces the value and keeps the key', () => {
  const b = new StreamsBuilder();
  b.stream<string, string>('in', { value: Serdes.string() }).mapValues((v, k) => ({ len: v.length, k })).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, string>('in', { value: Serdes.string() }).pipe('key', 'hello', { eventTime: 5 });
  assert.deepEqual(d.readOutput('out').map((r) => [r.key, r.value, r.timestamp]), [['key', { len: 5, k: 'key' }, 5]]);
});

test('flatMap turns one record into zero or more, in order, each with the input timestamp', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in').flatMap((k, n) => Array.from({ length: n }, (_, i) => [`${k}${i}`, i] as const)).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll([
    { key: 'a', value: 2, eventTime: 1 },
    { key: 'b', value: 0, eventTime: 2 },
    { key: 'c', value: 3, eventTime: 3 },
  ]);
  assert.deepEqual(d.readOutput('out').map((r) => [r.key, r.value, r.timestamp]), [['a0', 0, 1], ['a1', 1, 1], ['c0', 0, 3], ['c1', 1, 3], ['c2', 2, 3]]);
});

test('flatMapValues turns one value into zero or more, keeping the key', () => {
  const b = new StreamsBuilder();
  b.stream<string, string>('in').flatMapValues((v) => v.split(' ').filter((w) => w !== '')).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, string>('in').pipeAll([{ key: 's1', value: 'the quick fox' }, { key: 's2', value: '' }, { key: 's3', value: 'end' }]);
  assert.deepEqual(d.readOutput('out').map((r) => [r.key, r.value]), [['s1', 'the'], ['s1', 'quick'], ['s1', 'fox'], ['s3', 'end']]);
});

test('peek sees every record and passes it on unchanged', () => {
  const seen: [unknown, unknown, number][] = [];
  const b = new StreamsBuilder();
  b.stream<string, number>('in').peek((k, v, r) => seen.push([k, v, r.timestamp])).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll([{ key: 'a', value: 1, eventTime: 3 }, { key: 'b', value: 2, eventTime: 4 }]);
  assert.deepEqual(seen, [['a', 1, 3], ['b', 2, 4]]);
  assert.deepEqual(d.readOutput('out').map((r) => [r.key, r.value, r.timestamp]), [['a', 1, 3], ['b', 2, 4]]);
});

// ---------------------------------------------------------------------------
// split / branch, merge
// ---------------------------------------------------------------------------

test('split: the first matching branch wins, and unmatched records go to the default branch', () => {
  const b = new StreamsBuilder();
  const branches = b
    .stream<string, number>('in')
    .split()
    .branch('hot', (_k, v) => v > 30)
    .branch('warm', (_k, v) => v > 20)
    .defaultBranch('rest');
  branches.hot.to('hot');
  branches.warm.to('warm');
  branches.rest.to('rest');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll([35, 25, 10, 31, 21, 0].map((v) => ({ key: 's', value: v })));
  assert.deepEqual(values(d.readOutput('hot')), [35, 31], '35 matches hot and warm, and goes to hot only');
  assert.deepEqual(values(d.readOutput('warm')), [25, 21]);
  assert.deepEqual(values(d.readOutput('rest')), [10, 0]);
});

test('split with noDefaultBranch drops the records no branch takes', () => {
  const b = new StreamsBuilder();
  const branches = b.stream<string, number>('in').split().branch('neg', (_k, v) => v < 0).noDefaultBranch();
  branches.neg.to('neg');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll([-1, 5, -2, 7].map((v) => ({ key: 's', value: v })));
  assert.deepEqual(values(d.readOutput('neg')), [-1, -2]);
  assert.equal(d.summary().outputs.get('neg'), 2);
  assert.equal([...d.summary().outputs.values()].reduce((a, n) => a + n, 0), 2, 'nothing else was written');
});

test('split refuses two branches of the same name', () => {
  const b = new StreamsBuilder();
  assert.throws(() => b.stream('in').split().branch('x', () => true).branch('x', () => true), /two branches are named x/);
});

test('branch (old style): one stream per predicate, first match wins, the rest dropped', () => {
  const b = new StreamsBuilder();
  const [small, medium] = b.stream<string, number>('in').branch((_k, v) => v < 10, (_k, v) => v < 100);
  small!.to('small');
  medium!.to('medium');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll([5, 50, 500, 9].map((v) => ({ key: 's', value: v })));
  assert.deepEqual(values(d.readOutput('small')), [5, 9]);
  assert.deepEqual(values(d.readOutput('medium')), [50]);
});

test('merge: the records of both streams, in scheduler order (timestamp, then source declaration order)', () => {
  const b = new StreamsBuilder();
  const left = b.stream<string, string>('left');
  const right = b.stream<string, string>('right');
  left.merge(right).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream('left');
  d.inputStream('right');
  const raw = (stream: string, v: string, eventTime: number) => ({ stream, partition: 0, key: json.serialize('k'), value: json.serialize(v), eventTime });
  // Appended at once: right first in the log, but the scheduler decides the order.
  d.pipeRaw([raw('right', 'r1', 10), raw('right', 'r2', 30), raw('left', 'l1', 20), raw('left', 'l2', 30), raw('left', 'l3', 5)]);
  // Heads: l1(20) vs r1(10) → r1; l1(20) vs r2(30) → l1; l2(30) vs r2(30) → tie, left declared first → l2; l3(5) vs r2(30) → l3; r2.
  assert.deepEqual(values(d.readOutput('out')), ['r1', 'l1', 'l2', 'l3', 'r2']);
});

// ---------------------------------------------------------------------------
// to() and partitioning
// ---------------------------------------------------------------------------

test('to() with the default partitioner writes each key to partitionForKey of its serialized key (Kafka compatible)', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in').to('out', { partitions: 4 });
  const d = new TopologyTestDriver(b.build());
  const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`);
  d.inputStream<string, number>('in').pipeAll(keys.map((k, i) => ({ key: k, value: i })));
  const out = d.readOutput<string, number>('out');
  assert.equal(out.length, keys.length);
  for (const r of out) assert.equal(r.partition, partitionForKey(json.serialize(r.key)!, 4), r.key);
  assert.ok(new Set(out.map((r) => r.partition)).size > 1, 'the keys spread over partitions');
});

test('to() with the default partitioner keeps a null-key record on the task\'s partition number', () => {
  const b = new StreamsBuilder();
  b.stream<string | null, number>('in').to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string | null, number>('in', { partitions: 3 }).pipeAll([0, 1, 2].map((p) => ({ key: null, value: p, partition: p })));
  assert.deepEqual(d.readOutput('out').map((r) => [r.partition, r.value]), [[0, 0], [1, 1], [2, 2]]);
});

test('to() with a custom partitioner writes where it says', () => {
  const calls: [unknown, number][] = [];
  const b = new StreamsBuilder();
  b.stream<string, number>('in').to('out', {
    partitions: 3,
    key: Serdes.string(),
    partitioner: (key, keyBytes, value, partitions) => {
      calls.push([key, partitions]);
      assert.equal(Buffer.from(keyBytes!).toString(), key, 'the partitioner gets the serialized key');
      return value % partitions;
    },
  });
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll([4, 5, 6].map((v) => ({ key: `k${v}`, value: v })));
  assert.deepEqual(d.readOutput<string, number>('out', { key: Serdes.string() }).map((r) => [r.key, r.partition]), [['k6', 0], ['k4', 1], ['k5', 2]]);
  assert.deepEqual(calls, [['k4', 3], ['k5', 3], ['k6', 3]]);
});

// ---------------------------------------------------------------------------
// selectKey + stateful process(): repartitioning
// ---------------------------------------------------------------------------

/** Counts records per key in store `counts`, forwarding (key, count). */
const counter = (): Processor<string, unknown, string, number> => ({
  process(record, ctx) {
    const counts = ctx.getStore<string, number>('counts');
    const n = (counts.get(record.key) ?? 0) + 1;
    counts.put(record.key, n);
    ctx.forward({ ...record, value: n });
  },
});

test('selectKey followed by a stateful process() repartitions through <appId>-…-repartition: every record of a key reaches one task', () => {
  const b = new StreamsBuilder();
  b.addStateStore(keyValueStore('counts', { kind: 'lmdb' }));
  b.stream<string, { user: string }>('clicks')
    .selectKey((_k, v) => v.user)
    .process(counter, { stores: ['counts'] })
    .to('counts-out');
  const d = new TopologyTestDriver(b.build(), { applicationId: 'clickapp' });
  const clicks = d.inputStream<string, { user: string }>('clicks', { partitions: 3 });
  const users = ['ann', 'bob', 'cy', 'dee', 'eve'];
  const records = Array.from({ length: 60 }, (_, i) => ({ key: `session-${i % 7}`, value: { user: users[(i * 3) % users.length]! }, eventTime: 1_000 + i }));
  clicks.pipeAll(records);

  const internal = d.log.streams().filter((s) => s.endsWith('-repartition'));
  assert.equal(internal.length, 1, `one internal stream: ${internal.join(', ')}`);
  assert.match(internal[0]!, /^clickapp-.+-repartition$/);
  assert.equal(d.log.partitionCount(internal[0]!), 3);

  const expected = new Map<string, number>();
  for (const r of records) expected.set(r.value.user, (expected.get(r.value.user) ?? 0) + 1);
  // The counting sub-topology is 1 (it reads what sub-topology 0 wrote).
  const owner = new Map<string, string>();
  for (const p of [0, 1, 2]) {
    for (const [user, count] of d.storeEntries<string, number>('counts', taskIdOf(1, p))) {
      assert.equal(owner.get(user), undefined, `${user} counted in two tasks`);
      owner.set(user, taskIdOf(1, p));
      assert.equal(count, expected.get(user), `${user}: every record reached its task`);
      assert.equal(p, partitionForKey(json.serialize(user)!, 3), `${user} lives on its key's partition`);
    }
  }
  assert.deepEqual([...owner.keys()].sort(), users);
  const out = d.readOutput<string, number>('counts-out');
  for (const u of users) {
    assert.deepEqual(out.filter((r) => r.key === u).map((r) => r.value), Array.from({ length: expected.get(u)! }, (_, i) => i + 1), `${u} counted 1, 2, 3, … once each`);
  }
  // Records keep their timestamps through the internal stream.
  assert.deepEqual(out.map((r) => r.timestamp).sort((a, c) => a - c), records.map((r) => r.eventTime));
});

test('selectKey followed by a stateless step does not repartition', () => {
  const b = new StreamsBuilder();
  b.stream<string, { user: string }>('clicks').selectKey((_k, v) => v.user).mapValues(() => 1).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream('clicks', { partitions: 2 }).pipe('s', { user: 'u' });
  assert.deepEqual(d.log.streams().filter((s) => s.includes('repartition')), []);
  assert.deepEqual(d.readOutput('out').map((r) => r.key), ['u']);
});

test('two stateful steps after one selectKey share one internal stream, and each sees every record of its keys', () => {
  const b = new StreamsBuilder();
  b.addStateStore(keyValueStore('counts'));
  b.addStateStore(keyValueStore('firsts'));
  const keyed = b.stream<string, { user: string }>('clicks').selectKey((_k, v) => v.user);
  keyed.process(counter, { stores: ['counts'] }).to('counts-out');
  keyed
    .process<string, number>(() => ({
      process(r, ctx) {
        const firsts = ctx.getStore<string, number>('firsts');
        if (firsts.get(r.key) === undefined) firsts.put(r.key, r.timestamp);
      },
    }), { stores: ['firsts'] });
  const d = new TopologyTestDriver(b.build(), { applicationId: 'two' });
  const users = ['ann', 'bob', 'cy'];
  d.inputStream<string, { user: string }>('clicks', { partitions: 2 }).pipeAll(
    Array.from({ length: 12 }, (_, i) => ({ key: `s${i}`, value: { user: users[i % 3]! }, eventTime: 100 + i })),
  );
  assert.equal(d.log.streams().filter((s) => s.endsWith('-repartition')).length, 1);
  const counts = new Map([0, 1].flatMap((p) => d.storeEntries<string, number>('counts', taskIdOf(1, p))));
  const firsts = new Map([0, 1].flatMap((p) => d.storeEntries<string, number>('firsts', taskIdOf(1, p))));
  assert.deepEqual(counts, new Map([['ann', 4], ['bob', 4], ['cy', 4]]));
  assert.deepEqual(firsts, new Map([['ann', 100], ['bob', 101], ['cy', 102]]));
});

test('a stream is read by one source: reading it twice is refused (reuse or split the KStream instead)', () => {
  const b = new StreamsBuilder();
  const once = b.stream<string, number>('in');
  assert.throws(() => b.stream<string, number>('in'), /stream in is already read by source-in-1/);
  // The way to do it: one source, branched.
  const { even, odd } = once.split().branch('even', (_k, v) => v % 2 === 0).defaultBranch('odd');
  even.mapValues((v) => `even ${v}`).merge(odd.mapValues((v) => `odd ${v}`)).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll([1, 2, 3].map((v) => ({ key: 'k', value: v })));
  assert.deepEqual(values(d.readOutput('out')), ['odd 1', 'even 2', 'odd 3']);
});

// ---------------------------------------------------------------------------
// process(): stores, stream time, wall clock
// ---------------------------------------------------------------------------

test('process(): ctx.streamTime already includes the record in hand and never decreases', () => {
  const seen: [number, number][] = [];
  const b = new StreamsBuilder();
  b.stream<string, number>('in').process<string, number>(() => ({
    process(r, ctx) {
      seen.push([r.timestamp, ctx.streamTime]);
    },
  }));
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll([10, 30, 20, 40].map((t) => ({ key: 'k', value: t, eventTime: t })));
  assert.deepEqual(seen, [[10, 10], [30, 30], [20, 30], [40, 40]]);
});

test('process(): a declared store is readable and writable, and committed with the task', () => {
  const b = new StreamsBuilder();
  b.addStateStore(keyValueStore('counts', { kind: 'in-memory' }));
  b.stream<string, number>('in').process(counter, { stores: ['counts'] }).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in').pipeAll(['a', 'b', 'a'].map((k) => ({ key: k, value: 0 })));
  assert.deepEqual(d.readOutput('out').map((r) => [r.key, r.value]), [['a', 1], ['b', 1], ['a', 2]]);
  assert.deepEqual(d.storeEntries('counts'), [['a', 2], ['b', 1]]);
});

test('process(): getStore of a store the processor did not declare throws a clear error naming processor and store', () => {
  const b = new StreamsBuilder();
  b.addStateStore(keyValueStore('declared'));
  b.addStateStore(keyValueStore('other'));
  b.stream<string, number>('in').process(() => ({ process: (_r, ctx) => void ctx.getStore('other') }), { stores: ['declared'] });
  const d = new TopologyTestDriver(b.build());
  assert.throws(
    () => d.inputStream<string, number>('in').pipe('k', 1),
    (e: Error) => e instanceof ProcessingError && /processor process-\d+ has no store other/.test(e.message) && /offset 0/.test(e.message),
  );
});

test('process(): naming a store that was never declared fails when the topology is built', () => {
  const b = new StreamsBuilder();
  assert.throws(() => b.stream('in').process(() => ({ process: () => {} }), { stores: ['ghost'] }), /store ghost is not declared/);
  assert.throws(() => b.addStateStore(keyValueStore('twice')).addStateStore(keyValueStore('twice')), /declared twice/);
});

test('wallClockTime() is audited as a nondeterministic decision with the record\'s position', () => {
  const read: number[] = [];
  const b = new StreamsBuilder();
  b.stream<string, number>('in').process(() => ({ process: (_r, ctx) => void read.push(ctx.wallClockTime()) }));
  const d = new TopologyTestDriver(b.build(), { startTime: 1_000 });
  const input = d.inputStream<string, number>('in');
  input.pipe('k', 1, { eventTime: 5 });
  d.clock.advance(250);
  input.pipe('k', 2, { eventTime: 6 });
  assert.deepEqual(read, [1_000, 1_250], 'the virtual wall clock');
  const audit = d.audit().filter((a) => a.kind === 'nondeterministic:wall-clock');
  assert.deepEqual(audit.map((a) => [a.stream, a.partition, a.offset]), [['in', 0, 0], ['in', 0, 1]]);
  assert.match(audit[0]!.detail, /process-\d+ read the wall clock/);
  assert.equal(d.summary().nondeterministicDecisions, 2);
});

test('a topology that reads no wall clock makes no nondeterministic decision in catch-up', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in').mapValues((v) => v + 1).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in', { partitions: 2 }).pipeAll(Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: i })));
  assert.equal(d.summary().nondeterministicDecisions, 0);
  assert.deepEqual(d.audit(), []);
});

// ---------------------------------------------------------------------------
// 4.3 depth-first processing, cross-partition order, stream time per task
// ---------------------------------------------------------------------------

test('depth-first: a record reaches the sink before the next record enters the topology', () => {
  const events: string[] = [];
  const b = new StreamsBuilder();
  b.stream<string, string>('in')
    .peek((_k, v) => events.push(`enter ${v}`))
    .flatMapValues((v) => [v, `${v}'`])
    .peek((_k, v) => events.push(`sink ${v}`))
    .to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, string>('in').pipeAll([{ key: 'k', value: 'a' }, { key: 'k', value: 'b' }]);
  assert.deepEqual(events, ['enter a', 'sink a', "sink a'", 'enter b', 'sink b', "sink b'"]);
});

test('scheduling across partitions: records of the partitions of one task are processed in timestamp order', () => {
  const order: string[] = [];
  const b = new StreamsBuilder();
  const a = b.stream<string, string>('a');
  const c = b.stream<string, string>('c');
  a.merge(c).peek((_k, v) => order.push(v));
  const d = new TopologyTestDriver(b.build());
  d.inputStream('a');
  d.inputStream('c');
  const raw = (stream: string, v: string, eventTime: number) => ({ stream, partition: 0, key: null, value: json.serialize(v), eventTime });
  d.pipeRaw([raw('a', 'a@1', 1), raw('a', 'a@4', 4), raw('a', 'a@9', 9), raw('c', 'c@2', 2), raw('c', 'c@3', 3), raw('c', 'c@10', 10)]);
  assert.deepEqual(order, ['a@1', 'c@2', 'c@3', 'a@4', 'a@9', 'c@10']);
});

test('scheduling across partitions: an out-of-order record keeps its place in its partition', () => {
  const order: string[] = [];
  const b = new StreamsBuilder();
  b.stream<string, string>('a').merge(b.stream<string, string>('c')).peek((_k, v) => order.push(v));
  const d = new TopologyTestDriver(b.build());
  d.inputStream('a');
  d.inputStream('c');
  const raw = (stream: string, v: string, eventTime: number) => ({ stream, partition: 0, key: null, value: json.serialize(v), eventTime });
  d.pipeRaw([raw('a', 'a@5', 5), raw('a', 'a@1', 1), raw('c', 'c@3', 3)]);
  // a@1 is behind a@5 in its partition: it is never taken before it.
  assert.deepEqual(order, ['c@3', 'a@5', 'a@1']);
});

test('stream time is kept per task: each partition of a stream has its own, and an older record leaves it unchanged', () => {
  const seen: [string, number][] = [];
  const b = new StreamsBuilder();
  b.stream<string, number>('in').process(() => ({ process: (r, ctx) => void seen.push([`${ctx.taskId}:${r.timestamp}`, ctx.streamTime]) }));
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { partitions: 2 });
  input.pipeAll([
    { key: 'x', value: 0, partition: 0, eventTime: 100 },
    { key: 'x', value: 0, partition: 1, eventTime: 50 },
    { key: 'x', value: 0, partition: 0, eventTime: 70 },
  ]);
  assert.deepEqual(seen.sort(), [['0_0:100', 100], ['0_0:70', 100], ['0_1:50', 50]]);
  assert.deepEqual(d.streamTimes(), new Map([['0_0', 100], ['0_1', 50]]));
  assert.deepEqual(d.summary().streamTimes, new Map([['0_0', 100], ['0_1', 50]]));
});

test("a task that has processed no record has no stream time: 'none', as tidemark run prints it, not a number", () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in').to('out');
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { partitions: 2 });
  input.pipe('x', 0, { partition: 1, eventTime: 40 });
  assert.deepEqual(d.streamTimes(), new Map<string, number | 'none'>([['0_0', 'none'], ['0_1', 40]]));
});

test('real-time driver: an empty partition holds its task back until maxIdleMs, then proceeding is audited as nondeterministic', () => {
  const order: string[] = [];
  const b = new StreamsBuilder();
  b.stream<string, string>('a').merge(b.stream<string, string>('c')).peek((_k, v) => order.push(v));
  const d = new TopologyTestDriver(b.build(), { mode: 'real-time', maxIdleMs: 100 });
  d.inputStream('a');
  d.inputStream('c');
  d.pipeRaw([{ stream: 'a', partition: 0, key: null, value: json.serialize('a@5'), eventTime: 5 }]);
  assert.deepEqual(order, [], 'c may still get an older record: wait');
  d.advanceWallClockTime(99);
  assert.deepEqual(order, []);
  d.advanceWallClockTime(1);
  assert.deepEqual(order, ['a@5']);
  const idle = d.audit().filter((a) => a.kind === 'nondeterministic:idle-partition');
  assert.equal(idle.length, 1);
  assert.deepEqual([idle[0]!.stream, idle[0]!.partition, idle[0]!.offset], ['c', 0, 0]);
  assert.equal(d.summary().enforcedProcessing, 1);
  assert.equal(d.summary().nondeterministicDecisions, 1);
});

test('test driver: pipe and pipeBytes put a keyed record on its key\'s partition, like the default partitioner', () => {
  const b = new StreamsBuilder();
  b.stream('in').to('out');
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { partitions: 5 });
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  for (const k of keys) input.pipe(k, 1);
  for (const k of keys) input.pipeBytes(json.serialize(k), json.serialize(2), { brokerTime: 500 });
  input.pipeBytes(null, json.serialize(3));
  const expected = (k: string): number => partitionForKey(json.serialize(k)!, 5);
  for (let p = 0; p < 5; p++) {
    for (const r of d.log.read('in', p, 0, 100)) {
      const k = r.key === null ? null : (json.deserialize(r.key) as string);
      assert.equal(p, k === null ? 0 : expected(k), `${k}`);
      if (r.value !== null && json.deserialize(r.value) === 2) assert.equal(r.brokerTime, 500, 'pipeBytes honours brokerTime');
    }
  }
});
