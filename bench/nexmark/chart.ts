/**
 * The Nexmark bench's chart: per query a bar per system (the hand-written
 * loop, tidemark in memory, and whatever peers the results hold: any number
 * of systems per query), on a logarithmic axis of events per second, each
 * bar labelled with its rate and its share of the loop's. Hand-written SVG.
 *
 *   node bench/nexmark/chart.ts [--json RESULTS.json] [--peers PEERS.json] [--metric wall|cpu] [--out CHART.svg]
 *   node bench/nexmark/chart.ts --markdown [--json RESULTS.json] [--latency LATENCY.json]
 *
 * Defaults: bench/results/nexmark-latest.json; the newest
 * bench/results/peers/peers-*.json when it ran on the same events; both
 * metrics, written next to the JSON as `<json>.svg` (events/s of wall clock)
 * and `<json>.cpu.svg` (events per CPU-second). `--markdown` prints the
 * figures as the README's table instead (with the latency run's, default
 * bench/results/nexmark-latency-latest.json).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One bar: a system's rate on a query. */
export interface Bar {
  readonly query: string;
  readonly system: string;
  /** Events per second (of wall clock or of CPU, as the chart says). */
  readonly value: number;
  /** Whether its rows equal the reference's (a bar that does not is drawn hatched and says so). */
  readonly verified: boolean;
}

/** Which rate: over the wall clock, or per CPU-second of the process (all its threads). */
export type Metric = 'wall' | 'cpu';

/** What the chart says above the bars. */
export interface ChartText {
  readonly title: string;
  readonly subtitle: string;
  readonly metric: Metric;
}

/** The systems' names as the chart shows them, and their colours; others get the spare colours in turn. */
const KNOWN: Record<string, { label: string; colour: string }> = {
  loop: { label: 'hand-written loop', colour: '#9aa5b1' },
  tidemark: { label: 'tidemark in memory', colour: '#1f6feb' },
  flink: { label: 'Flink mini cluster', colour: '#e8743b' },
  'ks-eos': { label: 'Kafka Streams, exactly-once', colour: '#2ca58d' },
  'ks-alos': { label: 'Kafka Streams, at-least-once', colour: '#8fd694' },
};
const SPARE = ['#b65fcf', '#d4a72c', '#cf222e', '#6e7781'];
const FONT = "font-family=\"'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif\"";

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A rate in the chart's words: 880 /s, 88 k/s, 1.2 M/s. */
export function rateLabel(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(v >= 1e7 ? 0 : 1)} M/s`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(v >= 1e5 ? 0 : v >= 1e4 ? 0 : 1)} k/s`;
  return `${Math.round(v)} /s`;
}

/** The systems in the order they are drawn: the loop, tidemark, then the others as they first appear. */
function systemsOf(bars: readonly Bar[]): string[] {
  const seen = [...new Set(bars.map((b) => b.system))];
  const first = ['loop', 'tidemark'].filter((s) => seen.includes(s));
  return [...first, ...seen.filter((s) => !first.includes(s))];
}

function styleOf(system: string, index: number): { label: string; colour: string } {
  return KNOWN[system] ?? { label: system, colour: SPARE[index % SPARE.length]! };
}

/** The SVG chart of `bars`: a group per query (in their first order), a bar per system that ran it. */
export function chartSvg(bars: readonly Bar[], text: ChartText): string {
  if (bars.length === 0) throw new Error('nexmark chart: no results to draw');
  const systems = systemsOf(bars);
  const queries = [...new Set(bars.map((b) => b.query))];
  const barH = 15;
  const groupGap = 12;
  const left = 150;
  const labelRoom = 250;
  const width = 980;
  const plotW = width - left - labelRoom;
  const legendRows = Math.ceil(systems.length / 3);
  const top = 66 + legendRows * 20;
  const groupH = (q: string): number => bars.filter((b) => b.query === q).length * barH + groupGap;
  const plotH = queries.reduce((h, q) => h + groupH(q), 0);
  const height = top + plotH + 46;

  const values = bars.map((b) => b.value).filter((v) => v > 0);
  const lo = niceBelow(Math.min(...values) * 0.6); // room for the shortest bar to show
  const hi = niceAbove(Math.max(...values));
  const x = (v: number): number => left + (plotW * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`);
  out.push(`<defs><pattern id="unverified" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><rect width="3" height="6" fill="#cf222e" opacity="0.5"/></pattern></defs>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left - 136}" y="26" font-size="17" font-weight="bold" fill="#1f2328">${esc(text.title)}</text>`);
  out.push(`<text x="${left - 136}" y="46" fill="#57606a">${esc(text.subtitle)}</text>`);
  systems.forEach((s, i) => {
    const st = styleOf(s, i);
    const lx = left - 136 + (i % 3) * 260;
    const ly = 64 + Math.floor(i / 3) * 20;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="14" height="12" rx="2" fill="${st.colour}"/><text x="${lx + 20}" y="${ly}" fill="#1f2328">${esc(st.label)}</text>`);
  });

  // A line at every 1, 2 and 5 of a decade between the ends, the decades darker.
  for (const v of ticks(lo, hi)) {
    const decade = Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9;
    const gx = x(v).toFixed(1);
    out.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${top + plotH}" stroke="${decade ? '#c4ccd4' : '#e6eaee'}"/>`);
    out.push(`<text x="${gx}" y="${top + plotH + 16}" text-anchor="middle" fill="${decade ? '#1f2328' : '#8c959f'}" font-size="${decade ? 12 : 10}">${rateLabel(v)}</text>`);
  }
  const axis = text.metric === 'cpu' ? 'events per CPU-second of the process (log scale)' : 'events per second of wall clock (log scale)';
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle" fill="#57606a">${axis}</text>`);

  let y = top;
  for (const [qi, q] of queries.entries()) {
    const h = groupH(q);
    if (qi % 2 === 1) out.push(`<rect x="0" y="${y - groupGap / 2}" width="${width}" height="${h}" fill="#f6f8fa" opacity="0.7"/>`);
    const ofQuery = systems.flatMap((s) => bars.filter((b) => b.query === q && b.system === s));
    const mid = y + (ofQuery.length * barH) / 2;
    out.push(`<text x="${left - 12}" y="${mid - 1}" text-anchor="end" font-weight="bold" fill="#1f2328">${esc(q)}</text>`);
    out.push(`<text x="${left - 12}" y="${mid + 11}" text-anchor="end" font-size="10" fill="#57606a">${esc(QUERY_NAMES[q] ?? '')}</text>`);
    const loop = ofQuery.find((b) => b.system === 'loop');
    for (const b of ofQuery) {
      const st = styleOf(b.system, systems.indexOf(b.system));
      const w = Math.max(1, x(b.value) - left);
      out.push(`<rect x="${left}" y="${y + 1}" width="${w.toFixed(1)}" height="${barH - 3}" rx="2" fill="${b.verified ? st.colour : 'url(#unverified)'}" stroke="${b.verified ? 'none' : st.colour}"/>`);
      const share = loop !== undefined && b !== loop ? ` · ${sharePct(b.value / loop.value)} of the loop` : '';
      const warn = b.verified ? '' : ' · rows differ from the reference';
      out.push(`<text x="${(left + w + 6).toFixed(1)}" y="${y + barH - 3}" fill="#1f2328" font-size="11">${rateLabel(b.value)}<tspan fill="#57606a">${esc(share)}${esc(warn)}</tspan></text>`);
      y += barH;
    }
    y += groupGap;
  }
  out.push(`<line x1="${left}" y1="${top - 6}" x2="${left}" y2="${top + plotH}" stroke="#57606a"/>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The queries' names, under their numbers. */
const QUERY_NAMES: Record<string, string> = {
  q0: 'pass-through',
  q1: 'currency conversion',
  q2: 'selection',
  q3: 'local items (join)',
  q4: 'avg price / category',
  q5: 'hot items (hopping)',
  q6: 'avg price / seller',
  q7: 'highest bid (tumbling)',
  q8: 'new users (window join)',
  q11: 'user sessions',
  q12: 'bids per bidder',
};

const STEPS = [1, 2, 5];

/** The largest 1, 2 or 5 times a power of ten at or below `v`. */
function niceBelow(v: number): number {
  const d = 10 ** Math.floor(Math.log10(v));
  return d * [...STEPS].reverse().find((m) => d * m <= v * (1 + 1e-9))!;
}

/** The smallest 1, 2 or 5 times a power of ten at or above `v`. */
function niceAbove(v: number): number {
  const d = 10 ** Math.floor(Math.log10(v));
  const m = STEPS.find((s) => d * s >= v * (1 - 1e-9));
  return m === undefined ? d * 10 : d * m;
}

/** Every 1, 2 and 5 times a power of ten from `lo` to `hi`. */
function ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let d = 10 ** Math.floor(Math.log10(lo)); d <= hi; d *= 10) for (const m of STEPS) if (d * m >= lo * (1 - 1e-9) && d * m <= hi * (1 + 1e-9)) out.push(d * m);
  return out;
}

const sharePct = (r: number): string => (r >= 0.095 ? `${Math.round(r * 100)} %` : `${(r * 100).toFixed(1)} %`);

// ---------------------------------------------------------------------------
// From the bench's JSON.

interface NexmarkJson {
  readonly date: string;
  readonly node: string;
  readonly cpu?: string;
  readonly cores: number;
  /** The machine's load average at the bench's start and end. */
  readonly load?: readonly number[];
  readonly meta: { events: number; seed: number; firstEventRate: number; maxDelayMs: number };
  readonly results: readonly { query: string; system: string; events: number; seconds: number; cpuSeconds: number; verified: boolean }[];
}

interface PeersJson {
  readonly meta: { events: number; seed: number; firstEventRate: number };
  readonly rows: readonly { query: string; peer: string; events: number; eventsPerS: number; cpuS?: number; verdict: { equal: boolean } }[];
}

/** The bars of the bench's results, and of a peers run's (bench/peers/) when given. */
export function barsOf(bench: NexmarkJson, peers: PeersJson | undefined, metric: Metric): Bar[] {
  const bars: Bar[] = bench.results.map((r) => ({ query: r.query, system: r.system, value: r.events / (metric === 'cpu' ? r.cpuSeconds : r.seconds), verified: r.verified }));
  for (const r of peers?.rows ?? []) {
    const value = metric === 'cpu' ? (r.cpuS === undefined ? undefined : r.events / r.cpuS) : r.eventsPerS;
    if (value !== undefined && Number.isFinite(value)) bars.push({ query: r.query, system: r.peer, value, verified: r.verdict.equal });
  }
  // Queries in the bench's order, then any only a peer ran.
  const order = [...new Set(bars.map((b) => b.query))];
  return bars.sort((a, b) => order.indexOf(a.query) - order.indexOf(b.query));
}

/** The chart's title and subtitle for a bench's results. */
export function textOf(bench: NexmarkJson, metric: Metric): ChartText {
  const m = bench.meta;
  return {
    title: `Nexmark on tidemark, ${metric === 'cpu' ? 'events per CPU-second' : 'events per second'}`,
    subtitle: `${bench.date.slice(0, 10)} · ${m.events.toLocaleString('en-US')} events, seed ${m.seed}, ${m.firstEventRate.toLocaleString('en-US')}/s of event time, grace ${m.maxDelayMs} ms · ` +
      `Node ${bench.node.replace(/^v/, '')}, ${bench.cores} × ${bench.cpu ?? 'cpu'}${bench.load === undefined ? '' : `, load ${bench.load.map((l) => l.toFixed(0)).join('–')}`}`,
    metric,
  };
}

/** The newest peers run's JSON in `dir` that ran on the same events as `bench`, if any. */
export function matchingPeers(dir: string, bench: NexmarkJson): PeersJson | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => /^peers-.*\.json$/.test(f)).sort().reverse();
  for (const f of files) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as PeersJson;
    if (p.meta.events === bench.meta.events && p.meta.seed === bench.meta.seed && p.meta.firstEventRate === bench.meta.firstEventRate) return p;
  }
  return undefined;
}

/** Reads a bench results file (and the matching peers run unless `peersFile` names one); returns the SVG of `metric`. */
export function chartOfFile(jsonFile: string, metric: Metric, peersFile?: string): string {
  const bench = JSON.parse(readFileSync(jsonFile, 'utf8')) as NexmarkJson;
  const peers = peersFile !== undefined ? (JSON.parse(readFileSync(peersFile, 'utf8')) as PeersJson) : matchingPeers(join(resolve(jsonFile, '..'), 'peers'), bench);
  return chartSvg(barsOf(bench, peers, metric), textOf(bench, metric));
}

/** Writes both charts next to `jsonFile` (`.svg`: events/s; `.cpu.svg`: per CPU-second); returns their paths. */
export function writeCharts(jsonFile: string, peersFile?: string): string[] {
  const base = jsonFile.replace(/\.json$/, '');
  return (['wall', 'cpu'] as const).map((metric) => {
    const out = `${base}${metric === 'cpu' ? '.cpu' : ''}.svg`;
    writeFileSync(out, chartOfFile(jsonFile, metric, peersFile));
    return out;
  });
}

interface LatencyJson {
  readonly results: readonly { query: string; p50Ms: number; p99Ms: number; closes: number; results: number }[];
}

/**
 * The figures as a Markdown table: per query the events per CPU-second of
 * every system (the loop first), tidemark's share of the loop's, its events
 * per second of wall clock, and its event-time latency when `latency` has it.
 */
export function markdownTable(bench: NexmarkJson, peers: PeersJson | undefined, latency: LatencyJson | undefined): string {
  const cpu = barsOf(bench, peers, 'cpu');
  const wall = barsOf(bench, peers, 'wall');
  const systems = systemsOf(cpu);
  const k = (v: number | undefined): string => (v === undefined ? '–' : rateLabel(v).replace(/\/s$/, '').trim());
  const head = ['query', ...systems.map((s) => `${styleOf(s, systems.indexOf(s)).label}, events per CPU-s`), 'tidemark / loop', 'tidemark, events/s', 'latency p50 / p99 (windows)'];
  const lines = [`| ${head.join(' | ')} |`, `| --- | ${head.slice(1).map(() => '---:').join(' | ')} |`];
  for (const q of [...new Set(cpu.map((b) => b.query))]) {
    const at = (bars: readonly Bar[], s: string): Bar | undefined => bars.find((b) => b.query === q && b.system === s);
    const loop = at(cpu, 'loop');
    const tm = at(cpu, 'tidemark');
    const l = latency?.results.find((r) => r.query === q);
    lines.push(
      `| ${q} | ${[
        ...systems.map((s) => `${k(at(cpu, s)?.value)}${at(cpu, s)?.verified === false ? ' (rows differ)' : ''}`),
        loop !== undefined && tm !== undefined ? sharePct(tm.value / loop.value) : '–',
        k(at(wall, 'tidemark')?.value),
        l === undefined || l.results === 0 ? '–' : `${fmtMs(l.p50Ms)} / ${fmtMs(l.p99Ms)} (${l.closes})`,
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n') + '\n';
}

const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

if (import.meta.main) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const json = resolve(arg('json') ?? fileURLToPath(new URL('../results/nexmark-latest.json', import.meta.url)));
  if (!existsSync(json)) throw new Error(`nexmark chart: ${json} does not exist (run node bench/nexmark/run.ts first)`);
  const metric = arg('metric');
  if (metric !== undefined && metric !== 'wall' && metric !== 'cpu') throw new Error(`nexmark chart: --metric must be wall or cpu, got ${metric}`);
  const out = arg('out');
  if (process.argv.includes('--markdown')) {
    const bench = JSON.parse(readFileSync(json, 'utf8')) as NexmarkJson;
    const peersFile = arg('peers');
    const peers = peersFile !== undefined ? (JSON.parse(readFileSync(peersFile, 'utf8')) as PeersJson) : matchingPeers(join(resolve(json, '..'), 'peers'), bench);
    const latencyFile = resolve(arg('latency') ?? join(resolve(json, '..'), 'nexmark-latency-latest.json'));
    const latency = existsSync(latencyFile) ? (JSON.parse(readFileSync(latencyFile, 'utf8')) as LatencyJson) : undefined;
    process.stdout.write(markdownTable(bench, peers, latency));
  } else if (out !== undefined) {
    writeFileSync(out, chartOfFile(json, (metric ?? 'wall') as Metric, arg('peers')));
    console.log(`chart: ${out}`);
  } else for (const f of writeCharts(json, arg('peers'))) console.log(`chart: ${f}`);
}
