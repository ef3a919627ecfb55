/**
 * A node's JVM once launched: waiting until it is ready (or killing it),
 * stopping it, killing it — the same for a single broker and for the nodes
 * of a cluster.
 *
 * @module
 */
import type { BrokerConfig } from './config.ts';
import type { Running } from './launch.ts';
import { waitUntilReady } from './ready.ts';

/** Waits until the launched node is ready; one that does not get there is killed, and the error thrown once it exited. */
export async function readyOrKilled(config: BrokerConfig, running: Running): Promise<void> {
  try {
    await waitUntilReady(config, running);
  } catch (e) {
    running.child.kill('SIGKILL');
    await running.exited;
    throw e;
  }
}

/** SIGTERM (a controlled shutdown), and SIGKILL if it takes longer than `timeoutMs`; resolves once the JVM exited. */
export async function stopNode(running: Running | undefined, timeoutMs: number): Promise<void> {
  if (running === undefined || running.ended) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  try {
    await running.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILL at once, if it still runs. */
export function killNode(running: Running | undefined): void {
  if (running !== undefined && !running.ended) running.child.kill('SIGKILL');
}
