/**
 * position-tracker: the public API. Anything not exported here is private.
 */
export * from './errors/index.js';
export * from './events/index.js';
export * from './store/index.js';
