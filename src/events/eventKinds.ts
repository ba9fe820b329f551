import type { RecordedEvent } from './envelope.js';
import type { EventType } from './schemas.js';

/*
 * What each event of the log is about, in one table, for the readers that sort the log (the
 * orders read model, `ptrack` printing what a command appended): a new event type fails to
 * compile until it is given a kind here.
 */

/**
 * What an event is about: `position` (a position's lifecycle), `order` (one of the book's orders,
 * named by its `clientOrderId`: requested or adopted, and what the venue said of it), `externalOrder`
 * (an order at the venue the book never issued, not yet the book's), `reconcile` (what
 * reconciliation found of positions and did with them, and its runs), `rules` (breaker, cooldowns, symbol controls)
 * and `process` (heartbeats, recovery).
 */
export type EventKind = 'position' | 'order' | 'externalOrder' | 'reconcile' | 'rules' | 'process';

/**
 * The kind of every event type.
 *
 * @example
 * ```ts
 * eventKinds.OrderFilled; // 'order'
 * ```
 */
export const eventKinds: Readonly<Record<EventType, EventKind>> = Object.freeze({
  PositionTracked: 'position',
  PositionEntered: 'position',
  PositionValued: 'position',
  PositionExited: 'position',
  PositionSkipped: 'position',
  PositionArchived: 'position',
  PositionIncreased: 'position',
  ProtectionSet: 'position',
  OrderRequested: 'order',
  OrderAccepted: 'order',
  OrderRejected: 'order',
  OrderFilled: 'order',
  OrderCancelRequested: 'order',
  OrderCanceled: 'order',
  OrderExpired: 'order',
  OrderLost: 'order',
  OrderLookedUp: 'order',
  ExternalOrderAdopted: 'order',
  ExternalOrderDetected: 'externalOrder',
  ExternalOrderCanceled: 'externalOrder',
  OrphanDetected: 'reconcile',
  OrphanAdopted: 'reconcile',
  OrphanClosed: 'reconcile',
  PhantomSuspected: 'reconcile',
  PhantomDismissed: 'reconcile',
  PhantomCleared: 'reconcile',
  DriftCorrected: 'reconcile',
  ReconciliationCompleted: 'reconcile',
  CircuitBreakerTripped: 'rules',
  CircuitBreakerReset: 'rules',
  CooldownStarted: 'rules',
  SymbolDisabled: 'rules',
  SymbolEnabled: 'rules',
  Heartbeat: 'process',
  RecoveryRequired: 'process',
  RecoveryAcknowledged: 'process',
});

/** An event about one of the book's orders (kind `order`): it names the order by `clientOrderId`. */
export type OrderEvent = RecordedEvent & { data: { clientOrderId: string } };

/**
 * Whether an event is about one of the book's orders (see {@link eventKinds}).
 *
 * @example
 * ```ts
 * if (isOrderEvent(event)) console.log(event.data.clientOrderId);
 * ```
 */
export function isOrderEvent(event: RecordedEvent): event is OrderEvent {
  return eventKinds[event.type] === 'order';
}
