/**
 * The memory run: tumbling counts (10 s, grace 5 s, `emit: 'final'`) on the
 * in-memory path over a long input generated on the fly, in chunks appended
 * to the log while one run of the application goes on. After each chunk is
 * processed the tasks commit, and the window store's entry count (the
 * committed state, through `log.stateBackend(appId, task).count(store)`) and
 * the process's RSS are recorded: the store must stay bounded however long
 * the input grows (windows are purged once closed: docs/windows.md, "Stores and retention").
 *
 * The log is a MemoryLog whose input stream keeps records only from the
 * tasks' committed positions on (as a broker's retention would) and whose
 * output stream and audit are counted rather than kept: the memory log keeps
 * everything by design, which would measure the log, not the store. Task
 * state, checkpoints and commits are the MemoryLog's own.
 */
import { Application, MemoryLog } from '../src/index.ts';
import type { LogRecord } from '../src/records/record.ts';
import type { AppendRecord, CommitUnit } from '../src/runtime/log.ts';
import { partitionKey } from '../src/runtime/log.ts';
import { APP_ID, OUTPUT, STORE, WINDOWS, topology } from './windows-cases.ts';
import { INPUT, ReadingGenerator } from './windows-workload.ts';
import { applicationInternals } from '../src/runtime/application.ts';

/** A MemoryLog that drops consumed input, and counts (rather than keeps) outputs and audit entries. */
class TrimmedMemoryLog extends MemoryLog {
  readonly #input: { base: number; records: LogRecord[] }[] = [];
  readonly #outputEnds: number[] = [];
  outputs = 0;
  /** Sum of the counts of the emitted windows. */
  outputCountSum = 0;
  audited = 0;
  /** Input records held by the log now (not yet committed as consumed). */
  retained = 0;

  override ensureStream(stream: string, partitions: number): void {
    super.ensureStream(stream, partitions);
    if (stream === INPUT) while (this.#input.length < partitions) this.#input.push({ base: 0, records: [] });
    if (stream === OUTPUT) while (this.#outputEnds.length < partitions) this.#outputEnds.push(0);
  }

  override endOffset(stream: string, partition: number): number {
    if (stream === INPUT) {
      const p = this.#input[partition]!;
      return p.base + p.records.length;
    }
    if (stream === OUTPUT) return this.#outputEnds[partition] ?? 0;
    return super.endOffset(stream, partition);
  }

  override read(stream: string, partition: number, fromOffset: number, max: number): LogRecord[] {
    if (stream !== INPUT) return super.read(stream, partition, fromOffset, max);
    const p = this.#input[partition]!;
    if (fromOffset < p.base) throw new Error(`windows bench: read ${stream}/${partition}@${fromOffset}, below the retained offset ${p.base}`);
    return p.records.slice(fromOffset - p.base, fromOffset - p.base + max);
  }

  override appendSync(records: readonly AppendRecord[]): LogRecord[] {
    const rest: AppendRecord[] = [];
    const now = Date.now();
    for (const r of records) {
      if (r.stream === INPUT) {
        const p = this.#input[r.partition]!;
        p.records.push({ ...r, headers: r.headers ?? {}, offset: p.base + p.records.length, brokerTime: now });
        this.retained++;
      } else if (r.stream === OUTPUT) {
        this.#outputEnds[r.partition]!++;
        this.outputs++;
        this.outputCountSum += Number(Buffer.from(r.value!).toString('utf8'));
      } else rest.push(r);
    }
    // The dead-letter stream and anything else: kept as the MemoryLog keeps them (nothing is expected there).
    return rest.length > 0 ? super.appendSync(rest) : [];
  }

  override commit(units: readonly CommitUnit[]): void {
    for (const u of units) this.audited += u.audit.length;
    super.commit(units.map((u) => ({ ...u, audit: [] })));
    for (const u of units) {
      for (let partition = 0; partition < this.#input.length; partition++) {
        const pos = u.checkpoint.positions[partitionKey(INPUT, partition)];
        if (pos === undefined) continue;
        const p = this.#input[partition]!;
        const drop = pos.next - p.base;
        // Drop consumed records in large steps, not one by one.
        if (drop > 50_000 || (drop > 0 && drop === p.records.length)) {
          p.records = p.records.slice(drop);
          p.base = pos.next;
          this.retained -= drop;
        }
      }
    }
  }
}

export interface LongCheckpoint {
  readonly records: number;
  /** Event time covered so far, hours. */
  readonly eventHours: number;
  readonly storeEntries: number;
  readonly outputs: number;
  readonly late: number;
  /** RSS, V8 heap and off-heap memory (array buffers, native) after a full GC, bytes. */
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly seconds: number;
}

export interface LongResult {
  readonly records: number;
  readonly partitions: number;
  readonly checkpoints: readonly LongCheckpoint[];
  readonly seconds: number;
  readonly peakRss: number;
  readonly audited: number;
  /** Emitted counts + counts still open in the store + late records: must equal the input. */
  readonly conservation: { readonly emitted: number; readonly open: number; readonly late: number };
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Runs `records` records through one run of the application, `checkpoints` times measuring the store and RSS. */
export async function runLong(records: number, seed: number, partitions: number, checkpoints: number): Promise<LongResult> {
  const log = new TrimmedMemoryLog();
  log.ensureStream(INPUT, partitions);
  const app = new Application(topology('tumbling', 'in-memory'), { applicationId: APP_ID, log });
  const run = applicationInternals(app).start({ mode: 'catch-up' });
  const tasks = run.stages.flat();
  const gen = new ReadingGenerator(seed, partitions);
  const chunk = 50_000;
  const every = Math.max(chunk, Math.ceil(records / checkpoints / chunk) * chunk);
  const storeEntries = (): number => tasks.reduce((n, t) => n + log.stateBackend(APP_ID, t.id).count(STORE), 0);
  const lateSoFar = (): number => tasks.reduce((n, t) => n + t.counters.lateRecords, 0);
  const out: LongCheckpoint[] = [];
  const t0 = performance.now();
  let first = Infinity;
  while (gen.generated < records) {
    const batch = gen.chunk(Math.min(chunk, records - gen.generated));
    if (first === Infinity) first = batch[0]!.eventTime!;
    log.appendSync(batch);
    for (const t of tasks) t.startCatchUp('external');
    await run.loop.runUntil(tasks, () => tasks.every((t) => t.isCaughtUp()));
    if (gen.generated % every === 0 || gen.generated === records) {
      run.loop.commit();
      gc();
      const mem = process.memoryUsage();
      out.push({
        records: gen.generated,
        eventHours: (batch[batch.length - 1]!.eventTime! - first) / 3_600_000,
        storeEntries: storeEntries(),
        outputs: log.outputs,
        late: lateSoFar(),
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        external: mem.external,
        seconds: (performance.now() - t0) / 1000,
      });
    }
  }
  run.loop.commit();
  const seconds = (performance.now() - t0) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  let open = 0;
  for (const t of tasks) for (const [, v] of log.stateBackend(APP_ID, t.id).entries(STORE)) open += Number(Buffer.from(v).toString('utf8'));
  const summary = run.summary();
  if (summary.processed !== records) throw new Error(`windows bench: the memory run processed ${summary.processed} of ${records} records`);
  const conservation = { emitted: log.outputCountSum, open, late: summary.lateRecords };
  if (conservation.emitted + conservation.open + conservation.late !== records) {
    throw new Error(`windows bench: the memory run lost records: emitted ${conservation.emitted} + open ${conservation.open} + late ${conservation.late} != ${records}`);
  }
  return { records, partitions, checkpoints: out, seconds, peakRss, audited: log.audited, conservation };
}

export const LONG_WINDOWS = WINDOWS.tumbling;
