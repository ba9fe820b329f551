export { openTracker } from './openTracker.js';
export type { Tracker, OpenTrackerOptions, CallOptions, TrackerResult, RiskSummary, TrackerRecoveryOptions } from './openTracker.js';
export { acceptLogAsItIs, highWaterMarkPathOf } from './highWaterMark.js';
export { compat, LEGACY_ACTIONS, openLegacyTracker } from './compat.js';
export type {
  CompatOptions,
  LegacyAction,
  LegacyCleanupResult,
  LegacyOrphan,
  LegacyReconcileResult,
  LegacyTracker,
  OpenLegacyTrackerOptions,
} from './compat.js';
export { replayAt, parseReplayPoint } from './replay.js';
export type { ReplayOptions, ReplayResult, ReplayPoint } from './replay.js';
export { SubmitOrderRequest } from './orderGateway.js';
export type { OrderOutcome, OrderGateway } from './orderGateway.js';
