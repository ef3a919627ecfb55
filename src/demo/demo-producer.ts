/**
 * How the demo's simulated gateways write to the embedded log: first a
 * backlog with the broker times it would have had, then live, while the
 * application runs.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EmbeddedLog } from '../connectors/embedded/embedded-log.ts';
import type { Clock } from '../time/clock.ts';
import type { SensorWorkload, SentRecord } from './demo-workload.ts';

/** How often the live producer appends what the gateways have sent meanwhile. */
export const PRODUCE_EVERY_MS = 50;

/** The log's broker clock, which the demo can pin while it writes history. */
export class DemoClock implements Clock {
  pinned: number | undefined;
  now(): number {
    return this.pinned ?? Date.now();
  }
}

/**
 * Writes the backlog with the broker times it would have had, so that a
 * timestamp fallback to broker time lands where it would have in a live
 * system: records sent in the same second go in one append, stamped with
 * that second's last send time. (One append per gateway flush would be
 * truer, and several times slower: each append is a durable write.)
 */
export async function appendBacklog(log: EmbeddedLog, clock: DemoClock, sent: readonly SentRecord[]): Promise<void> {
  const pending: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < sent.length; ) {
      const second = Math.floor(sent[i]!.sentAt / 1000);
      let j = i;
      while (j < sent.length && Math.floor(sent[j]!.sentAt / 1000) === second) j++;
      clock.pinned = sent[j - 1]!.sentAt;
      // append() reads the clock synchronously, before its first await: pinning around the call is enough.
      pending.push(log.append(sent.slice(i, j).map((s) => s.record)));
      i = j;
    }
  } finally {
    clock.pinned = undefined;
  }
  await Promise.all(pending);
}

/**
 * The gateways and the maintenance tool, live: every {@link PRODUCE_EVERY_MS}
 * they append what they have sent by now, in this process, while the
 * application runs (the embedded log takes appends from another process
 * just the same).
 */
export class LiveProducer {
  appended = 0;
  /** Wall-clock time of the last append. */
  lastAppendAt = 0;
  #stopped = false;
  readonly #done: Promise<void>;
  readonly #durable: Promise<unknown>[] = [];

  constructor(log: EmbeddedLog, workload: SensorWorkload) {
    this.#done = this.#loop(log, workload);
    // Surfaced by stop(); until then a failure must not be an unhandled rejection.
    this.#done.catch(() => {});
  }

  async #loop(log: EmbeddedLog, workload: SensorWorkload): Promise<void> {
    while (!this.#stopped) {
      const batch = workload.sentBy(Date.now());
      if (batch.length > 0) {
        // The records are in the log once append() returns; its promise says when they are on disk.
        // Gateways do not wait for that before sending their next batch, and neither does this loop.
        const durable = log.append(batch.map((s) => s.record));
        durable.catch(() => {});
        this.#durable.push(durable);
        this.appended += batch.length;
        this.lastAppendAt = Date.now();
      }
      await sleep(PRODUCE_EVERY_MS);
    }
  }

  /** Stops once everything appended is durable; rethrows what made the producer fail, if anything. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
    await Promise.all(this.#durable);
  }
}
