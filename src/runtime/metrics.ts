/**
 * A run's metrics in the Prometheus text format (prom-client), read from
 * its observation at each scrape, so they cannot drift from what
 * `app.observe()` and the live page say. Named after Kafka Streams' and
 * Flink's (records-lag, currentWatermark, event-time lag, late records
 * dropped), with `_milliseconds` / `_seconds` / `_total` units. A clock
 * with no value yet has no sample, and its `has_watermark` gauge says 0:
 * never `NaN`.
 *
 * @example
 * const metrics = createMetrics(() => app.observe());
 * console.log(await metrics.text()); // what /metrics of `tidemark run --http` serves
 *
 * @module
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DIAGNOSTICS_CHANNELS, type CommitMessage, type RestoreMessage } from './diagnostics.ts';
import type { RunObservation } from './observation.ts';

/** The metrics of one application's runs in this process. */
export interface Metrics {
  /** The registry (to merge with others, or to serve yourself). */
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric, as of now. */
  text(): Promise<string>;
  /** The Content-Type to serve `text()` with. */
  readonly contentType: string;
  /** Stops listening for commits and restores. */
  close(): void;
}

type Labels = Record<string, string>;
type Sample = readonly [Labels, number];

/**
 * Metrics of the application whose observations `observe` returns
 * (undefined before its first run: no samples). `applicationId` filters the
 * commit and restore events, which come from every run in the process.
 */
export function createMetrics(observe: () => RunObservation | undefined, applicationId?: string): Metrics {
  const registry = new Registry();
  // Gauges and counters alike are read from the observation at each scrape: reset, then set to what it
  // says (a counter's value is the run's total so far, which only grows while the run goes on).
  const collected = (type: 'gauge' | 'counter', name: string, help: string, labelNames: readonly string[], samples: (o: RunObservation) => Iterable<Sample>): void => {
    const config = { name, help, labelNames: [...labelNames], registers: [registry] };
    const fill = (set: (labels: Labels, v: number) => void): void => {
      const o = observe();
      if (o !== undefined) for (const [labels, v] of samples(o)) set({ application: o.applicationId, ...labels }, v);
    };
    if (type === 'gauge') {
      new Gauge({
        ...config,
        collect() {
          this.reset();
          fill((labels, v) => this.set(labels, v));
        },
      });
    } else {
      new Counter({
        ...config,
        collect() {
          this.reset();
          fill((labels, v) => v > 0 && this.inc(labels, v));
        },
      });
    }
  };
  const gauge = (name: string, help: string, labelNames: readonly string[], samples: (o: RunObservation) => Iterable<Sample>): void => collected('gauge', name, help, labelNames, samples);
  const counter = (name: string, help: string, labelNames: readonly string[], samples: (o: RunObservation) => Iterable<Sample>): void => collected('counter', name, help, labelNames, samples);
  const task = ['application', 'task'];
  const input = ['application', 'task', 'stream', 'partition'];
  const operator = ['application', 'task', 'operator'];
  const known = <T>(v: T | null): v is T => v !== null;

  gauge('tidemark_task_stream_time_milliseconds', 'Stream time of the task: the largest record timestamp it processed (no sample before any).', task, (o) =>
    o.tasks.filter((t) => known(t.streamTime)).map((t) => [{ task: t.id }, t.streamTime!]),
  );
  gauge('tidemark_task_watermark_milliseconds', 'Watermark of the task: the least of its operators\' input watermarks (no sample while it has none).', task, (o) =>
    o.tasks.filter((t) => known(t.watermark)).map((t) => [{ task: t.id }, t.watermark!]),
  );
  gauge('tidemark_task_has_watermark', '1 when the task has a watermark, 0 while it has none yet.', task, (o) => o.tasks.map((t) => [{ task: t.id }, t.watermark === null ? 0 : 1]));
  gauge('tidemark_task_event_time_lag_milliseconds', 'Wall clock minus the task\'s watermark: how far event time is behind now (no sample without a watermark).', task, (o) =>
    o.tasks.filter((t) => known(t.eventTimeLagMs)).map((t) => [{ task: t.id }, t.eventTimeLagMs!]),
  );
  gauge('tidemark_task_caught_up', '1 when the task has read every input to its end (catch-up) and drained its buffers.', task, (o) => o.tasks.map((t) => [{ task: t.id }, t.caughtUp ? 1 : 0]));
  gauge('tidemark_input_lag_records', 'Records of the input partition not yet fetched (Kafka Streams\' records-lag).', input, (o) =>
    o.tasks.flatMap((t) => t.inputs.map((i): Sample => [inputLabels(t.id, i.key), i.lag])),
  );
  gauge('tidemark_input_watermark_milliseconds', 'Watermark of the input partition (no sample while it has none, or is idle).', input, (o) =>
    o.tasks.flatMap((t) => t.inputs.filter((i) => known(i.watermark)).map((i): Sample => [inputLabels(t.id, i.key), i.watermark!])),
  );
  gauge('tidemark_input_idle', '1 when the input partition was declared idle (it holds the watermark back no more).', input, (o) =>
    o.tasks.flatMap((t) => t.inputs.map((i): Sample => [inputLabels(t.id, i.key), i.idle ? 1 : 0])),
  );
  gauge('tidemark_operator_watermark_milliseconds', 'Input watermark of the processor or sink (no sample while it has none).', operator, (o) =>
    o.tasks.flatMap((t) => t.operators.filter((p) => known(p.watermark)).map((p): Sample => [{ task: t.id, operator: p.node }, p.watermark!])),
  );
  counter('tidemark_records_consumed_total', 'Records fetched from the task\'s inputs.', task, (o) => o.tasks.map((t) => [{ task: t.id }, t.consumed]));
  counter('tidemark_records_processed_total', 'Records the task processed.', task, (o) => o.tasks.map((t) => [{ task: t.id }, t.processed]));
  counter('tidemark_dead_letters_total', 'Records the task sent to the dead-letter stream.', task, (o) => o.tasks.map((t) => [{ task: t.id }, t.deadLettered]));
  counter('tidemark_late_records_total', 'Records late for every window (or join window, or table history) they belong to, by the operator that found them late.', operator, (o) =>
    o.tasks.flatMap((t) => t.operators.map((p): Sample => [{ task: t.id, operator: p.node }, p.lateRecords])),
  );
  counter('tidemark_late_windows_total', 'Windows that skipped a record because they had closed, by operator.', operator, (o) =>
    o.tasks.flatMap((t) => t.operators.map((p): Sample => [{ task: t.id, operator: p.node }, p.lateWindows])),
  );
  counter('tidemark_audit_entries_total', 'Audit entries by kind: fallbacks, dead letters, late records, and nondeterministic decisions.', ['application', 'kind'], (o) =>
    Object.entries(o.audited).map(([kind, n]): Sample => [{ kind }, n]),
  );
  counter('tidemark_nondeterministic_decisions_total', 'Nondeterministic decisions by kind: a run without any reproduces its output from its input.', ['application', 'kind'], (o) =>
    Object.entries(o.audited).filter(([kind]) => kind.startsWith('nondeterministic:')).map(([kind, n]): Sample => [{ kind }, n]),
  );
  counter('tidemark_commits_total', 'Commits of the run\'s tasks.', ['application'], (o) => [[{}, o.commits]]);

  const commitSeconds = new Histogram({ name: 'tidemark_commit_duration_seconds', help: 'How long a commit of the run\'s tasks took.', labelNames: ['application'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] });
  const restored = new Gauge({ name: 'tidemark_restore_records', help: 'Changelog records a task store has restored so far in its current restore (Kafka).', labelNames: ['application', 'task', 'store'], registers: [registry] });
  const restoreTotal = new Gauge({ name: 'tidemark_restore_total_records', help: 'Changelog offsets the task store\'s restore covers (an upper bound of its records).', labelNames: ['application', 'task', 'store'], registers: [registry] });
  const ours = (id: string): boolean => applicationId === undefined || id === applicationId;
  const onCommit = (m: unknown): void => {
    const c = m as CommitMessage;
    if (ours(c.applicationId)) commitSeconds.observe({ application: c.applicationId }, c.durationMs / 1000);
  };
  const onRestore = (m: unknown): void => {
    const r = m as RestoreMessage;
    if (!ours(r.applicationId)) return;
    const labels = { application: r.applicationId, task: r.taskId, store: r.store };
    restored.set(labels, r.done);
    restoreTotal.set(labels, r.total);
  };
  subscribe(DIAGNOSTICS_CHANNELS.commit, onCommit);
  subscribe(DIAGNOSTICS_CHANNELS.restore, onRestore);
  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close() {
      unsubscribe(DIAGNOSTICS_CHANNELS.commit, onCommit);
      unsubscribe(DIAGNOSTICS_CHANNELS.restore, onRestore);
    },
  };
}

/** Labels of an input partition `stream/partition` (a stream name may contain `/`: the partition is after the last). */
function inputLabels(task: string, key: string): Labels {
  const at = key.lastIndexOf('/');
  return { task, stream: key.slice(0, at), partition: key.slice(at + 1) };
}
