/**
 * q4, average price per category: the mean winning price of each
 * category's auctions (rounded down), a table aggregation over the winners'
 * table: a better bid takes the old price out of its category and puts the
 * new one in.
 */
import { OUTPUT, type TidemarkQuery } from './common.ts';
import { winners } from './winners.ts';

interface Sum {
  readonly sum: number;
  readonly count: number;
}

export const q4: TidemarkQuery = {
  description: 'average winning price per category (winning bids: auctions co-grouped with their bids)',
  readsItsOwnStreams: true,
  build(b, ctx) {
    winners(b, ctx, 'nexmark-q4-winners')
      .groupBy((_id, w) => [w.category, w.price] as const)
      .aggregate<Sum>(
        () => ({ sum: 0, count: 0 }),
        (_c, price, s) => ({ sum: s.sum + price, count: s.count + 1 }),
        (_c, price, s) => ({ sum: s.sum - price, count: s.count - 1 }),
        { store: ctx.store },
      )
      .toStream()
      .map((category, s) => [category, s === null || s.count === 0 ? null : { category, avg: Math.floor(s.sum / s.count) }] as const)
      .to(OUTPUT);
  },
};
