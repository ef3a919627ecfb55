/**
 * The package's entry points are its public API: each exports exactly the
 * names listed here (an accidental export fails), every one of them is
 * listed in package.json's "exports", and importing `tidemark` does not load
 * the Kafka client, which only `tidemark/kafka` needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Every name each entry exports, values and types, sorted. */
const EXPECTED: Record<string, readonly string[]> = {
  '.': [
    'AggregateOptions', 'Aggregator', 'BEYOND_HISTORY', 'QueryableStore', 'ReadOnlyKeyValueStore', 'ReadOnlyVersionedStore', 'VersionedRecord', 'AppendRecord', 'Application', 'AuditEntry', 'AuditKind', 'AuditListener', 'BadInputError',
    'RunObservation', 'TaskObservation', 'InputObservation', 'OperatorObservation', 'LateObservation', 'ProducerHolder', 'Metrics', 'createMetrics', 'serveObservability', 'HttpOptions',
    'ObservabilityServer', 'TopologyPictureNode', 'DIAGNOSTICS_CHANNELS', 'RecordLateMessage', 'WindowFiredMessage', 'WatermarkAdvancedMessage', 'CommitMessage', 'AuditMessage',
    'TaskMessage', 'RestoreMessage',
    'BranchedStream', 'Clock', 'CommitUnit', 'ConsumedRecord', 'DEAD_LETTER_HEADERS', 'DataDirError', 'DeserializationError',
    'EmbeddedLog', 'EmbeddedLogOptions', 'EmitStrategy', 'EventClock', 'ExtractionInput', 'Extractors', 'Forwarded',
    'GroupCatchUpState', 'GroupMember',
    'Headers', 'InputFailure', 'InputPosition', 'InvalidTimestampPolicy', 'KGroupedStream', 'KGroupedTable', 'KStream', 'KTable', 'KeyValueStore', 'LatePolicy',
    'Log', 'LogPosition', 'LogRecord', 'ManualClock', 'MemoryLog', 'OrderedStore', 'KeptValue', 'StoredValue', 'PRODUCER_HEADER', 'Predicate', 'ProcessingError',
    'Processor', 'ProcessorContext', 'ProducerIdentity', 'ProducerOptions', 'Progress', 'RepartitionOptions', 'RunMode', 'RunOptions',
    'RunPlan', 'RunSummary', 'SerializationError', 'Serde', 'Serdes', 'SessionWindowedKStream', 'SessionWindows', 'SinkOptions',
    'SlidingWindows', 'SourceOptions', 'StartPosition', 'StateBackend', 'StateWrite', 'StoreDefinition', 'StoreKind', 'StreamProducer',
    'StreamRecord', 'StreamsBuilder', 'TableAggregateOptions', 'TableOptions', 'TaskAssignment', 'TaskCheckpoint', 'TaskGroup', 'TaskMigratedError', 'TaskStorage', 'TimeWindow',
    'TimeWindowedKStream', 'TimeWindows', 'Timer', 'TimerDomain', 'TimerService', 'TimestampExtractor', 'Topology', 'TopologyOptions',
    'TraceEvent', 'TraceEventBase', 'WatermarkGenerator', 'WatermarkHolder', 'WatermarkStrategy', 'WatermarkStrategyWithIdleness',
    'Watermarks', 'Windowed', 'WindowedAggregateOptions', 'fingerprintPartitions', 'fingerprintStream', 'keyValueStore', 'systemClock',
    'JoinWindows', 'StreamJoinOptions', 'StreamTableJoinOptions', 'LatestValueJoinOptions',
    'TableJoinOptions', 'TableJoinKind', 'ForeignKeyJoinOptions', 'ForeignKeyJoinKind',
    'describeTopology', 'formatTopologyText', 'formatTopologyMermaid', 'TopologyDescription', 'SubTopologyDescription', 'NodeDescription', 'StoreDescription',
    'InternalStreamDescription', 'DescribeOptions', 'verifyApplication', 'VerifyOptions', 'VerifyReport', 'StreamVerdict', 'PartitionVerdict', 'ReplayedInput',
  ],
  './kafka': [
    'KafkaLog', 'KafkaLogOptions', 'KafkaSaslMechanism', 'KafkaSaslOptions', 'KafkaSecurityOptions', 'KafkaTaskGroup', 'KafkaTaskGroupOptions',
    'KafkaTlsOptions', 'RestoreProgress', 'SASL_MECHANISMS', 'kafkaTopics',
  ],
  './testing': ['PipeOptions', 'TestDriverOptions', 'TestInputStream', 'TestOutputRecord', 'TopologyTestDriver', 'seededRandom'],
  './semantics': [
    'Change', 'GroupUpdate', 'MAX_WATERMARK', 'NO_TIMESTAMP', 'NO_WATERMARK', 'ProducerApplication', 'ProducerState', 'RegroupEntry', 'Session', 'TimestampResolution',
    'WatermarkReport', 'advancePartitionTime', 'advanceStreamTime', 'advanceWatermark', 'alignedStart', 'applyAnnouncement',
    'applyRelease', 'applyTableRecord', 'filterChange', 'hasTableKey', 'isVisibleChange', 'mapChange', 'assignTasks', 'boundedOutOfOrdernessWatermark', 'combineWatermarks', 'eventClockNow', 'fireDelay',
    'firesBeforeClosing', 'internalCatchUpEnd', 'internalPartitionCount', 'isGroupCatchUpOver', 'isGroupEmpty', 'isLateRecord', 'isLateSessionRecord', 'isOutOfOrder', 'isOutOfOrderTableUpdate', 'isProducerLate', 'isShareEnded', 'isTimerDue',
    'isValidTimestamp', 'isWindowClosed', 'isWindowFired', 'joinsSession', 'leftWindow', 'membersAfter', 'mergeSessions',
    'newProducerApplication', 'nextGeneration', 'partitionForKey', 'producersWatermark', 'regroup', 'resolveTimestamp', 'resultTimestamp',
    'rightWindow', 'sessionCloseEnd', 'slidingStartsContaining', 'slidingWindowsOf', 'stateLateness', 'tableAggregateTimestamp', 'timeWindowsFor',
    'NO_HORIZON', 'Version', 'historyHorizon', 'isExactAsOf', 'isExactRangeAsOf', 'isLateTableUpdate', 'isLatestUpdate', 'isPurgeableVersion', 'purgeableAt', 'versionAsOf',
    'JoinSide', 'UnmatchedEntry', 'compareUnmatched', 'isJoinMatch', 'isLateJoinRecord', 'isPairOpen', 'isUnmatchedDue', 'joinWindowEnd', 'streamJoinResultTimestamp',
    'heldHorizon', 'isStreamRecordDue', 'latestMayDifferFromAsOf', 'missedJoinedRecords', 'streamTableResultTimestamp',
    'TableJoinKind', 'tableJoinTimestamp', 'tableJoinValue',
    'ForeignKeyJoinKind', 'SubscriptionChange', 'foreignKeyOf', 'isCurrentResponse', 'subscriptionChanges',
  ],
  './dev-broker': [
    'DEFAULT_KAFKA_VERSION', 'DevBrokerListenerAddresses', 'DevBrokerListeners', 'DevBrokerSaslListener', 'DevBrokerTlsListener',
    'EnsureKafkaJarsOptions', 'KafkaBroker', 'KafkaBrokerState', 'KafkaBrokerStatus', 'KafkaCluster', 'KafkaClusterNode', 'KafkaNodeOptions',
    'KafkaPrerequisites', 'StartKafkaBrokerOptions', 'StartKafkaClusterOptions', 'ensureKafkaJars', 'javaCommand', 'kafkaBrokerStatus',
    'kafkaPrerequisites', 'startKafkaBroker', 'startKafkaCluster', 'stopKafkaBroker',
  ],
};

type Exports = Record<string, { types: string; default: string }>;
const packageExports = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Exports }).exports;

/** The source file of an entry: `./dist/x/index.js` is built from `src/x/index.ts`. */
function sourceOf(entry: string): string {
  const target = packageExports[entry]!.default;
  assert.match(target, /^\.\/dist\/.+\.js$/, `${entry}: the entry must point into dist/`);
  assert.equal(packageExports[entry]!.types, target.replace(/\.js$/, '.d.ts'), `${entry}: its types must sit beside it`);
  return `${root}src/${target.slice('./dist/'.length, -'.js'.length)}.ts`;
}

/**
 * The names an entry exports, and which of them are values. An entry holds
 * only comments and `export { … } from '…'` lists, so that what it exports
 * can be read here (no `export *`, no declarations of its own).
 */
function exportsOf(file: string): { names: string[]; values: string[] } {
  const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const statement = /export\s+(type\s+)?\{([^}]*)\}\s+from\s+'[^']+';/g;
  const rest = code.replace(statement, '').trim();
  assert.equal(rest, '', `${file}: an entry holds only "export { … } from" lists, found: ${rest.slice(0, 80)}`);
  const names: string[] = [];
  const values: string[] = [];
  for (const m of code.matchAll(statement)) {
    for (const item of m[2]!.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const isType = m[1] !== undefined || item.startsWith('type ');
      const name = item.replace(/^type\s+/, '').split(/\s+as\s+/).pop()!;
      names.push(name);
      if (!isType) values.push(name);
    }
  }
  return { names: names.sort(), values: values.sort() };
}

test('package.json exports the four library entries and the development broker, each with its types', () => {
  assert.deepEqual(Object.keys(packageExports).sort(), Object.keys(EXPECTED).sort());
  assert.equal(packageExports['./dev-broker']!.default, './dist/dev-broker/index.js');
  for (const entry of Object.keys(EXPECTED)) sourceOf(entry);
});

for (const [entry, expected] of Object.entries(EXPECTED)) {
  test(`entry ${entry} exports exactly its public names`, async () => {
    const file = sourceOf(entry);
    const { names, values } = exportsOf(file);
    assert.deepEqual(names, [...expected].sort(), `${entry}: exported names differ from the list in this test`);
    // The module itself agrees on its values: the reading above missed nothing.
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(module).sort(), values);
  });
}

/** The modules of @platformatic/kafka a child process loads while importing `entry` (every resolution is seen, ESM and require alike). */
function kafkaModulesLoadedBy(entry: string): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
    await import(process.argv[1]);
    process.stdout.write(JSON.stringify(seen.filter((u) => u.includes('/@platformatic/kafka/'))));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(sourceOf(entry)).href], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

test('importing tidemark, tidemark/semantics, tidemark/testing or tidemark/dev-broker does not load the Kafka client', () => {
  for (const entry of ['.', './semantics', './testing', './dev-broker']) assert.deepEqual(kafkaModulesLoadedBy(entry), [], `${entry} loads @platformatic/kafka`);
});

test('importing tidemark/kafka loads the Kafka client (so the check above can see it)', () => {
  assert.ok(kafkaModulesLoadedBy('./kafka').length > 0);
});
