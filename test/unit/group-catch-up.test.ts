/**
 * The rules of a catch-up shared by a group: when an internal input
 * partition ends, when the whole catch-up is over, and the end-of-catch-up
 * record that carries a writer's end through the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { internalCatchUpEnd, isGroupCatchUpOver, isShareEnded, type GroupCatchUpState } from '../../src/runtime/group-catch-up.ts';
import { endOfCatchUpRecord, readWatermarkRecord, watermarkRecordKind } from '../../src/runtime/watermark-record.ts';
import { PRODUCER_HEADER } from '../../src/runtime/headers.ts';

test('an internal input partition ends just past the last of its writers\' ends of catch-up, once every writer\'s has been read', () => {
  const writers = ['app/0_0', 'app/0_1', 'app/0_2'];
  assert.equal(internalCatchUpEnd(writers, new Map()), undefined);
  assert.equal(internalCatchUpEnd(writers, new Map([['app/0_0', 40], ['app/0_2', 12]])), undefined, 'one writer still to end');
  assert.equal(internalCatchUpEnd(writers, new Map([['app/0_0', 40], ['app/0_1', 7], ['app/0_2', 12]])), 41);
  // An end read from a producer that is no writer of this run does not end the partition either way.
  assert.equal(internalCatchUpEnd(writers, new Map([['app/0_0', 40], ['old/0_9', 90], ['app/0_1', 7], ['app/0_2', 12]])), 41);
  assert.equal(internalCatchUpEnd([], new Map()), 0, 'no writers: nothing to wait for');
});

test('a writer\'s share ends once it has been read past its end of catch-up, not when its end is merely known', () => {
  assert.equal(isShareEnded(undefined, 100), false, 'no end read');
  assert.equal(isShareEnded(40, 41), true, 'read past the end of catch-up at 40');
  // A reader restored from a checkpoint that had read the end at 40 ahead of what it processed resumes at 30: records 30–39 come first.
  assert.equal(isShareEnded(40, 30), false);
  assert.equal(isShareEnded(40, 40), false, 'the end itself is still to be read');
});

test('a group catch-up is over once every task of the application has committed its end of that catch-up', () => {
  const state = (id: number, done: boolean): GroupCatchUpState => ({ id, ends: {}, ended: {}, done });
  const tasks = ['0_0', '0_1', '1_0'];
  const over = (states: Record<string, GroupCatchUpState>): boolean => isGroupCatchUpOver(2, tasks, (t) => states[t]);
  assert.equal(over({ '0_0': state(2, true), '0_1': state(2, true), '1_0': state(2, true) }), true);
  assert.equal(over({ '0_0': state(2, true), '0_1': state(2, false), '1_0': state(2, true) }), false, 'a task still running');
  assert.equal(over({ '0_0': state(2, true), '0_1': state(2, true) }), false, 'a task that never started');
  assert.equal(over({ '0_0': state(2, true), '0_1': state(1, true), '1_0': state(2, true) }), false, "a task done with an earlier catch-up only");
});

test('an end of catch-up is a control record of its task, read back with its catch-up number; a bad number is named', () => {
  const r = endOfCatchUpRecord('app-repartition', 3, 'app', '0_1', 4);
  assert.equal(r.control, 'watermark');
  assert.equal(r.headers?.[PRODUCER_HEADER], 'app/0_1', 'read in its producer\'s share');
  const raw = { ...r, headers: r.headers ?? {}, offset: 17, brokerTime: null };
  const report = readWatermarkRecord(raw);
  assert.equal(report.endOfCatchUp, 4);
  assert.equal(watermarkRecordKind(report), 'end-of-catch-up');
  const bad = { ...raw, value: new TextEncoder().encode(JSON.stringify({ ...report, endOfCatchUp: 0 })) };
  assert.throws(() => readWatermarkRecord(bad), /^Error: watermark record app-repartition\/3@17: "endOfCatchUp" must be a positive integer$/);
});
