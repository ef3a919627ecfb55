/**
 * Draws the Mermaid flowchart of `tidemark describe --format mermaid` as an
 * HTML page, for scripts/pictures.ts to screenshot: the docs get a picture
 * of a topology without a Mermaid renderer among the dependencies. It reads
 * only what formatTopologyMermaid (src/runtime/describe-topology.ts) writes
 * — stream and store cylinders, one subgraph per sub-topology holding its
 * source, processor and sink nodes, `-->` and `-.-` links — and says which
 * line it cannot read otherwise.
 *
 * The layout: each sub-topology a box, its nodes in rows by their depth
 * from its sources; the boxes one under the other; a stream between the
 * boxes, just above the first sub-topology reading it (or below the last
 * one writing it, for an output); a store beside the box of the processors
 * using it. The browser lays the boxes out and wraps the text; a small
 * script then draws the links between where the boxes ended up.
 */

/** A node's shape, as the Mermaid brackets say. */
type Shape = 'cylinder' | 'source' | 'sink' | 'box';

interface FlowNode {
  readonly id: string;
  readonly shape: Shape;
  readonly title: string;
  readonly detail: string | undefined;
}

interface Flowchart {
  readonly nodes: Map<string, FlowNode>;
  /** Subgraphs in order: title and member node ids. */
  readonly subgraphs: { readonly title: string; readonly members: string[] }[];
  readonly links: { readonly from: string; readonly to: string; readonly dotted: boolean }[];
}

const SHAPES: readonly [open: string, close: string, shape: Shape][] = [
  ['[(', ')]', 'cylinder'],
  ['[/', '/]', 'source'],
  ['[\\', '\\]', 'sink'],
  ['[', ']', 'box'],
];

/** A label's text: entity codes (`#34;`) back to characters, `<br/>` splitting title from detail. */
function labelText(quoted: string): { title: string; detail: string | undefined } {
  const decoded = quoted.split('<br/>').map((part) => part.replace(/#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code))));
  return { title: decoded[0]!, detail: decoded.length > 1 ? decoded.slice(1).join(' ') : undefined };
}

/** Reads the flowchart `tidemark describe --format mermaid` printed. */
export function parseFlowchart(text: string): Flowchart {
  const chart: Flowchart = { nodes: new Map(), subgraphs: [], links: [] };
  let inside: string[] | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line === 'flowchart TD') return;
    const where = `line ${i + 1} of the flowchart (${JSON.stringify(line)})`;
    if (line === 'end') {
      if (inside === undefined) throw new Error(`${where}: an end outside a subgraph`);
      inside = undefined;
      return;
    }
    const subgraph = /^subgraph (n\d+)\["(.*)"\]$/.exec(line);
    if (subgraph !== null) {
      inside = [];
      chart.subgraphs.push({ title: labelText(subgraph[2]!).title, members: inside });
      return;
    }
    const link = /^(n\d+) (-->|-\.-) (n\d+)$/.exec(line);
    if (link !== null) {
      chart.links.push({ from: link[1]!, to: link[3]!, dotted: link[2] === '-.-' });
      return;
    }
    const node = /^(n\d+)(.*)$/.exec(line);
    const shape = node === null ? undefined : SHAPES.find(([open, close]) => node[2]!.startsWith(`${open}"`) && node[2]!.endsWith(`"${close}`));
    if (node === null || shape === undefined) throw new Error(`${where}: not a node, link or subgraph of tidemark's flowcharts`);
    const [open, close, kind] = shape;
    chart.nodes.set(node[1]!, { id: node[1]!, shape: kind, ...labelText(node[2]!.slice(open.length + 1, -close.length - 1)) });
    inside?.push(node[1]!);
  });
  for (const l of chart.links) for (const end of [l.from, l.to]) if (!chart.nodes.has(end)) throw new Error(`the flowchart links ${end}, a node it does not define`);
  return chart;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.codePointAt(0)};`);
}

function nodeHtml(n: FlowNode, classes = ''): string {
  const detail = n.detail === undefined ? '' : `<div class="detail">${escapeHtml(n.detail)}</div>`;
  return `<div class="node ${n.shape} ${classes}" data-id="${n.id}"><div class="title">${escapeHtml(n.title)}</div>${detail}</div>`;
}

/** The rows of a subgraph: each member at its longest distance from the members nothing inside links to. */
function rowsOf(chart: Flowchart, members: readonly string[]): string[][] {
  const mine = new Set(members);
  const inner = chart.links.filter((l) => !l.dotted && mine.has(l.from) && mine.has(l.to));
  const depth = new Map<string, number>();
  const visit = (id: string, d: number): void => {
    if ((depth.get(id) ?? -1) >= d) return;
    depth.set(id, d);
    for (const l of inner) if (l.from === id) visit(l.to, d + 1);
  };
  for (const id of members) if (!inner.some((l) => l.to === id)) visit(id, 0);
  const rows: string[][] = [];
  for (const id of members) (rows[depth.get(id) ?? 0] ??= []).push(id);
  return rows.filter((r) => r !== undefined);
}

/** The page drawing `chart`, its picture in `#chart`. */
export function flowchartPage(chart: Flowchart): string {
  const subOf = new Map<string, number>();
  chart.subgraphs.forEach((s, k) => s.members.forEach((id) => subOf.set(id, k)));
  const loose = [...chart.nodes.values()].filter((n) => !subOf.has(n.id));
  // A gap k is above sub-topology k (gap n: below the last); a stream goes where it is read first, else after its last writer.
  const gaps: FlowNode[][] = Array.from({ length: chart.subgraphs.length + 1 }, () => []);
  const stores: FlowNode[][] = chart.subgraphs.map(() => []);
  for (const n of loose) {
    const users = chart.links.filter((l) => l.dotted && l.to === n.id).map((l) => subOf.get(l.from) ?? 0);
    if (users.length > 0) {
      stores[Math.min(...users)]!.push(n);
      continue;
    }
    const readers = chart.links.filter((l) => l.from === n.id).map((l) => subOf.get(l.to) ?? 0);
    const writers = chart.links.filter((l) => l.to === n.id).map((l) => subOf.get(l.from) ?? 0);
    gaps[readers.length > 0 ? Math.min(...readers) : writers.length > 0 ? Math.max(...writers) + 1 : 0]!.push(n);
  }
  const internal = new Set(loose.filter((n) => chart.links.some((l) => l.from === n.id) && chart.links.some((l) => l.to === n.id)).map((n) => n.id));
  const gapHtml = (k: number): string => (gaps[k]!.length === 0 ? '' : `<div class="gap">${gaps[k]!.map((n) => nodeHtml(n, internal.has(n.id) ? 'stream internal' : 'stream')).join('')}</div>`);
  const layers = chart.subgraphs.map((s, k) => {
    const rows = rowsOf(chart, s.members).map((r) => `<div class="row">${r.map((id) => nodeHtml(chart.nodes.get(id)!)).join('')}</div>`);
    const side = stores[k]!.length === 0 ? '' : `<div class="stores">${stores[k]!.map((n) => nodeHtml(n, 'store')).join('')}</div>`;
    return `${gapHtml(k)}<div class="layer"><div class="sub"><div class="sub-title">${escapeHtml(s.title)}</div>${rows.join('')}</div>${side}</div>`;
  });
  const links = JSON.stringify(chart.links);
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>${CSS}</style></head><body>
<div id="chart">${layers.join('')}${gapHtml(chart.subgraphs.length)}<svg id="links"></svg></div>
<script>const LINKS = ${links.replace(/</g, '\\u003c')};${SCRIPT}</script></body></html>`;
}

const CSS = `
body { margin: 0; background: #fff; font: 13px/1.35 system-ui, sans-serif; color: #1f2328; }
#chart { position: relative; display: inline-flex; flex-direction: column; align-items: stretch; gap: 34px; padding: 24px 28px; }
/* The box in the middle column, its stores to the right: boxes and streams stay on one axis. */
.layer { display: grid; grid-template-columns: 1fr auto 1fr; align-items: center; column-gap: 56px; }
.layer > .sub { grid-column: 2; } .layer > .stores { grid-column: 3; justify-self: start; }
.sub { position: relative; display: flex; flex-direction: column; align-items: center; gap: 30px; padding: 34px 26px 22px; background: #f6f8fa; border: 1.5px dashed #8c959f; border-radius: 8px; }
.sub-title { position: absolute; top: 8px; left: 12px; color: #57606a; font-weight: 600; }
.row, .gap, .stores { display: flex; gap: 22px; align-items: center; justify-content: center; }
.stores { flex-direction: column; }
.node { position: relative; box-sizing: border-box; max-width: 340px; padding: 7px 14px; text-align: center; border: 1.5px solid #8c959f; border-radius: 5px; background: #fff; }
.title { font: 600 13px ui-monospace, 'DejaVu Sans Mono', monospace; }
.detail { color: #57606a; font-size: 12px; margin-top: 2px; }
.source, .sink { border: none; background: none; padding: 7px 22px; }
.source::before, .sink::before { content: ''; position: absolute; inset: 0; z-index: -1; border: 1.5px solid #8c959f; background: #ddf4ff; transform: skewX(-14deg); }
.sink::before { background: #dafbe1; transform: skewX(14deg); }
.cylinder { border-radius: 50% / 11px; padding: 22px 18px 9px; background: #fff8c5; border-color: #bf8700; min-width: 120px; }
.cylinder::before { content: ''; position: absolute; left: -1.5px; right: -1.5px; top: -1.5px; height: 22px; box-sizing: border-box; border: 1.5px solid #bf8700; border-radius: 50%; }
.cylinder.internal { background: #fff1e5; }
.cylinder.store { background: #fbefff; border-color: #8250df; }
.cylinder.store::before { border-color: #8250df; }
.sub .node { z-index: 1; } .sub { z-index: 0; isolation: isolate; }
#links { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; overflow: visible; }
`;

/** Draws each link from where its ends were laid out: down from bottom to top, or across to a store. */
const SCRIPT = `
const chart = document.getElementById('chart');
const svg = document.getElementById('links');
const origin = chart.getBoundingClientRect();
const box = (id) => { const r = document.querySelector('[data-id="' + id + '"]').getBoundingClientRect(); return { l: r.left - origin.left, r: r.right - origin.left, t: r.top - origin.top, b: r.bottom - origin.top, x: (r.left + r.right) / 2 - origin.left, y: (r.top + r.bottom) / 2 - origin.top }; };
const NS = 'http://www.w3.org/2000/svg';
svg.innerHTML = '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>';
for (const l of LINKS) {
  const a = box(l.from), b = box(l.to);
  const path = document.createElementNS(NS, 'path');
  let d;
  if (l.dotted) d = 'M' + a.r + ',' + a.y + ' L' + b.l + ',' + b.y;
  else { const dy = Math.max(12, (b.t - a.b) / 2); d = 'M' + a.x + ',' + a.b + ' C' + a.x + ',' + (a.b + dy) + ' ' + b.x + ',' + (b.t - dy) + ' ' + b.x + ',' + (b.t - 1); }
  path.setAttribute('d', d);
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', l.dotted ? '#8250df' : '#57606a');
  path.setAttribute('stroke-width', '1.5');
  if (l.dotted) path.setAttribute('stroke-dasharray', '4 3'); else path.setAttribute('marker-end', 'url(#arrow)');
  svg.append(path);
}
document.body.dataset.drawn = 'yes';
`;
