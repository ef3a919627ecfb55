/**
 * The UTF-8 encoding on every record's path writes exactly what the
 * standard TextEncoder writes and reads back exactly what it wrote — any
 * string, a lone surrogate, a byte-order mark, around the length where the
 * hand-written short path hands over — and refuses bytes that are not UTF-8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { utf8Bytes, utf8Text } from '../../src/records/utf8.ts';
import { Serdes } from '../../src/index.ts';

const standard = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const texts = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '\u{1F600}', '\uD800', '\uDFFF', '\uFEFF', '\0', '\x7f'), minLength: 40, maxLength: 60 }),
);

test('utf8Bytes writes the bytes TextEncoder writes, as a plain Uint8Array', () => {
  fc.assert(
    fc.property(texts, (s) => {
      const bytes = utf8Bytes(s);
      assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
      assert.deepEqual(bytes, standard.encode(s));
    }),
    { numRuns: 2000 },
  );
});

test('utf8Text reads back what was written, a leading byte-order mark included', () => {
  fc.assert(
    fc.property(texts, (s) => {
      const bytes = standard.encode(s);
      assert.equal(utf8Text(bytes), strict.decode(bytes));
      assert.deepEqual(utf8Bytes(utf8Text(bytes)), bytes);
    }),
    { numRuns: 2000 },
  );
  assert.equal(utf8Text(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), '\uFEFFa');
});

test('utf8Text refuses bytes that are not UTF-8, short or long', () => {
  for (const bad of [[0xff], [0x61, 0xc3], [...Array(60).fill(0x61), 0xc0, 0x80]]) {
    assert.throws(() => utf8Text(new Uint8Array(bad)), TypeError);
  }
});

test('a string value with a leading byte-order mark keeps it through the string and JSON serdes', () => {
  for (const serde of [Serdes.string(), Serdes.json<string>()]) {
    const back = serde.deserialize(serde.serialize('\uFEFFs0'));
    assert.equal(back, '\uFEFFs0', serde.name);
  }
});
