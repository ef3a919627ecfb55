/**
 * `node bench/nexmark/generate.ts --events N --seed S [--rate EV_PER_S] --out FILE.ndjson`
 * writes N Nexmark events (bench/nexmark/QUERIES.md) in arrival order and
 * `FILE.ndjson.meta.json` beside them. Instead of (or besides) a file:
 * `--data-dir D` appends them to tidemark's embedded log in D, and
 * `--kafka BOOTSTRAP` to a Kafka topic, through tidemark's own log
 * connectors, as one-partition stream `--stream S` (default
 * `nexmark-events`): key null, value the event's line, event time its
 * dateTime. The meta is printed on stdout as JSON either way; a progress line
 * goes to stderr.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { EmbeddedLog } from '../../src/index.ts';
import { KafkaLog } from '../../src/kafka.ts';
import type { AppendRecord } from '../../src/runtime/log.ts';
import { defaultConfig, type GeneratorConfig } from './generator.ts';
import { deliveredEvents } from './delivery.ts';
import { MetaTracker } from './events.ts';
import { dateTimeOf, eventLine, metaPath, type EventsMeta } from './model.ts';

export const DEFAULT_STREAM = 'nexmark-events';
const BATCH = 10_000;

interface Args {
  readonly events: number;
  readonly seed: number;
  readonly rate: number | undefined;
  readonly out: string | undefined;
  readonly dataDir: string | undefined;
  readonly kafka: string | undefined;
  readonly stream: string;
}

const USAGE = 'usage: node bench/nexmark/generate.ts --events N --seed S [--rate EV_PER_S] [--out FILE.ndjson] [--data-dir D] [--kafka BOOTSTRAP] [--stream S]';

function parseArgs(argv: readonly string[]): Args {
  const v = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!;
    const x = argv[i + 1];
    if (!k.startsWith('--') || x === undefined) throw new Error(`generate: bad argument ${k}\n${USAGE}`);
    v.set(k.slice(2), x);
  }
  for (const k of v.keys()) if (!['events', 'seed', 'rate', 'out', 'data-dir', 'kafka', 'stream'].includes(k)) throw new Error(`generate: unknown option --${k}\n${USAGE}`);
  const int = (k: string, min: number): number | undefined => {
    const s = v.get(k);
    if (s === undefined) return undefined;
    const n = Number(s.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`generate: --${k} must be an integer >= ${min}, got ${s}`);
    return n;
  };
  const events = int('events', 0);
  const seed = int('seed', 0);
  if (events === undefined || seed === undefined) throw new Error(`generate: --events and --seed are required\n${USAGE}`);
  const a: Args = { events, seed, rate: int('rate', 1), out: v.get('out'), dataDir: v.get('data-dir'), kafka: v.get('kafka'), stream: v.get('stream') ?? DEFAULT_STREAM };
  if (a.out === undefined && a.dataDir === undefined && a.kafka === undefined) throw new Error(`generate: give --out, --data-dir or --kafka\n${USAGE}`);
  return a;
}

/** Where the events go: each sink gets them batch by batch, in arrival order. */
interface Sink {
  write(lines: readonly string[], times: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

function fileSink(path: string): Sink {
  const fd = openSync(path, 'w');
  return {
    async write(lines) {
      writeSync(fd, lines.join('\n') + '\n');
    },
    async close() {
      closeSync(fd);
    },
  };
}

type AppendLog = { append(records: readonly AppendRecord[]): Promise<unknown>; close(): Promise<void> };

function logSink(log: AppendLog, stream: string): Sink {
  return {
    async write(lines, times) {
      await log.append(lines.map((l, i) => ({ stream, partition: 0, key: null, value: Buffer.from(l), eventTime: times[i]! })));
    },
    close: () => log.close(),
  };
}

/** Generates into every sink; returns the meta measured while writing. */
export async function generateInto(c: GeneratorConfig, sinks: readonly Sink[], progress: boolean): Promise<EventsMeta> {
  const t = new MetaTracker();
  let lines: string[] = [];
  let times: number[] = [];
  const started = Date.now();
  let shown = started;
  let printed = false;
  const flush = async (): Promise<void> => {
    for (const s of sinks) await s.write(lines, times);
    lines = [];
    times = [];
    const now = Date.now();
    if (progress && (now - shown >= 1000 || t.events === c.events)) {
      shown = now;
      printed = true;
      const s = (now - started) / 1000;
      process.stderr.write(`\rgenerate: ${t.events.toLocaleString('en-US')} / ${c.events.toLocaleString('en-US')} events (${((100 * t.events) / Math.max(c.events, 1)).toFixed(0)} %), ${s.toFixed(1)} s`);
    }
  };
  for (const e of deliveredEvents(c)) {
    const dt = dateTimeOf(e);
    t.see(dt);
    lines.push(eventLine(e));
    times.push(dt);
    if (lines.length === BATCH) await flush();
  }
  if (lines.length > 0) await flush();
  if (printed) process.stderr.write('\n');
  return t.meta(c);
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const c = defaultConfig(a.events, a.seed, a.rate === undefined ? {} : { firstEventRate: a.rate });
  const sinks: Sink[] = [];
  if (a.out !== undefined) sinks.push(fileSink(a.out));
  if (a.dataDir !== undefined) {
    const log = await EmbeddedLog.open({ dataDir: a.dataDir });
    log.ensureStream(a.stream, 1);
    sinks.push(logSink(log, a.stream));
  }
  if (a.kafka !== undefined) {
    const log = await KafkaLog.open({ bootstrap: a.kafka });
    await log.createStreams([{ stream: a.stream, partitions: 1 }]);
    sinks.push(logSink(log, a.stream));
  }
  try {
    const meta = await generateInto(c, sinks, true);
    if (a.out !== undefined) writeFileSync(metaPath(a.out), JSON.stringify(meta) + '\n');
    process.stdout.write(JSON.stringify(meta) + '\n');
  } finally {
    for (const s of sinks) await s.close();
  }
}

if (import.meta.main) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
