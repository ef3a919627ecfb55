/**
 * The x axis of the timeline: event time to pixels, shared by all lanes, with
 * its ticks and their labels.
 *
 * Two things keep the axis readable on real traces. Epoch milliseconds are
 * labelled as UTC dates and times, not as thirteen-digit numbers. And a few
 * times far from the rest — a record stamped "now" because it had no event
 * time, a timestamp of 0 — do not squeeze everything else into a sliver: where
 * a gap between consecutive times is much wider than all the rest of the
 * trace's span together, the axis is broken there. Each part of a broken axis
 * is linear, with its own ticks; the gap itself is drawn as a narrow band that
 * says how much time it leaves out.
 *
 * @module
 */
import type { TraceEvent } from './timeline-data.ts';
import { MAX_WATERMARK as END, NO_WATERMARK as NONE } from '../time/watermark.ts';
import { dateOf, dateTickLabel, dateTime, isEpochLike, niceDateStep, niceStep, spanText, timeOfDay } from './timeline-dates.ts';

/** A tick of the axis: its time, its label, and the date above (or below) the label where the date changes. */
export interface Tick {
  readonly time: number;
  readonly label: string;
  readonly date?: string;
}

/** A break of the axis: the pixels between two of its parts, and how much event time they leave out. */
export interface AxisBreak {
  readonly x0: number;
  readonly x1: number;
  /** The time left out, from the last time before the break to the first after it. */
  readonly gap: number;
  /** The gap in words: `4 days`, `12 min`, `9900`. */
  readonly label: string;
}

/** The x axis: event time to pixels, shared by all lanes. */
export interface TimeScale {
  /** x of a time; END goes to the ∞ column, NONE to the left edge (only records are drawn there). */
  x(time: number): number;
  /** A time as labels on marks show it: short (`12:00:30`, `W(22)`). */
  format(time: number): string;
  /** A time in full, for tooltips and tables: `2025-06-01 12:00:30 (1748779230000)`. */
  describe(time: number): string;
  readonly ticks: readonly Tick[];
  readonly breaks: readonly AxisBreak[];
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
/** Above this magnitude, numbers that are not dates are labelled as offsets from a base: 12345678500 is unreadable, +500 is not. */
const RELATIVE_LABELS_FROM = 10_000_000;
/** The axis breaks at a gap wider than this many times the span of all the rest. */
export const BREAK_RATIO = 10;
/** At most this many breaks: a few outliers, not a histogram. */
const MAX_BREAKS = 3;
/** The width of a break's band, in pixels. */
const BREAK_WIDTH = 26;
/** The least width of a part of a broken axis, in pixels: room for a mark and its label. */
const MIN_PART = 90;
/** About this many pixels between ticks. */
const TICK_SPACING = 100;

/**
 * Where the axis breaks: the gaps between consecutive times (sorted) wider
 * than {@link BREAK_RATIO} (10) times the span of everything else, widest first,
 * at most three. Returns the indices `i` of the gaps `sorted[i]..sorted[i+1]`, ascending.
 *
 * @example
 * axisBreaks([0, 10, 20, 100_000]) // [2]: the gap 20..100000 is far wider than the rest (20)
 * axisBreaks([0, 10, 20, 200])     // []: 20..200 is not ten times wider than the rest
 */
export function axisBreaks(sorted: ArrayLike<number>): number[] {
  const n = sorted.length;
  if (n < 2) return [];
  // The widest gaps, found in one pass: traces may hold hundreds of thousands of times.
  const widest: number[] = [];
  const gap = (i: number): number => sorted[i + 1]! - sorted[i]!;
  for (let i = 0; i < n - 1; i++) {
    if (gap(i) <= 0) continue;
    widest.push(i);
    widest.sort((a, b) => gap(b) - gap(a) || a - b);
    if (widest.length > MAX_BREAKS) widest.pop();
  }
  const span = sorted[n - 1]! - sorted[0]!;
  const chosen: number[] = [];
  let left = span;
  for (const i of widest) {
    const rest = left - gap(i);
    // Two clusters of one time each are not a bulk and an outlier: nothing to squeeze.
    if (rest <= 0 || gap(i) <= BREAK_RATIO * rest) break;
    chosen.push(i);
    left = rest;
  }
  return chosen.sort((a, b) => a - b);
}

/** A linear part of the axis: event times `lo..hi` (padded) to pixels `x0..x1`. */
interface Part {
  readonly first: number;
  readonly last: number;
  lo: number;
  hi: number;
  x0: number;
  x1: number;
}

/** Every finite time the picture places: records, clocks, watermark records, window bounds. */
function finiteTimes(events: readonly TraceEvent[]): { times: Float64Array; hasEnd: boolean } {
  const times: number[] = [];
  let hasEnd = false;
  for (const e of events) {
    for (const t of e.kind === 'window' ? [e.time, e.end] : [e.time]) {
      if (t === END) hasEnd = true;
      else if (t !== NONE) times.push(t);
    }
  }
  return { times: Float64Array.from(times).sort(), hasEnd };
}

/** The parts of the axis between its breaks, padded so that the first and last marks are not drawn on the frame. */
function partsOf(sorted: Float64Array, breaks: readonly number[]): Part[] {
  if (sorted.length === 0) return [{ first: 0, last: 1, lo: 0, hi: 1, x0: 0, x1: 0 }]; // no finite time at all: any domain will do
  const bounds = [-1, ...breaks, sorted.length - 1];
  const parts: Part[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const first = sorted[bounds[k]! + 1]!;
    const last = sorted[bounds[k + 1]!]!;
    const pad = Math.max(1, Math.ceil((last - first) * 0.04));
    parts.push({ first, last, lo: first - pad, hi: last + pad, x0: 0, x1: 0 });
  }
  return parts;
}

/** Shares the plot's width among the parts, in proportion to their spans, each at least {@link MIN_PART} wide. */
function layOut(parts: Part[], left: number, right: number): void {
  const room = right - left - BREAK_WIDTH * (parts.length - 1);
  const total = parts.reduce((s, p) => s + (p.hi - p.lo), 0);
  const natural = parts.map((p) => ((p.hi - p.lo) / total) * room);
  const small = natural.map((w) => parts.length > 1 && w < MIN_PART);
  const fixed = small.filter((s) => s).length * MIN_PART;
  const rest = natural.reduce((s, w, i) => s + (small[i] ? 0 : w), 0);
  let x = left;
  parts.forEach((p, i) => {
    const w = small[i] ? MIN_PART : (natural[i]! / rest) * (room - fixed);
    p.x0 = x;
    p.x1 = x + w;
    x += w + BREAK_WIDTH;
  });
  // A part widened to MIN_PART is drawn at the scale of the bulk (the part with the most time per
  // pixel) where it fits, not stretched: a millisecond between a record and its watermark stays small.
  const perPixel = Math.max(...parts.map((p) => (p.hi - p.lo) / (p.x1 - p.x0)));
  parts.forEach((p, i) => {
    if (!small[i]) return;
    const half = Math.max((p.hi - p.lo) / 2, (MIN_PART / 2) * perPixel);
    const center = (p.first + p.last) / 2;
    p.lo = center - half;
    p.hi = center + half;
  });
}

/** The ticks of one part: round steps (of dates, or of numbers), fewer where it is narrow; a part too narrow for two shows its own time. */
function partTicks(p: Part, dates: boolean, relative: (t: number) => string): Tick[] {
  const most = Math.floor((p.x1 - p.x0) / TICK_SPACING);
  const label = (t: number, step: number): string => (dates && isEpochLike(t) ? dateTickLabel(t, step) : relative(t));
  // A narrow part (an outlier's) shows the latest of its times: a record stamped now is the latest.
  if (most < 2 || p.first === p.last) return [{ time: p.last, label: dates && isEpochLike(p.last) ? timeOfDay(p.last) : relative(p.last) }];
  const rough = (p.hi - p.lo) / most;
  const step = dates ? niceDateStep(rough) : niceStep(rough);
  const ticks: Tick[] = [];
  for (let t = Math.ceil(p.lo / step) * step; t <= p.hi; t += step) ticks.push({ time: t, label: label(t, step) });
  return ticks.length > 0 ? ticks : [{ time: p.first, label: label(p.first, step) }];
}

/** On a date axis, a tick shows its date where the date changes: at the first tick of each part of the axis, and after midnight. */
function withDates(partsTicks: readonly (readonly Tick[])[]): Tick[] {
  let previous = '';
  return partsTicks.flatMap((ticks) => ticks.map((tick, i) => {
    if (!isEpochLike(tick.time)) return tick;
    const date = dateOf(tick.time);
    const shown = i === 0 || date !== previous;
    previous = date;
    // A label that is itself a date (steps of days) needs no second one.
    return shown && tick.label !== date ? { ...tick, date } : tick;
  }));
}

/** The scale over the events' finite times, broken where a few are far from the rest, with round ticks; the ∞ column only when a clock reached the end of stream. */
export function timeScale(events: readonly TraceEvent[]): TimeScale {
  const { times, hasEnd } = finiteTimes(events);
  const breaks = axisBreaks(times);
  const parts = partsOf(times, breaks);
  const left = PLOT_LEFT;
  const right = WIDTH - RIGHT_MARGIN - (hasEnd ? END_COLUMN : 0);
  const xEnd = right + 26; // the rest of the column is room for the labels of marks at ∞
  layOut(parts, left, right);

  // Dates when most times look like epoch milliseconds; a stray 0 among them stays a number.
  let epochLike = 0;
  for (const t of times) if (isEpochLike(t)) epochLike++;
  const dates = times.length > 0 && epochLike * 2 > times.length;
  const lo = parts[0]!.lo;
  const hi = parts[parts.length - 1]!.hi;
  const relative = !dates && Math.max(Math.abs(lo), Math.abs(hi)) >= RELATIVE_LABELS_FROM;
  const base = partTicks(parts[0]!, dates, String)[0]!.time;
  const number = (t: number): string => (!relative ? String(t) : t >= base ? `+${t - base}` : String(t - base));
  const ticks = withDates(parts.map((p) => partTicks(p, dates, number)));
  // One date for the whole trace: labels on marks show the time of day only, and the caption says the date.
  const oneDate = dates && dateOf(times[0]!) === dateOf(times[times.length - 1]!);
  const finite = (t: number): string => (!dates || !isEpochLike(t) ? number(t) : oneDate ? timeOfDay(t) : dateTime(t));

  const x = (t: number): number => {
    if (t === END) return xEnd;
    if (t === NONE) return left;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (t <= p.hi) return t < p.lo && i > 0 ? (parts[i - 1]!.x1 + p.x0) / 2 : p.x0 + ((Math.max(t, p.lo) - p.lo) / (p.hi - p.lo)) * (p.x1 - p.x0);
    }
    return parts[parts.length - 1]!.x1;
  };
  return {
    x,
    format: (t) => (t === END ? '∞' : t === NONE ? 'none' : finite(t)),
    describe: (t) => (t === END ? '∞' : t === NONE ? 'none yet' : dates && isEpochLike(t) ? `${dateTime(t)} (${t})` : String(t)),
    ticks,
    breaks: breaks.map((i, k) => ({ x0: parts[k]!.x1, x1: parts[k + 1]!.x0, gap: times[i + 1]! - times[i]!, label: spanText(times[i + 1]! - times[i]!, dates) })),
    caption: dates ? `event time, UTC${oneDate ? `, ${dateOf(times[0]!)}` : ''}` : relative ? `event time − ${base}` : 'event time',
    left,
    right,
    hasEnd,
    xEnd,
  };
}
