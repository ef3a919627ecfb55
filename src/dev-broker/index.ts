/**
 * The development Kafka broker: a real single-node Apache Kafka (KRaft,
 * combined broker and controller) that the project fetches and starts
 * itself, for development and for the tests of the Kafka connector. No
 * Docker, no mocks: the broker's jars come from Maven Central through `mvn`
 * into a cache of the project, and the broker runs as a Java child process
 * on 127.0.0.1. Node's builtins only; `tidemark kafka` is its command line.
 * {@link startKafkaCluster} starts several such nodes as one cluster (a
 * static controller quorum, replicated internal topics), for tests of
 * leaders spread over brokers.
 *
 * @module
 */
export { startKafkaBroker, type KafkaBroker, type StartKafkaBrokerOptions } from './broker.ts';
export { startKafkaCluster, type KafkaCluster, type KafkaClusterNode, type StartKafkaClusterOptions } from './cluster.ts';
export { kafkaBrokerStatus, stopKafkaBroker, type KafkaBrokerStatus } from './control.ts';
export { DEFAULT_KAFKA_VERSION, ensureKafkaJars, type EnsureKafkaJarsOptions } from './jars.ts';
export { javaCommand, kafkaPrerequisites, type KafkaPrerequisites } from './prerequisites.ts';
export type { KafkaBrokerState } from './state.ts';
export type { DevBrokerListenerAddresses, DevBrokerListeners, DevBrokerSaslListener, DevBrokerTlsListener } from './security.ts';
export type { KafkaNodeOptions } from './config.ts';
