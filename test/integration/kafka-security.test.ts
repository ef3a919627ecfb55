/**
 * Kafka over TLS and SASL: a broker of this file's own with a TLS listener
 * (a certificate made here with openssl, signed by a test CA) and a SASL
 * listener (SCRAM-SHA-256/512 and PLAIN users) next to its PLAINTEXT one.
 * The same stateful topology gives the same fingerprint through each; a
 * wrong password is one line naming the broker, never the password; the
 * CLI takes the password from TIDEMARK_KAFKA_SASL_PASSWORD and never prints it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application } from '../../src/index.ts';
import { KafkaLog, KafkaTaskGroup, type KafkaLogOptions } from '../../src/kafka.ts';
import { fingerprintPartitions } from '../../src/runtime/fingerprint.ts';
import { startKafkaBroker, type KafkaBroker } from '../../src/dev-broker/index.ts';
import { kafkaRequired, resetTopics, skippedWithoutKafka } from '../fixtures/kafka.ts';
import maxTemperature from '../../examples/topologies/max-temperature.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const MAX_TEMPERATURE = fileURLToPath(new URL('../../examples/topologies/max-temperature.ts', import.meta.url));
const PASSWORD = 'alice-s3cret-9d2f';
const USERS = [{ username: 'alice', password: PASSWORD }];

let dir: string;
let broker: KafkaBroker | undefined;
let ca: Buffer;

/** A test CA and a server certificate for 127.0.0.1 it signed, as PEM files in `dir`. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.error?.message ?? r.stderr}`);
  };
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tidemark-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'security-kafka-'));
  if (spawnSync('openssl', ['version']).status !== 0) return;
  makeCertificates(dir);
  ca = readFileSync(join(dir, 'ca.pem'));
});

after(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** This file's broker with the TLS and SASL listeners, started on first use; undefined after t.skip where Kafka (or openssl) cannot run. */
async function secureBroker(t: import('node:test').TestContext): Promise<KafkaBroker | undefined> {
  if (skippedWithoutKafka(t)) return undefined;
  if (ca === undefined) {
    if (kafkaRequired()) assert.fail('TIDEMARK_REQUIRE_KAFKA=1 but openssl is missing (it makes the test certificates)');
    t.skip('openssl is missing: it makes the test certificates');
    return undefined;
  }
  broker ??= await startKafkaBroker({
    dataDir: join(dir, 'broker'),
    listeners: {
      tls: { certificateFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') },
      sasl: { users: USERS },
    },
  });
  return broker;
}

/** Readings of 7 sensors over 3 partitions, a bad one every 97th. */
function readings(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    stream: 'readings',
    partition: i % 3,
    key: Buffer.from(`s${i % 7}`),
    value: Buffer.from(JSON.stringify(i % 97 === 5 ? { celsius: 'hot' } : { celsius: (i * 37) % 45 })),
    eventTime: 1_717_236_000_000 + i * 1000,
  }));
}

/** Fresh topics; the readings appended and the topology run through a log opened with `options`; the output's fingerprint. */
async function runThrough(b: KafkaBroker, options: KafkaLogOptions, group = false): Promise<string> {
  await resetTopics(b.bootstrap);
  const log = await KafkaLog.open(options);
  try {
    await log.createStreams([{ stream: 'readings', partitions: 3 }]);
    await log.append(readings(600));
    const app = new Application(maxTemperature.topology, { applicationId: maxTemperature.applicationId, log });
    if (!group) {
      await app.run({ mode: 'catch-up' });
    } else {
      // Real time in the consumer group (its member connects with the same security) until every reading is taken.
      const stop = new AbortController();
      const taskGroup = new KafkaTaskGroup({ ...options, sessionTimeoutMs: 6000 });
      const summary = await app.run({ mode: 'real-time', group: taskGroup, signal: stop.signal, onProgress: (p) => p.consumed >= 600 && p.lag === 0 && stop.abort(), progressIntervalMs: 100 });
      assert.equal(summary.processed + summary.deadLettered, 600);
    }
    return fingerprintPartitions(await log.readStream('max-temperature'));
  } finally {
    await log.close();
  }
}

test('the same topology through the PLAINTEXT, TLS, SASL SCRAM-SHA-512 and PLAIN listeners: the same fingerprint', { timeout: 300_000 }, async (t) => {
  const b = await secureBroker(t);
  if (b === undefined) return;
  const plaintext = await runThrough(b, { bootstrap: b.bootstrap });
  assert.equal(await runThrough(b, { bootstrap: b.listeners!.tls!, tls: { ca } }), plaintext, 'TLS');
  assert.equal(await runThrough(b, { bootstrap: b.listeners!.sasl!, sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: PASSWORD } }), plaintext, 'SASL SCRAM-SHA-512');
  assert.equal(await runThrough(b, { bootstrap: b.listeners!.sasl!, sasl: { mechanism: 'PLAIN', username: 'alice', password: PASSWORD } }, true), plaintext, 'SASL PLAIN, real time in the consumer group');
});

test('a wrong password or an untrusted certificate: one line naming the broker, never the password', { timeout: 120_000 }, async (t) => {
  const b = await secureBroker(t);
  if (b === undefined) return;
  const sasl = b.listeners!.sasl!;
  const wrong = 'not-the-password-42';
  const started = Date.now();
  await assert.rejects(KafkaLog.open({ bootstrap: sasl, sasl: { mechanism: 'SCRAM-SHA-256', username: 'alice', password: wrong } }), (e: Error) => {
    assert.match(e.message, new RegExp(`^connecting to Kafka at ${sasl.replace(/\./g, '\\.')} \\(SASL SCRAM-SHA-256 as alice\\): authentication failed`));
    assert.doesNotMatch(e.message, /\n/);
    assert.ok(!e.message.includes(wrong) && !e.message.includes(PASSWORD), e.message);
    return true;
  });
  assert.ok(Date.now() - started < 20_000, 'a refused login is not retried for the whole retry budget');
  const tls = b.listeners!.tls!;
  await assert.rejects(KafkaLog.open({ bootstrap: tls, tls: {} }), (e: Error) => {
    assert.match(e.message, new RegExp(`^connecting to Kafka at ${tls.replace(/\./g, '\\.')} over TLS: .*certificate`));
    return true;
  });
});

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI as a child process with `env` added. */
function cli(args: readonly string[], env: Record<string, string>, input = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

const fingerprintOf = (out: string): string | undefined => /^fingerprint max-temperature (\S+)$/m.exec(out)?.[1];

test('the CLI over SASL SCRAM-SHA-256 (password from TIDEMARK_KAFKA_SASL_PASSWORD) and TLS (--kafka-tls-ca): the PLAINTEXT fingerprint, the password never printed', { timeout: 300_000 }, async (t) => {
  const b = await secureBroker(t);
  if (b === undefined) return;
  const input = readings(600).map((r) => JSON.stringify({ key: r.key.toString(), value: JSON.parse(r.value.toString()) as unknown, eventTime: r.eventTime })).join('\n') + '\n';
  const env = { TIDEMARK_KAFKA_SASL_PASSWORD: PASSWORD };
  const through = async (kafka: string[]): Promise<string | undefined> => {
    await resetTopics(b.bootstrap);
    const produced = await cli(['produce', ...kafka, '--stream', 'readings', '--partitions', '3'], env, input);
    assert.equal(produced.status, 0, produced.stderr);
    const run = await cli(['run', MAX_TEMPERATURE, ...kafka], env);
    assert.equal(run.status, 0, run.stderr);
    for (const out of [produced.stdout, produced.stderr, run.stdout, run.stderr]) assert.ok(!out.includes(PASSWORD), 'the password is never printed');
    return fingerprintOf(run.stdout);
  };
  const plaintext = await through(['--kafka', b.bootstrap]);
  assert.ok(plaintext !== undefined);
  const sasl = ['--kafka', b.listeners!.sasl!, '--kafka-sasl-mechanism', 'SCRAM-SHA-256', '--kafka-sasl-username', 'alice'];
  assert.equal(await through(sasl), plaintext, 'SASL SCRAM-SHA-256');
  assert.equal(await through(['--kafka', b.listeners!.tls!, '--kafka-tls-ca', join(dir, 'ca.pem')]), plaintext, 'TLS');

  const refused = await cli(['consume', ...sasl, '--stream', 'max-temperature'], { TIDEMARK_KAFKA_SASL_PASSWORD: 'wrong-password-77' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^tidemark consume: connecting to Kafka at 127\.0\.0\.1:\d+ \(SASL SCRAM-SHA-256 as alice\): authentication failed.*\n$/);
  assert.ok(!refused.stderr.includes('wrong-password-77') && !refused.stdout.includes('wrong-password-77'));
  const noPassword = await cli(['consume', ...sasl, '--stream', 'max-temperature'], { TIDEMARK_KAFKA_SASL_PASSWORD: '' });
  assert.equal(noPassword.status, 2);
  assert.match(noPassword.stderr, /needs the password: set TIDEMARK_KAFKA_SASL_PASSWORD/);
});
