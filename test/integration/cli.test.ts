import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAIN, MAX_TEMPERATURE, cli, freshDir, lines } from '../fixtures/cli.ts';

// The CLI is tested as users run it: a child process with this same Node,
// its exit status, and what it writes to stdout and stderr.

const DEMO_TOPOLOGY = fileURLToPath(new URL('../../src/demo/demo-topology.ts', import.meta.url));
const FINGERPRINT = /^fingerprint (\S+) ([0-9a-f]{64})$/;

function fingerprints(stdout: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of lines(stdout)) {
    const m = FINGERPRINT.exec(line);
    if (m !== null) found.set(m[1]!, m[2]!);
  }
  return found;
}

const ndjson = (records: readonly object[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Readings with explicit, valid event times, so that two data dirs hold the same input. */
const READINGS = [
  { key: 's1', value: { celsius: 21.5 }, eventTime: 1_000 },
  { key: 's2', value: { celsius: 30 }, eventTime: 2_000, headers: { gateway: 'north' } },
  { key: 's1', value: { celsius: 25 }, eventTime: 1_500 },
  { key: 's3', value: { celsius: 12 }, eventTime: 900 },
  { key: 's2', value: { celsius: 28 }, eventTime: 2_500 },
  { key: 's1', value: { celsius: 26 }, eventTime: 3_000 },
];

test('--help works for the program and every command, on stdout with status 0', () => {
  const main = cli(['--help']);
  assert.equal(main.status, 0);
  assert.match(main.stdout, /Usage: tidemark <command>/);
  for (const command of ['demo', 'produce', 'consume', 'run', 'audit']) {
    assert.match(main.stdout, new RegExp(`^  ${command} `, 'm'), `${command} is listed`);
    const r = cli([command, '--help']);
    assert.equal(r.status, 0, `${command} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: tidemark ${command}`), command);
    assert.equal(r.stderr, '');
  }
  assert.match(cli(['run', '--help']).stdout, /export default \{ applicationId: 'click-filter', topology: builder\.build\(\) \}/);
  assert.match(cli(['help', 'produce']).stdout, /^Usage: tidemark produce/);
});

test('audit --help lists every kind; an unknown application is one line naming the ones there are, and a non-zero exit', () => {
  assert.match(cli(['audit', '--help']).stdout, /^ {2}late-record\s/m);
  const dir = freshDir();
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'readings'], ndjson(READINGS)).status, 0);
  const none = cli(['audit', '--data-dir', dir, '--application-id', 'max-temperature']);
  assert.equal(none.status, 1);
  assert.equal(none.stdout, '');
  assert.equal(none.stderr, `tidemark audit: no application max-temperature on ${dir}: no application has run there\n`);
  assert.equal(cli(['run', MAX_TEMPERATURE, '--data-dir', dir]).status, 0);
  const typo = cli(['audit', '--data-dir', dir, '--application-id', 'max-temp']);
  assert.equal(typo.status, 1);
  assert.equal(typo.stdout, '');
  assert.equal(typo.stderr, `tidemark audit: no application max-temp on ${dir}: the applications there are max-temperature\n`);
  assert.equal(cli(['audit', '--data-dir', dir, '--application-id', 'max-temperature']).status, 0);
});

test("run warns, naming stream, partition and offset, when produce's default JSON keys meet a Serdes.string() source", () => {
  const prices = fileURLToPath(new URL('../../examples/topologies/prices.ts', import.meta.url));
  const dir = freshDir();
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'prices'], '{"key":"apple","value":3,"eventTime":1000}\n').status, 0);
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'stock', '--key-format', 'string'], '{"key":"apple","value":{"units":1},"eventTime":1000}\n').status, 0);
  const r = cli(['run', prices, '--data-dir', dir]);
  assert.equal(r.status, 0, r.stderr);
  const warnings = lines(r.stdout).filter((l) => l.startsWith('  warning '));
  assert.deepEqual(warnings.map((w) => w.replace(/: key .*/, '')), ['  warning    prices/0 offset 0'], r.stdout);
  assert.match(warnings[0]!, /key "apple" is JSON text .* --key-format string/);
});

test('an unknown flag is one line on stderr and a non-zero exit, for every command', () => {
  for (const command of ['demo', 'produce', 'consume', 'run', 'audit']) {
    const r = cli([command, '--no-such-flag']);
    assert.notEqual(r.status, 0, command);
    assert.equal(r.stdout, '', command);
    assert.equal(lines(r.stderr).length, 1, `${command}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^tidemark ${command}: unknown option --no-such-flag`), command);
  }
  const unknown = cli(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.equal(lines(unknown.stderr).length, 1);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
});

test('usage mistakes and failures are one line each, without a stack trace', () => {
  const dir = freshDir();
  const cases: [string[], RegExp, number][] = [
    [['produce', '--stream', 's'], /give the log: --data-dir D \(embedded\) or --kafka HOST:PORT/, 2],
    [['consume', '--data-dir'], /option --data-dir needs a value/, 2],
    [['consume', '--data-dir', join(dir, 'missing'), '--stream', 's'], /no tidemark data dir at \S+missing \(no data\.mdb\); produce into it first or check --data-dir/, 1],
    [['run', '--data-dir', dir], /which topology module/, 2],
    [['run', join(dir, 'nope.ts'), '--data-dir', dir], /topology module .* not found/, 1],
    [['run', MAX_TEMPERATURE, '--data-dir', dir, '--mode', 'fast'], /--mode must be one of catch-up, real-time/, 2],
    [['run', MAX_TEMPERATURE, '--data-dir', dir, '--from', 'readings/x=1'], /--from must be/, 2],
    [['demo', '--records', 'lots'], /--records must be an integer/, 2],
  ];
  for (const [args, message, status] of cases) {
    const r = cli(args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(lines(r.stderr).length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  cli(['produce', '--data-dir', dir, '--stream', 'other'], '{"key":1}\n');
  const missing = cli(['run', MAX_TEMPERATURE, '--data-dir', dir]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /input stream readings does not exist/);
});

test('produce then consume round-trips records and shows the three clocks side by side', () => {
  const dir = freshDir();
  const before = Date.now();
  const produced = cli(['produce', '--data-dir', dir, '--stream', 'readings', '--partitions', '3'], ndjson([...READINGS, { key: 's9', value: 'no clock', eventTime: null }, { value: [1, 2] }]));
  assert.equal(produced.status, 0, produced.stderr);
  assert.match(produced.stdout, /appended 8 records to readings \(created it with 3 partitions\)/);

  const consumed = cli(['consume', '--data-dir', dir, '--stream', 'readings']);
  assert.equal(consumed.status, 0, consumed.stderr);
  const out = lines(consumed.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(out.length, 8);
  for (const r of out) {
    assert.deepEqual(Object.keys(r).slice(0, 6), ['stream', 'partition', 'offset', 'eventTime', 'brokerTime', 'ingestTime']);
    assert.equal(typeof r.brokerTime, 'number');
    assert.ok((r.brokerTime as number) >= before);
    assert.ok((r.ingestTime as number) >= (r.brokerTime as number));
  }
  // Partition by partition, in offset order.
  const order = out.map((r) => [r.partition as number, r.offset as number]);
  assert.deepEqual(order, [...order].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!));
  const byKey = (k: unknown) => out.filter((r) => JSON.stringify(r.key) === JSON.stringify(k));
  assert.deepEqual(byKey('s1').map((r) => [r.value, r.eventTime]), [[{ celsius: 21.5 }, 1_000], [{ celsius: 25 }, 1_500], [{ celsius: 26 }, 3_000]]);
  assert.equal(new Set(byKey('s1').map((r) => r.partition)).size, 1, 'one key, one partition');
  assert.deepEqual(byKey('s2')[0]!.headers, { gateway: 'north' });
  assert.equal(byKey('s9')[0]!.eventTime, null, 'eventTime null: no event time');
  const keyless = byKey(null)[0]!;
  assert.equal(keyless.partition, 0, 'a null key goes to partition 0');
  assert.ok((keyless.eventTime as number) >= before, 'a missing eventTime is the time of producing');

  const one = cli(['consume', '--data-dir', dir, '--stream', 'readings', '--partition', String(byKey('s1')[0]!.partition), '--from-offset', '1', '--limit', '1']);
  assert.equal(lines(one.stdout).length, 1);
  assert.equal((JSON.parse(one.stdout) as { offset: number }).offset, 1);
});

test('produce writes strings and raw bytes as asked, and consume tells which were not JSON', () => {
  const dir = freshDir();
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'raw', '--key-format', 'string', '--value-format', 'string'], '{"key":"k","value":"{not json"}\n').status, 0);
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'raw', '--key-format', 'string', '--value-format', 'raw-base64'], '{"key":"k","value":"/wA="}\n').status, 0);
  const out = lines(cli(['consume', '--data-dir', dir, '--stream', 'raw']).stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(out.map((r) => [r.key, r.keyFormat, r.value, r.valueFormat]), [
    ['k', 'string', '{not json', 'string'],
    ['k', 'string', '/wA=', 'base64'],
  ]);
});

test('produce names the malformed line, keeps the lines before it and none after', () => {
  const dir = freshDir();
  const r = cli(['produce', '--data-dir', dir, '--stream', 's'], '{"key":"a"}\n{"key":"b"}\n{"key": oops}\n{"key":"d"}\n');
  assert.equal(r.status, 1);
  assert.equal(lines(r.stderr).length, 1);
  assert.match(r.stderr, /^tidemark produce: line 3: not valid JSON .*the 2 records before it were appended, none after it$/m);
  assert.equal(lines(cli(['consume', '--data-dir', dir, '--stream', 's']).stdout).length, 2);
  for (const [line, message] of [
    ['{"key":"a","evenTime":5}', /unknown field "evenTime"/],
    ['{"key":"a","partition":7}', /"partition" must be an integer in 0\.\.0/],
    ['[1,2]', /expected a JSON object, got an array/],
    ['{"eventTime":"yesterday"}', /"eventTime" must be epoch milliseconds or an ISO-8601/],
  ] as const) {
    const bad = cli(['produce', '--data-dir', dir, '--stream', 's'], `${line}\n`);
    assert.equal(bad.status, 1, line);
    assert.match(bad.stderr, message);
    assert.match(bad.stderr, /line 1: /);
  }
});

test('run prints a summary and one fingerprint line per output stream; two catch-up runs of the same input agree', () => {
  const runDirs = [freshDir(), freshDir()];
  const runs = runDirs.map((dir) => {
    assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'readings', '--partitions', '2'], ndjson(READINGS)).status, 0);
    const r = cli(['run', MAX_TEMPERATURE, '--data-dir', dir, '--mode', 'catch-up', '--from', 'earliest']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^max-temperature: caught up/m);
    assert.match(r.stdout, /6 read · 6 processed · 0 dead-lettered/);
    assert.match(r.stderr, /catch-up: caught up, processed 6/, 'progress on stderr, plain lines when not a terminal');
    const fingerprintLines = lines(r.stdout).filter((l) => l.startsWith('fingerprint '));
    assert.equal(fingerprintLines.length, 1);
    assert.match(fingerprintLines[0]!, FINGERPRINT);
    return fingerprints(r.stdout);
  });
  assert.deepEqual([...runs[0]!.keys()], ['max-temperature']);
  assert.deepEqual(runs[0], runs[1]);

  // Running again resumes from the last commit: nothing new, same fingerprint.
  const again = cli(['run', MAX_TEMPERATURE, '--data-dir', runDirs[1]!]);
  assert.match(again.stdout, /0 read · 0 processed/);
  assert.deepEqual(fingerprints(again.stdout), runs[1]);
});

test('run prints a fingerprint line for each of several output streams', () => {
  const dir = freshDir();
  const readings = [];
  for (let i = 0; i < 50; i++) readings.push({ key: `server-rack-${i % 3}`, value: { celsius: 30 + (i % 17) }, eventTime: 10_000 + i * 100 });
  const strings = ['--key-format', 'string', '--partitions', '2'];
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'sensor-readings', ...strings], ndjson(readings)).status, 0);
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'sensor-calibrations', ...strings], ndjson([{ key: 'server-rack-1', value: { offset: -0.5 }, eventTime: 12_000 }])).status, 0);
  const r = cli(['run', DEMO_TOPOLOGY, '--data-dir', dir, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', '--quiet: no progress');
  assert.deepEqual([...fingerprints(r.stdout).keys()], ['sensor-alerts', 'sensor-readings-late', 'sensor-stats', 'sensor-windows']);
  assert.equal(lines(r.stdout).filter((l) => l.startsWith('fingerprint ')).length, 4);
});

test('run with --bad-input fail stops at the bad record with one line naming its position', () => {
  const dir = freshDir();
  cli(['produce', '--data-dir', dir, '--stream', 'readings'], ndjson([{ key: 's1', value: { celsius: 20 }, eventTime: 1 }, { key: 's1', value: { celsius: 'hot' }, eventTime: 2 }]));
  const r = cli(['run', MAX_TEMPERATURE, '--data-dir', dir, '--bad-input', 'fail', '--quiet']);
  assert.equal(r.status, 1);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /^tidemark run: bad input at stream readings, partition 0, offset 1, field value\.celsius/);
  const dlq = cli(['run', MAX_TEMPERATURE, '--data-dir', freshDirWith(ndjson([{ key: 's1', value: { celsius: 'hot' }, eventTime: 2 }])), '--quiet']);
  assert.equal(dlq.status, 0);
  assert.match(dlq.stdout, /1 dead-lettered \(to max-temperature\.dead-letter\)/);
});

function freshDirWith(readings: string): string {
  const dir = freshDir();
  cli(['produce', '--data-dir', dir, '--stream', 'readings'], readings);
  return dir;
}

test('a real-time run tails until SIGTERM, then commits and ends with its summary and fingerprints', async () => {
  const dir = freshDirWith(ndjson(READINGS.slice(0, 2)));
  const child = spawn(process.execPath, [MAIN, 'run', MAX_TEMPERATURE, '--data-dir', dir, '--mode', 'real-time', '--max-idle-ms', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait until it has processed the two records, then append a third while it runs.
  const deadline = Date.now() + 20_000;
  while (!/processed 2\b/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(cli(['produce', '--data-dir', dir, '--stream', 'readings'], ndjson([{ key: 's7', value: { celsius: 40 }, eventTime: 5_000 }])).status, 0);
  while (!/processed 3\b/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /real-time run stopped/);
  assert.match(stdout, /3 read · 3 processed/);
  assert.deepEqual([...fingerprints(stdout).keys()], ['max-temperature']);
  assert.match(stderr, /stopping — committing/);
});

test('demo: the seed decides the workload — two runs with seed 42 give the same fingerprints, late readings and outages; another seed other ones', () => {
  const demo = (seed: string): { fingerprints: Map<string, string>; rows: string[]; nondeterministic: boolean } => {
    const r = cli(['demo', '--records', '600', '--live-seconds', '1', '--seed', seed]);
    assert.equal(r.status, 0, r.stderr);
    const rows = lines(r.stdout).filter((l) => /^ {2}(out of order|planted|late readings|why late|windows) /.test(l));
    // A decision made on the wall clock (an idle partition passed over) could change the live output, never the replay's:
    // the live output is the seed's when the demo finds it identical to the replay.
    return { fingerprints: fingerprints(r.stdout), rows, nondeterministic: !r.stdout.includes('✓ identical') };
  };
  const first = demo('42');
  const second = demo('42');
  const replayOf = (f: Map<string, string>): string[] => [...f].filter(([s]) => s.startsWith('replay.')).map(([s, h]) => `${s} ${h}`);
  assert.equal(replayOf(first.fingerprints).length, 4);
  assert.deepEqual(replayOf(second.fingerprints), replayOf(first.fingerprints), 'the same input, so the same replay');
  assert.ok(first.rows.some((l) => l.includes('out of order')), first.rows.join('\n'));
  if (!first.nondeterministic && !second.nondeterministic) {
    assert.deepEqual(second.fingerprints, first.fingerprints);
    assert.deepEqual(second.rows, first.rows);
  }
  assert.notDeepEqual(replayOf(demo('7').fingerprints), replayOf(first.fingerprints));
});

test("demo --keep: the commands it suggests run as printed, where the user is (a clone has no tidemark on the PATH)", () => {
  const r = cli(['demo', '--records', '300', '--live-seconds', '0', '--keep']);
  assert.equal(r.status, 0, r.stderr);
  const dataDir = /data dir +(\S+)/.exec(r.stdout)?.[1];
  assert.ok(dataDir !== undefined);
  try {
    const suggested = lines(r.stdout.slice(r.stdout.indexOf('Look around:'))).slice(1).map((l) => l.trim().replace(/\s+#.*$/, ''));
    assert.equal(suggested.length, 7, r.stdout);
    for (const command of suggested) {
      const run = spawnSync('sh', ['-c', command], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(run.status, 0, `${command}: ${run.stderr}`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('demo --records small runs end to end and prints the summary with fingerprint lines', () => {
  const r = cli(['demo', '--records', '400', '--live-seconds', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  for (const section of ['1. The backlog', '2. Catch-up', '3. Real-time', '4. Summary', '5. Fingerprints']) assert.ok(r.stdout.includes(section), section);
  assert.match(r.stdout, /catch-up: caught up, processed/);
  assert.match(r.stdout, /records in +sensor-readings \d+/);
  assert.match(r.stdout, /dead-lettered/);
  assert.match(r.stdout, /timestamp fallbacks/);
  assert.match(r.stdout, /nondeterministic/);
  const found = fingerprints(r.stdout);
  assert.match(r.stdout, /windows +(\d+ closed|none closed yet)/);
  assert.match(r.stdout, /late readings +\d+ came after their window had closed/);
  const outputs = ['sensor-alerts', 'sensor-readings-late', 'sensor-stats', 'sensor-windows'];
  assert.deepEqual([...found.keys()], [...outputs, ...outputs.map((s) => `replay.${s}`)]);
  assert.match(r.stdout, /✓ identical/);
  const dataDir = /data dir +(\S+)/.exec(r.stdout)?.[1];
  assert.ok(dataDir !== undefined);
  assert.equal(cli(['consume', '--data-dir', dataDir, '--stream', 'sensor-stats']).status, 1, 'the temporary data dir is removed');
});
