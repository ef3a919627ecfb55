import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { appendLines, parseLine, type LineFormat } from '../../src/cli/produce.ts';
import { CliError } from '../../src/cli/errors.ts';
import { EmbeddedLog } from '../../src/connectors/embedded/embedded-log.ts';
import { StreamsBuilder } from '../../src/dsl/stream-builder.ts';
import { Serdes } from '../../src/records/serde.ts';
import { Application } from '../../src/runtime/application.ts';
import { DEAD_LETTER_HEADERS, PRODUCER_HEADER } from '../../src/runtime/headers.ts';
import type { AppendRecord } from '../../src/runtime/log.ts';
import type { LogRecord } from '../../src/records/record.ts';
import { propertyParams } from '../fixtures/property-runs.ts';

// Fuzzing the ways data comes in: random bytes, JSON, headers and
// timestamps through `produce` (its line parser and batching in-process,
// and a few real CLI runs) and through a topology on the embedded log. For
// every record the outcome is one of: kept exactly (key, value, headers,
// timestamp), dead-lettered with its position, or refused with a one-line
// error naming the line. Never a crash, a hang, a lost or a changed record.
//
// TIDEMARK_FUZZ_RUNS multiplies the case counts (default 1: a few thousand
// cases, well under a minute); TIDEMARK_PROPERTY_SEED / _PATH replay a failure.

const SCALE = Math.max(0, Number(process.env['TIDEMARK_FUZZ_RUNS'] ?? '1'));
if (!Number.isFinite(SCALE)) throw new Error(`TIDEMARK_FUZZ_RUNS must be a number (a multiplier), got ${process.env['TIDEMARK_FUZZ_RUNS']}`);
const runs = (base: number): number => Math.max(1, Math.round(base * SCALE));

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tidemark-fuzz-test-'));
  dirs.push(d);
  return d;
}

const FORMAT: LineFormat = { stream: 's', partitions: 3, keyFormat: 'json', valueFormat: 'json', now: () => 1_000 };
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------
// Generators

/** Header names and values: ordinary, Object.prototype's own names, controls, lone surrogates. */
const headerText = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'tidemark.producer'),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 2 }),
);

/** Event times as a line may write them: the text, and what it means when it is exact. */
const eventTimeText = fc.oneof(
  fc.integer({ min: 0, max: 4_102_444_800_000 }).map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.double({ noNaN: true }).map((d) => (Number.isFinite(d) ? JSON.stringify(d) : d > 0 ? '1e400' : '-1e400')),
  fc.constantFrom('null', '1e400', '1e-400', '-0', '1.5', '"2024-02-30"', '"2024-01-01T00:00:00.1234Z"', '"2024-06-01T12:00:00Z"', '"2024-06-01"', '"soon"', 'true', '[]'),
);

/** Number literals JSON may round: long integers, big exponents, many decimals. */
const numberText = fc.oneof(
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
  fc.tuple(fc.integer({ min: 1, max: 99_999 }), fc.integer({ min: -400, max: 400 })).map(([m, e]) => `${m}e${e}`),
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.stringMatching(/^[0-9]{1,25}$/)).map(([i, f]) => `${i}.${f}`),
);

interface FuzzLine {
  readonly text: string;
  /** What the line means, when it can be kept: the generator's own values. */
  readonly key: unknown;
  readonly value: unknown;
  readonly headers: [string, string][];
  readonly eventTime: string | undefined;
  readonly raw: string | undefined;
}

/** A produce line: JSON key and value, headers, an event time, and maybe a raw number literal in the value. */
const fuzzLine: fc.Arbitrary<FuzzLine> = fc
  .record({
    key: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
    value: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
    headers: fc.array(fc.tuple(headerText, headerText), { maxLength: 4 }),
    eventTime: fc.option(eventTimeText, { nil: undefined }),
    raw: fc.option(numberText, { nil: undefined, freq: 3 }),
  })
  .map(({ key, value, headers, eventTime, raw }) => {
    // Headers by hand, so that a __proto__ name is written as a name (an object literal would take it for the prototype).
    const unique = [...new Map(headers).entries()];
    const parts = [
      ...(key === undefined ? [] : [`"key":${JSON.stringify(key)}`]),
      ...(raw !== undefined ? [`"value":{"n":${raw}}`] : value === undefined ? [] : [`"value":${JSON.stringify(value)}`]),
      ...(unique.length === 0 ? [] : [`"headers":{${unique.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`]),
      ...(eventTime === undefined ? [] : [`"eventTime":${eventTime}`]),
    ];
    return { text: `{${parts.join(',')}}`, key, value, headers: unique, eventTime, raw };
  });

// ---------------------------------------------------------------------------
// Oracles, independent of the code under test

/**
 * Whether JSON keeps a decimal literal: the double it parses to is written
 * back (shortest text) as the same rational number. By BigInt arithmetic.
 */
function exactDouble(literal: string): boolean {
  const n = Number(literal);
  if (!Number.isFinite(n)) return false;
  const [a, b] = [rational(literal), rational(String(n))];
  return a.num * b.den === b.num * a.den;
}

/** A decimal text as an exact fraction. */
function rational(text: string): { num: bigint; den: bigint } {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(text)!;
  const frac = m[3] ?? '';
  const exp = Number(m[4] ?? '0') - frac.length;
  const digits = BigInt(`${m[1]}${m[2]}${frac}`);
  return exp >= 0 ? { num: digits * 10n ** BigInt(exp), den: 1n } : { num: digits, den: 10n ** BigInt(-exp) };
}

/** Header entries in name order: headers are a map (an object puts integer-like names first, whatever the order given). */
function sorted(entries: readonly (readonly [string, unknown])[]): (readonly [string, unknown])[] {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A refusal: a plain Error (not a TypeError or RangeError from a bug) with a one-line message. */
function assertRefusal(e: unknown, what: string): void {
  assert.ok(e instanceof Error && (e.constructor === Error || e instanceof CliError), `${what}: not a refusal but ${String(e)}`);
  assert.doesNotMatch(e.message, /\n/, `${what}: one line`);
  assert.ok(e.message.length > 0 && e.message.length < 500, `${what}: a short message`);
}

// ---------------------------------------------------------------------------
// produce, in-process

test('fuzz produce lines: each is appended exactly as written, or refused in one line naming the field', () => {
  let kept = 0;
  let refused = 0;
  fc.assert(
    fc.property(fuzzLine, (line) => {
      let records: AppendRecord[];
      try {
        records = parseLine(line.text, FORMAT);
      } catch (e) {
        assertRefusal(e, line.text);
        refused++;
        // Refused only for a reason: a number it cannot keep, an event time it cannot keep or read, a lone surrogate.
        const reason = (e as Error).message;
        assert.match(reason, /cannot be kept exactly|not a finite number|not a safe integer|not valid Unicode|"eventTime"|more precise than a millisecond/, `${line.text}: ${reason}`);
        return;
      }
      kept++;
      assert.equal(records.length, 1);
      const r = records[0]!;
      // Kept: key and value as the generator made them (JSON text is exact for them), headers name by name, the event time as meant.
      assert.equal(r.key === null ? 'null' : strictUtf8.decode(r.key), JSON.stringify(line.key ?? null));
      if (line.raw === undefined) assert.equal(r.value === null ? 'null' : strictUtf8.decode(r.value), JSON.stringify(line.value ?? null));
      else {
        assert.ok(exactDouble(line.raw), `${line.raw} is not a double, yet it was kept`);
        assert.equal(JSON.parse(strictUtf8.decode(r.value!)).n, Number(line.raw));
      }
      assert.deepEqual(sorted(Object.entries(r.headers ?? {})), sorted(line.headers));
      if (line.eventTime === undefined) assert.equal(r.eventTime, 1_000);
      else if (line.eventTime.startsWith('"')) assert.equal(r.eventTime, Date.parse(JSON.parse(line.eventTime) as string));
      else {
        assert.ok(line.eventTime === 'null' || exactDouble(line.eventTime), `eventTime ${line.eventTime} was kept, rounded`);
        assert.equal(r.eventTime, JSON.parse(line.eventTime));
        if (Number.isInteger(r.eventTime)) assert.ok(Number.isSafeInteger(r.eventTime), `eventTime ${line.eventTime}: an unsafe integer kept`);
      }
    }),
    propertyParams(runs(3000)),
  );
  assert.ok(kept > 100 && refused > 100, `both outcomes are exercised (kept ${kept}, refused ${refused})`);
});

test('fuzz produce input bytes: appended up to the first bad line, which the error names; nothing after it', async () => {
  const lineBytes = fc.oneof(
    { weight: 4, arbitrary: fuzzLine.map((l) => utf8.encode(l.text)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => (x === 0x0a ? 0x20 : x))) },
    { weight: 1, arbitrary: fc.constantFrom('', '   ', '\r', '{}', '[]', 'null', '{"key":1}\r').map((s) => utf8.encode(s)) },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(lineBytes, { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), async (lines, chunkSize) => {
      const input = Buffer.concat(lines.flatMap((l) => [Buffer.from(l), Buffer.from('\n')]));
      // The model: line by line, decode, parse; stop at the first that fails.
      const expected: AppendRecord[] = [];
      let badLine: number | undefined;
      for (let i = 0; i < lines.length && badLine === undefined; i++) {
        let text: string;
        try {
          text = strictUtf8.decode(lines[i]!).replace(/\r$/, '').replace(/^\uFEFF/, i === 0 ? '' : '\uFEFF');
        } catch {
          badLine = i + 1;
          break;
        }
        if (text.trim() === '') continue;
        try {
          expected.push(...parseLine(text, FORMAT));
        } catch {
          badLine = i + 1;
        }
      }
      const appended: AppendRecord[] = [];
      const chunks: Buffer[] = [];
      for (let i = 0; i < input.length; i += chunkSize) chunks.push(input.subarray(i, i + chunkSize));
      try {
        const n = await appendLines(Readable.from(chunks), FORMAT, async (b) => void appended.push(...b));
        assert.equal(badLine, undefined, `line ${badLine} should have failed`);
        assert.equal(n, expected.length);
      } catch (e) {
        assertRefusal(e, 'appendLines');
        assert.ok(e instanceof CliError);
        assert.match(e.message, new RegExp(`^line ${badLine}: `));
        const before = expected.length === 0 ? 'nothing was appended' : `the ${expected.length} record${expected.length === 1 ? '' : 's'} before it`;
        assert.ok(e.message.includes(before), `${e.message} (expected: ${before})`);
      }
      assert.deepEqual(appended, expected, 'exactly the records of the lines before the bad one, in order');
    }),
    propertyParams(runs(500)),
  );
});

// ---------------------------------------------------------------------------
// produce and consume, as users run them

test('fuzz produce | consume as child processes: what was appended is what consume shows', () => {
  fc.assert(
    fc.property(fc.array(fuzzLine, { minLength: 1, maxLength: 30 }), (lines) => {
      const dir = freshDir();
      const input = lines.map((l) => l.text).join('\n') + '\n';
      const produced = spawnSync(process.execPath, [MAIN, 'produce', '--data-dir', dir, '--stream', 's'], { input, encoding: 'utf8', timeout: 60_000 });
      assert.notEqual(produced.status, null, 'produce ended by itself');
      const stderr = produced.stderr.split('\n').filter((l) => l !== '');
      let good = lines.length;
      if (produced.status !== 0) {
        assert.equal(produced.status, 1);
        assert.equal(stderr.length, 1, produced.stderr);
        good = Number(/^tidemark produce: line (\d+): /.exec(stderr[0]!)?.[1]) - 1;
        assert.ok(good >= 0, stderr[0]);
      }
      const consumed = spawnSync(process.execPath, [MAIN, 'consume', '--data-dir', dir, '--stream', 's'], { encoding: 'utf8', timeout: 60_000 });
      const shown = consumed.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(shown.length, good, 'one record per line before the bad one');
      shown.forEach((c, i) => {
        const line = lines[i]!;
        assert.equal(JSON.stringify(c['key']), JSON.stringify(line.key ?? null));
        if (line.raw === undefined) assert.equal(JSON.stringify(c['value']), JSON.stringify(line.value ?? null));
        assert.deepEqual(sorted(Object.entries(c['headers'] as object)), sorted(line.headers));
      });
    }),
    propertyParams(runs(3)),
  );
});

// ---------------------------------------------------------------------------
// a topology on the embedded log

interface Input {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: [string, string][];
  readonly eventTime: number | null;
}

const validReading = (v: unknown): string | undefined =>
  v !== null && typeof v === 'object' && typeof (v as { celsius?: unknown }).celsius === 'number' ? undefined : 'celsius: expected a number';

const inputRecord: fc.Arbitrary<Input> = fc.record({
  key: fc.oneof(fc.constant(null), fc.string({ maxLength: 6 }).map((s) => utf8.encode(s)), fc.uint8Array({ maxLength: 6 })),
  value: fc.oneof(
    { weight: 3, arbitrary: fc.record({ celsius: fc.double({ noNaN: true, noDefaultInfinity: true }), extra: fc.jsonValue({ maxDepth: 2 }) }).map((v) => utf8.encode(JSON.stringify(v))) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => utf8.encode(JSON.stringify(v))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constant(null) },
  ),
  headers: fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor')), fc.string({ maxLength: 6 })), { maxLength: 3 }).map((h) => [...new Map(h.filter(([k]) => !k.startsWith('tidemark.'))).entries()]),
  eventTime: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 4_102_444_800_000 }) },
    { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.integer({ min: -1_000, max: -1 }), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(Number.MAX_SAFE_INTEGER)) },
  ),
});

const ID = 'fuzz.id';
const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));

test('fuzz a topology (JSON value serde with a validator, string keys): each record is output unchanged or dead-lettered with its position', async () => {
  const log = await EmbeddedLog.open({ dataDir: freshDir() });
  let n = 0;
  const outcomes = { output: 0, deadLettered: 0 };
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(inputRecord, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 3 }), async (inputs, partitions) => {
        const i = n++;
        const stream = `in-${i}`;
        log.ensureStream(stream, partitions);
        const appended = await log.append(inputs.map((r, j) => ({ stream, partition: j % partitions, key: r.key, value: r.value, eventTime: r.eventTime, headers: Object.fromEntries([...r.headers, [ID, String(j)]]) })));
        const b = new StreamsBuilder();
        b.stream<string | null, unknown>(stream, { key: Serdes.string<string | null>(), value: Serdes.json(validReading), onInvalidTimestamp: 'skip' }).to(`out-${i}`);
        const app = new Application(b.build(), { applicationId: `fuzz-${i}`, log });
        const summary = await app.run({ mode: 'catch-up', commitIntervalMs: 0 });
        const out = readAll(log, `out-${i}`);
        const dead = readAll(log, `fuzz-${i}.dead-letter`);
        assert.equal(out.length + dead.length, inputs.length, 'no record lost or doubled');
        assert.equal(summary.deadLettered, dead.length);
        const byId = (rs: LogRecord[]): Map<string, LogRecord> => new Map(rs.map((r) => [r.headers[ID]!, r]));
        const [outs, deads] = [byId(out), byId(dead)];
        inputs.forEach((input, j) => {
          const o = outs.get(String(j));
          const d = deads.get(String(j));
          assert.ok((o === undefined) !== (d === undefined), `record ${j}: exactly one outcome`);
          const visible = (r: LogRecord): [string, string][] => Object.entries(r.headers).filter(([k]) => k !== ID && k !== PRODUCER_HEADER && !Object.values(DEAD_LETTER_HEADERS).includes(k as never));
          if (o !== undefined) {
            outcomes.output++;
            assert.equal(text(o.key), text(input.key), 'key bytes unchanged');
            assert.equal(o.value === null ? null : JSON.stringify(JSON.parse(strictUtf8.decode(o.value))), input.value === null ? null : JSON.stringify(JSON.parse(strictUtf8.decode(input.value))), 'value unchanged');
            assert.equal(o.eventTime, input.eventTime, 'timestamp unchanged');
            assert.deepEqual(sorted(visible(o)), sorted(input.headers), 'headers unchanged');
          } else {
            outcomes.deadLettered++;
            const at = appended[j]!;
            assert.equal(text(d!.key), text(input.key), 'dead letter: key bytes untouched');
            assert.equal(text(d!.value), text(input.value), 'dead letter: value bytes untouched');
            assert.equal(d!.eventTime, input.eventTime);
            assert.deepEqual(sorted(visible(d!)), sorted(input.headers));
            assert.equal(d!.headers[DEAD_LETTER_HEADERS.stream], stream);
            assert.equal(d!.headers[DEAD_LETTER_HEADERS.partition], String(at.partition));
            assert.equal(d!.headers[DEAD_LETTER_HEADERS.offset], String(at.offset));
            assert.doesNotMatch(d!.headers[DEAD_LETTER_HEADERS.error]!, /\n/);
          }
        });
      }),
      propertyParams(runs(120)),
    );
  } finally {
    await log.close();
  }
  assert.ok(outcomes.output > 100 && outcomes.deadLettered > 100, `both outcomes are exercised (${JSON.stringify(outcomes)})`);
});

function readAll(log: EmbeddedLog, stream: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (let p = 0; p < (log.partitionCount(stream) ?? 0); p++) out.push(...log.read(stream, p, 0, 10_000));
  return out;
}
