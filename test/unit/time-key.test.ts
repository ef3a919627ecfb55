/**
 * Time keys: string order is numeric order, and the fast encodings agree
 * with their BigInt definitions for every safe integer time — negative,
 * zero, around 2^32 and at the safe limits — so that no store written
 * before or after the fast path reads differently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeTime, decodeTimeDescending, encodeTime, encodeTimeDescending, readTime64, writeTime64 } from '../../src/state/time-key.ts';

const byDefinition = (t: number): string => (BigInt(t) + 0x8000000000000000n).toString(16).padStart(16, '0');
const descendingByDefinition = (t: number): string => (0x7fffffffffffffffn - BigInt(t)).toString(16).padStart(16, '0');

const EDGES = [0, 1, -1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, -(2 ** 32), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_767_225_600_000];
const times = fc.oneof(fc.constantFrom(...EDGES), fc.maxSafeInteger(), fc.integer({ min: -1e13, max: 1e13 }));

test('encodeTime and encodeTimeDescending are their BigInt definitions, and decode back', () => {
  fc.assert(
    fc.property(times, (t) => {
      assert.equal(encodeTime(t), byDefinition(t)); // the definition itself, kept in case a faster form replaces it
      assert.equal(decodeTime(encodeTime(t)), t);
      assert.equal(encodeTimeDescending(t), descendingByDefinition(t));
      assert.equal(decodeTimeDescending(encodeTimeDescending(t)), t);
    }),
    { numRuns: 5000 },
  );
});

test('string order of encoded times is numeric order (descending for the descending form)', () => {
  fc.assert(
    fc.property(times, times, (a, b) => {
      assert.equal(encodeTime(a) < encodeTime(b), a < b);
      assert.equal(encodeTimeDescending(a) < encodeTimeDescending(b), a > b);
    }),
    { numRuns: 3000 },
  );
});

test('writeTime64 writes the signed big-endian 64-bit integer setBigInt64 writes', () => {
  fc.assert(
    fc.property(times, (t) => {
      const fast = new DataView(new ArrayBuffer(10));
      const slow = new DataView(new ArrayBuffer(10));
      writeTime64(fast, 1, t);
      slow.setBigInt64(1, BigInt(t));
      assert.deepEqual(new Uint8Array(fast.buffer), new Uint8Array(slow.buffer));
      assert.equal(readTime64(slow, 1), t);
    }),
    { numRuns: 5000 },
  );
});

test('a time that is not an integer is refused, as before', () => {
  assert.throws(() => encodeTime(1.5), RangeError);
  assert.throws(() => encodeTimeDescending(Number.NaN), RangeError);
});
