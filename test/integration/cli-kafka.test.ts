/**
 * The CLI against a real Kafka broker: `produce`, `run` and `consume` with
 * `--kafka HOST:PORT` give the same fingerprint as on the embedded log, a
 * second run resumes from the committed checkpoint, and progress names the
 * partitions still behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshStateDir, kafkaBroker } from '../fixtures/kafka.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const MAX_TEMPERATURE = fileURLToPath(new URL('../../examples/topologies/max-temperature.ts', import.meta.url));

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI as a child process (asynchronously: the broker's fixture lives in this process). */
function cli(args: readonly string[], input = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Readings with a bad one every 97th: the same NDJSON for both logs. */
function readings(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ key: `s${i % 7}`, value: i % 97 === 5 ? { celsius: 'hot' } : { celsius: (i * 37) % 45 }, eventTime: 1_717_236_000_000 + i * 1000 }));
  return lines.join('\n') + '\n';
}

const fingerprintOf = (out: string): string | undefined => /^fingerprint max-temperature (\S+)$/m.exec(out)?.[1];

test('produce, run and consume with --kafka: the same fingerprint as on the embedded log; a second run resumes where the first committed', { timeout: 180_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const input = readings(3000);
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-cli-kafka-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kafka = ['--kafka', broker.bootstrap];

  assert.equal((await cli(['produce', '--data-dir', dir, '--stream', 'readings', '--partitions', '3'], input)).status, 0);
  const embedded = await cli(['run', MAX_TEMPERATURE, '--data-dir', dir, '--quiet']);
  assert.equal(embedded.status, 0, embedded.stderr);

  const produced = await cli(['produce', ...kafka, '--stream', 'readings', '--partitions', '3'], input);
  assert.equal(produced.status, 0, produced.stderr);
  assert.match(produced.stdout, /appended 3000 records to readings \(created it with 3 partitions\)/);
  const run = await cli(['run', MAX_TEMPERATURE, ...kafka]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /3,000 read · 2,969 processed · 31 dead-lettered/);
  assert.equal(fingerprintOf(run.stdout), fingerprintOf(embedded.stdout), 'Kafka and the embedded log agree');
  // Not on a terminal: plain progress lines, the first naming the partitions behind.
  assert.match(run.stderr, /^catch-up: lag 3000 \(processed 0, \d+ rec\/s\) · behind: readings\/\d \d+, readings\/\d \d+, readings\/\d \d+$/m);

  const again = await cli(['run', MAX_TEMPERATURE, ...kafka, '--quiet']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /0 read · 0 processed/, 'resumed from the committed checkpoint: nothing left to do');

  // The audit on Kafka is the embedded run's: the same entries (but their wall-clock times), and --kind filters.
  const entries = (r: Result): { kind: string; stream: string; partition: number; offset: number; detail: string }[] =>
    r.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { kind: string; stream: string; partition: number; offset: number; detail: string }).map(({ kind, stream, partition, offset, detail }) => ({ kind, stream, partition, offset, detail }));
  const auditEmbedded = await cli(['audit', '--data-dir', dir, '--application-id', 'max-temperature']);
  const auditKafka = await cli(['audit', ...kafka, '--application-id', 'max-temperature']);
  assert.equal(auditKafka.status, 0, auditKafka.stderr);
  const byPlace = (a: { stream: string; partition: number; offset: number }, b: { stream: string; partition: number; offset: number }): number => a.stream.localeCompare(b.stream) || a.partition - b.partition || a.offset - b.offset;
  assert.equal(entries(auditKafka).filter((e) => e.kind === 'dead-letter').length, 31, 'every dead letter audited on Kafka');
  assert.deepEqual(entries(auditKafka).sort(byPlace), entries(auditEmbedded).sort(byPlace));
  const onlyDeadLetters = await cli(['audit', ...kafka, '--application-id', 'max-temperature', '--kind', 'dead-letter']);
  assert.equal(entries(onlyDeadLetters).length, 31);
  const unknown = await cli(['audit', ...kafka, '--application-id', 'no-such-app']);
  assert.equal(unknown.status, 1, 'an application that never ran there is an error');
  assert.match(unknown.stderr, /^tidemark audit: no application no-such-app on kafka \S+: the applications there are .*\bmax-temperature\b/);

  const consumed = await cli(['consume', ...kafka, '--stream', 'max-temperature']);
  assert.equal(consumed.status, 0, consumed.stderr);
  const out = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: { max: number }; brokerTime: number | null; headers: Record<string, string> });
  assert.equal(out.length, Number(/outputs\s+max-temperature (\d+)/.exec(run.stdout)?.[1]));
  assert.ok(out.every((r) => typeof r.brokerTime === 'number'), 'tidemark creates its topics with LogAppendTime: the broker time is known');
  assert.ok(out.every((r) => r.headers['tidemark.producer']?.startsWith('max-temperature/')));

  const missing = await cli(['consume', ...kafka, '--stream', 'no-such-stream']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no stream no-such-stream in kafka 127\.0\.0\.1:\d+/);
  const both = await cli(['consume', ...kafka, '--data-dir', dir, '--stream', 'readings']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--data-dir D \(embedded\) or --kafka HOST:PORT/);
});

/** A CLI process left running: its output so far, and a way to stop it as Ctrl-C would. */
function background(args: readonly string[]): { stdout: () => string; stderr: () => string; stop: () => Promise<Result> } {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const closed = new Promise<Result>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    stop: () => (child.kill('SIGTERM'), closed),
  };
}

/** The last progress line of a real-time run: `real-time: lag N (processed M, …)`. */
const lastProgress = (stderr: string): { lag: number; processed: number } | undefined => {
  const all = [...stderr.matchAll(/^real-time: lag (\d+) \(processed (\d+),/gm)];
  const m = all.at(-1);
  return m === undefined ? undefined : { lag: Number(m[1]), processed: Number(m[2]) };
};

async function until(what: string, condition: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('two real-time runs of one application on Kafka share its tasks through the consumer group: the output is the embedded run\'s', { timeout: 240_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const first = readings(2000);
  const second = readings(4000).split('\n').slice(2000).join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-cli-group-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kafka = ['--kafka', broker.bootstrap];
  assert.equal((await cli(['produce', '--data-dir', dir, '--stream', 'readings', '--partitions', '4'], first + second)).status, 0);
  const embedded = await cli(['run', MAX_TEMPERATURE, '--data-dir', dir, '--quiet']);
  assert.equal(embedded.status, 0, embedded.stderr);

  // The example under another application id, with topics of its own: the test above uses `readings` and `max-temperature`.
  const module = join(dir, 'max-temperature-group.ts');
  const source = readFileSync(MAX_TEMPERATURE, 'utf8')
    .replaceAll("'../../src/index.ts'", JSON.stringify(fileURLToPath(new URL('../../src/index.ts', import.meta.url))))
    .replaceAll("'readings'", "'group-readings'")
    .replaceAll("'max-temperature'", "'max-temperature-group'");
  writeFileSync(module, source);
  assert.equal((await cli(['produce', ...kafka, '--stream', 'group-readings', '--partitions', '4'], first)).status, 0);
  // Two machines, as far as their task state goes: a state dir each.
  const a = background(['run', module, ...kafka, '--mode', 'real-time', '--state-dir', freshStateDir('a')]);
  const b = background(['run', module, ...kafka, '--mode', 'real-time', '--state-dir', freshStateDir('b')]);
  try {
    await until('both runs are tailing', () => lastProgress(a.stderr())?.lag === 0 && lastProgress(b.stderr()) !== undefined);
    // The second half arrives while both run: each processes the partitions of the tasks the group gave it.
    assert.equal((await cli(['produce', ...kafka, '--stream', 'group-readings'], second)).status, 0);
    await until('both have processed the second half', () => (lastProgress(a.stderr())?.processed ?? 0) + (lastProgress(b.stderr())?.processed ?? 0) >= 4000 && lastProgress(a.stderr())?.lag === 0 && lastProgress(b.stderr())?.lag === 0);
  } finally {
    const [ra, rb] = [await a.stop(), await b.stop()];
    t.diagnostic(`A: ${/group {6}(.*)/.exec(ra.stdout)?.[1]}; B: ${/group {6}(.*)/.exec(rb.stdout)?.[1]}`);
    for (const r of [ra, rb]) {
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /group {6}held \S+.* · took over \d+ tasks?/);
    }
    assert.ok(lastProgress(rb.stderr)!.processed > 0 && lastProgress(ra.stderr)!.processed > 0, 'both processed records');
  }
  const check = await cli(['run', module, ...kafka, '--quiet']);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /0 read · 0 processed/, 'the group runs committed everything');
  assert.equal(/^fingerprint max-temperature-group (\S+)$/m.exec(check.stdout)?.[1], fingerprintOf(embedded.stdout));
});

test('two catch-up runs with --group share one catch-up through a repartition topic: each exits once every task is done, with the embedded run\'s fingerprint', { timeout: 240_000 }, async (t) => {
  const broker = await kafkaBroker(t);
  if (broker === undefined) return;
  const input = readings(3000);
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-cli-group-catch-up-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kafka = ['--kafka', broker.bootstrap];
  // Counts of readings by temperature band: the band is a new key, so the counts go through a repartition topic.
  const module = join(dir, 'bands.ts');
  writeFileSync(
    module,
    `import { Serdes, StreamsBuilder } from ${JSON.stringify(fileURLToPath(new URL('../../src/index.ts', import.meta.url)))};
const b = new StreamsBuilder();
b.stream('band-readings', { key: Serdes.string(), value: Serdes.json() })
  .filter((_k, v) => typeof v.celsius === 'number')
  .groupBy((_k, v) => 'band-' + Math.floor(v.celsius / 10), { key: Serdes.string() })
  .count()
  .to('band-counts');
export default { applicationId: 'bands', topology: b.build() };
`,
  );
  assert.equal((await cli(['produce', '--data-dir', dir, '--stream', 'band-readings', '--partitions', '4'], input)).status, 0);
  const embedded = await cli(['run', module, '--data-dir', dir, '--quiet']);
  assert.equal(embedded.status, 0, embedded.stderr);
  const expected = /^fingerprint band-counts (\S+)$/m.exec(embedded.stdout)?.[1];
  assert.ok(expected !== undefined, embedded.stdout);

  assert.equal((await cli(['produce', ...kafka, '--stream', 'band-readings', '--partitions', '4'], input)).status, 0);
  const [a, b] = await Promise.all([cli(['run', module, ...kafka, '--group', '--quiet', '--state-dir', freshStateDir('a')]), cli(['run', module, ...kafka, '--group', '--quiet', '--state-dir', freshStateDir('b')])]);
  for (const [name, r] of [['A', a], ['B', b]] as const) {
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(/^fingerprint band-counts (\S+)$/m.exec(r.stdout)?.[1], expected, `${name}: ${r.stdout}`);
    assert.match(r.stdout, /nondeterministic decisions? *0|0 nondeterministic/, `${name}: ${r.stdout}`);
  }
  const usage = await cli(['run', module, '--data-dir', dir, '--group']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--group shares a run through a Kafka consumer group: it needs --kafka/);
});
