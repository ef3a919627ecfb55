/**
 * How the demo writes: aligned rows, dimmed samples, styled headings, and a
 * progress display while a run goes on. The demo knows nothing of the
 * command line: `tidemark demo` passes its output and its progress display in.
 *
 * @module
 */
import { styleText } from 'node:util';
import type { Progress, RunOptions } from '../runtime/application.ts';

/** Where the demo writes its lines; the CLI's command io is one. */
export interface DemoOutput {
  /** Whether it is a terminal: headings are styled only there. */
  readonly stdout: { readonly isTTY?: boolean };
  /** A line. */
  out(line: string): void;
}

/** A run's progress as it goes (`RunOptions.onProgress` reports), on the demo's output, in order with its lines. */
export interface ProgressView {
  update(progress: Progress): void;
  /** The final state on a line of its own. */
  finish(): void;
}

/** Makes the progress view of one run: `label` starts its line, `extra` says more after the figures, `prefix` indents it. */
export type ShowProgress = (options: { readonly label: string; readonly extra?: () => string; readonly prefix: string }) => ProgressView;

const LABEL_WIDTH = 20;

/** Output helpers: aligned rows, dimmed samples, headings styled only on a terminal (and never with NO_COLOR). */
export class Ui {
  readonly #io: DemoOutput;
  readonly #showProgress: ShowProgress;
  readonly #color: boolean;

  constructor(io: DemoOutput, showProgress: ShowProgress) {
    this.#io = io;
    this.#showProgress = showProgress;
    this.#color = io.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  }

  #style(format: Parameters<typeof styleText>[0], text: string): string {
    return this.#color ? styleText(format, text, { validateStream: false }) : text;
  }

  /** A line as is, unindented: fingerprint lines stay greppable (`^fingerprint `). */
  raw(text: string): void {
    this.#io.out(text);
  }
  blank(): void {
    this.#io.out('');
  }
  title(text: string): void {
    this.#io.out(this.#style('bold', text));
  }
  heading(text: string): void {
    this.#io.out('');
    this.#io.out(this.#style(['bold', 'cyan'], text));
  }
  line(text: string): void {
    this.#io.out(`  ${text}`);
  }
  /** A paragraph, word-wrapped. */
  para(text: string): void {
    for (const l of wrap(text, 78)) this.#io.out(`  ${l}`);
  }
  /** `label               text`. */
  row(label: string, text: string): void {
    this.#io.out(`  ${this.#style('bold', label.padEnd(LABEL_WIDTH))}${text}`);
  }
  /** An example under a row: where, and what. */
  sample(where: string, text: string): void {
    this.#io.out(`  ${''.padEnd(LABEL_WIDTH)}${this.#style('dim', `${where.padEnd(24)} ${text}`)}`);
  }
  good(text: string): void {
    this.#io.out(`  ${this.#style(['bold', 'green'], text)}`);
  }
  bad(text: string): void {
    this.#io.out(`  ${this.#style(['bold', 'yellow'], text)}`);
  }

  /** Runs `fn` with a progress display, indented as the lines are. */
  async withProgress<T>(label: string, fn: (onProgress: NonNullable<RunOptions['onProgress']>) => Promise<T>, extra?: () => string): Promise<T> {
    const display = this.#showProgress({ label, extra, prefix: '  ' });
    try {
      return await fn((p) => display.update(p));
    } finally {
      display.finish();
    }
  }
}

/** Greedy word wrap. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}
