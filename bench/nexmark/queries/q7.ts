/**
 * q7, highest bid: per tumbling 10 s window the bids at the window's
 * highest price, one aggregation over all bids (a single group) emitted
 * when the window closes.
 */
import { TimeWindows, type Windowed } from '../../../src/index.ts';
import { WINDOW_MS } from '../reference.ts';
import type { Bid } from '../model.ts';
import { bidsOf, events, OUTPUT, type TidemarkQuery } from './common.ts';

interface Highest {
  readonly price: number;
  readonly bids: Bid[];
}

export const q7: TidemarkQuery = {
  description: 'highest bid: tumbling 10 s, the bids at the maximum price',
  build(b, ctx) {
    bidsOf(events(b))
      .groupBy(() => 0)
      .windowedBy(TimeWindows.ofSize(WINDOW_MS).grace(ctx.graceMs))
      .aggregate<Highest>(
        () => ({ price: -1, bids: [] }),
        (_k, bid, h) => (bid.price > h.price ? { price: bid.price, bids: [bid] } : bid.price === h.price ? { price: h.price, bids: [...h.bids, bid] } : h),
        { emit: 'final', store: ctx.store },
      )
      .flatMap((w: Windowed<number>, h) =>
        h.bids.map((bid) => [bid.auction, { windowStart: w.start, windowEnd: w.end, auction: bid.auction, bidder: bid.bidder, price: bid.price, dateTime: bid.dateTime }] as const),
      )
      .to(OUTPUT);
  },
};
