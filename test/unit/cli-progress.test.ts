import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressDisplay, partitionLags, plainLine, renderBar } from '../../src/cli/progress.ts';
import type { Progress } from '../../src/runtime/application.ts';

function progress(processed: number, lag: number, mode: Progress['mode'] = 'catch-up'): Progress {
  return { mode, consumed: processed + lag, processed, lag, lagByPartition: new Map(), streamTimes: new Map([['0_0', Date.UTC(2025, 5, 1, 9, 30, 5)]]), watermarks: new Map() };
}

/** A fake output and clock: what was written, at which virtual time. */
function fakeOutput(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  let now = 0;
  return { out: { isTTY, columns, write: (t: string) => writes.push(t) }, writes, tick: (ms: number) => (now += ms), now: () => now };
}

test('on a terminal, progress is one line redrawn in place: a bar that fills as the lag goes down', () => {
  const f = fakeOutput(true, 200);
  const display = createProgressDisplay(f.out, { now: f.now });
  for (const [processed, lag] of [[0, 1000], [500, 500], [1000, 0]] as const) {
    f.tick(250);
    display.update(progress(processed, lag));
  }
  display.finish();
  assert.equal(f.writes.length, 4);
  for (const w of f.writes) assert.ok(w.startsWith('\r'), 'each frame returns to the start of the line');
  assert.ok(f.writes.slice(0, 3).every((w) => !w.includes('\n')), 'frames never start a new line');
  assert.match(f.writes[0]!, /catch-up ▕ +▏ +0% +lag 1,000 · 0 processed/);
  assert.match(f.writes[1]!, /50% +lag 500 · 500 processed · \d[\d,]* rec\/s · stream time 09:30:05Z/);
  assert.match(f.writes[2]!, /100% +lag 0 · 1,000 processed/);
  assert.match(f.writes[3]!, /caught up, processed 1,000 in 0\.8 s/);
  assert.ok(f.writes[3]!.endsWith('\n'), 'the last frame ends the line');
});

test('on a narrow terminal, optional parts are dropped whole and the line never wraps', () => {
  const f = fakeOutput(true, 70);
  const display = createProgressDisplay(f.out, { now: f.now, extra: () => 'producer +12' });
  f.tick(100);
  display.update(progress(10, 990));
  const line = f.writes[0]!.replace('\r', '').replace('\x1b[K', '');
  assert.ok([...line].length < 70, line);
  assert.doesNotMatch(line, /stream time|producer/);
  assert.match(line, /lag 990/);
});

test('in real-time, the terminal line has a spinner and says whether it is tailing', () => {
  const f = fakeOutput(true, 200);
  const display = createProgressDisplay(f.out, { now: f.now });
  display.update(progress(5, 3, 'real-time'));
  display.update(progress(8, 0, 'real-time'));
  assert.match(f.writes[0]!, /real-time \S behind/);
  assert.match(f.writes[1]!, /real-time \S tailing · lag 0/);
});

test('when not a terminal, progress is a plain line about every second', () => {
  const f = fakeOutput(false);
  const display = createProgressDisplay(f.out, { now: f.now });
  for (let i = 0; i <= 12; i++) {
    f.tick(250);
    display.update(progress(i * 1000, 12_000 - i * 1000));
  }
  display.finish();
  assert.ok(f.writes.every((w) => !w.includes('\r')));
  const lines = f.writes.join('').trimEnd().split('\n');
  assert.equal(lines.length, 5, lines.join('\n'));
  assert.match(lines[0]!, /^catch-up: lag 12000 \(processed 0, \d+ rec\/s\)$/);
  assert.match(lines[1]!, /^catch-up: lag 8000 \(processed 4000, 4000 rec\/s\)$/);
  assert.match(lines[4]!, /^catch-up: caught up, processed 12,000 in 3\.3 s/);
});

test('the bar has a fixed width and fills in eighths of a cell', () => {
  const width = [...renderBar(0)].length;
  for (const f of [0, 0.01, 0.5, 0.999, 1, 1.5]) assert.equal([...renderBar(f)].length, width, String(f));
  assert.notEqual(renderBar(0.01), renderBar(0));
  assert.equal(renderBar(1), `▕${'█'.repeat(width - 2)}▏`);
});

test('progress names the partitions still behind, most lag first, so a user sees where catch-up waits', () => {
  const lagByPartition = new Map([
    ['in/0', 334],
    ['in/1', 900],
    ['in/2', 0],
    ['other/0', 12],
  ]);
  const p = { ...progress(100, 1246), lagByPartition };
  assert.equal(plainLine('catch-up', p, 50), 'catch-up: lag 1246 (processed 100, 50 rec/s) · behind: in/1 900, in/0 334, other/0 12');
  assert.equal(partitionLags(p, 2), 'behind: in/1 900, in/0 334, +1 more');
  assert.equal(partitionLags({ ...p, lagByPartition: new Map([['in/0', 0]]) }), undefined, 'nothing behind, nothing said');
  const f = fakeOutput(true);
  createProgressDisplay(f.out, { now: f.now }).update(p);
  assert.match(f.writes[0]!, /behind: in\/1 900, in\/0 334, other\/0 12/);
});
