/**
 * Waiting for a started broker to be ready — it has logged that it started
 * and it answers ApiVersions — and the error when it does not get there,
 * with the last lines of its output and log.
 *
 * @module
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOST, LOG_FILE, OUT_FILE, type BrokerConfig } from './config.ts';
import type { Running } from './launch.ts';
import { fatalFault, fileSize, lastLines, readRange, readTail } from './log-tail.ts';
import { kafkaAnswers } from './probe.ts';

/** Logged by KafkaRaftServer once the broker and controller have started and the broker is unfenced. */
const READY_LINE = 'Kafka Server started';

/** Resolves once the broker is ready; rejects when it exits, the signal aborts, or the ready timeout passes. */
export async function waitUntilReady(config: BrokerConfig, running: Running): Promise<void> {
  const logPath = join(config.dataDir, LOG_FILE);
  let scanned = fileSize(logPath);
  let sawReadyLine = false;
  let endedWith: string | undefined;
  void running.exited.then((how) => (endedWith = how));
  const deadline = Date.now() + config.readyTimeoutMs;
  while (true) {
    if (endedWith !== undefined) throw startFailure(config, `the Kafka broker stopped while starting (${endedWith})`);
    if (config.signal?.aborted === true) throw new Error(`interrupted while the Kafka broker was starting on ${HOST}:${config.port}; stopped it`);
    if (!sawReadyLine) {
      const size = fileSize(logPath);
      if (size < scanned) scanned = 0; // rolled over
      const from = Math.max(0, scanned - READY_LINE.length);
      sawReadyLine = readRange(logPath, from, size).includes(READY_LINE);
      scanned = size;
    }
    if (sawReadyLine && (await kafkaAnswers(config.port, HOST, 2000))) return;
    if (Date.now() > deadline) {
      throw startFailure(config, `the Kafka broker was not ready within ${Math.round(config.readyTimeoutMs / 1000)} s (${sawReadyLine ? 'it logged that it started but does not answer ApiVersions' : `no '${READY_LINE}' in its log yet`})`);
    }
    await sleep(100);
  }
}

function startFailure(config: BrokerConfig, what: string): Error {
  const logPath = join(config.dataDir, LOG_FILE);
  const outPath = join(config.dataDir, OUT_FILE);
  const tail = readTail(logPath);
  const fault = fatalFault(tail);
  const parts = [`${what} on ${HOST}:${config.port}${fault === undefined ? '' : `: ${fault}`}`];
  const out = lastLines(readTail(outPath), 8);
  if (out.length > 0) parts.push(`last lines of ${outPath}:\n${out.join('\n')}`);
  const log = lastLines(tail, 15);
  parts.push(log.length > 0 ? `last lines of ${logPath}:\n${log.join('\n')}` : `${logPath} is empty`);
  return new Error(parts.join('\n'));
}
