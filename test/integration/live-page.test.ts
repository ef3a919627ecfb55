/**
 * The live page and metrics of a running application, in a real browser:
 * `tidemark run --mode real-time --http 127.0.0.1:0` in a child process on
 * an embedded log that this test appends to, Debian's Chromium driven by
 * playwright-core. The page must show the tasks, follow the watermark as
 * records are appended, and list a late record with its position; /metrics
 * must carry the same clocks, never NaN. A screenshot is written as a test
 * artifact (its path is printed).
 *
 * Without Chromium the browser test skips, unless TIDEMARK_REQUIRE_BROWSER=1
 * (as in CI), where it fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { EmbeddedLog } from '../../src/index.ts';
import { CHROMIUM, CHROMIUM_ARGS, appendReadings as append, startLiveRun, until } from '../fixtures/live-run.ts';

const ARTIFACTS = process.env['TIDEMARK_ARTIFACTS'] ?? join(tmpdir(), 'tidemark-artifacts');

test('the live page shows the tasks, follows the watermark as records arrive, and lists a late record; /metrics agrees and has no NaN', { timeout: 180_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env['TIDEMARK_REQUIRE_BROWSER'] === '1') assert.fail(`TIDEMARK_REQUIRE_BROWSER=1 but there is no ${CHROMIUM} (apt-get install chromium)`);
    t.skip(`no ${CHROMIUM}: apt-get install chromium`);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-live-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const log = await EmbeddedLog.open({ dataDir });
  t.after(() => log.close());
  log.ensureStream('readings', 2);
  await append(log, 0, [['s1', 1], ['s1', 4]]);
  await append(log, 1, [['s2', 2]]);

  const run = await startLiveRun(dataDir);
  t.after(() => run.kill());
  const { url } = run;
  const progress = async (): Promise<{ tasks: { id: string; watermark: number | null; streamTime: number | null }[]; recentLate: unknown[] }> => (await fetch(`${url}progress`)).json() as never;
  await until('both tasks to process their records', async () => ((await progress()).tasks.every((x) => x.streamTime !== null) ? true : undefined));

  const metrics = await (await fetch(`${url}metrics`)).text();
  assert.doesNotMatch(metrics, /NaN/);
  assert.match(metrics, /^tidemark_task_stream_time_milliseconds\{application="live",task="0_0"\} 1767268804000$/m);
  assert.match(metrics, /^tidemark_input_lag_records\{application="live",task="0_1",stream="readings",partition="1"\} 0$/m);
  assert.match(metrics, /^tidemark_records_processed_total\{application="live",task="0_0"\} 2$/m);
  assert.match(metrics, /^# TYPE tidemark_commit_duration_seconds histogram$/m);

  let browser: Browser | undefined;
  try {
    // Playwright gives the browser a fresh temporary profile; the flags keep it off the (closed) network.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url);
    await page.waitForSelector('[data-task="0_0"]');
    assert.equal(await page.locator('.task').count(), 2, 'one card per task');
    assert.equal(await page.locator('#app').textContent(), 'live');
    const watermarkOf = (task: string): Promise<string | null> => page.locator(`[data-task="${task}"] .watermark`).textContent();
    const before = await watermarkOf('0_0');
    assert.equal(before, '2026-01-01 12:00:03.999', 'the watermark of partition 0: its largest timestamp (4 s) minus one ms');

    // Event time moves on in partition 0: the page follows.
    await append(log, 0, [['s1', 25]]);
    await until('the page to show the new watermark', async () => ((await watermarkOf('0_0')) === '2026-01-01 12:00:24.999' ? true : undefined));
    assert.match((await page.locator('[data-task="0_0"] .stream-time').textContent()) ?? '', /^2026-01-01 12:00:25\.000$/);

    // A reading of 12:00:05 in partition 0: its window [0 s, 10 s) closed at 25 s.
    await append(log, 0, [['s1', 5]]);
    const row = await until('the late record on the page', async () => {
      const text = await page.locator('#late tbody').textContent();
      return text !== null && text.includes('readings/0@3') ? text : undefined;
    });
    assert.match(row, /late-record/);
    // Its window and when it closed, as dates: [12:00:00, 12:00:10) closed at 12:00:10 + grace 0.
    assert.match(row, /the last, \[2026-01-01 12:00:00\.000, 2026-01-01 12:00:10\.000\), closed at 2026-01-01 12:00:10\.000/);
    assert.match(await page.locator('[data-field="late"] b').textContent() ?? '', /^1$/);
    await page.waitForSelector('#topology svg text');
    assert.match((await page.locator('#topology').textContent()) ?? '', /readings/);
    assert.deepEqual(problems, [], 'no script errors on the page');

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'live-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
  } finally {
    await browser?.close();
  }
  const lateMetric = await (await fetch(`${url}metrics`)).text();
  assert.match(lateMetric, /^tidemark_late_records_total\{application="live",task="0_0",operator="[^"]+"\} 1$/m);

  assert.equal(await run.stop(), 0);
});
