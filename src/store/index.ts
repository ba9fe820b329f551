export type {
  EventStore,
  ExpectedRevision,
  AppendOptions,
  AppendResult,
  ReadStreamOptions,
  ReadAllOptions,
  SubscribeOptions,
  LogHead,
  Snapshot,
} from './port.js';
export { DEFAULT_PAGE, MAX_PAGE } from './port.js';
export { MemoryEventStore } from './MemoryEventStore.js';
export type { MemoryEventStoreOptions } from './MemoryEventStore.js';
export { SqliteEventStore } from './SqliteEventStore.js';
export type { SqliteEventStoreOptions } from './SqliteEventStore.js';
export { openStore, parseStoreSpec } from './openStore.js';
export type { StoreSpec, OpenStoreOptions } from './openStore.js';
export { readAllEvents, readWholeStream } from './iterate.js';
export { EventStoreDbStore, parseEsdbConnectionString } from './esdb/index.js';
export type { EventStoreDbStoreOptions, EsdbConnection } from './esdb/index.js';
export { migrateStore, MigrationConflictError } from './migrate.js';
export type { MigrateOptions, MigrateProgress, MigrateReport, MigrationConflict } from './migrate.js';
export { verifyLog } from './verify.js';
export type { VerifyReport, VerifyProblem, VerifyProblemKind } from './verify.js';
// The snapshot check lives with the handler's snapshots (src/commands/snapshotRepair.ts); named here too, where verify uses it.
export { checkBookSnapshot } from '../commands/index.js';
export type { BookSnapshotCheck } from '../commands/index.js';
export { followReplacedFile, FollowedStore } from './followReplacedFile.js';
export type { FileCheck } from './followReplacedFile.js';
export { PostgresEventStore, parsePostgresConnectionString } from './postgres/index.js';
export type { PostgresEventStoreOptions, PostgresConnection } from './postgres/index.js';

// for other folders of src; not public
export { resolveStoreSpec } from './openStore.js';
export { dropPostgresTradeLog, splitPostgresPassword } from './postgres/index.js';
