/**
 * Makes the pictures of the docs from real output: each runs tidemark the way
 * a user would (the CLI, on a temporary embedded data directory), takes what
 * it wrote, and screenshots it in headless Chromium, into docs/images/.
 *
 *   ./with-node node scripts/pictures.ts                     every picture
 *   ./with-node node scripts/pictures.ts timeline live-page  only the ones named
 *
 * Run by hand, not in CI: it needs Debian's Chromium (`apt-get install
 * chromium`, at /usr/bin/chromium, or set TIDEMARK_CHROMIUM), driven by
 * playwright-core. Commit the PNGs it writes.
 *
 * A picture is one function in PICTURES, given a browser page and the
 * directory to write into; add one there and it runs with the others.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Page } from 'playwright-core';
import { EmbeddedLog } from '../src/index.ts';
import { flowchartPage, parseFlowchart } from './flowchart-picture.ts';
import { chartOfFile } from '../bench/nexmark/chart.ts';
import { CHROMIUM_ARGS, appendReadings, startLiveRun, type LiveRun } from '../test/fixtures/live-run.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'src', 'cli', 'main.ts');
const imagesDir = join(root, 'docs', 'images');
const chromiumPath = process.env.TIDEMARK_CHROMIUM ?? '/usr/bin/chromium';

/** Runs `tidemark <args>` as a user would, in `cwd`, with `input` on stdin; returns what it printed. */
function tidemark(cwd: string, args: readonly string[], input?: string): string {
  return execFileSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Screenshots an SVG document as it is drawn on a page of its own, at twice the pixels (sharp on high-density screens). */
async function screenshotSvg(page: Page, svg: string, out: string): Promise<void> {
  // Inline in a page rather than opened as a file: Chromium's full-page screenshot of an SVG document never completes.
  await page.setContent(`<!DOCTYPE html><html><body style="margin:0;background:#fff">${svg.replace(/^<\?xml[^>]*>\s*/, '')}</body></html>`);
  await page.locator('svg').first().screenshot({ path: out });
}

/**
 * The timeline of a windowed count (examples/topologies/page-views-per-minute.ts):
 * page views over three minutes of 2025-06-01, a few out of order, one late,
 * and one written without an event time — `produce` stamps it "now", far from
 * the rest, and it closes every window: the broken axis and a late record after it.
 */
async function timelinePicture(page: Page, dir: string): Promise<string> {
  const views: [page: string, user: string, at: string | undefined][] = [
    ['/home', 'ana', '12:00:05'],
    ['/pricing', 'ana', '12:00:20'],
    ['/home', 'bo', '12:00:50'],
    ['/home', 'cy', '12:01:02'],
    ['/home', 'di', '12:00:58'], // out of order, within the 10 s of grace
    ['/pricing', 'bo', '12:01:30'], // stream time passes 12:01:10: the 12:00 minute fires
    ['/home', 'ed', '12:00:45'], // its minute has closed: late
    ['/home', 'fa', '12:01:40'],
    ['/pricing', 'cy', '12:02:15'],
    ['/home', 'gu', '12:02:30'],
    ['/pricing', 'ha', undefined], // no event time: stamped now
    ['/home', 'io', '12:02:50'], // behind "now": late
  ];
  const lines = views.map(([key, user, at]) => JSON.stringify({ key, value: { user }, ...(at === undefined ? {} : { eventTime: `2025-06-01T${at}Z` }) }));
  tidemark(dir, ['produce', '--data-dir', 'data', '--stream', 'page-views'], `${lines.join('\n')}\n`);
  tidemark(dir, ['run', join(root, 'examples', 'topologies', 'page-views-per-minute.ts'), '--data-dir', 'data', '--trace', 'trace.ndjson']);
  tidemark(dir, ['timeline', 'trace.ndjson', '--out', 'timeline.svg', '--title', 'page views per minute: one-minute windows, a view stamped "now"']);
  const out = join(imagesDir, 'timeline.png');
  await screenshotSvg(page, readFileSync(join(dir, 'timeline.svg'), 'utf8'), out);
  return out;
}

/**
 * The live page of a running application, as the live-page test runs it
 * (test/fixtures/live-run.ts: sensor readings counted in 10-second windows,
 * two partitions): readings arrive in both partitions for a few seconds,
 * partition 1 lagging behind in event time, then one for a window that has
 * closed. Event time is anchored a minute before now, so the page says how
 * far behind the wall clock it runs.
 */
async function livePagePicture(page: Page, dir: string): Promise<string> {
  const log = await EmbeddedLog.open({ dataDir: join(dir, 'data') });
  let run: LiveRun | undefined;
  try {
    log.ensureStream('readings', 2);
    const origin = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    await appendReadings(log, 0, [['s1', 1], ['s3', 3]], origin);
    await appendReadings(log, 1, [['s2', 2]], origin);
    run = await startLiveRun(join(dir, 'data'));
    await page.setViewportSize({ width: 1100, height: 400 });
    await page.goto(run.url);
    await page.waitForSelector('[data-task="0_1"]');
    // A reading a second of event time per partition and step, partition 1 at half the pace: the charts climb apart.
    for (let step = 1; step <= 16; step++) {
      await appendReadings(log, 0, [[step % 2 === 0 ? 's1' : 's3', 3 + step * 2]], origin);
      if (step % 2 === 0) await appendReadings(log, 1, [[step % 4 === 0 ? 's2' : 's4', 2 + step]], origin);
      await sleep(400);
    }
    // 12 s after the origin, in partition 0: its window [10 s, 20 s) closed when stream time passed 20 s.
    await appendReadings(log, 0, [['s1', 12]], origin);
    await page.locator('#late tbody tr', { hasText: 'readings/0@' }).first().waitFor();
    await page.waitForSelector('#topology svg text');
    await sleep(1_500); // a few more samples: the lines run on flat to the right edge
    const out = join(imagesDir, 'live-page.png');
    await page.screenshot({ path: out, fullPage: true });
    return out;
  } finally {
    if (run !== undefined) await run.stop();
    await log.close();
  }
}

/**
 * The topology of examples/topologies/page-views.ts as `tidemark describe
 * --format mermaid` gives it (docs/cli.md shows that Mermaid), drawn by
 * scripts/flowchart-picture.ts: two sub-topologies joined by a repartition
 * stream, a window store beside its aggregate.
 */
async function topologyPicture(page: Page, dir: string): Promise<string> {
  const mermaid = tidemark(dir, ['describe', join(root, 'examples', 'topologies', 'page-views.ts'), '--format', 'mermaid']);
  await page.setContent(flowchartPage(parseFlowchart(mermaid)));
  await page.waitForSelector('body[data-drawn="yes"]');
  const out = join(imagesDir, 'topology-page-views.png');
  await page.locator('#chart').screenshot({ path: out });
  return out;
}

/**
 * The chart of the latest Nexmark bench (bench/nexmark/chart.ts, events per
 * CPU-second: the machine is shared, so wall-clock rates swing with its
 * load), from bench/results/nexmark-latest.json and the matching peers run
 * beside it: run `node bench/nexmark/run.ts --events 1000000` first.
 */
async function nexmarkPicture(page: Page): Promise<string> {
  const json = join(root, 'bench', 'results', 'nexmark-latest.json');
  if (!existsSync(json)) throw new Error(`nexmark picture: ${json} does not exist; run node bench/nexmark/run.ts --events 1000000 first`);
  const out = join(imagesDir, 'nexmark.png');
  await screenshotSvg(page, chartOfFile(json, 'cpu'), out);
  return out;
}

/** Every picture, by name: a function that writes its PNG and returns its path. */
const PICTURES: Readonly<Record<string, (page: Page, dir: string) => Promise<string>>> = {
  timeline: timelinePicture,
  'live-page': livePagePicture,
  topology: topologyPicture,
  nexmark: nexmarkPicture,
};

const wanted = process.argv.slice(2);
for (const name of wanted) if (PICTURES[name] === undefined) throw new Error(`no picture ${name}; there are: ${Object.keys(PICTURES).join(', ')}`);
mkdirSync(imagesDir, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'tidemark-pictures-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath,
  headless: true,
  args: CHROMIUM_ARGS,
  viewport: { width: 1100, height: 900 },
  deviceScaleFactor: 2,
});
try {
  for (const [name, picture] of Object.entries(PICTURES)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    const dir = mkdtempSync(join(tmpdir(), `tidemark-picture-${name}-`));
    try {
      const page = await context.newPage();
      console.log(`wrote ${await picture(page, dir)}`);
      await page.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
