/**
 * The source notes' diagram, run for real: independent services that
 * coordinate event time through watermarks written into the streams.
 *
 *   A0 ─(X,1) (Z,2) W(2)──▶ a/0 ─▶ B0 ─┬─ W(2) ──────────▶ b/0 ─▶ C0
 *                                      └─ (Z,2) W(2) ───▶ b/1 ─▶ C1
 *   A1 ─(Y,11) (B,22) W(22)▶ a/1 ─▶ B1 ─┬─ W(22) ────────▶ b/0
 *                                      └─ (B,22) W(22) ─▶ b/1
 *
 * A0 and A1 are producers at the edge (StreamProducer); B runs as two
 * instances (B0, B1) and C as two (C0, C1), each a separate OS process on
 * the same embedded log. B1 runs before B0, so (Z,2) from B0 reaches C1
 * after C1 has seen (B,22) from B1. C counts readings per key in 10-unit
 * tumbling windows (grace 0, final results), twice:
 *
 * - on stream time: C1's stream time is 22 when (Z,2) arrives, so window
 *   [0,10) is closed and (Z,2) is late (to the side output);
 * - on watermarks: C1's watermark is the minimum over B's tasks, and B0 has
 *   only promised W(2), so [0,10) is held open and (Z,2) is counted. When
 *   A0 and A1 later promise W(40), B passes it on and C1's windows fire —
 *   while on stream time, with no new record, [20,30) never does.
 *
 * It prints what each C node did and every watermark each node saw, and
 * draws the event-time timeline to three-tier-timeline.html/.svg.
 *
 * Run it: `node examples/three-tier.ts [--out DIR] [--json]`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrace, renderTimelineHtml, renderTimelineSvg } from '../src/timeline/index.ts';
import type { TraceEvent } from '../src/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const nodeProgram = join(here, 'three-tier', 'node.ts');
const args = process.argv.slice(2);
const json = args.includes('--json');
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 ? args[outIndex + 1]! : mkdtempSync(join(tmpdir(), 'tidemark-three-tier-'));
mkdirSync(outDir, { recursive: true });
const dataDir = join(outDir, 'data');
const trace = join(outDir, 'trace.ndjson');
for (const old of [dataDir, trace]) if (existsSync(old)) rmSync(old, { recursive: true });

interface ServiceRun {
  readonly service: string;
  readonly instance: number;
  readonly lateRecords: number;
  readonly late: readonly string[];
  readonly streamTimes: Record<string, number>;
  readonly watermarks: Record<string, number>;
}

/** Runs one node as its own OS process. */
function run(...argv: string[]): string {
  return execFileSync(process.execPath, [nodeProgram, ...argv], { encoding: 'utf8' });
}

const runs: ServiceRun[] = [];
for (const phase of [0, 1]) {
  for (const producer of ['A0', 'A1']) run('producer', dataDir, producer, String(phase), trace);
  // B1 before B0: B0's (Z,2) lands in b/1 after B1's (B,22).
  for (const instance of [1, 0]) runs.push(JSON.parse(run('service', dataDir, 'B', String(instance), trace)) as ServiceRun);
  for (const service of ['C-stream-time', 'C-watermark']) {
    for (const instance of [0, 1]) runs.push(JSON.parse(run('service', dataDir, service, String(instance), trace)) as ServiceRun);
  }
}

const events = parseTrace(readFileSync(trace, 'utf8'), trace);
const seen = (node: string, kind: TraceEvent['kind']): number[] => events.filter((e) => e.node === node && e.kind === kind).map((e) => e.time);
const outcome = (service: string, instance: number): { late: string[]; counted: string[] } => {
  const mine = events.filter((e) => e.node === `C${instance} (${service.slice(2)})` && e.kind === 'record');
  return { late: mine.filter((e) => e.kind === 'record' && e.late).map((e) => `(${e.kind === 'record' ? e.key : ''}, ${e.time})`), counted: mine.filter((e) => e.kind === 'record' && !e.late).map((e) => `(${e.kind === 'record' ? e.key : ''}, ${e.time})`) };
};
/** The window results a C application wrote, by the instance that wrote them. */
const counts = (service: string): string[] =>
  execFileSync(process.execPath, [join(here, '..', 'src', 'cli', 'main.ts'), 'consume', '--data-dir', dataDir, '--stream', `${service}.counts`, '--data-only'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { key: { key: string; start: number; end: number }; value: number; headers: Record<string, string> })
    .map((r) => `C${r.headers['tidemark.producer']!.split('_')[1]}: ${r.key.key} [${r.key.start},${r.key.end}) = ${r.value}`)
    .sort();

const nodes = [...new Set(events.map((e) => e.node))].sort();
const report = {
  streamTime: { C0: outcome('C-stream-time', 0), C1: outcome('C-stream-time', 1), results: counts('C-stream-time') },
  watermark: { C0: outcome('C-watermark', 0), C1: outcome('C-watermark', 1), results: counts('C-watermark') },
  watermarksSeen: Object.fromEntries(nodes.map((n) => [n, { received: seen(n, 'watermark-record'), watermark: seen(n, 'watermark') }])),
  runs,
};
writeFileSync(join(outDir, 'three-tier-timeline.svg'), renderTimelineSvg(events, { title: 'three tiers: A → B → C, stream time vs watermarks' }));
writeFileSync(join(outDir, 'three-tier-timeline.html'), renderTimelineHtml(events, { title: 'three tiers: A → B → C, stream time vs watermarks' }));

if (json) console.log(JSON.stringify(report));
else {
  const fmt = (ts: readonly number[]): string => (ts.length === 0 ? '—' : ts.map((t) => (t === Number.MAX_SAFE_INTEGER ? '∞' : t <= Number.MIN_SAFE_INTEGER ? 'none' : String(t))).join(' → '));
  for (const [clock, r] of [['stream time', report.streamTime], ['watermarks', report.watermark]] as const) {
    for (const c of ['C0', 'C1'] as const) console.log(`${c} on ${clock.padEnd(12)} late ${r[c].late.join(' ') || 'none'} · on time ${r[c].counted.join(' ') || 'none'}`);
  }
  console.log('\nwindow results, stream time:', report.streamTime.results.join(' · ') || 'none');
  console.log('window results, watermarks: ', report.watermark.results.join(' · ') || 'none');
  console.log('\nwatermarks each node saw (watermark records received | its own watermark):');
  for (const n of nodes) console.log(`  ${n.padEnd(22)} ${fmt(report.watermarksSeen[n]!.received).padEnd(28)} | ${fmt(report.watermarksSeen[n]!.watermark)}`);
  console.log(`\ntimeline: ${join(outDir, 'three-tier-timeline.html')} (and .svg)`);
}
if (outIndex < 0) rmSync(outDir, { recursive: true });
