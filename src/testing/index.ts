export { TopologyTestDriver, TestInputStream, type TestDriverOptions, type TestOutputRecord, type PipeOptions } from './topology-test-driver.ts';
export { seededRandom } from './seeded-random.ts';
