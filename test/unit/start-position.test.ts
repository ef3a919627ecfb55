import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { Serdes } from '../../src/records/serde.ts';
import { Application, type StartPosition } from '../../src/runtime/application.ts';
import { EmbeddedLog } from '../../src/connectors/embedded/embedded-log.ts';

// The library's `from` option (the CLI's --from): a position the run cannot
// honour is an error naming it, before anything is committed — never a
// position past the end that would skip what is appended later.

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** An embedded log with `readings` (2 partitions: 3 records in partition 0, none in 1) and `other`. */
async function openLog(): Promise<EmbeddedLog> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-start-position-test-'));
  dirs.push(dir);
  const log = await EmbeddedLog.open({ dataDir: dir });
  log.ensureStream('readings', 2);
  log.ensureStream('other', 1);
  await log.append([1, 2, 3].map((i) => ({ stream: 'readings', partition: 0, key: utf8('"s1"'), value: utf8(String(i)), eventTime: i })));
  return log;
}

function application(log: EmbeddedLog): Application {
  const b = new StreamsBuilder();
  b.stream<string, number>('readings', { value: Serdes.json<number>() }).mapValues((v) => v * 10).to('out');
  return new Application(b.build(), { applicationId: 'positions', log });
}

const run = (app: Application, from: StartPosition) => app.run({ mode: 'catch-up', from, commitIntervalMs: 0 });

test('from: a position past the end, an unknown stream or partition, or a bad offset is an error naming it', async () => {
  const log = await openLog();
  try {
    const app = application(log);
    const cases: [StartPosition, string][] = [
      [{ 'readings/0': 4 }, 'start position readings/0=4 is past the end of readings/0 (its next offset is 3): the records appended later would be skipped'],
      [{ 'readings/1': 1 }, 'start position readings/1=1 is past the end of readings/1 (its next offset is 0): the records appended later would be skipped'],
      [{ 'other/0': 0 }, 'start position other/0=0 names stream other, which the topology does not read (it reads readings)'],
      [{ 'readings/2': 0 }, 'start position readings/2=0 names partition 2, but readings has partitions 0..1'],
      [{ 'readings/x': 0 }, "start position 'readings/x' must be stream/partition, with the partition a number"],
      [{ 'readings/0': -1 }, 'start position readings/0=-1: the offset must be a non-negative integer'],
      [{ 'readings/0': 1.5 }, 'start position readings/0=1.5: the offset must be a non-negative integer'],
    ];
    for (const [from, message] of cases) await assert.rejects(run(app, from), { message }, JSON.stringify(from));
    assert.equal(log.readCheckpoint('positions', '0_0'), undefined, 'nothing committed');
    assert.equal(log.endOffset('out', 0), 0, 'nothing written');
  } finally {
    await log.close();
  }
});

test('from: a position at the end starts with the records appended later; one inside starts there', async () => {
  const log = await openLog();
  try {
    const app = application(log);
    const first = await run(app, { 'readings/0': 3, 'readings/1': 0 });
    assert.equal(first.processed, 0);
    await log.append([{ stream: 'readings', partition: 0, key: utf8('"s1"'), value: utf8('4'), eventTime: 4 }]);
    const second = await run(app, 'earliest');
    assert.equal(second.processed, 1, 'the record appended after the first run is read');
    assert.deepEqual(log.read('out', 0, 0, 10).map((r) => new TextDecoder().decode(r.value!)), ['40']);

    // With a committed position, `from` is not used (a past-the-end one neither): the run resumes.
    const resumed = await run(app, { 'readings/0': 99 });
    assert.equal(resumed.processed, 0);
  } finally {
    await log.close();
  }
});
