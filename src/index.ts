/**
 * tidemark: deterministic event-time stream processing. This entry holds
 * what a topology and its run need: the DSL (streams and tables), the application, the embedded
 * and in-memory logs, serdes, timestamp extractors, watermark strategies,
 * window definitions, low-level processors and the interfaces a connector
 * implements. Kafka lives in `tidemark/kafka`, the test driver in
 * `tidemark/testing`, the pure rules of event time in `tidemark/semantics`.
 *
 * @example
 * import { StreamsBuilder, Serdes, Extractors, Application, EmbeddedLog } from 'tidemark';
 *
 * @module tidemark
 */

// Records and serdes.
export type { Headers, LogRecord, StreamRecord, ConsumedRecord } from './records/record.ts';
export { Serdes, DeserializationError, SerializationError, type Serde } from './records/serde.ts';

// Time: extractors, clocks, watermark strategies.
export { Extractors, type TimestampExtractor, type ExtractionInput } from './time/extractor.ts';
export type { InvalidTimestampPolicy } from './time/invalid-timestamp-policy.ts';
export { systemClock, ManualClock, type Clock } from './time/clock.ts';
export { Watermarks, type WatermarkGenerator, type WatermarkStrategy, type WatermarkStrategyWithIdleness } from './time/watermark.ts';
export type { EventClock } from './time/event-clock.ts';

// The DSL.
export { StreamsBuilder, type SourceOptions, type TableOptions, type TopologyOptions } from './dsl/stream-builder.ts';
export { KStream, BranchedStream, type SinkOptions, type RepartitionOptions, type Predicate } from './dsl/kstream.ts';
export { KGroupedStream, TimeWindowedKStream, SessionWindowedKStream, type AggregateOptions, type WindowedAggregateOptions, type Aggregator } from './dsl/grouped-stream.ts';
export { KTable } from './dsl/ktable.ts';
export { KGroupedTable, type TableAggregateOptions } from './dsl/grouped-table.ts';
export { keyValueStore } from './dsl/stores.ts';
export type { KeyValueStore, StoreDefinition, StoreKind, StateBackend, StateWrite } from './state/key-value-store.ts';
export type { OrderedStore } from './state/ordered-store.ts';
export { KeptValue, type StoredValue } from './state/kept-value.ts';
export type { Topology } from './runtime/topology.ts';

// Windows.
export { TimeWindows } from './windows/time-windows.ts';
export { SlidingWindows } from './windows/sliding-windows.ts';
export { SessionWindows } from './windows/session-windows.ts';
export type { TimeWindow, Windowed } from './windows/window.ts';
export type { EmitStrategy, LatePolicy } from './windows/emission.ts';

// Low-level processors: process().
export type { Processor, ProcessorContext, Forwarded } from './runtime/processor.ts';
export type { Timer, TimerDomain, TimerService } from './runtime/timers.ts';

// Running a topology.
export { Application, type RunOptions, type RunSummary, type RunMode, type Progress, type StartPosition, type QueryableStore } from './runtime/application.ts';
export type { RunObservation, TaskObservation, InputObservation, OperatorObservation, LateObservation, ProducerHolder } from './runtime/observation.ts';
export { createMetrics, type Metrics } from './runtime/metrics.ts';
export { serveObservability, type HttpOptions, type ObservabilityServer, type TopologyPictureNode } from './runtime/observe-server.ts';
export {
  DIAGNOSTICS_CHANNELS,
  type RecordLateMessage,
  type WindowFiredMessage,
  type WatermarkAdvancedMessage,
  type CommitMessage,
  type AuditMessage,
  type TaskMessage,
  type RestoreMessage,
} from './runtime/diagnostics.ts';
export type { ReadOnlyKeyValueStore } from './runtime/store-views.ts';
export { BEYOND_HISTORY, type ReadOnlyVersionedStore, type VersionedRecord } from './state/versioned-store.ts';
export type { TraceEvent, TraceEventBase, LogPosition } from './runtime/trace.ts';
export type { AuditListener, AuditKind } from './runtime/audit.ts';
export type { WatermarkHolder } from './time/producer-watermarks.ts';
export { StreamProducer, type ProducerIdentity, type ProducerOptions } from './runtime/producer.ts';
export { fingerprintStream, fingerprintPartitions } from './runtime/fingerprint.ts';
export {
  describeTopology,
  formatTopologyText,
  formatTopologyMermaid,
  type TopologyDescription,
  type SubTopologyDescription,
  type NodeDescription,
  type StoreDescription,
  type InternalStreamDescription,
  type DescribeOptions,
} from './runtime/describe-topology.ts';
export { verifyApplication, type VerifyOptions, type VerifyReport, type StreamVerdict, type PartitionVerdict, type ReplayedInput } from './runtime/verify.ts';
export { PRODUCER_HEADER, DEAD_LETTER_HEADERS } from './runtime/headers.ts';

// Errors a caller catches.
export { BadInputError, ProcessingError, type InputFailure } from './runtime/input-failure.ts';
export { TaskMigratedError, type TaskGroup, type TaskAssignment, type GroupMember } from './runtime/task-group.ts';

// Logs, and the interfaces a connector implements.
export type { Log, TaskStorage, AppendRecord, AuditEntry, TaskCheckpoint, InputPosition, CommitUnit } from './runtime/log.ts';
export type { GroupCatchUpState } from './runtime/group-catch-up.ts';
export type { RunPlan } from './runtime/run-plan.ts';
export { EmbeddedLog, type EmbeddedLogOptions } from './connectors/embedded/embedded-log.ts';
export { DataDirError } from './connectors/embedded/data-file.ts';
export { MemoryLog } from './connectors/memory/memory-log.ts';

// Stream–stream joins.
export { JoinWindows } from './joins/join-windows.ts';
export type { StreamJoinOptions } from './dsl/stream-join.ts';
export type { LatestValueJoinOptions, StreamTableJoinOptions } from './dsl/stream-table-join.ts';
export type { TableJoinOptions } from './dsl/table-join.ts';
export type { TableJoinKind } from './joins/table-table.ts';
export type { ForeignKeyJoinOptions } from './dsl/foreign-key-join.ts';
export type { ForeignKeyJoinKind } from './joins/foreign-key.ts';
