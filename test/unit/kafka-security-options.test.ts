import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandArgs } from '../../src/cli/args.ts';
import { CliError, UsageError } from '../../src/cli/errors.ts';
import { LOG_OPTIONS } from '../../src/cli/log-option.ts';
import { kafkaSecurityFlagGiven, kafkaSecurityFromCli } from '../../src/cli/kafka-security-options.ts';
import { connectionSecurity, securityFailure, securityText } from '../../src/connectors/kafka/kafka-security.ts';

const SECRET = 'alice-s3cret';

function parse(...argv: string[]) {
  return parseCommandArgs(['--kafka', '127.0.0.1:9092', ...argv], LOG_OPTIONS).values;
}

function withFiles(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-security-unit-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    writeFileSync(join(dir, 'cert.pem'), 'CERT PEM');
    writeFileSync(join(dir, 'key.pem'), 'KEY PEM');
    writeFileSync(join(dir, 'password'), `${SECRET}\n`);
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts that `f` throws an error of `type` whose one line matches `message` and holds no secret. */
function throwsLine(f: () => unknown, type: typeof UsageError | typeof CliError, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${String(e)}`);
    assert.match(e.message, message);
    assert.doesNotMatch(e.message, /\n/);
    assert.ok(!e.message.includes(SECRET), 'the message must not hold the password');
    return true;
  });
}

test('no security flags and no variables: PLAINTEXT', () => {
  assert.deepEqual(kafkaSecurityFromCli(parse(), {}), {});
});

test('TLS flags read the files they name; --kafka-tls alone is TLS with the system CAs', () => {
  withFiles((dir) => {
    const s = kafkaSecurityFromCli(parse('--kafka-tls-ca', join(dir, 'ca.pem'), '--kafka-tls-cert', join(dir, 'cert.pem'), '--kafka-tls-key', join(dir, 'key.pem')), {});
    assert.equal(s.tls?.ca?.toString(), 'CA PEM');
    assert.equal(s.tls?.cert?.toString(), 'CERT PEM');
    assert.equal(s.tls?.key?.toString(), 'KEY PEM');
    assert.equal(s.sasl, undefined);
  });
  assert.deepEqual(kafkaSecurityFromCli(parse('--kafka-tls'), {}), { tls: {} });
  assert.deepEqual(kafkaSecurityFromCli(parse(), { TIDEMARK_KAFKA_TLS: '1' }), { tls: {} });
  assert.deepEqual(kafkaSecurityFromCli(parse(), { TIDEMARK_KAFKA_TLS: '0' }), {});
  throwsLine(() => kafkaSecurityFromCli(parse(), { TIDEMARK_KAFKA_TLS: 'maybe' }), UsageError, /TIDEMARK_KAFKA_TLS must be 1 or 0/);
});

test('the environment stands in for each flag, the flag wins', () => {
  withFiles((dir) => {
    const env = { TIDEMARK_KAFKA_TLS_CA: join(dir, 'ca.pem'), TIDEMARK_KAFKA_SASL_MECHANISM: 'scram-sha-512', TIDEMARK_KAFKA_SASL_USERNAME: 'bob', TIDEMARK_KAFKA_SASL_PASSWORD: SECRET };
    const s = kafkaSecurityFromCli(parse(), env);
    assert.equal(s.tls?.ca?.toString(), 'CA PEM');
    assert.deepEqual(s.sasl, { mechanism: 'SCRAM-SHA-512', username: 'bob', password: SECRET });
    const flagged = kafkaSecurityFromCli(parse('--kafka-sasl-username', 'alice', '--kafka-sasl-mechanism', 'PLAIN'), env);
    assert.deepEqual(flagged.sasl, { mechanism: 'PLAIN', username: 'alice', password: SECRET });
  });
});

test('SCRAM takes the password from TIDEMARK_KAFKA_SASL_PASSWORD or from a file, without its last line break', () => {
  const values = parse('--kafka-sasl-mechanism', 'SCRAM-SHA-256', '--kafka-sasl-username', 'alice');
  assert.deepEqual(kafkaSecurityFromCli(values, { TIDEMARK_KAFKA_SASL_PASSWORD: SECRET }).sasl, { mechanism: 'SCRAM-SHA-256', username: 'alice', password: SECRET });
  withFiles((dir) => {
    const fromFile = kafkaSecurityFromCli(parse('--kafka-sasl-mechanism', 'SCRAM-SHA-256', '--kafka-sasl-username', 'alice', '--kafka-sasl-password-file', join(dir, 'password')), {});
    assert.equal(fromFile.sasl?.password, SECRET);
    assert.equal(kafkaSecurityFromCli(values, { TIDEMARK_KAFKA_SASL_PASSWORD_FILE: join(dir, 'password') }).sasl?.password, SECRET);
  });
});

test('one-line errors: a bad mechanism, a missing user, password, token or file, a certificate without its key', () => {
  throwsLine(() => kafkaSecurityFromCli(parse('--kafka-sasl-mechanism', 'GSSAPI', '--kafka-sasl-username', 'alice'), {}), UsageError, /--kafka-sasl-mechanism must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, got "GSSAPI"/);
  throwsLine(() => kafkaSecurityFromCli(parse('--kafka-sasl-mechanism', 'SCRAM-SHA-256'), { TIDEMARK_KAFKA_SASL_PASSWORD: SECRET }), UsageError, /needs --kafka-sasl-username U/);
  throwsLine(() => kafkaSecurityFromCli(parse('--kafka-sasl-mechanism', 'SCRAM-SHA-256', '--kafka-sasl-username', 'alice'), {}), UsageError, /needs the password: set TIDEMARK_KAFKA_SASL_PASSWORD/);
  throwsLine(() => kafkaSecurityFromCli(parse('--kafka-sasl-username', 'alice'), { TIDEMARK_KAFKA_SASL_PASSWORD: SECRET }), UsageError, /needs --kafka-sasl-mechanism/);
  throwsLine(() => kafkaSecurityFromCli(parse('--kafka-sasl-mechanism', 'OAUTHBEARER'), {}), UsageError, /TIDEMARK_KAFKA_SASL_TOKEN/);
  throwsLine(() => kafkaSecurityFromCli(parse('--kafka-tls-ca', '/nonexistent/ca.pem'), {}), CliError, /^--kafka-tls-ca: cannot read \/nonexistent\/ca\.pem: no such file$/);
  throwsLine(() => kafkaSecurityFromCli(parse(), { TIDEMARK_KAFKA_TLS_KEY: '/nonexistent/key.pem' }), CliError, /^TIDEMARK_KAFKA_TLS_KEY: cannot read/);
  withFiles((dir) => {
    throwsLine(() => kafkaSecurityFromCli(parse('--kafka-tls-cert', join(dir, 'cert.pem')), {}), UsageError, /needs its key/);
  });
});

test('a password on the command line is refused without echoing it', () => {
  throwsLine(() => kafkaSecurityFromCli(parse('--kafka-sasl-password', SECRET), {}), UsageError, /not taken from the command line.*TIDEMARK_KAFKA_SASL_PASSWORD/);
});

test('the security flags are named when given without --kafka', () => {
  const values = parseCommandArgs(['--data-dir', '/tmp/x', '--kafka-sasl-username', 'alice'], LOG_OPTIONS).values;
  assert.equal(kafkaSecurityFlagGiven(values), 'kafka-sasl-username');
  assert.equal(kafkaSecurityFlagGiven(parseCommandArgs(['--data-dir', '/tmp/x'], LOG_OPTIONS).values), undefined);
});

test('the client gets the password as a function; no description or error holds it', async () => {
  const options = { sasl: { mechanism: 'SCRAM-SHA-256', username: 'alice', password: SECRET } as const };
  const client = connectionSecurity(options);
  assert.equal(typeof client.sasl?.password, 'function');
  assert.equal(await (client.sasl!.password as () => string)(), SECRET);
  assert.ok(!JSON.stringify(client).includes(SECRET));
  assert.equal(securityText({ ...options, tls: {} }), 'TLS, SASL SCRAM-SHA-256 as alice');
  const refused = securityFailure({ code: 'PLT_KFK_AUTHENTICATION', message: 'SASL authentication failed.' }, '127.0.0.1:9093', options);
  assert.match(refused!.message, /^connecting to Kafka at 127\.0\.0\.1:9093 \(SASL SCRAM-SHA-256 as alice\): authentication failed/);
  assert.ok(!refused!.message.includes(SECRET));
  assert.equal(securityFailure(new Error('other'), '127.0.0.1:9093', options), undefined);
  assert.throws(() => connectionSecurity({ sasl: { mechanism: 'KERBEROS' as 'PLAIN', username: 'a', password: 'b' } }), /unknown mechanism "KERBEROS"/);
  assert.throws(() => connectionSecurity({ sasl: { mechanism: 'PLAIN', username: 'alice' } }), /PLAIN needs a password \(for user alice\)/);
});
