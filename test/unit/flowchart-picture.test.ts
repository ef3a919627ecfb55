/**
 * The docs' topology picture (scripts/flowchart-picture.ts) reads what
 * `describe --format mermaid` writes: every node, subgraph member and link
 * of each example's flowchart, names with characters Mermaid would choke on
 * given back as they are, and put into the page as text, never markup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeTopology, formatTopologyMermaid } from '../../src/runtime/describe-topology.ts';
import { loadTopologyModule } from '../../src/cli/topology-module.ts';
import { Serdes, StreamsBuilder } from '../../src/index.ts';
import { flowchartPage, parseFlowchart } from '../../scripts/flowchart-picture.ts';

const dir = fileURLToPath(new URL('../../examples/topologies/', import.meta.url));

test('every example topology: the picture has each node of the description, in its sub-topology, and each link of the Mermaid', async () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const { applicationId, topology } = await loadTopologyModule(dir + file);
    const d = describeTopology(topology, { applicationId });
    const mermaid = formatTopologyMermaid(d);
    const chart = parseFlowchart(mermaid);
    assert.deepEqual(
      chart.subgraphs.map((s) => s.members.map((id) => chart.nodes.get(id)!.title)),
      d.subTopologies.map((sub) => sub.nodes.map((n) => n.name)),
      file,
    );
    assert.equal(chart.links.length, mermaid.split('\n').filter((l) => / (-->|-\.-) /.test(l)).length, file);
    const titles = new Set([...chart.nodes.values()].map((n) => n.title));
    for (const s of d.stores) assert.ok(titles.has(s.name), `${file}: store ${s.name}`);
    // Every stream a source reads or a sink writes (the dead-letter stream is not drawn: any source may write it).
    for (const s of d.subTopologies.flatMap((sub) => sub.nodes.flatMap((n) => n.stream ?? []))) assert.ok(titles.has(s), `${file}: stream ${s}`);
  }
});

test('a name with quotes, brackets and markup comes back as written and goes into the page as text', () => {
  const name = 'a"b]<i>#x';
  const b = new StreamsBuilder();
  b.stream<string, string>(name, { key: Serdes.string(), value: Serdes.string() }).to('out');
  const chart = parseFlowchart(formatTopologyMermaid(describeTopology(b.build(), { applicationId: 'odd' })));
  assert.ok([...chart.nodes.values()].some((n) => n.title === name));
  const page = flowchartPage(chart);
  assert.doesNotMatch(page, /<i>/);
  assert.match(page, /a&#34;b\]&#60;i&#62;#x/);
});

test('a line the flowcharts never have is named with its line number', () => {
  assert.throws(() => parseFlowchart('flowchart TD\n  n0[("s")]\n  n0 ==> n1'), /^Error: line 3 of the flowchart \("n0 ==> n1"\): not a node, link or subgraph/);
});
