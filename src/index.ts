/**
 * position-tracker: the public API. Anything not exported here is private.
 *
 * Each name is listed: a folder's index.ts may also export names other folders of src need, and those stay private.
 */
export {
  ConcurrencyError, CorruptionError, type ErrorCode, EventSchemaError, ExternalError, type ExternalFailure,
  InvalidTransitionError, NotFoundError, RecoveryPendingError, RiskLimitError, type RiskRule, StoreError,
  type StoreErrorCode, StoreUnavailableError, TrackerError, UnexpectedStoreError, ValidationError,
} from './errors/index.js';
export { ExitCode, exitCodeOf } from './cli/index.js';
export {
  Attributes, BookId, bookOfStream, bookStream, CircuitBreakerReset, CircuitBreakerTripped, CONTROL_CHARACTERS,
  CooldownStarted, CURRENT_SCHEMA_VERSION, defaultCodec, DriftCorrected, DurationSeconds, type EncodedEvent,
  EventCodec, type EventCodecOptions, type EventData, eventDataSchemas, EventMetadata, EventMetadataInput,
  type EventPosition, type EventType, eventTypes, Heartbeat, isEventType, IsoTime, MAX_DURATION_SECONDS, MAX_TIMER_MS,
  Money, type NewEvent, NO_CONTROLS_MESSAGE, NonNegative, OrphanAdopted, OrphanClosed, OrphanDetected, PhantomCleared,
  PhantomDismissed, PhantomSuspected, PositionArchived, PositionEntered, PositionExited, PositionId, PositionSkipped,
  PositionTracked, PositionValued, PositiveDurationSeconds, Quantity, Reason, ReconciliationCompleted,
  type RecordedEvent, type RecordedEventOf, RecoveryAcknowledged, RecoveryRequired, Side, Source, StoredPositionId,
  type StoredRow, StoredSymbolCode, STREAM_PREFIX, SymbolCode, Tag, TimerMs, type TradeEvent, type Upcaster,
  withoutControls,
} from './events/index.js';
export {
  type AppendOptions, type AppendResult, DEFAULT_PAGE, type EsdbConnection, type EventStore, EventStoreDbStore,
  type EventStoreDbStoreOptions, type ExpectedRevision, type FileCheck, FollowedStore, followReplacedFile,
  type LogHead, MAX_PAGE, MemoryEventStore, type MemoryEventStoreOptions, type MigrateOptions, type MigrateProgress,
  type MigrateReport, migrateStore, type MigrationConflict, MigrationConflictError, openStore, type OpenStoreOptions,
  parseEsdbConnectionString, parsePostgresConnectionString, parseStoreSpec, type PostgresConnection,
  PostgresEventStore, type PostgresEventStoreOptions, readAllEvents, type ReadAllOptions, type ReadStreamOptions,
  readWholeStream, type Snapshot, SqliteEventStore, type SqliteEventStoreOptions, type StoreSpec,
  type SubscribeOptions, verifyLog, type VerifyProblem, type VerifyProblemKind, type VerifyReport,
} from './store/index.js';
export {
  AcknowledgeRecovery, AdoptOrphan, allowedWhileRecoveryPending, Archive, BOOK_SNAPSHOT_VERSION, BOOK_STATE_VERSION,
  bookDecider, type BookDecider, bookFromSnapshot, type BookLimits, BookPolicy, type BookPolicyInput,
  type BookSnapshotCheck, type BookState, bookStateFromJson, type BookStateJson, BookStateJsonSchema, bookStateToJson,
  breakerActive, checkBookSnapshot, type CircuitBreaker, ClearPhantom, CloseOrphan, Command, CommandHandler,
  type CommandHandlerOptions, type CommandInput, type CommandOf, type CommandResult, type CommandType, commandTypes,
  CompleteReconciliation, CorrectDrift, dayKey, decide, type DecideContext, type DecidedEvent, type Decider,
  decodeBookSnapshot, type DecodedBookSnapshot, defaultLimits, defaultPolicy, DetectOrphan, DismissPhantom,
  encodeBookSnapshot, Enter, evolve, Exit, type ExitedPosition, type FoldableEvent, forkBookState, freezeBookState,
  groupOf, groupOfSymbol, type HandleOptions, type HandlerLogger, Hold, initialBookState, type InPosition, Monitor,
  parseCommand, pnlOf, type Position, positionRisk, type PositionStatus, RecordHeartbeat, type RecoveryGate,
  recoveryPending, repairBookSnapshots, type RepairedSnapshot, RequireRecovery, ResetCircuitBreaker, Skip,
  type SkippedPosition, StartCooldown, SuspectPhantom, Track, TripCircuitBreaker, type WatchingPosition,
} from './commands/index.js';
export {
  CONFIG_FILE, defaultConfigText, loadConfig, type LoadedConfig, parseConfigText, policyOf, TrackerConfig,
  type TrackerConfigInput,
} from './config/index.js';
export {
  acceptLogAsItIs, type CallOptions, compat, highWaterMarkPathOf, LEGACY_ACTIONS, type LegacyAction,
  type LegacyTracker, openTracker, type OpenTrackerOptions, parseReplayPoint, replayAt, type ReplayOptions,
  type ReplayPoint, type ReplayResult, type RiskSummary, type Tracker, type TrackerRecoveryOptions, type TrackerResult,
} from './tracker/index.js';
export {
  type Alert, type AlertSink, confirmedPhantom, deliverAlert, type DriftFinding, type ExternalCallOptions,
  ExternalPosition, type ExternalSnapshot, type ExternalSystem, type FaultRates, type GuardedExternal, guardExternal,
  type GuardOptions, type LocalStatus, type OrphanFinding, type PhantomFinding, type PlannedAction, type PlanPolicy,
  planReconciliation, policyFor, reconcile, type ReconcileError, type ReconcileOptions, ReconcilePolicy,
  type ReconcilePolicyInput, type ReconcileReport, type ReconcileScheduler, type ReconciliationPlan, recoverOnStartup,
  type RecoveryMode, type RecoveryOptions, type RecoveryOutcome, scheduleReconciliation, type SchedulerOptions,
  type SchedulerStatus, SimulatedExchange, type SimulatedExchangeOptions, type SimulatedExchangeState,
} from './reconcile/index.js';
export {
  type AnyProjection, type AuditBook, type BookStageReader, type AuditData, auditProjection, type AuditState, type AuditTotals,
  booksInReadModels, type BreakerView, canonicalJson, checkRegression, createProjections, type CurvePoint,
  decodeDocument, documentChecksum, type DocumentLoad, type DrawdownBand, type DriftRecord, encodeDocument,
  type EquityBook, type EquityData, equityProjection, type EquityState, EventRef, type ExposureRow, type FileStamp,
  foldProjection, LogRegressionError, type MaxDrawdown, type OrphanEpisode, type PerformanceData,
  performanceProjection, type PerformanceState, type PeriodStats, type PhantomEpisode, type PortfolioBook,
  type PortfolioData, type PortfolioPosition, portfolioProjection, type PortfolioState, type PortfolioTotals,
  type PreparedDocument, type ProjectedExtent, type Projection, type ProjectionAlert, type ProjectionLogger,
  ProjectionOptions, type ProjectionOptionsInput, projectionOptionsOf, type ProjectionsHandle, type ProjectionsStatus,
  type ProjectionStatus, projectionVersion, READ_MODEL_NAMES, type ReadModelDocument, type ReadModelName,
  ReadModelOptions, ReadModelStore, type RebuildOptions, type RebuildProgress, rebuildReadModels, type RebuildResult,
  type ReconciliationRecord, type RegressionDetail, type RiskBook, type RiskData, riskProjection, type RiskState,
  type RunnerLifecycle, type RunnerState, type SetupPerformance, type SetupSums, startProjections,
  type StartProjectionsOptions,
} from './projections/index.js';
export { deciderSpec, type DeciderSpecOptions, type GivenEvent } from './testing/index.js';
export { createLogger, silentLogger, type Logger } from './log.js';
