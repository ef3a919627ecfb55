/**
 * Keys written in one format and read in another (src/records/key-format.ts):
 * the rule, and what a run says about it — one warning per input partition,
 * naming stream, partition and offset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFormatMismatch } from '../../src/records/key-format.ts';
import { StreamsBuilder, Serdes } from '../../src/index.ts';
import { TopologyTestDriver } from '../../src/testing/index.ts';

test('keyFormatMismatch: JSON text read by a string serde, plain text a JSON serde cannot read', () => {
  const cases: [serde: string, key: unknown, unreadable: boolean, expected: string | undefined][] = [
    ['string', '"s0"', false, 'json-read-as-string'],
    ['string', '""', false, 'json-read-as-string'],
    ['string', '"a\\"b"', false, 'json-read-as-string'],
    ['string', 's0', false, undefined],
    ['string', 'a"b', false, undefined],
    ['string', '"', false, undefined],
    ['string', '"a" "b"', false, undefined], // starts and ends with quotes, but not one JSON string
    ['string', '42', false, undefined], // a string key may be digits
    ['json', 's0', true, 'string-read-as-json'],
    ['json', '{"id":1}', true, undefined], // JSON, refused by a validating serde for another reason
    ['json', undefined, true, undefined], // not text at all
    ['json', 's0', false, undefined],
    ['bytes', '"s0"', false, undefined],
  ];
  for (const [serde, key, unreadable, expected] of cases) assert.equal(keyFormatMismatch(serde, key, unreadable), expected, `${serde} ${String(key)}`);
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

test('a string-keyed source fed JSON keys says so once per partition, with stream, partition and offset', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in', { key: Serdes.string() }).to('out');
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { partitions: 2, key: Serdes.string() });
  input.pipeBytes(text('plain'), text('1'), { partition: 0, eventTime: 1 });
  input.pipeBytes(text('"s0"'), text('2'), { partition: 0, eventTime: 2 });
  input.pipeBytes(text('"s1"'), text('3'), { partition: 0, eventTime: 3 });
  input.pipeBytes(text('"s2"'), text('4'), { partition: 1, eventTime: 4 });
  const warnings = d.summary().warnings;
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, /^in\/0 offset 1: key "s0" is JSON text .* Serdes\.string\(\), which keeps the quotes.* --key-format string/);
  assert.match(warnings[1]!, /^in\/1 offset 0: key "s2" is JSON text/);
  // The records are processed all the same, quotes and all.
  assert.deepEqual(d.readOutput('out', { key: Serdes.string() }).map((r) => r.key).sort(), ['"s0"', '"s1"', '"s2"', 'plain']);
});

test('a JSON-keyed source fed plain string keys says so, and the records go to the dead-letter stream', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('in').to('out');
  const d = new TopologyTestDriver(b.build());
  const input = d.inputStream<string, number>('in', { partitions: 1 });
  input.pipeBytes(text('"ok"'), text('1'), { eventTime: 1 });
  input.pipeBytes(text('s1'), text('2'), { eventTime: 2 });
  const warnings = d.summary().warnings;
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /^in\/0 offset 1: the source reads keys with Serdes\.json\(\) \(the default\) and this key is not JSON .* key: Serdes\.string\(\)$/);
  assert.equal(d.summary().deadLettered, 1);
});

test('keys read as they were written say nothing', () => {
  const b = new StreamsBuilder();
  b.stream<string, number>('strings', { key: Serdes.string() }).to('a');
  b.stream<string, number>('jsons').to('b');
  const d = new TopologyTestDriver(b.build());
  const strings = d.inputStream<string, number>('strings', { key: Serdes.string() });
  const jsons = d.inputStream<string, number>('jsons');
  strings.pipe('s0', 1, { eventTime: 1 });
  jsons.pipe('s0', 1, { eventTime: 1 });
  assert.deepEqual(d.summary().warnings, []);
});
