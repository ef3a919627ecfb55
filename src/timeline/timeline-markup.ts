/**
 * What the SVG and the HTML page share: the font, the colours, escaping, and
 * how an element and a log position are written.
 *
 * @module
 */
import type { LogPosition } from '../runtime/trace.ts';

export const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';
export const COLOR = {
  text: '#1f2328',
  muted: '#6e7781',
  grid: '#e1e5ea',
  laneEven: '#ffffff',
  laneOdd: '#f4f6f8',
  record: '#37474f',
  late: '#d32f2f',
  watermark: '#1565c0',
  flag: '#64b5f6',
  streamTime: '#f28e2b',
  window: '#7b1fa2',
  break: '#eceff1',
} as const;

/**
 * How the two clock lines are drawn. They often coincide (a watermark that
 * follows stream time, or both at the end of stream), so they differ in more
 * than colour: stream time is a wide, light band, the watermark a thin dashed
 * line that stays visible inside it.
 */
export const CLOCK_STYLE = {
  'stream-time': { stroke: COLOR.streamTime, 'stroke-width': 6, 'stroke-opacity': 0.45 },
  watermark: { stroke: COLOR.watermark, 'stroke-width': 1.6, 'stroke-dasharray': '5 3' },
} as const;

/** The legend's swatch of a clock line from `x` to `x + 22` at height `y`; both clocks for `both`, as where they coincide. */
export function clockSwatch(kind: 'stream-time' | 'watermark' | 'both', x: number, y: number): string {
  const line = (k: 'stream-time' | 'watermark'): string => tag('line', { x1: x, y1: y, x2: x + 22, y2: y, ...CLOCK_STYLE[k] });
  return kind === 'both' ? line('stream-time') + line('watermark') : line(kind);
}

/** The legend's swatch of a window: a bracket under a row, from `x` to `x + 22`, its bounds dotted above it. */
export function windowSwatch(x: number, y: number): string {
  return tag('path', { d: `M${num(x + 1)},${num(y - 6)}V${num(y + 6)}M${num(x + 21)},${num(y - 6)}V${num(y + 6)}`, stroke: COLOR.window, 'stroke-width': 1, 'stroke-dasharray': '1 2' }) +
    tag('path', { d: `M${num(x + 1)},${num(y + 1)}V${num(y + 4)}H${num(x + 21)}V${num(y + 1)}`, fill: 'none', stroke: COLOR.window, 'stroke-width': 1.5 });
}

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
export function num(n: number): string {
  // Integers as they are: rounding would change a large one (MAX_SAFE_INTEGER, an epoch time in a data attribute).
  if (Number.isInteger(n)) return Object.is(n, -0) ? '0' : String(n);
  const r = Math.round(n * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}

type Attrs = Readonly<Record<string, string | number | undefined>>;

/** An element; attribute values are escaped here, `content` is markup (escape text with {@link escapeXml}). */
export function tag(name: string, attrs: Attrs, content?: string): string {
  let a = '';
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a += ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v)}"`;
  return content === undefined ? `<${name}${a}/>` : `<${name}${a}>${content}</${name}>`;
}

/** ` (stream/partition@offset)`, `?` for what is not known; empty when nothing is. */
export function positionText(p: LogPosition): string {
  if (p.stream === undefined && p.partition === undefined && p.offset === undefined) return '';
  return ` (${p.stream ?? '?'}/${p.partition ?? '?'}@${p.offset ?? '?'})`;
}
