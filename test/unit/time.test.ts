import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isValidTimestamp, whyInvalidTimestamp, NO_TIMESTAMP } from '../../src/time/timestamp.ts';
import { advanceStreamTime, isOutOfOrder } from '../../src/time/stream-time.ts';
import { Extractors, type ExtractionInput } from '../../src/time/extractor.ts';
import { resolveTimestamp } from '../../src/time/invalid-timestamp-policy.ts';
import { Serdes, DeserializationError } from '../../src/records/serde.ts';
import { ManualClock } from '../../src/time/clock.ts';

const input = (over: Partial<ExtractionInput> = {}): ExtractionInput => ({
  key: null,
  value: null,
  eventTime: 1_000,
  brokerTime: 2_000,
  ingestTime: 3_000,
  ...over,
});

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// ---------------------------------------------------------------------------
// 4.1 a timestamp is valid when it is a finite, non-negative, safe integer
// ---------------------------------------------------------------------------

test('timestamp validity: finite non-negative safe integers are valid, 0 included', () => {
  for (const t of [0, 1, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]) {
    assert.equal(isValidTimestamp(t), true, String(t));
    assert.equal(whyInvalidTimestamp(t), undefined, String(t));
  }
});

test('timestamp validity: a missing timestamp (null, undefined) is invalid and called missing', () => {
  for (const t of [null, undefined]) {
    assert.equal(isValidTimestamp(t), false);
    assert.equal(whyInvalidTimestamp(t), 'missing');
  }
});

test('timestamp validity: NaN and ±Infinity are invalid as not finite', () => {
  for (const t of [NaN, Infinity, -Infinity]) {
    assert.equal(isValidTimestamp(t), false, String(t));
    assert.match(whyInvalidTimestamp(t)!, /not finite/);
  }
});

test('timestamp validity: a fractional timestamp is invalid as not an integer', () => {
  for (const t of [0.5, 1_700_000_000_000.25, -1.5]) {
    assert.equal(isValidTimestamp(t), false, String(t));
    assert.match(whyInvalidTimestamp(t)!, /not an integer/);
  }
});

test('timestamp validity: a negative timestamp is invalid', () => {
  for (const t of [-1, -1_000]) {
    assert.equal(isValidTimestamp(t), false);
    assert.match(whyInvalidTimestamp(t)!, /negative \(-\d+\)/);
  }
  assert.equal(isValidTimestamp(NO_TIMESTAMP), false, 'NO_TIMESTAMP is below every valid timestamp');
});

test('timestamp validity: an integer beyond the safe range is invalid', () => {
  for (const t of [2 ** 53, 2 ** 60, Number.MAX_VALUE]) {
    assert.equal(isValidTimestamp(t), false, String(t));
    assert.match(whyInvalidTimestamp(t)!, /safe integer range/);
  }
});

test('timestamp validity: a string, boolean or bigint is invalid as not a number', () => {
  for (const t of ['1700000000000', true, 5n, {}]) {
    assert.equal(isValidTimestamp(t), false, String(t));
    assert.match(whyInvalidTimestamp(t)!, /^not a number/);
  }
});

test('timestamp validity: the explanation of any non-number never throws and stays short', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const t of [5n, cyclic, Symbol('t'), () => 1, 'x'.repeat(10_000), { deep: Array(1000).fill(1) }]) {
    const why = whyInvalidTimestamp(t);
    assert.match(why!, /^not a number/);
    assert.ok(why!.length < 120, why);
  }
  assert.equal(whyInvalidTimestamp(5n), 'not a number (bigint 5n)');
});

test('timestamp validity: whyInvalidTimestamp explains exactly the values isValidTimestamp rejects', () => {
  fc.assert(
    fc.property(fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(), fc.constant(null), fc.string()), (t) => {
      assert.equal(isValidTimestamp(t), whyInvalidTimestamp(t) === undefined);
    }),
    { numRuns: 500 },
  );
});

// ---------------------------------------------------------------------------
// 4.3 stream time never decreases and includes the record in hand
// ---------------------------------------------------------------------------

test('stream time never decreases: an older record leaves it unchanged', () => {
  assert.equal(advanceStreamTime(100, 50), 100);
  assert.equal(advanceStreamTime(100, 100), 100);
});

test('stream time advances to a newer record\'s timestamp, starting from NO_TIMESTAMP', () => {
  assert.equal(advanceStreamTime(NO_TIMESTAMP, 0), 0);
  assert.equal(advanceStreamTime(100, 101), 101);
});

test('stream time is the running maximum of the timestamps processed (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.nat()), (ts) => {
      let st = NO_TIMESTAMP;
      for (const t of ts) {
        const next = advanceStreamTime(st, t);
        assert.ok(next >= st, 'never decreases');
        assert.ok(next >= t, 'includes the record');
        st = next;
      }
      assert.equal(st, ts.length === 0 ? NO_TIMESTAMP : Math.max(...ts));
    }),
  );
});

test('out of order: a record below the stream time is out of order, one at or above it is not', () => {
  assert.equal(isOutOfOrder(99, 100), true);
  assert.equal(isOutOfOrder(100, 100), false);
  assert.equal(isOutOfOrder(101, 100), false);
});

// ---------------------------------------------------------------------------
// 4.1 timestamp extractors
// ---------------------------------------------------------------------------

test('extractor eventTime: takes the producer time, and reads no wall clock', () => {
  const x = Extractors.eventTime();
  assert.equal(x.extract(input()), 1_000);
  assert.equal(x.extract(input({ eventTime: null })), null);
  assert.equal(x.readsWallClock, false);
  assert.equal(x.field, 'eventTime');
});

test('extractor brokerTime: takes the append time, and reads no wall clock', () => {
  const x = Extractors.brokerTime();
  assert.equal(x.extract(input()), 2_000);
  assert.equal(x.readsWallClock, false);
  assert.equal(x.field, 'brokerTime');
});

test('extractor ingestTime: takes the consumer receive time and is marked as reading the wall clock', () => {
  const x = Extractors.ingestTime();
  assert.equal(x.extract(input()), 3_000);
  assert.equal(x.readsWallClock, true, 'every use of ingest time is a nondeterministic decision (4.7)');
});

test('extractor field: a number field is epoch milliseconds, blamed as value.<path>', () => {
  const x = Extractors.field('ts');
  assert.equal(x.extract(input({ value: { ts: 1234 } })), 1234);
  assert.equal(x.field, 'value.ts');
  assert.equal(x.name, 'field(ts)');
  assert.equal(x.readsWallClock, false);
});

test('extractor field: a dotted path reads a nested field', () => {
  const x = Extractors.field('meta.time.ms');
  assert.equal(x.extract(input({ value: { meta: { time: { ms: 42 } } } })), 42);
  assert.equal(x.field, 'value.meta.time.ms');
});

test('extractor field: a missing field, a missing parent or a non-object value gives undefined', () => {
  const x = Extractors.field('meta.ts');
  assert.equal(x.extract(input({ value: { meta: {} } })), undefined);
  assert.equal(x.extract(input({ value: { other: 1 } })), undefined);
  assert.equal(x.extract(input({ value: { meta: 5 } })), undefined);
  assert.equal(x.extract(input({ value: null })), undefined);
  assert.equal(x.extract(input({ value: 'text' })), undefined);
});

test('extractor field: an ISO-8601 string is parsed to epoch milliseconds', () => {
  const x = Extractors.field('ts');
  assert.equal(x.extract(input({ value: { ts: '2024-01-01T00:00:00Z' } })), Date.UTC(2024, 0, 1));
  assert.equal(x.extract(input({ value: { ts: '2024-01-01T00:00:00.250Z' } })), Date.UTC(2024, 0, 1) + 250);
  assert.equal(x.extract(input({ value: { ts: '2024-01-01T02:00:00+02:00' } })), Date.UTC(2024, 0, 1));
  assert.equal(x.extract(input({ value: { ts: '2024-01-01' } })), Date.UTC(2024, 0, 1));
});

test('extractor field: an ISO date-time without an offset is UTC, whatever the machine time zone', () => {
  const x = Extractors.field('ts');
  assert.equal(x.extract(input({ value: { ts: '2024-06-01T12:30:00' } })), Date.UTC(2024, 5, 1, 12, 30));
});

test('extractor field: a string that is not ISO-8601 stays invalid (no lenient Date.parse guesses)', () => {
  const x = Extractors.field('ts');
  // Date.parse alone accepts every one of these except 'soon' and 'garbage'.
  for (const s of ['soon', 'garbage', '5', 'hello 5', 'foo 2020', '-1', 'March 7 2020', '1700000000000', '']) {
    const t = x.extract(input({ value: { ts: s } }));
    assert.equal(isValidTimestamp(t), false, `${JSON.stringify(s)} gave ${String(t)}`);
  }
});

test('extractor function: any function of the record and its clocks, under its given name', () => {
  const x = Extractors.fn<string, { at: number }>((r) => r.value.at * 1000, 'seconds');
  assert.equal(x.extract({ key: 'k', value: { at: 5 }, eventTime: null, brokerTime: null, ingestTime: 0 }), 5000);
  assert.equal(x.name, 'seconds');
  assert.equal(x.field, 'seconds');
  assert.equal(x.readsWallClock, false);
  assert.equal(Extractors.fn(() => 1).name, 'function');
});

// ---------------------------------------------------------------------------
// 4.1 invalid-timestamp policies
// ---------------------------------------------------------------------------

test('invalid timestamp policy: a valid timestamp is used as is, whatever the policy', () => {
  for (const policy of ['fail', 'skip', 'brokerTime', 'streamTime'] as const) {
    assert.deepEqual(resolveTimestamp(7, policy, 100, 50), { kind: 'valid', timestamp: 7 });
  }
});

test('invalid timestamp policy fail: stops, with the reason', () => {
  const r = resolveTimestamp(-5, 'fail', 100, 50);
  assert.equal(r.kind, 'fail');
  assert.match((r as { reason: string }).reason, /negative \(-5\)/);
});

test('invalid timestamp policy skip: skips, with the reason', () => {
  const r = resolveTimestamp(undefined, 'skip', 100, 50);
  assert.deepEqual(r, { kind: 'skip', reason: 'timestamp missing' });
});

test('invalid timestamp policy brokerTime: falls back to the broker time', () => {
  assert.deepEqual(resolveTimestamp(1.5, 'brokerTime', 100, 50), {
    kind: 'fallback',
    timestamp: 100,
    reason: 'timestamp not an integer (1.5)',
    used: 'brokerTime',
  });
});

test('invalid timestamp policy brokerTime: with no valid broker time the fallback is unavailable and the record is skipped', () => {
  for (const broker of [null, -1]) {
    const r = resolveTimestamp(null, 'brokerTime', broker, 50);
    assert.equal(r.kind, 'skip');
    assert.match((r as { reason: string }).reason, /no valid broker time/);
  }
});

test('invalid timestamp policy streamTime: falls back to the partition time', () => {
  assert.deepEqual(resolveTimestamp(NaN, 'streamTime', 100, 50), {
    kind: 'fallback',
    timestamp: 50,
    reason: 'timestamp not finite (NaN)',
    used: 'streamTime',
  });
});

test('invalid timestamp policy streamTime: before any record of the partition the fallback is unavailable and the record is skipped', () => {
  const r = resolveTimestamp(null, 'streamTime', 100, NO_TIMESTAMP);
  assert.equal(r.kind, 'skip');
  assert.match((r as { reason: string }).reason, /no partition time yet/);
});

// ---------------------------------------------------------------------------
// Serdes
// ---------------------------------------------------------------------------

test('serde json: round-trips values', () => {
  const s = Serdes.json<unknown>();
  for (const v of [{ a: 1, b: [true, 'x'] }, 'text', 0, [1, 2]]) assert.deepEqual(s.deserialize(s.serialize(v)), v);
});

test('serde json: invalid JSON is a DeserializationError saying so', () => {
  assert.throws(() => Serdes.json().deserialize(utf8('{"a": 1')), (e: unknown) => e instanceof DeserializationError && /^invalid JSON/.test(e.message));
});

test('serde json: a validator rejecting the value gives a wrong-type error naming the field', () => {
  const s = Serdes.json<{ celsius: number }>((v) =>
    typeof (v as { celsius?: unknown }).celsius === 'number' ? undefined : 'celsius: expected a number',
  );
  assert.deepEqual(s.deserialize(utf8('{"celsius": 21}')), { celsius: 21 });
  assert.throws(
    () => s.deserialize(utf8('{"celsius": "warm"}')),
    (e: unknown) => e instanceof DeserializationError && e.field === 'celsius' && e.message === 'wrong type: celsius: expected a number',
  );
});

test('serde json: a validator message without a field leaves the field unknown', () => {
  const s = Serdes.json(() => 'not acceptable');
  assert.throws(() => s.deserialize(utf8('1')), (e: unknown) => e instanceof DeserializationError && e.field === undefined);
});

test('serde json: invalid UTF-8 is a DeserializationError', () => {
  assert.throws(() => Serdes.json().deserialize(new Uint8Array([0x22, 0xff, 0x22])), (e: unknown) => e instanceof DeserializationError && /UTF-8/.test(e.message));
});

test('serde json: null serializes to null bytes (a tombstone), null bytes deserialize to null; undefined is not written as a tombstone', () => {
  const s = Serdes.json<unknown>();
  assert.equal(s.serialize(null), null);
  assert.throws(() => s.serialize(undefined), /^SerializationError: undefined cannot be written as JSON \(forward null for a tombstone\)$/);
  assert.equal(s.deserialize(null), null);
});

test('serde string: round-trips text, including non-ASCII', () => {
  const s = Serdes.string();
  assert.equal(s.deserialize(s.serialize('héllo 世界')), 'héllo 世界');
  assert.deepEqual(s.serialize('a'), utf8('a'));
});

test('serde string: invalid UTF-8 is a DeserializationError, never replacement characters', () => {
  for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x61, 0x80]]) {
    assert.throws(() => Serdes.string().deserialize(new Uint8Array(bad)), (e: unknown) => e instanceof DeserializationError && e.message === 'not valid UTF-8');
  }
});

test('serde string: null stays null both ways', () => {
  assert.equal(Serdes.string<string | null>().serialize(null), null);
  assert.equal(Serdes.string<string | null>().deserialize(null), null);
});

test('serde bytes: bytes pass untouched, null stays null', () => {
  const s = Serdes.bytes();
  const b = new Uint8Array([0, 0xff, 0x80]);
  assert.equal(s.serialize(b), b);
  assert.equal(s.deserialize(b), b);
  assert.equal(s.serialize(null), null);
  assert.equal(s.deserialize(null), null);
});

// ---------------------------------------------------------------------------
// Clocks
// ---------------------------------------------------------------------------

test('manual clock: moves only when told, never backwards by advance', () => {
  const c = new ManualClock(10);
  assert.equal(c.now(), 10);
  c.advance(5);
  assert.equal(c.now(), 15);
  assert.throws(() => c.advance(-1), RangeError);
  assert.throws(() => c.advance(NaN), RangeError);
  c.set(3);
  assert.equal(c.now(), 3);
});
