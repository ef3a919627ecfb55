/**
 * What the SVG draws around the lanes: the axes (ticks, dates, breaks), the
 * grid and the bands of the breaks behind the lanes, and the legend.
 *
 * @module
 */
import { clockSwatch, COLOR, escapeXml, num, tag, windowSwatch } from './timeline-markup.ts';
import type { TimeScale } from './timeline-scale.ts';

/**
 * Tick marks and labels of the x axis at `y`, labels above (`up`) or below
 * it; a tick's date one line further out; a break's `//` on the line.
 */
export function axisMarkup(scale: TimeScale, y: number, up: boolean): string {
  // The line in pieces: one per part of the axis, broken where a break leaves time out.
  const pieces: [number, number][] = [];
  let from = scale.left;
  for (const b of scale.breaks) {
    pieces.push([from, b.x0]);
    from = b.x1;
  }
  pieces.push([from, scale.right]);
  const parts = pieces.map(([x1, x2]) => tag('line', { x1, y1: y, x2, y2: y, stroke: COLOR.muted, 'stroke-width': 1 }));
  for (const b of scale.breaks) {
    for (const x of [b.x0, b.x1]) parts.push(tag('line', { class: 'break-mark', x1: x - 3, y1: y + 5, x2: x + 3, y2: y - 5, stroke: COLOR.muted, 'stroke-width': 1.2 }));
  }
  const out = (d: number): number => (up ? y - d : y + d);
  for (const t of scale.ticks) {
    const x = scale.x(t.time);
    parts.push(tag('line', { x1: x, y1: y, x2: x, y2: out(5), stroke: COLOR.muted, 'stroke-width': 1 }));
    parts.push(tag('text', { class: 'tick', x, y: up ? y - 8 : y + 16, 'text-anchor': 'middle', 'font-size': 10, fill: COLOR.muted }, escapeXml(t.label)));
    if (t.date !== undefined) parts.push(tag('text', { class: 'tick-date', x, y: up ? y - 20 : y + 28, 'text-anchor': 'middle', 'font-size': 10, 'font-weight': 600, fill: COLOR.muted }, escapeXml(t.date)));
  }
  if (scale.hasEnd) parts.push(tag('text', { class: 'end', x: scale.xEnd, y: up ? y - 7 : y + 17, 'text-anchor': 'middle', 'font-size': 14, fill: COLOR.text }, '∞'));
  return tag('g', { class: 'axis' }, parts.join(''));
}

/**
 * The grid behind the lanes, from `top` to `bottom`: a line per tick, the
 * column of ∞, and a band per break of the axis saying how much time it
 * leaves out ("2 days later"), so that nobody reads the gap as a distance.
 */
export function gridMarkup(scale: TimeScale, top: number, bottom: number): string {
  const grid = scale.ticks.map((t) => tag('line', { x1: scale.x(t.time), y1: top, x2: scale.x(t.time), y2: bottom, stroke: COLOR.grid, 'stroke-width': 1 }));
  if (scale.hasEnd) {
    const x = scale.right + 12;
    grid.push(tag('line', { x1: x, y1: top - 4, x2: x, y2: bottom + 4, stroke: COLOR.muted, 'stroke-width': 1, 'stroke-dasharray': '2 3' }));
  }
  for (const b of scale.breaks) {
    const cx = (b.x0 + b.x1) / 2;
    const label = `${b.label} later`;
    grid.push(tag('g', { class: 'axis-break', 'data-gap': b.gap },
      tag('title', {}, escapeXml(`the axis is broken here: ${b.label} of event time left out`)) +
      tag('rect', { x: b.x0, y: top, width: b.x1 - b.x0, height: bottom - top, fill: COLOR.break }) +
      tag('line', { x1: b.x0, y1: top, x2: b.x0, y2: bottom, stroke: COLOR.muted, 'stroke-width': 0.8, 'stroke-dasharray': '3 3' }) +
      tag('line', { x1: b.x1, y1: top, x2: b.x1, y2: bottom, stroke: COLOR.muted, 'stroke-width': 0.8, 'stroke-dasharray': '3 3' }) +
      tag('text', { x: cx, y: top + 8, transform: `rotate(90 ${num(cx)} ${num(top + 8)})`, 'font-size': 10, fill: COLOR.muted, 'dominant-baseline': 'middle' }, escapeXml(label))));
  }
  return tag('g', { class: 'grid' }, grid.join(''));
}

/** The legend: one row of marks and what they mean, and a line on how to read the lanes. */
export function legendMarkup(y: number, withWindows: boolean): string {
  const items: { swatch: (x: number) => string; label: string }[] = [
    { swatch: (x) => tag('circle', { cx: x + 5, cy: y - 4, r: 5, fill: COLOR.record }), label: 'record (key, #seq)' },
    {
      swatch: (x) => tag('circle', { cx: x + 5, cy: y - 4, r: 5, fill: COLOR.late }) + tag('path', { d: `M${num(x + 2.2)},${num(y - 6.8)}L${num(x + 7.8)},${num(y - 1.2)}M${num(x + 2.2)},${num(y - 1.2)}L${num(x + 7.8)},${num(y - 6.8)}`, stroke: '#ffffff', 'stroke-width': 1.5 }),
      label: 'late record',
    },
    {
      swatch: (x) => tag('line', { x1: x + 2, y1: y - 10, x2: x + 2, y2: y + 2, stroke: COLOR.watermark, 'stroke-width': 1.2 }) + tag('path', { d: `M${x + 2},${y - 10}L${x + 10},${y - 7}L${x + 2},${y - 4}Z`, fill: COLOR.flag, stroke: COLOR.watermark }),
      label: 'watermark record W(t)',
    },
    { swatch: (x) => clockSwatch('stream-time', x, y - 4), label: 'stream time' },
    { swatch: (x) => clockSwatch('watermark', x, y - 4), label: 'watermark' },
    { swatch: (x) => clockSwatch('both', x, y - 4), label: 'both, equal' },
  ];
  if (withWindows) items.push({ swatch: (x) => windowSwatch(x, y - 6), label: 'window emitted' });
  const parts: string[] = [];
  let x = 12;
  for (const item of items) {
    parts.push(item.swatch(x), tag('text', { x: x + 28, y, 'font-size': 11, fill: COLOR.text }, escapeXml(item.label)));
    x += 28 + item.label.length * 5.6 + 16; // an estimate of the text's width: no font metrics without a browser
  }
  parts.push(tag('text', { x: 12, y: y + 18, 'font-size': 10, fill: COLOR.muted },
    escapeXml("One lane per node. Down a lane: the node's own order (seq), top to bottom. Lanes are not ordered against each other; x is event time, shared.")));
  return tag('g', { class: 'legend' }, parts.join(''));
}
