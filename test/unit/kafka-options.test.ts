import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapBrokers, bootstrapText } from '../../src/connectors/kafka/kafka-client.ts';
import { checkTopicDurability } from '../../src/connectors/kafka/kafka-topics.ts';
import { KafkaLog } from '../../src/connectors/kafka/kafka-log.ts';
import { KafkaTaskGroup } from '../../src/connectors/kafka/kafka-task-group.ts';
import { kafkaLogOptions } from '../../src/cli/kafka-options.ts';
import { UsageError } from '../../src/cli/errors.ts';

test('bootstrapBrokers: one broker, a comma-separated list, or an array of those', () => {
  assert.deepEqual(bootstrapBrokers('127.0.0.1:9092'), ['127.0.0.1:9092']);
  assert.deepEqual(bootstrapBrokers('k1:9092, k2:9093,k3.example.com:65535'), ['k1:9092', 'k2:9093', 'k3.example.com:65535']);
  assert.deepEqual(bootstrapBrokers(['k1:1', 'k2:2,k3:3']), ['k1:1', 'k2:2', 'k3:3']);
  assert.deepEqual(bootstrapBrokers('[::1]:9092'), ['[::1]:9092']);
  assert.equal(bootstrapText(['k1:1', 'k2:2']), 'k1:1,k2:2');
});

test('bootstrapBrokers: a bad entry is a one-line RangeError naming it', () => {
  for (const [given, bad] of [
    ['k1', 'k1'],
    ['k1:9092,k2', 'k2'],
    ['k1:9092,', ''],
    ['k1:0', 'k1:0'],
    ['k1:65536', 'k1:65536'],
    ['k1:90x', 'k1:90x'],
    ['::1:9092', '::1:9092'],
    ['', ''],
  ] as const) {
    assert.throws(() => bootstrapBrokers(given), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.ok(e.message.includes(`bootstrap broker ${JSON.stringify(bad)} of ${JSON.stringify(given)}`), e.message);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
});

test('checkTopicDurability: the broker default when absent; a RangeError naming the option otherwise', () => {
  assert.deepEqual(checkTopicDurability({}), { replicationFactor: -1 });
  assert.deepEqual(checkTopicDurability({ replicationFactor: 3, minInsyncReplicas: 2 }), { replicationFactor: 3, minInsyncReplicas: 2 });
  assert.deepEqual(checkTopicDurability({ replicationFactor: -1, minInsyncReplicas: 2 }), { replicationFactor: -1, minInsyncReplicas: 2 });
  for (const rf of [0, -2, 1.5, Number.NaN]) assert.throws(() => checkTopicDurability({ replicationFactor: rf }), /^RangeError: replicationFactor must be a positive integer or -1/);
  for (const isr of [0, -1, 2.5]) assert.throws(() => checkTopicDurability({ minInsyncReplicas: isr }), /^RangeError: minInsyncReplicas must be a positive integer/);
  assert.throws(() => checkTopicDurability({ replicationFactor: 2, minInsyncReplicas: 3 }), /^RangeError: minInsyncReplicas 3 is more than replicationFactor 2/);
});

test('KafkaLog.open and KafkaTaskGroup check their options before connecting', async () => {
  await assert.rejects(KafkaLog.open({ bootstrap: '127.0.0.1:1,nope' }), /^RangeError: bootstrap broker "nope"/);
  await assert.rejects(KafkaLog.open({ bootstrap: '127.0.0.1:1', replicationFactor: 0 }), /^RangeError: replicationFactor/);
  await assert.rejects(KafkaLog.open({ bootstrap: '127.0.0.1:1', minInsyncReplicas: 0 }), /^RangeError: minInsyncReplicas/);
  assert.throws(() => new KafkaTaskGroup({ bootstrap: 'k1:9092,k2' }), /^RangeError: bootstrap broker "k2"/);
});

const usage = (message: RegExp) => (e: unknown) => e instanceof UsageError && message.test(e.message) && !e.message.includes('\n');

test('CLI: --kafka takes a list; the durability flags, else their environment variables', () => {
  assert.deepEqual(kafkaLogOptions({ kafka: 'k1:9092,k2:9092' }, {}), { bootstrap: 'k1:9092,k2:9092' });
  assert.deepEqual(kafkaLogOptions({ kafka: 'k:1', 'replication-factor': '3', 'min-insync-replicas': '2' }, {}), { bootstrap: 'k:1', replicationFactor: 3, minInsyncReplicas: 2 });
  assert.deepEqual(kafkaLogOptions({ kafka: 'k:1', 'replication-factor': '-1' }, {}), { bootstrap: 'k:1', replicationFactor: -1 });
  const env = { TIDEMARK_KAFKA_REPLICATION_FACTOR: '3', TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS: '2' };
  assert.deepEqual(kafkaLogOptions({ kafka: 'k:1' }, env), { bootstrap: 'k:1', replicationFactor: 3, minInsyncReplicas: 2 });
  // A flag wins over its variable; an empty variable is unset.
  assert.deepEqual(kafkaLogOptions({ kafka: 'k:1', 'replication-factor': '5' }, env), { bootstrap: 'k:1', replicationFactor: 5, minInsyncReplicas: 2 });
  assert.deepEqual(kafkaLogOptions({ kafka: 'k:1' }, { TIDEMARK_KAFKA_REPLICATION_FACTOR: '' }), { bootstrap: 'k:1' });
  // Without --kafka: no Kafka options; the variables are ignored, the flags refused.
  assert.equal(kafkaLogOptions({ 'data-dir': 'd' }, env), undefined);
  assert.throws(() => kafkaLogOptions({ 'data-dir': 'd', 'min-insync-replicas': '2' }, {}), usage(/^--min-insync-replicas is an option of --kafka/));
});

test('CLI: bad values are one-line usage errors naming the flag or variable', () => {
  assert.throws(() => kafkaLogOptions({ kafka: 'k1:9092,k2' }, {}), usage(/^--kafka: bootstrap broker "k2" of "k1:9092,k2"/));
  assert.throws(() => kafkaLogOptions({ kafka: 'k:99999' }, {}), usage(/^--kafka: bootstrap broker "k:99999"/));
  for (const bad of ['0', '-2', 'three', '1.5', '']) {
    assert.throws(() => kafkaLogOptions({ kafka: 'k:1', 'replication-factor': bad }, {}), usage(/^--replication-factor must be a positive integer or -1 \(the broker's default\), got /));
  }
  for (const bad of ['0', '-1', 'x']) {
    assert.throws(() => kafkaLogOptions({ kafka: 'k:1', 'min-insync-replicas': bad }, {}), usage(/^--min-insync-replicas must be a positive integer, got /));
  }
  assert.throws(() => kafkaLogOptions({ kafka: 'k:1' }, { TIDEMARK_KAFKA_REPLICATION_FACTOR: 'x' }), usage(/^TIDEMARK_KAFKA_REPLICATION_FACTOR must be a positive integer or -1/));
  assert.throws(() => kafkaLogOptions({ kafka: 'k:1' }, { TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS: '0' }), usage(/^TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS must be a positive integer, got "0"/));
  assert.throws(() => kafkaLogOptions({ kafka: 'k:1', 'replication-factor': '2', 'min-insync-replicas': '3' }, {}), usage(/^--min-insync-replicas 3 is more than --replication-factor 2/));
});
