/**
 * The demo's tour (`tidemark demo`), phase by phase: a backlog written, a
 * catch-up run while the gateways keep sending, a real-time run, the summary,
 * and the fingerprints checked against a replay from scratch.
 *
 * @module
 */
import { extname, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { EmbeddedLog } from '../connectors/embedded/embedded-log.ts';
import { Application, type Progress, type RunSummary } from '../runtime/application.ts';
import { formatCount, formatDuration } from './demo-format.ts';
import { appendBacklog, type DemoClock, LiveProducer } from './demo-producer.ts';
import { addUp, describeBacklog, fingerprintLines, summarize, verdict } from './demo-report.ts';
import { ALERTS, CALIBRATIONS, DEMO_APPLICATION_ID, LATE_READINGS, READINGS, WINDOW_GRACE_MS, WINDOW_MS, WINDOWS, demoApplication } from './demo-topology.ts';
import type { Ui } from './demo-ui.ts';
import { SensorWorkload } from './demo-workload.ts';

/** The demo topology module as a user would pass it to `tidemark run`, from the sources or the built package. */
const DEMO_TOPOLOGY_PATH = relative(process.cwd(), fileURLToPath(new URL(`./demo-topology${extname(fileURLToPath(import.meta.url))}`, import.meta.url)));
const PARTITIONS = 4;
const MAX_IDLE_MS = 500;
/**
 * The maintenance tool stops calibrating this long before the backlog ends.
 * A catch-up stops at the end offsets seen at its start without waiting for
 * later data, and does not audit that: a calibration appended just after,
 * with an event time before readings the catch-up already processed, would
 * be applied later than a replay applies it, and nothing would say so. So
 * the demo keeps calibrations away from that boundary.
 */
const CALIBRATIONS_END_MS = 10_000;
/**
 * Where the workload's time stands when the backlog ends and the gateways
 * start sending live, whenever the demo runs: a seed gives the same
 * records, timestamps and broker times, hence the same fingerprints, in
 * every run (2026-06-01T12:00:00Z).
 */
export const DEMO_NOW = 1_780_315_200_000;
const REPLAY_ID = `${DEMO_APPLICATION_ID}-replay`;
const REPLAY_PREFIX = 'replay.';

/** The demo's options, and the data directory it runs on. */
export interface DemoOptions {
  readonly records: number;
  readonly liveSeconds: number;
  readonly seed: number;
  readonly keep: boolean;
  readonly dataDir: string;
  /** The words that run tidemark where the user is (`npx tidemark`, `node src/cli/main.ts`…), for the commands the demo suggests. */
  readonly cli: string;
}

/** The demo, phase by phase, on an open log whose broker clock is `clock`; returns early when interrupted. */
export async function tour(ui: Ui, log: EmbeddedLog, clock: DemoClock, o: DemoOptions, signal: AbortSignal): Promise<void> {
  const started = Date.now();
  introduce(ui, o);
  const workload = await writeBacklog(ui, log, clock, o, DEMO_NOW);
  const { applicationId, topology } = demoApplication();
  const app = new Application(topology, { applicationId, log });
  // The gateways go on from the backlog's end, on the workload's clock, for --live-seconds.
  clock.startAt(DEMO_NOW);
  const liveMs = o.liveSeconds * 1000;
  const runs = await catchUpThenLive(ui, app, new LiveProducer(log, workload, clock, DEMO_NOW + liveMs), liveMs, signal);
  if (runs === undefined) return;

  const totals = addUp(runs);
  ui.heading('4. Summary');
  summarize(ui, log, applicationId, totals, workload, MAX_IDLE_MS);

  ui.heading('5. Fingerprints: SHA-256 of each output stream over (partition, key, value, timestamp)');
  const live = fingerprintLines(log, runs[0].outputStreams);
  for (const line of live) ui.raw(line);
  const replay = await replayCheck(ui, log, runs[0].outputStreams, signal);
  if (replay === undefined) return;
  verdict(ui, live, replay, totals.nondeterministic);

  ui.blank();
  ui.line(`done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  if (o.keep) lookAround(ui, o.cli, o.dataDir, applicationId);
}

function introduce(ui: Ui, o: DemoOptions): void {
  ui.title('tidemark demo · temperature monitoring on out-of-order data');
  ui.para(
    'Sensors report through gateways; each gateway stamps readings with its own, slightly wrong clock and sends them in batches, ' +
      `sometimes late. A maintenance tool calibrates sensors now and then. The topology (${DEMO_TOPOLOGY_PATH}) drops glitches, ` +
      "applies each sensor's calibration as of the reading's event time, keeps per-sensor statistics in a state store and raises alerts. " +
      `It also summarizes each sensor's readings in ${WINDOW_MS / 1000}-second windows of event time, emitted once each when the stream time passes ` +
      `their end + ${WINDOW_GRACE_MS / 1000} s of grace; readings that come later than that go to ${LATE_READINGS}.`,
  );
  ui.para(
    `The workload comes from the seed alone (--seed ${o.seed}), on a simulated clock: the backlog ends, and live sending starts, at ` +
      `${new Date(DEMO_NOW).toISOString()} whenever the demo runs, so the same seed gives the same records and the same fingerprints.`,
  );
  ui.line(`data dir   ${o.dataDir}${o.keep ? ' (kept: --keep)' : ' (removed at the end; --keep keeps it)'}`);
}

/** 1. History written before the application ever ran: about `records` readings up to `now` on the workload's clock. */
async function writeBacklog(ui: Ui, log: EmbeddedLog, clock: DemoClock, o: DemoOptions, now: number): Promise<SensorWorkload> {
  log.ensureStream(READINGS, PARTITIONS);
  log.ensureStream(CALIBRATIONS, PARTITIONS);
  const spanMs = Math.ceil((o.records / new SensorWorkload({ seed: o.seed, start: 0, partitions: PARTITIONS }).rate) * 1000);
  const workload = new SensorWorkload({ seed: o.seed, start: now - spanMs, partitions: PARTITIONS, calibrationsUntil: now - CALIBRATIONS_END_MS });
  await appendBacklog(log, clock, workload.sentBy(now));
  ui.heading(`1. The backlog: ${formatDuration(spanMs)} of history (seed ${o.seed})`);
  describeBacklog(ui, workload, PARTITIONS);
  return workload;
}

/**
 * 2 and 3. A catch-up run, then the same application in real-time, while
 * the gateways keep sending. Returns both runs' summaries (undefined when
 * interrupted).
 */
async function catchUpThenLive(ui: Ui, app: Application, producer: LiveProducer, liveMs: number, signal: AbortSignal): Promise<[RunSummary, RunSummary] | undefined> {
  const gateways = (): string => `gateways +${formatCount(producer.appended)}`;
  try {
    ui.heading('2. Catch-up: process up to the end offsets seen at start, then stop');
    ui.para('Meanwhile the gateways keep sending: what they append now is for the next phase.');
    const caughtUp = await ui.withProgress('catch-up', (onProgress) => app.run({ mode: 'catch-up', onProgress, progressIntervalMs: 80, signal }));
    if (signal.aborted) return undefined;
    ui.heading(`3. Real-time: resume from the last commit and tail both streams until the gateways have sent for ${liveMs / 1000} s`);
    const live = await liveRun(ui, app, producer, gateways, signal);
    return signal.aborted ? undefined : [caughtUp, live];
  } finally {
    await producer.stop();
  }
}

/**
 * The real-time run: tails the log until the gateways have sent everything
 * of their live period (it began with the catch-up); then the application
 * drains what was sent and is stopped through its abort signal (it commits).
 */
async function liveRun(ui: Ui, app: Application, producer: LiveProducer, extra: () => string, signal: AbortSignal): Promise<RunSummary> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let latest: { at: number; progress: Progress } | undefined;
  const run = ui.withProgress(
    'real-time',
    (onProgress) =>
      app.run({
        mode: 'real-time',
        maxIdleMs: MAX_IDLE_MS,
        signal: stop.signal,
        progressIntervalMs: 80,
        onProgress: (p) => {
          latest = { at: Date.now(), progress: p };
          onProgress(p);
        },
      }),
    extra,
  );
  // A failed run ends the wait at once; its error comes out of `return run`.
  run.catch(() => stop.abort());
  try {
    const stopped = new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
    await Promise.race([producer.sent(), stopped]);
    await producer.stop();
    // Drained once a progress report made after the last append shows no lag (a task may first
    // wait MAX_IDLE_MS for an empty partition). Bounded, in case something is stuck.
    const drainBy = Date.now() + MAX_IDLE_MS + 3000;
    const drained = (): boolean => latest !== undefined && latest.at > producer.lastAppendAt && latest.progress.lag === 0;
    while (!stop.signal.aborted && Date.now() < drainBy && !drained()) await sleep(20);
  } finally {
    stop.abort();
    signal.removeEventListener('abort', onAbort);
  }
  return run;
}

/**
 * Replays the whole input from scratch in catch-up mode, as a second
 * application writing to streams of its own; returns its fingerprint lines
 * (undefined when interrupted).
 */
async function replayCheck(ui: Ui, log: EmbeddedLog, outputs: readonly string[], signal: AbortSignal): Promise<string[] | undefined> {
  ui.blank();
  ui.line('Replay check: the same input again, from scratch, in catch-up mode, into fresh output streams:');
  const replay = demoApplication({ applicationId: REPLAY_ID, outputPrefix: REPLAY_PREFIX });
  const app = new Application(replay.topology, { applicationId: replay.applicationId, log });
  await ui.withProgress('replay', (onProgress) => app.run({ mode: 'catch-up', onProgress, progressIntervalMs: 80, signal }));
  if (signal.aborted) return undefined;
  const lines = fingerprintLines(log, outputs.map((s) => `${REPLAY_PREFIX}${s}`));
  for (const line of lines) ui.raw(line);
  return lines;
}

function lookAround(ui: Ui, cli: string, dataDir: string, applicationId: string): void {
  ui.line('Look around:');
  ui.line(`  ${cli} consume --data-dir ${dataDir} --stream ${ALERTS}`);
  ui.line(`  ${cli} consume --data-dir ${dataDir} --stream ${WINDOWS}`);
  ui.line(`  ${cli} consume --data-dir ${dataDir} --stream ${LATE_READINGS}`);
  ui.line(`  ${cli} audit --data-dir ${dataDir} --application-id ${applicationId} --kind late-record`);
  ui.line(`  ${cli} consume --data-dir ${dataDir} --stream ${applicationId}.dead-letter`);
  ui.line(`  ${cli} audit --data-dir ${dataDir} --application-id ${applicationId} --kind nondeterministic`);
  ui.line(`  ${cli} run ${DEMO_TOPOLOGY_PATH} --data-dir ${dataDir}   # resumes from its last commit: nothing new to do`);
}
