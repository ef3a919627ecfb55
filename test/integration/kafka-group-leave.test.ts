/**
 * A process whose group members have all left exits by itself: nothing of a
 * closed member's consumer keeps it alive. A child process
 * (test/fixtures/group-leave-child.ts) runs rounds of three members where
 * members leave while a rebalance's rejoin is in flight — with
 * @platformatic/kafka 2.12.1, a consumer closed then may go on heartbeating
 * on a timer forever (docs/kafka-clients.md, "Known client bugs and
 * tidemark's workarounds"), and the process never exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { kafkaBroker } from '../fixtures/kafka.ts';

const CHILD = new URL('../fixtures/group-leave-child.ts', import.meta.url).pathname;
const ROUNDS = 6;
/** How long the rounds may take, all told (each is three joins and three leaves). */
const ROUNDS_TIMEOUT_MS = 120_000;
/** How soon after its last member left the process must be gone. */
const EXIT_WITHIN_MS = 5_000;

test('a process exits by itself once its consumer-group members have left, even when they left while a rejoin was in flight', { timeout: ROUNDS_TIMEOUT_MS + 30_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const child = spawn(process.execPath, [CHILD, broker.bootstrap, String(ROUNDS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const timeout = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
  try {
    // Every member has left once the child prints `left`; from then on it has EXIT_WITHIN_MS to be gone.
    const left = new Promise<void>((resolve) => child.stdout.on('data', () => stdout.includes('left\n') && resolve()));
    const first = await Promise.race([left.then(() => 'left' as const), exited, timeout(ROUNDS_TIMEOUT_MS)]);
    assert.notEqual(first, 'timeout', `the rounds of joins and leaves did not end within ${ROUNDS_TIMEOUT_MS / 1000} s (stdout: ${stdout.trim().split('\n').join(', ')}; stderr: ${stderr.trim()})`);
    const end = first === 'left' ? await Promise.race([exited, timeout(EXIT_WITHIN_MS)]) : first;
    assert.notEqual(
      end,
      'timeout',
      `the process did not exit within ${EXIT_WITHIN_MS / 1000} s after every consumer-group member had left: something of a closed consumer keeps it alive (${stderr.trim() || 'no report on stderr'})`,
    );
    assert.deepEqual(end, { code: 0, signal: null }, `the child failed: ${stderr.trim()}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
});
