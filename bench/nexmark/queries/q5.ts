/**
 * q5, hot items: per hopping window (10 s, advancing 2 s) the auctions with
 * the most bids. Two windowed aggregations: bid counts per auction and
 * window, emitted when the window closes; then those counts regrouped by
 * window (a 2 s tumbling window over their result timestamps, `end − 1`,
 * holds exactly one hopping window's results) keeping the auctions at the
 * maximum, emitted once that window closes in turn. The second stage's input
 * comes in window order, so it needs no grace.
 */
import { TimeWindows, type Windowed } from '../../../src/index.ts';
import { HOP_MS, WINDOW_MS } from '../reference.ts';
import { bidsOf, events, OUTPUT, type TidemarkQuery } from './common.ts';

interface Hot {
  readonly end: number;
  readonly max: number;
  readonly auctions: number[];
}

export const q5: TidemarkQuery = {
  description: 'hot items: hopping 10 s / 2 s bid count per auction, the maximum per window',
  build(b, ctx) {
    bidsOf(events(b))
      .groupBy((_, bid) => bid.auction)
      .windowedBy(TimeWindows.ofSize(WINDOW_MS).advanceBy(HOP_MS).grace(ctx.graceMs))
      .count({ emit: 'final', store: ctx.store })
      .map((w: Windowed<number>, count) => [w.start, { auction: w.key, end: w.end, count }] as const)
      .groupByKey()
      .windowedBy(TimeWindows.ofSize(HOP_MS).grace(0))
      .aggregate<Hot>(
        () => ({ end: 0, max: 0, auctions: [] }),
        (_start, c, hot) => {
          if (c.count > hot.max) return { end: c.end, max: c.count, auctions: [c.auction] };
          if (c.count === hot.max) return { end: c.end, max: hot.max, auctions: [...hot.auctions, c.auction] };
          return hot;
        },
        { emit: 'final', store: ctx.store },
      )
      .flatMap((w: Windowed<number>, hot) => hot.auctions.map((auction) => [auction, { windowStart: w.key, windowEnd: hot.end, auction, count: hot.max }] as const))
      .to(OUTPUT);
  },
};
