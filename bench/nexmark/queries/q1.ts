/** q1, currency conversion: every bid with its price × 89 / 100, rounded down. */
import { bidsOf, events, OUTPUT, type TidemarkQuery } from './common.ts';

export const q1: TidemarkQuery = {
  description: 'currency conversion: every bid, price × 0.89',
  build(b) {
    bidsOf(events(b))
      .mapValues((bid) => ({ ...bid, price: Math.floor((bid.price * 89) / 100) }))
      .to(OUTPUT);
  },
};
