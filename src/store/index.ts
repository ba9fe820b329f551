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
