import { kafkaTopics } from '../connectors/kafka/kafka-topics.ts';
import { describeTopology, formatTopologyMermaid, formatTopologyText } from '../runtime/describe-topology.ts';
import { choiceOption, parseCommandArgs } from './args.ts';
import { UsageError } from './errors.ts';
import type { CommandIo } from './io.ts';
import { loadTopologyModule } from './topology-module.ts';

export const describeHelp = `Usage: tidemark describe <topology module> [--format text|mermaid]

Prints a topology without running it, as Kafka Streams' Topology.describe():
its sub-topologies (each run by one task per input partition: task 1_0 is
sub-topology 1 on partition 0), their sources (stream, timestamps,
watermarks), processors (windows with their size, grace and the clock they
close on; tables; versioned tables with their history; joins with their
windows and grace), sinks, the stores (key-value, versioned, ordered or
timers; lmdb or in-memory; the changelog topic each has on Kafka), and the
streams it reads, writes and repartitions through (internal streams are
named <applicationId>-<name>, as a run names them).

  --format text      (default) indented text, a node per line with --> to the
                     nodes it feeds and <-- from those feeding it
  --format mermaid   a Mermaid flowchart: paste it into a \`\`\`mermaid block of
                     a Markdown file (GitHub draws it) or mermaid.live

Options:
  --format F   text or mermaid
  -h, --help   this help`;

const OPTIONS = { format: { type: 'string' } } as const;

/** `tidemark describe`: a topology module's topology as text or Mermaid. Returns the exit status. */
export async function describeCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, 1);
  if (values.help === true) return io.out(describeHelp), 0;
  const modulePath = positionals[0];
  if (modulePath === undefined) throw new UsageError('which topology module? (tidemark describe <module>)');
  const format = choiceOption(values, 'format', ['text', 'mermaid'] as const, 'text');
  const { applicationId, topology } = await loadTopologyModule(modulePath);
  const description = describeTopology(topology, { applicationId, changelog: (store) => kafkaTopics.changelog(applicationId, store) });
  io.out(format === 'text' ? `${applicationId}: ${formatTopologyText(description)}` : formatTopologyMermaid(description));
  return 0;
}
