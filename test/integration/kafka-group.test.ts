/**
 * Scale-out through a Kafka consumer group: one, two or three instances of
 * an application, joining and leaving while it runs, so that tasks move
 * between them in the middle of the input, write the same output as one
 * process on the embedded log. A task that moves is restored (state,
 * positions, stream time, watermarks) before it processes anything.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { DIAGNOSTICS_CHANNELS, type AppendRecord, type RunSummary, type TaskMessage, type Topology } from '../../src/index.ts';
import { assignTasks } from '../../src/semantics.ts';
import { subTopologies } from '../../src/runtime/topology.ts';
import { kafkaBroker, resetTopics } from '../fixtures/kafka.ts';
import { applicationInternals } from '../../src/runtime/application.ts';
import { PARTITIONS, SCENARIOS, committedAudit, embeddedFingerprints, groupInput, groupTopology, joinAndLeave, kafkaFingerprints, produceReadings, startInstance, stopInstance, waitFor, withInputLargeEnough, type Instance } from '../fixtures/kafka-group.ts';

/** Each scenario is an application of its own: no transactional id of an earlier one (a failed run's, say) is still open. */
let scenario = 0;

/**
 * Every task of the application runs on one of `instances`, exactly once,
 * has read its inputs to their ends and holds nothing for a repartition
 * topic (buffered records, uncommitted outputs).
 */
function caughtUp(instances: readonly Instance[], tasks: number): boolean {
  const held = instances.flatMap((i) => applicationInternals(i.app).tasks);
  const internal = held.flatMap((t) => t.subTopology.sinks.filter((k) => k.internal).map((k) => k.stream));
  const idle = (t: (typeof held)[number]): boolean => [...t.lag().values()].every((n) => n === 0) && internal.every((s) => [...Array(PARTITIONS).keys()].every((p) => !t.hasPending(s, p)));
  return held.length === tasks && new Set(held.map((t) => t.id)).size === tasks && held.every(idle);
}

/**
 * A scenario: once a tenth of the input is read, instances join one by one,
 * each as soon as the one before holds tasks; with `leave`, the first
 * instance then leaves. Every step must be through before the input is
 * (asserted): each moves tasks in the middle of it. Returns the output's
 * fingerprints.
 */
async function groupRun(t: TestContext, bootstrap: string, top: Topology, records: readonly AppendRecord[], members: number, leave: boolean, maxIdleMs: number, takeOverDelayMs?: number): Promise<Record<string, string>> {
  await resetTopics(bootstrap);
  scenario++;
  await produceReadings(bootstrap, records);
  const member = (m: number): Promise<Instance> => startInstance(bootstrap, `group-app-${process.pid}-${scenario}`, `member-${m}`, top, { mode: 'real-time', maxIdleMs, ...(takeOverDelayMs === undefined ? {} : { takeOverDelayMs }) });
  const running: Instance[] = [await member(0)];
  const stopped: RunSummary[] = [];
  try {
    stopped.push(...(await joinAndLeave(running, member, records, members, leave)));
    // Every sub-topology has a task per partition (the repartition topic has as many partitions as the input).
    await waitFor('every task is held once and caught up', () => caughtUp(running, PARTITIONS * subTopologies(top).length), 1_000);
  } finally {
    // Stopped in any case: an instance left running would go on into the next scenario's topics.
    for (const i of running.splice(0)) stopped.push(await stopInstance(i));
  }
  t.diagnostic(`${members} member(s)${leave ? ', the first leaving' : ''}: processed ${stopped.map((s) => s.processed + s.deadLettered).join(' + ')} (work redone after a move counts twice)`);
  const passedOver = (await committedAudit(bootstrap, `group-app-${process.pid}-${scenario}`)).filter((x) => x.kind.startsWith('nondeterministic:'));
  t.diagnostic(`  ${passedOver.length} nondeterministic decisions (${passedOver.map((e) => `${e.taskId} at timestamp ${/\(timestamp (\d+)\)/.exec(e.detail)?.[1]}`).join(', ') || 'none'})`);
  // Shares are passed over at the end of the input, as writers fall quiet one by one; never in the middle of it,
  // where a writer is only moving (what the move records are for): none before the last twentieth of event time.
  const times = records.map((r) => r.eventTime!).sort((a, b) => a - b);
  const endPart = times[Math.floor(times.length * 0.95)]!;
  const midInput = passedOver.filter((e) => Number(/\(timestamp (\d+)\)/.exec(e.detail)?.[1]) < endPart);
  assert.deepEqual(midInput.map((e) => `${e.taskId}: ${e.detail}`), [], `no share passed over before timestamp ${endPart}`);
  return kafkaFingerprints(bootstrap);
}

test('the group assignment gives every task to one member, balanced, and keeps tasks where they were', () => {
  const tasks = ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2'];
  const first = assignTasks(tasks, [{ id: 'a', owned: [] }]);
  assert.deepEqual(first.get('a'), [...tasks].sort());
  const two = assignTasks(tasks, [
    { id: 'a', owned: first.get('a')! },
    { id: 'b', owned: [] },
  ]);
  assert.deepEqual([...two.get('a')!, ...two.get('b')!].sort(), tasks, 'every task once');
  assert.deepEqual([two.get('a')!.length, two.get('b')!.length], [4, 3], 'balanced: ⌈7/2⌉ to the first id, ⌊7/2⌋ to the second');
  assert.ok(two.get('a')!.every((x) => first.get('a')!.includes(x)), 'a keeps tasks it held');
  const three = assignTasks(tasks, [
    { id: 'c', owned: [] },
    { id: 'b', owned: two.get('b')! },
    { id: 'a', owned: two.get('a')! },
  ]);
  assert.deepEqual([...three.values()].map((l) => l.length), [3, 2, 2]);
  assert.ok(three.get('b')!.every((x) => two.get('b')!.includes(x)) && three.get('a')!.every((x) => two.get('a')!.includes(x)), 'only the tasks the newcomer needs move');
  // A task claimed twice (a member that missed a rebalance) goes to one member only.
  const claimed = assignTasks(['0_0', '0_1'], [
    { id: 'a', owned: ['0_0', '0_1'] },
    { id: 'b', owned: ['0_0'] },
  ]);
  assert.deepEqual([claimed.get('a'), claimed.get('b')], [['0_0'], ['0_1']]);
  assert.deepEqual(assignTasks(['0_0'], []), new Map());
});

for (const eventClock of ['stream-time', 'watermark'] as const) {
  test(`one, two or three instances in a consumer group, joining and leaving mid-input, write the same output as one process on the embedded log (${eventClock})`, { timeout: 900_000 }, async (t) => {
    const broker = await kafkaBroker(t);
    if (broker === undefined) return;
    const top = groupTopology(eventClock);
    const seed = eventClock === 'watermark' ? 7 : 3;
    for (const [members, leave] of SCENARIOS) {
      await withInputLargeEnough(t, 3_000, 12_000, async (size) => {
        const records = groupInput(seed, size);
        assert.deepEqual(await groupRun(t, broker.bootstrap, top, records, members, leave, 500), await embeddedFingerprints(top, records), `${members} member(s)${leave ? ', the first leaving' : ''}`);
      });
    }
  });
}

test('with a repartition topic written by tasks on several members, tasks moving mid-input still give the output of one process on the embedded log', { timeout: 900_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const top = groupTopology('stream-time', true);
  for (const [members, leave] of SCENARIOS) {
    // A producer share of the repartition topic falls quiet while its writer task moves (commit, restore — made to
    // last 2 s here, as a large state's would); with the default maxIdleMs of 500 ms its reader would pass it over,
    // but the move is written into the repartition topic (leaving, then arrived) and the reader waits for it.
    await withInputLargeEnough(t, 3_000, 12_000, async (size) => {
      const records = groupInput(11, size);
      assert.deepEqual(await groupRun(t, broker.bootstrap, top, records, members, leave, 500, 2_000), await embeddedFingerprints(top, records), `${members} member(s)${leave ? ', the first leaving' : ''}`);
    });
  }
});

test('when a group run ends, its observation says so and every task it held is announced revoked', { timeout: 300_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  await resetTopics(broker.bootstrap);
  scenario++;
  const records = groupInput(5, 200);
  await produceReadings(broker.bootstrap, records);
  const events: TaskMessage[] = [];
  const onTask = (m: unknown): void => void events.push(m as TaskMessage);
  subscribe(DIAGNOSTICS_CHANNELS.task, onTask);
  t.after(() => unsubscribe(DIAGNOSTICS_CHANNELS.task, onTask));
  const applicationId = `group-app-${process.pid}-${scenario}`;
  const member = await startInstance(broker.bootstrap, applicationId, 'member-0', groupTopology('stream-time'), { mode: 'real-time' });
  try {
    await waitFor('the member holds every task', () => applicationInternals(member.app).tasks.length === PARTITIONS);
    assert.equal(member.app.observe()?.running, true);
  } finally {
    await stopInstance(member);
  }
  assert.equal(member.app.observe()?.running, false, 'observe() after the run: it has ended');
  const ofApp = events.filter((e) => e.applicationId === applicationId);
  const held = (event: TaskMessage['event']): string[] => ofApp.filter((e) => e.event === event).map((e) => e.taskId).sort();
  assert.deepEqual(held('assigned'), ['0_0', '0_1', '0_2', '0_3']);
  assert.deepEqual(held('revoked'), held('assigned'), 'every task assigned here is revoked when the run ends');
});
