import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesSerde, copyPlain, jsonSerde, readsBackAsIs, stringSerde, type Serde } from '../../src/records/serde.ts';
import { timestampedSerde } from '../../src/state/timestamped.ts';

// A store keeps an object between commits only where readsBackAsIs says its bytes read back as
// the same value: a run restored from those bytes must go on as the run that kept the object.

const json = jsonSerde<unknown>();
const roundTrip = <T>(serde: Serde<T>, v: T): T => serde.deserialize(serde.serialize(v));

class Point {
  readonly x: number;
  readonly y: number;
  constructor(x: number, y: number) {
    this.x = x;
    this.y = y;
  }
}

/** Values of every kind a program may hand a store: plain JSON data, and what JSON changes on the way. */
const anything: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(-0),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.constant(new Point(1, 2)),
    fc.constant(Object.create(null) as object),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

test('a value the JSON serde says reads back as is comes back deep-equal, with the same prototypes', () => {
  fc.assert(
    fc.property(anything, (v) => {
      if (!readsBackAsIs(json, v)) return;
      assert.deepStrictEqual(roundTrip(json, v), v);
    }),
    { numRuns: 2000 },
  );
});

test('plain JSON data reads back as is', () => {
  fc.assert(fc.property(fc.jsonValue(), (v) => assert.equal(readsBackAsIs(json, v), !hasNegativeZero(v))), { numRuns: 500 });
  assert.equal(readsBackAsIs(json, { a: [1, 'x', null, true, { b: 2.5 }] }), true);
  assert.equal(readsBackAsIs(json, JSON.parse('{"__proto__": {"a": 1}}')), true);
});

test('what JSON would change is not read back as is', () => {
  const changed: [string, unknown][] = [
    ['a Date (read back as a string)', { at: new Date(0) }],
    ['a class instance (read back without its prototype)', new Point(1, 2)],
    ['an undefined property (read back missing)', { a: undefined }],
    ['-0 (read back as 0)', { n: -0 }],
    ['an array hole (read back as null)', Object.assign(new Array<number>(3), { 0: 1, 2: 3 })],
    ['NaN', { n: NaN }],
    ['a Map', new Map([[1, 2]])],
    ['an object without a prototype (read back with one)', Object.create(null) as unknown],
    ['an inherited property', Object.create({ inherited: 1 }) as unknown],
  ];
  for (const [what, v] of changed) assert.equal(readsBackAsIs(json, v), false, what);
});

test("a JSON serde's check decides too: a value it would refuse on reading is not kept", () => {
  const positive = jsonSerde<{ n: number }>((v) => ((v as { n: number }).n > 0 ? undefined : 'n: expected a positive number'));
  assert.equal(readsBackAsIs(positive, { n: 1 }), true);
  assert.equal(readsBackAsIs(positive, { n: -1 }), false);
});

test('the string serde reads back well-formed strings as is, not a lone surrogate; other serdes never', () => {
  const strings = stringSerde<string | null>();
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      if (readsBackAsIs(strings, s)) assert.equal(roundTrip(strings, s), s);
    }),
  );
  assert.equal(readsBackAsIs(strings, 'a\u{1F600}'), true);
  assert.equal(readsBackAsIs(strings, 'a\uD800'), false);
  assert.equal(readsBackAsIs(strings, null), true);
  assert.equal(readsBackAsIs(bytesSerde(), new Uint8Array([1])), false);
  const custom: Serde<number> = { name: 'custom', serialize: (n) => new Uint8Array([n]), deserialize: (b) => b![0]! };
  assert.equal(readsBackAsIs(custom, 1), false);
});

function hasNegativeZero(v: unknown): boolean {
  if (Object.is(v, -0)) return true;
  if (v !== null && typeof v === 'object') return Object.values(v).some(hasNegativeZero);
  return false;
}

test("a table row's serde reads back { value, timestamp } as is when its value serde does, keys in that order", () => {
  const rows = timestampedSerde(json);
  const row = fc.oneof(
    fc.record({ value: anything, timestamp: fc.oneof(fc.integer(), fc.constant(-0), fc.double()) }),
    fc.record({ timestamp: fc.integer(), value: anything }),
    fc.record({ value: anything, timestamp: fc.integer(), extra: fc.integer() }),
  );
  fc.assert(
    fc.property(row, (r) => {
      if (!readsBackAsIs(rows, r as never)) return;
      const back = roundTrip(rows, r as never);
      assert.deepStrictEqual(back, r);
      assert.deepEqual(Object.keys(back), Object.keys(r));
    }),
    { numRuns: 1000 },
  );
  assert.equal(readsBackAsIs(rows, { value: { a: 1 }, timestamp: 5 }), true);
  assert.equal(readsBackAsIs(rows, { value: null, timestamp: 5 } as never), false);
  assert.equal(readsBackAsIs(rows, { value: new Date(0), timestamp: 5 }), false);
});

test('copyPlain copies plain JSON data deeply: the copy is equal, and shares no object with the original', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const c = copyPlain(v);
      assert.deepStrictEqual(c, v);
      const objects = (x: unknown, out: object[] = []): object[] => {
        if (typeof x === 'object' && x !== null) {
          out.push(x);
          for (const y of Object.values(x)) objects(y, out);
        }
        return out;
      };
      const mine = new Set(objects(v));
      for (const o of objects(c)) assert.equal(mine.has(o), false);
    }),
  );
});
