import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKafkaJars, javaCommand, kafkaPrerequisites, startKafkaBroker } from '../../src/dev-broker/index.ts';

// A real single-node Kafka broker (KRaft), started by the project itself. Without Java 17+ and Maven
// these tests skip with the reason, unless TIDEMARK_REQUIRE_KAFKA=1 (as in CI), where they fail.

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const DEV_BROKER = fileURLToPath(new URL('../../src/dev-broker/index.ts', import.meta.url));
const prerequisites = kafkaPrerequisites();
const required = process.env.TIDEMARK_REQUIRE_KAFKA === '1';

/** Skips the test (or fails it when Kafka is required) unless Java and Maven are there. */
function needsKafka(t: { skip(message?: string): void }): boolean {
  if (prerequisites.ok) return true;
  if (required) assert.fail(`TIDEMARK_REQUIRE_KAFKA=1 but ${prerequisites.reason}`);
  t.skip(prerequisites.reason);
  return false;
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

interface ApiVersionsResponse {
  readonly correlationId: number;
  readonly errorCode: number;
  readonly apiKeys: ReadonlyMap<number, { min: number; max: number }>;
}

/**
 * An ApiVersions v0 request over a raw socket, written here by hand so the
 * check does not depend on the code under test: int32 size, int16 api_key
 * (18), int16 api_version (0), int32 correlation_id, nullable string
 * client_id; v0 has an empty body. The response: int32 size, int32
 * correlation_id, int16 error_code, then [api_key, min_version, max_version].
 */
function apiVersions(port: number, correlationId: number): Promise<ApiVersionsResponse> {
  return new Promise((resolve, reject) => {
    const clientId = Buffer.from('tidemark-test');
    const request = Buffer.alloc(14 + clientId.length);
    request.writeInt32BE(request.length - 4, 0);
    request.writeInt16BE(18, 4);
    request.writeInt16BE(0, 6);
    request.writeInt32BE(correlationId, 8);
    request.writeInt16BE(clientId.length, 12);
    clientId.copy(request, 14);
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(10_000, () => socket.destroy(new Error('no ApiVersions response within 10 s')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(request));
    let data = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 4 || data.length < 4 + data.readInt32BE(0)) return;
      socket.end();
      const apiKeys = new Map<number, { min: number; max: number }>();
      const count = data.readInt32BE(10);
      for (let i = 0; i < count; i++) {
        const at = 14 + i * 6;
        apiKeys.set(data.readInt16BE(at), { min: data.readInt16BE(at + 2), max: data.readInt16BE(at + 4) });
      }
      resolve({ correlationId: data.readInt32BE(4), errorCode: data.readInt16BE(8), apiKeys });
    });
  });
}

async function assertAnswers(port: number, correlationId: number): Promise<void> {
  const response = await apiVersions(port, correlationId);
  assert.equal(response.correlationId, correlationId);
  assert.equal(response.errorCode, 0);
  assert.ok(response.apiKeys.has(18), 'ApiVersions lists itself');
  assert.ok(response.apiKeys.has(0), 'ApiVersions lists Produce');
}

function connectError(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
  });
}

/** Kafka's own topic tool (org.apache.kafka.tools.TopicCommand) from the fetched jars: proves they make a working client. */
function topicCommand(libs: string, bootstrap: string, ...args: string[]): string {
  const r = spawnSync(javaCommand(), ['-Xmx256m', '-cp', join(libs, '*'), 'org.apache.kafka.tools.TopicCommand', '--bootstrap-server', bootstrap, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `TopicCommand ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('kafkaPrerequisites names what is missing in one line', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { kafkaPrerequisites } from ${JSON.stringify(DEV_BROKER)}; console.log(JSON.stringify(kafkaPrerequisites()));`], {
    encoding: 'utf8',
    env: { ...process.env, PATH: '/nonexistent', JAVA_HOME: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  const check = JSON.parse(r.stdout) as { ok: boolean; reason?: string };
  assert.equal(check.ok, false);
  assert.match(check.reason ?? '', /^java not found on PATH: .*Java 17\+ and Maven$/);
});

test('a real Kafka broker answers ApiVersions, survives a restart and a crash, keeps its topics, and stops', { timeout: 600_000 }, async (t) => {
  if (!needsKafka(t)) return;
  const libs = await ensureKafkaJars({ log: (line) => t.diagnostic(line) });
  const dataDir = tempDir('tidemark-kafka-test-');
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  let started = Date.now();
  const broker = await startKafkaBroker({ dataDir, libsDir: libs });
  t.after(() => broker.stop());
  t.diagnostic(`started in ${Date.now() - started} ms at ${broker.bootstrap}`);
  assert.equal(broker.bootstrap, `127.0.0.1:${broker.port}`);
  assert.notEqual(broker.port, broker.controllerPort);
  assert.equal(broker.dataDir, dataDir);
  await assertAnswers(broker.port, 4242);

  assert.match(topicCommand(libs, broker.bootstrap, '--create', '--topic', 't', '--partitions', '3', '--replication-factor', '1'), /Created topic t/);

  const firstPid = broker.pid;
  started = Date.now();
  await broker.restart();
  t.diagnostic(`restarted in ${Date.now() - started} ms`);
  assert.notEqual(broker.pid, firstPid);
  await assertAnswers(broker.port, 4343);

  // A crash: no controlled shutdown; the restarted broker recovers its logs and registers again.
  broker.kill();
  started = Date.now();
  await broker.restart();
  t.diagnostic(`restarted after a kill in ${Date.now() - started} ms`);
  await assertAnswers(broker.port, 4444);

  const described = topicCommand(libs, broker.bootstrap, '--describe', '--topic', 't');
  assert.match(described, /PartitionCount:\s*3\b/);
  assert.equal(described.match(/\bPartition:\s*\d+/g)?.length, 3, described);

  started = Date.now();
  await broker.stop();
  t.diagnostic(`stopped in ${Date.now() - started} ms`);
  assert.equal(await connectError(broker.port), 'ECONNREFUSED');
  assert.ok(existsSync(join(dataDir, 'broker.log')), 'the broker logs to its data directory');
});

test('a broker started with a small heap starts and restarts: its log cleaner buffer is sized for the heap', { timeout: 600_000 }, async (t) => {
  if (!needsKafka(t)) return;
  const libs = await ensureKafkaJars({ log: (line) => t.diagnostic(line) });
  const dataDir = tempDir('tidemark-kafka-heap-');
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  // Kafka's default cleaner dedupe buffer (128 MiB, allocated at once as the broker starts) does not fit a
  // 128 MiB heap, and fits a 256 MiB one only while log recovery leaves room: a restart could die in
  // LogCleaner.startup with OutOfMemoryError.
  const broker = await startKafkaBroker({ dataDir, libsDir: libs, maxHeap: '128m' });
  t.after(() => broker.stop());
  await assertAnswers(broker.port, 5151);
  await broker.restart();
  await assertAnswers(broker.port, 5252);
});

test('a broker that dies while starting: the error names its fatal fault on the first line', { timeout: 600_000 }, async (t) => {
  if (!needsKafka(t)) return;
  const libs = await ensureKafkaJars({ log: (line) => t.diagnostic(line) });
  const dataDir = tempDir('tidemark-kafka-fatal-');
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  // A dedupe buffer larger than the heap: the broker dies in LogCleaner.startup.
  const error = await startKafkaBroker({ dataDir, libsDir: libs, maxHeap: '128m', brokerProperties: { 'log.cleaner.dedupe.buffer.size': 200 * 1024 * 1024 } }).then(
    () => assert.fail('the broker started'),
    (e: unknown) => e as Error,
  );
  const first = error.message.split('\n')[0]!;
  assert.match(first, /^the Kafka broker stopped while starting \(exit code 1\) on 127\.0\.0\.1:\d+: .*java\.lang\.OutOfMemoryError: Java heap space/, error.message);
});

test('tidemark kafka start, status and stop run a detached broker', { timeout: 600_000 }, async (t) => {
  if (!needsKafka(t)) return;
  await ensureKafkaJars();
  const dataDir = join(tempDir('tidemark-kafka-cli-'), 'broker');
  const cli = (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [MAIN, 'kafka', ...args, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  t.after(async () => {
    await cli('stop');
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  const start = await cli('start');
  assert.equal(start.status, 0, start.stderr);
  const m = /^kafka broker at 127\.0\.0\.1:(\d+) \(data in .*\); stop it with: .+ kafka stop --data-dir /.exec(start.stdout);
  assert.ok(m, start.stdout);
  const port = Number(m[1]);
  // The CLI has exited; the broker goes on.
  await assertAnswers(port, 77);

  const status = await cli('status');
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /: answering$/m);

  const stop = await cli('stop');
  assert.equal(stop.status, 0, stop.stderr);
  assert.match(stop.stdout, new RegExp(`^stopped the kafka broker at 127\\.0\\.0\\.1:${port} `));
  assert.equal(await connectError(port), 'ECONNREFUSED');

  const after = await cli('status');
  assert.equal(after.status, 1);
  assert.match(after.stdout, /^no kafka broker running/);
});
