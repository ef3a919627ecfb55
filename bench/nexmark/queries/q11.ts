/** q11, user sessions: per bidder, sessions with a 10 s inactivity gap, their bid counts. */
import { SessionWindows, type Windowed } from '../../../src/index.ts';
import { SESSION_GAP_MS } from '../reference.ts';
import { bidsOf, events, OUTPUT, type TidemarkQuery } from './common.ts';

export const q11: TidemarkQuery = {
  description: 'user sessions: bids per bidder session, gap 10 s',
  build(b, ctx) {
    bidsOf(events(b))
      .groupBy((_, bid) => bid.bidder)
      .windowedBy(SessionWindows.ofInactivityGap(SESSION_GAP_MS).grace(ctx.graceMs))
      .count({ emit: 'final', store: ctx.store })
      // A session's key holds its first and last bid's times; the row's end is the last plus the gap.
      .mapValues((count, w: Windowed<number>) => ({ bidder: w.key, windowStart: w.start, windowEnd: w.end + SESSION_GAP_MS, count }))
      .to(OUTPUT);
  },
};
