import { setTimeout as sleep } from 'node:timers/promises';
import { openCliLog, LOG_OPTIONS, type CliLog } from './log-option.ts';
import { kafkaDurabilityHelp } from './kafka-options.ts';
import { KAFKA_SECURITY_HELP } from './kafka-security-options.ts';
import type { LogRecord } from '../records/record.ts';
import { integerOption, parseCommandArgs, requiredString } from './args.ts';
import { CliError } from './errors.ts';
import { displayBytes } from './record-format.ts';
import { readWatermarkRecord, watermarkRecordKind } from '../runtime/watermark-record.ts';
import { producerIdOf } from '../runtime/ids.ts';
import type { CommandIo } from './io.ts';
import { onInterrupt } from './interrupt.ts';

export const consumeHelp = `Usage: tidemark consume (--data-dir D | --kafka HOST:PORT) --stream S [options]

Prints the records of a stream as NDJSON, one line per record, partition by
partition in offset order:

  {"stream":"readings","partition":0,"offset":0,"eventTime":1717236000000,
   "brokerTime":1717236000412,"ingestTime":1717236093120,"key":"s1",
   "value":{"celsius":21.5},"headers":{}}

The three clocks side by side: eventTime (set by the producer; null when it
set none), brokerTime (when the log appended it) and ingestTime (when this
command read it). Keys and values are shown as JSON when they parse as JSON;
otherwise as a UTF-8 string, or base64 for other bytes, and the line says so
with "keyFormat"/"valueFormat": "string" or "base64".

Watermark records (written by producers and by tidemark tasks in watermark
mode) are control records, not data; they are printed as

  {"stream":"b","partition":1,"offset":7,"watermark":22,"producer":"B/0_1",
   "tasks":2,"stopped":false,"brokerTime":…,"ingestTime":…}

A run's announcement of its tasks adds "announce":true, "generation" and
"members"; a release (tidemark release) adds "release":true. --data-only
leaves them out.

Options:
  --data-dir D        embedded log directory
  --kafka HOST:PORT   a Kafka broker instead (committed records only); several,
                      comma-separated: h1:9092,h2:9092
${kafkaDurabilityHelp(22)}
  --stream S          stream to read
  --partition P       only this partition (default: all)
  --from-offset N     start at offset N in each partition read (default 0)
  --limit N           stop after N records
  --data-only         leave watermark records out
  --follow            keep tailing: print new records as they are appended,
                      until Ctrl-C (waits for the stream if it does not exist yet)
  -h, --help          this help${KAFKA_SECURITY_HELP}

Example:
  tidemark consume --data-dir ./data --stream readings --partition 2 --from-offset 100`;

const OPTIONS = {
  ...LOG_OPTIONS,
  stream: { type: 'string' },
  partition: { type: 'string' },
  'from-offset': { type: 'string' },
  limit: { type: 'string' },
  follow: { type: 'boolean' },
  'data-only': { type: 'boolean' },
} as const;

const FETCH = 1000;
const POLL_MS = 100;

/** `tidemark consume`: a stream as NDJSON on stdout. Returns the exit status. */
export async function consumeCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.help === true) return io.out(consumeHelp), 0;
  const stream = requiredString(values, 'stream');
  const only = values.partition === undefined ? undefined : integerOption(values, 'partition', 0);
  const fromOffset = integerOption(values, 'from-offset', 0);
  const limit = integerOption(values, 'limit', Infinity, 1);
  const follow = values.follow === true;
  const dataOnly = values['data-only'] === true;

  const opened = await openCliLog(values, 'read');
  // Only a tail needs a clean stop; a finite read may die on Ctrl-C like any command.
  const interrupt = follow ? onInterrupt() : undefined;
  const signal = interrupt?.signal ?? new AbortController().signal;
  try {
    const partitions = await partitionCount(opened, stream, follow, signal);
    if (partitions === undefined) return 0;
    if (only !== undefined && only >= partitions) throw new CliError(`stream ${stream} has partitions 0..${partitions - 1}, not ${only}`);
    const positions = new Map<number, number>();
    for (let p = 0; p < partitions; p++) if (only === undefined || p === only) positions.set(p, fromOffset);
    let printed = 0;
    while (!signal.aborted && printed < limit) {
      let read = 0;
      for (const [p, from] of positions) {
        // Drain each partition to its end before the next, so a finite read lists partition by partition.
        for (let next = from; printed < limit; ) {
          const records = await opened.readToEnd(stream, p, next, Math.min(FETCH, limit - printed));
          if (records.length === 0) break;
          const shown = dataOnly ? records.filter((r) => r.control !== 'watermark') : records;
          if (shown.length > 0) await write(io.stdout, shown.map((r) => JSON.stringify(consumedLine(r, Date.now()))).join('\n') + '\n');
          next = records[records.length - 1]!.offset + 1;
          positions.set(p, next);
          printed += records.length;
          read += records.length;
        }
      }
      if (!follow) break;
      if (read === 0) await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
    }
    return 0;
  } finally {
    interrupt?.dispose();
    await opened.close();
  }
}

/** The stream's partition count; with --follow, waits for it to be created (undefined if interrupted meanwhile). */
async function partitionCount(opened: CliLog, stream: string, follow: boolean, signal: AbortSignal): Promise<number | undefined> {
  const log = opened.log;
  for (;;) {
    if (opened.refreshStreams !== undefined) await opened.refreshStreams();
    const n = log.partitionCount(stream);
    if (n !== undefined) return n;
    if (!follow) {
      const known = log.streams();
      throw new CliError(`no stream ${stream} in ${opened.where}${known.length > 0 ? ` (streams: ${known.sort().join(', ')})` : ' (it has no streams yet)'}`);
    }
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return undefined;
  }
}

/**
 * One record as the NDJSON object printed: position, the three clocks side
 * by side, then key, value and headers; `keyFormat`/`valueFormat` only when
 * the bytes were not JSON.
 */
export function consumedLine(r: LogRecord, ingestTime: number): Record<string, unknown> {
  if (r.control === 'watermark') {
    const w = readWatermarkRecord(r);
    const kind = watermarkRecordKind(w);
    const extra = kind === 'announce' ? { announce: true, generation: w.generation, members: w.members } : kind === 'release' ? { release: true } : kind === 'end-of-catch-up' ? { endOfCatchUp: w.endOfCatchUp } : kind === 'move' ? { move: w.move } : {};
    return { stream: r.stream, partition: r.partition, offset: r.offset, watermark: w.watermark, producer: producerIdOf(w.application, w.task), tasks: w.tasks, stopped: w.stopped, ...extra, brokerTime: r.brokerTime, ingestTime };
  }
  const key = displayBytes(r.key);
  const value = displayBytes(r.value);
  return {
    stream: r.stream,
    partition: r.partition,
    offset: r.offset,
    eventTime: r.eventTime,
    brokerTime: r.brokerTime,
    ingestTime,
    key: key.value,
    ...(key.format === 'json' ? {} : { keyFormat: key.format }),
    value: value.value,
    ...(value.format === 'json' ? {} : { valueFormat: value.format }),
    headers: r.headers,
  };
}

/** Writes with backpressure, so a slow reader (`| less`) does not make us buffer the whole stream. */
async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}
