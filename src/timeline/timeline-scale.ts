/**
 * The x axis of the timeline: event time to pixels, shared by all lanes, with
 * its ticks and their labels.
 *
 * @module
 */
import type { TraceEvent } from './timeline-data.ts';
import { MAX_WATERMARK as END, NO_WATERMARK as NONE } from '../time/watermark.ts';

/** The x axis: event time to pixels, shared by all lanes. */
export interface TimeScale {
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

/** The picture's width in pixels. */
export const WIDTH = 1000;
const PLOT_LEFT = 160;
const RIGHT_MARGIN = 20;
/** Room at the right for the ∞ column, when a clock reached the end of stream. */
const END_COLUMN = 84;
/** Above this magnitude (epoch milliseconds, say) tick labels are offsets from a base: 1717236000500 is unreadable, +500 is not. */
const RELATIVE_LABELS_FROM = 10_000_000;

/** The scale over the events' finite times, padded, with round ticks; the ∞ column only when a clock reached the end of stream. */
export function timeScale(events: readonly TraceEvent[]): TimeScale {
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
