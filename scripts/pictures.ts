/**
 * Makes the pictures of the docs from real output: each runs tidemark the way
 * a user would (the CLI, on a temporary embedded data directory), takes what
 * it wrote, and screenshots it in headless Chromium, into docs/images/.
 *
 *   node scripts/pictures.ts            every picture
 *   node scripts/pictures.ts timeline   only the ones named
 *
 * Run by hand, not in CI: it needs Debian's Chromium (`apt-get install
 * chromium`, at /usr/bin/chromium, or set TIDEMARK_CHROMIUM), driven by
 * playwright-core. Commit the PNGs it writes.
 *
 * A picture is one function in PICTURES, given a browser page and the
 * directory to write into; add one there (the live page, a topology
 * diagram) and it runs with the others.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';

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

/** Every picture, by name: a function that writes its PNG and returns its path. */
const PICTURES: Readonly<Record<string, (page: Page, dir: string) => Promise<string>>> = {
  timeline: timelinePicture,
};

const wanted = process.argv.slice(2);
for (const name of wanted) if (PICTURES[name] === undefined) throw new Error(`no picture ${name}; there are: ${Object.keys(PICTURES).join(', ')}`);
mkdirSync(imagesDir, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'tidemark-pictures-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
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
