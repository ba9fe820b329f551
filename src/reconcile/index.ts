export { ClosedPosition, ExternalPosition, guardExternal, PositionMode } from './externalSystem.js';
export { checkPositionKeys, resolvePositionMode } from './positionMode.js';
export { capabilitiesOf } from './externalSystem.js';
export type {
  ClosePositionOptions,
  ExternalCallOptions,
  ExternalCapabilities,
  ExternalSystem,
  GuardedExternal,
  GuardOptions,
  ExternalCallObserver,
  ExternalOperation,
  PositionLook,
  SubmitOrderOptions,
} from './externalSystem.js';
export {
  ExternalFill,
  ExternalOrder,
  ExternalOrderAck,
  ExternalOrderRequest,
  ExternalOrderSide,
  ExternalOrderStatus,
  cancelRefOf,
  lookupRefOf,
} from './externalOrders.js';
export type { CancelOrderRef, ExternalOrderRef, ListFillsQuery, SubmitOutcome } from './externalOrders.js';
export { recordVenueOrder, inferredTradeId } from './orderOutcome.js';
export type { OrderRecord } from './orderOutcome.js';
export { resolveInFlightOrders } from './resolveOrders.js';
export { detectExternalOrders, externalClientOrderId, isBookOrder } from './detectExternalOrders.js';
export type { DetectExternalOrdersOptions, ExternalOrderFinding, ExternalOrderPolicy } from './detectExternalOrders.js';
export type { OrderLossPolicy, OrderResolution, OrderResolutionReport, ResolveOrdersOptions } from './resolveOrders.js';
export { ReconcilePolicy, policyFor } from './policy.js';
export type { ReconcilePolicyInput } from './policy.js';
export { planReconciliation, confirmedPhantom } from './plan.js';
export type {
  ExternalSnapshot,
  ReconciliationPlan,
  PlannedAction,
  OrphanFinding,
  PhantomFinding,
  DriftFinding,
  Alert,
  PlanPolicy,
  LocalStatus,
} from './plan.js';
export { reconcile } from './reconcile.js';
export type { ReconcileOptions, ReconcileReport, ReconcileError } from './reconcile.js';
export { deliverAlert } from './alerts.js';
export type { AlertSink } from './alerts.js';
export { scheduleReconciliation } from './scheduler.js';
export type { SchedulerOptions, SchedulerStatus, ReconcileScheduler } from './scheduler.js';
export { recoverOnStartup } from './recovery.js';
export type { RecoveryMode, RecoveryOptions, RecoveryOutcome } from './recovery.js';
export { healOrphans } from './healOrphans.js';
export type { HealOrphansOptions, HealOrphansReport } from './healOrphans.js';
export { MemoryAdapter } from './MemoryAdapter.js';
export type { MemoryAdapterOptions } from './MemoryAdapter.js';
export { SimulatedExchange } from './simulatedExchange.js';
export type { SimulatedExchangeOptions, SimulatedExchangeState, SimInjection, FaultRates } from './simulatedExchange.js';
export type { HandOrder, OrderFaultKind, OrderFaults, SimFill, SimOrder, SimOrderState, SimRejection } from './simulatedOrders.js';

// for other folders of src; not public
export { ReconcileEverySeconds } from './scheduler.js';
export { reasonFrom } from './orderOutcome.js';
