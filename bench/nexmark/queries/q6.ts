/**
 * q6, average selling price by seller: per seller the mean winning price of
 * its last 10 auctions with a winner (by expiry, then id), rounded down. A
 * table aggregation over the winners' table keeps each seller's winners
 * (a better bid replaces its auction's entry).
 */
import { Q6_LAST } from '../reference.ts';
import { OUTPUT, type TidemarkQuery } from './common.ts';
import { winners } from './winners.ts';

interface Sold {
  readonly auction: number;
  readonly expires: number;
  readonly price: number;
}

const order = (x: Sold, y: Sold): number => x.expires - y.expires || x.auction - y.auction;

export const q6: TidemarkQuery = {
  description: `average selling price of each seller's last ${Q6_LAST} auctions (winning bids as q4)`,
  readsItsOwnStreams: true,
  build(b, ctx) {
    winners(b, ctx, 'nexmark-q6-winners')
      .groupBy((auction, w) => [w.seller, { auction, expires: w.expires, price: w.price }] as const)
      .aggregate<Sold[]>(
        () => [],
        (_s, sold, list) => [...list.filter((x) => x.auction !== sold.auction), sold].sort(order),
        (_s, sold, list) => list.filter((x) => !(x.auction === sold.auction && x.price === sold.price)),
        { store: ctx.store },
      )
      .toStream()
      .map((seller, list) => {
        if (list === null || list.length === 0) return [seller, null] as const;
        const last = list.slice(-Q6_LAST);
        return [seller, { seller, avg: Math.floor(last.reduce((n, x) => n + x.price, 0) / last.length) }] as const;
      })
      .to(OUTPUT);
  },
};
