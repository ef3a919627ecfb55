/**
 * Global setup of `npm test`: one Kafka development broker (KRaft, jars from
 * Maven Central) for every test file, stopped at the end. Where Java or Maven
 * is missing it prints one line and the Kafka tests skip — unless
 * `TIDEMARK_REQUIRE_KAFKA=1`, where the run fails at once.
 */
import { rmSync } from 'node:fs';
import { kafkaPrerequisites, startKafkaBroker, type KafkaBroker } from '../src/dev-broker/index.ts';
import { KAFKA_ENV, KAFKA_SKIP_ENV, kafkaRequired } from './fixtures/kafka.ts';

let broker: KafkaBroker | undefined;

export async function globalSetup(): Promise<void> {
  const prerequisites = kafkaPrerequisites();
  if (!prerequisites.ok) {
    if (kafkaRequired()) throw new Error(`TIDEMARK_REQUIRE_KAFKA=1 but ${prerequisites.reason}`);
    process.stderr.write(`Kafka tests skipped: ${prerequisites.reason}\n`);
    process.env[KAFKA_SKIP_ENV] = prerequisites.reason;
    return;
  }
  const started = Date.now();
  broker = await startKafkaBroker({});
  process.env[KAFKA_ENV] = broker.bootstrap;
  process.stderr.write(`Kafka broker for the tests at ${broker.bootstrap} (started in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

export async function globalTeardown(): Promise<void> {
  if (broker === undefined) return;
  await broker.stop();
  rmSync(broker.dataDir, { recursive: true, force: true });
}
