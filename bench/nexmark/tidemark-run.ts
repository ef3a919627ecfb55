/**
 * Runs a Nexmark query as a tidemark application over an events data set,
 * in memory (MemoryLog, in-memory stores, catch-up) or on the embedded log,
 * and turns its output into result rows.
 *
 * tidemark closes windows on stream time only, and a catch-up run leaves
 * the windows still open at the end of its input open. So after the data
 * the input gets sentinels: a person, an auction and a bid, with negative
 * ids, at three times each a day apart past the last event. The first moves
 * every stream time past every real window (plus grace), the others close
 * the windows the sentinels themselves opened, so that a second windowed
 * stage (q5) sees its last real windows close too. Rows of sentinels (a
 * negative id, or a window after the last event) are dropped.
 */
import { Application, MemoryLog, StreamsBuilder } from '../../src/index.ts';
import type { AppendRecord } from '../../src/runtime/log.ts';
import { KEYED, type QueryName } from './reference.ts';
import type { EventsData } from './events.ts';
import { INPUT, OUTPUT, type TidemarkQuery } from './queries/common.ts';

const DAY_MS = 86_400_000;
const SENTINELS = 3;
const APPEND_BATCH = 50_000;

/** The sentinel events, as lines with their times. */
export function sentinelLines(lastDateTime: number): { line: string; time: number }[] {
  const out: { line: string; time: number }[] = [];
  for (let k = 1; k <= SENTINELS; k++) {
    const t = lastDateTime + k * DAY_MS;
    const id = -k;
    out.push({ line: JSON.stringify({ person: { id, name: '', emailAddress: '', creditCard: '', city: '', state: '', dateTime: t, extra: '' } }), time: t });
    out.push({
      line: JSON.stringify({ auction: { id, itemName: '', description: '', initialBid: 0, reserve: Number.MAX_SAFE_INTEGER, dateTime: t, expires: t + 1, seller: id, category: -1, extra: '' } }),
      time: t,
    });
    out.push({ line: JSON.stringify({ bid: { auction: id, bidder: id, price: 0, channel: '', url: '', dateTime: t, extra: '' } }), time: t });
  }
  return out;
}

/** The data set's records for the input stream, sentinels last, in batches. */
export function inputBatches(data: EventsData, dateTimes: readonly number[]): AppendRecord[][] {
  const all = data.lines.map((line, i) => ({ line, time: dateTimes[i]! })).concat(sentinelLines(data.meta.lastDateTime));
  const batches: AppendRecord[][] = [];
  for (let i = 0; i < all.length; i += APPEND_BATCH) {
    batches.push(all.slice(i, i + APPEND_BATCH).map((x) => ({ stream: INPUT, partition: 0, key: null, value: Buffer.from(x.line), eventTime: x.time })));
  }
  return batches;
}

/** Each line's dateTime (the record's event time), read once. */
export const dateTimesOf = (lines: readonly string[]): number[] =>
  lines.map((l) => {
    const m = /"dateTime":(-?\d+)/.exec(l);
    if (m === null) throw new Error(`nexmark: an event without dateTime: ${l.slice(0, 80)}`);
    return Number(m[1]);
  });

/** A memory log holding the input. */
export function memoryInput(batches: readonly AppendRecord[][]): MemoryLog {
  const log = new MemoryLog();
  log.ensureStream(INPUT, 1);
  for (const b of batches) log.appendSync(b);
  return log;
}

/** The query's topology. */
export function topologyOf(q: TidemarkQuery, graceMs: number, store: 'in-memory' | 'lmdb' = 'in-memory') {
  const b = new StreamsBuilder();
  q.build(b, { graceMs, store });
  return b.build();
}

/** Runs the query over the log (catch-up); throws if a record was dead-lettered or late. */
export async function runQuery(name: QueryName, q: TidemarkQuery, graceMs: number, log: MemoryLog): Promise<{ processed: number }> {
  const app = new Application(topologyOf(q, graceMs), { applicationId: `nexmark-${name}`, log });
  let processed = 0;
  for (let round = 0; ; round++) {
    const s = await app.run({ mode: 'catch-up' });
    if (s.deadLettered > 0) throw new Error(`nexmark ${name}: ${s.deadLettered} records dead-lettered`);
    if (s.lateRecords > 0) throw new Error(`nexmark ${name}: ${s.lateRecords} late records (grace ${graceMs} ms)`);
    processed += s.processed;
    if (q.readsItsOwnStreams !== true || s.processed === 0) break;
    if (round === 4) throw new Error(`nexmark ${name}: still processing after 5 catch-up runs`);
  }
  return { processed };
}

const isSentinelRow = (row: Record<string, unknown>, lastDateTime: number): boolean =>
  Object.entries(row).some(([k, v]) => typeof v === 'number' && (v < 0 || (k === 'windowStart' && v > lastDateTime)));

/** The output stream's rows: values as lines; keyed queries the last row per key (a null deletes it); sentinel rows dropped. */
export function outputRows(name: QueryName, log: MemoryLog, lastDateTime: number): string[] {
  const keyed = KEYED[name] !== undefined;
  const rows: string[] = [];
  const last = new Map<string, string | null>();
  if (log.partitionCount(OUTPUT) === undefined) return rows;
  const partitions = log.partitionCount(OUTPUT)!;
  for (let p = 0; p < partitions; p++) {
    const end = log.endOffset(OUTPUT, p);
    for (let from = 0; from < end; from += 50_000) {
      for (const r of log.read(OUTPUT, p, from, 50_000)) {
        if (r.control !== undefined) continue;
        const value = r.value === null ? null : Buffer.from(r.value).toString('utf8');
        if (keyed) last.set(Buffer.from(r.key ?? new Uint8Array()).toString('utf8'), value);
        else if (value !== null && !isSentinelRow(JSON.parse(value) as Record<string, unknown>, lastDateTime)) rows.push(value);
      }
    }
  }
  if (keyed) for (const v of last.values()) if (v !== null && !isSentinelRow(JSON.parse(v) as Record<string, unknown>, lastDateTime)) rows.push(v);
  return rows.sort();
}
