export { openTracker } from './openTracker.js';
export type { Tracker, OpenTrackerOptions, CallOptions, TrackerResult, RiskSummary, TrackerRecoveryOptions } from './openTracker.js';
export { acceptLogAsItIs, highWaterMarkPathOf } from './highWaterMark.js';
export { compat, LEGACY_ACTIONS } from './compat.js';
export type { LegacyTracker, LegacyAction } from './compat.js';
export { replayAt, parseReplayPoint } from './replay.js';
export type { ReplayOptions, ReplayResult, ReplayPoint } from './replay.js';
export { SubmitOrderRequest } from './orderGateway.js';
export type { OrderOutcome, OrderGateway } from './orderGateway.js';
