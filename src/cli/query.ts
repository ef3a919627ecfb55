import { DeserializationError } from '../records/serde.ts';
import { BEYOND_HISTORY } from '../state/versioned-store.ts';
import { isTimestampedSerde } from '../state/timestamped.ts';
import { choiceOption, existingDataDir, optionalString, parseCommandArgs, parseInteger, requiredString, type ParsedArgs } from './args.ts';
import { UsageError } from './errors.ts';
import { parseIsoDateTime } from './exact-input.ts';
import type { CommandIo } from './io.ts';
import { keyValueLine, timeText, versionedLine } from './query-output.ts';
import { openQueriedStore, type OpenedStore } from './query-store.ts';
import { KEY_FORMATS, keyTextBytes, type KeyFormat } from './record-format.ts';

export const queryHelp = `Usage: tidemark query <topology module> --data-dir D --store S (--key K | --from A --to B | --all) [--as-of T]

Reads a store of an application on the embedded log in D: while the
application runs in another process, or after it stopped. What it prints is
the committed state — what each task's last commit wrote, with its outputs —
never a write a crash could still undo. D is opened read-only: the query
writes nothing, takes no task and holds up no commit of the running
application.

The topology module is the one 'tidemark run' runs: it says which store S
is (a table's store, a versioned table's, an aggregation's, a store
declared with keyValueStore) and how its keys and values are serialized.
Window and session stores cannot be read.

One JSON line per entry, keys in the order of their serialized bytes:

  {"key":"s1","value":{"celsius":21.5}}                          a key-value store
  {"key":"s1","value":{"celsius":21.5},"timestamp":1748779200000}  a table's row
  {"key":"apple","value":3,"validFrom":1748779200000,"validTo":null}
                          a versioned table's version (validTo null: the latest)

Options:
  --data-dir D        the embedded log directory the application runs on
  --store S           the store's name (a table's: its name option)
  --key K             one key
  --from A --to B     the keys with A <= key < B, compared as serialized bytes
  --all               every key
  --as-of T           versioned table: the versions valid at T — epoch
                      milliseconds, or ISO-8601 (UTC without an offset);
                      default: the latest
  --key-format F      how K, A and B are written: string (the key itself: the
                      default for a store whose keys use the string serde) or
                      json (the default otherwise: "s1", 42, {"id":1})
  -h, --help          this help

Exit status: 0 with the entries (a range may have none); 3 when the key is
absent (never written, deleted, or not present as of T); 4 when T is older
than the history the versioned table keeps, so what held then is no longer
known (never reported as absent); 1 for other failures, such as a store the
topology does not have; 2 for a usage mistake.

Examples:
  tidemark query examples/topologies/prices.ts --data-dir ./data --store prices --key apple
  tidemark query examples/topologies/prices.ts --data-dir ./data --store prices --all --as-of 2026-06-01T12:00:00Z`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  kafka: { type: 'string' },
  store: { type: 'string' },
  key: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  all: { type: 'boolean' },
  'as-of': { type: 'string' },
  'key-format': { type: 'string' },
} as const;

/** Exit status when the key asked for is absent. */
export const EXIT_ABSENT = 3;
/** Exit status when the time asked for is older than the history kept. */
export const EXIT_BEYOND_HISTORY = 4;

/** What is asked: one key, a range, or every key. */
type Selection = { readonly key: string } | { readonly from: string; readonly to: string } | { readonly all: true };

/** `tidemark query`: entries of a store as NDJSON. Returns the exit status. */
export async function queryCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, 1);
  if (values.help === true) return io.out(queryHelp), 0;
  const modulePath = positionals[0];
  if (modulePath === undefined) throw new UsageError('which topology module? (tidemark query <module> --data-dir D --store S --key K)');
  if (values.kafka !== undefined) throw new UsageError('--kafka: tidemark query reads the embedded log (--data-dir D) only');
  const storeName = requiredString(values, 'store');
  const selection = selectionOf(values);
  const asOfText = optionalString(values, 'as-of');
  const asOf = asOfText === undefined ? undefined : parseAsOf(asOfText);
  const opened = await openQueriedStore(modulePath, existingDataDir(values), storeName);
  try {
    const keyFormat = choiceOption<KeyFormat>(values, 'key-format', KEY_FORMATS, opened.definition.keySerde.name === 'string' ? 'string' : 'json');
    if (asOf !== undefined && opened.store.kind !== 'versioned') {
      throw new UsageError(`--as-of reads a versioned table as of a time; ${opened.label} is a key-value store (it keeps latest values only)`);
    }
    // Every read below is synchronous: together they see one commit of the running application.
    return answer(opened, selection, (text, option) => keyOf(opened, text, keyFormat, option), asOf === undefined ? undefined : { t: asOf, text: asOfText! }, io);
  } finally {
    await opened.close();
  }
}

/** Exactly one of --key, --from/--to and --all. */
function selectionOf(values: ParsedArgs['values']): Selection {
  const key = optionalString(values, 'key');
  const from = optionalString(values, 'from');
  const to = optionalString(values, 'to');
  const given = [key !== undefined, from !== undefined || to !== undefined, values.all === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give one of --key K, --from A --to B, or --all');
  if (key !== undefined) return { key };
  if (from !== undefined && to !== undefined) return { from, to };
  if (from !== undefined || to !== undefined) throw new UsageError(`${from === undefined ? '--to' : '--from'} needs ${from === undefined ? '--from' : '--to'}: a range is --from A --to B (A <= key < B)`);
  return { all: true };
}

/** `--as-of T`: epoch milliseconds, or an ISO-8601 date-time. */
export function parseAsOf(text: string): number {
  if (/^-?\d+$/.test(text.trim())) return parseInteger(text, '--as-of', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  let t = NaN;
  try {
    t = parseIsoDateTime(text);
  } catch {
    // More precise than a millisecond: refused below, as any other time a millisecond cannot hold.
  }
  if (Number.isNaN(t)) throw new UsageError(`--as-of must be epoch milliseconds or an ISO-8601 date-time to the millisecond (2026-06-01T12:00:00Z), got '${text}'`);
  return t;
}

/** The key `text` names, as the store's key serde reads the bytes of --key-format. */
function keyOf(opened: OpenedStore, text: string, format: KeyFormat, option: string): unknown {
  let bytes: Uint8Array;
  try {
    bytes = keyTextBytes(text, format, option);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  try {
    return opened.definition.keySerde.deserialize(bytes);
  } catch (e) {
    if (!(e instanceof DeserializationError)) throw e;
    throw new UsageError(`${option} ${JSON.stringify(text)} is not a key of ${opened.where}: its key serde (${opened.definition.keySerde.name}) cannot read it as --key-format ${format} writes it: ${e.message}`);
  }
}

/** Prints what `selection` finds; returns the exit status. */
function answer(opened: OpenedStore, selection: Selection, key: (text: string, option: string) => unknown, asOf: { t: number; text: string } | undefined, io: CommandIo): number {
  const { store, where } = opened;
  const when = asOf === undefined ? '' : ` as of ${asOf.text}`;
  const beyond = (what: string, horizon: number): number => {
    io.err(`tidemark query: ${where} keeps no history back to ${asOf!.text} (its horizon is ${timeText(horizon)}): ${what}`);
    return EXIT_BEYOND_HISTORY;
  };
  if ('key' in selection) {
    const k = key(selection.key, '--key');
    let line: string | undefined;
    if (store.kind === 'versioned') {
      const found = store.getAsOf(k, asOf?.t ?? Number.MAX_SAFE_INTEGER);
      if (found === BEYOND_HISTORY) return beyond(`what key ${JSON.stringify(selection.key)} held then is no longer known`, store.horizon);
      if (found !== undefined) line = versionedLine(k, found);
    } else {
      const v = store.get(k);
      if (v !== undefined) line = keyValueLine(k, v, isTimestampedSerde(opened.definition.valueSerde));
    }
    if (line === undefined) {
      io.err(`tidemark query: key ${JSON.stringify(selection.key)} is absent from ${where}${when}`);
      return EXIT_ABSENT;
    }
    io.out(line);
    return 0;
  }
  const range = 'from' in selection ? ([key(selection.from, '--from'), key(selection.to, '--to')] as const) : undefined;
  if (store.kind === 'versioned') {
    const entries = range === undefined ? (asOf === undefined ? store.all() : store.all(asOf.t)) : asOf === undefined ? store.range(...range) : store.range(...range, asOf.t);
    if (entries === BEYOND_HISTORY) return beyond('the keys it held then can no longer all be listed', store.horizon);
    for (const [k, v] of entries) io.out(versionedLine(k, v));
    return 0;
  }
  const timestamped = isTimestampedSerde(opened.definition.valueSerde);
  for (const [k, v] of range === undefined ? store.all() : store.range(...range)) io.out(keyValueLine(k, v, timestamped));
  return 0;
}
