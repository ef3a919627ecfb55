import { ManualClock } from '../time/clock.ts';
import { NO_TIMESTAMP } from '../time/timestamp.ts';
import { jsonSerde, type Serde } from '../records/serde.ts';
import type { Headers, LogRecord } from '../records/record.ts';
import type { WatermarkReport } from '../time/producer-watermarks.ts';
import { readWatermarkRecord, watermarkRecord, watermarkRecordKind } from '../runtime/watermark-record.ts';
import { MemoryLog } from '../connectors/memory/memory-log.ts';
import { Application, applicationInternals, type QueryableStore, type RunMode, type RunSummary, type StartedRun } from '../runtime/application.ts';
import type { AuditEntry } from '../runtime/log.ts';
import { fingerprintStream } from '../runtime/fingerprint.ts';
import { partitionForKey } from '../runtime/partitioner.ts';
import { taskIdOf } from '../runtime/ids.ts';
import { hexToBytes } from '../state/key-value-store.ts';
import type { Topology } from '../runtime/topology.ts';

/** A record read back from an output stream by the test driver. */
export interface TestOutputRecord<K, V> {
  /** The deserialized key. */
  readonly key: K;
  /** The deserialized value. */
  readonly value: V;
  /** The record's timestamp (its event time in the output stream; -1 for none). */
  readonly timestamp: number;
  /** The output partition. */
  readonly partition: number;
  /** Its offset there. */
  readonly offset: number;
  /** Its headers (the producer's among them). */
  readonly headers: Headers;
}

/** How a {@link TopologyTestDriver} runs its topology. */
export interface TestDriverOptions {
  /** The application id (default `test`): it names the dead-letter stream and internal streams. */
  readonly applicationId?: string;
  /** Virtual wall-clock time at start (broker and ingest times), default 0. */
  readonly startTime?: number;
  /**
   * `catch-up` (default): after each pipe, everything piped so far is
   * processed as if the input ended there — no waiting, no nondeterministic
   * decision. `real-time`: an empty partition holds its task back until
   * `maxIdleMs` of virtual time pass (`advanceWallClockTime`).
   */
  readonly mode?: RunMode;
  /** Real-time: how much virtual time an empty partition that may still have data holds its task back (default 0). */
  readonly maxIdleMs?: number;
  /** Bad input: dead-letter it (default), or stop with a `BadInputError`. */
  readonly badInput?: 'dead-letter' | 'fail';
  /** Records whose key and value together are larger are dead-lettered (default 1 MiB). */
  readonly maxRecordBytes?: number;
}

/** Options of one piped record. */
export interface PipeOptions {
  /** The producer's event time; default: the virtual clock's now. `null`: none. */
  readonly eventTime?: number | null;
  /** Partition; default: by key, as Kafka's default partitioner (null key: 0). */
  readonly partition?: number;
  /** The record's headers (default none). */
  readonly headers?: Headers;
  /** Moves the virtual clock to this time first, so that it becomes the broker time. */
  readonly brokerTime?: number;
}

/**
 * Runs a topology in memory on virtual time, like Kafka Streams'
 * `TopologyTestDriver`: pipe records in, read outputs, stores and the
 * audit back, advance the wall clock. It runs the same tasks, scheduler and
 * commit code as a real run.
 *
 * @example
 * const driver = new TopologyTestDriver(builder.build());
 * const readings = driver.inputStream('readings', { partitions: 2, key: Serdes.string() });
 * readings.pipe('s1', { celsius: 31 }, { eventTime: 1000 });
 * assert.deepEqual(driver.readOutput('alerts').map((r) => r.key), ['s1']);
 */
export class TopologyTestDriver {
  /** The virtual wall clock: broker and ingest times, idleness, processing-time timers. */
  readonly clock: ManualClock;
  /** The in-memory log the topology runs on: its streams can be read directly. */
  readonly log: MemoryLog;
  readonly #app: Application;
  readonly #options: TestDriverOptions;
  #run: StartedRun | undefined;
  readonly #read = new Map<string, number[]>();

  /** @param topology what `StreamsBuilder.build()` returned. */
  constructor(topology: Topology, options: TestDriverOptions = {}) {
    this.#options = options;
    this.clock = new ManualClock(options.startTime ?? 0);
    this.log = new MemoryLog(this.clock);
    this.#app = new Application(topology, { applicationId: options.applicationId ?? 'test', log: this.log });
  }

  /** Creates an input stream (before the first pipe) and returns a handle to pipe records into it. */
  inputStream<K = string | null, V = unknown>(
    stream: string,
    options: { partitions?: number; key?: Serde<K>; value?: Serde<V> } = {},
  ): TestInputStream<K, V> {
    this.log.ensureStream(stream, options.partitions ?? 1);
    return new TestInputStream<K, V>(this, stream, options.key ?? (jsonSerde() as Serde<K>), options.value ?? (jsonSerde() as Serde<V>));
  }

  /** Appends raw records and processes them. */
  pipeRaw(records: Parameters<MemoryLog['appendSync']>[0]): void {
    this.log.appendSync(records);
    this.process();
  }

  /**
   * Processes whatever the scheduler allows now, committing as it goes:
   * records written to internal streams become readable at a commit, and
   * are then processed too.
   */
  process(): void {
    const run = this.#started();
    // In catch-up, as a run does: sub-topologies in data-flow stages, each to its end before
    // the next, so that a task reading an internal stream and an external one sees the internal
    // records its writers make of the same input before it goes on past them.
    const stages = this.#options.mode === 'real-time' ? [run.loop.tasksOf()] : run.stages;
    let moved: number;
    do {
      moved = 0;
      for (const stage of stages) {
        for (;;) {
          if (this.#options.mode !== 'real-time') for (const t of stage) t.startCatchUp();
          const n = run.loop.step(stage);
          if (n === 0) break;
          moved += n;
        }
        run.loop.commit();
      }
    } while (moved > 0);
  }

  /** Moves virtual wall-clock time forward, then processes what became possible (idle partitions, real-time). */
  advanceWallClockTime(ms: number): void {
    this.clock.advance(ms);
    this.process();
  }

  #started(): StartedRun {
    this.#run ??= applicationInternals(this.#app).start({
      mode: this.#options.mode ?? 'catch-up',
      maxIdleMs: this.#options.maxIdleMs ?? 0,
      clock: this.clock,
      fetchSize: 1000,
      badInput: this.#options.badInput ?? 'dead-letter',
      maxRecordBytes: this.#options.maxRecordBytes ?? 1024 * 1024,
    });
    return this.#run;
  }

  /**
   * Appends a watermark record W(`watermark`) from an external producer
   * task to every partition of `stream` (or one), as the producer API does,
   * and processes what it releases.
   */
  pipeWatermark(stream: string, watermark: number, producer: { application: string; task: string; tasks?: number; stopped?: boolean; partition?: number }): void {
    const partitions = this.log.partitionCount(stream);
    if (partitions === undefined) throw new Error(`no stream ${stream}`);
    const report = { application: producer.application, task: producer.task, tasks: producer.tasks ?? 1, watermark, stopped: producer.stopped ?? false };
    const targets = producer.partition === undefined ? [...Array(partitions).keys()] : [producer.partition];
    this.pipeRaw(targets.map((p) => watermarkRecord(stream, p, report)));
  }

  /**
   * Watermark records written to `stream` since the last read of them:
   * watermarks, stops, and the announcements each task of a watermark-mode
   * run writes first (`kind` says which).
   */
  readWatermarks(stream: string): (WatermarkReport & {
    /** A watermark, a clean stop, an announcement of a run's tasks, or a release. */
    kind: ReturnType<typeof watermarkRecordKind>;
    /** The partition it is in. */
    partition: number;
    /** Its offset there. */
    offset: number;
  })[] {
    return this.#readNew(stream, 'watermarks').map((r) => {
      const report = readWatermarkRecord(r);
      return { ...report, kind: watermarkRecordKind(report), partition: r.partition, offset: r.offset };
    });
  }

  /** Data records written to `stream` since the last read of it (watermark records are read by {@link readWatermarks}). */
  readOutput<K = unknown, V = unknown>(stream: string, serdes: { key?: Serde<K>; value?: Serde<V> } = {}): TestOutputRecord<K, V>[] {
    const keySerde = serdes.key ?? (jsonSerde() as Serde<K>);
    const valueSerde = serdes.value ?? (jsonSerde() as Serde<V>);
    return this.#readNew(stream, 'data').map((r) => ({ key: keySerde.deserialize(r.key), value: valueSerde.deserialize(r.value), timestamp: r.eventTime ?? -1, partition: r.partition, offset: r.offset, headers: r.headers }));
  }

  #readNew(stream: string, which: 'data' | 'watermarks'): LogRecord[] {
    const partitions = this.log.partitionCount(stream) ?? 0;
    const cursor = `${which} ${stream}`;
    const read = this.#read.get(cursor) ?? new Array<number>(partitions).fill(0);
    const out: LogRecord[] = [];
    for (let p = 0; p < partitions; p++) {
      for (const r of this.log.read(stream, p, read[p] ?? 0, Number.MAX_SAFE_INTEGER)) {
        if ((r.control === 'watermark') === (which === 'watermarks')) out.push(r);
        read[p] = r.offset + 1;
      }
    }
    this.#read.set(cursor, read);
    return out;
  }

  /** The committed contents of a store of one task (default: task `0_0`), deserialized with the store's serdes. */
  storeEntries<K, V>(store: string, taskId = taskIdOf(0, 0)): [K, V][] {
    const def = this.#app.topology.stores.get(store);
    if (def === undefined) throw new Error(`no store ${store}`);
    const backend = this.log.stateBackend(this.#app.applicationId, taskId);
    return [...backend.entries(store)].map(([k, v]) => [def.keySerde.deserialize(hexToBytes(k)) as K, def.valueSerde.deserialize(v) as V]);
  }

  /**
   * A store's committed state across the tasks, as a running application's
   * `app.store(name)` reads it: a versioned table's `getAsOf` included.
   *
   * @example
   * const prices = driver.store<string, number>('prices');
   * if (prices.kind === 'versioned') assert.equal(prices.getAsOf('apple', 20)?.value, 3);
   */
  store<K = unknown, V = unknown>(name: string): QueryableStore<K, V> {
    this.#started();
    return this.#app.store<K, V>(name);
  }

  /** The committed audit log: nondeterministic decisions, fallbacks, dead letters. */
  audit(): AuditEntry[] {
    return this.log.readAudit(this.#app.applicationId);
  }

  /** The run's counters so far. */
  summary(): RunSummary {
    return this.#started().summary();
  }

  /**
   * Stream time of each task: the largest timestamp it has processed, or
   * `'none'` while it has processed no record yet (as `tidemark run` prints it).
   *
   * @example
   * driver.streamTimes(); // Map { '0_0' => 1100, '0_1' => 'none' }
   */
  streamTimes(): Map<string, number | 'none'> {
    return new Map(applicationInternals(this.#app).tasks.map((t) => [t.id, t.streamTime === NO_TIMESTAMP ? 'none' : t.streamTime]));
  }

  /** Watermark of each task: the least of its operators' input watermarks. */
  watermarks(): Map<string, number> {
    return new Map(applicationInternals(this.#app).tasks.map((t) => [t.id, t.watermark]));
  }

  /** Input watermark of each operator of a task (default `0_0`), by node name. */
  operatorWatermarks(taskId = taskIdOf(0, 0)): Map<string, number> {
    return applicationInternals(this.#app).tasks.find((t) => t.id === taskId)?.operatorWatermarks() ?? new Map();
  }

  /** The stream's fingerprint: see `fingerprintStream` in `tidemark`. */
  fingerprint(stream: string): string {
    return fingerprintStream(this.log, stream);
  }
}

/** A handle to pipe records into one input stream of a test driver. */
export class TestInputStream<K, V> {
  readonly #driver: TopologyTestDriver;
  /** The input stream's name. */
  readonly stream: string;
  readonly #key: Serde<K>;
  readonly #value: Serde<V>;

  /** @internal */
  constructor(driver: TopologyTestDriver, stream: string, key: Serde<K>, value: Serde<V>) {
    this.#driver = driver;
    this.stream = stream;
    this.#key = key;
    this.#value = value;
  }

  /** Appends one record and processes. */
  pipe(key: K, value: V, options: PipeOptions = {}): void {
    this.pipeAll([{ key, value, ...options }]);
  }

  /** Appends several records at once, then processes, so the scheduler sees them all. */
  pipeAll(records: readonly ({ key: K; value: V } & PipeOptions)[]): void {
    const log = this.#driver.log;
    const partitions = log.partitionCount(this.stream)!;
    for (const r of records) {
      if (r.brokerTime !== undefined) this.#driver.clock.set(r.brokerTime);
      const key = this.#key.serialize(r.key);
      log.appendSync([
        {
          stream: this.stream,
          partition: r.partition ?? (key === null ? 0 : partitionForKey(key, partitions)),
          key,
          value: this.#value.serialize(r.value),
          headers: r.headers ?? {},
          eventTime: r.eventTime === undefined ? this.#driver.clock.now() : r.eventTime,
        },
      ]);
    }
    this.#driver.process();
  }

  /** Appends raw bytes (for bad-input tests) and processes. */
  pipeBytes(key: Uint8Array | null, value: Uint8Array | null, options: PipeOptions = {}): void {
    if (options.brokerTime !== undefined) this.#driver.clock.set(options.brokerTime);
    const partition = options.partition ?? (key === null ? 0 : partitionForKey(key, this.#driver.log.partitionCount(this.stream)!));
    this.#driver.pipeRaw([{ stream: this.stream, partition, key, value, headers: options.headers ?? {}, eventTime: options.eventTime === undefined ? this.#driver.clock.now() : options.eventTime }]);
  }
}
