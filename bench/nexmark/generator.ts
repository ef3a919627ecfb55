/**
 * A deterministic Nexmark generator following Apache Beam's model (its
 * `sources/generator` package and `NexmarkConfiguration` defaults), written
 * for this bench:
 *
 * - Event number n (0, 1, 2 …) gets an id (n itself, or with out-of-order
 *   groups a permutation within its group of `outOfOrderGroupSize`) and an
 *   event time `baseTime + n · interEventDelay` of that id's number; the id
 *   decides the kind: of every 50 ids, 1 person, 3 auctions, 46 bids.
 * - Person and auction ids are dense from 1000 (the k-th person of the run
 *   has id 1000 + k); an auction's seller and a bid's bidder is a *hot*
 *   person (the first, or second, of the latest batch of 100) with
 *   probability 1 − 1/hotSellersRatio (1 − 1/hotBiddersRatio), else one of
 *   the latest `numActivePeople`, a few of them not yet created; a bid's
 *   auction is hot (the first of the latest 100) with probability
 *   1 − 1/hotAuctionRatio, else one of the latest `numInFlightAuctions`,
 *   a few not yet created. Categories 10 … 14.
 * - Prices are 100 · 10^(6u) cents, u uniform in [0, 1) (log-uniform, $1 to
 *   $1 M); an auction's reserve is its initial bid plus such a price; its
 *   length is uniform up to twice the time until `numInFlightAuctions` more
 *   auctions are made.
 * - Delivery: a fraction `probDelayedEvent` of the events is held back by 1
 *   ms to `occasionalDelaySec` s (of event time) and delivered after the
 *   events of its arrival time: the file's order is arrival order, with
 *   event times out of order.
 *
 * Every event is made by a PRNG seeded with the run's seed and the event's
 * id, so the same seed and configuration give the same events, in the same
 * order, byte for byte. Bids carry `channel` and `url` as the later Nexmark
 * model does (Beam's bids have none): a hot channel of four with probability
 * 1/2, else one of 10 000.
 */
import { EventRandom } from './prng.ts';
import type { Auction, Bid, NexmarkEvent, Person } from './model.ts';

/** 2026-01-01T00:00:00Z: the event time of event number 0. */
export const BASE_TIME = Date.UTC(2026, 0, 1);

/** Beam's ids start here, so that small data sets still join. */
export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
export const FIRST_CATEGORY_ID = 10;
export const NUM_CATEGORIES = 5;
export const PERSON_PROPORTION = 1;
export const AUCTION_PROPORTION = 3;
export const BID_PROPORTION = 46;
export const PROPORTION_DENOMINATOR = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;
/** Hot sellers, bidders and auctions are picked among the latest batch of this many. */
const HOT_BATCH = 100;
/** How many not-yet-created people and auctions a random pick may name. */
const ID_LEAD = 10;

/** What the generator makes; the defaults are Beam's `NexmarkConfiguration`'s, with one generator. */
export interface GeneratorConfig {
  readonly seed: number;
  readonly events: number;
  /** Events per second of event time (Beam's `firstEventRate`, constant rate). */
  readonly firstEventRate: number;
  readonly baseTime: number;
  readonly outOfOrderGroupSize: number;
  readonly probDelayedEvent: number;
  readonly occasionalDelaySec: number;
  readonly numActivePeople: number;
  readonly numInFlightAuctions: number;
  readonly hotAuctionRatio: number;
  readonly hotSellersRatio: number;
  readonly hotBiddersRatio: number;
  readonly avgPersonByteSize: number;
  readonly avgAuctionByteSize: number;
  readonly avgBidByteSize: number;
}

/** Beam's defaults for everything but the seed and the number of events. */
export function defaultConfig(events: number, seed: number, overrides: Partial<GeneratorConfig> = {}): GeneratorConfig {
  const c: GeneratorConfig = {
    seed,
    events,
    firstEventRate: 10_000,
    baseTime: BASE_TIME,
    outOfOrderGroupSize: 1,
    probDelayedEvent: 0.1,
    occasionalDelaySec: 3,
    numActivePeople: 1000,
    numInFlightAuctions: 100,
    hotAuctionRatio: 2,
    hotSellersRatio: 4,
    hotBiddersRatio: 4,
    avgPersonByteSize: 200,
    avgAuctionByteSize: 500,
    avgBidByteSize: 100,
    ...overrides,
  };
  for (const [k, v] of Object.entries(c)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`nexmark generator: ${k} must be a non-negative number, got ${v}`);
  }
  if (!Number.isSafeInteger(c.events)) throw new Error(`nexmark generator: events must be an integer, got ${c.events}`);
  if (c.firstEventRate <= 0 || c.firstEventRate > 1_000_000) throw new Error(`nexmark generator: firstEventRate must be in (0, 1 000 000] events/s, got ${c.firstEventRate}`);
  if (c.outOfOrderGroupSize < 1) throw new Error(`nexmark generator: outOfOrderGroupSize must be at least 1, got ${c.outOfOrderGroupSize}`);
  return c;
}

// ---------------------------------------------------------------------------
// Ids and times.

/** Microseconds of event time between two events (one generator: Beam divides by the number of generators). */
const interEventDelayUs = (c: GeneratorConfig): number => Math.max(1, Math.round(1_000_000 / c.firstEventRate));

/** The event time of event number `n`. */
export const timestampOf = (c: GeneratorConfig, n: number): number => c.baseTime + Math.floor((n * interEventDelayUs(c)) / 1000);

/** The id of the n-th event: n, permuted within its out-of-order group. */
export function eventIdOf(c: GeneratorConfig, n: number): number {
  const g = c.outOfOrderGroupSize;
  if (g === 1) return n;
  return Math.floor(n / g) * g + ((n * 953) % g);
}

/** The latest person id (base 0) made by event `eventId` or before it. */
export function lastBase0PersonId(eventId: number): number {
  const epoch = Math.floor(eventId / PROPORTION_DENOMINATOR);
  const offset = Math.min(eventId % PROPORTION_DENOMINATOR, PERSON_PROPORTION - 1);
  return epoch * PERSON_PROPORTION + offset;
}

/** The latest auction id (base 0) made by event `eventId` or before it (−1 before the first). */
export function lastBase0AuctionId(eventId: number): number {
  let epoch = Math.floor(eventId / PROPORTION_DENOMINATOR);
  let offset = eventId % PROPORTION_DENOMINATOR;
  if (offset < PERSON_PROPORTION) {
    epoch--;
    offset = AUCTION_PROPORTION - 1;
  } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) offset = AUCTION_PROPORTION - 1;
  else offset -= PERSON_PROPORTION;
  return epoch * AUCTION_PROPORTION + offset;
}

/** One of the active people, or a few ahead of the latest. */
function randomBase0PersonId(c: GeneratorConfig, eventId: number, r: EventRandom): number {
  const people = lastBase0PersonId(eventId) + 1;
  const active = Math.min(people, c.numActivePeople);
  return people - active + r.nextInt(active + ID_LEAD);
}

/** One of the auctions likely still open, or a few ahead of the latest. */
function randomBase0AuctionId(c: GeneratorConfig, eventId: number, r: EventRandom): number {
  const max = lastBase0AuctionId(eventId);
  const min = Math.max(max - c.numInFlightAuctions, 0);
  return min + r.nextInt(max - min + 1 + ID_LEAD);
}

// ---------------------------------------------------------------------------
// Values.

const STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'];
const HOT_URLS = HOT_CHANNELS.map((_, i) => `https://www.nexmark.com/item/hot${i}/item.htm?query=1`);
const CHANNELS = 10_000;
const A = 'a'.charCodeAt(0);

const pick = <T>(r: EventRandom, xs: readonly T[]): T => xs[r.nextInt(xs.length)]!;

/** 100 · 10^(6u) cents, rounded: log-uniform from $1 to $1 M. */
export const nextPrice = (r: EventRandom): number => Math.round(Math.pow(10, r.nextDouble() * 6) * 100);

/** Lower-case letters with a space for one in 13, 3 to `maxLength` − 1 characters before trimming. */
function nextString(r: EventRandom, maxLength: number): string {
  let n = 3 + r.nextInt(maxLength - 3);
  let s = '';
  while (n-- > 0) s += r.nextInt(13) === 0 ? ' ' : String.fromCharCode(A + r.nextInt(26));
  return s.trim();
}

/** Exactly `length` lower-case letters, six from each 32 random bits. */
function nextExactString(r: EventRandom, length: number): string {
  const codes: number[] = new Array<number>(length);
  let bits = 0;
  let left = 0;
  for (let i = 0; i < length; i++) {
    if (left === 0) {
      bits = r.nextUint32();
      left = 6;
    }
    codes[i] = A + (bits % 26);
    bits = Math.floor(bits / 26);
    left--;
  }
  return String.fromCharCode(...codes);
}

/** Padding that brings an event of `currentSize` bytes to `averageSize` on average (± 20 %). */
function nextExtra(r: EventRandom, currentSize: number, averageSize: number): string {
  if (currentSize > averageSize) return '';
  const want = averageSize - currentSize;
  const delta = Math.round(want * 0.2);
  return nextExactString(r, want - delta + (delta === 0 ? 0 : r.nextInt(2 * delta)));
}

function nextCreditCard(r: EventRandom): string {
  const groups: string[] = [];
  for (let i = 0; i < 4; i++) groups.push(String(r.nextInt(10_000)).padStart(4, '0'));
  return groups.join(' ');
}

function nextPerson(c: GeneratorConfig, eventId: number, r: EventRandom, dateTime: number): Person {
  const id = lastBase0PersonId(eventId) + FIRST_PERSON_ID;
  const name = `${pick(r, FIRST_NAMES)} ${pick(r, LAST_NAMES)}`;
  const emailAddress = `${nextString(r, 7)}@${nextString(r, 5)}.com`;
  const creditCard = nextCreditCard(r);
  const city = pick(r, CITIES);
  const state = pick(r, STATES);
  const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
  return { id, name, emailAddress, creditCard, city, state, dateTime, extra: nextExtra(r, size, c.avgPersonByteSize) };
}

/** Uniform in [1, 2 · horizon], horizon: the event time until `numInFlightAuctions` more auctions exist. */
function nextAuctionLengthMs(c: GeneratorConfig, n: number, r: EventRandom, dateTime: number): number {
  const eventsForAuctions = Math.floor((c.numInFlightAuctions * PROPORTION_DENOMINATOR) / AUCTION_PROPORTION);
  const horizon = timestampOf(c, eventIdOf(c, n) + eventsForAuctions) - dateTime;
  return 1 + r.nextInt(Math.max(horizon * 2, 1));
}

function nextAuction(c: GeneratorConfig, n: number, eventId: number, r: EventRandom, dateTime: number): Auction {
  const id = lastBase0AuctionId(eventId) + FIRST_AUCTION_ID;
  const seller =
    (r.nextInt(c.hotSellersRatio) > 0 ? Math.floor(lastBase0PersonId(eventId) / HOT_BATCH) * HOT_BATCH : randomBase0PersonId(c, eventId, r)) + FIRST_PERSON_ID;
  const category = FIRST_CATEGORY_ID + r.nextInt(NUM_CATEGORIES);
  const initialBid = nextPrice(r);
  const expires = dateTime + nextAuctionLengthMs(c, n, r, dateTime);
  const itemName = nextString(r, 20);
  const description = nextString(r, 100);
  const reserve = initialBid + nextPrice(r);
  const size = 8 + itemName.length + description.length + 40;
  return { id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra: nextExtra(r, size, c.avgAuctionByteSize) };
}

function nextBid(c: GeneratorConfig, eventId: number, r: EventRandom, dateTime: number): Bid {
  const auction =
    (r.nextInt(c.hotAuctionRatio) > 0 ? Math.floor(lastBase0AuctionId(eventId) / HOT_BATCH) * HOT_BATCH : randomBase0AuctionId(c, eventId, r)) + FIRST_AUCTION_ID;
  // The second person of the batch, so that hot bidders and hot sellers differ.
  const bidder =
    (r.nextInt(c.hotBiddersRatio) > 0 ? Math.floor(lastBase0PersonId(eventId) / HOT_BATCH) * HOT_BATCH + 1 : randomBase0PersonId(c, eventId, r)) + FIRST_PERSON_ID;
  const price = nextPrice(r);
  let channel: string;
  let url: string;
  if (r.nextInt(2) > 0) {
    const i = r.nextInt(HOT_CHANNELS.length);
    channel = HOT_CHANNELS[i]!;
    url = HOT_URLS[i]!;
  } else {
    const k = r.nextInt(CHANNELS);
    channel = `channel-${k}`;
    url = `https://www.nexmark.com/${nextExactString(r, 5)}/${nextExactString(r, 5)}/item.htm?query=1&channel_id=${k}`;
  }
  return { auction, bidder, price, channel, url, dateTime, extra: nextExtra(r, 32, c.avgBidByteSize) };
}

/** The event of event number `n` (before delivery delays), and its event time. */
export function eventAt(c: GeneratorConfig, n: number): NexmarkEvent {
  const eventId = eventIdOf(c, n);
  const dateTime = timestampOf(c, eventId);
  const r = new EventRandom(c.seed, eventId);
  const rem = eventId % PROPORTION_DENOMINATOR;
  if (rem < PERSON_PROPORTION) return { person: nextPerson(c, eventId, r, dateTime) };
  if (rem < PERSON_PROPORTION + AUCTION_PROPORTION) return { auction: nextAuction(c, n, eventId, r, dateTime) };
  return { bid: nextBid(c, eventId, r, dateTime) };
}

/** How long (ms of event time) event `n` is held back: 0 for most, 1 ms to `occasionalDelaySec` s for a fraction `probDelayedEvent`. */
export function deliveryDelayOf(c: GeneratorConfig, n: number): number {
  if (c.probDelayedEvent <= 0 || c.occasionalDelaySec <= 0) return 0;
  const r = new EventRandom(c.seed, eventIdOf(c, n), 1);
  if (r.nextDouble() >= c.probDelayedEvent) return 0;
  return 1 + r.nextInt(Math.round(c.occasionalDelaySec * 1000));
}
