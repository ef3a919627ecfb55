import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, StreamsBuilder, type TaskCheckpoint } from '../../src/index.ts';
import { CHECKPOINT_FORMAT } from '../../src/runtime/log.ts';

function copyTopology() {
  const b = new StreamsBuilder();
  b.stream<string, string>('in', { key: Serdes.string(), value: Serdes.string() }).to('out', { key: Serdes.string(), value: Serdes.string() });
  return b.build();
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A data dir whose task 0_0 has `checkpoint` as its last commit, after 3 input records of which 2 were processed. */
async function withCheckpoint(checkpoint: TaskCheckpoint, fn: (log: EmbeddedLog) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-checkpoint-format-'));
  const log = await EmbeddedLog.open({ dataDir });
  try {
    log.ensureStream('in', 1);
    log.ensureStream('out', 1);
    await log.append(['a', 'b', 'c'].map((k, i) => ({ stream: 'in', partition: 0, key: enc(k), value: enc(k), headers: {}, eventTime: i })));
    await log.commit([{ applicationId: 'app', taskId: '0_0', outputs: [], stateWrites: [], checkpoint, audit: [] }]);
    await fn(log);
  } finally {
    await log.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('a checkpoint of the first format (no format, generation or watermarks) still restores: the run resumes at its position', () =>
  withCheckpoint({ positions: { 'in/0': { next: 2 } }, streamTime: 1, partitionTimes: { 'in/0': 1 }, commits: 3 }, async (log) => {
    const summary = await new Application(copyTopology(), { applicationId: 'app', log }).run({ mode: 'catch-up' });
    assert.equal(summary.processed, 1, 'only the record after the checkpoint');
    assert.deepEqual(log.read('out', 0, 0, 10).map((r) => new TextDecoder().decode(r.key!)), ['c']);
    assert.equal(log.readCheckpoint('app', '0_0')?.format, CHECKPOINT_FORMAT, 'the next commit writes the current format');
  }));

test('a checkpoint of a later format is refused with one line naming the task and what to do', () =>
  withCheckpoint({ format: CHECKPOINT_FORMAT + 1, positions: { 'in/0': { next: 2 } }, streamTime: 1, partitionTimes: {}, commits: 3 }, async (log) => {
    await assert.rejects(
      new Application(copyTopology(), { applicationId: 'app', log }).run({ mode: 'catch-up' }),
      new RegExp(`^Error: the checkpoint of task 0_0 of application app has format ${CHECKPOINT_FORMAT + 1}, and this tidemark reads formats 1 to ${CHECKPOINT_FORMAT}: run the application with the tidemark version that wrote it$`),
    );
    assert.deepEqual(log.read('out', 0, 0, 10), [], 'nothing processed');
  }));
