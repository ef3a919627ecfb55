/**
 * The benchmarks' memory runs: one catch-up run of an application over a
 * long input appended in chunks while it goes on, sampling memory and
 * whatever the run measures at checkpoints (after a commit and a full GC).
 */
import type { Application, RunSummary } from '../src/index.ts';
import { applicationInternals } from '../src/runtime/application.ts';
import type { AppendRecord } from '../src/runtime/log.ts';
import type { StreamTask } from '../src/runtime/task.ts';
import { gc } from './results.ts';

/** The process's memory at a checkpoint, after a full GC, and the time since the run began. */
export interface MemorySample {
  /** RSS, V8 heap and off-heap memory (array buffers, native), bytes. */
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly seconds: number;
}

export interface ChunkedRun<C> {
  readonly checkpoints: C[];
  readonly tasks: readonly StreamTask[];
  readonly summary: RunSummary;
  readonly seconds: number;
  readonly peakRss: number;
}

/**
 * Runs `app` over `records` records: each chunk of `chunk` (from `next`,
 * given how many records it should hold) is appended with `append` and
 * processed; about `checkpoints` times, and after the last chunk, the tasks
 * commit and `sample` records a checkpoint. Fails unless every record was
 * processed.
 */
export async function chunkedRun<C>(
  app: Application,
  o: { readonly records: number; readonly chunk: number; readonly checkpoints: number },
  next: (n: number) => AppendRecord[],
  append: (batch: AppendRecord[]) => void,
  sample: (tasks: readonly StreamTask[], done: number, last: AppendRecord[], memory: MemorySample) => C,
): Promise<ChunkedRun<C>> {
  const run = applicationInternals(app).start({ mode: 'catch-up' });
  const tasks = run.stages.flat();
  const every = Math.max(o.chunk, Math.ceil(o.records / o.checkpoints / o.chunk) * o.chunk);
  const out: C[] = [];
  const t0 = performance.now();
  for (let done = 0; done < o.records; ) {
    const batch = next(Math.min(o.chunk, o.records - done));
    done += batch.length;
    append(batch);
    for (const t of tasks) t.startCatchUp('external');
    await run.loop.runUntil(tasks, () => tasks.every((t) => t.isCaughtUp()));
    if (done % every === 0 || done === o.records) {
      run.loop.commit();
      gc();
      const mem = process.memoryUsage();
      out.push(sample(tasks, done, batch, { rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, seconds: (performance.now() - t0) / 1000 }));
    }
  }
  run.loop.commit();
  const seconds = (performance.now() - t0) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const summary = run.summary();
  if (summary.processed !== o.records) throw new Error(`bench: the memory run processed ${summary.processed} of ${o.records} records`);
  return { checkpoints: out, tasks, summary, seconds, peakRss };
}
