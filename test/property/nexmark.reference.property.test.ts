/**
 * The Nexmark bench's ground truth (bench/nexmark/QUERIES.md): the generator
 * is reproducible byte for byte and has Beam's proportions and
 * distributions, and for small data sets of two seeds every query's rows —
 * tidemark's topologies in memory, and the hand-written loops — equal the
 * batch reference's, so the benchmark never measures a wrong answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig, eventAt, FIRST_AUCTION_ID, FIRST_PERSON_ID, lastBase0AuctionId, lastBase0PersonId } from '../../bench/nexmark/generator.ts';
import { generateData, parseEvents } from '../../bench/nexmark/events.ts';
import { dateTimeOf, type Bid } from '../../bench/nexmark/model.ts';
import { reference, type QueryName } from '../../bench/nexmark/reference.ts';
import { compareLines } from '../../bench/nexmark/compare.ts';
import { TIDEMARK_QUERIES } from '../../bench/nexmark/queries/index.ts';
import { LOOPS } from '../../bench/nexmark/loops.ts';
import { dateTimesOf, inputBatches, memoryInput, outputRows, runQuery } from '../../bench/nexmark/tidemark-run.ts';

test('the generator gives the same events, byte for byte, for the same seed, and others for another seed', () => {
  const a = generateData(20_000, 3);
  const b = generateData(20_000, 3);
  assert.deepEqual(a.lines, b.lines);
  assert.deepEqual(a.meta, b.meta);
  const c = generateData(20_000, 4);
  assert.notDeepEqual(c.lines, a.lines);
  // Seeded per event: an event made alone equals the same event made in the run.
  const config = defaultConfig(20_000, 3, { probDelayedEvent: 0 });
  const inOrder = generateData(20_000, 3, { probDelayedEvent: 0 }).lines;
  for (const n of [19_999, 7, 12_345, 0]) assert.equal(JSON.stringify(eventAt(config, n)), inOrder[n]);
});

test('the events have the proportions 1:3:46 by event id, dense ids from 1000 and Beam\'s distributions', () => {
  const c = defaultConfig(50_000, 11);
  const kinds = { person: 0, auction: 0, bid: 0 };
  let persons = 0;
  let auctions = 0;
  const bids: Bid[] = [];
  const categories = new Set<number>();
  let hotSellers = 0;
  for (let n = 0; n < c.events; n++) {
    const e = eventAt(c, n);
    const kind = 'person' in e ? 'person' : 'auction' in e ? 'auction' : 'bid';
    kinds[kind]++;
    // Within every 50 ids: one person first, then three auctions, then 46 bids.
    const rem = n % 50;
    assert.equal(kind, rem === 0 ? 'person' : rem < 4 ? 'auction' : 'bid', `event ${n}`);
    if ('person' in e) assert.equal(e.person.id, FIRST_PERSON_ID + persons++);
    if ('auction' in e) {
      assert.equal(e.auction.id, FIRST_AUCTION_ID + auctions++);
      assert.ok(e.auction.reserve >= e.auction.initialBid && e.auction.expires > e.auction.dateTime);
      categories.add(e.auction.category);
      if (e.auction.seller === FIRST_PERSON_ID + Math.floor(lastBase0PersonId(n) / 100) * 100) hotSellers++;
    }
    if ('bid' in e) bids.push(e.bid);
  }
  assert.deepEqual(kinds, { person: 1000, auction: 3000, bid: 46_000 });
  assert.deepEqual([...categories].sort(), [10, 11, 12, 13, 14]);
  const share = (k: number, n: number): number => k / n;
  // Hot sellers 1 − 1/4 of auctions (plus the few random picks that hit one), hot auctions 1 − 1/2 of bids, hot bidders 1 − 1/4.
  assert.ok(Math.abs(share(hotSellers, 3000) - 0.75) < 0.04, `hot sellers ${share(hotSellers, 3000)}`);
  let hotAuction = 0;
  let hotBidder = 0;
  let logSum = 0;
  const ids = bids.map((_, i) => i);
  for (const i of ids) {
    const b = bids[i]!;
    if ((b.auction - FIRST_AUCTION_ID) % 100 === 0) hotAuction++;
    if ((b.bidder - FIRST_PERSON_ID) % 100 === 1) hotBidder++;
    assert.ok(b.price >= 100 && b.price <= 100_000_000, `price ${b.price}`);
    logSum += Math.log10(b.price / 100);
  }
  assert.ok(Math.abs(share(hotAuction, bids.length) - 0.5) < 0.03, `hot auctions ${share(hotAuction, bids.length)}`);
  assert.ok(Math.abs(share(hotBidder, bids.length) - 0.75) < 0.03, `hot bidders ${share(hotBidder, bids.length)}`);
  // Prices are 100 · 10^(6u): log10(price / 100) is uniform on [0, 6), mean 3.
  assert.ok(Math.abs(logSum / bids.length - 3) < 0.05, `mean log price ${logSum / bids.length}`);
  // A bid names an auction at most 10 ahead of the latest one made.
  assert.ok(bids.every((b, i) => b.auction - FIRST_AUCTION_ID <= lastBase0AuctionId(50 * Math.floor(i / 46) + 49) + 10));
});

test('delivery holds back about 10 % of the events by up to 3 s, and the meta measures the delay', () => {
  const data = generateData(30_000, 5);
  const times = parseEvents(data.lines).map(dateTimeOf);
  let maxSeen = -Infinity;
  let behind = 0;
  let maxDelay = 0;
  for (const t of times) {
    if (t < maxSeen) {
      behind++;
      maxDelay = Math.max(maxDelay, maxSeen - t);
    }
    maxSeen = Math.max(maxSeen, t);
  }
  assert.equal(data.meta.maxDelayMs, maxDelay);
  assert.ok(maxDelay > 2_000 && maxDelay <= 3_000, `max delay ${maxDelay}`);
  assert.ok(behind / times.length > 0.05 && behind / times.length < 0.15, `out of order ${behind / times.length}`);
  assert.equal(data.meta.firstDateTime, Math.min(...times));
  assert.equal(data.meta.lastDateTime, Math.max(...times));
  // 10 000 events/s of event time by default.
  assert.equal(data.meta.lastDateTime - data.meta.firstDateTime, 2_999);
});

for (const seed of [1, 2]) {
  test(`every query equals the reference (tidemark in memory and the hand-written loops), seed ${seed}`, async () => {
    // 200 events/s: 4 000 events span 20 s of event time, several windows of every query.
    const data = generateData(4_000, seed, { firstEventRate: 200 });
    const events = parseEvents(data.lines);
    const batches = inputBatches(data, dateTimesOf(data.lines));
    for (const [name, q] of Object.entries(TIDEMARK_QUERIES)) {
      const query = name as QueryName;
      const expected = reference(query, events);
      assert.ok(expected.length > 0, `${query}: the reference has no rows, the comparison would prove nothing`);
      const log = memoryInput(batches);
      await runQuery(query, q!, data.meta.maxDelayMs, log);
      const got = compareLines(query, outputRows(query, log, data.meta.lastDateTime), expected);
      assert.ok(got.equal, `tidemark ${got.difference}`);
      const loop = LOOPS[query];
      assert.ok(loop !== undefined, `${query}: no loop`);
      const looped = compareLines(query, loop(data.lines, data.meta.maxDelayMs).sort(), expected);
      assert.ok(looped.equal, `loop ${looped.difference}`);
    }
  });
}
