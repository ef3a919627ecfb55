import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';
import type { CommandIo } from '../../src/cli/io.ts';
import { parseTrace, renderTimelineHtml, renderTimelineSvg, TraceError, type TraceEvent } from '../../src/timeline/index.ts';
import { axisBreaks } from '../../src/timeline/timeline-scale.ts';
import { cli } from '../fixtures/cli.ts';

const NONE = Number.MIN_SAFE_INTEGER;
const END = Number.MAX_SAFE_INTEGER;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tidemark-timeline-test-'));
  dirs.push(d);
  return d;
}

/** An io that keeps what a command prints, for calling `main` in-process. */
function capturingIo(): { io: CommandIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, out: (l) => void out.push(l), err: (l) => void err.push(l) };
  return { io, out, err };
}

const ndjson = (events: readonly object[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

/**
 * The three-tier scenario, cut short: producers A0 and A1, tasks B0 and B1
 * forwarding, C0 and C1 windowing on the watermark records of B/0_0 and
 * B/0_1; C1 gets (Z,2) after its watermark reached 20, and drops it as late.
 */
const PRODUCERS: TraceEvent[] = [
  { node: 'A0', seq: 0, kind: 'record', time: 1, key: 'X' },
  { node: 'A0', seq: 1, kind: 'record', time: 22, key: 'Z' },
  { node: 'A0', seq: 2, kind: 'watermark-record', time: 21, producer: 'A0' },
  { node: 'A1', seq: 0, kind: 'record', time: 21, key: 'Z' },
  { node: 'A1', seq: 1, kind: 'watermark-record', time: 20, producer: 'A1' },
  { node: 'A1', seq: 2, kind: 'record', time: 2, key: 'Z' },
];
const TASKS: TraceEvent[] = [
  { node: 'B0', seq: 0, kind: 'record', time: 1, key: 'X' },
  { node: 'B0', seq: 0, kind: 'stream-time', time: 1 },
  { node: 'B0', seq: 0, kind: 'watermark', time: NONE },
  { node: 'B0', seq: 1, kind: 'record', time: 22, key: 'Z' },
  { node: 'B0', seq: 1, kind: 'stream-time', time: 22 },
  { node: 'B0', seq: 2, kind: 'watermark-record', time: 21, producer: 'A0' },
  { node: 'B0', seq: 2, kind: 'watermark', time: 21 },
  { node: 'B1', seq: 0, kind: 'record', time: 21, key: 'Z' },
  { node: 'B1', seq: 0, kind: 'stream-time', time: 21 },
  { node: 'B1', seq: 1, kind: 'watermark-record', time: 20, producer: 'A1' },
  { node: 'B1', seq: 1, kind: 'watermark', time: 20 },
  { node: 'B1', seq: 2, kind: 'record', time: 2, key: 'Z' },
  { node: 'C0', seq: 0, kind: 'record', time: 1, key: 'X', stream: 'b', partition: 0, offset: 0 },
  { node: 'C0', seq: 0, kind: 'stream-time', time: 1 },
  { node: 'C0', seq: 1, kind: 'watermark-record', time: END, producer: 'B/0_0', stream: 'b', partition: 0, offset: 1 },
  { node: 'C0', seq: 2, kind: 'watermark-record', time: END, producer: 'B/0_1', stream: 'b', partition: 0, offset: 2 },
  { node: 'C0', seq: 2, kind: 'watermark', time: END },
  { node: 'C1', seq: 0, kind: 'record', time: 22, key: 'Z', stream: 'b', partition: 1, offset: 0 },
  { node: 'C1', seq: 0, kind: 'stream-time', time: 22 },
  { node: 'C1', seq: 1, kind: 'watermark-record', time: 21, producer: 'B/0_0', stream: 'b', partition: 1, offset: 1 },
  { node: 'C1', seq: 2, kind: 'watermark-record', time: 20, producer: 'B/0_1', stream: 'b', partition: 1, offset: 2 },
  { node: 'C1', seq: 2, kind: 'watermark', time: 20 },
  { node: 'C1', seq: 3, kind: 'record', time: 21, key: 'Z', stream: 'b', partition: 1, offset: 3 },
  { node: 'C1', seq: 4, kind: 'record', time: 2, key: 'Z', late: true, stream: 'b', partition: 1, offset: 4 },
];
const THREE_TIERS = [...PRODUCERS, ...TASKS];

/**
 * Asserts that `xml` is one balanced element: every tag well formed and
 * closed in order, no text outside the root, no bare `&` or `<` anywhere.
 */
function assertWellFormed(xml: string): void {
  const doc = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  assert.doesNotMatch(doc, /&(?!(?:amp|lt|gt|quot|#39);)/, 'a bare & (not an entity)');
  const stack: string[] = [];
  let roots = 0;
  let last = 0;
  for (const m of doc.matchAll(/<[^>]*>/g)) {
    const text = doc.slice(last, m.index);
    last = m.index + m[0].length;
    assert.ok(!text.includes('>'), `a bare > before ${m[0]}`);
    if (stack.length === 0) assert.equal(text.trim(), '', 'text outside the root element');
    const tag = /^<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<>]*")*)\s*(\/?)>$/.exec(m[0]);
    assert.ok(tag !== null, `malformed tag ${m[0]}`);
    const [, close, name, attrs, selfClosing] = tag;
    const names = [...attrs!.matchAll(/([\w:.-]+)="/g)].map((a) => a[1]);
    assert.equal(new Set(names).size, names.length, `a repeated attribute in ${m[0]}`);
    if (close === '/') {
      assert.equal(attrs, '', `attributes on a closing tag ${m[0]}`);
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots++;
      if (selfClosing !== '/') stack.push(name!);
    }
  }
  assert.equal(doc.slice(last).trim(), '', 'text after the root element');
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
}

/** The attributes of every `<name …>` tag with `class` starting with `cls`. */
function elements(svg: string, name: string, cls: string): Record<string, string>[] {
  const found: Record<string, string>[] = [];
  for (const m of svg.matchAll(new RegExp(`<${name}\\s[^>]*>`, 'g'))) {
    const attrs = Object.fromEntries([...m[0].matchAll(/([\w:.-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!]));
    if (attrs.class !== undefined && (attrs.class === cls || attrs.class.startsWith(`${cls} `))) found.push(attrs);
  }
  return found;
}

function recordCircles(svg: string): Record<string, string>[] {
  return elements(svg, 'circle', 'record');
}

test('parse errors name the file and the line, in one line', () => {
  const good = '{"node":"C1","seq":0,"kind":"record","time":1}';
  const cases: [string, RegExp][] = [
    [`${good}\n\n{"node":"C1","seq":1,"kind":"record","time":"2"}`, /^trace\.ndjson:3: "time" must be an integer, got "2"$/],
    [`${good}\n{"node":"C1","seq":1,"kind":"record","time":2.5}`, /^trace\.ndjson:2: "time" must be an integer/],
    [`${good}\n{"node":"C1","seq":1,"kind":"record"}`, /^trace\.ndjson:2: "time" must be an integer; it is missing$/],
    ['{"node":"C1","seq":-1,"kind":"record","time":1}', /^trace\.ndjson:1: "seq" must be a non-negative integer, got -1$/],
    ['{"seq":0,"kind":"record","time":1}', /^trace\.ndjson:1: "node" must be a non-empty string/],
    ['{"node":"C1","seq":0,"kind":"punctuation","time":1}', /^trace\.ndjson:1: "kind" must be one of record, stream-time, watermark, watermark-record, window, got "punctuation"$/],
    ['{"node":"C1","seq":0,"kind":"window","time":10,"end":10,"operator":"agg"}', /^trace\.ndjson:1: a window's "end" must be after its start \("time" 10\), got 10$/],
    ['{"node":"C1","seq":0,"kind":"window","time":0,"end":10}', /^trace\.ndjson:1: "operator" must be a non-empty string; it is missing$/],
    ['{"node":"C1","seq":0,"kind":"watermark-record","time":1}', /^trace\.ndjson:1: "producer" must be a non-empty string; it is missing$/],
    ['{"node":"C1","seq":0,"kind":"record","time":1,"late":"yes"}', /^trace\.ndjson:1: "late" must be true or false/],
    ['{"node":"C1","seq":0,"kind":"record","time":1,"key":7}', /^trace\.ndjson:1: "key" must be a string/],
    [`${good}\n${good}\n{"node": "C1",`, /^trace\.ndjson:3: not valid JSON$/],
    ['[1,2]', /^trace\.ndjson:1: not a JSON object$/],
    ['{"node":"C1","seq":0,"kind":"record","time":9007199254740992}', /^trace\.ndjson:1: "time" must be an integer/],
  ];
  for (const [text, expected] of cases) {
    assert.throws(() => parseTrace(text, 'trace.ndjson'), (e: unknown) => {
      assert.ok(e instanceof TraceError, 'a TraceError: tidemark timeline prints it as one line');
      assert.match(e.message, expected);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    }, text);
  }
});

test('parsing keeps the fields the picture uses, in a fixed order, and tolerates CRLF, nulls and extra fields', () => {
  const text = '{"time":2,"late":true,"key":"Z","kind":"record","seq":12,"node":"C1","offset":5,"partition":1,"stream":"b","extra":1}\r\n'
    + '\r\n'
    + '{"node":"C1","seq":12,"kind":"stream-time","time":22}\r\n'
    + '{"node":"C1","seq":3,"kind":"watermark-record","time":-9007199254740991,"producer":"B/0_0","stream":null}\n'
    + '{"node":"A0","seq":0,"kind":"record","time":1,"key":null}';
  const events = parseTrace(text, 't.ndjson');
  assert.deepEqual(events.map((e) => JSON.stringify(e)), [
    '{"node":"C1","seq":12,"kind":"record","time":2,"key":"Z","late":true,"stream":"b","partition":1,"offset":5}',
    '{"node":"C1","seq":12,"kind":"stream-time","time":22}',
    `{"node":"C1","seq":3,"kind":"watermark-record","time":${NONE},"producer":"B/0_0"}`,
    '{"node":"A0","seq":0,"kind":"record","time":1}',
  ]);
});

test('the SVG is one well-formed element with one lane per node, sorted by name', () => {
  const events: TraceEvent[] = [
    ...THREE_TIERS,
    { node: 'C10', seq: 0, kind: 'record', time: 5 },
    { node: 'C2', seq: 0, kind: 'record', time: 6 },
  ];
  const svg = renderTimelineSvg(events, { title: 'three tiers' });
  assert.match(svg, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
  assertWellFormed(svg);
  const lanes = elements(svg, 'g', 'lane').map((g) => g['data-node']);
  assert.deepEqual(lanes, ['A0', 'A1', 'B0', 'B1', 'C0', 'C1', 'C2', 'C10']);
  assert.equal(recordCircles(svg).length, events.filter((e) => e.kind === 'record').length);
  assert.match(svg, /<title>three tiers<\/title>/);
  // Self-contained: no link, script, image or font from elsewhere.
  assert.doesNotMatch(svg, /https?:\/\/(?!www\.w3\.org\/2000\/svg")|<script|<image|@import|url\(/);
});

test('a late record is drawn red, crossed and labelled late; the others are not', () => {
  const svg = renderTimelineSvg(THREE_TIERS);
  const records = recordCircles(svg);
  const late = records.filter((r) => r.class === 'record late');
  assert.equal(late.length, 1);
  assert.equal(late[0]!['data-time'], '2');
  assert.equal(late[0]!['data-seq'], '4');
  const lateFill = late[0]!.fill;
  for (const r of records.filter((r) => r.class === 'record')) assert.notEqual(r.fill, lateFill, 'a record on time is not drawn in the late colour');
  assert.equal(records.filter((r) => r.class === 'record').length, records.length - 1);
  // Its label says so, in the late colour, and so does its tooltip.
  assert.match(svg, new RegExp(`<text [^>]*fill="${lateFill}"[^>]*>Z<tspan[^>]*>#4</tspan><tspan[^>]*>late</tspan></text>`));
  assert.match(svg, /<title>C1 #4: record Z at 2, late \(b\/1@4\)<\/title>/);
  assert.doesNotMatch(svg, /<title>C1 #3: record Z at 21, late/);
});

test('x grows with event time, the same scale in every lane', () => {
  const svg = renderTimelineSvg([
    { node: 'C1', seq: 0, kind: 'record', time: 2, key: 'a' },
    { node: 'C1', seq: 1, kind: 'record', time: 22, key: 'b' },
    { node: 'C1', seq: 2, kind: 'record', time: 12, key: 'c' },
    { node: 'B0', seq: 0, kind: 'record', time: 22, key: 'd' },
  ]);
  const cx = (seqTime: string): number[] => recordCircles(svg).filter((r) => `${r['data-seq']}@${r['data-time']}` === seqTime).map((r) => Number(r.cx));
  const [at2] = cx('0@2');
  const [at12] = cx('2@12');
  const [at22] = cx('1@22');
  assert.ok(at2! < at12! && at12! < at22!, `${at2} < ${at12} < ${at22}`);
  assert.ok(Math.abs((at12! - at2!) - (at22! - at12!)) < 0.2, 'linear in event time');
  const at22s = recordCircles(svg).filter((r) => r['data-time'] === '22').map((r) => Number(r.cx));
  assert.deepEqual(at22s, [at22, at22], 'the same x for the same time in another lane');
});

test('rows go down a lane in seq order, whatever the order of the trace', () => {
  const events: TraceEvent[] = [
    { node: 'C1', seq: 2, kind: 'record', time: 12 },
    { node: 'C1', seq: 0, kind: 'record', time: 2 },
    { node: 'C1', seq: 1, kind: 'record', time: 22 },
  ];
  const ys = recordCircles(renderTimelineSvg(events)).map((r) => [Number(r['data-seq']), Number(r.cy)] as const).sort((a, b) => a[0] - b[0]);
  assert.ok(ys[0]![1] < ys[1]![1] && ys[1]![1] < ys[2]![1], JSON.stringify(ys));
});

test('keys, node names and the title are escaped', () => {
  const events: TraceEvent[] = [
    { node: 'C"1\'', seq: 0, kind: 'record', time: 2, key: '<Z&>' },
    { node: 'C"1\'', seq: 1, kind: 'watermark-record', time: 3, producer: '<p&q>' },
    { node: '<n>', seq: 0, kind: 'record', time: 4, key: 'a]]>b' },
  ];
  const svg = renderTimelineSvg(events, { title: 'a <b> & "c"' });
  assertWellFormed(svg);
  assert.ok(svg.includes('&lt;Z&amp;&gt;'), 'the key, escaped');
  assert.ok(!svg.includes('<Z&>') && !svg.includes('<n>') && !svg.includes('<p&q>'), 'nothing raw');
  assert.ok(svg.includes('data-node="C&quot;1&#39;"'));
  assert.ok(svg.includes('<title>a &lt;b&gt; &amp; &quot;c&quot;</title>'));
  const html = renderTimelineHtml(events, { title: 'a <b> & "c"' });
  assert.ok(html.includes('<h3>&lt;n&gt;</h3>') && html.includes('<td>&lt;Z&amp;&gt;</td>') && !html.includes('<Z&>'));
});

/** Characters XML 1.0 forbids even as character references: most C0 controls, lone surrogates, U+FFFE and U+FFFF. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|&#(?:x0*(?:[0-8BCEF]|1[0-9A-F]|D[89A-F][0-9A-F]{2}|FFF[EF])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));/i;

test('keys holding any bytes keep the SVG and the page well-formed: controls and lone surrogates are shown as \\u escapes', () => {
  const controls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('');
  const events: TraceEvent[] = [
    { node: 'C\u00011', seq: 0, kind: 'record', time: 2, key: `a${controls}b` },
    { node: 'C\u00011', seq: 1, kind: 'record', time: 3, key: 'lone \ud800 \udc00 \ufffe\uffff \u007f end 😀' },
    { node: 'C\u00011', seq: 2, kind: 'watermark-record', time: 3, producer: 'p\u0000q' },
  ];
  for (const doc of [renderTimelineSvg(events, { title: 't\u0007' }), renderTimelineHtml(events, { title: 't\u0007' })]) {
    assert.doesNotMatch(doc, NOT_XML);
    assert.ok(doc.includes('a\\u0000\\u0001'), 'a control character is shown as its \\u escape');
    assert.ok(doc.includes('\t') || doc.includes('\\u0009'), 'a tab stays visible');
    assert.ok(doc.includes('lone \\ud800 \\udc00 \\ufffe\\uffff'), 'lone surrogates and non-characters too');
    assert.ok(doc.includes('😀'), 'a surrogate pair is a character, kept');
    assert.ok(doc.includes('C\\u00011') && doc.includes('p\\u0000q') && doc.includes('t\\u0007'));
  }
  assertWellFormed(renderTimelineSvg(events));
});

test('tidemark timeline draws a trace of 270,000 events', async () => {
  const dir = freshDir();
  const trace = join(dir, 'big.ndjson');
  const lines: string[] = [];
  for (let i = 0; i < 135_000; i++) {
    lines.push(`{"node":"B0","seq":${i},"kind":"record","time":${i},"key":"k${i % 100}"}`, `{"node":"B0","seq":${i},"kind":"stream-time","time":${i}}`);
  }
  writeFileSync(trace, lines.join('\n') + '\n');
  const out = join(dir, 'big.svg');
  const { io, out: printed, err } = capturingIo();
  assert.equal(await main(['timeline', trace, '--out', out], io), 0, err.join('\n'));
  assert.deepEqual(printed, [`wrote ${out}: 1 node, 135000 records (0 late), 0 watermark records`]);
  const svg = readFileSync(out, 'utf8');
  assert.match(svg, /^<\?xml/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

test('a watermark at MAX_SAFE_INTEGER is drawn at the right edge under ∞; MIN_SAFE_INTEGER is not drawn', () => {
  const svg = renderTimelineSvg([
    { node: 'C0', seq: 0, kind: 'watermark', time: NONE },
    { node: 'C0', seq: 1, kind: 'record', time: 100, key: 'k' },
    { node: 'C0', seq: 1, kind: 'watermark', time: 50 },
    { node: 'C0', seq: 2, kind: 'watermark-record', time: END, producer: 'B/0_0' },
    { node: 'C0', seq: 2, kind: 'watermark', time: END },
  ]);
  assertWellFormed(svg);
  const ends = elements(svg, 'text', 'end');
  assert.equal(ends.length, 2, 'the ∞ label on the top and bottom axes');
  assert.match(svg, /<text class="end"[^>]*>∞<\/text>/);
  const xEnd = Number(ends[0]!.x);
  const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1]);
  const recordX = Number(recordCircles(svg)[0]!.cx);
  assert.ok(recordX < xEnd && xEnd < width, `record ${recordX} < ∞ ${xEnd} < width ${width}`);
  const [path] = elements(svg, 'path', 'watermark');
  assert.ok(path !== undefined, 'the watermark line is drawn');
  // Two values drawn (50, then ∞): a start and one step; "none yet" is no point of the line.
  const d = path.d!;
  const start = Number(/^M([\d.]+),/.exec(d)![1]);
  const steps = [...d.matchAll(/H([\d.]+)/g)].map((m) => Number(m[1]));
  const plotLeft = Number(/<g class="axis"><line x1="([\d.]+)"/.exec(svg)![1]);
  assert.ok(start > plotLeft, `starts at 50 (${start}), not at the left edge (${plotLeft}) where "none yet" would be`);
  assert.ok(start < recordX, 'at 50, left of the record at 100');
  assert.deepEqual(steps, [xEnd]);
  // The flag of W(∞) is at the edge too.
  const [flag] = elements(svg, 'path', 'watermark-record');
  assert.equal(Number(/^M([\d.]+),/.exec(flag!.d!)![1]), xEnd);
  assert.match(svg, />W\(∞\)</);
  assert.doesNotMatch(svg, /9007199254740991/, 'the sentinels never appear as numbers');
});

test('the output is deterministic: same trace, same bytes, whatever the order of lines and files', () => {
  const once = renderTimelineSvg(THREE_TIERS, { title: 'x' });
  assert.equal(renderTimelineSvg(THREE_TIERS, { title: 'x' }), once);
  assert.equal(renderTimelineSvg([...TASKS, ...PRODUCERS].reverse(), { title: 'x' }), once);
  const html = renderTimelineHtml(THREE_TIERS, { title: 'x' });
  assert.equal(renderTimelineHtml([...THREE_TIERS].reverse(), { title: 'x' }), html);
  // The page embeds the same lanes, marks and axes (its SVG without the title and legend above them).
  const page = /<div class="picture">\n([\s\S]*?)\n<\/div>/.exec(html)![1]!;
  const lanesOf = (svg: string): string[] => [...svg.matchAll(/<g class="lane"[\s\S]*?<\/g><\/g>/g)].map((m) => m[0].replace(/ (?:cy|y|y1|y2|d)="[^"]*"/g, ''));
  assert.deepEqual(lanesOf(page), lanesOf(once));
});

test('the HTML page embeds the SVG, a legend and a table per node', () => {
  const html = renderTimelineHtml(THREE_TIERS, { title: 'three tiers' });
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
  assert.match(html, /<\/html>\n$/);
  assert.match(html, /<ul class="legend">[\s\S]*late record[\s\S]*<\/ul>/);
  const picture = /<div class="picture">\n([\s\S]*?)\n<\/div>/.exec(html)![1]!;
  assertWellFormed(picture);
  assert.equal([...html.matchAll(/<section>\n<h3>/g)].length, 6);
  assert.match(html, /<h3>C1<\/h3>\n<table class="node-summary">\n<tr><th>records<\/th><td>3 \(1 late: #4\)<\/td><\/tr>/);
  assert.match(html, /<tr><th>last watermark<\/th><td>∞ \(end of stream\)<\/td><\/tr>/);
  assert.match(html, /<tr class="late"><td class="n">4<\/td><td>record<\/td><td class="n">2<\/td><td>Z<\/td><td>late<\/td><td>b\/1@4<\/td><\/tr>/);
  assert.doesNotMatch(html, /<link|<script|src=|@import/);
});

test('tidemark timeline writes an .svg and an .html file and says what it drew', async () => {
  const dir = freshDir();
  const producers = join(dir, 'producers.ndjson');
  const tasks = join(dir, 'tasks.ndjson');
  writeFileSync(producers, ndjson(PRODUCERS));
  writeFileSync(tasks, ndjson(TASKS));

  for (const name of ['timeline.svg', 'timeline.html']) {
    const out = join(dir, name);
    const { io, out: lines, err } = capturingIo();
    const status = await main(['timeline', producers, tasks, '--out', out, '--title', 'three <tiers>'], io);
    assert.equal(status, 0, err.join('\n'));
    assert.deepEqual(lines, [`wrote ${out}: 6 nodes, 12 records (1 late), 8 watermark records`]);
    assert.deepEqual(err, []);
    const written = readFileSync(out, 'utf8');
    if (name.endsWith('.svg')) {
      assert.equal(written, renderTimelineSvg(THREE_TIERS, { title: 'three <tiers>' }));
      assertWellFormed(written);
    } else {
      assert.equal(written, renderTimelineHtml(THREE_TIERS, { title: 'three <tiers>' }));
    }
  }
  // Without --title, the files' names.
  const { io, out } = capturingIo();
  assert.equal(await main(['timeline', tasks, '--out', join(dir, 'tasks.svg')], io), 0);
  assert.match(out[0]!, /: 4 nodes, 8 records \(1 late\), 6 watermark records$/);
  assert.match(readFileSync(join(dir, 'tasks.svg'), 'utf8'), /<title>timeline of tasks\.ndjson<\/title>/);
});

test('tidemark timeline: help, usage mistakes and bad traces are one line and the right status', async () => {
  const dir = freshDir();
  const trace = join(dir, 'trace.ndjson');
  writeFileSync(trace, '{"node":"C1","seq":0,"kind":"record","time":1}\n{"node":"C1","seq":1,"kind":"record","time":"2"}\n');
  const good = join(dir, 'good.ndjson');
  writeFileSync(good, ndjson(TASKS));
  const run = async (args: string[]): Promise<{ status: number; out: string[]; err: string[] }> => {
    const { io, out, err } = capturingIo();
    return { status: await main(args, io), out, err };
  };

  const help = await run(['timeline', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.out[0]!, /^Usage: tidemark timeline <trace\.ndjson>\.\.\. --out <file\.svg\|file\.html> \[--title T\]/);
  assert.match((await run(['--help'])).out[0]!, /^ {2}timeline +draw the event-time timeline of a run/m);

  const cases: [string[], number, RegExp][] = [
    [['timeline', trace], 2, /^tidemark timeline: --out is required \(see tidemark timeline --help\)$/],
    [['timeline', trace, '--out', join(dir, 'x.png')], 2, /^tidemark timeline: --out must name a \.svg or \.html file, got '.*x\.png' \(see/],
    [['timeline', '--out', join(dir, 'x.svg')], 2, /^tidemark timeline: name at least one trace file \(see/],
    [['timeline', trace, '--out', join(dir, 'x.svg'), '--bogus'], 2, /^tidemark timeline: unknown option --bogus \(see/],
    [['timeline', trace, '--out', join(dir, 'x.svg')], 1, /^tidemark timeline: .*trace\.ndjson:2: "time" must be an integer, got "2"$/],
    [['timeline', join(dir, 'missing.ndjson'), '--out', join(dir, 'x.svg')], 1, /^tidemark timeline: no trace file .*missing\.ndjson$/],
    [['timeline', good, '--out', join(dir, 'no-such-dir', 'x.svg')], 1, /^tidemark timeline: cannot write .*x\.svg: ENOENT/],
  ];
  writeFileSync(join(dir, 'empty.ndjson'), '\n');
  cases.push([['timeline', join(dir, 'empty.ndjson'), '--out', join(dir, 'x.svg')], 1, /^tidemark timeline: no trace events in .*empty\.ndjson$/]);
  for (const [args, status, message] of cases) {
    const r = await run(args);
    assert.equal(r.status, status, args.join(' '));
    assert.deepEqual(r.out, [], args.join(' '));
    assert.equal(r.err.length, 1, args.join(' '));
    assert.match(r.err[0]!, message, args.join(' '));
  }
  // The last case wrote nothing, since its trace was bad before any output.
  assert.throws(() => readFileSync(join(dir, 'x.svg')));
});

/** The text of every `<text class="cls">` element, tags inside removed. */
function texts(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([\\s\\S]*?)</text>`, 'g'))].map((m) => m[1]!.replace(/<[^>]*>/g, ''));
}

const MINUTE = 60_000;
const NOON = Date.UTC(2025, 5, 1, 12, 0, 0);

test('epoch milliseconds are labelled as UTC dates and times, the date where it changes; abstract units stay numbers', () => {
  const events: TraceEvent[] = [0, 1, 2, 3].map((m, seq) => ({ node: 'B0', seq, kind: 'record', time: NOON + m * MINUTE + 5_000, key: 'k' }));
  const svg = renderTimelineSvg(events);
  const labels = texts(svg, 'tick');
  assert.ok(labels.length >= 3, labels.join(' '));
  for (const l of labels) assert.match(l, /^12:0\d(:\d\d)?$/, 'a time of day, not epoch milliseconds');
  assert.ok(labels.includes('12:01') || labels.includes('12:01:00'), labels.join(' '));
  // The date once per axis (top and bottom), at its first tick, and in the caption; never the raw number.
  assert.deepEqual(texts(svg, 'tick-date'), ['2025-06-01', '2025-06-01']);
  assert.deepEqual(texts(svg, 'caption'), ['event time, UTC, 2025-06-01 →']);
  assert.doesNotMatch(svg.replace(/data-time="\d+"|\(\d{13}\)/g, ''), /\d{13}/, 'no epoch milliseconds outside data attributes and tooltips');
  assert.match(svg, /<title>B0 #1: record k at 2025-06-01 12:01:05 \(1748779265000\)<\/title>/);

  // Across midnight: the date again at the first tick of the new day.
  const night = Date.UTC(2025, 5, 1, 23, 0, 0);
  const late = renderTimelineSvg([0, 40, 80, 120].map((m, seq) => ({ node: 'B0', seq, kind: 'record', time: night + m * MINUTE, key: 'k' })));
  assert.deepEqual([...new Set(texts(late, 'tick-date'))], ['2025-06-01', '2025-06-02']);
  assert.deepEqual(texts(late, 'caption'), ['event time, UTC →']);

  // The three-tier trace counts in abstract units: numbers.
  assert.ok(texts(renderTimelineSvg(THREE_TIERS), 'tick').every((l) => /^\d+$/.test(l)));
  assert.deepEqual(texts(renderTimelineSvg(THREE_TIERS), 'tick-date'), []);
});

/** The y of the row of `seq` in a lane: the cy of its record. */
function recordY(svg: string, seq: number): number {
  return Number(recordCircles(svg).find((r) => r['data-seq'] === String(seq))!.cy);
}

test('windows: a bracket from start to end under the row where the operator emitted it, one per window, and the bounds down the lane', () => {
  const events: TraceEvent[] = [
    { node: 'C0', seq: 1, kind: 'record', time: 1, key: 'a' },
    { node: 'C0', seq: 2, kind: 'record', time: 5, key: 'b' },
    { node: 'C0', seq: 3, kind: 'record', time: 12, key: 'a' },
    { node: 'C0', seq: 3, kind: 'stream-time', time: 12 },
    { node: 'C0', seq: 3, kind: 'window', time: 0, end: 10, operator: 'agg', key: 'a' },
    { node: 'C0', seq: 3, kind: 'window', time: 0, end: 10, operator: 'agg', key: 'b' },
    { node: 'C0', seq: 4, kind: 'record', time: 25, key: 'a' },
    { node: 'C0', seq: 4, kind: 'window', time: 10, end: 20, operator: 'agg', key: 'a' },
  ];
  const svg = renderTimelineSvg(events);
  assertWellFormed(svg);
  const brackets = elements(svg, 'path', 'window');
  // Two keys of [0, 10) at one row: one bracket.
  assert.deepEqual(brackets.map((b) => [b['data-seq'], b['data-start'], b['data-end']]), [['3', '0', '10'], ['4', '10', '20']]);
  const xOf = (t: number): number => Number(recordCircles(renderTimelineSvg([...events, { node: 'C0', seq: 9, kind: 'record', time: t }])).find((r) => r['data-seq'] === '9')!.cx);
  for (const b of brackets) {
    const xs = [...b.d!.matchAll(/[MH]([\d.]+)/g)].map((m) => Number(m[1]));
    assert.ok(Math.abs(Math.min(...xs) - xOf(Number(b['data-start']))) < 0.2 && Math.abs(Math.max(...xs) - xOf(Number(b['data-end']))) < 0.2, `${b.d} spans the window`);
    const ys = [...b.d!.matchAll(/[,V]([\d.]+)/g)].map((m) => Number(m[1]));
    const seq = Number(b['data-seq']);
    assert.ok(Math.min(...ys) >= recordY(svg, seq) && Math.max(...ys) < recordY(svg, seq + 1 === 5 ? 4 : seq + 1) + (seq === 4 ? 18 : 0), `under row ${seq}: ${b.d}`);
  }
  assert.match(svg, /<title>C0 #3: agg emitted window \[0, 10\): 2 results \(a, b\)<\/title>/);
  assert.deepEqual(elements(svg, 'line', 'window-bound').map((l) => Number(l['data-time'])), [0, 10, 20]);
  assert.match(svg, /window emitted/, 'the legend says what a bracket is');
  assert.doesNotMatch(renderTimelineSvg(THREE_TIERS), /window emitted|class="window/, 'no windows, no legend entry');
  const html = renderTimelineHtml(events);
  assert.match(html, /<tr><th>window results<\/th><td>3<\/td><\/tr>/);
  assert.match(html, /<td class="n">3<\/td><td>window<\/td><td class="n">\[0, 10\)<\/td><td>a by agg<\/td>/);
});

test('a traced run records the windows its operators fire, at the step of the record that fired them', async () => {
  const { Application, EmbeddedLog, Serdes, StreamsBuilder, TimeWindows } = await import('../../src/index.ts');
  const dataDir = freshDir();
  const log = await EmbeddedLog.open({ dataDir });
  try {
    log.ensureStream('in', 1);
    const key = Serdes.string();
    // Tumbling windows of 10, no grace, final results on stream time: 12 closes [0, 10) (a and b), 25 closes [10, 20) (a).
    await log.append([['a', 1], ['b', 5], ['a', 12], ['a', 25]].map(([k, t]) => ({ stream: 'in', partition: 0, key: key.serialize(k as string), value: Serdes.json().serialize(1), eventTime: t as number })));
    const builder = new StreamsBuilder();
    builder.stream<string, number>('in', { key }).groupByKey().windowedBy(TimeWindows.ofSize(10).grace(0)).count({ emit: 'final' }).to('out');
    const trace: TraceEvent[] = [];
    await new Application(builder.build(), { applicationId: 'w', log }).run({ mode: 'catch-up', trace: (e) => void trace.push(e) });
    const seqOf = (t: number): number => trace.find((e) => e.kind === 'record' && e.time === t)!.seq;
    const windows = trace.filter((e) => e.kind === 'window').map((e) => e.kind === 'window' && [e.seq, e.time, e.end, e.key]);
    assert.deepEqual(windows, [[seqOf(12), 0, 10, 'a'], [seqOf(12), 0, 10, 'b'], [seqOf(25), 10, 20, 'a']]);
    const operators = new Set(trace.flatMap((e) => (e.kind === 'window' ? [e.operator] : [])));
    assert.equal(operators.size, 1);
    assert.match([...operators][0]!, /aggregate/);
    // And the trace reads back as it was written.
    assert.deepEqual(parseTrace(ndjson(trace), 't'), trace.map((e) => parseTrace(JSON.stringify(e), 't')[0]));
  } finally {
    await log.close();
  }
});

test('stream time and watermark stay apart where they coincide: a wide light band under a thin dashed line, both in the legend', () => {
  const events: TraceEvent[] = [1, 2, 3].flatMap((t) => [
    { node: 'B0', seq: t, kind: 'record', time: t * 10 } as TraceEvent,
    { node: 'B0', seq: t, kind: 'stream-time', time: t * 10 } as TraceEvent,
    { node: 'B0', seq: t, kind: 'watermark', time: t * 10 } as TraceEvent,
  ]);
  const svg = renderTimelineSvg(events);
  const [st] = elements(svg, 'path', 'stream-time');
  const [wm] = elements(svg, 'path', 'watermark');
  assert.equal(st!.d, wm!.d, 'the same line');
  assert.ok(Number(st!['stroke-width']) >= 2 * Number(wm!['stroke-width']), 'stream time wide, the watermark thin, so both show');
  assert.equal(st!['stroke-dasharray'], undefined);
  assert.ok(wm!['stroke-dasharray'] !== undefined, 'the watermark dashed');
  assert.notEqual(st!.stroke, wm!.stroke);
  assert.ok(svg.indexOf('class="stream-time"') < svg.indexOf('class="watermark"'), 'the watermark drawn over stream time');
  assert.match(svg, />both, equal</);
  assert.match(renderTimelineHtml(events), /stream time and watermark equal/);
});

test('the HTML page shows its title and legend once: the SVG inside it has neither', () => {
  const html = renderTimelineHtml(THREE_TIERS, { title: 'three tiers' });
  const visible = html.replace(/<title>[^<]*<\/title>/g, '');
  assert.equal([...visible.matchAll(/>three tiers</g)].length, 1, 'the <h1> alone (and the <title>s, shown on hover)');
  assert.equal([...html.matchAll(/<h1>/g)].length, 1);
  const picture = /<div class="picture">\n([\s\S]*?)\n<\/div>/.exec(html)![1]!;
  assert.doesNotMatch(picture, /class="legend"|class="title"/);
  assert.equal([...html.matchAll(/class="legend"/g)].length, 1);
  // The standalone SVG keeps both: it is read without the page.
  const svg = renderTimelineSvg(THREE_TIERS, { title: 'three tiers' });
  assert.match(svg, /<text class="title"[^>]*>three tiers<\/text>/);
  assert.match(svg, /<g class="legend">/);
});

test('axisBreaks: a gap wider than ten times the rest of the span breaks the axis (hand-worked)', () => {
  const cases: [number[], number[]][] = [
    [[0, 10, 20, 40], []], // gap 20 against a rest of 20
    [[0, 10, 20, 220], []], // 200, not wider than 10 × 20
    [[0, 10, 20, 221], [2]], // 201 is
    [[0, 10, 20, 100_000], [2]],
    [[-10_000_000, 0, 10, 20, 100_000], [0, 3]], // one far on each side
    [[50, 100], []], // no bulk to keep apart from an outlier
    [[5, 5, 5], []],
    [[7], []],
  ];
  for (const [times, expected] of cases) assert.deepEqual(axisBreaks(times), expected, times.join(' '));
});

test('a record far outside the bulk (stamped "now") gets its own part of a broken axis; the bulk keeps the width', () => {
  const bulk: TraceEvent[] = Array.from({ length: 20 }, (_, i) => ({ node: 'B0', seq: i, kind: 'record', time: NOON + i * 3_000, key: 'k' }));
  const now = Date.UTC(2026, 11, 3, 12, 25, 24, 217);
  const svg = renderTimelineSvg([...bulk, { node: 'B0', seq: 20, kind: 'record', time: now, key: 'k' }]);
  assertWellFormed(svg);
  const breaks = elements(svg, 'g', 'axis-break');
  assert.equal(breaks.length, 1);
  assert.equal(Number(breaks[0]!['data-gap']), now - (NOON + 19 * 3_000));
  assert.match(svg, />550 days later</);
  const xs = recordCircles(svg).map((r) => Number(r.cx));
  const spread = Math.max(...xs.slice(0, 20)) - Math.min(...xs.slice(0, 20));
  assert.ok(spread > 600, `the bulk spans ${spread} px of the 1000, not a sliver`);
  const band = /<g class="axis-break"[^>]*>.*?<rect x="([\d.]+)"[^>]*width="([\d.]+)"/.exec(svg)!;
  assert.ok(Math.max(...xs.slice(0, 20)) < Number(band[1]) && xs[20]! > Number(band[1]) + Number(band[2]), 'the bulk left of the band, the outlier right of it');
  // Each part keeps its own labels: the outlier's date is on the axis.
  assert.ok(texts(svg, 'tick-date').includes('2026-12-03'));
  // No outlier, no break.
  assert.deepEqual(elements(renderTimelineSvg(bulk), 'g', 'axis-break'), []);
  assert.deepEqual(elements(renderTimelineSvg(THREE_TIERS), 'g', 'axis-break'), []);
});

test('tidemark produce, run --trace and timeline on examples/topologies/page-views-per-minute.ts: a view stamped "now" breaks the axis, the windows are drawn', () => {
  const dir = freshDir();
  const data = join(dir, 'data');
  const trace = join(dir, 'trace.ndjson');
  const views = [['/home', '12:00:05'], ['/home', '12:00:50'], ['/home', '12:01:30'], ['/home', undefined], ['/home', '12:01:40']] as const;
  const input = views.map(([key, at]) => JSON.stringify({ key, value: { user: 'u' }, ...(at === undefined ? {} : { eventTime: `2025-06-01T${at}Z` }) })).join('\n');
  assert.equal(cli(['produce', '--data-dir', data, '--stream', 'page-views'], `${input}\n`).status, 0);
  const module = fileURLToPath(new URL('../../examples/topologies/page-views-per-minute.ts', import.meta.url));
  const run = cli(['run', module, '--data-dir', data, '--trace', trace]);
  assert.equal(run.status, 0, run.stderr);
  const events = parseTrace(readFileSync(trace, 'utf8'), trace);
  // 12:01:30 passes 12:00's end + grace (12:01:10): that minute fires there; "now" fires 12:01.
  const fired = events.filter((e) => e.kind === 'window').map((e) => e.kind === 'window' && [e.time, e.end, e.key]);
  assert.deepEqual(fired, [[NOON, NOON + MINUTE, '/home'], [NOON + MINUTE, NOON + 2 * MINUTE, '/home']]);
  assert.deepEqual(events.filter((e) => e.kind === 'record' && e.late === true).map((e) => e.time), [NOON + MINUTE + 40_000], 'the view after "now" is late');
  const out = join(dir, 'timeline.svg');
  assert.equal(cli(['timeline', trace, '--out', out]).status, 0);
  const svg = readFileSync(out, 'utf8');
  assert.equal(elements(svg, 'g', 'axis-break').length, 1);
  assert.equal(elements(svg, 'path', 'window').length, 2);
  assert.ok(texts(svg, 'tick-date').includes('2025-06-01'));
});
