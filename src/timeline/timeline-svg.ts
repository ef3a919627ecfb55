/**
 * The timeline as a picture: the `<svg>` of a trace.
 *
 * The layout, and why. Event time is the x axis, shared by every lane, as in
 * the watermark diagrams of Flink's docs and of "Streaming Systems". Each node
 * has a lane (sorted by name), and inside a lane y is the node's own order,
 * `seq`, top to bottom: one row per `seq`. Events of different nodes are not
 * ordered against each other, so a y axis shared by all lanes ("processing
 * time") would claim an order the trace does not have; within one node, the
 * order is exact. So a lane reads like a log: records arrive top to bottom at
 * x = their event time, and the node's stream time and watermark are step
 * lines that move right as they go down. A record left of the watermark line
 * at its row arrived behind the clock: that is what a late record looks like.
 *
 * @module
 */
import { MAX_WATERMARK as END, NO_WATERMARK as NONE } from '../time/watermark.ts';
import type { TraceEvent } from './timeline-data.ts';
import { lanesOf, plural, summarizeTrace, describeSummary, type Lane } from './timeline-lanes.ts';
import { COLOR, escapeXml, FONT, num, positionText, tag } from './timeline-markup.ts';
import { timeScale, WIDTH, type TimeScale } from './timeline-scale.ts';

/** Options of the renderers. */
export interface TimelineOptions {
  /** The picture's title (default "tidemark timeline"). */
  readonly title?: string;
}

/** A white outline under a mark's label, so that it stays readable where it crosses a clock line. */
const HALO = { stroke: '#ffffff', 'stroke-width': 3, 'stroke-linejoin': 'round', 'paint-order': 'stroke' } as const;

const TOP = 116; // title, summary, legend and the top axis are above
const LANE_PAD = 14;
const LANE_MIN_HEIGHT = 50; // room for the node's name and counts

/** What a mark's tooltip says about its event. */
function describeEvent(e: TraceEvent, scale: TimeScale): string {
  const at = e.time === END || e.time === NONE ? scale.format(e.time) : String(e.time);
  const where = e.kind === 'record' || e.kind === 'watermark-record' ? positionText(e) : '';
  switch (e.kind) {
    case 'record':
      return `${e.node} #${e.seq}: record${e.key === undefined ? '' : ` ${e.key}`} at ${at}${e.late === true ? ', late' : ''}${where}`;
    case 'watermark-record':
      return `${e.node} #${e.seq}: watermark record W(${at}) from ${e.producer}${where}`;
    case 'stream-time':
      return `${e.node} #${e.seq}: stream time ${at}`;
    case 'watermark':
      return `${e.node} #${e.seq}: watermark ${at}`;
  }
}

/** The geometry of rows: one height for the whole picture, so lanes compare at a glance. */
interface Rows {
  readonly height: number;
  /** Whether rows are tall enough for text; a long trace is drawn as marks only. */
  readonly labelled: boolean;
  /** The scale of marks (1 at full row height). */
  readonly mark: number;
}

function rowGeometry(lanes: readonly Lane[]): Rows {
  let most = 1;
  for (const l of lanes) most = Math.max(most, l.rows.length);
  // Up to 60 rows a lane at full height; beyond, the longest lane keeps to about 1,100 px.
  const height = most <= 60 ? 18 : Math.max(2, 1080 / most);
  return { height, labelled: height >= 12, mark: Math.min(1, height / 18) };
}

function laneHeight(lane: Lane, rows: Rows): number {
  return Math.max(LANE_MIN_HEIGHT, 2 * LANE_PAD + lane.rows.length * rows.height);
}

/** The step line of one clock kind in a lane: down the rows, right when the clock moves; "none yet" values are skipped. */
function clockPath(lane: Lane, kind: 'stream-time' | 'watermark', top: number, bottom: number, rows: Rows, scale: TimeScale): string {
  let d = '';
  lane.rows.forEach((row, i) => {
    const y = top + LANE_PAD + (i + 0.5) * rows.height;
    for (const e of row.events) {
      if (e.kind !== kind || e.time === NONE) continue;
      d += d === '' ? `M${num(scale.x(e.time))},${num(y)}` : `V${num(y)}H${num(scale.x(e.time))}`;
    }
  });
  if (d === '') return '';
  const dash = kind === 'watermark' ? '5 3' : undefined;
  return tag('path', {
    class: kind,
    d: `${d}V${num(bottom - LANE_PAD / 2)}`,
    fill: 'none',
    stroke: kind === 'watermark' ? COLOR.watermark : COLOR.streamTime,
    'stroke-width': kind === 'watermark' ? 2 : 2.5,
    'stroke-dasharray': dash,
    'stroke-linejoin': 'round',
  });
}

function recordMark(e: Extract<TraceEvent, { kind: 'record' }>, y: number, rows: Rows, scale: TimeScale): string {
  const late = e.late === true;
  const x = scale.x(e.time);
  const r = 5 * rows.mark;
  const circle = tag('circle', {
    class: late ? 'record late' : 'record',
    cx: x,
    cy: y,
    r,
    fill: late ? COLOR.late : COLOR.record,
    stroke: '#ffffff',
    'stroke-width': 1,
    'data-seq': e.seq,
    'data-time': e.time,
  });
  const c = r * 0.55;
  const cross = late ? tag('path', { d: `M${num(x - c)},${num(y - c)}L${num(x + c)},${num(y + c)}M${num(x - c)},${num(y + c)}L${num(x + c)},${num(y - c)}`, stroke: '#ffffff', 'stroke-width': 1.5 }) : '';
  // The key, then the seq small and grey, then "late" in bold: readable at a glance, details in the tooltip.
  const label = rows.labelled
    ? tag('text', { x: x + r + 3, y: y + 3.5, fill: late ? COLOR.late : COLOR.text, ...HALO },
      (e.key === undefined ? '' : escapeXml(e.key)) +
      tag('tspan', { dx: e.key === undefined ? 0 : 2, 'font-size': 8, fill: COLOR.muted }, `#${e.seq}`) +
      (late ? tag('tspan', { dx: 4, 'font-weight': 'bold' }, 'late') : ''))
    : '';
  return tag('g', { class: 'mark' }, tag('title', {}, escapeXml(describeEvent(e, scale))) + circle + cross + label);
}

function watermarkRecordMark(e: Extract<TraceEvent, { kind: 'watermark-record' }>, y: number, rows: Rows, scale: TimeScale): string {
  const x = scale.x(e.time);
  const h = 6 * rows.mark;
  const pole = tag('line', { x1: x, y1: y - h, x2: x, y2: y + h, stroke: COLOR.watermark, 'stroke-width': 1.2 });
  const pennant = tag('path', { class: 'watermark-record', d: `M${num(x)},${num(y - h)}L${num(x + 8 * rows.mark)},${num(y - h / 2)}L${num(x)},${num(y)}Z`, fill: COLOR.flag, stroke: COLOR.watermark, 'stroke-width': 1, 'data-seq': e.seq, 'data-time': e.time });
  // A producer's own watermark records name itself; a receiver's say whose watermark they carry.
  const from = e.producer === e.node ? '' : tag('tspan', { dx: 3, 'font-size': 8, fill: COLOR.muted }, escapeXml(e.producer));
  const label = rows.labelled ? tag('text', { x: x + 10, y: y + 3.5, fill: COLOR.watermark, 'font-size': 10, ...HALO }, `W(${escapeXml(scale.format(e.time))})${from}`) : '';
  return tag('g', { class: 'mark' }, tag('title', {}, escapeXml(describeEvent(e, scale))) + pole + pennant + label);
}

function laneMarkup(lane: Lane, top: number, rows: Rows, scale: TimeScale): string {
  const height = laneHeight(lane, rows);
  const bottom = top + height;
  const s = summarizeTrace(lane.events);
  const name = lane.node.length > 20 ? `${lane.node.slice(0, 19)}…` : lane.node;
  const counts = `${plural(s.records, 'record')}${s.late > 0 ? `, ${s.late} late` : ''}`;
  const parts = [
    tag('text', { x: 12, y: top + 20, 'font-weight': 'bold', 'font-size': 12, fill: COLOR.text }, tag('title', {}, escapeXml(lane.node)) + escapeXml(name)),
    tag('text', { x: 12, y: top + 34, 'font-size': 10, fill: COLOR.muted }, escapeXml(counts)),
  ];
  if (s.watermarkRecords > 0) parts.push(tag('text', { x: 12, y: top + 46, 'font-size': 10, fill: COLOR.muted }, plural(s.watermarkRecords, 'watermark record')));
  // Clock lines under the marks, so that a record on the line stays visible.
  parts.push(clockPath(lane, 'stream-time', top, bottom, rows, scale), clockPath(lane, 'watermark', top, bottom, rows, scale));
  lane.rows.forEach((row, i) => {
    const y = top + LANE_PAD + (i + 0.5) * rows.height;
    for (const e of row.events) {
      if (e.kind === 'record') parts.push(recordMark(e, y, rows, scale));
      else if (e.kind === 'watermark-record' && e.time !== NONE) parts.push(watermarkRecordMark(e, y, rows, scale));
    }
  });
  return tag('g', { class: 'lane', 'data-node': lane.node }, parts.filter((p) => p !== '').join(''));
}

/** Tick marks and labels of the x axis at `y`, labels above (`up`) or below it. */
function axisMarkup(scale: TimeScale, y: number, up: boolean): string {
  const parts = [tag('line', { x1: scale.left, y1: y, x2: scale.right, y2: y, stroke: COLOR.muted, 'stroke-width': 1 })];
  for (const t of scale.ticks) {
    const x = scale.x(t);
    parts.push(tag('line', { x1: x, y1: y, x2: x, y2: up ? y - 5 : y + 5, stroke: COLOR.muted, 'stroke-width': 1 }));
    parts.push(tag('text', { x, y: up ? y - 8 : y + 16, 'text-anchor': 'middle', 'font-size': 10, fill: COLOR.muted }, escapeXml(scale.format(t))));
  }
  if (scale.hasEnd) parts.push(tag('text', { class: 'end', x: scale.xEnd, y: up ? y - 7 : y + 17, 'text-anchor': 'middle', 'font-size': 14, fill: COLOR.text }, '∞'));
  return tag('g', { class: 'axis' }, parts.join(''));
}

/** The legend: one row of marks and what they mean, and a line on how to read the lanes. */
function legendMarkup(y: number): string {
  const items: { swatch: (x: number) => string; label: string }[] = [
    { swatch: (x) => tag('circle', { cx: x + 5, cy: y - 4, r: 5, fill: COLOR.record }), label: 'record, at its event time (key, #seq)' },
    {
      swatch: (x) => tag('circle', { cx: x + 5, cy: y - 4, r: 5, fill: COLOR.late }) + tag('path', { d: `M${x + 2.2},${y - 6.8}L${x + 7.8},${y - 1.2}M${x + 2.2},${y - 1.2}L${x + 7.8},${y - 6.8}`, stroke: '#ffffff', 'stroke-width': 1.5 }),
      label: 'late record',
    },
    {
      swatch: (x) => tag('line', { x1: x + 2, y1: y - 10, x2: x + 2, y2: y + 2, stroke: COLOR.watermark, 'stroke-width': 1.2 }) + tag('path', { d: `M${x + 2},${y - 10}L${x + 10},${y - 7}L${x + 2},${y - 4}Z`, fill: COLOR.flag, stroke: COLOR.watermark }),
      label: 'watermark record W(t) received (producer: written)',
    },
    { swatch: (x) => tag('line', { x1: x, y1: y - 4, x2: x + 22, y2: y - 4, stroke: COLOR.streamTime, 'stroke-width': 2.5 }), label: 'stream time' },
    { swatch: (x) => tag('line', { x1: x, y1: y - 4, x2: x + 22, y2: y - 4, stroke: COLOR.watermark, 'stroke-width': 2, 'stroke-dasharray': '5 3' }), label: 'watermark' },
  ];
  const parts: string[] = [];
  let x = 12;
  for (const item of items) {
    parts.push(item.swatch(x), tag('text', { x: x + 28, y, 'font-size': 11, fill: COLOR.text }, escapeXml(item.label)));
    x += 28 + item.label.length * 6 + 24; // an estimate of the text's width: no font metrics without a browser
  }
  parts.push(tag('text', { x: 12, y: y + 18, 'font-size': 10, fill: COLOR.muted },
    escapeXml("One lane per node. Down a lane: the node's own order (seq), top to bottom. Lanes are not ordered against each other; x is event time, shared.")));
  return tag('g', { class: 'legend' }, parts.join(''));
}

/** The `<svg>` element itself, for the standalone file and the HTML page alike. */
export function svgElement(events: readonly TraceEvent[], title: string): string {
  const lanes = lanesOf(events);
  const scale = timeScale(events);
  const rows = rowGeometry(lanes);
  const body: string[] = [];
  let y = TOP;
  const tops: number[] = [];
  for (const lane of lanes) {
    tops.push(y);
    y += laneHeight(lane, rows);
  }
  const bottom = lanes.length === 0 ? TOP + 40 : y;
  const height = bottom + 52;

  // Backgrounds first, then the grid over them, then the lanes' contents over the grid.
  body.push(tag('rect', { x: 0, y: 0, width: WIDTH, height, fill: '#ffffff' }));
  lanes.forEach((lane, i) => {
    body.push(tag('rect', { class: 'lane-background', x: 0, y: tops[i]!, width: WIDTH, height: laneHeight(lane, rows), fill: i % 2 === 0 ? COLOR.laneEven : COLOR.laneOdd }));
    body.push(tag('line', { x1: 0, y1: tops[i]!, x2: WIDTH, y2: tops[i]!, stroke: COLOR.grid, 'stroke-width': 1 }));
  });
  const grid = scale.ticks.map((t) => tag('line', { x1: scale.x(t), y1: TOP, x2: scale.x(t), y2: bottom, stroke: COLOR.grid, 'stroke-width': 1 }));
  if (scale.hasEnd) {
    const x = scale.right + 12;
    grid.push(tag('line', { x1: x, y1: TOP - 4, x2: x, y2: bottom + 4, stroke: COLOR.muted, 'stroke-width': 1, 'stroke-dasharray': '2 3' }));
  }
  body.push(tag('g', { class: 'grid' }, grid.join('')));

  const s = summarizeTrace(events);
  body.push(tag('text', { x: 12, y: 24, 'font-size': 16, 'font-weight': 'bold', fill: COLOR.text }, escapeXml(title)));
  body.push(tag('text', { x: 12, y: 42, 'font-size': 11, fill: COLOR.muted }, escapeXml(describeSummary(s))));
  body.push(legendMarkup(66));
  body.push(axisMarkup(scale, TOP, true));
  lanes.forEach((lane, i) => body.push(laneMarkup(lane, tops[i]!, rows, scale)));
  if (lanes.length === 0) body.push(tag('text', { x: WIDTH / 2, y: TOP + 24, 'text-anchor': 'middle', fill: COLOR.muted }, 'no events'));
  body.push(axisMarkup(scale, bottom, false));
  body.push(tag('text', { class: 'caption', x: (scale.left + scale.right) / 2, y: bottom + 42, 'text-anchor': 'middle', 'font-size': 11, fill: COLOR.muted }, escapeXml(`${scale.caption} →`)));

  return tag('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    width: WIDTH,
    height,
    viewBox: `0 0 ${WIDTH} ${num(height)}`,
    'font-family': FONT,
    'font-size': 11,
    role: 'img',
  }, `\n${tag('title', {}, escapeXml(title))}\n${body.join('\n')}\n`);
}

/**
 * Renders a trace as a standalone SVG document: one lane per node, x = event
 * time; records as circles (late ones red, crossed, labelled "late"),
 * watermark records as flags, the node's stream time and watermark as step
 * lines down the lane (see the module comment for the layout). A clock at
 * MIN_SAFE_INTEGER ("none yet") is not drawn; one at MAX_SAFE_INTEGER is
 * drawn at the right edge under "∞". Same events, same bytes.
 *
 * @param events the trace, in any order (lanes sort by node, rows by seq)
 * @param options the title
 * @returns the SVG document, XML declaration included
 */
export function renderTimelineSvg(events: readonly TraceEvent[], options: TimelineOptions = {}): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svgElement(events, options.title ?? 'tidemark timeline')}\n`;
}
