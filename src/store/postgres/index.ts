export { PostgresEventStore } from './PostgresEventStore.js';
export type { PostgresEventStoreOptions } from './PostgresEventStore.js';
export { parsePostgresConnectionString, splitPostgresPassword, validateSchemaName, DEFAULT_SCHEMA } from './connectionString.js';
export type { PostgresConnection } from './connectionString.js';
export { dropPostgresTradeLog } from './dropTradeLog.js';
