/**
 * Watermarks that travel through the log (DESIGN 4.10): every producer task
 * writes watermark records into each partition of the streams it writes, and
 * a consumer combines, per partition, the watermarks of the producer tasks it
 * knows of.
 *
 * @module
 */
import { NO_WATERMARK } from './watermark.ts';

/** What one watermark record says. */
export interface WatermarkReport {
  /** The producing application (or external producer group). */
  readonly application: string;
  /** The producer task within it. */
  readonly task: string;
  /** How many tasks of that application write this stream: a consumer waits for all of them. */
  readonly tasks: number;
  readonly watermark: number;
  /** Written at a clean stop: the task no longer holds consumers back, until it writes again. */
  readonly stopped: boolean;
}

/** What a consumer knows of one producer task on one partition. */
export interface ProducerState {
  watermark: number;
  stopped: boolean;
  /** Declared idle (real-time, no records from it for the idleness timeout): not waited for. */
  idle: boolean;
  /** Wall-clock time its last record (data or watermark) was fetched: for idleness only. */
  lastSeenAt: number;
}

/** What a consumer knows of one producing application on one partition. */
export interface ProducerApplication {
  /** Task count from its latest watermark record; undefined while only its data was seen. */
  tasks: number | undefined;
  readonly producers: Map<string, ProducerState>;
  /** Whether the tasks that have not reported yet are declared idle. */
  missingIdle: boolean;
  /** Wall-clock time the application was first seen: the missing tasks' idleness counts from there. */
  readonly firstSeenAt: number;
}

/**
 * Rule (DESIGN 4.10): a partition's watermark is the minimum over the
 * producer tasks the consumer knows of — from their watermark records, or
 * from their data (a task seen only by its data has promised nothing) —
 * where a task an application's count announces but that has not reported
 * holds it back at {@link NO_WATERMARK}. A task that stopped cleanly, or was
 * declared idle, is left out. Undefined when no task is left: the partition
 * holds nothing back (it is idle for the operator's minimum).
 */
export function producersWatermark(applications: Iterable<ProducerApplication>): number | undefined {
  let min: number | undefined;
  const take = (w: number): void => {
    if (min === undefined || w < min) min = w;
  };
  for (const app of applications) {
    for (const p of app.producers.values()) if (!p.stopped && !p.idle) take(p.watermark);
    if (app.tasks !== undefined && app.producers.size < app.tasks && !app.missingIdle) take(NO_WATERMARK);
  }
  return min;
}

/** Splits a producer id `application/task` (the `tidemark.producer` header) into its parts. */
export function parseProducerId(id: string): { application: string; task: string } {
  const slash = id.lastIndexOf('/');
  return slash < 0 ? { application: id, task: '' } : { application: id.slice(0, slash), task: id.slice(slash + 1) };
}
