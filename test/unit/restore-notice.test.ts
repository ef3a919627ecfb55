import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restoreNotice } from '../../src/cli/restore-notice.ts';
import type { RestoreProgress } from '../../src/connectors/kafka/kafka-restore.ts';

const progress = (done: number, total: number, finished = false): RestoreProgress => ({ applicationId: 'orders', taskId: '0_2', store: 'counts', done, total, finished });

test('restore notice: off a terminal, a line at the start, one every 2 s, and one at the end with the time taken', () => {
  const lines: string[] = [];
  let now = 0;
  const notice = restoreNotice({ write: (s) => lines.push(s) }, 'orders', () => now);
  notice(progress(0, 2_000_000));
  now = 500;
  notice(progress(100_000, 2_000_000)); // too soon for another line
  now = 2500;
  notice(progress(300_000, 2_000_000));
  now = 9000;
  notice(progress(1_999_000, 2_000_000, true));
  assert.deepEqual(lines, [
    'orders: restoring task 0_2 store counts from its changelog: 0 of at most 2,000,000 records\n',
    'orders: restoring task 0_2 store counts from its changelog: 300,000 of at most 2,000,000 records\n',
    'orders: restoring task 0_2 store counts from its changelog: done, 1,999,000 records in 9.0 s\n',
  ]);
});

test('restore notice: on a terminal, one line redrawn in place, ended at the end; a short restore says nothing', () => {
  const out: string[] = [];
  const notice = restoreNotice({ write: (s) => out.push(s), isTTY: true }, 'orders');
  notice(progress(0, 10));
  notice(progress(10, 10, true));
  assert.equal(out.length, 0);
  notice(progress(0, 5000));
  notice(progress(5000, 5000, true));
  assert.equal(out.length, 2);
  assert.ok(out.every((s) => s.startsWith('\rorders: restoring task 0_2 store counts')));
  assert.ok(!out[0]!.endsWith('\n') && out[1]!.endsWith('\n'));
});
