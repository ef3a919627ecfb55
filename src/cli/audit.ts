import { EmbeddedLog } from '../connectors/embedded/embedded-log.ts';
import { existingDataDir, optionalString, parseCommandArgs, requiredString } from './args.ts';
import type { CommandIo } from './io.ts';

export const auditHelp = `Usage: tidemark audit --data-dir D --application-id A [--kind K]

Prints the audit log of an application as NDJSON, oldest first: every
decision that a reproducible run must know about, with the stream,
partition and offset it concerns.

  nondeterministic:idle-partition   real-time: proceeded without an empty partition
  nondeterministic:ingest-time      timestamps taken from the consumer's wall clock
  nondeterministic:wall-clock       a processor read the wall clock
  fallback:brokerTime               an invalid timestamp was replaced by broker time
  fallback:streamTime               … by the partition's time
  dead-letter                       a record went to the dead-letter stream

A run with no nondeterministic:* entry produced output that any replay of
the same input reproduces exactly.

Options:
  --data-dir D          embedded log directory
  --application-id A    the application (the applicationId of its topology module)
  --kind K              only entries of this kind, or of kinds starting with it
                        (e.g. nondeterministic)
  -h, --help            this help`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  'application-id': { type: 'string' },
  kind: { type: 'string' },
} as const;

/** `tidemark audit`: an application's audit entries as NDJSON. Returns the exit status. */
export async function auditCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.help === true) return io.out(auditHelp), 0;
  const dataDir = existingDataDir(values);
  const applicationId = requiredString(values, 'application-id');
  const kind = optionalString(values, 'kind');
  // Read-only: creates nothing, and reads a data dir the user may only read.
  const log = await EmbeddedLog.open({ dataDir, readOnly: true });
  try {
    for (const entry of log.readAudit(applicationId)) {
      if (kind === undefined || entry.kind === kind || entry.kind.startsWith(`${kind}:`)) io.out(JSON.stringify(entry));
    }
    return 0;
  } finally {
    await log.close();
  }
}
