/**
 * A MemoryLog for the benchmarks' memory runs: its input streams keep
 * records only from the tasks' committed positions on (as a broker's
 * retention would), and its output stream and audit are counted rather than
 * kept — the memory log keeps everything by design, which would measure the
 * log, not the state. Task state, checkpoints and commits are the
 * MemoryLog's own.
 */
import { MemoryLog } from '../src/index.ts';
import type { LogRecord } from '../src/records/record.ts';
import type { AppendRecord, CommitUnit } from '../src/runtime/log.ts';
import { partitionKey } from '../src/runtime/log.ts';

export class TrimmedMemoryLog extends MemoryLog {
  readonly #inputs: ReadonlyMap<string, { base: number; records: LogRecord[] }[]>;
  readonly #output: string;
  readonly #outputEnds: number[] = [];
  readonly #onOutput: ((r: AppendRecord) => void) | undefined;
  outputs = 0;
  audited = 0;
  /** Input records held by the log now (not yet committed as consumed). */
  retained = 0;

  /** `inputs` are trimmed once consumed; `output` is counted, each of its records passed to `onOutput` (then dropped). */
  constructor(inputs: readonly string[], output: string, onOutput?: (r: AppendRecord) => void) {
    super();
    this.#inputs = new Map(inputs.map((s) => [s, []]));
    this.#output = output;
    this.#onOutput = onOutput;
  }

  override ensureStream(stream: string, partitions: number): void {
    super.ensureStream(stream, partitions);
    const input = this.#inputs.get(stream);
    if (input !== undefined) while (input.length < partitions) input.push({ base: 0, records: [] });
    if (stream === this.#output) while (this.#outputEnds.length < partitions) this.#outputEnds.push(0);
  }

  override endOffset(stream: string, partition: number): number {
    const input = this.#inputs.get(stream);
    if (input !== undefined) {
      const p = input[partition]!;
      return p.base + p.records.length;
    }
    if (stream === this.#output) return this.#outputEnds[partition] ?? 0;
    return super.endOffset(stream, partition);
  }

  override read(stream: string, partition: number, fromOffset: number, max: number): LogRecord[] {
    const input = this.#inputs.get(stream);
    if (input === undefined) return super.read(stream, partition, fromOffset, max);
    const p = input[partition]!;
    if (fromOffset < p.base) throw new Error(`bench: read ${stream}/${partition}@${fromOffset}, below the retained offset ${p.base}`);
    return p.records.slice(fromOffset - p.base, fromOffset - p.base + max);
  }

  override appendSync(records: readonly AppendRecord[]): LogRecord[] {
    const rest: AppendRecord[] = [];
    const now = Date.now();
    for (const r of records) {
      const input = this.#inputs.get(r.stream);
      if (input !== undefined) {
        const p = input[r.partition]!;
        p.records.push({ ...r, headers: r.headers ?? {}, offset: p.base + p.records.length, brokerTime: now });
        this.retained++;
      } else if (r.stream === this.#output) {
        this.#outputEnds[r.partition]!++;
        this.outputs++;
        this.#onOutput?.(r);
      } else rest.push(r);
    }
    // The dead-letter stream and anything else: kept as the MemoryLog keeps them (nothing is expected there).
    return rest.length > 0 ? super.appendSync(rest) : [];
  }

  override commit(units: readonly CommitUnit[]): void {
    for (const u of units) this.audited += u.audit.length;
    super.commit(units.map((u) => ({ ...u, audit: [] })));
    for (const u of units) {
      for (const [stream, input] of this.#inputs) {
        for (let partition = 0; partition < input.length; partition++) {
          const pos = u.checkpoint.positions[partitionKey(stream, partition)];
          if (pos === undefined) continue;
          const p = input[partition]!;
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
}
