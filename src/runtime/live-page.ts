/**
 * The live page of a running application (`/` of `tidemark run --http`):
 * plain HTML, CSS and a small script that polls `/progress` twice a second
 * and draws, per task, stream time and watermark against the wall clock,
 * what holds the watermark back, each input partition's lag, the recent
 * late records, and the topology (from `/topology`). Every value goes into
 * the page as a DOM text node — never as markup — so stream names, keys and
 * details cannot inject anything.
 *
 * @module
 */

export const LIVE_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tidemark — live</title>
<link rel="stylesheet" href="/live.css">
<script src="/live.js" defer></script>
</head>
<body>
<header>
  <h1>tidemark <span id="app"></span></h1>
  <div id="summary" class="summary"></div>
</header>
<main>
  <section><h2>Tasks</h2><div id="tasks" class="tasks"></div></section>
  <section><h2>Recent late records</h2><table id="late"><thead><tr><th>found</th><th>task</th><th>record</th><th>kind</th><th>why</th></tr></thead><tbody></tbody></table><p id="no-late" class="quiet">none yet</p></section>
  <section><h2>Topology</h2><div id="topology"></div></section>
</main>
<footer id="status" class="quiet">connecting…</footer>
</body>
</html>
`;

export const LIVE_PAGE_CSS = `
:root { --st: #1f6feb; --wm: #d29922; --bad: #cf222e; --ok: #1a7f37; --muted: #6e7781; --line: #d0d7de; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 12px 20px; }
h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 16px; margin: 18px 0 8px; }
main { padding: 0 20px 20px; }
.summary span { display: inline-block; margin-right: 18px; } .summary b { font-variant-numeric: tabular-nums; }
.bad { color: var(--bad); } .ok { color: var(--ok); } .quiet { color: var(--muted); }
.tasks { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
.task { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.task h3 { margin: 0 0 4px; font-size: 15px; }
.clock { font-variant-numeric: tabular-nums; } .st { color: var(--st); } .wm { color: var(--wm); }
.held { margin: 4px 0; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; vertical-align: top; }
.bar { display: inline-block; height: 8px; background: var(--st); vertical-align: middle; margin-right: 6px; }
svg text { font: 11px system-ui, sans-serif; }
footer { padding: 8px 20px; }
`;

export const LIVE_PAGE_SCRIPT = `'use strict';
const HISTORY = 120;
const history = new Map();
const MAX = Number.MAX_SAFE_INTEGER;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}
function clock(t) {
  if (t === null || t === undefined) return 'none';
  if (t >= MAX) return '∞ (end of input)';
  return t >= 1e11 ? new Date(t).toISOString().replace('T', ' ').replace('Z', '') : String(t);
}
// Times in a late record's reason are epoch milliseconds (exact, as the audit log keeps them); the page shows them as dates.
function datesIn(text) {
  return String(text).replace(/(?<![0-9])1[0-9]{12}(?![0-9])/g, (t) => clock(Number(t)));
}
function ago(ms) {
  if (ms === null || ms === undefined) return '';
  const s = Math.abs(ms) / 1000;
  const text = s < 60 ? s.toFixed(1) + ' s' : s < 3600 ? (s / 60).toFixed(1) + ' min' : s < 86400 ? (s / 3600).toFixed(1) + ' h' : (s / 86400).toFixed(1) + ' days';
  return ms >= 0 ? text + ' behind now' : text + ' ahead of now';
}
function heldBy(task) {
  const waiting = task.inputs.filter((i) => !i.idle);
  if (task.inputs.length > 0 && waiting.length === 0) return 'every input is idle';
  let slowest;
  for (const i of waiting) if (slowest === undefined || (i.watermark ?? -Infinity) < (slowest.watermark ?? -Infinity)) slowest = i;
  if (slowest === undefined) return 'no inputs';
  const h = slowest.heldBy;
  if (h === 'none') return slowest.key + ': no tidemark producer has written there yet';
  if (h) return slowest.key + ': producer ' + h.application + '/' + (h.task ?? '(a task not seen yet)') + ' at ' + clock(h.watermark) + ' (' + h.state + ')';
  return slowest.key + (slowest.watermark === null ? ': no watermark yet' : ' at ' + clock(slowest.watermark)) + (slowest.lag > 0 ? ', ' + slowest.lag + ' records still to read' : '');
}
function chart(samples) {
  const w = 380, h = 90, pad = 4;
  const root = svg('svg', { width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, role: 'img', 'aria-label': 'stream time and watermark against the wall clock' });
  root.append(svg('rect', { x: 0, y: 0, width: w, height: h, fill: '#fafbfc', stroke: '#d0d7de' }));
  const values = samples.flatMap((s) => [s.st, s.wm]).filter((v) => v !== null && v < MAX);
  if (samples.length < 2 || values.length === 0) return root;
  const t0 = samples[0].at, t1 = samples[samples.length - 1].at;
  let lo = Math.min(...values), hi = Math.max(...values);
  // At least a second of event time high: a watermark 1 ms below stream time stays next to it.
  if (hi - lo < 1000) { const mid = (hi + lo) / 2; lo = mid - 500; hi = mid + 500; }
  const x = (t) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (w - 2 * pad);
  const y = (v) => h - pad - ((v - lo) / (hi - lo)) * (h - 2 * pad);
  for (const [key, color, dash] of [['st', '#1f6feb', ''], ['wm', '#d29922', '5 3']]) {
    const points = samples.filter((s) => s[key] !== null && s[key] < MAX).map((s) => x(s.at).toFixed(1) + ',' + y(s[key]).toFixed(1));
    if (points.length > 1) root.append(svg('polyline', { points: points.join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash }));
  }
  return root;
}
function renderTask(task) {
  const samples = history.get(task.id) || [];
  const maxLag = Math.max(1, ...task.inputs.map((i) => i.lag));
  const rows = task.inputs.map((i) => el('tr', {},
    el('td', {}, i.key),
    el('td', {}, el('span', { class: 'bar', style: 'width:' + Math.round((i.lag / maxLag) * 60) + 'px' }), String(i.lag)),
    el('td', { class: 'clock' }, clock(i.watermark)),
    el('td', {}, i.idle ? 'idle' : i.lag > 0 ? 'reading' : task.caughtUp ? 'at its end' : 'waiting for data')));
  const late = task.lateRecords + task.lateWindows;
  return el('div', { class: 'task', 'data-task': task.id },
    el('h3', {}, 'task ' + task.id, el('span', { class: 'quiet' }, '  ' + task.processed + ' processed' + (late > 0 ? ', ' : '')), late > 0 ? el('span', { class: 'bad' }, task.lateRecords + ' late records, ' + task.lateWindows + ' late windows') : ''),
    el('div', { class: 'clock st' }, 'stream time ', el('b', { class: 'stream-time' }, clock(task.streamTime))),
    el('div', { class: 'clock wm' }, 'watermark ', el('b', { class: 'watermark' }, clock(task.watermark)), el('span', { class: 'quiet' }, '  ' + ago(task.eventTimeLagMs))),
    el('div', { class: 'held' }, 'held back by: ', el('span', { class: 'held-by' }, heldBy(task))),
    chart(samples),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'input'), el('th', {}, 'lag'), el('th', {}, 'watermark'), el('th', {}, 'state'))), el('tbody', {}, ...rows)));
}
function renderSummary(o) {
  const nondeterministic = Object.entries(o.audited).filter(([k]) => k.startsWith('nondeterministic:')).reduce((n, [, v]) => n + v, 0);
  const late = (o.audited['late-record'] ?? 0) + (o.audited['late-window'] ?? 0);
  const parts = [
    ['mode', o.mode + (o.running ? '' : ' (ended)')],
    ['processed', o.processed], ['lag', o.lag], ['commits', o.commits],
    ['late', late], ['dead letters', o.audited['dead-letter'] ?? 0],
    ['nondeterministic decisions', nondeterministic],
  ];
  document.getElementById('summary').replaceChildren(...parts.map(([k, v]) => el('span', { 'data-field': k }, k + ' ', el('b', { class: k === 'nondeterministic decisions' ? (v > 0 ? 'bad' : 'ok') : '' }, String(v)))));
}
function renderLate(o) {
  const body = document.querySelector('#late tbody');
  body.replaceChildren(...[...o.recentLate].reverse().map((l) => el('tr', {},
    el('td', { class: 'clock' }, new Date(l.at).toISOString().slice(11, 23)), el('td', {}, l.taskId), el('td', {}, l.stream + '/' + l.partition + '@' + l.offset), el('td', {}, l.kind), el('td', {}, datesIn(l.detail)))));
  document.getElementById('no-late').hidden = o.recentLate.length > 0;
}
function renderTopology(nodes) {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const depth = new Map();
  const visit = (n, d) => { if ((depth.get(n.name) ?? -1) >= d) return; depth.set(n.name, d); for (const c of n.children) if (byName.has(c)) visit(byName.get(c), d + 1); };
  for (const n of nodes) if (n.kind === 'source') visit(n, 0);
  const subs = [...new Set(nodes.map((n) => n.subTopology))].sort((a, b) => a - b);
  const colW = 190, rowH = 34, boxW = 170, boxH = 24;
  const pos = new Map();
  let top = 10;
  const rowsUsed = [];
  for (const s of subs) {
    const mine = nodes.filter((n) => n.subTopology === s);
    const cols = new Map();
    for (const n of mine) { const d = depth.get(n.name) ?? 0; cols.set(d, (cols.get(d) ?? []).concat(n)); }
    let rows = 1;
    for (const [d, list] of cols) { list.forEach((n, i) => pos.set(n.name, { x: 10 + d * colW, y: top + 18 + i * rowH })); rows = Math.max(rows, list.length); }
    rowsUsed.push({ s, top, rows });
    top += 18 + rows * rowH + 14;
  }
  const width = 20 + (Math.max(0, ...[...depth.values()]) + 1) * colW;
  const root = svg('svg', { width, height: top, viewBox: '0 0 ' + width + ' ' + top, role: 'img', 'aria-label': 'topology' });
  for (const r of rowsUsed) { const t = svg('text', { x: 10, y: r.top + 12, fill: '#6e7781' }); t.textContent = 'sub-topology ' + r.s; root.append(t); }
  for (const n of nodes) for (const c of n.children) {
    const a = pos.get(n.name), b = pos.get(c);
    if (a && b) root.append(svg('line', { x1: a.x + boxW, y1: a.y + boxH / 2, x2: b.x, y2: b.y + boxH / 2, stroke: '#8c959f' }));
  }
  for (const n of nodes) {
    const p = pos.get(n.name);
    if (!p) continue;
    const fill = n.kind === 'source' ? '#ddf4ff' : n.kind === 'sink' ? '#dafbe1' : '#fff';
    root.append(svg('rect', { x: p.x, y: p.y, width: boxW, height: boxH, rx: 4, fill, stroke: n.internal ? '#bf8700' : '#8c959f' }));
    const label = svg('text', { x: p.x + 6, y: p.y + 16 });
    const name = n.kind === 'processor' ? n.name : (n.kind === 'source' ? '⟵ ' : '⟶ ') + n.stream;
    label.textContent = name.length > 26 ? name.slice(0, 25) + '…' : name;
    const title = svg('title');
    title.textContent = n.name + (n.stores && n.stores.length ? ' (stores: ' + n.stores.join(', ') + ')' : '') + (n.internal ? ' (internal)' : '');
    label.append(title);
    root.append(label);
  }
  document.getElementById('topology').replaceChildren(root);
}
async function poll() {
  try {
    const o = await (await fetch('/progress', { cache: 'no-store' })).json();
    document.getElementById('app').textContent = o.applicationId;
    for (const t of o.tasks) {
      const list = history.get(t.id) || [];
      list.push({ at: o.at, st: t.streamTime, wm: t.watermark });
      if (list.length > HISTORY) list.shift();
      history.set(t.id, list);
    }
    if (o.tasks.length > 0) { renderSummary(o); renderLate(o); }
    document.getElementById('tasks').replaceChildren(...o.tasks.map(renderTask));
    document.getElementById('status').textContent = 'updated ' + new Date(o.at ?? Date.now()).toISOString() + (o.running ? '' : ' — the run has ended');
  } catch (e) {
    document.getElementById('status').textContent = 'cannot reach the application: ' + e.message;
  }
}
fetch('/topology').then((r) => r.json()).then(renderTopology).catch(() => {});
poll();
setInterval(poll, 500);
`;
