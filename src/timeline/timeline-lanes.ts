/**
 * The model the pictures draw: a trace's events in lanes (one per node,
 * sorted by name) and rows (one per `seq` of the node), and counts over them.
 *
 * @module
 */
import type { TraceEvent, TraceEventKind } from './timeline-data.ts';

/** Counts over a trace, for a one-line description. */
export interface TraceSummary {
  readonly nodes: number;
  readonly records: number;
  readonly late: number;
  readonly watermarkRecords: number;
  /** Window results emitted: one per window and key. */
  readonly windows: number;
}

/** In the order a row draws them: the record first, then what it made the clocks do, then the windows that fired. */
const KIND_ORDER: Readonly<Record<TraceEventKind, number>> = { record: 0, 'watermark-record': 1, 'stream-time': 2, watermark: 3, window: 4 };

/** Counts the nodes, records (and late ones), watermark records and window results of a trace. */
export function summarizeTrace(events: readonly TraceEvent[]): TraceSummary {
  const nodes = new Set<string>();
  let records = 0;
  let late = 0;
  let watermarkRecords = 0;
  let windows = 0;
  for (const e of events) {
    nodes.add(e.node);
    if (e.kind === 'record') {
      records++;
      if (e.late === true) late++;
    } else if (e.kind === 'watermark-record') {
      watermarkRecords++;
    } else if (e.kind === 'window') {
      windows++;
    }
  }
  return { nodes: nodes.size, records, late, watermarkRecords, windows };
}

/** `6 nodes, 40 records (3 late), 12 watermark records`, and `, 8 window results` when windows were traced. */
export function describeSummary(s: TraceSummary): string {
  const windows = s.windows > 0 ? `, ${plural(s.windows, 'window result')}` : '';
  return `${plural(s.nodes, 'node')}, ${plural(s.records, 'record')} (${s.late} late), ${plural(s.watermarkRecords, 'watermark record')}${windows}`;
}

/** `1 record`, `2 records`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The events of one `seq` of a node: one row of its lane. */
export interface Row {
  readonly seq: number;
  readonly events: readonly TraceEvent[];
}

/** A node's events, sorted by seq (then kind, in row order), and grouped in rows. */
export interface Lane {
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
export function lanesOf(events: readonly TraceEvent[]): Lane[] {
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
