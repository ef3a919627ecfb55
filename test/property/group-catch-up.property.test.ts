/**
 * A catch-up shared by a group gives the output of one catch-up in one
 * process, however its tasks move between members and whenever a member
 * dies. The driver plays the group on one memory log: in each epoch one or
 * two members hold the tasks (split at random), step them a random number
 * of records at a time with random fetch sizes, commit at random (and at
 * once when a task writes its end of catch-up, as a group run does), and
 * then die — what they did since their last commit is lost, and the next
 * epoch's members restore every task from what was committed. Its reads
 * return a random part of what is there, as a broker's fetch does. The
 * reference is an independent plain catch-up run on a fresh log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Application, MemoryLog, ManualClock, Serdes, StreamsBuilder, TimeWindows, fingerprintStream, type AppendRecord, type Topology } from '../../src/index.ts';
import { partitionForKey } from '../../src/semantics.ts';
import { applicationInternals } from '../../src/runtime/application.ts';
import type { StreamTask } from '../../src/runtime/task.ts';
import { withPartialReads } from '../fixtures/partial-reads.ts';
import { propertyParams, propertyRuns } from '../fixtures/property-runs.ts';

const PARTITIONS = 3;
const OUTPUTS = ['bucket-counts', 'bucket-windows'] as const;
const APP = 'group';
const CATCH_UP = 1;

/** Readings re-keyed by a bucket of their value (a repartition topic three writer tasks write), counted, and counted in windows. */
function topology(): Topology {
  const b = new StreamsBuilder();
  const buckets = b.stream<string, number>('readings', { key: Serdes.string(), value: Serdes.json<number>() }).groupBy((_k, v) => `bucket-${v % 4}`, { key: Serdes.string() });
  buckets.count().to('bucket-counts');
  buckets.windowedBy(TimeWindows.ofSize(1_000).grace(500)).count().to('bucket-windows');
  return b.build();
}

function inputOf(values: readonly { key: number; value: number; time: number }[]): AppendRecord[] {
  const encoder = new TextEncoder();
  return values.map(({ key, value, time }) => {
    const k = encoder.encode(`sensor-${key}`);
    return { stream: 'readings', partition: partitionForKey(k, PARTITIONS), key: k, value: encoder.encode(String(value)), eventTime: time };
  });
}

function newLog(records: readonly AppendRecord[]): MemoryLog {
  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('readings', PARTITIONS);
  log.appendSync(records);
  return log;
}

function fingerprints(log: MemoryLog): Record<string, string> {
  return Object.fromEntries(OUTPUTS.map((s) => [s, log.partitionCount(s) === undefined ? '' : fingerprintStream(log, s)]));
}

/** How one epoch goes: which tasks the second member holds, how many records a task processes per round, when members commit, when they die. */
interface Epoch {
  readonly split: readonly boolean[];
  readonly fetchSize: number;
  /** Records a writer task (reading the input) processes per round, and a reader task (reading the repartition topic): readers fetch ahead of what they process. */
  readonly perRound: number;
  readonly readerPerRound: number;
  readonly commitEvery: number;
  /** Rounds before the members die. */
  readonly rounds: number;
}

const epochArb = fc.record({
  split: fc.array(fc.boolean(), { minLength: 2 * PARTITIONS, maxLength: 2 * PARTITIONS }),
  fetchSize: fc.integer({ min: 1, max: 12 }),
  perRound: fc.integer({ min: 1, max: 20 }),
  readerPerRound: fc.integer({ min: 1, max: 3 }),
  commitEvery: fc.integer({ min: 1, max: 5 }),
  rounds: fc.integer({ min: 0, max: 25 }),
});

/** One member: a fresh application on the shared log holding `taskIds`, each restored from its last commit. */
function member(log: MemoryLog, top: Topology, taskIds: ReadonlySet<string>, fetchSize: number): { tasks: readonly StreamTask[]; commit: () => void } {
  const internals = applicationInternals(new Application(top, { applicationId: APP, log }));
  const plan = internals.plan({});
  const run = internals.start({ mode: 'catch-up', fetchSize, commitIntervalMs: Infinity, clock: new ManualClock(0) }, { ...plan, tasks: plan.tasks.filter((t) => taskIds.has(t.taskId)) });
  for (const t of run.loop.tasksOf()) t.startGroupCatchUp(CATCH_UP);
  return { tasks: run.loop.tasksOf(), commit: () => void run.loop.commit() };
}

/** One round of a member: every task fetches and processes a few records; one that is caught up writes its end of catch-up, committed at once. */
function round(m: ReturnType<typeof member>, perRound: number, readerPerRound = perRound): void {
  for (const t of m.tasks) {
    t.fetch();
    t.process(t.subTopology.id === 0 ? perRound : readerPerRound);
  }
  let finished = false;
  for (const t of m.tasks) if (!t.groupCatchUpDone && t.finishGroupCatchUp()) finished = true;
  if (finished) m.commit();
}

/** Plays the group catch-up over `epochs`, then lets one member run every task to the end; returns the output. */
function groupRun(records: readonly AppendRecord[], epochs: readonly Epoch[], chop: number): Record<string, string> {
  const top = topology();
  const log = withPartialReads(newLog(records), chop);
  const plan = applicationInternals(new Application(top, { applicationId: APP, log })).plan({});
  const taskIds = plan.tasks.map((t) => t.taskId);
  const done = (): boolean => taskIds.every((t) => log.readCheckpoint(APP, t)?.catchUp?.done === true && log.readCheckpoint(APP, t)?.catchUp?.id === CATCH_UP);
  for (const e of epochs) {
    const second = new Set(taskIds.filter((_t, i) => e.split[i % e.split.length]));
    const members = [member(log, top, new Set(taskIds.filter((t) => !second.has(t))), e.fetchSize), member(log, top, second, e.fetchSize)];
    for (let r = 1; r <= e.rounds; r++) {
      for (const m of members) round(m, e.perRound, e.readerPerRound);
      if (r % e.commitEvery === 0) for (const m of members) m.commit();
    }
    // The members die here: their work since their last commits is lost.
  }
  const last = member(log, top, new Set(taskIds), 20);
  for (let r = 0; !done(); r++) {
    assert.ok(r < 100_000, 'the group catch-up ends');
    round(last, 50);
  }
  log.settle();
  return fingerprints(log);
}

function referenceRun(records: readonly AppendRecord[]): Promise<Record<string, string>> {
  const log = newLog(records);
  return new Application(topology(), { applicationId: APP, log }).run({ mode: 'catch-up', clock: new ManualClock(0) }).then(() => fingerprints(log));
}

const inputArb = fc.array(fc.record({ key: fc.integer({ min: 0, max: 7 }), value: fc.integer({ min: 0, max: 99 }), time: fc.integer({ min: 0, max: 8_000 }) }), { minLength: 1, maxLength: 40 });

test('a group catch-up through a repartition topic, its tasks moving between members and members dying at random points, writes the output of one catch-up in one process', async () => {
  await fc.assert(
    fc.asyncProperty(inputArb, fc.array(epochArb, { minLength: 1, maxLength: 6 }), fc.integer(), async (values, epochs, chop) => {
      const records = inputOf(values);
      assert.deepEqual(groupRun(records, epochs, chop), await referenceRun(records));
    }),
    propertyParams(propertyRuns(400)),
  );
});
