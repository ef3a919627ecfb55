/**
 * The event-time timeline of a run (`tidemark timeline`): its trace parsed,
 * and drawn as a standalone SVG or an HTML page around that SVG.
 *
 * A trace is NDJSON written by the runtime, one {@link TraceEvent} per line,
 * possibly in several files (one per OS process of a scenario). Rendering is
 * a pure function of the events — no clock, no randomness, no locale, no
 * external resource — so the same trace always gives the same bytes, and a
 * picture can be diffed or checked in next to the run it shows.
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
import { CliError } from './errors.ts';

import type { LogPosition, TraceEvent } from '../runtime/trace.ts';
import { MAX_WATERMARK as END, NO_WATERMARK as NONE } from '../time/watermark.ts';

export type { TraceEvent };

/** The kinds of trace event. */
export type TraceEventKind = TraceEvent['kind'];

/** Options of the renderers. */
export interface TimelineOptions {
  /** The picture's title (default "tidemark timeline"). */
  readonly title?: string;
}

/** Counts over a trace, for a one-line description. */
export interface TraceSummary {
  readonly nodes: number;
  readonly records: number;
  readonly late: number;
  readonly watermarkRecords: number;
}

// ---------------------------------------------------------------------------
// Parsing

/** In the order a row draws them: the record first, then what it made the clocks do. */
const KIND_ORDER: Readonly<Record<TraceEventKind, number>> = { record: 0, 'watermark-record': 1, 'stream-time': 2, watermark: 3 };
const KINDS: readonly TraceEventKind[] = ['record', 'stream-time', 'watermark', 'watermark-record'];

/**
 * Parses a trace: one JSON object per line; blank lines are skipped and
 * fields the picture does not use are ignored (a newer runtime may add some).
 * A bad line is a {@link CliError} naming `source` and the line number, e.g.
 * `trace.ndjson:3: "time" must be an integer, got "2"`.
 *
 * @param text the NDJSON text
 * @param source the file name, for error messages
 * @returns the events in file order, with their fields in a fixed order
 */
export function parseTrace(text: string, source: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim(); // also drops the \r of CRLF files
    if (line !== '') events.push(parseLine(line, `${source}:${i + 1}`));
  }
  return events;
}

function parseLine(line: string, where: string): TraceEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new CliError(`${where}: not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`${where}: not a JSON object`);
  const o = parsed as Readonly<Record<string, unknown>>;
  const node = requiredString(o, 'node', where);
  const seq = integerField(o, 'seq', where, 0);
  const kind = o.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    throw new CliError(`${where}: "kind" must be one of ${KINDS.join(', ')}${got(kind)}`);
  }
  const time = integerField(o, 'time', where);
  switch (kind as TraceEventKind) {
    case 'record':
      return defined({ node, seq, kind: 'record', time, key: optionalString(o, 'key', where), late: optionalBoolean(o, 'late', where), ...position(o, where) });
    case 'watermark-record':
      return defined({ node, seq, kind: 'watermark-record', time, producer: requiredString(o, 'producer', where), ...position(o, where) });
    case 'stream-time':
      return { node, seq, kind: 'stream-time', time };
    case 'watermark':
      return { node, seq, kind: 'watermark', time };
  }
}

function position(o: Readonly<Record<string, unknown>>, where: string): LogPosition {
  return {
    stream: optionalString(o, 'stream', where),
    partition: optionalInteger(o, 'partition', where),
    offset: optionalInteger(o, 'offset', where),
  };
}

/** Drops the fields left undefined, so that two parses of the same line are the same object, key for key. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** `, got <value>` for an error message, short; or that the field is missing. */
function got(v: unknown): string {
  if (v === undefined) return '; it is missing';
  const json = JSON.stringify(v);
  return `, got ${json.length > 40 ? `${json.slice(0, 39)}…` : json}`;
}

function requiredString(o: Readonly<Record<string, unknown>>, name: string, where: string): string {
  const v = o[name];
  if (typeof v !== 'string' || v === '') throw new CliError(`${where}: "${name}" must be a non-empty string${got(v)}`);
  return v;
}

function integerField(o: Readonly<Record<string, unknown>>, name: string, where: string, min = Number.MIN_SAFE_INTEGER): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new CliError(`${where}: "${name}" must be ${min === 0 ? 'a non-negative integer' : 'an integer'}${got(v)}`);
  }
  return v;
}

// Optional fields: absent or null (how a serializer may write "none") both mean "not given".

function optionalString(o: Readonly<Record<string, unknown>>, name: string, where: string): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new CliError(`${where}: "${name}" must be a string${got(v)}`);
  return v;
}

function optionalInteger(o: Readonly<Record<string, unknown>>, name: string, where: string): number | undefined {
  return o[name] === undefined || o[name] === null ? undefined : integerField(o, name, where, 0);
}

function optionalBoolean(o: Readonly<Record<string, unknown>>, name: string, where: string): boolean | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new CliError(`${where}: "${name}" must be true or false${got(v)}`);
  return v;
}

// ---------------------------------------------------------------------------
// Summary

/** Counts the nodes, records (and late ones) and watermark records of a trace. */
export function summarizeTrace(events: readonly TraceEvent[]): TraceSummary {
  const nodes = new Set<string>();
  let records = 0;
  let late = 0;
  let watermarkRecords = 0;
  for (const e of events) {
    nodes.add(e.node);
    if (e.kind === 'record') {
      records++;
      if (e.late === true) late++;
    } else if (e.kind === 'watermark-record') {
      watermarkRecords++;
    }
  }
  return { nodes: nodes.size, records, late, watermarkRecords };
}

/** `6 nodes, 40 records (3 late), 12 watermark records`. */
export function describeSummary(s: TraceSummary): string {
  return `${plural(s.nodes, 'node')}, ${plural(s.records, 'record')} (${s.late} late), ${plural(s.watermarkRecords, 'watermark record')}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------
// Layout

/** The events of one `seq` of a node: one row of its lane. */
interface Row {
  readonly seq: number;
  readonly events: readonly TraceEvent[];
}

interface Lane {
  readonly node: string;
  readonly rows: readonly Row[];
  readonly events: readonly TraceEvent[];
}

/**
 * Compares node names as people sort them: digit runs by value, so that `C2`
 * comes before `C10`; then by code units, never by locale (the same bytes on
 * every machine).
 */
export function compareNames(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const xs = x.replace(/^0+(?=\d)/, '');
      const ys = y.replace(/^0+(?=\d)/, '');
      if (xs.length !== ys.length) return xs.length - ys.length;
      if (xs !== ys) return xs < ys ? -1 : 1;
      continue;
    }
    return x < y ? -1 : 1;
  }
  return a === b ? 0 : a < b ? -1 : a > b ? 1 : 0;
}

/** One lane per node, sorted by name; in a lane, one row per `seq`, ascending. */
function lanesOf(events: readonly TraceEvent[]): Lane[] {
  const byNode = new Map<string, TraceEvent[]>();
  for (const e of events) {
    const list = byNode.get(e.node);
    if (list === undefined) byNode.set(e.node, [e]);
    else list.push(e);
  }
  return [...byNode.keys()].sort(compareNames).map((node) => {
    // A stable sort: events equal in seq and kind keep the order of the trace.
    const sorted = [...byNode.get(node)!].sort((a, b) => a.seq - b.seq || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
    const rows: { seq: number; events: TraceEvent[] }[] = [];
    for (const e of sorted) {
      const last = rows[rows.length - 1];
      if (last !== undefined && last.seq === e.seq) last.events.push(e);
      else rows.push({ seq: e.seq, events: [e] });
    }
    return { node, rows, events: sorted };
  });
}

/** The x axis: event time to pixels, shared by all lanes. */
interface TimeScale {
  /** x of a time; END goes to the ∞ column, NONE to the left edge (only records are drawn there). */
  x(time: number): number;
  /** A time as the axis labels show it (relative to `base` for large times). */
  format(time: number): string;
  readonly ticks: readonly number[];
  readonly caption: string;
  readonly left: number;
  readonly right: number;
  /** Whether some event is at the end of stream, and the ∞ column is drawn. */
  readonly hasEnd: boolean;
  readonly xEnd: number;
}

const WIDTH = 1000;
const PLOT_LEFT = 160;
const RIGHT_MARGIN = 20;
/** Room at the right for the ∞ column, when a clock reached the end of stream. */
const END_COLUMN = 84;
/** Above this magnitude (epoch milliseconds, say) tick labels are offsets from a base: 1717236000500 is unreadable, +500 is not. */
const RELATIVE_LABELS_FROM = 10_000_000;

function timeScale(events: readonly TraceEvent[]): TimeScale {
  let lo = Infinity;
  let hi = -Infinity;
  let hasEnd = false;
  for (const e of events) {
    if (e.time === END) hasEnd = true;
    else if (e.time !== NONE) {
      lo = Math.min(lo, e.time);
      hi = Math.max(hi, e.time);
    }
  }
  if (lo > hi) [lo, hi] = [0, 1]; // no finite time at all: any domain will do
  // Padding, so that the first and last records are not drawn on the frame.
  const pad = Math.max(1, Math.ceil((hi - lo) * 0.04));
  lo -= pad;
  hi += pad;
  const left = PLOT_LEFT;
  const right = WIDTH - RIGHT_MARGIN - (hasEnd ? END_COLUMN : 0);
  const xEnd = right + 26; // the rest of the column is room for the labels of marks at ∞
  const step = niceStep((hi - lo) / 8);
  const ticks: number[] = [];
  const first = Math.ceil(lo / step) * step;
  for (let k = 0; first + k * step <= hi; k++) ticks.push(first + k * step);
  const relative = Math.max(Math.abs(lo), Math.abs(hi)) >= RELATIVE_LABELS_FROM;
  const base = ticks[0] ?? lo;
  const finite = (t: number): string => (!relative ? String(t) : t >= base ? `+${t - base}` : String(t - base));
  return {
    x: (t) => (t === END ? xEnd : t === NONE ? left : left + ((t - lo) / (hi - lo)) * (right - left)),
    format: (t) => (t === END ? '∞' : t === NONE ? 'none' : finite(t)),
    ticks,
    caption: relative ? `event time − ${base}${epochNote(base)}` : 'event time',
    left,
    right,
    hasEnd,
    xEnd,
  };
}

/** 1, 2 or 5 times a power of ten, at least `rough` and at least 1 (times are integers). */
function niceStep(rough: number): number {
  if (!(rough > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const m = rough / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/** A large base that looks like epoch milliseconds (1973 to 5138) is also shown as a UTC date. */
function epochNote(base: number): string {
  return base >= 1e11 && base < 1e14 ? ` (${new Date(base).toISOString()})` : '';
}

// ---------------------------------------------------------------------------
// SVG

const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';
const COLOR = {
  text: '#1f2328',
  muted: '#6e7781',
  grid: '#e1e5ea',
  laneEven: '#ffffff',
  laneOdd: '#f4f6f8',
  record: '#37474f',
  late: '#d32f2f',
  watermark: '#1565c0',
  flag: '#64b5f6',
  streamTime: '#ef6c00',
} as const;

/** A white outline under a mark's label, so that it stays readable where it crosses a clock line. */
const HALO = { stroke: '#ffffff', 'stroke-width': 3, 'stroke-linejoin': 'round', 'paint-order': 'stroke' } as const;

const TOP = 116; // title, summary, legend and the top axis are above
const LANE_PAD = 14;
const LANE_MIN_HEIGHT = 50; // room for the node's name and counts

/**
 * Characters shown as a `\\uXXXX` escape: XML 1.0 forbids most C0 controls, lone
 * surrogates, U+FFFE and U+FFFF even as character references, and the others
 * (tab, newline, DEL, C1) would be folded or invisible — a key may hold any bytes.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for XML (and HTML) content and attribute values; control characters become visible `\\u0001` escapes. */
export function escapeXml(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
    .replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A coordinate with at most one decimal, never `-0`: short, and the same string for the same number. */
function num(n: number): string {
  const r = Math.round(n * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}

type Attrs = Readonly<Record<string, string | number | undefined>>;

/** An element; attribute values are escaped here, `content` is markup (escape text with {@link escapeXml}). */
function tag(name: string, attrs: Attrs, content?: string): string {
  let a = '';
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a += ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v)}"`;
  return content === undefined ? `<${name}${a}/>` : `<${name}${a}>${content}</${name}>`;
}

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

function positionText(p: LogPosition): string {
  if (p.stream === undefined && p.partition === undefined && p.offset === undefined) return '';
  return ` (${p.stream ?? '?'}/${p.partition ?? '?'}@${p.offset ?? '?'})`;
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
function svgElement(events: readonly TraceEvent[], title: string): string {
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

// ---------------------------------------------------------------------------
// HTML

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
  [swatch(tag('line', { x1: 1, y1: 7, x2: 25, y2: 7, stroke: COLOR.streamTime, 'stroke-width': 2.5 })), '<b>stream time</b>: the largest timestamp the node has processed; a step right when it grows'],
  [swatch(tag('line', { x1: 1, y1: 7, x2: 25, y2: 7, stroke: COLOR.watermark, 'stroke-width': 2, 'stroke-dasharray': '5 3' })), '<b>watermark</b>: the node\'s watermark (its event clock in watermark mode); ∞ at the right edge is the end of stream'],
];

/** Final value of a clock kind in a lane, as shown in its table. */
function lastClock(lane: Lane, kind: 'stream-time' | 'watermark'): string {
  let last: number | undefined;
  for (const e of lane.events) if (e.kind === kind) last = e.time;
  return last === undefined ? '—' : last === NONE ? 'none yet' : last === END ? '∞ (end of stream)' : String(last);
}

function nodeSection(lane: Lane): string {
  const s = summarizeTrace(lane.events);
  const records = lane.events.filter((e) => e.kind === 'record');
  const lateSeqs = records.filter((e) => e.late === true).map((e) => `#${e.seq}`);
  const producers = [...new Set(lane.events.flatMap((e) => (e.kind === 'watermark-record' ? [e.producer] : [])))].sort(compareNames);
  const times = records.map((e) => e.time).filter((t) => t !== NONE && t !== END);
  const row = (name: string, value: string): string => `<tr><th>${escapeXml(name)}</th><td>${escapeXml(value)}</td></tr>`;
  const summary = [
    row('records', `${s.records}${s.late > 0 ? ` (${s.late} late: ${lateSeqs.join(', ')})` : ''}`),
    row('event times of records', times.length === 0 ? '—' : `${times.reduce((a, b) => Math.min(a, b))} … ${times.reduce((a, b) => Math.max(a, b))}`),
    row('watermark records', `${s.watermarkRecords}${producers.length > 0 ? ` (from ${producers.join(', ')})` : ''}`),
    row('last stream time', lastClock(lane, 'stream-time')),
    row('last watermark', lastClock(lane, 'watermark')),
  ].join('\n');
  const cell = (v: string | number | undefined, numeric = false): string => `<td${numeric ? ' class="n"' : ''}>${v === undefined ? '' : escapeXml(String(v))}</td>`;
  const eventRows = lane.events.map((e) => {
    const time = e.time === END ? '∞' : e.time === NONE ? 'none' : e.time;
    const key = e.kind === 'record' ? e.key : e.kind === 'watermark-record' ? `from ${e.producer}` : undefined;
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
 * Renders a trace as a self-contained HTML page: the SVG of
 * {@link renderTimelineSvg} inline, a legend that says how to read it, and a
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
${svgElement(events, title)}
</div>
<h2>Nodes</h2>
${lanes.map(nodeSection).join('\n')}
</body>
</html>
`;
}
