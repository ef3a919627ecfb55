/**
 * Kafka as a tidemark log: {@link KafkaLog} reads and writes topics with a
 * transaction per task (exactly-once), {@link KafkaTaskGroup} shares an
 * application's tasks between instances through a consumer group. Kept out
 * of the `tidemark` entry so that an application on the embedded log never
 * loads the Kafka client.
 *
 * @example
 * import { Application } from 'tidemark';
 * import { KafkaLog } from 'tidemark/kafka';
 *
 * @module tidemark/kafka
 */
export { KafkaLog, kafkaTopics, type KafkaLogOptions, type RestoreProgress } from './connectors/kafka/kafka-log.ts';
export { KafkaTaskGroup, type KafkaTaskGroupOptions } from './connectors/kafka/kafka-task-group.ts';
export { SASL_MECHANISMS, type KafkaSaslMechanism, type KafkaSaslOptions, type KafkaSecurityOptions, type KafkaTlsOptions } from './connectors/kafka/kafka-security.ts';
