import { optionalString, parseCommandArgs, requiredString } from './args.ts';
import { CliError } from './errors.ts';
import type { CommandIo } from './io.ts';
import { LOG_OPTIONS, LOG_OPTIONS_HELP, openCliLog } from './log-option.ts';

export const auditHelp = `Usage: tidemark audit (--data-dir D | --kafka HOST:PORT) --application-id A [--kind K]

Prints the audit log of an application as NDJSON, oldest first: every
decision that a reproducible run must know about, with the stream,
partition and offset it concerns.

  nondeterministic:idle-partition   real-time: proceeded without an empty partition
  nondeterministic:idle-watermark   real-time: a silent input stopped holding the watermark back
  nondeterministic:end-of-input     a record came after a catch-up had passed its partition's end
  nondeterministic:ingest-time      timestamps taken from the consumer's wall clock
  nondeterministic:wall-clock       a processor read the wall clock
  nondeterministic:processing-time  a processing-time timer fired
  nondeterministic:latest-value-join  a joinLatest result may differ from the as-of join
  fallback:brokerTime               an invalid timestamp was replaced by broker time
  fallback:streamTime               … by the partition's time
  dead-letter                       a record went to the dead-letter stream
  late-record                       a record came after all its windows had closed
  late-window                       a record came too late for some of its windows
  late-table-update                 a table update came after a join it would have changed
  dropped                           a record an operator cannot use (a table record with a null key)
  no-producer                       watermark input without a producer header
  producer-late                     a record its producer wrote at or below its own watermark
  release                           a producer task released (tidemark release)

A run with no nondeterministic:* entry produced output that any replay of
the same input reproduces exactly.

Options:
${LOG_OPTIONS_HELP}
  --application-id A    the application (the applicationId of its topology module)
  --kind K              only entries of this kind, or of kinds starting with it
                        (e.g. nondeterministic)
  -h, --help            this help`;

const OPTIONS = {
  ...LOG_OPTIONS,
  'application-id': { type: 'string' },
  kind: { type: 'string' },
} as const;

/** `tidemark audit`: an application's audit entries as NDJSON. Returns the exit status. */
export async function auditCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.help === true) return io.out(auditHelp), 0;
  const applicationId = requiredString(values, 'application-id');
  const kind = optionalString(values, 'kind');
  // Read-only: creates nothing, and reads a data dir the user may only read.
  const cli = await openCliLog(values, 'read');
  try {
    const known = await cli.applicationIds();
    if (!known.includes(applicationId)) {
      throw new CliError(`no application ${applicationId} on ${cli.where}: ${known.length === 0 ? 'no application has run there' : `the applications there are ${known.join(', ')}`}`);
    }
    await cli.loadAudit?.(applicationId);
    for (const entry of cli.log.readAudit(applicationId)) {
      if (kind === undefined || entry.kind === kind || entry.kind.startsWith(`${kind}:`)) io.out(JSON.stringify(entry));
    }
    return 0;
  } finally {
    await cli.close();
  }
}
