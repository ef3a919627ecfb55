/**
 * A catch-up shared by a consumer group: one, two or three members, joining
 * and leaving in the middle of the input, with a repartition topic whose
 * partitions tasks on several members write, end where one process would,
 * with the same output as one catch-up on the embedded log and no
 * nondeterministic decision — the readers of the repartition topic wait on
 * their writers' ends of catch-up, never on a timeout.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { AppendRecord, AuditEntry, RunSummary, Topology } from '../../src/index.ts';
import { applicationInternals } from '../../src/runtime/application.ts';
import { kafkaBroker, resetTopics } from '../fixtures/kafka.ts';
import { SCENARIOS, committedAudit, embeddedFingerprints, finishedInstance, groupInput, groupTopology, joinAndLeave, kafkaFingerprints, produceReadings, progressOf, startInstance, stopInstance, waitFor, withInputLargeEnough, type Instance } from '../fixtures/kafka-group.ts';

let scenario = 0;

/**
 * A group catch-up: members join one by one once a tenth of the input is
 * read, each as soon as the one before holds tasks; with `leave`, the first
 * then leaves. The others end by themselves once every task is done.
 */
async function groupCatchUp(t: TestContext, bootstrap: string, top: Topology, records: readonly AppendRecord[], members: number, leave: boolean): Promise<{ fingerprints: Record<string, string>; summaries: RunSummary[]; audit: AuditEntry[] }> {
  await resetTopics(bootstrap);
  scenario++;
  const applicationId = `group-catch-up-${process.pid}-${scenario}`;
  await produceReadings(bootstrap, records);
  const member = (m: number): Promise<Instance> => startInstance(bootstrap, applicationId, `member-${m}`, top, { mode: 'catch-up' });
  const running: Instance[] = [await member(0)];
  const summaries: RunSummary[] = [];
  try {
    summaries.push(...(await joinAndLeave(running, member, records, members, leave)));
    // The catch-up ends by itself on every member still in it.
    for (const i of running.splice(0)) summaries.push(await finishedInstance(i));
  } finally {
    for (const i of running.splice(0)) summaries.push(await stopInstance(i));
  }
  t.diagnostic(`${members} member(s)${leave ? ', the first leaving' : ''}: processed ${summaries.map((s) => s.processed + s.deadLettered).join(' + ')}`);
  return { fingerprints: await kafkaFingerprints(bootstrap), summaries, audit: await committedAudit(bootstrap, applicationId) };
}

for (const eventClock of ['stream-time', 'watermark'] as const) {
  test(`a catch-up through a repartition topic shared by one, two or three members, joining and leaving mid-input, writes the output of one process on the embedded log, deciding nothing by time (${eventClock})`, { timeout: 900_000 }, async (t) => {
    const broker = await kafkaBroker(t);
    if (broker === undefined) return;
    const top = groupTopology(eventClock, true);
    const seed = eventClock === 'watermark' ? 13 : 5;
    for (const [members, leave] of SCENARIOS) {
      const what = `${members} member(s)${leave ? ', the first leaving' : ''}`;
      await withInputLargeEnough(t, 3_000, 12_000, async (size) => {
        const records = groupInput(seed, size);
        const run = await groupCatchUp(t, broker.bootstrap, top, records, members, leave);
        assert.deepEqual(run.fingerprints, await embeddedFingerprints(top, records), what);
        assert.deepEqual(run.summaries.map((s) => s.nondeterministicDecisions), run.summaries.map(() => 0), `${what}: no nondeterministic decision`);
        assert.deepEqual(run.audit.filter((e) => e.kind.startsWith('nondeterministic:')), [], `${what}: none in the committed audit`);
      });
    }
  });
}

test('a group catch-up stopped on every member resumes at the same ends when members come back; once it is over, the next one reads on to the new ends', { timeout: 900_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const top = groupTopology('stream-time', true);
  const records = groupInput(17, 3_000);
  const first = records.slice(0, 2_000);
  const second = records.slice(2_000);
  const expected = await embeddedFingerprints(top, first, second);
  await resetTopics(broker.bootstrap);
  scenario++;
  const applicationId = `group-catch-up-${process.pid}-${scenario}`;
  const append = (batch: readonly AppendRecord[]): Promise<void> => produceReadings(broker.bootstrap, batch);
  const member = (m: number): Promise<Instance> => startInstance(broker.bootstrap, applicationId, `member-${m}`, top, { mode: 'catch-up' });
  await append(first);
  const progress = progressOf(first);
  // Both members stop in the middle of the first catch-up; the second batch arrives before anyone resumes it.
  const a = await member(0);
  const b = await member(1);
  await waitFor('both members hold tasks and a third of the input was read', () => applicationInternals(b.app).tasks.length > 0 && progress([a, b]) >= first.length / 3);
  const stopped = [await stopInstance(a), await stopInstance(b)];
  assert.ok(stopped.every((s) => s.mode === 'catch-up'));
  assert.ok(progress([a, b]) < first.length, 'stopped before the first batch was through');
  await append(second);
  // One member resumes the first catch-up: its tasks stop at the ends they fixed, so the second batch waits.
  const resumed = await finishedInstance(await member(2));
  assert.equal(resumed.nondeterministicDecisions, 0);
  const resumedRead = resumed.processed + resumed.deadLettered;
  // The next catch-up reads on to the ends seen now: the second batch.
  const next = await Promise.all([member(3), member(4)]);
  const summaries = await Promise.all(next.map(finishedInstance));
  assert.ok(summaries.every((s) => s.nondeterministicDecisions === 0));
  // The second batch was left to it: read through the source tasks, then again through the repartition topic's.
  assert.ok(summaries.reduce((n, s) => n + s.processed + s.deadLettered, 0) >= second.length, 'the next catch-up processed the second batch');
  t.diagnostic(`resumed catch-up processed ${resumedRead}; the next one ${summaries.map((s) => s.processed + s.deadLettered).join(' + ')}`);
  assert.deepEqual(await kafkaFingerprints(broker.bootstrap), expected);
  assert.deepEqual((await committedAudit(broker.bootstrap, applicationId)).filter((e) => e.kind.startsWith('nondeterministic:')), []);
});
