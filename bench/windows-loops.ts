/**
 * Hand-written loops: the same windowed counts as tidemark's operators, in
 * plain JS over the in-memory records of each partition, with the same
 * rules (docs/windows.md, stream-time mode, `emit: 'final'`):
 *
 * - stream time is the largest timestamp seen in the partition (one task per
 *   partition, one input: records are processed in offset order);
 * - a window `[start, end)` closes when `streamTime >= end + grace`; a record
 *   whose windows are all closed is late and dropped; a session `[a, b]`
 *   closes when `streamTime >= b + gap + 1 + grace`, and a record is late when
 *   its own session `[ts, ts]` would be closed or it would join a closed one;
 * - after each record that advanced stream time, every window that closed is
 *   emitted once, ordered by start (sessions: by end), then key, then start;
 *   key `{"key","start","end"}` as JSON, value the count as JSON, timestamp
 *   `end − 1` (sessions: the last record's timestamp).
 *
 * They use no tidemark code, so that they check its results independently.
 */
import { Heap } from './heap.ts';
import type { LoopResult, OutRecord } from './results.ts';
import type { InputRecord } from './windows-workload.ts';

const dec = new TextDecoder();
// The fastest everyday primitive to write bytes (pooled), as the issue-3 loops use.
const encode = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function result(key: string, start: number, end: number, count: number, timestamp: number): OutRecord {
  return { key: encode(JSON.stringify({ key, start, end })), value: encode(String(count)), timestamp };
}

/**
 * Tumbling (`advance == size`) or hopping windows, epoch-aligned: open
 * windows in a map by start, each a map of key → count; closing walks the
 * grid of starts upwards.
 */
export function timeWindowLoop(records: readonly InputRecord[], size: number, advance: number, grace: number): LoopResult {
  const outputs: OutRecord[] = [];
  const windows = new Map<number, Map<string, number>>();
  let lowest = Infinity; // smallest start that may still be open
  let st = -1;
  let late = 0;
  for (const r of records) {
    const ts = r.eventTime;
    const before = st;
    if (ts > st) st = ts;
    const newest = ts - (ts % advance);
    if (newest + size + grace <= st) {
      late++;
    } else {
      const key = dec.decode(r.key);
      // Oldest window containing ts first; closed ones are skipped.
      for (let s = newest - Math.floor((size - 1 - (ts - newest)) / advance) * advance; s <= newest; s += advance) {
        if (s + size <= ts || s + size + grace <= st) continue;
        let w = windows.get(s);
        if (w === undefined) {
          windows.set(s, (w = new Map()));
          if (s < lowest) lowest = s;
        }
        w.set(key, (w.get(key) ?? 0) + 1);
      }
    }
    if (st > before) {
      for (; lowest + size + grace <= st; lowest += advance) {
        const w = windows.get(lowest);
        if (w === undefined) continue;
        windows.delete(lowest);
        const end = lowest + size;
        for (const key of [...w.keys()].sort()) outputs.push(result(key, lowest, end, w.get(key)!, end - 1));
      }
    }
  }
  return { outputs, late };
}

interface Session {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly count: number;
  /** False once merged into another session (its heap entry is then stale). */
  live: boolean;
  closed: boolean;
}

/** Closing order: end, then key, then start. */
function before(a: Session, b: Session): boolean {
  if (a.end !== b.end) return a.end < b.end;
  if (a.key !== b.key) return a.key < b.key;
  return a.start < b.start;
}

/**
 * Session windows: per key a short list of sessions in end order (closed
 * ones kept while a record that is not late could still reach them), a heap
 * of open sessions in closing order, and a queue of closed ones to purge.
 */
export function sessionLoop(records: readonly InputRecord[], gap: number, grace: number): LoopResult {
  const outputs: OutRecord[] = [];
  const byKey = new Map<string, Session[]>();
  const open = new Heap<Session>(before);
  const closedQueue: Session[] = [];
  let purged = 0;
  let st = -1;
  let late = 0;
  for (const r of records) {
    const ts = r.eventTime;
    const prev = st;
    if (ts > st) st = ts;
    if (ts + gap + 1 + grace <= st) {
      late++;
    } else {
      const key = dec.decode(r.key);
      let list = byKey.get(key);
      if (list === undefined) byKey.set(key, (list = []));
      // The sessions within gap of ts; sessions of a key never overlap, so they are contiguous in the list.
      let from = 0;
      while (from < list.length && list[from]!.end < ts - gap) from++;
      let to = from;
      while (to < list.length && list[to]!.start <= ts + gap) to++;
      let joinsClosed = false;
      for (let i = from; i < to; i++) if (list[i]!.closed) joinsClosed = true;
      if (joinsClosed) {
        late++;
      } else {
        let start = ts;
        let end = ts;
        let count = 1;
        for (let i = from; i < to; i++) {
          const s = list[i]!;
          if (s.start < start) start = s.start;
          if (s.end > end) end = s.end;
          count += s.count;
          s.live = false;
        }
        const merged: Session = { key, start, end, count, live: true, closed: false };
        list.splice(from, to - from, merged);
        open.push(merged);
      }
    }
    if (st > prev) {
      while (open.size > 0 && open.peek()!.end < st - gap - grace) {
        const s = open.pop();
        if (!s.live) continue;
        s.closed = true;
        closedQueue.push(s);
        outputs.push(result(s.key, s.start, s.end, s.count, s.end));
      }
      while (purged < closedQueue.length && closedQueue[purged]!.end < st - 2 * gap - grace) {
        const s = closedQueue[purged++]!;
        const list = byKey.get(s.key)!;
        list.splice(list.indexOf(s), 1);
        if (list.length === 0) byKey.delete(s.key);
      }
      if (purged > 4096 && purged * 2 > closedQueue.length) {
        closedQueue.splice(0, purged);
        purged = 0;
      }
    }
  }
  return { outputs, late };
}
