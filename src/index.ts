/**
 * tidemark: deterministic event-time stream processing.
 *
 * @example
 * import { StreamsBuilder, Serdes, Extractors, Application, EmbeddedLog } from 'tidemark';
 */
export type { Headers, LogRecord, StreamRecord, ConsumedRecord } from './records/record.ts';
export { describePosition } from './records/record.ts';
export { Serdes, jsonSerde, stringSerde, bytesSerde, DeserializationError, type Serde } from './records/serde.ts';
export { Extractors, type TimestampExtractor, type ExtractionInput } from './time/extractor.ts';
export { resolveTimestamp, type InvalidTimestampPolicy, type TimestampResolution } from './time/invalid-timestamp-policy.ts';
export { isValidTimestamp, NO_TIMESTAMP } from './time/timestamp.ts';
export { advanceStreamTime, isOutOfOrder } from './time/stream-time.ts';
export { systemClock, ManualClock, type Clock } from './time/clock.ts';
export { Watermarks, NO_WATERMARK, MAX_WATERMARK, advanceWatermark, combineWatermarks, boundedOutOfOrdernessWatermark, type WatermarkGenerator, type WatermarkStrategy } from './time/watermark.ts';
export { producersWatermark, type WatermarkReport } from './time/producer-watermarks.ts';
export { eventClockNow, isTimerDue, type EventClock } from './time/event-clock.ts';
export { PartitionBuffer } from './scheduling/partition-buffer.ts';
export { compareHeads, decideNext, oldestHead, type SchedulingDecision } from './scheduling/scheduler.ts';
export type { KeyValueStore, StoreDefinition, StoreKind } from './state/key-value-store.ts';
export { Application, type RunOptions, type RunSummary, type RunMode, type Progress, type StartPosition } from './runtime/application.ts';
export type { Processor, ProcessorContext, Forwarded } from './runtime/processor.ts';
export type { Timer, TimerDomain, TimerService } from './runtime/timers.ts';
export type { TraceEvent } from './runtime/trace.ts';
export { StreamProducer, type ProducerIdentity } from './runtime/producer.ts';
export { watermarkRecord, readWatermarkRecord, watermarkRecordKind } from './runtime/watermark-record.ts';
export type { Topology } from './runtime/topology.ts';
export { TaskMigratedError, assignTasks, type TaskGroup, type TaskAssignment, type GroupMember } from './runtime/task-group.ts';
export type { Log, TaskStorage, AppendRecord, AuditEntry, TaskCheckpoint } from './runtime/log.ts';
export { BadInputError, ProcessingError } from './runtime/input-failure.ts';
export { PRODUCER_HEADER, DEAD_LETTER_HEADERS } from './runtime/headers.ts';
export { fingerprintStream, fingerprintPartitions } from './runtime/fingerprint.ts';
export { murmur2, partitionForKey, toPositive } from './runtime/partitioner.ts';
export { StreamsBuilder, type SourceOptions, type TopologyOptions } from './dsl/stream-builder.ts';
export { KStream, BranchedStream, type SinkOptions, type RepartitionOptions } from './dsl/kstream.ts';
export { keyValueStore } from './dsl/stores.ts';
export { KGroupedStream, TimeWindowedKStream, SessionWindowedKStream, type AggregateOptions, type WindowedAggregateOptions } from './dsl/grouped-stream.ts';
export { TimeWindows, timeWindowsFor } from './windows/time-windows.ts';
export { SlidingWindows, slidingWindowsOf, leftWindow, rightWindow } from './windows/sliding-windows.ts';
export { SessionWindows, joinsSession, sessionCloseEnd, mergeSessions, type Session } from './windows/session-windows.ts';
export { isWindowClosed, isLateRecord, isWindowFired, fireDelay } from './windows/lateness.ts';
export { alignedStart, floorMod, resultTimestamp, type TimeWindow, type Windowed } from './windows/window.ts';
export type { EmitStrategy, LatePolicy } from './windows/emission.ts';
export { EmbeddedLog, type EmbeddedLogOptions } from './connectors/embedded/embedded-log.ts';
export { MemoryLog } from './connectors/memory/memory-log.ts';
export { KafkaLog, kafkaTopics, type KafkaLogOptions } from './connectors/kafka/kafka-log.ts';
export { KafkaTaskGroup, type KafkaTaskGroupOptions } from './connectors/kafka/kafka-task-group.ts';
