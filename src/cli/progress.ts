import type { Progress } from '../runtime/application.ts';

/** Where the progress display writes: a stream that may be a terminal. */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Shows a run's progress as it goes. */
export interface ProgressDisplay {
  /** Called with each progress report of the run (see `RunOptions.onProgress`). */
  update(progress: Progress): void;
  /** Ends the display: the final state on a line of its own. */
  finish(): void;
}

export interface ProgressDisplayOptions {
  /** Label at the start of the line; default the run's mode. */
  readonly label?: string;
  /** Force the terminal (or plain) rendering; default: the output's `isTTY`. */
  readonly tty?: boolean;
  /** Milliseconds between plain lines when not on a terminal (default 1000). */
  readonly plainIntervalMs?: number;
  readonly now?: () => number;
  /** More to show after the figures, e.g. what a producer has appended meanwhile. */
  readonly extra?: () => string;
  /** Written before every line, e.g. an indent. */
  readonly prefix?: string;
}

const BAR_WIDTH = 24;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Records/s is measured over this window, so the figure is steady but still follows changes. */
const RATE_WINDOW_MS = 2000;

/**
 * A progress display for a run. On a terminal: one line redrawn in place —
 * in catch-up a bar that fills as the lag goes down, in real-time a spinner
 * with the lag — plus records/s and the processed count. Elsewhere (a file,
 * a pipe, CI logs) a plain line about every second, e.g.
 * `catch-up: lag 1234 (processed 5678, 12000 rec/s)`, because redrawing
 * with carriage returns makes unreadable logs.
 */
export function createProgressDisplay(out: ProgressOutput, options: ProgressDisplayOptions = {}): ProgressDisplay {
  const tty = options.tty ?? out.isTTY === true;
  const now = options.now ?? (() => Date.now());
  const plainInterval = options.plainIntervalMs ?? 1000;
  const prefix = options.prefix ?? '';
  // Read on every draw: the terminal may be resized while a run goes on.
  const columns = (): number | undefined => (out.columns === undefined ? undefined : out.columns - prefix.length);
  const started = now();
  const samples: { at: number; processed: number }[] = [];
  let last: Progress | undefined;
  let lastPlain = -Infinity;
  let frame = 0;

  const rate = (): number => {
    const first = samples[0];
    const newest = samples[samples.length - 1];
    if (first === undefined || newest === undefined || newest.at - first.at < 200) {
      const elapsed = (now() - started) / 1000;
      return elapsed > 0 && last !== undefined ? last.processed / elapsed : 0;
    }
    return ((newest.processed - first.processed) * 1000) / (newest.at - first.at);
  };
  const label = (p: Progress): string => options.label ?? p.mode;
  const more = (): string => (options.extra === undefined ? '' : ` · ${options.extra()}`);

  return {
    update(p) {
      last = p;
      const t = now();
      samples.push({ at: t, processed: p.processed });
      while (samples.length > 2 && t - samples[0]!.at > RATE_WINDOW_MS) samples.shift();
      if (tty) {
        const width = columns();
        const line = terminalLine(label(p), p, rate(), SPINNER[frame++ % SPINNER.length]!, options.extra?.(), width);
        out.write(`\r${prefix}${fit(line, width)}\x1b[K`);
      } else if (t - lastPlain >= plainInterval) {
        lastPlain = t;
        out.write(`${prefix}${plainLine(label(p), p, rate())}${more()}\n`);
      }
    },
    finish() {
      if (last === undefined) return;
      const seconds = (now() - started) / 1000;
      const average = seconds > 0 ? last.processed / seconds : 0;
      const status = last.mode === 'catch-up' && last.lag === 0 ? 'caught up' : 'stopped';
      const text = `${status}, processed ${formatCount(last.processed)} in ${seconds.toFixed(1)} s (${formatCount(average)} rec/s)`;
      if (tty) {
        const bar = last.mode === 'catch-up' ? ` ${renderBar(fraction(last))}` : '';
        out.write(`\r${prefix}${fit(`${label(last)}${bar} ${text}`, columns())}\x1b[K\n`);
      } else {
        out.write(`${prefix}${label(last)}: ${text}\n`);
      }
    },
  };
}

/** Share of the run's work done: processed / (processed + lag). */
function fraction(p: Progress): number {
  const total = p.processed + p.lag;
  return total === 0 ? 1 : p.processed / total;
}

/**
 * The terminal line: the head (label, bar or spinner) and the figures,
 * then optional parts — `extra`, stream time, the partitions behind — dropped whole, last
 * first, when the terminal is too narrow, rather than cut mid-word.
 */
function terminalLine(label: string, p: Progress, rate: number, spin: string, extra: string | undefined, columns: number | undefined): string {
  const head =
    p.mode === 'catch-up'
      ? `${label} ${renderBar(fraction(p))} ${String(Math.floor(fraction(p) * 100)).padStart(3)}% `
      : `${label} ${spin} ${p.lag === 0 ? 'tailing' : 'behind '} ·`;
  const parts = [`lag ${formatCount(p.lag)}`, `${formatCount(p.processed)} processed`, `${formatCount(rate)} rec/s`];
  const optional: string[] = [];
  if (extra !== undefined) optional.push(extra);
  const time = streamTimeOf(p);
  if (time !== undefined) optional.push(`stream time ${formatTime(time)}`);
  const behind = partitionLags(p, 3);
  if (behind !== undefined) optional.push(behind);
  for (let keep = optional.length; keep >= 0; keep--) {
    const line = `${head} ${[...parts, ...optional.slice(0, keep)].join(' · ')}`;
    if (columns === undefined || [...line].length < columns || keep === 0) return line;
  }
  return head;
}

/** `catch-up: lag 1234 (processed 5678, 12000 rec/s) · behind: in/1 900, in/0 334`: plain digits, easy to grep. */
export function plainLine(label: string, p: Progress, rate: number): string {
  const behind = partitionLags(p);
  return `${label}: lag ${p.lag} (processed ${p.processed}, ${Math.round(rate)} rec/s)${behind === undefined ? '' : ` · ${behind}`}`;
}

const MAX_PARTITION_LAGS = 6;

/**
 * The partitions still behind, most lag first — `behind: in/1 900, in/0 334,
 * +3 more` — or undefined when none is: where a catch-up is waiting.
 */
export function partitionLags(p: Progress, max = MAX_PARTITION_LAGS): string | undefined {
  const behind = [...p.lagByPartition].filter(([, n]) => n > 0).sort(([a, x], [b, y]) => y - x || a.localeCompare(b, 'en', { numeric: true }));
  if (behind.length === 0) return undefined;
  const shown = behind.slice(0, max).map(([partition, n]) => `${partition} ${n}`);
  return `behind: ${shown.join(', ')}${behind.length > max ? `, +${behind.length - max} more` : ''}`;
}

/** A bar of BAR_WIDTH cells with eighth-cell resolution. */
export function renderBar(f: number): string {
  const eighths = Math.round(Math.min(1, Math.max(0, f)) * BAR_WIDTH * 8);
  const full = Math.floor(eighths / 8);
  const partial = eighths % 8;
  const partials = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  const body = '█'.repeat(full) + (partial > 0 ? partials[partial] : '');
  return `▕${body}${' '.repeat(BAR_WIDTH - full - (partial > 0 ? 1 : 0))}▏`;
}

/** The largest stream time over the tasks, if any task has processed something. */
function streamTimeOf(p: Progress): number | undefined {
  let max = -1;
  for (const t of p.streamTimes.values()) if (t > max) max = t;
  return max >= 0 ? max : undefined;
}

/** Time of day in UTC, `09:31:02Z`: stream time is event time, not this machine's local time. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`;
}

/** `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Cuts a line to the terminal width, so a redraw never wraps (a wrapped line cannot be redrawn in place). */
function fit(line: string, columns: number | undefined): string {
  if (columns === undefined || columns <= 0) return line;
  const chars = [...line];
  return chars.length < columns ? line : chars.slice(0, columns - 1).join('');
}
