import {
  DEFAULT_KAFKA_VERSION,
  ensureKafkaJars,
  kafkaBrokerStatus,
  kafkaPrerequisites,
  startKafkaBroker,
  stopKafkaBroker,
} from '../dev-broker/index.ts';
import { integerOption, optionalString, parseCommandArgs } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import { onInterrupt } from './interrupt.ts';
import type { CommandIo } from './io.ts';
import { thisCliInvocation } from './invocation.ts';

const DEFAULT_DATA_DIR = '.tidemark-kafka';

export const kafkaHelp = `Usage: tidemark kafka <start|stop|status|fetch> [options]

A local development broker: a real single-node Apache Kafka ${DEFAULT_KAFKA_VERSION} (KRaft,
broker and controller in one JVM) on 127.0.0.1, its jars fetched from Maven
Central with mvn. Needs Java 17+ and Maven on the PATH.

  start    fetch the jars if needed, start the broker in the background, wait
           until it answers, and print its bootstrap address
  stop     stop the broker of --data-dir (SIGTERM; SIGKILL after 30 s)
  status   whether the broker of --data-dir runs and answers a Kafka request
           (exit status 0 if it does, 1 if not)
  fetch    only fetch the jars into their cache: .cache/kafka/ in a clone,
           ~/.cache/tidemark/kafka/ for an installed package,
           TIDEMARK_KAFKA_CACHE when set; prints where they are

Options:
  --data-dir D   the broker's directory: partitions, config, broker.log
                 (default ${DEFAULT_DATA_DIR})
  --port N       start: the broker's port (default: the one D used last time
                 if it is free, else any free port)
  -h, --help     this help`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  port: { type: 'string' },
} as const;

const SUBCOMMANDS = ['start', 'stop', 'status', 'fetch'] as const;

/** `tidemark kafka`: start, stop or check a development Kafka broker, or fetch its jars. Returns the exit status. */
export async function kafkaCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, 1);
  if (values.help === true) return io.out(kafkaHelp), 0;
  const sub = positionals[0];
  if (sub === undefined) throw new UsageError(`missing subcommand (one of ${SUBCOMMANDS.join(', ')})`);
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`unknown subcommand '${sub}' (one of ${SUBCOMMANDS.join(', ')})`);
  if (sub !== 'start' && values.port !== undefined) throw new UsageError(`--port is an option of start, not of ${sub}`);
  if (sub === 'fetch' && values['data-dir'] !== undefined) throw new UsageError('--data-dir is not an option of fetch');
  const dataDir = optionalString(values, 'data-dir') ?? DEFAULT_DATA_DIR;
  if (dataDir === '') throw new UsageError('--data-dir must not be empty');
  const stopHint = `${thisCliInvocation()} kafka stop${dataDir === DEFAULT_DATA_DIR ? '' : ` --data-dir ${dataDir}`}`;

  switch (sub) {
    case 'fetch': {
      requirePrerequisites();
      const libs = await ensureKafkaJars({ log: (line) => io.err(line) });
      io.out(`kafka ${DEFAULT_KAFKA_VERSION} jars in ${libs}`);
      return 0;
    }
    case 'start': {
      const port = values.port === undefined ? undefined : integerOption(values, 'port', 0, 1, 65535);
      const status = await kafkaBrokerStatus(dataDir);
      if (status.running) {
        if (port !== undefined && port !== status.state.port) {
          throw new CliError(`a kafka broker already runs at ${status.state.bootstrap} (data in ${dataDir}); stop it first with: ${stopHint}`);
        }
        io.out(`kafka broker already running at ${status.state.bootstrap} (data in ${dataDir}); stop it with: ${stopHint}`);
        return 0;
      }
      requirePrerequisites();
      const interrupt = onInterrupt(() => io.err('stopping the broker…'));
      try {
        const broker = await startKafkaBroker({ dataDir, port, detached: true, log: (line) => io.err(line), signal: interrupt.signal });
        io.out(`kafka broker at ${broker.bootstrap} (data in ${dataDir}); stop it with: ${stopHint}`);
        return 0;
      } finally {
        interrupt.dispose();
      }
    }
    case 'stop': {
      const stopped = await stopKafkaBroker(dataDir);
      io.out(stopped === undefined ? `no kafka broker running (data in ${dataDir})` : `stopped the kafka broker at ${stopped.bootstrap} (pid ${stopped.pid})`);
      return 0;
    }
    default: {
      const status = await kafkaBrokerStatus(dataDir);
      if (!status.running) {
        const stale = status.stale === undefined ? '' : ` (the broker last started there, pid ${status.stale.pid}, has exited)`;
        io.out(`no kafka broker running (data in ${dataDir})${stale}`);
        return 1;
      }
      const { bootstrap, pid } = status.state;
      io.out(`kafka broker at ${bootstrap} (pid ${pid}, data in ${dataDir}): ${status.answering ? 'answering' : 'running but not answering a Kafka request'}`);
      return status.answering ? 0 : 1;
    }
  }
}

function requirePrerequisites(): void {
  const check = kafkaPrerequisites();
  if (!check.ok) throw new CliError(check.reason);
}
