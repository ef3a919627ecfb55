import type { Readable } from 'node:stream';
import { LOG_OPTIONS, openCliLog } from './log-option.ts';
import { kafkaDurabilityHelp } from './kafka-options.ts';
import { KAFKA_SECURITY_HELP } from './kafka-security-options.ts';
import { partitionForKey } from '../runtime/partitioner.ts';
import type { AppendRecord } from '../runtime/log.ts';
import { choiceOption, integerOption, parseCommandArgs, producerArgument, requiredString } from './args.ts';
import { CliError } from './errors.ts';
import { PRODUCER_HEADER, PRODUCER_LATE_HEADER } from '../runtime/headers.ts';
import { lastWatermarkOf } from '../runtime/producer.ts';
import { producerIdOf } from '../runtime/ids.ts';
import { isProducerLate } from '../time/producer-watermarks.ts';
import { watermarkRecord } from '../runtime/watermark-record.ts';
import { NO_WATERMARK } from '../time/watermark.ts';
import { encodeField, jsonType, KEY_FORMATS, VALUE_FORMATS, type KeyFormat, type ValueFormat } from './record-format.ts';
import type { CommandIo } from './io.ts';
import { eventTimeMessage, findInexact, inexactValueMessage, parseIsoDateTime, parseJsonKeepingSource, unicodeMessage, type InexactNumbers } from './exact-input.ts';

export const produceHelp = `Usage: tidemark produce (--data-dir D | --kafka HOST:PORT) --stream S [options] < records.ndjson

Appends records read from stdin, one JSON object per line, to a stream of
the embedded log in D, or to a Kafka topic. The stream is created when missing.

  {"key": "s1", "value": {"celsius": 21.5}, "eventTime": 1717236000000,
   "partition": 0, "headers": {"source": "gw-1"}}

  key        any JSON (default format json); missing or null: a null key
  value      any JSON; missing or null: a null value (a tombstone)
  eventTime  epoch milliseconds or an ISO-8601 string; null: no event time;
             missing: now. Invalid times (negative, fractional) are kept
             as given, so that a topology's invalid-timestamp policy sees them.
             What cannot be kept exactly is refused, naming line and field:
             an unsafe integer (9007199254740993), 1e400, a number JSON would
             round in a key or value, a lone surrogate, 2024-02-30.
  partition  optional; by default Kafka's partitioner on the key bytes
             (murmur2), and partition 0 for a null key
  headers    optional; an object of string values (any names, __proto__ too)

With --producer, records are tagged as written by that producer task, and a
line may instead be a watermark or a clean stop, written into
every partition of the stream, or the one given:

  {"watermark": 1717236000000}            W(t): no more records at or before t
  {"watermark": 22, "partition": 1}       only into partition 1
  {"stop": true}                          it is not running; its last watermark
                                          stays its promise (it may run again)

A producer's data line at or below the watermark it wrote to that partition
(in this run, or an earlier one on the embedded log) would be late for every
consumer: it is refused, naming the line, unless --late-records write.

Options:
  --data-dir D            embedded log directory (created when missing)
  --kafka HOST:PORT       a Kafka broker instead: the topic is created with
                          LogAppendTime, event time travels in a header;
                          several brokers, comma-separated: h1:9092,h2:9092
${kafkaDurabilityHelp(26)}
  --stream S              stream to append to
  --partitions N          partition count when creating the stream (default 1);
                          for an existing stream it must match
  --key-format F          json (default): the key as JSON text ("s1" with its
                          quotes), which Serdes.json(), the DSL's default key
                          serde, reads; or string: a string key as its raw
                          UTF-8, as Kafka's StringSerializer writes it and a
                          source with key: Serdes.string() reads it (a run
                          warns about keys written in the other format)
  --value-format F        json (default), string, or raw-base64 (a base64 string
                          written as the bytes it encodes: any bytes at all)
  --producer APP/TASK     write as producer task TASK of application APP
  --tasks N               how many tasks of APP write each partition (default 1):
                          a consumer waits for all of them
  --late-records R        reject (default) or write: a producer's record at or
                          below its own watermark is written, marked with the
                          tidemark.producer-late header, and audited by consumers
  -h, --help              this help${KAFKA_SECURITY_HELP}

Records are appended in batches, each batch durably (on disk when the
command moves on) and, on the embedded log, atomically (on Kafka a batch
larger than a topic's max.message.bytes goes in several requests). A malformed line stops the command with
an error naming the line; the lines before it are appended, none after.

Example:
  echo '{"key":"s1","value":{"celsius":21.5}}' | tidemark produce --data-dir ./data --stream readings --partitions 4`;

const OPTIONS = {
  ...LOG_OPTIONS,
  stream: { type: 'string' },
  partitions: { type: 'string' },
  'key-format': { type: 'string' },
  'value-format': { type: 'string' },
  producer: { type: 'string' },
  tasks: { type: 'string' },
  'late-records': { type: 'string' },
} as const;

const FIELDS = new Set(['key', 'value', 'eventTime', 'partition', 'headers']);
const CONTROL_FIELDS = new Set(['watermark', 'stop', 'partition']);
/** Records per append: large enough to amortize the durable flush, small enough to stream. */
const BATCH_SIZE = 1000;

/** How each line becomes a record. */
export interface LineFormat {
  readonly stream: string;
  readonly partitions: number;
  readonly keyFormat: KeyFormat;
  readonly valueFormat: ValueFormat;
  /** Event time for lines without one: the producer's clock, as Kafka's CreateTime. */
  readonly now: () => number;
  /** The producer task writing, when given: its records are tagged, and it may write watermarks. */
  readonly producer?: ProducerFormat;
}

/** A producer task writing through `produce --producer`: who it is, and the watermark it last wrote to each partition. */
export interface ProducerFormat {
  readonly application: string;
  readonly task: string;
  readonly tasks: number;
  /** By partition; a partition missing from it has none. */
  readonly watermarks: Map<number, number>;
  /** A data line at or below the partition's watermark: refused, or written marked `tidemark.producer-late`. */
  readonly lateRecords: 'reject' | 'write';
}

/** `tidemark produce`: NDJSON on stdin to a stream. Returns the exit status. */
export async function produceCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.help === true) return io.out(produceHelp), 0;
  const stream = requiredString(values, 'stream');
  const keyFormat = choiceOption(values, 'key-format', KEY_FORMATS, 'json');
  const valueFormat = choiceOption(values, 'value-format', VALUE_FORMATS, 'json');
  const requested = values.partitions === undefined ? undefined : integerOption(values, 'partitions', 1, 1, 100_000);
  const producer = producerOption(values.producer as string | undefined, integerOption(values, 'tasks', 1, 1, 100_000), choiceOption(values, 'late-records', ['reject', 'write'] as const, 'reject'));

  const opened = await openCliLog(values, 'create');
  const log = opened.log;
  try {
    const existing = log.partitionCount(stream);
    if (existing !== undefined && requested !== undefined && existing !== requested) {
      throw new CliError(`stream ${stream} exists with ${existing} partitions, not ${requested}`);
    }
    const partitions = existing ?? requested ?? 1;
    // The watermarks this producer wrote in earlier runs of produce, read back from the embedded log's partitions.
    if (producer !== undefined && existing !== undefined && !opened.where.startsWith('kafka ')) {
      for (let p = 0; p < partitions; p++) {
        const w = lastWatermarkOf(log, producerIdOf(producer.application, producer.task), stream, p);
        if (w !== NO_WATERMARK) producer.watermarks.set(p, w);
      }
    }
    // Created with the first batch (or at the end of an empty input), so that a first line in error leaves nothing behind.
    const create = (): Promise<void> => opened.ensureStream(stream, partitions);
    if (io.stdin.isTTY === true) io.err('reading NDJSON records from stdin; end with Ctrl-D');
    const format: LineFormat = { stream, partitions, keyFormat, valueFormat, now: () => Date.now(), ...(producer === undefined ? {} : { producer }) };
    const count = await appendLines(io.stdin, format, async (batch) => (await create(), log.append(batch)), opened.writeFailure);
    try {
      await create();
    } catch (e) {
      const failure = opened.writeFailure(e);
      throw failure === undefined ? e : new CliError(`creating stream ${stream} ${failure}`);
    }
    const created = existing === undefined ? ` (created it with ${partitions} partition${partitions === 1 ? '' : 's'})` : '';
    io.out(`appended ${count} record${count === 1 ? '' : 's'} to ${stream}${created}`);
    return 0;
  } finally {
    await opened.close();
  }
}

/**
 * Reads NDJSON from `input` and appends it in batches; returns the number
 * of records appended. A batch is appended when full and whenever the input
 * pauses (at the end of each chunk read), so a slow pipe — a live producer —
 * is appended as it arrives rather than when 1000 lines have piled up.
 * `describeFailure` says why an append failed (a full disk), when it can tell.
 */
export async function appendLines(
  input: Readable,
  format: LineFormat,
  append: (batch: AppendRecord[]) => Promise<unknown>,
  describeFailure: (error: unknown) => string | undefined = () => undefined,
): Promise<number> {
  const lines = new LineReader();
  let lineNo = 0;
  let appended = 0;
  let batch: AppendRecord[] = [];
  // The lines the batch holds, for a message when appending it fails.
  let batchLines = { first: 0, last: 0 };
  const flush = async (): Promise<void> => {
    if (batch.length > 0) {
      const b = batch;
      batch = [];
      try {
        await append(b);
      } catch (e) {
        const reason = describeFailure(e);
        if (reason === undefined) throw e;
        throw new CliError(`writing lines ${batchLines.first}–${batchLines.last} ${reason}; the ${appended} records before them were appended, none after`);
      }
      appended += b.length;
    }
  };
  // The good lines before it go in before the error is reported: "the lines before it were appended" is true.
  const failAt = async (message: string): Promise<never> => {
    await flush();
    const before = appended === 0 ? 'nothing was appended' : `the ${appended} record${appended === 1 ? '' : 's'} before it ${appended === 1 ? 'was' : 'were'} appended, none after it`;
    throw new CliError(`line ${lineNo}: ${message}; ${before}`);
  };
  const take = async (line: string | undefined): Promise<void> => {
    lineNo++;
    if (line === undefined) return failAt('not valid UTF-8');
    if (line.trim() === '') return;
    let records: AppendRecord[];
    try {
      records = parseLine(line, format);
    } catch (e) {
      return failAt((e as Error).message);
    }
    if (batch.length === 0) batchLines = { first: lineNo, last: lineNo };
    batchLines.last = lineNo;
    // Not push(...records): a stream with very many partitions would spread as many arguments.
    for (const r of records) batch.push(r);
    if (batch.length >= BATCH_SIZE) await flush();
  };
  for await (const chunk of input) {
    for (const line of lines.push(chunk as Uint8Array)) await take(line);
    await flush();
  }
  const last = lines.end();
  if (last !== null) await take(last);
  await flush();
  return appended;
}

/**
 * Splits bytes into lines and decodes each line alone, so that invalid
 * UTF-8 is found in its own line (a newline byte never occurs inside a
 * UTF-8 sequence). A line is its text, or undefined when it is not UTF-8;
 * a final `\r` is dropped (CRLF input), and a byte-order mark at the start.
 */
class LineReader {
  readonly #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  #pending: Uint8Array[] = [];
  #first = true;

  push(chunk: Uint8Array): (string | undefined)[] {
    const out: (string | undefined)[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      this.#pending.push(chunk.subarray(start, nl));
      out.push(this.#decode());
      start = nl + 1;
    }
    if (start < chunk.length) this.#pending.push(chunk.subarray(start));
    return out;
  }

  /** The last line, when the input does not end with a newline; null when it does. */
  end(): string | undefined | null {
    return this.#pending.length === 0 ? null : this.#decode();
  }

  #decode(): string | undefined {
    const bytes = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    this.#pending = [];
    let text: string;
    try {
      text = this.#decoder.decode(bytes);
    } catch {
      return undefined;
    }
    if (this.#first && text.startsWith('\uFEFF')) text = text.slice(1);
    this.#first = false;
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }
}

function producerOption(given: string | undefined, tasks: number, lateRecords: ProducerFormat['lateRecords']): LineFormat['producer'] {
  if (given === undefined) return undefined;
  const { application, task } = producerArgument(given);
  return { application, task, tasks, watermarks: new Map(), lateRecords };
}

/** One NDJSON line to the records to append; throws a message (without the line number) when malformed. */
export function parseLine(line: string, format: LineFormat): AppendRecord[] {
  let obj: unknown;
  let inexact: InexactNumbers;
  try {
    ({ value: obj, inexact } = parseJsonKeepingSource(line));
  } catch (e) {
    throw new Error(`not valid JSON (${(e as Error).message})`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`expected a JSON object, got ${jsonType(obj)}`);
  // Own properties only, so that no field (or header) is looked up on Object.prototype.
  const fields = obj as Record<string, unknown>;
  if (Object.hasOwn(fields, 'watermark') || Object.hasOwn(fields, 'stop')) return controlLine(fields, format, inexact.get(fields)?.get('watermark'));
  for (const name of Object.keys(fields)) {
    if (!FIELDS.has(name)) throw new Error(`unknown field "${name}" (a line has key, value, eventTime, partition, headers)`);
  }
  const key = encodeExactly(fields, 'key', format.keyFormat, inexact);
  const value = encodeExactly(fields, 'value', format.valueFormat, inexact);
  const headers = headersOf(own(fields, 'headers'), format.producer !== undefined);
  const partition = partitionOf(own(fields, 'partition'), key, format.partitions);
  const eventTime = eventTimeOf(fields, format.now, inexact.get(fields)?.get('eventTime'));
  return [{ stream: format.stream, partition, key, value, headers: format.producer === undefined ? headers : producerHeaders(headers, format.producer, format.stream, partition, eventTime), eventTime }];
}

/**
 * A producer's data line's headers: its producer header, and — for a record
 * at or below the watermark it wrote to that partition, which every
 * consumer would treat as late — a refusal, or with `--late-records write`
 * the `tidemark.producer-late` mark consumers audit.
 */
function producerHeaders(headers: Record<string, string>, producer: ProducerFormat, stream: string, partition: number, eventTime: number | null): Record<string, string> {
  const tagged: Record<string, string> = { ...headers, [PRODUCER_HEADER]: producerIdOf(producer.application, producer.task) };
  const w = producer.watermarks.get(partition);
  if (!isProducerLate(eventTime, w)) return tagged;
  if (producer.lateRecords === 'reject') {
    throw new Error(`eventTime ${eventTime} is at or below the watermark ${w} producer ${producerIdOf(producer.application, producer.task)} wrote to ${stream}/${partition}: every consumer would treat it as late (--late-records write writes it anyway, marked and audited)`);
  }
  tagged[PRODUCER_LATE_HEADER] = String(w);
  return tagged;
}

function own(fields: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(fields, name) ? fields[name] : undefined;
}

/** A key or value's bytes; refused when JSON would not keep one of its numbers exactly. */
function encodeExactly(fields: Record<string, unknown>, field: 'key' | 'value', format: ValueFormat, inexact: InexactNumbers): Uint8Array | null {
  if (format === 'json') {
    const found = findInexact(fields, field, field, inexact);
    if (found !== undefined) throw new Error(inexactValueMessage(found));
  }
  return encodeField(own(fields, field), format, field);
}

/** A watermark or stop line: one watermark record per partition (or the one given). */
function controlLine(fields: Record<string, unknown>, format: LineFormat, inexactWatermark: string | undefined): AppendRecord[] {
  for (const name of Object.keys(fields)) {
    if (!CONTROL_FIELDS.has(name)) throw new Error(`unknown field "${name}" in a watermark line (it has watermark or stop, and partition)`);
  }
  const producer = format.producer;
  if (producer === undefined) throw new Error('a watermark or stop line needs --producer APP/TASK: consumers combine watermarks per producer');
  const stopped = 'stop' in fields;
  if (stopped && (fields.stop !== true || 'watermark' in fields)) throw new Error('a stop line is {"stop": true}, without a watermark');
  const targets = fields.partition === undefined ? [...Array(format.partitions).keys()] : [partitionOf(fields.partition, null, format.partitions)];
  const last = (p: number): number => producer.watermarks.get(p) ?? NO_WATERMARK;
  if (!stopped) {
    const w = fields.watermark;
    if (typeof w !== 'number' || !Number.isSafeInteger(w) || inexactWatermark !== undefined) throw new Error(`"watermark" must be a safe integer, got ${inexactWatermark ?? JSON.stringify(w)}`);
    const behind = targets.find((p) => w < last(p));
    if (behind !== undefined) throw new Error(`"watermark" ${w} is below ${last(behind)}, already written to ${format.stream}/${behind}: a watermark never goes back`);
    for (const p of targets) producer.watermarks.set(p, w);
  }
  // A stop repeats each partition's last watermark: it is the producer's last promise there.
  return targets.map((p) => watermarkRecord(format.stream, p, { application: producer.application, task: producer.task, tasks: producer.tasks, watermark: last(p), stopped }));
}

function partitionOf(given: unknown, key: Uint8Array | null, partitions: number): number {
  if (given === undefined || given === null) return key === null ? 0 : partitionForKey(key, partitions);
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 0 || given >= partitions) {
    throw new Error(`"partition" must be an integer in 0..${partitions - 1}, got ${JSON.stringify(given)}`);
  }
  return given;
}

/**
 * The headers as given: any names, `__proto__` included — JSON.parse makes
 * every name an own property, and so do the copies after it (spreads), so
 * none is lost or taken for the object's prototype on the way.
 */
function headersOf(given: unknown, producer: boolean): Record<string, string> {
  if (given === undefined || given === null) return {};
  if (typeof given !== 'object' || Array.isArray(given)) throw new Error(`"headers" must be an object of strings, got ${jsonType(given)}`);
  for (const [name, v] of Object.entries(given)) {
    if (typeof v !== 'string') throw new Error(`header ${JSON.stringify(name)} must be a string, got ${jsonType(v)}`);
    const bad = unicodeMessage(name, `header name ${JSON.stringify(name)}`) ?? unicodeMessage(v, `header ${JSON.stringify(name)}`);
    if (bad !== undefined) throw new Error(bad);
    if (producer && name === PRODUCER_HEADER) throw new Error(`header "${PRODUCER_HEADER}" is written by --producer; leave it out of the line`);
  }
  return given as Record<string, string>;
}

/**
 * Missing: now (the producer's clock). Null: no event time. A number is
 * kept even when it is not a valid timestamp: the point may be to see what
 * a topology's invalid-timestamp policy does with it.
 */
function eventTimeOf(fields: Record<string, unknown>, now: () => number, inexactSource: string | undefined): number | null {
  if (!Object.hasOwn(fields, 'eventTime')) return now();
  const t = fields.eventTime;
  if (t === null) return t;
  if (typeof t === 'number') {
    const bad = eventTimeMessage(t, inexactSource);
    if (bad !== undefined) throw new Error(bad);
    return t;
  }
  if (typeof t === 'string') {
    const ms = parseIsoDateTime(t);
    if (Number.isNaN(ms)) throw new Error(`"eventTime" must be epoch milliseconds or an ISO-8601 date-time, got ${JSON.stringify(t)}`);
    return ms;
  }
  throw new Error(`"eventTime" must be a number, an ISO-8601 string or null, got ${jsonType(t)}`);
}
