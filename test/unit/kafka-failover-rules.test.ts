/**
 * The failover rules of the Kafka connector, on the client's own error
 * classes: what is transient (a broker's failure and the election after
 * it), what a commit does after a failure, and when an append's batch is
 * resent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultipleErrors, NetworkError, ProtocolError, TimeoutError, UserError } from '@platformatic/kafka';
import { NoLeaderError, isTransientKafkaError } from '../../src/connectors/kafka/kafka-routing.ts';
import { COMMIT_RETRY_MS, commitRetryAction, commitWithRetries } from '../../src/connectors/kafka/kafka-commit-retry.ts';
import { APPEND_RETRY_MS, isResendable } from '../../src/connectors/kafka/kafka-append.ts';

const closed = (): NetworkError => new NetworkError('Connection closed');
const protocol = (code: string): ProtocolError => new ProtocolError(code);
/** As the client's retries wrap every attempt's error: `produce failed 3 times`. */
const retried = (...errors: Error[]): MultipleErrors => new MultipleErrors(`failed ${errors.length} times.`, errors);

test('isTransientKafkaError: a broker failure and the election after it are transient', () => {
  for (const e of [
    closed(),
    new TimeoutError('Request timed out'),
    protocol('NOT_LEADER_OR_FOLLOWER'),
    protocol('LEADER_NOT_AVAILABLE'),
    protocol('NOT_COORDINATOR'),
    protocol('COORDINATOR_NOT_AVAILABLE'),
    protocol('COORDINATOR_LOAD_IN_PROGRESS'),
    protocol('CONCURRENT_TRANSACTIONS'),
    protocol('NOT_ENOUGH_REPLICAS'),
    protocol('REQUEST_TIMED_OUT'),
    new NoLeaderError('readings/0 has no leader'),
    new UserError('Cannot find broker with node id 2'),
    new MultipleErrors('Cannot connect to any broker.', [closed(), closed()]),
    retried(closed(), protocol('NOT_LEADER_OR_FOLLOWER'), protocol('NOT_LEADER_OR_FOLLOWER')),
    // tidemark's own wrapper of a client error
    new Error('reading max.message.bytes of a-changelog: …', { cause: retried(closed(), closed()) }),
  ]) {
    assert.equal(isTransientKafkaError(e), true, `${e.message} is transient`);
  }
});

test('isTransientKafkaError: a fenced producer, a fencing race, a bad request or a closed client are not', () => {
  for (const e of [
    protocol('PRODUCER_FENCED'),
    protocol('INVALID_PRODUCER_EPOCH'),
    retried(closed(), protocol('PRODUCER_FENCED')),
    protocol('UNKNOWN_SERVER_ERROR'),
    protocol('MESSAGE_TOO_LARGE'),
    protocol('TOPIC_AUTHORIZATION_FAILED'),
    protocol('OUT_OF_ORDER_SEQUENCE_NUMBER'),
    // one attempt transient, another not: the request itself is wrong
    retried(closed(), protocol('MESSAGE_TOO_LARGE')),
    retried(closed(), new UserError('Client closed while retrying produce.')),
    new Error('something else'),
    'a string',
  ]) {
    assert.equal(isTransientKafkaError(e), false, `${String((e as Error).message ?? e)} is not transient`);
  }
});

test('commitRetryAction: redo the unit while sending, resend only the commit at EndTxn, within the budget', () => {
  const e = retried(closed(), protocol('NOT_LEADER_OR_FOLLOWER'));
  assert.equal(commitRetryAction(e, 'send', 1_000), 'redo');
  assert.equal(commitRetryAction(protocol('COORDINATOR_NOT_AVAILABLE'), 'end', 1_000), 'resend-commit');
  assert.equal(commitRetryAction(e, 'send', COMMIT_RETRY_MS), 'fail', 'past the budget');
  assert.equal(commitRetryAction(e, 'end', COMMIT_RETRY_MS + 1), 'fail');
  assert.equal(commitRetryAction(protocol('MESSAGE_TOO_LARGE'), 'send', 0), 'fail');
  for (const phase of ['send', 'end'] as const) {
    assert.equal(commitRetryAction(protocol('PRODUCER_FENCED'), phase, 0), 'migrated');
    assert.equal(commitRetryAction(protocol('UNKNOWN_SERVER_ERROR'), phase, 0), 'migrated');
    assert.equal(commitRetryAction(protocol('PRODUCER_FENCED'), phase, COMMIT_RETRY_MS * 2), 'migrated', 'fenced wins over the budget');
  }
});

test('commitWithRetries: a failure while sending resets and sends again; one at EndTxn sends only the commit again', async () => {
  const calls: string[] = [];
  const failures = [closed(), undefined, protocol('NOT_COORDINATOR'), undefined];
  const step = (name: string) => async (): Promise<void> => {
    calls.push(name);
    const f = name === 'reset' ? undefined : failures.shift();
    if (f !== undefined) throw f;
  };
  await commitWithRetries({ send: step('send'), commit: step('commit'), reset: step('reset') });
  assert.deepEqual(calls, ['send', 'reset', 'send', 'commit', 'commit']);
});

test('commitWithRetries: a fenced or a lasting failure is thrown, never retried past the budget', async () => {
  let sends = 0;
  const fenced = protocol('PRODUCER_FENCED');
  await assert.rejects(commitWithRetries({ send: async () => void sends++, commit: async () => Promise.reject(fenced), reset: async () => {} }), (e) => e === fenced);
  assert.equal(sends, 1);
  let commits = 0;
  await assert.rejects(commitWithRetries({ send: async () => {}, commit: async () => { commits++; throw closed(); }, reset: async () => {} }, 250), /Connection closed/);
  assert.ok(commits >= 1 && commits <= 4, `the commit was resent only within 250 ms (${commits} times)`);
});

test('isResendable: an append batch is resent after a transient failure, within its budget', () => {
  assert.equal(isResendable(retried(protocol('NOT_LEADER_OR_FOLLOWER'), protocol('NOT_LEADER_OR_FOLLOWER')), 0), true);
  assert.equal(isResendable(closed(), APPEND_RETRY_MS - 1), true);
  assert.equal(isResendable(closed(), APPEND_RETRY_MS), false);
  assert.equal(isResendable(protocol('OUT_OF_ORDER_SEQUENCE_NUMBER'), 0), false, 'the sequence state is lost: no resend under it');
  assert.equal(isResendable(protocol('MESSAGE_TOO_LARGE'), 0), false);
});
