import { z } from 'zod';
import {
  Attributes,
  IsoTime,
  Money,
  NonNegative,
  StoredPositionId as PositionId,
  Quantity,
  Reason,
  Side,
  Source,
  StoredClientOrderId as ClientOrderId,
  StoredExternalId as ExternalId,
  StoredSymbolCode as SymbolCode,
  StoredVenueKey as VenueKey,
  Tag,
  TrailingStop,
  TrailingStopSpec,
} from './primitives.js';

/*
 * The trade log's vocabulary. Each schema is the single definition of an event's data;
 * types come from z.infer. Objects are strict: an auditor a year later must find exactly
 * what was written, so unknown fields are refused at append time rather than dropped.
 *
 * Values are notional values in the book's currency (always >= 0, also for shorts);
 * P&L is signed. Names follow the issue, except PositionValued (the Hold) which
 * says what happened rather than what was asked.
 */

/** A position is being watched: not yet entered. */
export const PositionTracked = z.strictObject({
  positionId: PositionId,
  symbol: SymbolCode.optional(),
  /** How the venue names it (netting/hedge matching); absent: its symbol. */
  venueKey: VenueKey.optional(),
  side: Side,
  setup: Tag.optional(),
  group: Tag.optional(),
  attributes: Attributes.optional(),
  source: Source,
});

/** A watched position was entered. `value` is the notional value at entry (the cost basis). */
export const PositionEntered = z.strictObject({
  positionId: PositionId,
  symbol: SymbolCode.optional(),
  /** How the venue names it (netting/hedge matching); absent: its symbol. */
  venueKey: VenueKey.optional(),
  side: Side,
  value: NonNegative,
  quantity: Quantity.optional(),
  price: NonNegative.optional(),
  /** The stop loss: the position's risk is measured to it. */
  stop: NonNegative.optional(),
  takeProfit: NonNegative.optional(),
  trailingStop: TrailingStop.optional(),
  source: Source,
});

/** A fresh valuation of an open position (the Hold command). */
export const PositionValued = z.strictObject({
  positionId: PositionId,
  value: NonNegative,
  price: NonNegative.optional(),
  source: Source,
});

/**
 * All or part of an open position was closed. `fraction` is the part of what was open
 * that was closed (1 = all). `value` is what the closed part was worth; `costBasis` the
 * entry value of that part; `realizedPnl` the signed result.
 */
export const PositionExited = z.strictObject({
  positionId: PositionId,
  symbol: SymbolCode.optional(),
  side: Side,
  fraction: z.number().finite().gt(0).lte(1),
  quantity: Quantity.optional(),
  value: NonNegative,
  price: NonNegative.optional(),
  costBasis: NonNegative,
  realizedPnl: Money,
  full: z.boolean(),
  reason: Reason.optional(),
  source: Source,
});

/** A watched position was passed over. */
export const PositionSkipped = z.strictObject({
  positionId: PositionId,
  reason: Reason.optional(),
  source: Source,
});

/** A finished (or stale) position left the book; its id can start a new lifecycle. */
export const PositionArchived = z.strictObject({
  positionId: PositionId,
  from: z.enum(['WATCHING', 'EXITED', 'SKIPPED']),
  reason: z.enum(['timeout', 'manual']),
  source: Source,
});

/** Reconciliation saw a position open outside that the book does not hold as IN. */
export const OrphanDetected = z.strictObject({
  positionId: PositionId,
  symbol: SymbolCode.optional(),
  side: Side.optional(),
  quantity: Quantity.optional(),
  price: NonNegative.optional(),
  value: NonNegative,
  runId: z.string().min(1).optional(),
  /** When the venue says the position opened (its own timestamp), when it says: the leak's start. */
  openedAt: IsoTime.optional(),
  source: Source,
});

/** An orphan was taken into the book as IN. */
export const OrphanAdopted = z.strictObject({
  positionId: PositionId,
  symbol: SymbolCode.optional(),
  /** How the venue names it (netting/hedge matching); absent: its symbol. */
  venueKey: VenueKey.optional(),
  side: Side,
  value: NonNegative,
  quantity: Quantity.optional(),
  price: NonNegative.optional(),
  setup: Tag.optional(),
  group: Tag.optional(),
  reason: Reason.optional(),
  source: Source,
});

/** An orphan was closed in the outside system. */
export const OrphanClosed = z.strictObject({
  positionId: PositionId,
  symbol: SymbolCode.optional(),
  value: NonNegative,
  reason: Reason.optional(),
  source: Source,
});

/** An IN position was not seen outside; `looks` counts consecutive misses. */
export const PhantomSuspected = z.strictObject({
  positionId: PositionId,
  looks: z.number().int().positive(),
  value: NonNegative.optional(),
  runId: z.string().min(1).optional(),
  /** When the venue says it closed the position (a direct look answered "closed at"), when it says. */
  closedAt: IsoTime.optional(),
  source: Source,
});

/** A suspected phantom was seen outside again: the count of missed looks starts over. */
export const PhantomDismissed = z.strictObject({
  positionId: PositionId,
  /** How many looks had missed it before it was seen again. */
  looks: z.number().int().positive(),
  runId: z.string().min(1).optional(),
  source: Source,
});

/**
 * A confirmed phantom was removed from the book (closed at its last known value). `value`,
 * `costBasis` and `realizedPnl` are those of the part cleared: with `fraction` (< 1, and the
 * `quantity` it stands for) only that part of the position, which stays IN with the rest (a
 * netting account holding less than the book); absent, all of it (every event before partial clears).
 */
export const PhantomCleared = z.strictObject({
  positionId: PositionId,
  symbol: SymbolCode.optional(),
  fraction: z.number().finite().gt(0).lt(1).optional(),
  quantity: Quantity.optional(),
  value: NonNegative,
  costBasis: NonNegative,
  realizedPnl: Money,
  looks: z.number().int().nonnegative(),
  reason: Reason,
  /** When the venue says it closed the position, when it says. */
  closedAt: IsoTime.optional(),
  source: Source,
});

/** Local value/size was corrected to the outside system's. */
export const DriftCorrected = z.strictObject({
  positionId: PositionId,
  localValue: NonNegative,
  externalValue: NonNegative,
  localQuantity: Quantity.optional(),
  externalQuantity: Quantity.optional(),
  tolerance: z.number().finite().nonnegative().optional(),
  source: Source,
});

const Count = z.number().int().nonnegative();

/** The audit record of one reconciliation run. */
export const ReconciliationCompleted = z.strictObject({
  runId: z.string().min(1),
  startedAt: IsoTime,
  completedAt: IsoTime,
  snapshotAt: IsoTime.optional(),
  counts: z.strictObject({
    orphans: Count,
    phantoms: Count,
    drift: Count,
    corrected: Count,
    alerts: Count,
    errors: Count,
  }),
  report: z.record(z.string(), z.unknown()),
  source: Source,
});

/** New commands that open risk are refused until `until` (or a reset). */
export const CircuitBreakerTripped = z.strictObject({
  trigger: z.enum(['daily_loss', 'manual']),
  reason: Reason,
  until: IsoTime.optional(),
  dailyPnl: Money.optional(),
  limit: Money.optional(),
  source: Source,
});

export const CircuitBreakerReset = z.strictObject({
  reason: Reason.optional(),
  source: Source,
});

/** Entries on `symbol` are refused until `until`. */
export const CooldownStarted = z.strictObject({
  symbol: SymbolCode,
  until: IsoTime,
  reason: Reason.optional(),
  source: Source,
});

/** Proof of life written by a running tracker; startup recovery reads its age. */
export const Heartbeat = z.strictObject({
  at: IsoTime,
  process: z.string().min(1).max(200).optional(),
  source: Source,
});

/**
 * A start in manual recovery mode: the book waits for an operator. From here until a
 * RecoveryAcknowledged, the decider refuses every command that moves positions or loosens risk.
 */
export const RecoveryRequired = z.strictObject({
  /** The startup recovery mode that asked for it (only `manual` does today). */
  mode: z.enum(['manual']),
  reason: Reason,
  /** The process that started and is now waiting. */
  process: z.string().min(1).max(200).optional(),
  source: Source,
});

/** An operator checked the book and let it go on: the pending recovery is over. */
export const RecoveryAcknowledged = z.strictObject({
  reason: Reason.optional(),
  source: Source,
});

/**
 * A later entry fill grew an IN position: `quantity` more at `price`, worth `value`
 * (quantity x price; added to the cost basis). The first entry fill of a position is a
 * PositionEntered; a reduce fill is a PositionExited.
 */
export const PositionIncreased = z.strictObject({
  positionId: PositionId,
  quantity: Quantity,
  value: NonNegative,
  price: NonNegative,
  source: Source,
});

/*
 * Orders: an instruction sent outside, recorded before it is sent (OrderRequested, with our
 * deterministic client order id), then what the venue said about it. Fills move positions.
 */

/** The order side as the venue sees it. */
export const OrderSide = z.enum(['buy', 'sell']);
/** What an order does to its position: open or grow it (`entry`), or close part of it (`reduce`, reduce-only). */
export const OrderIntent = z.enum(['entry', 'reduce']);
export const OrderType = z.enum(['market', 'limit']);

/**
 * An order was decided and is about to be sent (PENDING_SUBMIT): appended before the outside
 * call. `orderKey` is the signal id (else the command id) it answers, `attempt` counts the
 * orders of that key, and `clientOrderId` is derived from the book, the key and the attempt.
 */
export const OrderRequested = z.strictObject({
  clientOrderId: ClientOrderId,
  orderKey: ExternalId,
  attempt: z.number().int().positive(),
  /** The bot's signal id, when the order answers one (then also the orderKey). */
  signalId: ExternalId.optional(),
  positionId: PositionId,
  symbol: SymbolCode,
  side: OrderSide,
  intent: OrderIntent,
  orderType: OrderType,
  quantity: Quantity,
  limitPrice: Quantity.optional(),
  /** The price the entry's risk was judged at (a market order's expected price). */
  referencePrice: Quantity.optional(),
  /** The entry's protective stop: the position's stop (and risk) once it fills. */
  stop: NonNegative.optional(),
  /** The entry's take profit and trailing stop (its high water is set by the first fill's price). */
  takeProfit: NonNegative.optional(),
  trailingStop: TrailingStopSpec.optional(),
  source: Source,
});

/** The venue took the order (OPEN) and named it. */
export const OrderAccepted = z.strictObject({
  clientOrderId: ClientOrderId,
  externalOrderId: ExternalId,
  source: Source,
});

/** The venue refused the order: a definitive refusal only (a timeout or a lost answer is no rejection). */
export const OrderRejected = z.strictObject({
  clientOrderId: ClientOrderId,
  reason: Reason,
  source: Source,
});

/**
 * A fill (a trade) of an order, known by the venue's `tradeId`. `inferred` fills were computed
 * from the order's status when no trade report exists (their tradeId is derived, so a restart
 * infers the same one). `fee` is in the book's currency.
 */
export const OrderFilled = z.strictObject({
  clientOrderId: ClientOrderId,
  tradeId: ExternalId,
  quantity: Quantity,
  price: Quantity,
  fee: NonNegative,
  inferred: z.boolean(),
  /** When the venue says the trade happened (ISO-8601), when it says so. */
  filledAt: IsoTime.optional(),
  source: Source,
});

/** A cancel was asked for (PENDING_CANCEL) and is about to be sent. */
export const OrderCancelRequested = z.strictObject({
  clientOrderId: ClientOrderId,
  reason: Reason.optional(),
  source: Source,
});

/** The venue canceled the order; `filledQuantity` is what the book knew filled by then (the fills stay). */
export const OrderCanceled = z.strictObject({
  clientOrderId: ClientOrderId,
  filledQuantity: z.number().finite().nonnegative(),
  reason: Reason.optional(),
  source: Source,
});

/** The order ran out of time at the venue (its time in force); its fills stay. */
export const OrderExpired = z.strictObject({
  clientOrderId: ClientOrderId,
  filledQuantity: z.number().finite().nonnegative(),
  source: Source,
});

/**
 * The venue does not know an in-flight order after the grace window, `looks` looks and a
 * direct look-up: it is resolved as `resolution` (REJECTED when it never filled, CANCELED
 * keeping its fills when it partly filled), which the decider picks from the order's state.
 */
export const OrderLost = z.strictObject({
  clientOrderId: ClientOrderId,
  looks: z.number().int().positive(),
  resolution: z.enum(['REJECTED', 'CANCELED']),
  reason: Reason,
  source: Source,
});

/** Which side of a symbol's trading a control covers. */
export const SymbolControlSide = z.enum(['buy', 'sell', 'both']);

/** Buying, selling or both were disabled on `symbol`: orders on that side are refused (with the reason) until enabled. */
export const SymbolDisabled = z.strictObject({
  symbol: SymbolCode,
  side: SymbolControlSide,
  reason: Reason,
  source: Source,
});

/** Buying, selling or both were enabled again on `symbol`. */
export const SymbolEnabled = z.strictObject({
  symbol: SymbolCode,
  side: SymbolControlSide,
  source: Source,
});

/**
 * A look-up of an in-flight order by its client order id: `found` false counts a look that said
 * "not found" (`looks` in a row, this one included), `found` true ends the count. The count is in
 * the log so that the next process continues it: an order is declared lost only after enough of
 * them (see OrderLost).
 */
export const OrderLookedUp = z.strictObject({
  clientOrderId: ClientOrderId,
  found: z.boolean(),
  looks: z.number().int().nonnegative(),
  source: Source,
});

/**
 * The protection of an IN position after a SetProtection: its stop loss (`stop`, which its risk
 * is measured to), take profit and trailing stop, each absent when there is none. The tracker
 * records and reports them; the bot or the venue enforces them.
 */
export const ProtectionSet = z.strictObject({
  positionId: PositionId,
  stop: NonNegative.optional(),
  takeProfit: NonNegative.optional(),
  trailingStop: TrailingStop.optional(),
  source: Source,
});

/**
 * Reconciliation saw an open order at the venue that this book never issued (its client order id,
 * or else its venue id, is not one of the book's orders): placed by hand, or by another program.
 * Recorded once while it stays unresolved; `clientOrderId` is the one the venue gave it, if any.
 */
export const ExternalOrderDetected = z.strictObject({
  externalOrderId: ExternalId,
  clientOrderId: ExternalId.optional(),
  symbol: SymbolCode,
  side: z.enum(['buy', 'sell']),
  quantity: Quantity,
  filledQuantity: NonNegative,
  price: NonNegative.optional(),
  runId: z.string().min(1).optional(),
  source: Source,
});

/** A detected external order was canceled at the venue by reconciliation (policy `cancel`); it is resolved. */
export const ExternalOrderCanceled = z.strictObject({
  externalOrderId: ExternalId,
  filledQuantity: NonNegative,
  runId: z.string().min(1).optional(),
  source: Source,
});

/**
 * A detected external order became the book's own (policy `adopt`): created in the book as OPEN at
 * the venue, with the venue's ids, for `positionId` (an entry's position is tracked first, its id
 * derived from the venue id; a reduce-only order is for the one IN position it can close). Its fills
 * so far and later are recorded as any order's (OrderFilled), and the in-flight resolution follows
 * it by its venue id. `clientOrderId` is the book's key for it: the venue's client order id when it
 * gave one that fits, else one derived from the venue id; `venueClientOrderId` is the venue's own.
 */
export const ExternalOrderAdopted = z.strictObject({
  clientOrderId: ClientOrderId,
  venueClientOrderId: ExternalId.optional(),
  externalOrderId: ExternalId,
  positionId: PositionId,
  symbol: SymbolCode,
  side: OrderSide,
  intent: OrderIntent,
  orderType: OrderType,
  quantity: Quantity,
  limitPrice: Quantity.optional(),
  /** The price its risk is judged at while it is live: the venue's average fill price, else its limit price. */
  referencePrice: Quantity.optional(),
  reason: Reason.optional(),
  runId: z.string().min(1).optional(),
  source: Source,
});

/** Every event type of the trade log, by name. */
export const eventDataSchemas = {
  PositionTracked,
  PositionEntered,
  PositionValued,
  PositionExited,
  PositionSkipped,
  PositionArchived,
  OrphanDetected,
  OrphanAdopted,
  OrphanClosed,
  PhantomSuspected,
  PhantomDismissed,
  PhantomCleared,
  DriftCorrected,
  ReconciliationCompleted,
  CircuitBreakerTripped,
  CircuitBreakerReset,
  CooldownStarted,
  Heartbeat,
  RecoveryRequired,
  RecoveryAcknowledged,
  PositionIncreased,
  OrderRequested,
  OrderAccepted,
  OrderRejected,
  OrderFilled,
  OrderCancelRequested,
  OrderCanceled,
  OrderExpired,
  OrderLost,
  SymbolDisabled,
  SymbolEnabled,
  OrderLookedUp,
  ProtectionSet,
  ExternalOrderDetected,
  ExternalOrderCanceled,
  ExternalOrderAdopted,
} as const;

export type EventType = keyof typeof eventDataSchemas;
export const eventTypes = Object.keys(eventDataSchemas) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventDataSchemas, type);
}
