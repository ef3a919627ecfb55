/** q0, pass-through: every bid as it came. */
import { bidsOf, events, OUTPUT, type TidemarkQuery } from './common.ts';

export const q0: TidemarkQuery = {
  description: 'pass-through: every bid',
  build(b) {
    bidsOf(events(b)).to(OUTPUT);
  },
};
