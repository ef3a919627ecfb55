import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import { Extractors } from '../../src/time/extractor.ts';
import { BadInputError, ProcessingError } from '../../src/runtime/input-failure.ts';
import { DEAD_LETTER_HEADERS } from '../../src/runtime/headers.ts';
import { Application } from '../../src/runtime/application.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { ManualClock } from '../../src/time/clock.ts';
import type { InvalidTimestampPolicy } from '../../src/time/invalid-timestamp-policy.ts';
import type { LogRecord } from '../../src/records/record.ts';

interface Reading {
  ts?: unknown;
  celsius: number;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const validReading = (v: unknown): string | undefined =>
  typeof (v as Reading | null)?.celsius === 'number' ? undefined : 'celsius: expected a number';

/** readings (value.ts timestamps, a validator) → mapValues → out. */
function readingsTopology(policy?: InvalidTimestampPolicy, timestamp = Extractors.field('ts')) {
  const b = new StreamsBuilder();
  b.stream<string, Reading>('readings', {
    value: Serdes.json<Reading>(validReading),
    timestamp,
    ...(policy === undefined ? {} : { onInvalidTimestamp: policy }),
  })
    .mapValues((r) => r.celsius)
    .to('out');
  return b.build();
}

/** The dead-letter records of the driver's run (application id `test`). */
function deadLetters(d: TopologyTestDriver, appId = 'test'): LogRecord[] {
  const stream = `${appId}.dead-letter`;
  const out: LogRecord[] = [];
  for (let p = 0; p < (d.log.partitionCount(stream) ?? 0); p++) out.push(...d.log.read(stream, p, 0, 1_000));
  return out;
}

const good = (ts: number, celsius = ts) => ({ key: utf8('"s1"'), value: utf8(JSON.stringify({ ts, celsius })) });
const big = 'x'.repeat(300);

/** The corpus: each entry is piped as raw bytes; `field` and `error` are what the dead letter must say. */
const CORPUS: readonly { name: string; key: Uint8Array | null; value: Uint8Array | null; field: string; error: RegExp }[] = [
  { name: 'invalid JSON', key: utf8('"s1"'), value: utf8('{"ts": 1001, "celsius":'), field: 'value', error: /^value: invalid JSON/ },
  { name: 'invalid UTF-8', key: utf8('"s1"'), value: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), field: 'value', error: /^value: not valid UTF-8$/ },
  { name: 'wrong type', key: utf8('"s1"'), value: utf8('{"ts": 1002, "celsius": "hot"}'), field: 'value.celsius', error: /^value: wrong type: celsius: expected a number$/ },
  { name: 'missing timestamp', key: utf8('"s1"'), value: utf8('{"celsius": 3}'), field: 'value.ts', error: /^field\(ts\): timestamp missing$/ },
  { name: 'negative timestamp', key: utf8('"s1"'), value: utf8('{"ts": -5, "celsius": 3}'), field: 'value.ts', error: /timestamp negative \(-5\)/ },
  { name: 'non-integer timestamp', key: utf8('"s1"'), value: utf8('{"ts": 1003.5, "celsius": 3}'), field: 'value.ts', error: /timestamp not an integer \(1003\.5\)/ },
  { name: 'string-garbage timestamp', key: utf8('"s1"'), value: utf8('{"ts": "soon", "celsius": 3}'), field: 'value.ts', error: /timestamp not a number \(string "soon"\)/ },
  { name: 'string timestamp Date.parse would guess at', key: utf8('"s1"'), value: utf8('{"ts": "sensor 7", "celsius": 3}'), field: 'value.ts', error: /timestamp not a number/ },
  { name: 'oversize value', key: utf8('"s1"'), value: utf8(JSON.stringify({ ts: 1004, celsius: 3, pad: big })), field: 'value', error: /^record too large: \d+ bytes of key, value and headers, the limit is 200$/ },
  { name: 'undecodable key', key: utf8('{"s1'), value: utf8('{"ts": 1005, "celsius": 3}'), field: 'key', error: /^key: invalid JSON/ },
  // The parser's message quotes the bytes: the error stays one line, their control characters escaped (found by the fuzzer).
  { name: 'invalid JSON of a newline and a NUL', key: utf8('"s1"'), value: new Uint8Array([10, 0]), field: 'value', error: /^value: invalid JSON: .*"\\n\\u0000" is not valid JSON$/ },
  // A null value is a tombstone (the JSON serde gives null without validating); under a field extractor it has no timestamp.
  { name: 'tombstone without a timestamp', key: utf8('"s1"'), value: null, field: 'value.ts', error: /^field\(ts\): timestamp missing$/ },
];

// ---------------------------------------------------------------------------
// 4.9 bad input goes to the dead-letter stream, untouched, counted, audited
// ---------------------------------------------------------------------------

test('bad input corpus: each broken record ends in <appId>.dead-letter with its error, field and position, raw bytes untouched', () => {
  const d = new TopologyTestDriver(readingsTopology('skip'), { maxRecordBytes: 200 });
  const readings = d.inputStream<string, Reading>('readings');
  // good, bad, good, bad, … so that every bad record sits between good ones.
  readings.pipeBytes(good(1000).key, good(1000).value, { eventTime: 7 });
  CORPUS.forEach((c, i) => {
    readings.pipeBytes(c.key, c.value, { eventTime: 7, headers: { origin: c.name } });
    readings.pipeBytes(good(2000 + i).key, good(2000 + i).value);
  });

  const dl = deadLetters(d);
  assert.equal(dl.length, CORPUS.length);
  CORPUS.forEach((c, i) => {
    const r = dl[i]!;
    const offset = 1 + 2 * i;
    assert.equal(r.headers.origin, c.name, `${c.name}: in order, the record's own headers kept`);
    assert.match(r.headers[DEAD_LETTER_HEADERS.error]!, c.error, c.name);
    assert.equal(r.headers[DEAD_LETTER_HEADERS.field], c.field, c.name);
    assert.equal(r.headers[DEAD_LETTER_HEADERS.stream], 'readings', c.name);
    assert.equal(r.headers[DEAD_LETTER_HEADERS.partition], '0', c.name);
    assert.equal(r.headers[DEAD_LETTER_HEADERS.offset], String(offset), c.name);
    assert.deepEqual(r.key === null ? null : [...r.key], c.key === null ? null : [...c.key], `${c.name}: key bytes untouched`);
    assert.deepEqual(r.value === null ? null : [...r.value], c.value === null ? null : [...c.value], `${c.name}: value bytes untouched`);
    assert.equal(r.eventTime, 7, `${c.name}: producer time untouched`);
  });

  // The good records around them still flow, in order.
  assert.deepEqual(d.readOutput('out').map((r) => r.value), [1000, ...CORPUS.map((_, i) => 2000 + i)]);

  const summary = d.summary();
  assert.equal(summary.deadLettered, CORPUS.length);
  assert.equal(summary.processed, CORPUS.length + 1);
  assert.equal(summary.consumed, 2 * CORPUS.length + 1, 'nothing vanished: consumed = processed + dead-lettered');
  assert.equal(summary.audit.get('dead-letter'), CORPUS.length);
  const audit = d.audit().filter((a) => a.kind === 'dead-letter');
  assert.deepEqual(audit.map((a) => [a.stream, a.partition, a.offset]), CORPUS.map((_, i) => ['readings', 0, 1 + 2 * i]));
  CORPUS.forEach((c, i) => assert.ok(audit[i]!.detail.startsWith(`${c.field}: `), `${c.name}: audit names the field`));
  assert.equal(summary.nondeterministicDecisions, 0, 'dead-lettering is deterministic');
});

test('bad input: a dead letter keeps its partition number and does not move stream time', () => {
  const d = new TopologyTestDriver(readingsTopology('skip'));
  const readings = d.inputStream<string, Reading>('readings', { partitions: 2 });
  readings.pipeBytes(good(500).key, good(500).value, { partition: 1 });
  readings.pipeBytes(utf8('"s1"'), utf8('{"celsius": 1}'), { partition: 1 });
  const [dl] = deadLetters(d);
  assert.equal(d.log.partitionCount('test.dead-letter'), 2);
  assert.equal(d.log.read('test.dead-letter', 1, 0, 10).length, 1, 'in the dead-letter partition of the same number');
  assert.equal(dl!.headers[DEAD_LETTER_HEADERS.partition], '1');
  assert.equal(dl!.headers[DEAD_LETTER_HEADERS.offset], '1');
  assert.equal(d.streamTimes().get('0_1'), 500);
});

test('bad input: the dead-letter stream is named after the application id', () => {
  const d = new TopologyTestDriver(readingsTopology('skip'), { applicationId: 'sensors' });
  d.inputStream('readings').pipeBytes(null, utf8('nope'));
  assert.equal(deadLetters(d, 'sensors').length, 1);
  assert.equal(d.log.partitionCount('test.dead-letter'), undefined);
});

test('bad input: an undecodable key under a string key serde (invalid UTF-8) is dead-lettered with field key', () => {
  const b = new StreamsBuilder();
  b.stream('in', { key: Serdes.string() }).to('out');
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream('in');
  input.pipeBytes(new Uint8Array([0xc3, 0x28]), utf8('1'));
  input.pipeBytes(utf8('ok'), utf8('2'));
  const [dl] = deadLetters(d);
  assert.equal(dl!.headers[DEAD_LETTER_HEADERS.field], 'key');
  assert.equal(dl!.headers[DEAD_LETTER_HEADERS.error], 'key: not valid UTF-8');
  assert.deepEqual(d.readOutput('out', { key: Serdes.string() }).map((r) => r.key), ['ok']);
});

// ---------------------------------------------------------------------------
// 4.1 invalid-timestamp fallbacks
// ---------------------------------------------------------------------------

test('invalid timestamp, default policy brokerTime: falls back to the broker time, counted and audited as fallback:brokerTime', () => {
  const d = new TopologyTestDriver(readingsTopology());
  const readings = d.inputStream<string, Reading>('readings');
  readings.pipeBytes(utf8('"s1"'), utf8('{"ts": 100, "celsius": 1}'), { brokerTime: 5_000 });
  readings.pipeBytes(utf8('"s1"'), utf8('{"celsius": 2}'), { brokerTime: 6_000 });
  assert.deepEqual(d.readOutput('out').map((r) => [r.value, r.timestamp]), [[1, 100], [2, 6_000]]);
  const fallbacks = d.audit().filter((a) => a.kind === 'fallback:brokerTime');
  assert.deepEqual(fallbacks.map((a) => [a.stream, a.partition, a.offset]), [['readings', 0, 1]]);
  assert.match(fallbacks[0]!.detail, /field\(ts\): timestamp missing; used brokerTime 6000/);
  assert.equal(d.summary().fallbacks, 1);
  assert.equal(d.summary().deadLettered, 0);
});

test('invalid timestamp, default policy brokerTime: a record with no producer time under the eventTime extractor falls back', () => {
  const b = new StreamsBuilder();
  b.stream('in').to('out');
  const d = new TopologyTestDriver(b.build(), { startTime: 42 });
  d.inputStream('in').pipe('k', 1, { eventTime: null, brokerTime: 9_000 });
  assert.deepEqual(d.readOutput('out').map((r) => r.timestamp), [9_000]);
  assert.equal(d.summary().audit.get('fallback:brokerTime'), 1);
});

test('invalid timestamp, policy streamTime: uses the partition\'s time, not the task\'s stream time; before any record it dead-letters', () => {
  const b = new StreamsBuilder();
  const opts = { timestamp: Extractors.field('ts'), onInvalidTimestamp: 'streamTime' as const };
  b.stream<string, Reading>('a', opts).merge(b.stream<string, Reading>('c', opts)).mapValues((r) => r.celsius).to('out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream('a');
  d.inputStream('c');
  const raw = (stream: string, value: object) => ({ stream, partition: 0, key: null, value: utf8(JSON.stringify(value)), eventTime: null });
  d.pipeRaw([raw('a', { ts: 900, celsius: 1 })]);
  d.pipeRaw([raw('c', { celsius: 2 })]); // c has no time yet: the task's 900 is not borrowed
  d.pipeRaw([raw('c', { ts: 100, celsius: 3 }), raw('c', { ts: 50, celsius: 4 }), raw('c', { celsius: 5 })]);
  const out = d.readOutput<null, number>('out');
  assert.deepEqual(out.map((r) => [r.value, r.timestamp]), [[1, 900], [3, 100], [4, 50], [5, 100]], 'c\'s missing time is c\'s largest so far: 100');
  const [dl] = deadLetters(d);
  assert.equal(dl!.headers[DEAD_LETTER_HEADERS.stream], 'c');
  assert.match(dl!.headers[DEAD_LETTER_HEADERS.error]!, /no partition time yet/);
  assert.equal(d.summary().audit.get('fallback:streamTime'), 1);
  assert.deepEqual(d.audit().filter((a) => a.kind === 'fallback:streamTime').map((a) => [a.stream, a.offset]), [['c', 3]]);
});

test('invalid timestamp, ingestTime extractor: every partition read by wall-clock time is audited as nondeterministic', () => {
  const b = new StreamsBuilder();
  b.stream('in', { timestamp: Extractors.ingestTime() }).to('out');
  const d = new TopologyTestDriver(b.build(), { startTime: 3_000 });
  d.inputStream('in').pipe('k', 1, { eventTime: 5 });
  assert.deepEqual(d.readOutput('out').map((r) => r.timestamp), [3_000]);
  const audit = d.audit().filter((a) => a.kind === 'nondeterministic:ingest-time');
  assert.deepEqual(audit.map((a) => [a.stream, a.partition, a.offset]), [['in', 0, 0]]);
  assert.ok(d.summary().nondeterministicDecisions >= 1);
});

// ---------------------------------------------------------------------------
// fail: the run stops with an error naming stream, partition, offset, field
// ---------------------------------------------------------------------------

test('invalid timestamp, policy fail: processing stops with BadInputError naming stream, partition, offset and field, after the records before it', () => {
  const seen: number[] = [];
  const b = new StreamsBuilder();
  b.stream<string, Reading>('readings', { value: Serdes.json<Reading>(validReading), timestamp: Extractors.field('ts'), onInvalidTimestamp: 'fail' })
    .peek((_k, v) => seen.push(v.celsius))
    .mapValues((r) => r.celsius)
    .to('out');
  const d = new TopologyTestDriver(b.build());
  const readings = d.inputStream<string, Reading>('readings', { partitions: 2 });
  readings.pipeBytes(good(10, 1).key, good(10, 1).value, { partition: 1 });
  assert.deepEqual(d.readOutput('out').map((r) => r.value), [1]);
  let error: unknown;
  try {
    d.pipeRaw([
      { stream: 'readings', partition: 1, ...good(11, 2), eventTime: null },
      { stream: 'readings', partition: 1, key: utf8('"s1"'), value: utf8('{"ts": -3, "celsius": 3}'), eventTime: null },
      { stream: 'readings', partition: 1, ...good(12, 4), eventTime: null },
    ]);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof BadInputError, `got ${String(error)}`);
  assert.equal(error.message, 'bad input at stream readings, partition 1, offset 2, field value.ts: field(ts): timestamp negative (-3)');
  assert.equal(error.failure.raw.offset, 2);
  assert.deepEqual(seen, [1, 2], 'the records before it were processed, the one after it was not');
  assert.equal(deadLetters(d).length, 0, 'fail does not dead-letter');
});

test('bad input with driver option badInput fail: an undecodable value stops with BadInputError naming its position and field', () => {
  const d = new TopologyTestDriver(readingsTopology('skip'), { badInput: 'fail' });
  const readings = d.inputStream<string, Reading>('readings');
  readings.pipeBytes(good(1).key, good(1).value);
  assert.throws(
    () => readings.pipeBytes(utf8('"s1"'), utf8('{"ts": 2, "celsius": "x"}')),
    (e: unknown) =>
      e instanceof BadInputError &&
      e.message === 'bad input at stream readings, partition 0, offset 1, field value.celsius: value: wrong type: celsius: expected a number',
  );
  assert.deepEqual(d.readOutput('out').map((r) => r.value), [1]);
});

test('bad input with badInput fail: an oversize record stops the run too', () => {
  const d = new TopologyTestDriver(readingsTopology(), { badInput: 'fail', maxRecordBytes: 50 });
  assert.throws(
    () => d.inputStream('readings').pipeBytes(null, utf8(JSON.stringify({ ts: 1, celsius: 1, pad: big }))),
    (e: unknown) => e instanceof BadInputError && /stream readings, partition 0, offset 0, field value: record too large/.test(e.message),
  );
});

test('bad input with badInput fail: a real catch-up run rejects with BadInputError', async () => {
  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('readings', 1);
  log.appendSync([
    { stream: 'readings', partition: 0, ...good(1), eventTime: null },
    { stream: 'readings', partition: 0, key: null, value: utf8('{'), eventTime: null },
  ]);
  const app = new Application(readingsTopology(), { applicationId: 'strict', log });
  await assert.rejects(app.run({ mode: 'catch-up', badInput: 'fail' }), (e: unknown) => e instanceof BadInputError && /stream readings, partition 0, offset 1, field value/.test(e.message));
});

// ---------------------------------------------------------------------------
// Processor exceptions
// ---------------------------------------------------------------------------

test('a processor exception becomes a ProcessingError naming the processor and the record position, with the cause', () => {
  const cause = new Error('boom');
  const b = new StreamsBuilder();
  b.stream<string, number>('in')
    .mapValues((v) => v * 2)
    .process(() => ({
      process(r) {
        if (r.value === 6) throw cause;
      },
    }));
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { partitions: 2 });
  input.pipe('a', 1, { partition: 1 });
  let error: unknown;
  try {
    input.pipe('a', 3, { partition: 1 });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ProcessingError, `got ${String(error)}`);
  assert.match(error.message, /^processor process-\d+ failed on stream in, partition 1, offset 1: boom$/);
  assert.equal(error.cause, cause);
});

test('a non-Error thrown by a user function is still reported with processor and position', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in').filter(() => {
    throw 'just a string';
  });
  const d = new TopologyTestDriver(b.build());
  assert.throws(() => d.inputStream('in').pipe('k', 1), (e: unknown) => e instanceof ProcessingError && /^processor filter-\d+ failed on stream in, partition 0, offset 0: just a string$/.test(e.message));
});

test('fail stops before the bad record after committing the work before it; a restart stops at the same record', async () => {
  const log = new MemoryLog();
  log.ensureStream('in', 1);
  const enc = (v: unknown): Uint8Array | null => Serdes.json().serialize(v);
  log.appendSync([
    { stream: 'in', partition: 0, key: null, value: enc({ n: 1 }), eventTime: 1 },
    { stream: 'in', partition: 0, key: null, value: new TextEncoder().encode('{oops'), eventTime: 2 },
    { stream: 'in', partition: 0, key: null, value: enc({ n: 3 }), eventTime: 3 },
  ]);
  const b = new StreamsBuilder();
  b.stream('in').to('out');
  const topology = b.build();
  for (let attempt = 0; attempt < 2; attempt++) {
    const app = new Application(topology, { applicationId: 'failing', log });
    await assert.rejects(app.run({ mode: 'catch-up', badInput: 'fail' }), (e: unknown) => e instanceof BadInputError && /stream in, partition 0, offset 1, field value/.test(e.message));
    assert.equal(log.endOffset('out', 0), 1, 'the good record before the bad one is committed once');
    assert.equal(log.readCheckpoint('failing', '0_0')?.positions['in/0']?.next, 1);
  }
});
