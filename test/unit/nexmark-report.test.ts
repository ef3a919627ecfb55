/**
 * The Nexmark bench's report (bench/nexmark/): its chart draws a bar for
 * every system a results file holds, peers included, longer for a faster
 * one on its log axis; and its latency measure, on a small real-time run,
 * accounts for every result row of the reference and measures only
 * non-negative latencies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barsOf, chartSvg, rateLabel, textOf } from '../../bench/nexmark/chart.ts';
import { measureLatency, percentile } from '../../bench/nexmark/latency.ts';
import { generateData, parseEvents } from '../../bench/nexmark/events.ts';
import { reference } from '../../bench/nexmark/reference.ts';

const bench = {
  date: '2026-12-04T00:00:00.000Z',
  node: 'v24.0.0',
  cpu: 'Test CPU',
  cores: 2,
  meta: { events: 1000, seed: 1, firstEventRate: 1000, maxDelayMs: 10 },
  results: [
    { query: 'q5', system: 'loop', events: 1000, seconds: 0.001, cpuSeconds: 0.002, verified: true },
    { query: 'q5', system: 'tidemark', events: 1000, seconds: 0.1, cpuSeconds: 0.05, verified: true },
    { query: 'q7', system: 'loop', events: 1000, seconds: 0.002, cpuSeconds: 0.002, verified: true },
    { query: 'q7', system: 'tidemark', events: 1000, seconds: 0.04, cpuSeconds: 0.04, verified: true },
  ],
};
const peers = {
  meta: bench.meta,
  rows: [
    { query: 'q5', peer: 'flink', events: 1000, eventsPerS: 50_000, cpuS: 0.1, verdict: { equal: true } },
    { query: 'q5', peer: 'ks-eos', events: 1000, eventsPerS: 5_000, cpuS: 0.5, verdict: { equal: false } },
    { query: 'q12', peer: 'some-new-peer', events: 1000, eventsPerS: 2_000, verdict: { equal: true } },
  ],
};

/** The bars of the chart: their widths in drawing order, and the fills. */
function barsDrawn(svg: string): { width: number; fill: string }[] {
  return [...svg.matchAll(/<rect x="150" y="[\d.]+" width="([\d.]+)" height="12" rx="2" fill="([^"]+)"/g)].map((m) => ({ width: Number(m[1]), fill: m[2]! }));
}

test('the chart draws a bar per system and query, peers and unknown systems included, wider for a faster one', () => {
  const bars = barsOf(bench, peers, 'wall');
  assert.deepEqual(bars.map((b) => `${b.query}/${b.system}`), ['q5/loop', 'q5/tidemark', 'q5/flink', 'q5/ks-eos', 'q7/loop', 'q7/tidemark', 'q12/some-new-peer']);
  const svg = chartSvg(bars, textOf(bench, 'wall'));
  const drawn = barsDrawn(svg);
  assert.equal(drawn.length, bars.length);
  // q5: loop 1 M/s > flink 50 k/s > tidemark 10 k/s > Kafka Streams 5 k/s.
  const [loop, tidemark, flink, ks] = drawn;
  assert.ok(loop!.width > flink!.width && flink!.width > tidemark!.width && tidemark!.width > ks!.width);
  assert.equal(ks!.fill, 'url(#unverified)');
  assert.match(svg, /rows differ from the reference/);
  for (const label of ['hand-written loop', 'tidemark in memory', 'Flink mini cluster', 'Kafka Streams, exactly-once', 'some-new-peer']) assert.ok(svg.includes(`>${label}</text>`), label);
  assert.match(svg, /10 k\/s<tspan[^>]*> · 1\.0 % of the loop/);
  // Per CPU-second, a peer run without its CPU has no bar.
  assert.equal(barsOf(bench, peers, 'cpu').length, bars.length - 1);
  assert.equal(rateLabel(1_234_567), '1.2 M/s');
  assert.equal(rateLabel(88_123), '88 k/s');
});

test('percentiles are nearest-rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('a real-time latency run accounts for every result row of the reference, at latencies of zero or more', async () => {
  // 4 000 events of 200/s of event time (20 s: the first window closes on the data), fed at 20 000/s.
  const data = generateData(4_000, 5, { firstEventRate: 200 });
  const r = await measureLatency('q12', data, { rate: 20_000, commitIntervalMs: 20 });
  assert.equal(r.verified, true);
  assert.equal(r.results + r.closedAtEnd, reference('q12', parseEvents(data.lines)).length);
  assert.ok(r.results > 0 && r.closes > 0, 'some windows close on the data');
  assert.ok(r.p50Ms >= 0 && r.p99Ms >= r.p50Ms && r.maxMs >= r.p99Ms);
});
