/** q12 (event time): per bidder, bids per tumbling 10 s window. */
import { TimeWindows, type Windowed } from '../../../src/index.ts';
import { WINDOW_MS } from '../reference.ts';
import { bidsOf, events, OUTPUT, type TidemarkQuery } from './common.ts';

export const q12: TidemarkQuery = {
  description: 'bids per bidder, tumbling 10 s (event time)',
  build(b, ctx) {
    bidsOf(events(b))
      .groupBy((_, bid) => bid.bidder)
      .windowedBy(TimeWindows.ofSize(WINDOW_MS).grace(ctx.graceMs))
      .count({ emit: 'final', store: ctx.store })
      .mapValues((count, w: Windowed<number>) => ({ bidder: w.key, windowStart: w.start, windowEnd: w.end, count }))
      .to(OUTPUT);
  },
};
