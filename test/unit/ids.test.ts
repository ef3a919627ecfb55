import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isProducerTask, parseProducerId, parseTaskId, producerIdOf, producerOfHeader, taskIdOf } from '../../src/runtime/ids.ts';
import { MemoryLog } from '../../src/connectors/memory/memory-log.ts';
import { KafkaTaskStore } from '../../src/connectors/kafka/kafka-task-store.ts';
import type { KafkaReader } from '../../src/connectors/kafka/kafka-reader.ts';
import type { TopicCatalog } from '../../src/connectors/kafka/kafka-topics.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamProducer } from '../../src/runtime/producer.ts';
import { readWatermarkRecord, watermarkRecord } from '../../src/runtime/watermark-record.ts';
import type { CommitUnit } from '../../src/runtime/log.ts';
import type { LogRecord } from '../../src/records/record.ts';

/** Any text, astral characters, lone surrogates and NUL included. */
const anyText = fc.string({ unit: 'binary', maxLength: 24 });
const withSlashes = fc.array(fc.oneof(anyText, fc.constant('/')), { maxLength: 6 }).map((parts) => parts.join(''));
const producerTask = withSlashes.map((t) => t.replaceAll('/', ''));

const oneLine = (e: unknown): boolean => e instanceof Error && !e.message.includes('\n');

test('ids: the text written into logs and checkpoints', () => {
  assert.equal(taskIdOf(0, 1), '0_1');
  assert.equal(taskIdOf(12, 0), '12_0');
  assert.equal(producerIdOf('counts', '0_1'), 'counts/0_1');
  assert.equal(producerIdOf('A', 'A0'), 'A/A0');
  assert.equal(producerIdOf('a/b', '0_1'), 'a/b/0_1');
  assert.deepEqual(parseTaskId('3_17'), { subTopology: 3, partition: 17 });
  assert.deepEqual(parseProducerId('a/b/0_1'), { application: 'a/b', task: '0_1' });
});

test('ids: a task id reads back as the sub-topology and partition it was built from', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (subTopology, partition) => {
      assert.deepEqual(parseTaskId(taskIdOf(subTopology, partition)), { subTopology, partition });
    }),
  );
});

test('ids: parsing a task id is exact: what it reads is what taskIdOf builds from the parts', () => {
  const candidates = fc.oneof(anyText, fc.stringMatching(/^-?[0-9]{1,18}_-?[0-9]{1,18}$/), fc.tuple(fc.nat(), fc.nat()).map(([s, p]) => `${s}_${p}`));
  fc.assert(
    fc.property(candidates, (id) => {
      let parts;
      try {
        parts = parseTaskId(id);
      } catch (e) {
        assert.ok(oneLine(e) && (e as Error).message.includes(JSON.stringify(id)), `the error names the id: ${String(e)}`);
        return;
      }
      assert.equal(taskIdOf(parts.subTopology, parts.partition), id);
    }),
  );
  for (const bad of ['', '0', '0_', '_1', '01_1', '0_01', '-1_0', '0_-1', '0_1_2', 'a_1', '1e3_0', ' 0_1', '0_1 ', '0/1', '9007199254740992_0']) {
    assert.throws(() => parseTaskId(bad), (e: unknown) => oneLine(e) && (e as Error).message.startsWith(`not a task id: ${JSON.stringify(bad)}`), bad);
  }
});

test('ids: a task is refused a sub-topology or partition that is not a non-negative integer', () => {
  for (const [s, p] of [[-1, 0], [0, -1], [0.5, 0], [0, Number.NaN], [0, Infinity], [2 ** 53, 0]] as const) {
    assert.throws(() => taskIdOf(s, p), (e: unknown) => e instanceof RangeError && oneLine(e), `${s}, ${p}`);
  }
});

test('ids: a producer id reads back as the application and task it was built from, for every application', () => {
  fc.assert(
    fc.property(withSlashes, producerTask, (application, task) => {
      assert.deepEqual(parseProducerId(producerIdOf(application, task)), { application, task });
    }),
  );
});

test('ids: parsing a producer id is exact: every id with a "/" is the one built from its parts', () => {
  fc.assert(
    fc.property(withSlashes, (id) => {
      if (!id.includes('/')) return assert.throws(() => parseProducerId(id), (e: unknown) => oneLine(e) && (e as Error).message.includes(JSON.stringify(id)));
      const { application, task } = parseProducerId(id);
      assert.ok(isProducerTask(task));
      assert.equal(producerIdOf(application, task), id);
    }),
  );
});

test('ids: a producer task holding a "/" is refused, in one line naming it: its id would read back as another application\'s task', () => {
  assert.throws(
    () => producerIdOf('A', 'x/y'),
    (e: unknown) => oneLine(e) && (e as Error).message === 'producer task "x/y" of application "A" holds a "/": its producer id would read back as task "y" of another application',
  );
  fc.assert(
    fc.property(withSlashes, withSlashes.filter((t) => t.includes('/')), (application, task) => {
      assert.equal(isProducerTask(task), false);
      assert.throws(() => producerIdOf(application, task), (e: unknown) => oneLine(e));
    }),
  );
});

test('ids: a producer header written by another tool, without a "/", is one unnamed task of an application of that name', () => {
  assert.deepEqual(producerOfHeader('legacy'), { application: 'legacy', task: '' });
  assert.deepEqual(producerOfHeader('A/A0'), { application: 'A', task: 'A0' });
  assert.deepEqual(producerOfHeader('A/'), { application: 'A', task: '' });
});

test('ids: a StreamProducer is refused a task holding a "/"; otherwise its id reads back as its identity', () => {
  const log = new MemoryLog();
  assert.throws(() => new StreamProducer(log, { application: 'A', task: 'x/y' }), (e: unknown) => oneLine(e) && (e as Error).message.includes('"x/y"'));
  fc.assert(
    fc.property(anyText.filter((a) => a !== '' && !a.includes('/')), producerTask, (application, task) => {
      assert.deepEqual(parseProducerId(new StreamProducer(log, { application, task }).id), { application, task });
    }),
  );
});

test('ids: a watermark record says the producer its header names; one whose task holds a "/" is a bad record', () => {
  const asRead = (r: ReturnType<typeof watermarkRecord>): LogRecord => ({ ...r, headers: r.headers ?? {}, offset: 4, brokerTime: 0 });
  const record = watermarkRecord('s', 0, { application: 'a/b', task: '0_1', tasks: 1, watermark: 5, stopped: false });
  const report = readWatermarkRecord(asRead(record));
  assert.deepEqual(parseProducerId(record.headers!['tidemark.producer']!), { application: report.application, task: report.task });
  assert.throws(() => watermarkRecord('s', 0, { application: 'A', task: 'x/y', tasks: 1, watermark: 5, stopped: false }), (e: unknown) => oneLine(e));
  const forged = (o: object): LogRecord => ({ ...asRead(record), value: new TextEncoder().encode(JSON.stringify({ application: 'A', tasks: 1, watermark: 5, stopped: false, ...o })) });
  assert.throws(() => readWatermarkRecord(forged({ task: 'x/y' })), /"task" must be a string without "\/"/);
  assert.throws(() => readWatermarkRecord(forged({ task: 'A0', members: ['A0', 'x/y'] })), /"members" must be a list of task ids/);
});

const unit = (applicationId: string, taskId: string, store: string): CommitUnit => ({
  applicationId,
  taskId,
  outputs: [],
  stateWrites: [{ store, key: '6b', value: new TextEncoder().encode(applicationId) }],
  checkpoint: { positions: {}, streamTime: 0, partitionTimes: {}, commits: 1 },
  audit: [],
});

test('ids: the memory log keeps the tasks of application "a" apart from those of "a/0_0"', () => {
  const log = new MemoryLog();
  log.commit([unit('a', '0_0', '1_1/s'), unit('a/0_0', '1_1', 's')]);
  assert.equal([...log.stateBackend('a', '0_0').entries('1_1/s')].length, 1);
  assert.equal([...log.stateBackend('a/0_0', '1_1').entries('s')].length, 1);
  log.resetApplication('a');
  assert.equal(log.readCheckpoint('a', '0_0'), undefined);
  assert.equal([...log.stateBackend('a', '0_0').entries('1_1/s')].length, 0);
  assert.notEqual(log.readCheckpoint('a/0_0', '1_1'), undefined, 'resetting "a" leaves "a/0_0" alone');
  assert.equal([...log.stateBackend('a/0_0', '1_1').entries('s')].length, 1);
});

test('ids: the Kafka task store forgets a task of application "a" and not a task of "a/0_0"', async () => {
  // forget and applyCommit work on what is held in memory and on local disk: the reader (Kafka) is not asked.
  const stateDir = mkdtempSync(join(tmpdir(), 'tidemark-ids-'));
  const store = new KafkaTaskStore(undefined as unknown as KafkaReader, undefined as unknown as TopicCatalog, { stateDir });
  try {
    store.applyCommit(unit('a', '0_0', '1_1/s'), []);
    store.applyCommit(unit('a/0_0', '1_1', 's'), []);
    store.forget('a', '0_0');
    assert.equal(store.readCheckpoint('a', '0_0'), undefined);
    assert.notEqual(store.readCheckpoint('a/0_0', '1_1'), undefined);
    assert.equal(store.stateBackend('a', '0_0').count('s'), 0, 'the applications\' stores are apart');
    assert.equal(store.stateBackend('a/0_0', '1_1').count('s'), 1);
    assert.equal(store.stateBackend('a/0_0', '0_0').count('1_1/s'), 0);
  } finally {
    await store.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
