/**
 * Checking on and stopping a detached broker from another process, through
 * its state file and its process id (checked to be still that broker, not a
 * reused pid).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROPERTIES_FILE } from './config.ts';
import { kafkaAnswers } from './probe.ts';
import { readKafkaBrokerState, removeKafkaBrokerState, type KafkaBrokerState } from './state.ts';

/** What {@link kafkaBrokerStatus} found: a running broker and whether it answers, or none (with the state it left, if any). */
export type KafkaBrokerStatus =
  | { readonly running: true; readonly answering: boolean; readonly state: KafkaBrokerState }
  | { readonly running: false; readonly stale?: KafkaBrokerState };

/** Whether the detached broker of `dataDir` runs, and whether it answers a Kafka request. */
export async function kafkaBrokerStatus(dataDir: string): Promise<KafkaBrokerStatus> {
  const state = readKafkaBrokerState(dataDir);
  if (state === undefined) return { running: false };
  if (!isOurBroker(state.pid, resolve(dataDir))) return { running: false, stale: state };
  return { running: true, answering: await kafkaAnswers(state.port), state };
}

/**
 * Stops the detached broker of `dataDir` (see `startKafkaBroker({ detached:
 * true })`): SIGTERM, then SIGKILL after `timeoutMs`. Resolves with the state
 * of the broker it stopped, or undefined when none was running. Removes
 * `broker.json` either way.
 */
export async function stopKafkaBroker(dataDir: string, timeoutMs = 30_000): Promise<KafkaBrokerState | undefined> {
  const dir = resolve(dataDir);
  const state = readKafkaBrokerState(dir);
  if (state === undefined) return undefined;
  if (!isOurBroker(state.pid, dir)) {
    removeKafkaBrokerState(dir);
    return undefined;
  }
  signal(state.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (processAlive(state.pid) && Date.now() < deadline) await sleep(100);
  if (processAlive(state.pid)) {
    signal(state.pid, 'SIGKILL');
    while (processAlive(state.pid)) await sleep(50);
  }
  removeKafkaBrokerState(dir);
  return state;
}

/** The process is alive and, where /proc tells, is a Kafka broker started on this data directory (not a reused pid). */
export function isOurBroker(pid: number, dataDir: string): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0 || !processAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(join(dataDir, PROPERTIES_FILE));
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Alive and not a zombie (a detached broker's parent may not have reaped it yet). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
