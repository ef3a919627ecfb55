/**
 * The winning bid of each auction, for q4 and q6, as a table keyed by
 * auction id: the best bid (highest price, then earliest, then smallest
 * bidder) at or above the reserve within [dateTime, expires). Auctions and
 * bids are co-grouped by auction id in one aggregation; bids that come
 * before their auction wait in its state until it does. Only a change of
 * the winner goes on, through a stream of its own read back as a table (no
 * row for an auction without a winner).
 */
import type { KTable, StreamsBuilder } from '../../../src/index.ts';
import type { Auction, Bid } from '../model.ts';
import { events, type QueryContext } from './common.ts';

/** What q4 and q6 need of an auction and its winning bid. */
export interface Winner {
  readonly category: number;
  readonly seller: number;
  readonly expires: number;
  readonly price: number;
}

type Part = { readonly a: Auction } | { readonly b: Bid };
type Offer = Pick<Bid, 'price' | 'dateTime' | 'bidder'>;

interface AuctionState {
  readonly auction: Pick<Auction, 'category' | 'seller' | 'reserve' | 'dateTime' | 'expires'> | null;
  /** Bids that came before the auction. */
  readonly waiting: Offer[];
  readonly best: Offer | null;
  /** Whether the last record changed the winner. */
  readonly changed: boolean;
}

const beats = (x: Offer, y: Offer): boolean => x.price > y.price || (x.price === y.price && (x.dateTime < y.dateTime || (x.dateTime === y.dateTime && x.bidder < y.bidder)));

function offer(s: AuctionState, o: Offer): AuctionState {
  const a = s.auction!;
  const valid = o.price >= a.reserve && o.dateTime >= a.dateTime && o.dateTime < a.expires;
  if (!valid || (s.best !== null && !beats(o, s.best))) return { ...s, changed: false };
  return { ...s, best: o, changed: true };
}

function add(s: AuctionState, part: Part): AuctionState {
  if ('a' in part) {
    const { category, seller, reserve, dateTime, expires } = part.a;
    let next: AuctionState = { auction: { category, seller, reserve, dateTime, expires }, waiting: [], best: null, changed: false };
    for (const o of s.waiting) next = offer(next, o);
    return { ...next, changed: next.best !== null };
  }
  const o: Offer = { price: part.b.price, dateTime: part.b.dateTime, bidder: part.b.bidder };
  if (s.auction === null) return { ...s, waiting: [...s.waiting, o], changed: false };
  return offer(s, o);
}

/** Adds the winners' table to `b`, its changelog in stream `stream`. */
export function winners(b: StreamsBuilder, ctx: QueryContext, stream: string): KTable<number, Winner> {
  events(b)
    .flatMap((_, e): [number, Part][] => ('auction' in e ? [[e.auction.id, { a: e.auction }]] : 'bid' in e ? [[e.bid.auction, { b: e.bid }]] : []))
    .groupByKey()
    .aggregate<AuctionState>(() => ({ auction: null, waiting: [], best: null, changed: false }), (_id, part, s) => add(s, part), { store: ctx.store })
    .filter((_, s) => s.changed)
    .mapValues((s): Winner => ({ category: s.auction!.category, seller: s.auction!.seller, expires: s.auction!.expires, price: s.best!.price }))
    .to(stream);
  return b.table<number, Winner>(stream, { store: ctx.store });
}
