import type { Readable } from 'node:stream';
import { LOG_OPTIONS, openCliLog } from './log-option.ts';
import { partitionForKey } from '../runtime/partitioner.ts';
import type { AppendRecord } from '../runtime/log.ts';
import { choiceOption, integerOption, parseCommandArgs, requiredString } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import { PRODUCER_HEADER } from '../runtime/headers.ts';
import { watermarkRecord } from '../runtime/watermark-record.ts';
import { NO_WATERMARK } from '../time/watermark.ts';
import { encodeField, jsonType, KEY_FORMATS, VALUE_FORMATS, type KeyFormat, type ValueFormat } from './record-format.ts';
import type { CommandIo } from './io.ts';

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
  partition  optional; by default Kafka's partitioner on the key bytes
             (murmur2), and partition 0 for a null key
  headers    optional; an object of string values

With --producer, records are tagged as written by that producer task, and a
line may instead be a watermark or a clean stop (DESIGN 4.10), written into
every partition of the stream, or the one given:

  {"watermark": 1717236000000}            W(t): no more records at or before t
  {"watermark": 22, "partition": 1}       only into partition 1
  {"stop": true}                          consumers no longer wait for it

Options:
  --data-dir D            embedded log directory (created when missing)
  --kafka HOST:PORT       a Kafka broker instead: the topic is created with
                          LogAppendTime, event time travels in a header
  --stream S              stream to append to
  --partitions N          partition count when creating the stream (default 1);
                          for an existing stream it must match
  --key-format F          json (default) or string: a string key as its raw UTF-8,
                          as Kafka's StringSerializer writes it
  --value-format F        json (default), string, or raw-base64 (a base64 string
                          written as the bytes it encodes: any bytes at all)
  --producer APP/TASK     write as producer task TASK of application APP
  --tasks N               how many tasks of APP write each partition (default 1):
                          a consumer waits for all of them
  -h, --help              this help

Records are appended in batches, each batch atomically and durably (on
disk when the command moves on). A malformed line stops the command with
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
  readonly producer?: { readonly application: string; readonly task: string; readonly tasks: number; lastWatermark: number };
}

/** `tidemark produce`: NDJSON on stdin to a stream. Returns the exit status. */
export async function produceCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.help === true) return io.out(produceHelp), 0;
  const stream = requiredString(values, 'stream');
  const keyFormat = choiceOption(values, 'key-format', KEY_FORMATS, 'json');
  const valueFormat = choiceOption(values, 'value-format', VALUE_FORMATS, 'json');
  const requested = values.partitions === undefined ? undefined : integerOption(values, 'partitions', 1, 1, 100_000);
  const producer = producerOption(values.producer as string | undefined, integerOption(values, 'tasks', 1, 1, 100_000));

  const opened = await openCliLog(values, 'create');
  const log = opened.log;
  try {
    const existing = log.partitionCount(stream);
    if (existing !== undefined && requested !== undefined && existing !== requested) {
      throw new CliError(`stream ${stream} exists with ${existing} partitions, not ${requested}`);
    }
    const partitions = existing ?? requested ?? 1;
    // Created with the first batch (or at the end of an empty input), so that a first line in error leaves nothing behind.
    const create = (): Promise<void> => opened.ensureStream(stream, partitions);
    if (io.stdin.isTTY === true) io.err('reading NDJSON records from stdin; end with Ctrl-D');
    const format: LineFormat = { stream, partitions, keyFormat, valueFormat, now: () => Date.now(), ...(producer === undefined ? {} : { producer }) };
    const count = await appendLines(io.stdin, format, async (batch) => (await create(), log.append(batch)));
    await create();
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
 */
export async function appendLines(input: Readable, format: LineFormat, append: (batch: AppendRecord[]) => Promise<unknown>): Promise<number> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  let lineNo = 0;
  let appended = 0;
  let batch: AppendRecord[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const b = batch;
    batch = [];
    await append(b);
    appended += b.length;
  };
  const take = async (line: string): Promise<void> => {
    lineNo++;
    if (line.trim() === '') return;
    try {
      batch.push(...parseLine(line, format));
    } catch (e) {
      await flush();
      const before = appended === 0 ? 'nothing was appended' : `the ${appended} record${appended === 1 ? '' : 's'} before it ${appended === 1 ? 'was' : 'were'} appended, none after it`;
      throw new CliError(`line ${lineNo}: ${(e as Error).message}; ${before}`);
    }
    if (batch.length >= BATCH_SIZE) await flush();
  };
  for await (const chunk of input) {
    let text: string;
    try {
      text = pending + decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      await flush();
      throw new CliError(`line ${lineNo + 1}: not valid UTF-8; ${appended} records before it were appended`);
    }
    const lines = text.split('\n');
    pending = lines.pop()!;
    for (const line of lines) await take(line.endsWith('\r') ? line.slice(0, -1) : line);
    await flush();
  }
  if (pending !== '') await take(pending);
  await flush();
  return appended;
}

function producerOption(given: string | undefined, tasks: number): LineFormat['producer'] {
  if (given === undefined) return undefined;
  const slash = given.lastIndexOf('/');
  if (slash <= 0 || slash === given.length - 1) throw new UsageError(`--producer must be APP/TASK, got ${JSON.stringify(given)}`);
  return { application: given.slice(0, slash), task: given.slice(slash + 1), tasks, lastWatermark: NO_WATERMARK };
}

/** One NDJSON line to the records to append; throws a message (without the line number) when malformed. */
export function parseLine(line: string, format: LineFormat): AppendRecord[] {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    throw new Error(`not valid JSON (${(e as Error).message})`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`expected a JSON object, got ${jsonType(obj)}`);
  const fields = obj as Record<string, unknown>;
  if ('watermark' in fields || 'stop' in fields) return controlLine(fields, format);
  for (const name of Object.keys(fields)) {
    if (!FIELDS.has(name)) throw new Error(`unknown field "${name}" (a line has key, value, eventTime, partition, headers)`);
  }
  const key = encodeField(fields.key, format.keyFormat, 'key');
  const value = encodeField(fields.value, format.valueFormat, 'value');
  const headers = headersOf(fields.headers);
  return [
    {
      stream: format.stream,
      partition: partitionOf(fields.partition, key, format.partitions),
      key,
      value,
      headers: format.producer === undefined ? headers : { ...headers, [PRODUCER_HEADER]: `${format.producer.application}/${format.producer.task}` },
      eventTime: eventTimeOf(fields, format.now),
    },
  ];
}

/** A watermark or stop line: one watermark record per partition (or the one given). */
function controlLine(fields: Record<string, unknown>, format: LineFormat): AppendRecord[] {
  for (const name of Object.keys(fields)) {
    if (!CONTROL_FIELDS.has(name)) throw new Error(`unknown field "${name}" in a watermark line (it has watermark or stop, and partition)`);
  }
  const producer = format.producer;
  if (producer === undefined) throw new Error('a watermark or stop line needs --producer APP/TASK: consumers combine watermarks per producer');
  const stopped = 'stop' in fields;
  if (stopped && (fields.stop !== true || 'watermark' in fields)) throw new Error('a stop line is {"stop": true}, without a watermark');
  let watermark = producer.lastWatermark;
  if (!stopped) {
    const w = fields.watermark;
    if (typeof w !== 'number' || !Number.isSafeInteger(w)) throw new Error(`"watermark" must be an integer, got ${JSON.stringify(w)}`);
    if (w < producer.lastWatermark) throw new Error(`"watermark" ${w} is below ${producer.lastWatermark}, already written: a watermark never goes back`);
    producer.lastWatermark = watermark = w;
  }
  const report = { application: producer.application, task: producer.task, tasks: producer.tasks, watermark, stopped };
  const targets = fields.partition === undefined ? [...Array(format.partitions).keys()] : [partitionOf(fields.partition, null, format.partitions)];
  return targets.map((p) => watermarkRecord(format.stream, p, report));
}

function partitionOf(given: unknown, key: Uint8Array | null, partitions: number): number {
  if (given === undefined || given === null) return key === null ? 0 : partitionForKey(key, partitions);
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 0 || given >= partitions) {
    throw new Error(`"partition" must be an integer in 0..${partitions - 1}, got ${JSON.stringify(given)}`);
  }
  return given;
}

function headersOf(given: unknown): Record<string, string> {
  if (given === undefined || given === null) return {};
  if (typeof given !== 'object' || Array.isArray(given)) throw new Error(`"headers" must be an object of strings, got ${jsonType(given)}`);
  for (const [name, v] of Object.entries(given)) {
    if (typeof v !== 'string') throw new Error(`header "${name}" must be a string, got ${jsonType(v)}`);
  }
  return given as Record<string, string>;
}

/**
 * Missing: now (the producer's clock). Null: no event time. A number is
 * kept even when it is not a valid timestamp: the point may be to see what
 * a topology's invalid-timestamp policy does with it.
 */
function eventTimeOf(fields: Record<string, unknown>, now: () => number): number | null {
  if (!('eventTime' in fields)) return now();
  const t = fields.eventTime;
  if (t === null || typeof t === 'number') return t;
  if (typeof t === 'string') {
    const ms = parseIsoDateTime(t);
    if (Number.isNaN(ms)) throw new Error(`"eventTime" must be epoch milliseconds or an ISO-8601 date-time, got ${JSON.stringify(t)}`);
    return ms;
  }
  throw new Error(`"eventTime" must be a number, an ISO-8601 string or null, got ${jsonType(t)}`);
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO-8601 to epoch ms (NaN if not one); without an offset it is UTC, as the field extractor reads it, never local time. */
function parseIsoDateTime(s: string): number {
  const m = ISO_8601.exec(s);
  if (m === null) return NaN;
  return Date.parse(m[1] !== undefined && m[4] === undefined ? `${s}Z` : s);
}
