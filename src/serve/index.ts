/** The daemon `ptrack serve`: HTTP API, server-sent events, the dashboard's files, metrics. */
export { startServer, isLoopback } from './startServer.js';
export type { StartServerOptions, ServerHandle, GuardState, RecoveryInfo, ServeLogger } from './startServer.js';
export type { ApiEvent } from './events.js';
export type { BookReadModel } from './readModels.js';
