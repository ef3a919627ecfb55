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

/**
 * The demo's clock, the log's broker clock: the workload's time, which runs
 * with the wall clock from the moment {@link DemoClock.startAt} anchors it
 * (so that a seed gives the same timestamps, hence the same fingerprints,
 * in every run, whenever it is run), and which the demo pins while it
 * writes records with the broker times they would have had.
 */
export class DemoClock implements Clock {
  pinned: number | undefined;
  #shift = 0;
  /** From now on, the clock reads `t` plus the wall-clock time elapsed since this call. */
  startAt(t: number): void {
    this.#shift = Date.now() - t;
  }
  now(): number {
    return this.pinned ?? Date.now() - this.#shift;
  }
}

/**
 * Appends records each stamped with its send time as broker time (pinning
 * the log's clock around each append), records sent at the same instant in
 * one append. `bucketMs` groups coarser: a backlog's records sent in the
 * same second go in one append stamped with that second's last send time
 * (one append per gateway flush would be truer, and several times slower:
 * each append is a durable write). Returns each append's durability.
 */
function appendStamped(log: EmbeddedLog, clock: DemoClock, sent: readonly SentRecord[], bucketMs: number): Promise<unknown>[] {
  const pending: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < sent.length; ) {
      const bucket = Math.floor(sent[i]!.sentAt / bucketMs);
      let j = i;
      while (j < sent.length && Math.floor(sent[j]!.sentAt / bucketMs) === bucket) j++;
      clock.pinned = sent[j - 1]!.sentAt;
      // append() reads the clock synchronously, before its first await: pinning around the call is enough.
      pending.push(log.append(sent.slice(i, j).map((s) => s.record)));
      i = j;
    }
  } finally {
    clock.pinned = undefined;
  }
  return pending;
}

/**
 * Writes the backlog with the broker times it would have had, so that a
 * timestamp fallback to broker time lands where it would have in a live
 * system.
 */
export async function appendBacklog(log: EmbeddedLog, clock: DemoClock, sent: readonly SentRecord[]): Promise<void> {
  await Promise.all(appendStamped(log, clock, sent, 1000));
}

/**
 * The gateways and the maintenance tool, live: every {@link PRODUCE_EVERY_MS}
 * they append what they have sent by now on the demo's clock, in this
 * process, while the application runs (the embedded log takes appends from
 * another process just the same), until the clock reaches `until`. Each
 * record's broker time is its send time, so what is sent — records and
 * broker times — depends on the seed alone, not on when the loop wakes up.
 */
export class LiveProducer {
  appended = 0;
  /** Wall-clock time of the last append. */
  lastAppendAt = 0;
  #stopped = false;
  readonly #done: Promise<void>;
  readonly #durable: Promise<unknown>[] = [];

  constructor(log: EmbeddedLog, workload: SensorWorkload, clock: DemoClock, until: number) {
    this.#done = this.#loop(log, workload, clock, until);
    // Surfaced by stop(); until then a failure must not be an unhandled rejection.
    this.#done.catch(() => {});
  }

  async #loop(log: EmbeddedLog, workload: SensorWorkload, clock: DemoClock, until: number): Promise<void> {
    while (!this.#stopped) {
      const t = Math.min(clock.now(), until);
      const batch = workload.sentBy(t);
      if (batch.length > 0) {
        // The records are in the log once append() returns; its promise says when they are on disk.
        // Gateways do not wait for that before sending their next batch, and neither does this loop.
        for (const durable of appendStamped(log, clock, batch, 1)) {
          durable.catch(() => {});
          this.#durable.push(durable);
        }
        this.appended += batch.length;
        this.lastAppendAt = Date.now();
      }
      if (t === until) return;
      await sleep(PRODUCE_EVERY_MS);
    }
  }

  /** Resolves when the gateways have sent everything up to `until` (or were stopped). */
  async sent(): Promise<void> {
    await this.#done;
  }

  /** Stops once everything appended is durable; rethrows what made the producer fail, if anything. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
    await Promise.all(this.#durable);
  }
}
