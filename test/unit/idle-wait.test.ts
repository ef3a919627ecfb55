import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Application, MemoryLog, StreamsBuilder, Serdes, ManualClock } from '../../src/index.ts';
import { applicationInternals } from '../../src/runtime/application.ts';

/**
 * Real time, a partition silent at its tail while others have a backlog: the
 * wait for the silent one is `maxIdleMs` in all, not `maxIdleMs` again after
 * every fetch of the others. With a small fetch size a backlogged buffer runs
 * empty after each record while another still holds one, and the task waits
 * a step for its next fetch (its data is in the log); that wait must not
 * restart the idle wait, or the backlog drains at one fetch per `maxIdleMs`
 * (two records a second at fetch size 1).
 */
test('real time: a wait for the next fetch of a backlogged partition does not restart the idle wait on a silent one', () => {
  const clock = new ManualClock(1_000);
  const log = new MemoryLog(clock);
  for (const s of ['a', 'b', 'c']) log.ensureStream(s, 1);
  const b = new StreamsBuilder();
  const source = (s: string) => b.stream(s, { key: Serdes.string() });
  source('a').merge(source('b')).merge(source('c')).to('out');
  const app = new Application(b.build(), { applicationId: 'app', log });
  const append = (stream: string, ts: number): void => void log.appendSync([{ stream, partition: 0, key: null, value: Serdes.json().serialize(ts), eventTime: ts }]);
  // a and c take turns; b has nothing.
  for (const ts of [10, 20, 30, 40, 50]) {
    append('a', ts);
    append('c', ts + 5);
  }
  const run = applicationInternals(app).start({ mode: 'real-time', maxIdleMs: 100, fetchSize: 1, clock });
  const steps = (): void => {
    for (let i = 0; i < 20; i++) run.loop.step();
  };
  steps();
  assert.equal(run.summary().processed, 0, 'b may still get an older record: wait');
  clock.advance(100);
  steps();
  // b has been silent for 100 ms throughout: the backlog goes on without waiting for it again.
  assert.equal(run.summary().processed, 10, 'a\'s and c\'s records after b was idle for maxIdleMs');
  run.loop.commit();
  // One decision per partition passed over: b, and a when it ran dry before c's last record (the wait had lasted maxIdleMs).
  const passed = log.readAudit('app').filter((e) => e.kind === 'nondeterministic:idle-partition').map((e) => e.stream);
  assert.deepEqual(passed, ['b', 'a']);
  assert.equal(run.summary().nondeterministicDecisions, 2);
});

/**
 * A run paused (a group's rebalance: commits, hand-overs, restores of the
 * tasks it takes over) saw nothing of its inputs meanwhile: the idle wait
 * under way starts again once it resumes, so the pause alone never makes a
 * partition idle. Without that, a reader resuming after a long restore
 * passed over every producer share still empty at that instant.
 */
test('real time: after a pause of the run, an idle wait under way starts again', () => {
  const clock = new ManualClock(1_000);
  const log = new MemoryLog(clock);
  for (const s of ['a', 'b']) log.ensureStream(s, 1);
  const b = new StreamsBuilder();
  b.stream('a', { key: Serdes.string() }).merge(b.stream('b', { key: Serdes.string() })).to('out');
  const app = new Application(b.build(), { applicationId: 'app', log });
  log.appendSync([{ stream: 'a', partition: 0, key: null, value: Serdes.json().serialize(10), eventTime: 10 }]);
  const run = applicationInternals(app).start({ mode: 'real-time', maxIdleMs: 100, clock });
  const steps = (): void => {
    for (let i = 0; i < 5; i++) run.loop.step();
  };
  steps();
  assert.equal(run.summary().processed, 0, 'b is empty and may still get an older record: wait');
  // The run pauses for 90 ms (a rebalance), then resumes.
  clock.advance(90);
  for (const t of run.loop.tasksOf()) t.restartIdleWait();
  steps();
  clock.advance(99);
  steps();
  assert.equal(run.summary().processed, 0, 'the wait started again after the pause: 99 ms of it are not enough');
  clock.advance(1);
  steps();
  assert.equal(run.summary().processed, 1, 'b was seen silent for maxIdleMs after the pause');
});

/**
 * A writer of a repartition topic that moves between members writes
 * `leaving`, and `arrived` once it runs again; its readers wait for it
 * meanwhile, however long the move lasts. Its silence after it arrived
 * counts from its arrival: an idle wait that had begun before the move
 * (the writer fell quiet as its member began the rebalance) must not make
 * the reader pass its share over the moment it arrives, before it could
 * write anything.
 */
test('real time: a writer that moved between members is waited for maxIdleMs from its arrival, not from a wait begun before its move', () => {
  const clock = new ManualClock(1_000);
  const log = new MemoryLog(clock);
  log.ensureStream('in', 2);
  const b = new StreamsBuilder();
  b.stream<string, number>('in', { key: Serdes.string(), value: Serdes.json<number>() })
    .groupBy((_k, v) => `g${v % 2}`, { key: Serdes.string() })
    .count()
    .to('out');
  const app = new Application(b.build(), { applicationId: 'app', log });
  const append = (partition: number, ts: number): void => void log.appendSync([{ stream: 'in', partition, key: new TextEncoder().encode(`k${ts}`), value: Serdes.json().serialize(ts), eventTime: ts }]);
  const run = applicationInternals(app).start({ mode: 'real-time', maxIdleMs: 100, clock });
  const steps = (): void => {
    for (let i = 0; i < 20; i++) run.loop.step();
  };
  const writer = run.loop.tasksOf().find((t) => t.id === '0_1')!;
  const decisions = (): number => run.summary().nondeterministicDecisions;
  append(0, 10);
  append(0, 11);
  append(1, 12);
  steps();
  run.loop.commit();
  steps();
  // Only writer 0_0 has more: the readers wait on 0_1's share, an idle wait (it may still write older records).
  append(0, 20);
  append(0, 21);
  steps();
  run.loop.commit();
  steps();
  clock.advance(50);
  steps();
  // 0_1 leaves its member (its last commit there says so); the move lasts 2 s.
  writer.announceMove('leaving');
  run.loop.commit();
  steps();
  clock.advance(2_000);
  steps();
  assert.equal(decisions(), 0, 'a moving writer is waited for');
  // It arrives, and has written nothing yet.
  writer.announceMove('arrived');
  run.loop.commit();
  steps();
  assert.equal(decisions(), 0, 'just arrived: its silence has not lasted maxIdleMs');
  clock.advance(99);
  steps();
  assert.equal(decisions(), 0, '99 ms after its arrival');
  clock.advance(1);
  steps();
  assert.ok(decisions() > 0, 'silent for maxIdleMs after its arrival: passed over, audited');
});
