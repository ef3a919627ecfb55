import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Application, MemoryLog, StreamsBuilder, Serdes, ManualClock } from '../../src/index.ts';

function setup(): { log: MemoryLog; app: () => Application; append: (stream: string, ts: number) => void } {
  const log = new MemoryLog(new ManualClock(0));
  log.ensureStream('a', 1);
  log.ensureStream('b', 1);
  const b = new StreamsBuilder();
  b.stream('a', { key: Serdes.string() }).merge(b.stream('b', { key: Serdes.string() })).to('out');
  const topology = b.build();
  return {
    log,
    app: () => new Application(topology, { applicationId: 'app', log }),
    append: (stream, ts) => void log.appendSync([{ stream, partition: 0, key: null, value: Serdes.json().serialize({ stream, ts }), eventTime: ts }]),
  };
}

const order = (log: MemoryLog): number[] => log.read('out', 0, 0, 100).map((r) => r.eventTime ?? -1);

test('catch-up passing a partition at its end is audited once a later record proves the order depended on it', async () => {
  const { log, app, append } = setup();
  append('a', 10);
  append('a', 100);
  append('b', 50);
  const first = await app().run({ mode: 'catch-up' });
  assert.equal(first.nondeterministicDecisions, 0);
  append('b', 60);
  const second = await app().run({ mode: 'catch-up' });
  assert.deepEqual(order(log), [10, 50, 100, 60]);
  assert.equal(second.nondeterministicDecisions, 1);
  const [entry] = log.readAudit('app').filter((e) => e.kind === 'nondeterministic:end-of-input');
  assert.equal(entry?.stream, 'b');
  assert.equal(entry?.offset, 1);
});

test('catch-up passing a partition at its end is not a decision when later records there are newer', async () => {
  const { log, app, append } = setup();
  append('a', 10);
  append('a', 100);
  append('b', 50);
  await app().run({ mode: 'catch-up' });
  append('b', 200);
  const second = await app().run({ mode: 'catch-up' });
  assert.deepEqual(order(log), [10, 50, 100, 200]);
  assert.equal(second.nondeterministicDecisions, 0);
});
