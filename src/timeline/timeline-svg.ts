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
import { CLOCK_STYLE, COLOR, escapeXml, FONT, num, positionText, tag } from './timeline-markup.ts';
import { timeScale, WIDTH, type TimeScale } from './timeline-scale.ts';
import { axisMarkup, gridMarkup, legendMarkup } from './timeline-axis.ts';

/** Options of the renderers. */
export interface TimelineOptions {
  /** The picture's title (default "tidemark timeline"). */
  readonly title?: string;
}

/** A white outline under a mark's label, so that it stays readable where it crosses a clock line. */
const HALO = { stroke: '#ffffff', 'stroke-width': 3, 'stroke-linejoin': 'round', 'paint-order': 'stroke' } as const;

/** Where the lanes start: below the title, summary, legend and top axis (framed), or the top axis alone. */
const TOP_FRAMED = 128;
const TOP_BARE = 40;
const LANE_PAD = 14;
const LANE_MIN_HEIGHT = 50; // room for the node's name and counts

/** What a mark's tooltip says about its event. */
function describeEvent(e: TraceEvent, scale: TimeScale): string {
  const at = scale.describe(e.time);
  switch (e.kind) {
    case 'record':
      return `${e.node} #${e.seq}: record${e.key === undefined ? '' : ` ${e.key}`} at ${at}${e.late === true ? ', late' : ''}${positionText(e)}`;
    case 'watermark-record':
      return `${e.node} #${e.seq}: watermark record W(${at}) from ${e.producer}${positionText(e)}`;
    case 'stream-time':
      return `${e.node} #${e.seq}: stream time ${at}`;
    case 'watermark':
      return `${e.node} #${e.seq}: watermark ${at}`;
    case 'window':
      return `${e.node} #${e.seq}: ${e.operator} emitted window [${scale.describe(e.time)}, ${scale.describe(e.end)})${e.key === undefined ? '' : ` for ${e.key}`}`;
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
  return tag('path', { class: kind, d: `${d}V${num(bottom - LANE_PAD / 2)}`, fill: 'none', ...CLOCK_STYLE[kind], 'stroke-linejoin': 'round' });
}

/** A time for a data attribute: the number, or `end` and `none` for the clocks' sentinels. */
function timeAttribute(t: number): string | number {
  return t === END ? 'end' : t === NONE ? 'none' : t;
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
    'data-time': timeAttribute(e.time),
  });
  const c = r * 0.55;
  const cross = late ? tag('path', { d: `M${num(x - c)},${num(y - c)}L${num(x + c)},${num(y + c)}M${num(x - c)},${num(y + c)}L${num(x + c)},${num(y - c)}`, stroke: '#ffffff', 'stroke-width': 1.5 }) : '';
  // The key, then the seq small and grey, then "late" in bold: readable at a glance, details in the tooltip.
  // Near the right edge (an outlier's part of a broken axis), the label goes left of the mark.
  const chars = (e.key?.length ?? 0) + String(e.seq).length + 2 + (late ? 5 : 0);
  const leftward = x + r + 3 + chars * 6 > WIDTH;
  const label = rows.labelled
    ? tag('text', { x: leftward ? x - r - 3 : x + r + 3, y: y + 3.5, 'text-anchor': leftward ? 'end' : undefined, fill: late ? COLOR.late : COLOR.text, ...HALO },
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
  const pennant = tag('path', { class: 'watermark-record', d: `M${num(x)},${num(y - h)}L${num(x + 8 * rows.mark)},${num(y - h / 2)}L${num(x)},${num(y)}Z`, fill: COLOR.flag, stroke: COLOR.watermark, 'stroke-width': 1, 'data-seq': e.seq, 'data-time': timeAttribute(e.time) });
  // A producer's own watermark records name itself; a receiver's say whose watermark they carry.
  const from = e.producer === e.node ? '' : tag('tspan', { dx: 3, 'font-size': 8, fill: COLOR.muted }, escapeXml(e.producer));
  const label = rows.labelled ? tag('text', { x: x + 10, y: y + 3.5, fill: COLOR.watermark, 'font-size': 10, ...HALO }, `W(${escapeXml(scale.format(e.time))})${from}`) : '';
  return tag('g', { class: 'mark' }, tag('title', {}, escapeXml(describeEvent(e, scale))) + pole + pennant + label);
}

type WindowEvent = Extract<TraceEvent, { kind: 'window' }>;

/**
 * The windows a row emitted, one bracket per operator and window (its keys
 * in the tooltip), under the row from the window's start to its end; brackets
 * that overlap (hopping windows) are stacked.
 */
function windowMarks(windows: readonly WindowEvent[], y: number, rows: Rows, scale: TimeScale): string[] {
  const byWindow = new Map<string, { e: WindowEvent; keys: string[] }>();
  for (const e of windows) {
    const id = `${e.operator}\u0000${e.time}\u0000${e.end}`;
    const w = byWindow.get(id);
    if (w === undefined) byWindow.set(id, { e, keys: e.key === undefined ? [] : [e.key] });
    else if (e.key !== undefined) w.keys.push(e.key);
  }
  const drawn: [number, number][] = [];
  const marks: string[] = [];
  for (const { e, keys } of byWindow.values()) {
    const x0 = scale.x(e.time);
    const x1 = scale.x(e.end);
    const level = drawn.filter(([a, b]) => a < x1 && x0 < b).length;
    drawn.push([x0, x1]);
    const lift = rows.height * 0.2;
    const under = y + rows.height * 0.35 + Math.min(level, 3) * 2.5 * rows.mark;
    const shown = keys.length <= 5 ? keys.join(', ') : `${keys.slice(0, 5).join(', ')} and ${keys.length - 5} more`;
    const tip = `${describeEvent({ ...e, key: undefined }, scale)}${keys.length === 0 ? '' : `: ${plural(keys.length, 'result')} (${shown})`}`;
    marks.push(tag('g', { class: 'mark' }, tag('title', {}, escapeXml(tip)) + tag('path', {
      class: 'window', d: `M${num(x0)},${num(under - lift)}V${num(under)}H${num(x1)}V${num(under - lift)}`, fill: 'none', stroke: COLOR.window, 'stroke-width': 1.5 * rows.mark,
      'data-seq': e.seq, 'data-start': e.time, 'data-end': e.end,
    })));
  }
  return marks;
}

/** A dotted line down the lane at each bound of a window its operators emitted: the window grid the records fall into. */
function windowBounds(windows: readonly WindowEvent[], top: number, bottom: number, scale: TimeScale): string {
  const times = [...new Set(windows.flatMap((e) => [e.time, e.end]))].sort((a, b) => a - b);
  return times.map((t) => tag('line', { class: 'window-bound', x1: scale.x(t), y1: top, x2: scale.x(t), y2: bottom, stroke: COLOR.window, 'stroke-width': 1, 'stroke-opacity': 0.45, 'stroke-dasharray': '1 3', 'data-time': t })).join('');
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
  const windows = lane.events.filter((e): e is WindowEvent => e.kind === 'window');
  parts.push(windowBounds(windows, top, bottom, scale));
  // Clock lines under the marks, so that a record on the line stays visible.
  parts.push(clockPath(lane, 'stream-time', top, bottom, rows, scale), clockPath(lane, 'watermark', top, bottom, rows, scale));
  lane.rows.forEach((row, i) => {
    const y = top + LANE_PAD + (i + 0.5) * rows.height;
    for (const e of row.events) {
      if (e.kind === 'record') parts.push(recordMark(e, y, rows, scale));
      else if (e.kind === 'watermark-record' && e.time !== NONE) parts.push(watermarkRecordMark(e, y, rows, scale));
    }
    const fired = row.events.filter((e): e is WindowEvent => e.kind === 'window');
    if (fired.length > 0) parts.push(...windowMarks(fired, y, rows, scale));
  });
  return tag('g', { class: 'lane', 'data-node': lane.node }, parts.filter((p) => p !== '').join(''));
}

/**
 * The `<svg>` element itself. `framed`: with its title, summary and legend
 * above the lanes, for a standalone file; the HTML page has its own (and
 * says more), so its picture is the lanes and axes alone.
 */
export function svgElement(events: readonly TraceEvent[], title: string, framed = true): string {
  const lanes = lanesOf(events);
  const scale = timeScale(events);
  const rows = rowGeometry(lanes);
  const top = framed ? TOP_FRAMED : TOP_BARE;
  const body: string[] = [];
  let y = top;
  const tops: number[] = [];
  for (const lane of lanes) {
    tops.push(y);
    y += laneHeight(lane, rows);
  }
  const bottom = lanes.length === 0 ? top + 40 : y;
  const height = bottom + 56;

  // Backgrounds first, then the grid over them, then the lanes' contents over the grid.
  body.push(tag('rect', { x: 0, y: 0, width: WIDTH, height, fill: '#ffffff' }));
  lanes.forEach((lane, i) => {
    body.push(tag('rect', { class: 'lane-background', x: 0, y: tops[i]!, width: WIDTH, height: laneHeight(lane, rows), fill: i % 2 === 0 ? COLOR.laneEven : COLOR.laneOdd }));
    body.push(tag('line', { x1: 0, y1: tops[i]!, x2: WIDTH, y2: tops[i]!, stroke: COLOR.grid, 'stroke-width': 1 }));
  });
  body.push(gridMarkup(scale, top, bottom));

  if (framed) {
    body.push(tag('text', { class: 'title', x: 12, y: 24, 'font-size': 16, 'font-weight': 'bold', fill: COLOR.text }, escapeXml(title)));
    body.push(tag('text', { x: 12, y: 42, 'font-size': 11, fill: COLOR.muted }, escapeXml(describeSummary(summarizeTrace(events)))));
    body.push(legendMarkup(66, events.some((e) => e.kind === 'window')));
  }
  body.push(axisMarkup(scale, top, true));
  lanes.forEach((lane, i) => body.push(laneMarkup(lane, tops[i]!, rows, scale)));
  if (lanes.length === 0) body.push(tag('text', { x: WIDTH / 2, y: top + 24, 'text-anchor': 'middle', fill: COLOR.muted }, 'no events'));
  body.push(axisMarkup(scale, bottom, false));
  body.push(tag('text', { class: 'caption', x: (scale.left + scale.right) / 2, y: bottom + 46, 'text-anchor': 'middle', 'font-size': 11, fill: COLOR.muted }, escapeXml(`${scale.caption} →`)));

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
 * time (UTC dates and times for epoch milliseconds; the axis broken where a
 * few times are far from the rest); records as circles (late ones red,
 * crossed, labelled "late"), watermark records as flags, the node's stream
 * time and watermark as step lines down the lane (see the module comment for
 * the layout), and the windows its operators emitted as brackets over the
 * window grid. A clock at MIN_SAFE_INTEGER ("none yet") is not drawn; one at
 * MAX_SAFE_INTEGER is drawn at the right edge under "∞". Same events, same bytes.
 *
 * @param events the trace, in any order (lanes sort by node, rows by seq)
 * @param options the title
 * @returns the SVG document, XML declaration included
 */
export function renderTimelineSvg(events: readonly TraceEvent[], options: TimelineOptions = {}): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svgElement(events, options.title ?? 'tidemark timeline')}\n`;
}
