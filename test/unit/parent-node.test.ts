/**
 * A processor with two parents learns which one each record came from
 * (`ctx.parentNode`): what a join needs to tell its two inputs apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts';
import { Serdes } from '../../src/records/serde.ts';
import type { KStream } from '../../src/dsl/kstream.ts';
import type { Processor } from '../../src/runtime/processor.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Adds a processor below `parents` (in that order) whose results go to stream `out`; returns the node's name. */
function below(b: StreamsBuilder, parents: readonly KStream<string, number>[], create: () => Processor, out: string): string {
  const name = b.nextName('two-inputs');
  b.addNode({ kind: 'processor', name, create, stores: [], children: [] });
  for (const p of parents) b.connect(p.nodeName, name);
  parents[0]!.streamOf<string, unknown>(name, Serdes.string(), Serdes.json(), undefined).to(out);
  return name;
}

test('a node with two sources as parents is told, record by record, which source each came from', () => {
  const b = new StreamsBuilder();
  const left = b.stream<string, number>('left', { key: Serdes.string() });
  const right = b.stream<string, number>('right', { key: Serdes.string() });
  below(b, [left, right], () => ({ process: (r, ctx) => ctx.forward({ ...r, value: ctx.parentNode }) }), 'out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream('left');
  d.inputStream('right');
  d.pipeRaw([
    { stream: 'left', partition: 0, key: enc('x'), value: enc('1'), headers: {}, eventTime: 1 },
    { stream: 'right', partition: 0, key: enc('x'), value: enc('2'), headers: {}, eventTime: 2 },
    { stream: 'left', partition: 0, key: enc('x'), value: enc('3'), headers: {}, eventTime: 3 },
  ]);
  assert.deepEqual(
    d.readOutput<string, string>('out', { key: Serdes.string() }).map((r) => [r.timestamp, r.value]),
    [[1, left.nodeName], [2, right.nodeName], [3, left.nodeName]],
  );
});

test('a record reaching a node along two paths of one source arrives twice, once from each parent, in the order the paths were attached', () => {
  const b = new StreamsBuilder();
  const input = b.stream<string, number>('in', { key: Serdes.string() });
  const evens = input.filter((_, v) => v % 2 === 0);
  const all = input.mapValues((v) => v);
  below(b, [evens, all], () => ({ process: (r, ctx) => ctx.forward({ ...r, value: { v: r.value, from: ctx.parentNode } }) }), 'out');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in', { key: Serdes.string() }).pipeAll([
    { key: 'k', value: 2, eventTime: 1 },
    { key: 'k', value: 3, eventTime: 2 },
  ]);
  assert.deepEqual(d.readOutput<string, { v: number; from: string }>('out', { key: Serdes.string() }).map((r) => r.value), [
    { v: 2, from: evens.nodeName },
    { v: 2, from: all.nodeName },
    { v: 3, from: all.nodeName },
  ]);
});

test('parentNode is the direct parent even below a chain, and undefined in a clock hook (no record is being passed on)', () => {
  const b = new StreamsBuilder();
  const input = b.stream<string, number>('in', { key: Serdes.string() });
  const seen: (string | undefined)[] = [];
  const first = below(b, [input], () => ({
    process: (r, ctx) => {
      seen.push(ctx.parentNode);
      ctx.forward(r);
      // Its child ran in between: this node's own parent is still the one it was given.
      seen.push(ctx.parentNode);
    },
    onStreamTime: (_t, _r, ctx) => seen.push(`clock ${String(ctx.parentNode)}`),
  }), 'out-1');
  const firstStream = input.streamOf<string, number>(first, Serdes.string(), Serdes.json(), undefined);
  below(b, [firstStream], () => ({ process: (r, ctx) => ctx.forward({ ...r, value: ctx.parentNode }) }), 'out-2');
  const d = new TopologyTestDriver(b.build());
  d.inputStream<string, number>('in', { key: Serdes.string() }).pipe('k', 1, { eventTime: 5 });
  assert.deepEqual(seen, [input.nodeName, input.nodeName, 'clock undefined']);
  assert.deepEqual(d.readOutput<string, string>('out-2', { key: Serdes.string() }).map((r) => r.value), [first]);
});
