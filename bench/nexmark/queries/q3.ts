/**
 * q3, local item suggestion: auctions of category 10 whose seller lives in
 * OR, ID or CA. Both sides become tables (persons by id, auctions by id,
 * through streams of their own) joined on the auction's seller with a
 * foreign-key join: a row appears whichever of the two came first.
 */
import { Q3_CATEGORY, Q3_STATES } from '../reference.ts';
import { auctionsOf, events, OUTPUT, personsOf, type TidemarkQuery } from './common.ts';

const PERSONS = 'nexmark-q3-persons';
const AUCTIONS = 'nexmark-q3-auctions';

interface Seller {
  readonly name: string;
  readonly city: string;
  readonly state: string;
}

interface Item {
  readonly id: number;
  readonly seller: number;
}

export const q3: TidemarkQuery = {
  description: 'local item suggestion: category-10 auctions of sellers in OR, ID, CA (foreign-key join)',
  readsItsOwnStreams: true,
  build(b, ctx) {
    const all = events(b);
    personsOf(all)
      .filter((_, p) => Q3_STATES.includes(p.state))
      .map((_, p) => [p.id, { name: p.name, city: p.city, state: p.state }] as const)
      .to(PERSONS);
    auctionsOf(all)
      .filter((_, a) => a.category === Q3_CATEGORY)
      .map((_, a) => [a.id, { id: a.id, seller: a.seller }] as const)
      .to(AUCTIONS);
    const persons = b.table<number, Seller>(PERSONS, { store: ctx.store });
    const auctions = b.table<number, Item>(AUCTIONS, { store: ctx.store });
    auctions
      .joinOnForeignKey(persons, (a) => a.seller, (a, p) => (p === undefined ? null : { name: p.name, city: p.city, state: p.state, id: a.id }), { store: ctx.store })
      .toStream()
      .to(OUTPUT);
  },
};
