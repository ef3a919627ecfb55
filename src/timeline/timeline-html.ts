/**
 * The timeline as a page: the SVG of a trace inline, a legend that says how
 * to read it, and a table per node.
 *
 * @module
 */
import { MAX_WATERMARK as END, NO_WATERMARK as NONE } from '../time/watermark.ts';
import type { TraceEvent } from './timeline-data.ts';
import { compareNames, describeSummary, lanesOf, plural, summarizeTrace, type Lane } from './timeline-lanes.ts';
import { clockSwatch, COLOR, escapeXml, FONT, positionText, tag, windowSwatch } from './timeline-markup.ts';
import { timeScale, type TimeScale } from './timeline-scale.ts';
import { svgElement, type TimelineOptions } from './timeline-svg.ts';

const CSS = `body{font-family:${FONT};color:${COLOR.text};margin:24px;max-width:1040px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}h3{font-size:14px;margin:18px 0 6px}
.summary{color:${COLOR.muted};margin:0 0 12px}
.picture{overflow-x:auto;border:1px solid ${COLOR.grid}}
.legend{list-style:none;padding:0;margin:0 0 12px}.legend li{margin:3px 0}.legend svg{vertical-align:middle;margin-right:6px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid ${COLOR.grid};padding:2px 8px;text-align:left}
th{background:${COLOR.laneOdd};font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.late td{color:${COLOR.late}}details{margin:6px 0}summary{cursor:pointer;color:${COLOR.muted}}`;

/** A small inline SVG of one legend mark. */
function swatch(content: string): string {
  return tag('svg', { xmlns: 'http://www.w3.org/2000/svg', width: 26, height: 14, viewBox: '0 0 26 14' }, content);
}

const HTML_LEGEND: readonly [string, string][] = [
  [swatch(tag('circle', { cx: 7, cy: 7, r: 5, fill: COLOR.record })), '<b>record</b>: a data record the node processed (a producer: wrote), at x = its event time; labelled with its key and #seq'],
  [swatch(tag('circle', { cx: 7, cy: 7, r: 5, fill: COLOR.late }) + tag('path', { d: 'M4.2,4.2L9.8,9.8M4.2,9.8L9.8,4.2', stroke: '#ffffff', 'stroke-width': 1.5 })), '<b>late record</b>: behind the node\'s event clock when it arrived: dropped or sent to the side output'],
  [swatch(tag('line', { x1: 4, y1: 1, x2: 4, y2: 13, stroke: COLOR.watermark, 'stroke-width': 1.2 }) + tag('path', { d: 'M4,1L12,4L4,7Z', fill: COLOR.flag, stroke: COLOR.watermark })), '<b>watermark record</b> W(t): received from a producer (for a producer: written), at x = t — "no more records with timestamp ≤ t"'],
  [swatch(clockSwatch('stream-time', 2, 7)), '<b>stream time</b>: the largest timestamp the node has processed; a step right when it grows'],
  [swatch(clockSwatch('watermark', 2, 7)), '<b>watermark</b>: the node\'s watermark (its event clock in watermark mode); ∞ at the right edge is the end of stream'],
  [swatch(clockSwatch('both', 2, 7)), '<b>stream time and watermark equal</b>: the dashed watermark inside the band of stream time'],
  [swatch(windowSwatch(2, 7)), '<b>window</b> [start, end): a bracket under the row where an operator emitted its result (final results: where the window fired); dotted lines down the lane are the bounds of its windows'],
];

/** Final value of a clock kind in a lane, as shown in its table. */
function lastClock(lane: Lane, kind: 'stream-time' | 'watermark', scale: TimeScale): string {
  let last: number | undefined;
  for (const e of lane.events) if (e.kind === kind) last = e.time;
  return last === undefined ? '—' : last === NONE ? 'none yet' : last === END ? '∞ (end of stream)' : scale.format(last);
}

function nodeSection(lane: Lane, scale: TimeScale): string {
  const s = summarizeTrace(lane.events);
  const records = lane.events.filter((e) => e.kind === 'record');
  const lateSeqs = records.filter((e) => e.late === true).map((e) => `#${e.seq}`);
  const producers = [...new Set(lane.events.flatMap((e) => (e.kind === 'watermark-record' ? [e.producer] : [])))].sort(compareNames);
  const times = records.map((e) => e.time).filter((t) => t !== NONE && t !== END);
  const row = (name: string, value: string): string => `<tr><th>${escapeXml(name)}</th><td>${escapeXml(value)}</td></tr>`;
  const summary = [
    row('records', `${s.records}${s.late > 0 ? ` (${s.late} late: ${lateSeqs.join(', ')})` : ''}`),
    row('event times of records', times.length === 0 ? '—' : `${scale.format(times.reduce((a, b) => Math.min(a, b)))} … ${scale.format(times.reduce((a, b) => Math.max(a, b)))}`),
    row('watermark records', `${s.watermarkRecords}${producers.length > 0 ? ` (from ${producers.join(', ')})` : ''}`),
    ...(s.windows > 0 ? [row('window results', String(s.windows))] : []),
    row('last stream time', lastClock(lane, 'stream-time', scale)),
    row('last watermark', lastClock(lane, 'watermark', scale)),
  ].join('\n');
  const cell = (v: string | number | undefined, numeric = false): string => `<td${numeric ? ' class="n"' : ''}>${v === undefined ? '' : escapeXml(String(v))}</td>`;
  const eventRows = lane.events.map((e) => {
    const time = e.kind === 'window' ? `[${scale.format(e.time)}, ${scale.format(e.end)})` : scale.format(e.time);
    const key = e.kind === 'record' ? e.key : e.kind === 'watermark-record' ? `from ${e.producer}` : e.kind === 'window' ? `${e.key === undefined ? '' : `${e.key} `}by ${e.operator}` : undefined;
    const where = e.kind === 'record' || e.kind === 'watermark-record' ? positionText(e).trim().replace(/^\((.*)\)$/, '$1') : '';
    const late = e.kind === 'record' && e.late === true;
    return `<tr${late ? ' class="late"' : ''}>${cell(e.seq, true)}${cell(e.kind)}${cell(time, true)}${cell(key)}${cell(late ? 'late' : '')}${cell(where)}</tr>`;
  }).join('\n');
  return `<section>
<h3>${escapeXml(lane.node)}</h3>
<table class="node-summary">
${summary}
</table>
<details><summary>${plural(lane.events.length, 'event')}</summary>
<table class="events">
<tr><th>seq</th><th>kind</th><th>time</th><th>key / producer</th><th>late</th><th>stream/partition@offset</th></tr>
${eventRows}
</table>
</details>
</section>`;
}

/**
 * Renders a trace as a self-contained HTML page: the lanes and axes of
 * {@link renderTimelineSvg} inline (the page's heading and legend take the
 * place of the SVG's own title and legend), a legend that says how to read it, and a
 * small table per node (counts, last clock values, and its events). No
 * script, no external stylesheet or font. Same events, same bytes.
 *
 * @param events the trace, in any order
 * @param options the title
 * @returns the HTML document
 */
export function renderTimelineHtml(events: readonly TraceEvent[], options: TimelineOptions = {}): string {
  const title = options.title ?? 'tidemark timeline';
  const lanes = lanesOf(events);
  const scale = timeScale(events);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>
${CSS}
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p class="summary">${escapeXml(describeSummary(summarizeTrace(events)))}</p>
<ul class="legend">
${HTML_LEGEND.map(([mark, text]) => `<li>${mark}${text}</li>`).join('\n')}
</ul>
<p class="summary">One lane per node, sorted by name. Down a lane is the node's own order (seq), top to bottom: records arrive, and the clock lines move right. Events of different lanes are not ordered against each other; x, event time, is shared.</p>
<div class="picture">
${svgElement(events, title, false)}
</div>
<h2>Nodes</h2>
${lanes.map((lane) => nodeSection(lane, scale)).join('\n')}
</body>
</html>
`;
}