/**
 * The reference of every Nexmark query (bench/nexmark/QUERIES.md): a plain
 * batch computation over all the events at once, in whatever order, with
 * nothing of tidemark in it — the answer every system's rows must equal.
 * Each query returns its result rows as NDJSON lines, keys in the
 * documented order; for the keyed queries (q3, q4, q6) one row per key.
 */
import type { Auction, Bid, NexmarkEvent, Person } from './model.ts';

export const QUERIES = ['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7', 'q8', 'q11', 'q12'] as const;
export type QueryName = (typeof QUERIES)[number];

/** The queries compared on the final row per key, and the key's field. */
export const KEYED: Partial<Record<QueryName, string>> = { q3: 'id', q4: 'category', q6: 'seller' };

export const WINDOW_MS = 10_000;
export const HOP_MS = 2_000;
export const SESSION_GAP_MS = 10_000;
export const Q2_MODULO = 123;
export const Q3_STATES: readonly string[] = ['OR', 'ID', 'CA'];
export const Q3_CATEGORY = 10;
export const Q6_LAST = 10;

interface Split {
  readonly persons: Person[];
  readonly auctions: Auction[];
  readonly bids: Bid[];
}

function split(events: readonly NexmarkEvent[]): Split {
  const s: Split = { persons: [], auctions: [], bids: [] };
  for (const e of events) {
    if ('bid' in e) s.bids.push(e.bid);
    else if ('auction' in e) s.auctions.push(e.auction);
    else s.persons.push(e.person);
  }
  return s;
}

const line = (o: object): string => JSON.stringify(o);
const tumbling = (t: number): number => t - (((t % WINDOW_MS) + WINDOW_MS) % WINDOW_MS);

/** Whether bid `a` beats bid `b` for an auction: higher price, then earlier, then smaller bidder. */
const beats = (a: Bid, b: Bid): boolean => a.price > b.price || (a.price === b.price && (a.dateTime < b.dateTime || (a.dateTime === b.dateTime && a.bidder < b.bidder)));

/** Each auction's winning bid: the best bid at or above the reserve within [dateTime, expires). */
export function winningBids(auctions: readonly Auction[], bids: readonly Bid[]): Map<Auction, Bid> {
  const byId = new Map(auctions.map((a) => [a.id, a]));
  const best = new Map<Auction, Bid>();
  for (const b of bids) {
    const a = byId.get(b.auction);
    if (a === undefined || b.price < a.reserve || b.dateTime < a.dateTime || b.dateTime >= a.expires) continue;
    const cur = best.get(a);
    if (cur === undefined || beats(b, cur)) best.set(a, b);
  }
  return best;
}

function q3(s: Split): string[] {
  const persons = new Map(s.persons.map((p) => [p.id, p]));
  const rows: string[] = [];
  for (const a of s.auctions) {
    if (a.category !== Q3_CATEGORY) continue;
    const p = persons.get(a.seller);
    if (p !== undefined && Q3_STATES.includes(p.state)) rows.push(line({ name: p.name, city: p.city, state: p.state, id: a.id }));
  }
  return rows;
}

function q4(s: Split): string[] {
  const sums = new Map<number, { sum: number; count: number }>();
  for (const [a, b] of winningBids(s.auctions, s.bids)) {
    const x = sums.get(a.category) ?? { sum: 0, count: 0 };
    sums.set(a.category, { sum: x.sum + b.price, count: x.count + 1 });
  }
  return [...sums].map(([category, x]) => line({ category, avg: Math.floor(x.sum / x.count) }));
}

function q6(s: Split): string[] {
  const bySeller = new Map<number, { a: Auction; price: number }[]>();
  for (const [a, b] of winningBids(s.auctions, s.bids)) {
    const list = bySeller.get(a.seller) ?? [];
    list.push({ a, price: b.price });
    bySeller.set(a.seller, list);
  }
  return [...bySeller].map(([seller, list]) => {
    list.sort((x, y) => x.a.expires - y.a.expires || x.a.id - y.a.id);
    const last = list.slice(-Q6_LAST);
    return line({ seller, avg: Math.floor(last.reduce((n, x) => n + x.price, 0) / last.length) });
  });
}

function q5(s: Split): string[] {
  const counts = new Map<number, Map<number, number>>();
  for (const b of s.bids) {
    for (let start = b.dateTime - (((b.dateTime % HOP_MS) + HOP_MS) % HOP_MS); start > b.dateTime - WINDOW_MS; start -= HOP_MS) {
      const w = counts.get(start) ?? new Map<number, number>();
      w.set(b.auction, (w.get(b.auction) ?? 0) + 1);
      counts.set(start, w);
    }
  }
  const rows: string[] = [];
  for (const [start, w] of counts) {
    const max = Math.max(...w.values());
    for (const [auction, count] of w) if (count === max) rows.push(line({ windowStart: start, windowEnd: start + WINDOW_MS, auction, count }));
  }
  return rows;
}

function q7(s: Split): string[] {
  const max = new Map<number, number>();
  for (const b of s.bids) {
    const w = tumbling(b.dateTime);
    max.set(w, Math.max(max.get(w) ?? -Infinity, b.price));
  }
  return s.bids
    .filter((b) => b.price === max.get(tumbling(b.dateTime)))
    .map((b) => line({ windowStart: tumbling(b.dateTime), windowEnd: tumbling(b.dateTime) + WINDOW_MS, auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime }));
}

function q8(s: Split): string[] {
  const sellers = new Set(s.auctions.map((a) => `${a.seller}@${tumbling(a.dateTime)}`));
  return s.persons.filter((p) => sellers.has(`${p.id}@${tumbling(p.dateTime)}`)).map((p) => line({ id: p.id, name: p.name, windowStart: tumbling(p.dateTime) }));
}

function q11(s: Split): string[] {
  const times = new Map<number, number[]>();
  for (const b of s.bids) {
    const list = times.get(b.bidder) ?? [];
    list.push(b.dateTime);
    times.set(b.bidder, list);
  }
  const rows: string[] = [];
  for (const [bidder, list] of times) {
    list.sort((x, y) => x - y);
    let first = 0;
    for (let i = 1; i <= list.length; i++) {
      // A bid within the gap of the previous one (inclusive) joins its session.
      if (i < list.length && list[i]! - list[i - 1]! <= SESSION_GAP_MS) continue;
      rows.push(line({ bidder, windowStart: list[first]!, windowEnd: list[i - 1]! + SESSION_GAP_MS, count: i - first }));
      first = i;
    }
  }
  return rows;
}

function q12(s: Split): string[] {
  const counts = new Map<string, { bidder: number; start: number; count: number }>();
  for (const b of s.bids) {
    const start = tumbling(b.dateTime);
    const k = `${b.bidder}@${start}`;
    const x = counts.get(k) ?? { bidder: b.bidder, start, count: 0 };
    x.count++;
    counts.set(k, x);
  }
  return [...counts.values()].map((x) => line({ bidder: x.bidder, windowStart: x.start, windowEnd: x.start + WINDOW_MS, count: x.count }));
}

/** The reference rows of `query` over `events`, sorted. */
export function reference(query: QueryName, events: readonly NexmarkEvent[]): string[] {
  const s = split(events);
  let rows: string[];
  switch (query) {
    case 'q0':
      rows = s.bids.map(line);
      break;
    case 'q1':
      rows = s.bids.map((b) => line({ ...b, price: Math.floor((b.price * 89) / 100) }));
      break;
    case 'q2':
      rows = s.bids.filter((b) => b.auction % Q2_MODULO === 0).map((b) => line({ auction: b.auction, price: b.price }));
      break;
    case 'q3':
      rows = q3(s);
      break;
    case 'q4':
      rows = q4(s);
      break;
    case 'q5':
      rows = q5(s);
      break;
    case 'q6':
      rows = q6(s);
      break;
    case 'q7':
      rows = q7(s);
      break;
    case 'q8':
      rows = q8(s);
      break;
    case 'q11':
      rows = q11(s);
      break;
    case 'q12':
      rows = q12(s);
      break;
  }
  return rows.sort();
}
