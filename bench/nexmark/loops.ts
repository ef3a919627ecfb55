/**
 * A hand-written TypeScript loop per Nexmark query: what a program that
 * does nothing else would do, one pass over the events in arrival order,
 * state in plain Maps — the practical speed limit the bench measures
 * tidemark against. Nothing of tidemark and nothing of the reference is in
 * here. Like tidemark, each loop parses every line (JSON) and serializes
 * every row, and closes windows on stream time (the largest dateTime seen)
 * minus the grace, so its state stays bounded; at the end of the input every
 * window still open closes. Keyed queries return the final row per key.
 */
import type { Auction, Bid, NexmarkEvent, Person } from './model.ts';

/** A loop: the events' lines in arrival order and the grace, to result rows (unsorted). */
export type Loop = (lines: readonly string[], graceMs: number) => string[];

const SIZE = 10_000;
const HOP = 2_000;
const GAP = 10_000;
const floorTo = (t: number, step: number): number => t - (((t % step) + step) % step);

function passThrough(lines: readonly string[], row: (b: Bid) => object | undefined): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const e = JSON.parse(l) as NexmarkEvent;
    if (!('bid' in e)) continue;
    const r = row(e.bid);
    if (r !== undefined) out.push(JSON.stringify(r));
  }
  return out;
}

/**
 * Tumbling or hopping windows of `step`-aligned starts over bids: `add` folds
 * a bid into its window's state, `emit` writes a closed window's rows.
 */
function windowed<S>(lines: readonly string[], grace: number, size: number, step: number, init: () => S, add: (s: S, b: Bid) => void, emit: (start: number, s: S, out: string[]) => void): string[] {
  const open = new Map<number, S>();
  const out: string[] = [];
  let streamTime = -Infinity;
  let nextClose = Infinity; // the smallest open start
  const close = (limit: number): void => {
    while (nextClose + size + grace <= limit && open.size > 0) {
      const s = open.get(nextClose);
      if (s !== undefined) {
        emit(nextClose, s, out);
        open.delete(nextClose);
      }
      nextClose = open.size === 0 ? Infinity : nextClose + step;
    }
  };
  for (const l of lines) {
    const e = JSON.parse(l) as NexmarkEvent;
    const t = 'bid' in e ? e.bid.dateTime : 'auction' in e ? e.auction.dateTime : e.person.dateTime;
    if (t > streamTime) {
      streamTime = t;
      close(streamTime);
    }
    if (!('bid' in e)) continue;
    const b = e.bid;
    for (let start = floorTo(t, step); start > t - size; start -= step) {
      let s = open.get(start);
      if (s === undefined) open.set(start, (s = init()));
      add(s, b);
      if (start < nextClose) nextClose = start;
    }
  }
  close(Infinity);
  return out;
}

const q5: Loop = (lines, grace) =>
  windowed<Map<number, number>>(
    lines, grace, SIZE, HOP,
    () => new Map(),
    (m, b) => void m.set(b.auction, (m.get(b.auction) ?? 0) + 1),
    (start, m, out) => {
      let max = 0;
      for (const c of m.values()) if (c > max) max = c;
      for (const [auction, count] of m) if (count === max) out.push(JSON.stringify({ windowStart: start, windowEnd: start + SIZE, auction, count }));
    },
  );

const q7: Loop = (lines, grace) =>
  windowed<{ price: number; bids: Bid[] }>(
    lines, grace, SIZE, SIZE,
    () => ({ price: -1, bids: [] }),
    (s, b) => {
      if (b.price > s.price) {
        s.price = b.price;
        s.bids = [b];
      } else if (b.price === s.price) s.bids.push(b);
    },
    (start, s, out) => {
      for (const b of s.bids) out.push(JSON.stringify({ windowStart: start, windowEnd: start + SIZE, auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime }));
    },
  );

const q12: Loop = (lines, grace) =>
  windowed<Map<number, number>>(
    lines, grace, SIZE, SIZE,
    () => new Map(),
    (m, b) => void m.set(b.bidder, (m.get(b.bidder) ?? 0) + 1),
    (start, m, out) => {
      for (const [bidder, count] of m) out.push(JSON.stringify({ bidder, windowStart: start, windowEnd: start + SIZE, count }));
    },
  );

/** Sessions per bidder, merged when within the gap (inclusive); closed `gap + 1 + grace` after their last bid. */
const q11: Loop = (lines, grace) => {
  const sessions = new Map<number, { first: number; last: number; count: number }[]>();
  const out: string[] = [];
  let streamTime = -Infinity;
  let scanned = -Infinity;
  const emit = (bidder: number, s: { first: number; last: number; count: number }): void => {
    out.push(JSON.stringify({ bidder, windowStart: s.first, windowEnd: s.last + GAP, count: s.count }));
  };
  const closeUpTo = (limit: number): void => {
    for (const [bidder, list] of sessions) {
      let kept = 0;
      for (const s of list) {
        if (s.last + GAP + 1 + grace <= limit) emit(bidder, s);
        else list[kept++] = s;
      }
      list.length = kept;
      if (kept === 0) sessions.delete(bidder);
    }
  };
  for (const l of lines) {
    const e = JSON.parse(l) as NexmarkEvent;
    const t = 'bid' in e ? e.bid.dateTime : 'auction' in e ? e.auction.dateTime : e.person.dateTime;
    if (t > streamTime) streamTime = t;
    // Closing scans every bidder: once per second of stream time is enough to keep the state bounded.
    if (streamTime - scanned >= 1_000) {
      closeUpTo(streamTime);
      scanned = streamTime;
    }
    if (!('bid' in e)) continue;
    const bidder = e.bid.bidder;
    let list = sessions.get(bidder);
    if (list === undefined) sessions.set(bidder, (list = []));
    let merged = { first: t, last: t, count: 1 };
    let kept = 0;
    for (const s of list) {
      if (t >= s.first - GAP && t <= s.last + GAP) merged = { first: Math.min(merged.first, s.first), last: Math.max(merged.last, s.last), count: merged.count + s.count };
      else list[kept++] = s;
    }
    list.length = kept;
    // A merged session may now reach others: merge until none is within the gap.
    for (let again = true; again; ) {
      again = false;
      for (let i = 0; i < list.length; i++) {
        const s = list[i]!;
        if (s.first - GAP <= merged.last && merged.first <= s.last + GAP) {
          merged = { first: Math.min(merged.first, s.first), last: Math.max(merged.last, s.last), count: merged.count + s.count };
          list.splice(i, 1);
          again = true;
          break;
        }
      }
    }
    list.push(merged);
  }
  closeUpTo(Infinity);
  return out;
};

/** Persons and the auctions they sell, per tumbling window; a row per person with an auction in their window. */
const q8: Loop = (lines, grace) => {
  const open = new Map<number, Map<number, { name: string | null; auctions: boolean }>>();
  const out: string[] = [];
  let streamTime = -Infinity;
  const close = (limit: number): void => {
    for (const [start, m] of open) {
      if (start + SIZE + grace > limit) continue;
      for (const [id, x] of m) if (x.name !== null && x.auctions) out.push(JSON.stringify({ id, name: x.name, windowStart: start }));
      open.delete(start);
    }
  };
  for (const l of lines) {
    const e = JSON.parse(l) as NexmarkEvent;
    const t = 'bid' in e ? e.bid.dateTime : 'auction' in e ? e.auction.dateTime : e.person.dateTime;
    if (t > streamTime) {
      streamTime = t;
      close(streamTime);
    }
    if ('bid' in e) continue;
    const start = floorTo(t, SIZE);
    let m = open.get(start);
    if (m === undefined) open.set(start, (m = new Map()));
    const id = 'person' in e ? e.person.id : e.auction.seller;
    let x = m.get(id);
    if (x === undefined) m.set(id, (x = { name: null, auctions: false }));
    if ('person' in e) x.name = e.person.name;
    else x.auctions = true;
  }
  close(Infinity);
  return out;
};

/** Category-10 auctions joined with their sellers in OR, ID, CA, whichever comes first. */
const q3: Loop = (lines) => {
  const persons = new Map<number, Person>();
  const waiting = new Map<number, number[]>();
  const rows = new Map<number, string>();
  const row = (p: Person, id: number): void => void rows.set(id, JSON.stringify({ name: p.name, city: p.city, state: p.state, id }));
  for (const l of lines) {
    const e = JSON.parse(l) as NexmarkEvent;
    if ('person' in e) {
      const p = e.person;
      if (p.state !== 'OR' && p.state !== 'ID' && p.state !== 'CA') continue;
      persons.set(p.id, p);
      for (const id of waiting.get(p.id) ?? []) row(p, id);
      waiting.delete(p.id);
    } else if ('auction' in e && e.auction.category === 10) {
      const a = e.auction;
      const p = persons.get(a.seller);
      if (p !== undefined) row(p, a.id);
      else waiting.set(a.seller, [...(waiting.get(a.seller) ?? []), a.id]);
    }
  }
  return [...rows.values()];
};

interface Best {
  auction: Auction | null;
  waiting: Bid[];
  best: Bid | null;
}

const better = (x: Bid, y: Bid): boolean => x.price > y.price || (x.price === y.price && (x.dateTime < y.dateTime || (x.dateTime === y.dateTime && x.bidder < y.bidder)));

/** Every winner change (auction, old winning price or undefined, new price), in arrival order. */
function winners(lines: readonly string[], onChange: (a: Auction, old: number | undefined, price: number) => void): void {
  const states = new Map<number, Best>();
  const offer = (s: Best, b: Bid): void => {
    const a = s.auction!;
    if (b.price < a.reserve || b.dateTime < a.dateTime || b.dateTime >= a.expires || (s.best !== null && !better(b, s.best))) return;
    const old = s.best?.price;
    s.best = b;
    onChange(a, old, b.price);
  };
  for (const l of lines) {
    const e = JSON.parse(l) as NexmarkEvent;
    if ('auction' in e) {
      let s = states.get(e.auction.id);
      if (s === undefined) states.set(e.auction.id, (s = { auction: null, waiting: [], best: null }));
      s.auction = e.auction;
      for (const b of s.waiting) offer(s, b);
      s.waiting = [];
    } else if ('bid' in e) {
      let s = states.get(e.bid.auction);
      if (s === undefined) states.set(e.bid.auction, (s = { auction: null, waiting: [], best: null }));
      if (s.auction === null) s.waiting.push(e.bid);
      else offer(s, e.bid);
    }
  }
}

const q4: Loop = (lines) => {
  const sums = new Map<number, { sum: number; count: number }>();
  winners(lines, (a, old, price) => {
    let s = sums.get(a.category);
    if (s === undefined) sums.set(a.category, (s = { sum: 0, count: 0 }));
    s.sum += price - (old ?? 0);
    if (old === undefined) s.count++;
  });
  return [...sums].map(([category, s]) => JSON.stringify({ category, avg: Math.floor(s.sum / s.count) }));
};

const q6: Loop = (lines) => {
  const sellers = new Map<number, Map<number, { expires: number; id: number; price: number }>>();
  winners(lines, (a, _old, price) => {
    let m = sellers.get(a.seller);
    if (m === undefined) sellers.set(a.seller, (m = new Map()));
    m.set(a.id, { expires: a.expires, id: a.id, price });
  });
  return [...sellers].map(([seller, m]) => {
    const last = [...m.values()].sort((x, y) => x.expires - y.expires || x.id - y.id).slice(-10);
    return JSON.stringify({ seller, avg: Math.floor(last.reduce((n, x) => n + x.price, 0) / last.length) });
  });
};

/** Every query's loop. */
export const LOOPS: Record<string, Loop | undefined> = {
  q0: (lines) => passThrough(lines, (b) => b),
  q1: (lines) => passThrough(lines, (b) => ({ ...b, price: Math.floor((b.price * 89) / 100) })),
  q2: (lines) => passThrough(lines, (b) => (b.auction % 123 === 0 ? { auction: b.auction, price: b.price } : undefined)),
  q3,
  q4,
  q5,
  q6,
  q7,
  q8,
  q11,
  q12,
};
