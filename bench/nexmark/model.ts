/**
 * The Nexmark model as the events file holds it (bench/nexmark/QUERIES.md):
 * persons, auctions and bids, one event per NDJSON line, fields in a fixed
 * order, integers only (prices in cents, times in epoch milliseconds).
 */

/** A new person (a user of the auction site). */
export interface Person {
  readonly id: number;
  readonly name: string;
  readonly emailAddress: string;
  readonly creditCard: string;
  readonly city: string;
  readonly state: string;
  readonly dateTime: number;
  readonly extra: string;
}

/** A new auction, open from `dateTime` (inclusive) to `expires` (exclusive). */
export interface Auction {
  readonly id: number;
  readonly itemName: string;
  readonly description: string;
  readonly initialBid: number;
  readonly reserve: number;
  readonly dateTime: number;
  readonly expires: number;
  readonly seller: number;
  readonly category: number;
  readonly extra: string;
}

/** A bid on an auction. */
export interface Bid {
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly channel: string;
  readonly url: string;
  readonly dateTime: number;
  readonly extra: string;
}

/** One line of the events file: exactly one of the three. */
export type NexmarkEvent = { readonly person: Person } | { readonly auction: Auction } | { readonly bid: Bid };

/** The `<file>.meta.json` written beside an events file. */
export interface EventsMeta {
  readonly events: number;
  readonly seed: number;
  readonly firstEventRate: number;
  /** The largest amount by which an event's dateTime is behind the largest dateTime delivered before it: every system's grace. */
  readonly maxDelayMs: number;
  /** The smallest and the largest dateTime in the file. */
  readonly firstDateTime: number;
  readonly lastDateTime: number;
}

/** The event's time. */
export function dateTimeOf(e: NexmarkEvent): number {
  if ('bid' in e) return e.bid.dateTime;
  if ('auction' in e) return e.auction.dateTime;
  return e.person.dateTime;
}

/**
 * The event as its NDJSON line (without the newline). The objects are built
 * with their fields in the file's order, so `JSON.stringify` writes that order.
 */
export function eventLine(e: NexmarkEvent): string {
  return JSON.stringify(e);
}

/** Reads the meta file of an events file, checking its fields. */
export function parseMeta(text: string, where: string): EventsMeta {
  const m = JSON.parse(text) as Partial<EventsMeta>;
  for (const f of ['events', 'seed', 'firstEventRate', 'maxDelayMs', 'firstDateTime', 'lastDateTime'] as const) {
    if (!Number.isSafeInteger(m[f])) throw new Error(`${where}: field ${f} must be an integer, got ${JSON.stringify(m[f])}`);
  }
  return m as EventsMeta;
}

/** The meta file's path for an events file. */
export const metaPath = (eventsFile: string): string => `${eventsFile}.meta.json`;
