import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { optionalString, parseCommandArgs, requiredString } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import type { CommandIo } from './io.ts';
import { describeSummary, parseTrace, renderTimelineHtml, renderTimelineSvg, summarizeTrace, TraceError, type TraceEvent } from '../timeline/index.ts';

export const timelineHelp = `Usage: tidemark timeline <trace.ndjson>... --out <file.svg|file.html> [--title T]

Draws the event-time timeline of a run from its trace: one lane per node
(task or producer), x = event time (UTC dates and times for epoch
milliseconds; the axis broken where a few times lie far from the rest). In a
lane, top to bottom in the node's own order: the records it processed (late
ones in red), the watermark records it received, its stream time (a wide
band) and watermark (dashed) as step lines, and the windows its operators
emitted, as brackets under the row that fired them.

A trace is NDJSON, one event per line; a run of several processes writes
one file each, and all of them can be given:

  {"node":"C1","seq":12,"kind":"record","time":2,"key":"Z","late":true}
  {"node":"C1","seq":12,"kind":"stream-time","time":22}
  {"node":"C1","seq":12,"kind":"watermark","time":20}
  {"node":"C1","seq":3,"kind":"watermark-record","time":2,"producer":"B/0_0"}
  {"node":"C1","seq":14,"kind":"window","time":0,"end":10,"operator":"agg"}

Options:
  --out F       the file to write: F.svg, a standalone SVG, or F.html, a page
                with the SVG, a legend and a table per node
  --title T     the picture's title (default: the trace files' names)
  -h, --help    this help

The picture depends only on the trace: the same trace, the same bytes.

Example:
  tidemark timeline trace-*.ndjson --out timeline.html`;

const OPTIONS = {
  out: { type: 'string' },
  title: { type: 'string' },
} as const;

/** The format is the extension of --out: no separate option that could disagree with it. */
const FORMATS: Readonly<Record<string, 'svg' | 'html'>> = { '.svg': 'svg', '.html': 'html', '.htm': 'html' };

/** `tidemark timeline`: a trace drawn as SVG or HTML. Returns the exit status. */
export async function timelineCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, Number.POSITIVE_INFINITY);
  if (values.help === true) return io.out(timelineHelp), 0;
  const out = requiredString(values, 'out');
  const format = FORMATS[extname(out).toLowerCase()];
  if (format === undefined) throw new UsageError(`--out must name a .svg or .html file, got '${out}'`);
  if (positionals.length === 0) throw new UsageError('name at least one trace file');
  const title = optionalString(values, 'title') ?? `timeline of ${positionals.map((p) => basename(p)).join(', ')}`;

  const events: TraceEvent[] = [];
  // Not push(...events): spreading a long trace as arguments overflows the stack.
  for (const path of positionals) for (const e of await readTrace(path)) events.push(e);
  if (events.length === 0) throw new CliError(`no trace events in ${positionals.join(', ')}`);

  const document = format === 'svg' ? renderTimelineSvg(events, { title }) : renderTimelineHtml(events, { title });
  try {
    await writeFile(out, document);
  } catch (e) {
    throw new CliError(`cannot write ${out}: ${(e as Error).message}`);
  }
  io.out(`wrote ${out}: ${describeSummary(summarizeTrace(events))}`);
  return 0;
}

async function readTrace(path: string): Promise<TraceEvent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError((e as NodeJS.ErrnoException).code === 'ENOENT' ? `no trace file ${path}` : `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return parseTrace(text, path);
  } catch (e) {
    // The same line, as the CLI's own error: a failure of the input, exit status 1.
    if (e instanceof TraceError) throw new CliError(e.message);
    throw e;
  }
}
