/**
 * Testing topologies: {@link TopologyTestDriver} runs a topology in memory
 * on virtual time (pipe records in, read outputs, stores and the audit back),
 * with the same tasks, scheduler and commit code as a real run.
 *
 * @example
 * import { TopologyTestDriver } from 'tidemark/testing';
 *
 * @module tidemark/testing
 */
export { TopologyTestDriver, TestInputStream, type TestDriverOptions, type TestOutputRecord, type PipeOptions } from './topology-test-driver.ts';
export { seededRandom } from './seeded-random.ts';
