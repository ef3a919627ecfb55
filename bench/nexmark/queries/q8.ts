/**
 * q8, monitor new users: the persons who opened an auction in the tumbling
 * 10 s window they joined in. A tumbling-window join of persons (by id) and
 * auctions (by seller), as Flink's window join runs it: both sides co-grouped
 * by key and window, the pair's presence decided when the window closes.
 */
import { TimeWindows, type Windowed } from '../../../src/index.ts';
import { WINDOW_MS } from '../reference.ts';
import { events, OUTPUT, type TidemarkQuery } from './common.ts';

/** A person's name, or an auction's mark, under the person's id. */
type Side = { readonly name: string } | { readonly auction: true };

interface Pair {
  readonly name: string | null;
  readonly auctions: boolean;
}

export const q8: TidemarkQuery = {
  description: 'new users: persons and their auctions in the same tumbling 10 s window',
  build(b, ctx) {
    events(b)
      .flatMap((_, e): [number, Side][] => ('person' in e ? [[e.person.id, { name: e.person.name }]] : 'auction' in e ? [[e.auction.seller, { auction: true }]] : []))
      .groupByKey()
      .windowedBy(TimeWindows.ofSize(WINDOW_MS).grace(ctx.graceMs))
      .aggregate<Pair>(
        () => ({ name: null, auctions: false }),
        (_id, side, p) => ('name' in side ? { name: side.name, auctions: p.auctions } : p.auctions ? p : { name: p.name, auctions: true }),
        { emit: 'final', store: ctx.store },
      )
      .filter((_, p) => p.name !== null && p.auctions)
      .mapValues((p, w: Windowed<number>) => ({ id: w.key, name: p.name!, windowStart: w.start }))
      .to(OUTPUT);
  },
};
