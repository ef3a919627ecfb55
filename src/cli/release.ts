import { releaseRecord } from '../runtime/watermark-record.ts';
import { optionalString, parseCommandArgs, producerArgument, requiredString } from './args.ts';
import { UsageError, CliError } from './errors.ts';
import type { CommandIo } from './io.ts';
import { LOG_OPTIONS, LOG_OPTIONS_HELP, openCliLog } from './log-option.ts';
import { KAFKA_SECURITY_HELP } from './kafka-security-options.ts';

export const releaseHelp = `Usage: tidemark release --data-dir D --stream S --producer APP/TASK [--partitions P,…]

Writes a release of producer task APP/TASK into the stream: consumers that
read the stream's watermarks from its producers (Watermarks.fromStream())
stop waiting for that task when they reach the release, and audit it as
release. Use it for a task that no longer exists — killed and not coming
back, or its application rescaled without it before it could say so — when
a consumer's watermark is held at what that task last promised ('tidemark
run' names the task holding each watermark back).

The release is a record in the log, after the data before it: a replay
reaches it at the same place and makes the same decision. Should the task
write again, it counts again from its next record.

Options:
${LOG_OPTIONS_HELP}
  --stream S             the stream the task wrote
  --producer APP/TASK    the producer task to release, as 'tidemark run' names it
  --partitions P,…       only these partitions (default: every partition)
  -h, --help             this help${KAFKA_SECURITY_HELP}`;

const OPTIONS = {
  ...LOG_OPTIONS,
  stream: { type: 'string' },
  producer: { type: 'string' },
  partitions: { type: 'string' },
} as const;

/** `tidemark release`: writes a release of a producer task into a stream. Returns the exit status. */
export async function releaseCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.help === true) return io.out(releaseHelp), 0;
  const stream = requiredString(values, 'stream');
  const producer = requiredString(values, 'producer');
  const { application, task } = producerArgument(producer);
  const opened = await openCliLog(values, 'write');
  try {
    const count = opened.log.partitionCount(stream);
    if (count === undefined) throw new CliError(`no stream ${stream} in ${opened.where}`);
    const partitions = partitionsOption(optionalString(values, 'partitions'), stream, count);
    await opened.log.append(partitions.map((p) => releaseRecord(stream, p, application, task)));
    io.out(`released ${producer} on ${partitions.map((p) => `${stream}/${p}`).join(', ')}: consumers stop waiting for it there`);
    return 0;
  } finally {
    await opened.close();
  }
}

/** `--partitions 0,2`, each within the stream's partitions; every partition when not given. */
function partitionsOption(given: string | undefined, stream: string, count: number): number[] {
  if (given === undefined) return [...Array(count).keys()];
  return given.split(',').map((part) => {
    const p = Number(part.trim());
    if (!Number.isInteger(p) || p < 0 || p >= count || part.trim() === '') throw new UsageError(`--partitions: ${JSON.stringify(part)} is not a partition of ${stream} (it has partitions 0..${count - 1})`);
    return p;
  });
}
