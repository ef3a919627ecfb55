/**
 * What the Nexmark queries as tidemark topologies share: the input stream
 * (every event, one partition, value the event's JSON line, event time its
 * dateTime), the output stream, and a query's shape. Every query writes its
 * result rows as the output's values, keys in the documented order (the
 * keyed queries a table's changelog: the row, or null once a key has none).
 */
import type { StreamsBuilder, KStream } from '../../../src/index.ts';
import type { Auction, Bid, NexmarkEvent, Person } from '../model.ts';

export const INPUT = 'nexmark-events';
export const OUTPUT = 'nexmark-results';

/** How a query is built: its windows' grace is the events' maxDelayMs, its stores are of `store` kind. */
export interface QueryContext {
  readonly graceMs: number;
  readonly store: 'in-memory' | 'lmdb';
}

/** A Nexmark query as a tidemark topology. */
export interface TidemarkQuery {
  /** What it computes, in a line. */
  readonly description: string;
  /** Adds the query to `b`: reads INPUT, writes OUTPUT. */
  build(b: StreamsBuilder, ctx: QueryContext): void;
  /**
   * Whether the topology reads, as a table, a stream it writes itself. A
   * catch-up run stops at the end offsets its external inputs had when it
   * started, so such a stream is read by the next run: the query runs in
   * catch-up until a run processes nothing.
   */
  readonly readsItsOwnStreams?: boolean;
}

/** The input: every event, keyed by nothing. */
export const events = (b: StreamsBuilder): KStream<null, NexmarkEvent> => b.stream<null, NexmarkEvent>(INPUT);

export const bidsOf = (s: KStream<null, NexmarkEvent>): KStream<null, Bid> => s.filter((_, e) => 'bid' in e).mapValues((e) => (e as { bid: Bid }).bid);
export const auctionsOf = (s: KStream<null, NexmarkEvent>): KStream<null, Auction> => s.filter((_, e) => 'auction' in e).mapValues((e) => (e as { auction: Auction }).auction);
export const personsOf = (s: KStream<null, NexmarkEvent>): KStream<null, Person> => s.filter((_, e) => 'person' in e).mapValues((e) => (e as { person: Person }).person);
