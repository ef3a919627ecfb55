/**
 * Reading a trace (`tidemark timeline`'s input): NDJSON written by the
 * runtime, one {@link TraceEvent} per line, checked line by line into events.
 *
 * @module
 */
import type { LogPosition, TraceEvent } from '../runtime/trace.ts';

export type { TraceEvent };

/** The kinds of trace event. */
export type TraceEventKind = TraceEvent['kind'];

/**
 * A trace that cannot be read, in one line naming the file and line, e.g.
 * `trace.ndjson:3: "time" must be an integer, got "2"`. The timeline knows
 * nothing of the command line: `tidemark timeline` reports it as its own error.
 */
export class TraceError extends Error {
  override readonly name = 'TraceError';
}

const KINDS: readonly TraceEventKind[] = ['record', 'stream-time', 'watermark', 'watermark-record', 'window'];

/**
 * Parses a trace: one JSON object per line; blank lines are skipped and
 * fields the picture does not use are ignored (a newer runtime may add some).
 * A bad line is a {@link TraceError} naming `source` and the line number, e.g.
 * `trace.ndjson:3: "time" must be an integer, got "2"`.
 *
 * @param text the NDJSON text
 * @param source the file name, for error messages
 * @returns the events in file order, with their fields in a fixed order
 */
export function parseTrace(text: string, source: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim(); // also drops the \r of CRLF files
    if (line !== '') events.push(parseLine(line, `${source}:${i + 1}`));
  }
  return events;
}

function parseLine(line: string, where: string): TraceEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new TraceError(`${where}: not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TraceError(`${where}: not a JSON object`);
  const o = parsed as Readonly<Record<string, unknown>>;
  const node = requiredString(o, 'node', where);
  const seq = integerField(o, 'seq', where, 0);
  const kind = o.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    throw new TraceError(`${where}: "kind" must be one of ${KINDS.join(', ')}${got(kind)}`);
  }
  const time = integerField(o, 'time', where);
  switch (kind as TraceEventKind) {
    case 'record':
      return defined({ node, seq, kind: 'record', time, key: optionalString(o, 'key', where), late: optionalBoolean(o, 'late', where), ...position(o, where) });
    case 'watermark-record':
      return defined({ node, seq, kind: 'watermark-record', time, producer: requiredString(o, 'producer', where), ...position(o, where) });
    case 'stream-time':
      return { node, seq, kind: 'stream-time', time };
    case 'watermark':
      return { node, seq, kind: 'watermark', time };
    case 'window': {
      const end = integerField(o, 'end', where);
      if (end <= time) throw new TraceError(`${where}: a window's "end" must be after its start ("time" ${time}), got ${end}`);
      return defined({ node, seq, kind: 'window', time, end, operator: requiredString(o, 'operator', where), key: optionalString(o, 'key', where) });
    }
  }
}

function position(o: Readonly<Record<string, unknown>>, where: string): LogPosition {
  return {
    stream: optionalString(o, 'stream', where),
    partition: optionalInteger(o, 'partition', where),
    offset: optionalInteger(o, 'offset', where),
  };
}

/** Drops the fields left undefined, so that two parses of the same line are the same object, key for key. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** `, got <value>` for an error message, short; or that the field is missing. */
function got(v: unknown): string {
  if (v === undefined) return '; it is missing';
  const json = JSON.stringify(v);
  return `, got ${json.length > 40 ? `${json.slice(0, 39)}…` : json}`;
}

function requiredString(o: Readonly<Record<string, unknown>>, name: string, where: string): string {
  const v = o[name];
  if (typeof v !== 'string' || v === '') throw new TraceError(`${where}: "${name}" must be a non-empty string${got(v)}`);
  return v;
}

function integerField(o: Readonly<Record<string, unknown>>, name: string, where: string, min = Number.MIN_SAFE_INTEGER): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new TraceError(`${where}: "${name}" must be ${min === 0 ? 'a non-negative integer' : 'an integer'}${got(v)}`);
  }
  return v;
}

// Optional fields: absent or null (how a serializer may write "none") both mean "not given".

function optionalString(o: Readonly<Record<string, unknown>>, name: string, where: string): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new TraceError(`${where}: "${name}" must be a string${got(v)}`);
  return v;
}

function optionalInteger(o: Readonly<Record<string, unknown>>, name: string, where: string): number | undefined {
  return o[name] === undefined || o[name] === null ? undefined : integerField(o, name, where, 0);
}

function optionalBoolean(o: Readonly<Record<string, unknown>>, name: string, where: string): boolean | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new TraceError(`${where}: "${name}" must be true or false${got(v)}`);
  return v;
}
