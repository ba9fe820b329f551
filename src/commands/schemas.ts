import { z } from 'zod';
import {
  Attributes,
  ClientOrderId,
  ExternalId,
  IsoTime,
  OrderIntent,
  OrderType,
  SymbolControlSide,
  TrailingStopSpec,
  NonNegative,
  PositiveDurationSeconds,
  PositionId,
  Quantity,
  Reason,
  Side,
  SymbolCode,
  Tag,
  VenueKey,
  withoutControls,
} from '../events/index.js';

/*
 * Commands: imperative, `{ type, ...fields }`, each with an optional `commandId` for
 * idempotency. One zod schema per command is the single definition of its shape.
 */

const CommandId = withoutControls(z.string().min(1).max(200)).optional();
const Seconds = PositiveDurationSeconds;

/** Start watching a position (WATCHING). */
export const Track = z.strictObject({
  type: z.literal('Track'),
  commandId: CommandId,
  positionId: PositionId,
  symbol: SymbolCode.optional(),
  /** How the venue names the position (matched with its `symbol` on netting/hedge accounts); default: the symbol. */
  venueKey: VenueKey.optional(),
  side: Side.default('long'),
  setup: Tag.optional(),
  group: Tag.optional(),
  attributes: Attributes.optional(),
});

/** Enter a watched position (WATCHING -> IN). `value` is the notional value at entry. */
export const Enter = z.strictObject({
  type: z.literal('Enter'),
  commandId: CommandId,
  positionId: PositionId,
  /** How the venue names the position (matched with its `symbol` on netting/hedge accounts); default: the one it was tracked with, else the symbol. */
  venueKey: VenueKey.optional(),
  value: NonNegative,
  quantity: Quantity.optional(),
  price: NonNegative.optional(),
  /** The stop loss; the position's risk is measured to it. */
  stop: NonNegative.optional(),
  takeProfit: NonNegative.optional(),
  /** Trails the best price from the entry price on (which it then needs: `price`, or value / quantity). */
  trailingStop: TrailingStopSpec.optional(),
});

/**
 * Track and enter a position in one command (UNKNOWN -> IN): decided as a Track, then an Enter
 * against the book the Track left, so the same rules refuse it with the same messages; its
 * PositionTracked and PositionEntered are appended together in one append, or nothing is.
 */
export const Open = z.strictObject({
  ...Track.shape,
  ...Enter.shape,
  type: z.literal('Open'),
});

/** A fresh valuation of an open position (IN -> IN). `value` is the whole position's value. */
export const Hold = z.strictObject({
  type: z.literal('Hold'),
  commandId: CommandId,
  positionId: PositionId,
  value: NonNegative,
  price: NonNegative.optional(),
});

/** A valuation of a watched position (WATCHING -> WATCHING): the seed API's MONITOR. */
export const Monitor = z.strictObject({
  type: z.literal('Monitor'),
  commandId: CommandId,
  positionId: PositionId,
  value: NonNegative,
  price: NonNegative.optional(),
});

/**
 * Close all or part of an open position. `value` is the whole position's current value;
 * the closed part is `fraction` of it (or `quantity` of the open quantity). Default: all.
 */
export const Exit = z
  .strictObject({
    type: z.literal('Exit'),
    commandId: CommandId,
    positionId: PositionId,
    value: NonNegative,
    fraction: z.number().finite().gt(0, 'must be greater than 0').lte(1, 'must be at most 1').optional(),
    quantity: Quantity.optional(),
    price: NonNegative.optional(),
    reason: Reason.optional(),
  })
  .refine((c) => c.fraction === undefined || c.quantity === undefined, {
    message: 'give fraction or quantity, not both',
    path: ['fraction'],
  });

/** Pass over a watched position (WATCHING -> SKIPPED). */
export const Skip = z.strictObject({
  type: z.literal('Skip'),
  commandId: CommandId,
  positionId: PositionId,
  reason: Reason.optional(),
});

/** Take a position found open outside into the book (unknown or archived -> IN). */
export const AdoptOrphan = z.strictObject({
  type: z.literal('AdoptOrphan'),
  commandId: CommandId,
  positionId: PositionId,
  value: NonNegative,
  symbol: SymbolCode.optional(),
  /** How the venue names the position (matched with its `symbol` on netting/hedge accounts); default: the symbol. */
  venueKey: VenueKey.optional(),
  side: Side.default('long'),
  quantity: Quantity.optional(),
  price: NonNegative.optional(),
  setup: Tag.optional(),
  group: Tag.optional(),
  reason: Reason.optional(),
});

/**
 * Archive finished positions. Without `positionId`: every EXITED, SKIPPED (and WATCHING,
 * when `watchTimeoutSeconds` is set) position whose timeout has passed. With it: that one
 * position now, whatever its age (not an IN one).
 */
export const Archive = z.strictObject({
  type: z.literal('Archive'),
  commandId: CommandId,
  positionId: PositionId.optional(),
});

/** Stop new entries until `seconds` from now (or until reset when omitted). */
export const TripCircuitBreaker = z.strictObject({
  type: z.literal('TripCircuitBreaker'),
  commandId: CommandId,
  reason: Reason,
  seconds: Seconds.optional(),
});

export const ResetCircuitBreaker = z.strictObject({
  type: z.literal('ResetCircuitBreaker'),
  commandId: CommandId,
  reason: Reason.optional(),
});

/** Refuse entries on `symbol` for `seconds`. */
export const StartCooldown = z.strictObject({
  type: z.literal('StartCooldown'),
  commandId: CommandId,
  symbol: SymbolCode,
  seconds: Seconds,
  reason: Reason.optional(),
});

/*
 * Reconciliation's commands: the reconciler writes through the decider like everyone else,
 * so a plan carried out against a book that moved since is refused, not applied blindly.
 */
const RunId = withoutControls(z.string().min(1).max(200));

/** Record an orphan seen outside (idempotent while it stays unresolved). */
export const DetectOrphan = z.strictObject({
  type: z.literal('DetectOrphan'),
  commandId: CommandId,
  positionId: PositionId,
  value: NonNegative,
  symbol: SymbolCode.optional(),
  side: Side.optional(),
  quantity: Quantity.optional(),
  price: NonNegative.optional(),
  runId: RunId.optional(),
  /** The venue's open time of the position, when it gives one. */
  openedAt: IsoTime.optional(),
});

/** Record that an orphan was closed outside (by us, or found gone). */
export const CloseOrphan = z.strictObject({
  type: z.literal('CloseOrphan'),
  commandId: CommandId,
  positionId: PositionId,
  value: NonNegative,
  symbol: SymbolCode.optional(),
  reason: Reason.optional(),
});

/** An IN position was missing outside for `looks` consecutive looks. */
export const SuspectPhantom = z.strictObject({
  type: z.literal('SuspectPhantom'),
  commandId: CommandId,
  positionId: PositionId,
  looks: z.number().int().positive(),
  runId: RunId.optional(),
  /** The venue's close time of the position, when a direct look gave one. */
  closedAt: IsoTime.optional(),
});

/** A suspected phantom was seen outside again. */
export const DismissPhantom = z.strictObject({
  type: z.literal('DismissPhantom'),
  commandId: CommandId,
  positionId: PositionId,
});

/**
 * Close a confirmed phantom locally at its last known value: all of it, or only `quantity` of it
 * (what a netting account is short of; the rest stays IN). A quantity of all it holds clears it whole.
 */
export const ClearPhantom = z.strictObject({
  type: z.literal('ClearPhantom'),
  commandId: CommandId,
  positionId: PositionId,
  looks: z.number().int().nonnegative(),
  quantity: Quantity.optional(),
  reason: Reason,
  /** The venue's close time of the position, when a direct look gave one. */
  closedAt: IsoTime.optional(),
});

/** Set an IN position's value (and quantity) to what the outside system says. */
export const CorrectDrift = z.strictObject({
  type: z.literal('CorrectDrift'),
  commandId: CommandId,
  positionId: PositionId,
  externalValue: NonNegative,
  externalQuantity: Quantity.optional(),
  tolerance: z.number().finite().nonnegative().optional(),
});

const Count = z.number().int().nonnegative();

/** Append a reconciliation run's report to the log (the audit trail). */
export const CompleteReconciliation = z.strictObject({
  type: z.literal('CompleteReconciliation'),
  commandId: CommandId,
  runId: RunId,
  startedAt: z.iso.datetime({ offset: true }),
  snapshotAt: z.iso.datetime({ offset: true }).optional(),
  counts: z.strictObject({ orphans: Count, phantoms: Count, drift: Count, corrected: Count, alerts: Count, errors: Count }),
  report: z.record(z.string(), z.unknown()),
});

/** Open the recovery gate: refuse what moves positions or risk until an operator acknowledges. */
export const RequireRecovery = z.strictObject({
  type: z.literal('RequireRecovery'),
  commandId: CommandId,
  mode: z.enum(['manual']).default('manual'),
  reason: Reason,
  process: z.string().min(1).max(200).optional(),
});

/** An operator's acknowledgement of a pending recovery (`ptrack recover --ack`). */
export const AcknowledgeRecovery = z.strictObject({
  type: z.literal('AcknowledgeRecovery'),
  commandId: CommandId,
  reason: Reason.optional(),
});

/** Proof of life. */
export const RecordHeartbeat = z.strictObject({
  type: z.literal('RecordHeartbeat'),
  commandId: CommandId,
  process: z.string().min(1).max(200).optional(),
});

/*
 * Orders. RequestOrder decides an order before it is sent (the risk rules run here, for
 * entries); the Record* commands write down what the venue said about it. Ids that come from
 * outside (signal, venue order, trade) are bounded and free of control characters.
 */

/**
 * Ask for an order on a position: `entry` opens (WATCHING, or an unknown position given its
 * `symbol` and `side`, tracked in the same batch) or grows it (IN); `reduce` closes part of an
 * IN position and never opens risk. `signalId` (else `commandId`) is the order's key: its
 * attempts share it and the client order id is derived from it. An entry's value for the risk
 * rules is quantity x (limitPrice, else referencePrice).
 */
export const RequestOrder = z
  .strictObject({
    type: z.literal('RequestOrder'),
    commandId: CommandId,
    signalId: ExternalId.optional(),
    positionId: PositionId,
    intent: OrderIntent,
    quantity: Quantity,
    orderType: OrderType.default('market'),
    limitPrice: Quantity.optional(),
    referencePrice: Quantity.optional(),
    symbol: SymbolCode.optional(),
    /** The position's side, for a position the book does not know yet (default long). */
    side: Side.optional(),
    /** The entry's protective stop (the position's stop once it fills). */
    stop: NonNegative.optional(),
    takeProfit: NonNegative.optional(),
    trailingStop: TrailingStopSpec.optional(),
  })
  .refine((c) => c.orderType !== 'limit' || c.limitPrice !== undefined, {
    message: 'a limit order needs a limitPrice',
    path: ['limitPrice'],
  })
  .refine((c) => c.orderType !== 'market' || c.limitPrice === undefined, {
    message: 'a market order takes no limitPrice (give referencePrice, or orderType limit)',
    path: ['limitPrice'],
  })
  .refine((c) => c.intent === 'entry' || (c.stop === undefined && c.takeProfit === undefined && c.trailingStop === undefined), {
    message: 'protection (stop, takeProfit, trailingStop) belongs to an entry order, not a reduce order',
    path: ['stop'],
  });

/**
 * Change an IN position's protection: a field given replaces it, `null` removes it, a field left
 * out stays. A new trailing stop trails from the position's last price (else its average entry).
 */
export const SetProtection = z.strictObject({
  type: z.literal('SetProtection'),
  commandId: CommandId,
  positionId: PositionId,
  stop: NonNegative.nullable().optional(),
  takeProfit: NonNegative.nullable().optional(),
  trailingStop: TrailingStopSpec.nullable().optional(),
});

/** The venue accepted the order and named it `externalOrderId`. */
export const RecordOrderAccepted = z.strictObject({
  type: z.literal('RecordOrderAccepted'),
  commandId: CommandId,
  clientOrderId: ClientOrderId,
  externalOrderId: ExternalId,
});

/** The venue refused the order: only for an answer that proves it was not accepted. */
export const RecordOrderRejected = z.strictObject({
  type: z.literal('RecordOrderRejected'),
  commandId: CommandId,
  clientOrderId: ClientOrderId,
  reason: Reason,
});

/** A fill (trade) of an order, by the venue's trade id; a trade id already recorded changes nothing. */
export const RecordFill = z.strictObject({
  type: z.literal('RecordFill'),
  commandId: CommandId,
  clientOrderId: ClientOrderId,
  tradeId: ExternalId,
  quantity: Quantity,
  price: Quantity,
  fee: NonNegative.default(0),
  inferred: z.boolean().default(false),
  filledAt: IsoTime.optional(),
});

/** Ask for an order to be canceled (PENDING_CANCEL), before the cancel is sent. */
export const CancelOrder = z.strictObject({
  type: z.literal('CancelOrder'),
  commandId: CommandId,
  clientOrderId: ClientOrderId,
  reason: Reason.optional(),
});

/** The venue canceled the order (its fills stay). */
export const RecordOrderCanceled = z.strictObject({
  type: z.literal('RecordOrderCanceled'),
  commandId: CommandId,
  clientOrderId: ClientOrderId,
  reason: Reason.optional(),
});

/** The order expired at the venue (its fills stay). */
export const RecordOrderExpired = z.strictObject({
  type: z.literal('RecordOrderExpired'),
  commandId: CommandId,
  clientOrderId: ClientOrderId,
});

/** The venue does not know the order after `looks` looks and a direct look-up: resolve it from its state. */
export const RecordOrderLost = z.strictObject({
  type: z.literal('RecordOrderLost'),
  commandId: CommandId,
  clientOrderId: ClientOrderId,
  looks: z.number().int().positive(),
  reason: Reason,
});

/** Disable buying, selling or both on a symbol, with a reason: orders on that side are refused until enabled. */
export const DisableSymbol = z.strictObject({
  type: z.literal('DisableSymbol'),
  commandId: CommandId,
  symbol: SymbolCode,
  side: SymbolControlSide,
  reason: Reason,
});

/** Enable buying, selling or both on a symbol again (default both). */
export const EnableSymbol = z.strictObject({
  type: z.literal('EnableSymbol'),
  commandId: CommandId,
  symbol: SymbolCode,
  side: SymbolControlSide.default('both'),
});

/** Record one look-up of an in-flight order by client order id: not found (one more look in a row) or found (the count ends). */
export const RecordOrderLook = z.strictObject({
  type: z.literal('RecordOrderLook'),
  commandId: CommandId,
  clientOrderId: ClientOrderId,
  found: z.boolean(),
});

/** Record an open order seen at the venue that this book never issued (idempotent while it stays unresolved). */
export const DetectExternalOrder = z.strictObject({
  type: z.literal('DetectExternalOrder'),
  commandId: CommandId,
  externalOrderId: ExternalId,
  clientOrderId: ExternalId.optional(),
  symbol: SymbolCode,
  side: z.enum(['buy', 'sell']),
  quantity: Quantity,
  filledQuantity: NonNegative,
  price: NonNegative.optional(),
  runId: RunId.optional(),
});

/** Record that reconciliation canceled a detected external order at the venue. */
export const RecordExternalOrderCanceled = z.strictObject({
  type: z.literal('RecordExternalOrderCanceled'),
  commandId: CommandId,
  externalOrderId: ExternalId,
  filledQuantity: NonNegative,
  runId: RunId.optional(),
});

/**
 * Make a detected external order the book's own (policy `adopt`): what the venue shows of it now.
 * An entry order (the default) is for the position the venue names (`positionId`), else one of its
 * own, tracked with an id derived from the venue order id; a `reduceOnly` one is for the position
 * the venue names, else the one IN position of its symbol on the side it closes. Adopting
 * records what is already true at the venue: no risk rule refuses it (its live part counts toward
 * the caps from then on, like any live entry order). Adopting it again appends nothing.
 */
export const AdoptExternalOrder = z.strictObject({
  type: z.literal('AdoptExternalOrder'),
  commandId: CommandId,
  externalOrderId: ExternalId,
  /** The client order id the venue gave it, if any. */
  clientOrderId: ExternalId.optional(),
  /** The venue's id of the position it trades, when the venue names one; default: `adoptedPositionId(externalOrderId)` for an entry, the one IN position it closes for a reduce-only order. */
  positionId: PositionId.optional(),
  symbol: SymbolCode,
  side: z.enum(['buy', 'sell']),
  quantity: Quantity,
  /** Default: `limit` when it has a limitPrice, else `market`. */
  orderType: z.enum(['market', 'limit']).optional(),
  limitPrice: Quantity.optional(),
  /** The venue's average fill price so far, when it filled. */
  price: NonNegative.optional(),
  reduceOnly: z.boolean().default(false),
  reason: Reason.optional(),
  runId: RunId.optional(),
});

export const Command = z.discriminatedUnion('type', [
  Track,
  Enter,
  Hold,
  Monitor,
  Exit,
  Skip,
  AdoptOrphan,
  Archive,
  TripCircuitBreaker,
  ResetCircuitBreaker,
  StartCooldown,
  DetectOrphan,
  CloseOrphan,
  SuspectPhantom,
  DismissPhantom,
  ClearPhantom,
  CorrectDrift,
  CompleteReconciliation,
  RecordHeartbeat,
  RequireRecovery,
  AcknowledgeRecovery,
  RequestOrder,
  RecordOrderAccepted,
  RecordOrderRejected,
  RecordFill,
  CancelOrder,
  RecordOrderCanceled,
  RecordOrderExpired,
  RecordOrderLost,
  DisableSymbol,
  EnableSymbol,
  RecordOrderLook,
  SetProtection,
  DetectExternalOrder,
  RecordExternalOrderCanceled,
  AdoptExternalOrder,
  Open,
]);
export type Command = z.infer<typeof Command>;
export type CommandInput = z.input<typeof Command>;
export type CommandType = Command['type'];
export const commandTypes: readonly CommandType[] = Command.options.map((o) => o.shape.type.value);
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
