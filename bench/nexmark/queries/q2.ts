/** q2, selection: the bids on auctions whose id is a multiple of 123. */
import { Q2_MODULO } from '../reference.ts';
import { bidsOf, events, OUTPUT, type TidemarkQuery } from './common.ts';

export const q2: TidemarkQuery = {
  description: `selection: bids with auction % ${Q2_MODULO} = 0`,
  build(b) {
    bidsOf(events(b))
      .filter((_, bid) => bid.auction % Q2_MODULO === 0)
      .mapValues((bid) => ({ auction: bid.auction, price: bid.price }))
      .to(OUTPUT);
  },
};
