/**
 * `tidemark demo`: its options, and the wiring — a temporary data directory,
 * Ctrl-C, the command's output and progress display — around the demo's tour
 * (src/demo).
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLog } from '../connectors/embedded/embedded-log.ts';
import { DemoClock } from '../demo/demo-producer.ts';
import { tour } from '../demo/demo-tour.ts';
import { Ui } from '../demo/demo-ui.ts';
import { integerOption, parseCommandArgs } from './args.ts';
import { thisCliInvocation } from './invocation.ts';
import { onInterrupt } from './interrupt.ts';
import type { CommandIo } from './io.ts';
import { createProgressDisplay } from './progress.ts';

export const demoHelp = `Usage: tidemark demo [options]

An end-to-end tour on a temporary embedded data directory (no server):

  1. simulates 24 temperature sensors behind 3 gateways, each gateway with its
     own skewed clock, sending in batches and sometimes late, with a few broken
     records — glitches, invalid timestamps, undecodable values — all
     deterministically from a seed, on a simulated clock (the backlog ends
     at 2026-06-01T12:00:00Z whenever the demo runs: a seed gives the same
     records and fingerprints every time), and writes a backlog of it;
  2. runs the demo topology (src/demo/demo-topology.ts: filter, calibrate by
     event time, per-sensor statistics in a state store, alerts, and 10-second
     event-time windows per sensor with 5 s of grace, emitted once when they
     close, late readings to a side-output stream) in catch-up mode, with a
     progress bar, while the gateways keep sending;
  3. resumes in real-time mode and tails the streams as they grow;
  4. prints a summary: records in and out, dead letters, timestamp fallbacks,
     nondeterministic decisions, windows, late readings and why they were
     late, the output's fingerprints — and checks them against a from-scratch
     catch-up replay of the same input.

Options:
  --records N        readings in the backlog (default 30000)
  --live-seconds N   how long the gateways keep sending after the backlog, from
                     the catch-up's start (default 4)
  --seed N           the workload's seed (default 42)
  --keep             keep the data directory, and print how to look at it
  -h, --help         this help`;

const OPTIONS = {
  records: { type: 'string' },
  'live-seconds': { type: 'string' },
  seed: { type: 'string' },
  keep: { type: 'boolean' },
} as const;

/** `tidemark demo`. Returns the exit status. */
export async function demoCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.help === true) return io.out(demoHelp), 0;
  const records = integerOption(values, 'records', 30_000, 1, 10_000_000);
  const liveSeconds = integerOption(values, 'live-seconds', 4, 0, 3600);
  const seed = integerOption(values, 'seed', 42, 0, 0xffffffff);
  const keep = values.keep === true;

  const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-demo-'));
  const clock = new DemoClock();
  const log = await EmbeddedLog.open({ dataDir, clock });
  const interrupt = onInterrupt(() => io.out('\ninterrupted: stopping…'));
  try {
    await tour(new Ui(io, (options) => createProgressDisplay(io.stdout, options)), log, clock, { records, liveSeconds, seed, keep, dataDir, cli: thisCliInvocation() }, interrupt.signal);
    return interrupt.signal.aborted ? 130 : 0;
  } finally {
    interrupt.dispose();
    await log.close();
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
  }
}
