import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { keyValueStore } from '../../src/dsl/stores.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes, jsonProblem } from '../../src/records/serde.ts';
import { ProcessingError } from '../../src/runtime/input-failure.ts';
import { DEAD_LETTER_HEADERS } from '../../src/runtime/headers.ts';

// ---------------------------------------------------------------------------
// A value the output's serde cannot write exactly stops the run with a ProcessingError
// ---------------------------------------------------------------------------

/** What a mapper may return that JSON cannot keep, and the part of the message naming it. */
const UNWRITABLE: readonly { name: string; value: () => unknown; says: RegExp }[] = [
  { name: 'undefined', value: () => undefined, says: /value: undefined cannot be written as JSON \(forward null for a tombstone\)$/ },
  { name: 'a function', value: () => () => 1, says: /value: a function cannot be written as JSON$/ },
  { name: 'NaN', value: () => NaN, says: /value: NaN cannot be written as JSON \(it would become null\)$/ },
  { name: 'Infinity in a field', value: () => ({ avg: Infinity }), says: /value\.avg: Infinity cannot be written as JSON \(it would become null\)$/ },
  { name: 'undefined in an array', value: () => ({ xs: [1, undefined] }), says: /value\.xs\[1\]: undefined cannot be written as JSON$/ },
  { name: 'a Map', value: () => new Map([['a', 1]]), says: /value: a Map cannot be written as JSON \(it would lose its contents or shape\)$/ },
  { name: 'a BigInt', value: () => 10n, says: /value: the BigInt 10n cannot be written as JSON$/ },
  { name: 'a cycle', value: () => { const o: Record<string, unknown> = {}; o['self'] = o; return o; }, says: /value\.self: a cycle cannot be written as JSON$/ },
];

for (const c of UNWRITABLE) {
  test(`mapValues returning ${c.name}: a ProcessingError naming the processor, the output and the input position; nothing of it is written`, () => {
    const b = new StreamsBuilder();
    b.stream<string, number>('in', { key: Serdes.string() }).mapValues((n) => (n === 2 ? c.value() : n)).to('out', { key: Serdes.string() });
    const d = new TopologyTestDriver(b.build());
    const input = d.inputStream<string, number>('in', { key: Serdes.string() });
    input.pipe('k', 1, { eventTime: 10 });
    assert.throws(() => input.pipe('k', 2, { eventTime: 11 }), (e: unknown) => {
      assert.ok(e instanceof ProcessingError, String(e));
      assert.match(e.message, /^processor map-values-\d+ failed on stream in, partition 0, offset 1: writing to out: /);
      assert.match(e.message, c.says);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    assert.deepEqual(d.readOutput<string, number>('out', { key: Serdes.string() }).map((r) => r.value), [1]);
  });
}

test('a key the key serde cannot write is named as the key', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in', { key: Serdes.string() }).map((_k, n) => [n === 1 ? undefined : 'k', n] as const).to('out');
  const d = new TopologyTestDriver(b.build());
  assert.throws(() => d.inputStream<string, number>('in', { key: Serdes.string() }).pipe('k', 1), /^ProcessingError: processor map-\d+ failed on stream in, partition 0, offset 0: writing to out: key: undefined cannot be written as JSON/);
});

test('the string serde writes strings and null only: a number is not silently turned into text', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in', { key: Serdes.string() }).to('out', { key: Serdes.string(), value: Serdes.string() as never });
  const d = new TopologyTestDriver(b.build());
  assert.throws(() => d.inputStream<string, number>('in', { key: Serdes.string() }).pipe('k', 42), /writing to out: value: the string serde writes a string or null, not the number 42$/);
});

test('a store value JSON cannot keep fails the processor that put it, naming the position', () => {
  const b = new StreamsBuilder();
  b.addStateStore(keyValueStore('avg', { key: Serdes.string(), value: Serdes.json<number>() }));
  b.stream<string, number>('in', { key: Serdes.string() })
    .process(() => ({ process: (r, ctx) => ctx.getStore<string, number>('avg').put(r.key, r.value / 0 - r.value / 0) }), { stores: ['avg'] });
  const d = new TopologyTestDriver(b.build());
  assert.throws(() => d.inputStream<string, number>('in', { key: Serdes.string() }).pipe('k', 0, { eventTime: 3 }), /^ProcessingError: processor process-\d+ failed on stream in, partition 0, offset 0: NaN cannot be written as JSON/);
});

test('null stays a tombstone, and what JSON keeps exactly passes (Date through toJSON, an undefined property)', () => {
  assert.equal(Serdes.json().serialize(null), null);
  assert.equal(jsonProblem({ at: new Date(0), n: -0.5, s: 'x', nested: [{ ok: true }], gone: undefined }, undefined), undefined);
  const b = new StreamsBuilder();
  b.stream<string, number>('in', { key: Serdes.string() }).mapValues((n) => (n === 0 ? null : { n, a: [n] })).to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in', { key: Serdes.string() }).pipeAll([{ key: 'k', value: 0 }, { key: 'k', value: 5 }]);
  assert.deepEqual(d.readOutput('out', { key: Serdes.string() }).map((r) => r.value), [null, { n: 5, a: [5] }]);
});

// ---------------------------------------------------------------------------
// Headers count towards the record-size limit
// ---------------------------------------------------------------------------

for (const [name, headers] of [
  ['200,000 small headers', Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`h${i}`, 'x']))],
  ['one 3 MB header', { big: 'y'.repeat(3_000_000) }],
] as const) {
  test(`a record with ${name} is over the record-size limit: dead-lettered with its position, the field named headers`, () => {
    const b = new StreamsBuilder();
    b.stream<string, number>('in', { key: Serdes.string() }).to('out', { key: Serdes.string() });
    const d = new TopologyTestDriver(b.build(), { maxRecordBytes: 1024 * 1024 });
    const input = d.inputStream<string, number>('in', { key: Serdes.string() });
    input.pipe('a', 1);
    input.pipe('b', 2, { headers });
    input.pipe('c', 3);
    assert.deepEqual(d.readOutput<string, number>('out', { key: Serdes.string() }).map((r) => r.key), ['a', 'c']);
    const dead = d.readOutput('test.dead-letter', { key: Serdes.string() });
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.field], 'headers');
    assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.offset], '1');
    assert.match(dead[0]!.headers[DEAD_LETTER_HEADERS.error]!, /^record too large: \d+ bytes of key, value and headers, the limit is 1048576$/);
  });
}

// ---------------------------------------------------------------------------
// Numbers JSON cannot read back exactly are bad input, not a changed value
// ---------------------------------------------------------------------------

test('a JSON value with a number a double cannot hold goes to the dead-letter stream untouched; exact ones pass through unchanged', () => {
  const b = new StreamsBuilder();
  b.stream<string, unknown>('in', { key: Serdes.string() }).to('out', { key: Serdes.string() });
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, unknown>('in', { key: Serdes.string() });
  const texts = ['{"n":9007199254740993}', '{"n":9007199254740991,"x":1e21,"y":0.1,"z":5e-324,"w":1234567.891}', '[1e400]', '{"id":"12345678901234567890","t":"1e5"}', '{"p":9007199254740.993}'];
  for (const text of texts) input.pipeBytes(new TextEncoder().encode('k'), new TextEncoder().encode(text));
  assert.deepEqual(d.readOutput('out', { key: Serdes.string() }).map((r) => JSON.stringify(r.value)), [texts[1]!, texts[3]!].map((t) => JSON.stringify(JSON.parse(t))));
  const dead = d.readOutput('test.dead-letter', { key: Serdes.string(), value: Serdes.string() as never });
  assert.deepEqual(dead.map((r) => r.value), [texts[0], texts[2], texts[4]], 'the raw bytes, untouched');
  assert.deepEqual(dead.map((r) => [r.headers[DEAD_LETTER_HEADERS.field], r.headers[DEAD_LETTER_HEADERS.error]]), [
    ['value.n', 'value: the number 9007199254740993 cannot be kept exactly (JSON would read it as 9007199254740992)'],
    ['value.0', 'value: the number 1e400 cannot be kept exactly (JSON would read it as Infinity)'],
    ['value.p', 'value: the number 9007199254740.993 cannot be kept exactly (JSON would read it as 9007199254740.992)'],
  ]);
});

test('a processor that throws anything at all (null, an object without a prototype) stops with a one-line ProcessingError naming it', () => {
  for (const [thrown, says] of [[null, 'null'], [Object.create(null), 'an object'], [{ code: 42 }, '{"code":42}'], ['text', 'text']] as const) {
    const b = new StreamsBuilder();
    b.stream<string, number>('in', { key: Serdes.string() }).mapValues(() => { throw thrown; }).to('out');
    const d = new TopologyTestDriver(b.build());
    assert.throws(() => d.inputStream<string, number>('in', { key: Serdes.string() }).pipe('k', 1), (e: unknown) => e instanceof ProcessingError && new RegExp(`^processor map-values-\\d+ failed on stream in, partition 0, offset 0: ${says.replace(/[{}]/g, '\\$&')}$`).test(e.message));
  }
});
