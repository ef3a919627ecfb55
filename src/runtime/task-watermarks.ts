import { NO_WATERMARK, advanceWatermark, combineWatermarks, type WatermarkStrategy } from '../time/watermark.ts';
import { applyAnnouncement, applyRelease, expectedTasks, holdingBack, newProducerApplication, producerWrites, producersWatermark, type ProducerApplication, type ProducerState, type WatermarkHolder, type WatermarkReport } from '../time/producer-watermarks.ts';
import type { StreamRecord } from '../records/record.ts';
import { producerIdOf, producerOfHeader } from './ids.ts';

/** What a task checkpoints of its watermarks, so a restart resumes them exactly. */
export interface SavedWatermarks {
  /** Generated watermark per input partition (`stream/partition`). */
  readonly partitions: Readonly<Record<string, number>>;
  /** Producers reported per input partition, by application, then task. */
  readonly producers: Readonly<Record<string, Readonly<Record<string, SavedApplication>>>>;
  /** Watermark per operator group (its upstream inputs, e.g. `0,1`): it never decreases, across restarts too. */
  readonly groups: Readonly<Record<string, number>>;
  /** The watermark last written into each output stream. */
  readonly published: Readonly<Record<string, number>>;
}

interface SavedApplication {
  readonly tasks: number | null;
  readonly producers: Readonly<Record<string, { readonly watermark: number; readonly stopped: boolean }>>;
  /** The newest generation announced and its tasks (absent in checkpoints of older versions, and for external producers). */
  readonly generation?: number;
  readonly members?: readonly string[];
  /** Tasks released by an operator, of an application that does not announce (absent when none). */
  readonly released?: readonly string[];
}

/** One input partition of a task, as far as watermarks go. */
export interface WatermarkInput {
  /** `stream/partition`. */
  readonly key: string;
  readonly strategy: WatermarkStrategy;
}

interface InputState extends WatermarkInput {
  watermark: number;
  /** Idleness of a generated input, or of a from-stream input that has no producer at all. */
  idle: boolean;
  lastRecordAt: number;
  readonly applications: Map<string, ProducerApplication>;
}

/** A group of operators fed by the same inputs: they share one watermark. */
interface Group {
  readonly key: string;
  readonly inputs: readonly number[];
  watermark: number;
}

/** An idleness decision to audit: which input, which producer, and why. */
export interface IdleDecision {
  readonly input: number;
  readonly detail: string;
}

/**
 * The watermarks of one task (docs/watermarks.md): per input partition, from
 * its generator or from the watermark records of its producers; per group
 * of operators, the minimum over the non-idle inputs upstream of them,
 * never decreasing. Everything but idleness moves only when the task
 * processes a record, so watermarks are a function of the input.
 */
export class TaskWatermarks {
  readonly #inputs: InputState[];
  readonly #groups: Group[];
  readonly #published = new Map<string, number>();

  constructor(inputs: readonly WatermarkInput[], groups: readonly (readonly number[])[], saved: SavedWatermarks | undefined, now: number) {
    this.#inputs = inputs.map((i) => ({ ...i, watermark: saved?.partitions[i.key] ?? NO_WATERMARK, idle: false, lastRecordAt: now, applications: restoreApplications(saved?.producers[i.key], now) }));
    this.#groups = groups.map((g) => {
      const key = groupKey(g);
      return { key, inputs: g, watermark: saved?.groups[key] ?? NO_WATERMARK };
    });
    for (const [stream, w] of Object.entries(saved?.published ?? {})) this.#published.set(stream, w);
  }

  /** Index of the group fed by exactly these inputs. */
  groupOf(inputs: readonly number[]): number {
    const key = groupKey(inputs);
    const i = this.#groups.findIndex((g) => g.key === key);
    if (i < 0) throw new Error(`no watermark group for inputs ${key}`);
    return i;
  }

  groupWatermark(group: number): number {
    return this.#groups[group]!.watermark;
  }

  /** The least watermark of all groups: the task's (`NO_WATERMARK` without any group). */
  minimum(): number {
    let min: number | undefined;
    for (const g of this.#groups) if (min === undefined || g.watermark < min) min = g.watermark;
    return min ?? NO_WATERMARK;
  }

  /** The current watermark of an input partition; undefined when it holds nothing back (idle, or all its producers gone). */
  inputWatermark(input: number): number | undefined {
    const s = this.#inputs[input]!;
    if (s.idle) return undefined;
    if (s.strategy.kind === 'generated') return s.watermark;
    if (s.applications.size === 0) return NO_WATERMARK;
    return producersWatermark(s.applications.values());
  }

  /** A data record of `input` was processed: its generator sees it, or its producer becomes known. */
  onData(input: number, record: StreamRecord, producer: string | undefined, now: number): void {
    const s = this.#inputs[input]!;
    if (s.strategy.kind === 'generated') {
      s.watermark = advanceWatermark(s.watermark, s.strategy.generator.next(s.watermark, record));
      return;
    }
    if (producer === undefined || producer === '') return;
    const { application, task } = producerOfHeader(producer);
    const app = this.#application(s, application, undefined, now);
    producerWrites(app, task);
    const p = app.producers.get(task);
    if (p === undefined) app.producers.set(task, unreported(now));
    else p.stopped = false;
  }

  /** A watermark record of `input` was processed. Generated inputs ignore watermark records. */
  onReport(input: number, report: WatermarkReport, now: number): void {
    const s = this.#inputs[input]!;
    if (s.strategy.kind === 'generated') return;
    if (report.released === true) {
      // Releasing a task of an application never seen here changes nothing.
      const known = s.applications.get(report.application);
      if (known !== undefined) applyRelease(known, report.task);
      return;
    }
    const app = this.#application(s, report.application, report.tasks, now);
    producerWrites(app, report.task);
    if (report.members !== undefined && report.generation !== undefined) {
      // An announcement promises nothing of the task's own: it says which tasks the application has now.
      applyAnnouncement(app, report.generation, report.members, now);
      if (app.members?.has(report.task) === true && !app.producers.has(report.task)) app.producers.set(report.task, unreported(now));
      return;
    }
    // A producer that announces its tasks has its count from the announcement; others count in every record.
    if (app.members === undefined) app.tasks = report.tasks;
    const p = app.producers.get(report.task);
    if (p === undefined) app.producers.set(report.task, { watermark: report.watermark, stopped: report.stopped, idle: false, lastSeenAt: now });
    else {
      p.watermark = advanceWatermark(p.watermark, report.watermark);
      p.stopped = report.stopped;
    }
  }

  #application(s: InputState, name: string, tasks: number | undefined, now: number): ProducerApplication {
    let app = s.applications.get(name);
    if (app === undefined) {
      app = newProducerApplication(tasks, now);
      s.applications.set(name, app);
    }
    return app;
  }

  /** A record of `input` (from `producer`, when known) was fetched: whatever it comes from is not idle. */
  onFetched(input: number, producer: string | undefined, now: number): void {
    const s = this.#inputs[input]!;
    s.lastRecordAt = now;
    s.idle = false;
    if (s.strategy.kind !== 'from-stream' || producer === undefined || producer === '') return;
    const { application, task } = producerOfHeader(producer);
    const app = s.applications.get(application);
    const p = app?.producers.get(task);
    if (p !== undefined) {
      p.lastSeenAt = now;
      p.idle = false;
    } else if (app !== undefined) app.missingIdle = false;
  }

  /**
   * Real-time: declares idle what has had no record for its strategy's
   * idleness timeout: an input with nothing buffered or unfetched, or a
   * producer none of whose records was fetched meanwhile. Each declaration is a nondeterministic decision,
   * returned for the audit.
   */
  declareIdle(now: number, drained: (input: number) => boolean, fetchedToEnd: (input: number) => boolean): IdleDecision[] {
    const decisions: IdleDecision[] = [];
    this.#inputs.forEach((s, i) => {
      const ms = s.strategy.idlenessMs;
      // A producer is silent when none of its records was fetched for `ms` while the partition
      // was read to its end; a whole input, when it has nothing buffered either.
      if (ms === undefined || !fetchedToEnd(i)) return;
      const silent = (since: number): boolean => now - since >= ms;
      if (s.strategy.kind === 'generated' || s.applications.size === 0) {
        if (!s.idle && drained(i) && silent(s.lastRecordAt)) {
          s.idle = true;
          decisions.push({ input: i, detail: `no records for ${ms} ms: left out of the watermark until it has data again` });
        }
        return;
      }
      for (const [name, app] of s.applications) {
        for (const [task, p] of app.producers) {
          // A stopped task is silent too: idleness is how a consumer stops waiting for one that never comes back.
          if (p.idle || !silent(p.lastSeenAt)) continue;
          p.idle = true;
          decisions.push({ input: i, detail: `producer ${producerIdOf(name, task)} ${p.stopped ? 'stopped and ' : ''}silent for ${ms} ms (last watermark ${p.watermark}): no longer waited for` });
        }
        const missing = expectedTasks(app).length;
        if (!app.missingIdle && missing > 0 && silent(app.expectedSince)) {
          app.missingIdle = true;
          decisions.push({ input: i, detail: `${missing} of ${app.tasks} tasks of ${name} never reported in ${ms} ms: no longer waited for` });
        }
      }
    });
    return decisions;
  }

  /** Recomputes every group's watermark from its inputs; returns whether any advanced. */
  update(): boolean {
    let advanced = false;
    for (const g of this.#groups) {
      const w = combineWatermarks(g.inputs.map((i) => {
        const iw = this.inputWatermark(i);
        return { watermark: iw ?? NO_WATERMARK, idle: iw === undefined };
      }));
      if (w !== undefined && w > g.watermark) {
        g.watermark = w;
        advanced = true;
      }
    }
    return advanced;
  }

  /** The watermark last written into `stream`. */
  published(stream: string): number {
    return this.#published.get(stream) ?? NO_WATERMARK;
  }

  markPublished(stream: string, watermark: number): void {
    this.#published.set(stream, watermark);
  }

  /**
   * What holds each from-stream input partition's watermark back: the
   * producer task at its minimum, or `none` where no producer is known yet.
   * Generated inputs are left out.
   */
  holders(): { key: string; holder: WatermarkHolder | 'none' | undefined }[] {
    return this.#inputs.filter((s) => s.strategy.kind === 'from-stream' && !s.idle).map((s) => ({ key: s.key, holder: s.applications.size === 0 ? 'none' : holdingBack(s.applications) }));
  }

  /** Watermark per input partition, for display: undefined ones show as idle. */
  inputs(): { key: string; watermark: number | undefined }[] {
    return this.#inputs.map((s, i) => ({ key: s.key, watermark: this.inputWatermark(i) }));
  }

  snapshot(): SavedWatermarks {
    const partitions: Record<string, number> = {};
    const producers: Record<string, Record<string, SavedApplication>> = {};
    for (const s of this.#inputs) {
      if (s.strategy.kind === 'generated') partitions[s.key] = s.watermark;
      else if (s.applications.size > 0) {
        const apps: Record<string, SavedApplication> = {};
        for (const [name, app] of s.applications) {
          const tasks: Record<string, { watermark: number; stopped: boolean }> = {};
          for (const [task, p] of app.producers) tasks[task] = { watermark: p.watermark, stopped: p.stopped };
          apps[name] = {
            tasks: app.tasks ?? null,
            producers: tasks,
            ...(app.members === undefined ? {} : { generation: app.generation, members: [...app.members] }),
            ...(app.released.size === 0 ? {} : { released: [...app.released] }),
          };
        }
        producers[s.key] = apps;
      }
    }
    return {
      partitions,
      producers,
      groups: Object.fromEntries(this.#groups.map((g) => [g.key, g.watermark])),
      published: Object.fromEntries(this.#published),
    };
  }
}

/** A producer task known, but with nothing promised yet. */
function unreported(now: number): ProducerState {
  return { watermark: NO_WATERMARK, stopped: false, idle: false, lastSeenAt: now };
}

function groupKey(inputs: readonly number[]): string {
  return [...inputs].sort((a, b) => a - b).join(',');
}

function restoreApplications(saved: Readonly<Record<string, SavedApplication>> | undefined, now: number): Map<string, ProducerApplication> {
  const apps = new Map<string, ProducerApplication>();
  for (const [name, a] of Object.entries(saved ?? {})) {
    const producers = new Map(Object.entries(a.producers).map(([task, p]) => [task, { watermark: p.watermark, stopped: p.stopped, idle: false, lastSeenAt: now }]));
    apps.set(name, { ...newProducerApplication(a.tasks ?? undefined, now), generation: a.generation, members: a.members === undefined ? undefined : new Set(a.members), producers, released: new Set(a.released ?? []) });
  }
  return apps;
}
