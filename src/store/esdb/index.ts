export { EventStoreDbStore } from './EventStoreDbStore.js';
export type { EventStoreDbStoreOptions } from './EventStoreDbStore.js';
export { parseEsdbConnectionString, ESDB_EXPECTED } from './connectionString.js';
export type { EsdbConnection, EsdbEndpoint } from './connectionString.js';
export { mapEsdbError, isUnavailable } from './errors.js';
export type { EsdbErrorContext } from './errors.js';
export {
  toSafeNumber,
  toPublicPosition,
  fromPublicPosition,
  comparePositions,
  toRevision,
  toEsdbExpectedRevision,
  fromEsdbActualRevision,
  fromEsdbExpectedRevision,
  NO_POSITION,
} from './positions.js';
export type { EsdbPosition, EsdbExpectedRevision } from './positions.js';
export { resilientSubscription, backoffDelay } from './resilientSubscription.js';
export type { SubscriptionSource, ResilientSubscriptionOptions, BackoffOptions, RetryInfo } from './resilientSubscription.js';
export { preflight } from './preflight.js';
