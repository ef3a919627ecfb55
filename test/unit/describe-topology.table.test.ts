/**
 * Table tests for `describeTopology` and `tidemark describe`: the example
 * topology modules described as text, written out by hand from their
 * source (which nodes the DSL makes, in which sub-topology, which stores and
 * streams), the labels of windows, joins, tables and sources worked out
 * from their parameters, and the Mermaid output checked against the
 * flowchart grammar it uses (every line a node, a subgraph, an end or an
 * edge between defined nodes; labels quoted, with no character that could
 * end one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeTopology, formatTopologyMermaid, formatTopologyText, mermaidText } from '../../src/runtime/describe-topology.ts';
import { loadTopologyModule } from '../../src/cli/topology-module.ts';
import { kafkaTopics } from '../../src/connectors/kafka/kafka-topics.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { Serdes } from '../../src/records/serde.ts';
import { Extractors } from '../../src/time/extractor.ts';
import { Watermarks } from '../../src/time/watermark.ts';
import { TimeWindows } from '../../src/windows/time-windows.ts';
import { SlidingWindows } from '../../src/windows/sliding-windows.ts';
import { SessionWindows } from '../../src/windows/session-windows.ts';
import { JoinWindows } from '../../src/joins/join-windows.ts';
import { cli } from '../fixtures/cli.ts';

const example = (name: string): string => fileURLToPath(new URL(`../../examples/topologies/${name}.ts`, import.meta.url));

async function describedExample(name: string): Promise<string> {
  const { applicationId, topology } = await loadTopologyModule(example(name));
  return formatTopologyText(describeTopology(topology, { applicationId, changelog: (s) => kafkaTopics.changelog(applicationId, s) }));
}

const EXPECTED_TEXT: Record<string, string> = {
  'max-temperature': `Topology (event clock: stream-time, windows close on stream time unless said otherwise)
  Sub-topology 0: tasks 0_0, 0_1, … one per input partition
    Source: source-readings-1 (reads readings; timestamps: eventTime; watermarks: monotonic)
      --> filter-2
    Processor: filter-2 (filter)
      --> process-3
      <-- source-readings-1
    Processor: process-3 (process; stores: max)
      --> sink-max-temperature-4
      <-- filter-2
    Sink: sink-max-temperature-4 (writes max-temperature)
      <-- process-3
  Stores
    max: key-value, lmdb; sub-topology 0, used by process-3; changelog on Kafka: max-temperature-max-changelog
  Streams
    input     readings
    output    max-temperature
    output    max-temperature.dead-letter
    changelog max-temperature-max-changelog: store max, on Kafka`,
  'page-views': `Topology (event clock: stream-time, windows close on stream time unless said otherwise)
  Sub-topology 0: tasks 0_0, 0_1, … one per input partition
    Source: source-clicks-1 (reads clicks; timestamps: field(ts); watermarks: monotonic)
      --> filter-2
    Processor: filter-2 (filter)
      --> select-key-3
      <-- source-clicks-1
    Processor: select-key-3 (select key)
      --> select-key-3-repartition-sink
      <-- filter-2
    Sink: select-key-3-repartition-sink (writes internal stream page-views-select-key-3-repartition)
      <-- select-key-3
  Sub-topology 1: tasks 1_0, 1_1, … one per input partition
    Source: select-key-3-repartition-source (reads internal stream page-views-select-key-3-repartition; timestamps: eventTime; watermarks: its producers' watermark records)
      --> window-aggregate-4
    Processor: window-aggregate-4 (window aggregate: tumbling windows of 1 min, grace 10 s, on stream time; emits final results; late records dropped; stores: views)
      --> window-aggregate-4-results
      <-- select-key-3-repartition-source
    Processor: window-aggregate-4-results (results of window-aggregate-4)
      --> sink-page-views-5
      <-- window-aggregate-4
    Sink: sink-page-views-5 (writes page-views)
      <-- window-aggregate-4-results
  Stores
    views: ordered, lmdb; sub-topology 1, used by window-aggregate-4; changelog on Kafka: page-views-views-changelog
  Streams
    input     clicks
    output    page-views
    output    page-views.dead-letter
    internal  page-views-select-key-3-repartition: written by sub-topology 0, read by sub-topology 1
    changelog page-views-views-changelog: store views, on Kafka`,
  prices: `Topology (event clock: stream-time, windows close on stream time unless said otherwise)
  Sub-topology 0: tasks 0_0, 0_1, … one per input partition
    Source: source-prices-1 (reads prices; timestamps: eventTime; watermarks: monotonic)
      --> versioned-table-prices-2
    Processor: versioned-table-prices-2 (versioned table: each key's versions back to 1 h behind event time, on stream time; late updates dropped; stores: prices)
      --> versioned-table-prices-2-changes
      <-- source-prices-1
    Processor: versioned-table-prices-2-changes (changes of the latest values)
      --> table-to-stream-3
      <-- versioned-table-prices-2
    Processor: table-to-stream-3 (table to stream)
      --> sink-price-changes-4
      <-- versioned-table-prices-2-changes
    Sink: sink-price-changes-4 (writes price-changes)
      <-- table-to-stream-3
  Sub-topology 1: tasks 1_0, 1_1, … one per input partition
    Source: source-stock-5 (reads stock; timestamps: eventTime; watermarks: monotonic)
      --> table-stock-6
    Processor: table-stock-6 (table: the latest value of each key (the record processed last wins); stores: stock)
      <-- source-stock-5
  Stores
    prices: versioned, history 1 h, lmdb; sub-topology 0, used by versioned-table-prices-2; changelog on Kafka: prices-prices-changelog
    stock: key-value, lmdb; sub-topology 1, used by table-stock-6; changelog on Kafka: prices-stock-changelog
  Streams
    input     prices
    input     stock
    output    price-changes
    output    prices.dead-letter
    changelog prices-prices-changelog: store prices, on Kafka
    changelog prices-stock-changelog: store stock, on Kafka`,
};

for (const [name, expected] of Object.entries(EXPECTED_TEXT)) {
  test(`describe: examples/topologies/${name}.ts as text`, async () => {
    assert.equal(await describedExample(name), expected);
  });
}

/** The label of the one node of `build`'s topology named `<prefix>-<number>`. */
function labelOf(build: (b: StreamsBuilder) => void, prefix: string, options: ConstructorParameters<typeof StreamsBuilder>[0] = {}): string {
  const b = new StreamsBuilder(options);
  build(b);
  const nodes = describeTopology(b.build()).subTopologies.flatMap((s) => s.nodes).filter((n) => n.name.startsWith(prefix) && /^\d+$/.test(n.name.slice(prefix.length + 1)));
  assert.equal(nodes.length, 1, `one node ${prefix}…`);
  return nodes[0]!.detail;
}

const LABELS: readonly (readonly [string, (b: StreamsBuilder) => void, string, string, ConstructorParameters<typeof StreamsBuilder>[0]?])[] = [
  [
    'hopping windows with an offset, updates, late records to a side output',
    (b) => { b.stream('s').groupByKey().windowedBy(TimeWindows.ofSize(3_600_000).advanceBy(900_000).withOffset(5).grace(1_500)).count({ late: { sideOutput: 'late' } }); },
    'window-aggregate',
    'window aggregate: hopping windows of 1 h every 15 min from offset 5, grace 1500 ms, on stream time; emits updates; late records to late',
  ],
  [
    'sliding windows on the watermark (the topology clock)',
    (b) => { b.stream('s').groupByKey().windowedBy(SlidingWindows.ofTimeDifference(30_000)).count({ emit: 'final' }); },
    'window-aggregate',
    'window aggregate: sliding windows of 30 s, grace 0 ms, on the watermark; emits final results; late records dropped',
    { eventClock: 'watermark' },
  ],
  [
    'session windows on stream time though the topology is on the watermark',
    (b) => { b.stream('s').groupByKey().windowedBy(SessionWindows.ofInactivityGap(300_000).grace(60_000)).count({ clock: 'stream-time' }); },
    'window-aggregate',
    'window aggregate: session windows, gap 5 min, grace 1 min, on stream time; emits updates; late records dropped',
    { eventClock: 'watermark' },
  ],
  [
    'a stream–stream left join',
    (b) => { b.stream('l').leftJoin(b.stream('r'), (l, r) => [l, r], JoinWindows.ofTimeDifference(0).after(600_000).grace(30_000)); },
    'stream-left-join',
    'left join of two streams: right records from 0 ms before to 10 min after the left one, grace 30 s, on stream time; late records dropped',
  ],
  [
    'a stream–versioned-table join',
    (b) => { b.stream('orders').join(b.table('customers', { name: 'customers', versioned: { historyRetentionMs: 86_400_000 } }), (o, c) => [o, c], { grace: 5_000 }); },
    'stream-table-inner-join',
    "inner join with versioned table customers as of each record's time, grace 5 s, on stream time; late records dropped",
  ],
  [
    'a latest-value join',
    (b) => { b.stream('clicks').leftJoinLatest(b.table('profiles'), (c, p) => [c, p]); },
    'stream-table-latest-left-join',
    'left join with the latest value of a table, in processing order (audited nondeterministic:latest-value-join)',
  ],
  [
    'a source on ingest time, bounded out-of-orderness with idleness',
    (b) => { b.stream('s', { timestamp: Extractors.ingestTime(), watermarks: Watermarks.boundedOutOfOrderness(2_000).withIdleness(60_000) }).to('t'); },
    'source-s',
    'reads s; timestamps: ingestTime (wall clock: nondeterministic); watermarks: boundedOutOfOrderness(2000), idle after 1 min without records (real time)',
  ],
  [
    'a non-windowed aggregation',
    (b) => { b.stream('s', { key: Serdes.string() }).groupByKey().count(); },
    'process',
    'aggregate: one aggregate per key, a result for every record',
  ],
];

for (const [what, build, prefix, expected, options] of LABELS) {
  test(`describe: ${what}`, () => {
    assert.equal(labelOf(build, prefix, options), expected);
  });
}

test('describe: a processor with timers has a timers store in its sub-topology', () => {
  const b = new StreamsBuilder();
  b.stream('s').process(() => ({ process: () => {}, onTimer: () => {} }));
  const d = describeTopology(b.build());
  assert.deepEqual(d.stores, [{ name: '__timers/process-2', type: 'timers', kind: undefined, subTopology: 0, usedBy: ['process-2'] }]);
});

/** Checks a flowchart against the grammar formatTopologyMermaid writes; returns its node labels (entities decoded) and edges. */
function parseFlowchart(text: string): { labels: Map<string, string>; edges: [string, string, string][]; subgraphs: string[] } {
  const [first, ...rest] = text.split('\n');
  assert.equal(first, 'flowchart TD');
  const labels = new Map<string, string>();
  const edges: [string, string, string][] = [];
  const subgraphs: string[] = [];
  let open: string | undefined;
  const LABEL = '"((?:[^"<>#]|#\\d+;|<br/>)*)"';
  const shapes = [['\\[\\(', '\\)\\]'], ['\\[/', '/\\]'], ['\\[\\\\', '\\\\\\]'], ['\\[', '\\]']];
  const decode = (l: string): string => l.replace(/#(\d+);/g, (_, c: string) => String.fromCodePoint(Number(c))).replace(/<br\/>/g, '\n');
  for (const line of rest) {
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^  subgraph (n\\d+)\\[${LABEL}\\]$`).exec(line)) !== null) {
      assert.equal(open, undefined, `nested subgraph: ${line}`);
      open = m[1]!;
      subgraphs.push(decode(m[2]!));
      assert.ok(!labels.has(m[1]!), `id ${m[1]} defined twice`);
      labels.set(m[1]!, decode(m[2]!));
    } else if (line === '  end') {
      assert.notEqual(open, undefined, 'end without subgraph');
      open = undefined;
    } else if ((m = /^ {2}(n\d+) (-->|-\.-) (n\d+)$/.exec(line)) !== null) {
      edges.push([m[1]!, m[2]!, m[3]!]);
    } else {
      const shape = shapes.map(([o, c]) => new RegExp(`^ {2,4}(n\\d+)${o}${LABEL}${c}$`).exec(line)).find((x) => x !== null);
      assert.ok(shape !== undefined, `not a node, subgraph, end or edge: ${JSON.stringify(line)}`);
      assert.ok(!labels.has(shape[1]!), `id ${shape[1]} defined twice`);
      labels.set(shape[1]!, decode(shape[2]!));
    }
  }
  assert.equal(open, undefined, 'subgraph not closed');
  for (const [a, , b] of edges) assert.ok(labels.has(a) && labels.has(b), `edge ${a} → ${b} between defined nodes`);
  return { labels, edges, subgraphs };
}

test('describe: the Mermaid flowchart of page-views draws both sub-topologies joined by their internal stream', async () => {
  const { applicationId, topology } = await loadTopologyModule(example('page-views'));
  const { labels, edges, subgraphs } = parseFlowchart(formatTopologyMermaid(describeTopology(topology, { applicationId })));
  assert.deepEqual(subgraphs, ['Sub-topology 0', 'Sub-topology 1']);
  const idOf = (first: string): string => [...labels].find(([, l]) => l.split('\n')[0] === first)![0];
  const named = edges.map(([a, kind, b]) => [labels.get(a)!.split('\n')[0], kind, labels.get(b)!.split('\n')[0]]);
  const internal = 'page-views-select-key-3-repartition';
  assert.deepEqual(named, [
    ['source-clicks-1', '-->', 'filter-2'],
    ['clicks', '-->', 'source-clicks-1'],
    ['filter-2', '-->', 'select-key-3'],
    ['select-key-3', '-->', 'select-key-3-repartition-sink'],
    ['select-key-3-repartition-sink', '-->', internal],
    ['select-key-3-repartition-source', '-->', 'window-aggregate-4'],
    [internal, '-->', 'select-key-3-repartition-source'],
    ['window-aggregate-4', '-->', 'window-aggregate-4-results'],
    ['window-aggregate-4-results', '-->', 'sink-page-views-5'],
    ['sink-page-views-5', '-->', 'page-views'],
    ['window-aggregate-4', '-.-', 'views'],
  ]);
  assert.equal(labels.get(idOf('window-aggregate-4')), 'window-aggregate-4\nwindow aggregate: tumbling windows of 1 min, grace 10 s, on stream time; emits final results; late records dropped');
});

test('describe: names that would end a Mermaid label are written as entity codes', () => {
  const b = new StreamsBuilder();
  const odd = 'a"b]<c>#d';
  b.stream(odd).to('out"]');
  const text = formatTopologyMermaid(describeTopology(b.build()));
  const { labels } = parseFlowchart(text);
  assert.ok([...labels.values()].includes(odd), 'the stream name survives decoding');
  assert.ok([...labels.values()].includes('out"]'));
  assert.equal(mermaidText('a "b" <c>'), 'a #34;b#34; #60;c#62;');
});

test('tidemark describe: text by default, mermaid on request, bad format in one line', () => {
  const text = cli(['describe', example('max-temperature')]);
  assert.equal(text.status, 0, text.stderr);
  assert.equal(text.stdout, `max-temperature: ${EXPECTED_TEXT['max-temperature']}\n`);
  const mermaid = cli(['describe', example('page-views'), '--format', 'mermaid']);
  assert.equal(mermaid.status, 0, mermaid.stderr);
  parseFlowchart(mermaid.stdout.trimEnd());
  const bad = cli(['describe', example('page-views'), '--format', 'svg']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^tidemark describe: --format must be one of text, mermaid/);
  const none = cli(['describe']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /which topology module\?/);
});

test('describe: docs/cli.md shows what tidemark describe prints for page-views, as text and as the Mermaid block GitHub draws', async () => {
  const docs = readFileSync(fileURLToPath(new URL('../../docs/cli.md', import.meta.url)), 'utf8');
  const { applicationId, topology } = await loadTopologyModule(example('page-views'));
  const mermaid = /```mermaid\n([\s\S]*?)\n```/.exec(docs)?.[1];
  assert.equal(mermaid, formatTopologyMermaid(describeTopology(topology, { applicationId })));
  const shown = /\n {4}\$ tidemark describe examples\/topologies\/page-views\.ts\n((?: {4}.*\n)+)/.exec(docs)?.[1];
  assert.equal(shown?.replace(/^ {4}/gm, '').trimEnd(), `page-views: ${EXPECTED_TEXT['page-views']}`);
});
