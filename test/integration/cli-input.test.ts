import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_TEMPERATURE, cli, freshDir, lines, type Result } from '../fixtures/cli.ts';

// What `produce` and `run` make of input they cannot keep or use as given:
// one line on stderr naming the line and field (or stream, partition and
// offset), nothing appended or committed silently changed. As users run
// them: child processes, their exit status and output.

/** The records of a stream as `consume` prints them (one JSON object a line). */
function consumed(dir: string, stream: string): Record<string, unknown>[] {
  const r = cli(['consume', '--data-dir', dir, '--stream', stream]);
  assert.equal(r.status, 0, r.stderr);
  return lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Asserts a failed command printed exactly `message` as its one line on stderr. */
function assertOneLine(r: Result, status: number, message: string): void {
  assert.equal(r.status, status, r.stderr);
  assert.deepEqual(lines(r.stderr), [message]);
}

// ---------------------------------------------------------------------------
// produce: what cannot be kept exactly is refused, naming the line and field

test('produce refuses an eventTime or a number it would round, naming the line and field; the lines before are appended', () => {
  const dir = freshDir();
  const r = cli(['produce', '--data-dir', dir, '--stream', 's'], '{"key":"a","eventTime":1}\n{"key":"b","eventTime":2}\n{"key":"c","eventTime":9007199254740993}\n{"key":"d"}\n');
  assertOneLine(r, 1, 'tidemark produce: line 3: eventTime 9007199254740993 is not a safe integer (it would be stored as 9007199254740992); the 2 records before it were appended, none after it');
  assert.deepEqual(consumed(dir, 's').map((c) => c['key']), ['a', 'b']);

  for (const [line, message] of [
    ['{"eventTime":1e400}', 'eventTime 1e400 is not a finite number (it would be stored as Infinity)'],
    ['{"eventTime":-1e400}', 'eventTime -1e400 is not a finite number (it would be stored as -Infinity)'],
    ['{"eventTime":1e20}', 'eventTime 100000000000000000000 is not a safe integer (epoch milliseconds are at most 9007199254740991)'],
    ['{"value":{"celsius":1e400}}', 'value.celsius 1e400 is not a finite number (it would be stored as null)'],
    ['{"value":{"ids":[1,9007199254740993]}}', 'value.ids[1] 9007199254740993 cannot be kept exactly (it would be stored as 9007199254740992)'],
    ['{"key":{"n":1.00000000000000001}}', 'key.n 1.00000000000000001 cannot be kept exactly (it would be stored as 1)'],
    ['{"value":1e-400}', 'value 1e-400 cannot be kept exactly (it would be stored as 0)'],
    ['{"eventTime":"2024-02-30"}', '"eventTime" must be epoch milliseconds or an ISO-8601 date-time, got "2024-02-30"'],
    ['{"eventTime":"2024-01-01T00:00:00.1239Z"}', '"eventTime" "2024-01-01T00:00:00.1239Z" is more precise than a millisecond (it would be stored as 1704067200123)'],
    ['{"headers":{"h":"\\ud800"}}', 'header "h" is not valid Unicode (a lone surrogate \\ud800): it cannot be stored as UTF-8'],
  ] as const) {
    const bad = cli(['produce', '--data-dir', freshDir(), '--stream', 's'], `${line}\n`);
    assertOneLine(bad, 1, `tidemark produce: line 1: ${message}; nothing was appended`);
  }
  const lone = cli(['produce', '--data-dir', freshDir(), '--stream', 's', '--value-format', 'string'], '{"value":"a\\udc00b"}\n');
  assertOneLine(lone, 1, 'tidemark produce: line 1: value is not valid Unicode (a lone surrogate \\udc00): it cannot be stored as UTF-8; nothing was appended');
});

test('produce keeps every number it can keep exactly, as written', () => {
  const dir = freshDir();
  const values = [0.1, -0.5, 1e21, 123.456e-5, 9007199254740991, -9007199254740991, 5e-324, 1.7976931348623157e308, 0];
  const input = values.map((v, i) => JSON.stringify({ key: i, value: { v }, eventTime: i === 0 ? 1.5 : -i })).join('\n') + '\n';
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 's'], input).status, 0);
  const out = consumed(dir, 's');
  assert.deepEqual(out.map((c) => (c['value'] as { v: number }).v), values);
  assert.deepEqual(out.map((c) => c['eventTime']), values.map((_, i) => (i === 0 ? 1.5 : -i)), 'invalid event times are kept as given');
});

test('a header named __proto__ (or constructor) survives produce, the embedded log, a topology and consume', () => {
  const dir = freshDir();
  // Written by hand: JSON.stringify drops a __proto__ key of an object literal (the literal set the prototype).
  const withProto = '{"key":"s1","value":{"celsius":21.5},"eventTime":1000,"headers":{"__proto__":"p","constructor":"c","toString":"t","source":"gw-1"}}';
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'readings'], `${withProto}\n`).status, 0);
  const [read] = consumed(dir, 'readings');
  assert.deepEqual(Object.entries(read!['headers'] as object), [['__proto__', 'p'], ['constructor', 'c'], ['toString', 't'], ['source', 'gw-1']]);

  const run = cli(['run', MAX_TEMPERATURE, '--data-dir', dir, '--quiet']);
  assert.equal(run.status, 0, run.stderr);
  const [out] = consumed(dir, 'max-temperature');
  const outHeaders = Object.entries(out!['headers'] as object);
  assert.deepEqual(outHeaders.filter(([k]) => k !== 'tidemark.producer'), [['__proto__', 'p'], ['constructor', 'c'], ['toString', 't'], ['source', 'gw-1']]);
});

// ---------------------------------------------------------------------------
// produce: the line number and what was appended, however long the input

test('produce names the right line for invalid UTF-8 thousands of lines in, and appends exactly the lines before it', () => {
  const dir = freshDir();
  const good = Buffer.from(Array.from({ length: 5000 }, (_, i) => `{"key":"k${i}","value":${i}}\n`).join(''));
  const bad = Buffer.concat([Buffer.from('{"key":"bad","value":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
  const r = cli(['produce', '--data-dir', dir, '--stream', 's'], Buffer.concat([good, bad, Buffer.from('{"key":"after"}\n')]));
  assertOneLine(r, 1, 'tidemark produce: line 5001: not valid UTF-8; the 5000 records before it were appended, none after it');
  const out = consumed(dir, 's');
  assert.equal(out.length, 5000);
  assert.equal(out.at(-1)!['key'], 'k4999');
});

// ---------------------------------------------------------------------------
// a full disk

/** A 1 MiB tmpfs to fill, where this process may mount one (root on Linux); undefined otherwise. */
function smallDisk(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = freshDir();
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tidemark-test', dir]);
  if (mount.status !== 0) return undefined;
  after(() => void spawnSync('umount', [dir]));
  return dir;
}

test('a full disk: produce and run name the data dir and say the disk is full, not "Input/output error"', (t) => {
  const disk = smallDisk();
  if (disk === undefined) return void t.skip('cannot mount a small tmpfs here (needs root on Linux)');
  const dir = join(disk, 'data');
  const record = (i: number): string => `{"key":"s${i}","value":{"celsius":${i},"pad":"${'x'.repeat(400)}"},"eventTime":${i}}\n`;
  const input = Array.from({ length: 5000 }, (_, i) => record(i)).join('');
  const r = cli(['produce', '--data-dir', dir, '--stream', 'readings'], input);
  assert.equal(r.status, 1);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^tidemark produce: writing lines (\\d+)–(\\d+) to data dir ${dir} failed: the disk is full \\(ENOSPC\\); the (\\d+) records before them were appended, none after$`, 'm'));
  const [, from, , before] = /lines (\d+)–(\d+).* the (\d+) records/.exec(r.stderr)!;
  assert.equal(Number(before), Number(from) - 1, 'the records before the batch that failed, one per line');
  assert.equal(consumed(dir, 'readings').length, Number(before));

  // The run's commit fails on the same disk: it names the data dir, and a later run (after space is freed) starts over from the last commit.
  const run = cli(['run', MAX_TEMPERATURE, '--data-dir', dir, '--quiet', '--commit-interval-ms', '100000']);
  assert.equal(run.status, 1);
  assert.deepEqual(lines(run.stderr), [`tidemark run: writing to data dir ${dir} failed: the disk is full (ENOSPC); the run stopped, what it committed before is kept`]);
});

// ---------------------------------------------------------------------------
// topology modules that throw anything at all

test('a topology module that throws null, a string or a plain object: one line naming the module and what it threw', () => {
  const dir = freshDir();
  const data = join(dir, 'data');
  mkdirSync(data);
  for (const [body, what] of [
    ['throw null;', 'null'],
    ['throw undefined;', 'undefined'],
    ["throw 'no config';", 'no config'],
    ['throw { code: 42 };', '{"code":42}'],
    ['throw Object.create(null);', 'an object'],
  ] as const) {
    const atImport = join(dir, `import-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(atImport, `${body}\nexport default {};\n`);
    assertOneLine(cli(['run', atImport, '--data-dir', data]), 1, `tidemark run: cannot load topology module ${atImport}: it threw ${what}`);
    const inFunction = join(dir, `function-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(inFunction, `export default () => { ${body} };\n`);
    assertOneLine(cli(['run', inFunction, '--data-dir', data]), 1, `tidemark run: topology module ${inFunction}: its default export function threw ${what}`);
  }
  const empty = join(dir, 'empty-error.ts');
  writeFileSync(empty, "export default () => { throw new TypeError(''); };\n");
  assertOneLine(cli(['run', empty, '--data-dir', data]), 1, `tidemark run: topology module ${empty}: its default export function threw: TypeError`);
});

// ---------------------------------------------------------------------------
// --from: positions the run cannot honour

test('run --from past the end, or naming a stream or partition the topology does not read, is an error; nothing is committed', () => {
  const dir = freshDir();
  const readings = [1, 2, 3].map((i) => `{"key":"s1","value":{"celsius":${i}},"eventTime":${i}}`).join('\n') + '\n';
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'readings', '--partitions', '2'], readings).status, 0);
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'other'], readings).status, 0);
  const ends = [0, 1].map((p) => consumed(dir, 'readings').filter((c) => c['partition'] === p).length);
  const full = ends.findIndex((n) => n === 3);
  const run = (from: string): Result => cli(['run', MAX_TEMPERATURE, '--data-dir', dir, '--quiet', '--from', from]);

  assertOneLine(run(`readings/${full}=4`), 1, `tidemark run: start position readings/${full}=4 is past the end of readings/${full} (its next offset is 3): the records appended later would be skipped`);
  assertOneLine(run('other/0=0'), 1, 'tidemark run: start position other/0=0 names stream other, which the topology does not read (it reads readings)');
  assertOneLine(run('readings/2=0'), 1, 'tidemark run: start position readings/2=0 names partition 2, but readings has partitions 0..1');
  // At the end is allowed: start with what is appended next.
  const atEnd = run(`readings/${full}=3,readings/${1 - full}=0`);
  assert.equal(atEnd.status, 0, atEnd.stderr);
  assert.match(atEnd.stdout, / 0 read · 0 processed/);
  // Later records are read from there.
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'readings', '--partitions', '2'], '{"key":"s1","value":{"celsius":9},"eventTime":9}\n').status, 0);
  const later = cli(['run', MAX_TEMPERATURE, '--data-dir', dir, '--quiet']);
  assert.match(later.stdout, / 1 read · 1 processed/);
});

// ---------------------------------------------------------------------------
// produce --producer: data at or below the producer's own watermark

test('produce --producer refuses a record at or below the watermark it wrote to that partition, in this run or an earlier one; --late-records write marks it', () => {
  const dir = freshDir();
  const p = ['produce', '--data-dir', dir, '--stream', 's', '--partitions', '2', '--producer', 'P/p0'];
  assert.equal(cli(p, '{"key":"a","eventTime":5,"partition":0}\n{"watermark":9,"partition":0}\n{"key":"b","eventTime":7,"partition":1}\n').status, 0);
  assertOneLine(cli(p, '{"key":"c","eventTime":9,"partition":0}\n'), 1, 'tidemark produce: line 1: eventTime 9 is at or below the watermark 9 producer P/p0 wrote to s/0: every consumer would treat it as late (--late-records write writes it anyway, marked and audited); nothing was appended');
  // The other partition has no watermark of P/p0: its records are on time.
  assert.equal(cli(p, '{"key":"d","eventTime":3,"partition":1}\n').status, 0);
  assert.equal(cli([...p, '--late-records', 'write'], '{"key":"e","eventTime":8,"partition":0}\n').status, 0);
  const marked = consumed(dir, 's').filter((r) => r.key === 'e');
  assert.equal((marked[0]!.headers as Record<string, string>)['tidemark.producer-late'], '9');
});
