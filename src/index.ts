/**
 * position-tracker: the public API. Anything not exported here is private.
 */
export * from './errors/index.js';
export { ExitCode, exitCodeOf } from './cli/exitCodes.js';
export * from './events/index.js';
export * from './store/index.js';
export * from './commands/index.js';
export * from './config/index.js';
export * from './tracker/index.js';
export * from './reconcile/index.js';
export * from './projections/index.js';
export * from './testing/index.js';
export { createLogger, silentLogger } from './log.js';
export type { Logger } from './log.js';
