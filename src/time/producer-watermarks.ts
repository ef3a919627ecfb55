/**
 * Watermarks that travel through the log: every producer task
 * writes watermark records into each partition of the streams it writes, and
 * a consumer combines, per partition, the watermarks of the producer tasks it
 * knows of.
 *
 * @module
 */
import { NO_WATERMARK, combineWatermarks } from './watermark.ts';

/** What one watermark record says. */
export interface WatermarkReport {
  /** The producing application (or external producer group). */
  readonly application: string;
  /** The producer task within it. */
  readonly task: string;
  /** How many tasks of that application write this stream: a consumer waits for all of them. */
  readonly tasks: number;
  /** The watermark: the task will write no more records at or below it in this partition. */
  readonly watermark: number;
  /** Written at a clean stop: the task's last promise, kept until it runs again (a stop releases nothing beyond it). */
  readonly stopped: boolean;
  /** The run (of the producing application) that wrote it: larger for a later run. Absent from external producers. */
  readonly generation?: number;
  /**
   * An announcement: written by each task of a run before anything else it
   * writes there, naming every task of that run writing the stream. The
   * newest generation's list is the application's task set on the partition.
   */
  readonly members?: readonly string[];
  /** A release written by an operator (`tidemark release`): the task no longer exists; do not wait for it. */
  readonly released?: boolean;
  /**
   * An end of catch-up: written, in a catch-up shared by a group, by a task
   * into every partition of each internal stream it writes once it has
   * processed its inputs to their ends — the catch-up's number. Its
   * consumers know then that nothing more of that task's comes in this
   * catch-up, without waiting on the task's member or guessing from time.
   */
  readonly endOfCatchUp?: number;
  /**
   * A move of the task between the members of a group (real time), written
   * into every partition of each internal stream it writes: `leaving` by
   * the member handing it over, in its last commit of it; `arrived` by the
   * member taking it over, first thing. In between its consumers wait for
   * its share instead of passing it over as idle.
   */
  readonly move?: 'leaving' | 'arrived';
}

/** What a consumer knows of one producer task on one partition. */
export interface ProducerState {
  /** Its watermark on the partition ({@link NO_WATERMARK}: none yet). */
  watermark: number;
  /** It wrote a stop: not running now, its watermark still its promise (shown; silent, so idleness may pass it). */
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
  /** The newest generation announced, and its tasks: undefined for producers that do not announce (external ones). */
  generation: number | undefined;
  /** The tasks that generation named. */
  members: Set<string> | undefined;
  /** Its tasks seen on the partition, by task. */
  readonly producers: Map<string, ProducerState>;
  /** Tasks an operator released, of an application that does not announce its tasks: no longer expected. */
  readonly released: Set<string>;
  /** Whether the tasks that have not reported yet are declared idle. */
  missingIdle: boolean;
  /** Wall-clock time since which the tasks not reported yet are expected (first seen, or the newest announcement): their idleness counts from there. */
  expectedSince: number;
}

/** A new application as a consumer first sees it, `now` (wall clock, for idleness). */
export function newProducerApplication(tasks: number | undefined, now: number): ProducerApplication {
  return { tasks, generation: undefined, members: undefined, producers: new Map(), released: new Set(), missingIdle: false, expectedSince: now };
}

/**
 * The tasks of an application that are expected but have not reported:
 * those its newest announcement names, or, for an application that does
 * not announce, how many its count says beyond the tasks seen and released
 * (by name where known, else `undefined` for each task not seen yet).
 */
export function expectedTasks(app: ProducerApplication): (string | undefined)[] {
  if (app.members !== undefined) return [...app.members].filter((m) => !app.producers.has(m));
  const missing = (app.tasks ?? 0) - app.producers.size - app.released.size;
  return missing > 0 ? new Array<undefined>(missing).fill(undefined) : [];
}

/**
 * Rule: a partition's watermark is the minimum over the producer tasks the
 * consumer knows of — from their watermark records, or from their data (a
 * task seen only by its data has promised nothing) — where a task that is
 * expected but has not reported holds it back at {@link NO_WATERMARK}:
 * one its application's newest announcement names, or, for a producer that
 * does not announce, one more than the tasks seen up to its count. A task
 * that **stopped** still counts at its last watermark: a stop is its last
 * promise, and it may run again (a restart resumes from there). Only a task
 * declared idle, or dropped from its application's task set, is left out.
 * Undefined when no task is left: the partition holds nothing back (it is
 * idle for the operator's minimum).
 */
export function producersWatermark(applications: Iterable<ProducerApplication>): number | undefined {
  const terms: { watermark: number; idle: boolean }[] = [];
  for (const app of applications) for (const term of watermarkTerms('', app)) terms.push({ watermark: term.watermark, idle: false });
  return combineWatermarks(terms);
}

/** The producer task whose watermark is a partition's: see {@link producersWatermark}. */
export interface WatermarkHolder {
  /** The producing application. */
  readonly application: string;
  /** The task, or undefined for "a task not seen yet" of an application that counts its tasks only. */
  readonly task: string | undefined;
  /** The watermark it holds the partition at. */
  readonly watermark: number;
  /** `reported`: its watermark; `stopped`: its last promise; `expected`: announced, not reported; `data-only`: seen by its data only. */
  readonly state: 'reported' | 'stopped' | 'expected' | 'data-only';
}

/**
 * What holds a partition's watermark where it is: the least of
 * {@link producersWatermark}'s terms (the first on a tie), or undefined when
 * nothing does. Applications are keyed by name.
 */
export function holdingBack(applications: ReadonlyMap<string, ProducerApplication>): WatermarkHolder | undefined {
  let best: WatermarkHolder | undefined;
  for (const [name, app] of applications) for (const term of watermarkTerms(name, app)) if (best === undefined || term.watermark < best.watermark) best = term;
  return best;
}

/** The terms one application contributes to a partition's minimum (the rule of {@link producersWatermark}). */
function* watermarkTerms(name: string, app: ProducerApplication): Iterable<WatermarkHolder> {
  for (const [task, p] of app.producers) {
    if (p.idle) continue;
    yield { application: name, task, watermark: p.watermark, state: p.stopped ? 'stopped' : p.watermark === NO_WATERMARK ? 'data-only' : 'reported' };
  }
  if (app.missingIdle) return;
  for (const task of expectedTasks(app)) yield { application: name, task, watermark: NO_WATERMARK, state: 'expected' };
}

/**
 * Rule: an application's task set on a partition is the one its newest
 * generation announced. An announcement of a newer generation replaces the
 * set: tasks it does not name no longer exist (the application was rescaled
 * without them) and are dropped; tasks it names that have not reported are
 * expected. An announcement of an older generation (a run that started
 * earlier) changes nothing. Returns whether the set was replaced.
 */
export function applyAnnouncement(app: ProducerApplication, generation: number, members: readonly string[], now: number): boolean {
  if (app.generation !== undefined && generation < app.generation) return false;
  const replaced = app.generation !== generation;
  app.generation = generation;
  app.members = new Set(members);
  app.tasks = members.length;
  app.released.clear();
  for (const task of [...app.producers.keys()]) if (!app.members.has(task)) app.producers.delete(task);
  // The tasks a new run names are expected from now on: idleness counts from this announcement.
  if (replaced) {
    app.missingIdle = false;
    app.expectedSince = now;
  }
  return true;
}

/**
 * Rule: a release (written into the log by an operator) drops the task from
 * its application's producers and task set: the consumer no longer waits for
 * it. It counts again if it writes again.
 */
export function applyRelease(app: ProducerApplication, task: string): void {
  app.producers.delete(task);
  if (app.members === undefined) app.released.add(task);
  else {
    app.members.delete(task);
    app.tasks = app.members.size;
  }
}

/** A task writes (again): it is a producer of its application, released or not before. */
export function producerWrites(app: ProducerApplication, task: string): void {
  app.released.delete(task);
}

/**
 * Rule: a record a producer writes is late — for every consumer — when its
 * event time is at or below the watermark that producer already wrote to
 * its partition (`NO_WATERMARK`, or undefined: none).
 */
export function isProducerLate(eventTime: number | null, watermark: number | undefined): boolean {
  return eventTime !== null && watermark !== undefined && watermark !== NO_WATERMARK && eventTime <= watermark;
}

/**
 * Rule: a run's generation is the time it starts (on the run's clock), or one
 * more than the newest generation its tasks ran in before, whichever is
 * larger — so a later run of an application announces a larger generation
 * than the runs before it, even when the clock went back.
 */
export function nextGeneration(startedAt: number, lastGeneration: number | undefined): number {
  return lastGeneration === undefined ? startedAt : Math.max(startedAt, lastGeneration + 1);
}
