import { CowMap } from './_internals/cowMap.js';
import type { EventData, Side, TrailingStop, TrailingStopSpec } from '../events/index.js';
import { definedFields } from '../_internals/definedFields.js';

/*
 * The book's state: a discriminated union per position on `status`, plus the book-wide
 * facts the risk rules need. Archived positions leave the map, so an id can start a new
 * lifecycle and the book's memory follows what is live, not its history.
 */

interface PositionBase {
  id: string;
  symbol?: string;
  /** How the venue names it, when given explicitly (see {@link venueKeyOf}: absent reads as the symbol). */
  venueKey?: string;
  side: Side;
  setup?: string;
  /** Correlation group, resolved when tracked (the position's own, else the policy's map). */
  group?: string;
  attributes?: Record<string, string | number | boolean | null>;
  /** When the position entered its current status (ISO-8601). */
  since: string;
}

export interface WatchingPosition extends PositionBase {
  status: 'WATCHING';
  /** Last valuation while watched (Monitor). */
  value?: number;
}

export interface InPosition extends PositionBase {
  status: 'IN';
  origin: 'entered' | 'adopted';
  /** Entry value of what is still open. */
  costBasis: number;
  /** Current value of what is still open. */
  value: number;
  quantity?: number;
  price?: number;
  /** The stop loss: the risk is measured to it. */
  stop?: number;
  takeProfit?: number;
  /** The trailing stop and the best price it has seen (highest for a long, lowest for a short). */
  trailingStop?: TrailingStop;
  /** Open risk in money: |entry - stop| x quantity, or the whole cost basis without a stop. */
  risk: number;
  /** P&L already realized by partial exits in this lifecycle. */
  realizedPnl: number;
  /** Consecutive reconciliation looks that did not find it outside. */
  missedLooks: number;
}

export interface ExitedPosition extends PositionBase {
  status: 'EXITED';
  realizedPnl: number;
  /** How it left: closed by the bot, or cleared as a phantom by reconciliation. */
  closedBy: 'exit' | 'phantom';
}

export interface SkippedPosition extends PositionBase {
  status: 'SKIPPED';
  reason?: string;
}

export type Position = WatchingPosition | InPosition | ExitedPosition | SkippedPosition;

/**
 * The key reconciliation matches a position by on a netting or hedge account: its explicit
 * `venueKey`, else its symbol (positions written before venue keys read as their symbol);
 * undefined when it has neither.
 *
 * @example
 * ```ts
 * venueKeyOf({ symbol: 'BTC/USDT' }) // 'BTC/USDT'
 * ```
 */
export function venueKeyOf(p: Pick<Position, 'symbol' | 'venueKey'>): string | undefined {
  return p.venueKey ?? p.symbol;
}
export type PositionStatus = Position['status'];

/** What the idempotency window remembers of a command: where its events are, and what it was (absent for events written before fingerprints). */
export interface CommandRecord {
  from: number;
  to: number;
  fingerprint?: string;
}

export type CircuitBreaker =
  { status: 'OK' } | { status: 'TRIPPED'; trigger: 'daily_loss' | 'manual'; reason: string; since: string; until?: string };

/**
 * The recovery gate: `REQUIRED` from a RecoveryRequired until the next RecoveryAcknowledged.
 * A fact of the log, so every process that loads the book sees the same gate.
 */
export type RecoveryGate = { status: 'CLEAR' } | { status: 'REQUIRED'; mode: 'manual'; reason: string; since: string };

/** Where an order stands: PENDING_SUBMIT until the venue answers; the last four are finished. */
export type OrderStatus =
  'PENDING_SUBMIT' | 'OPEN' | 'PARTIALLY_FILLED' | 'FILLED' | 'PENDING_CANCEL' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

/** The statuses an order can leave only by the venue's word (a fill, a cancel, an expiry, a loss): it may still fill. */
export const LIVE_ORDER_STATUSES: ReadonlySet<OrderStatus> = new Set(['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL']);

/**
 * An order of the book, as its events left it (a value: replaced, never changed). Known by our
 * client order id from before it was sent; `externalOrderId` once the venue accepted it.
 */
export interface Order {
  clientOrderId: string;
  /** The signal id (else the command id) the order answers; its attempts share it. */
  orderKey: string;
  attempt: number;
  signalId?: string;
  positionId: string;
  symbol: string;
  side: 'buy' | 'sell';
  intent: 'entry' | 'reduce';
  orderType: 'market' | 'limit';
  quantity: number;
  limitPrice?: number;
  referencePrice?: number;
  stop?: number;
  takeProfit?: number;
  trailingStop?: TrailingStopSpec;
  status: OrderStatus;
  externalOrderId?: string;
  /** The sum of its fills' quantities. */
  filledQuantity: number;
  /** Quantity-weighted average price of its fills. */
  averagePrice?: number;
  /** The sum of its fills' fees. */
  fees: number;
  /** Its fills' trade ids, in the order they were recorded (a repeated report is recognised by them). */
  tradeIds: string[];
  /** Why it was rejected or canceled, when the venue or the caller said so. */
  reason?: string;
  requestedAt: string;
  updatedAt: string;
  /** Look-ups in a row by client order id that the venue answered "not found" (OrderLookedUp); absent when none. */
  missedLooks?: number;
  /** What it was when a cancel was requested (PENDING_CANCEL): whether the venue had accepted it, whether it had filled. */
  statusBeforeCancel?: 'PENDING_SUBMIT' | 'OPEN' | 'PARTIALLY_FILLED';
  /** `adopted`: placed outside the book and adopted (ExternalOrderAdopted), so the venue knows it by its venue id; absent for the book's own requests. */
  origin?: 'adopted';
  /** An adopted order's client order id at the venue, when the venue gave it one. */
  venueClientOrderId?: string;
}

/** Why and since when one side of a symbol is disabled. */
export interface SymbolBlock {
  reason: string;
  since: string;
}

/** The disabled sides of a symbol (a side absent is enabled). */
export interface SymbolControl {
  buy?: SymbolBlock;
  sell?: SymbolBlock;
}

/** What the book remembers of a processed signal: when, and the order it became. */
export interface SignalRecord {
  at: string;
  clientOrderId: string;
}

/** Settings that change how events fold (so they are part of the state and of its snapshot). */
export interface BookLimits {
  idempotencyWindow: number;
  timeZone: string;
}

export interface BookState {
  /** Revision of the last event folded in; -1 for a new book. */
  revision: number;
  limits: BookLimits;
  positions: CowMap<string, Position>;
  /** How many positions are IN. */
  open: number;
  /** Open positions per symbol. */
  openBySymbol: CowMap<string, number>;
  /** Open risk per correlation group. */
  groupRisk: CowMap<string, number>;
  /** Losing full exits in a row per symbol, on the day of the last one. */
  lossStreaks: CowMap<string, { day: string; count: number }>;
  /** Realized P&L of the day of the last exit. */
  today: { day: string; pnl: number };
  realizedPnl: number;
  breaker: CircuitBreaker;
  /** Symbol -> until (ISO-8601). */
  cooldowns: CowMap<string, string>;
  /** Orphans detected outside and not yet resolved (adopted or closed), by position id. */
  orphans: CowMap<string, { detectedAt: string; value: number }>;
  /** Open orders seen at the venue that the book never issued, not yet resolved (canceled), by venue id. */
  externalOrders: CowMap<string, ExternalOrderSeen>;
  /** Recent command ids -> the revisions their events took and the command's fingerprint (oldest first, bounded by the window). */
  commands: CowMap<string, CommandRecord>;
  /** Whether a startup recovery waits for an operator. */
  recovery: RecoveryGate;
  /** The orders of the book, by client order id, until their position is archived. */
  orders: CowMap<string, Order>;
  /** Derived from `orders`: order key -> its orders' client order ids, first attempt first. */
  orderKeys: CowMap<string, readonly string[]>;
  /** Derived from `orders`: position id -> its orders' client order ids. */
  positionOrders: CowMap<string, readonly string[]>;
  /** Derived from `orders`: the live ones (client order id -> position id). */
  liveOrders: CowMap<string, string>;
  /** Recent signal ids -> when they became which order (oldest first, bounded by the idempotency window). */
  signals: CowMap<string, SignalRecord>;
  /** When the last signal was processed. */
  lastSignalAt?: string;
  /**
   * How many orders the book has ever requested (OrderRequested events): the next order's number,
   * less one. Never goes down, archives included, so it numbers client order ids uniquely.
   */
  ordersRequested: number;
  /** Symbols with a disabled side, by symbol (kept until enabled again). */
  symbolControls: CowMap<string, SymbolControl>;
  lastHeartbeatAt?: string;
  lastReconciledAt?: string;
}

/**
 * What the venue showed of an order the book never issued: the facts of ExternalOrderDetected
 * (its venue id, the client order id the venue gave it if any, symbol, side, quantity, filled
 * quantity, price), without who recorded them. The book's memory of it and reconciliation's
 * report of it both start from these.
 */
export type ExternalOrderFacts = Omit<EventData<'ExternalOrderDetected'>, 'source' | 'runId'>;

/** An external order as the book remembers it (ExternalOrderDetected): its facts and when it was detected. */
export interface ExternalOrderSeen extends ExternalOrderFacts {
  detectedAt: string;
}

export const defaultLimits: BookLimits = { idempotencyWindow: 1_000, timeZone: 'UTC' };

/**
 * An empty book.
 *
 * @example
 * ```ts
 * const state = initialBookState({ idempotencyWindow: 500, timeZone: 'UTC' });
 * ```
 */
export function initialBookState(limits: BookLimits = defaultLimits): BookState {
  return {
    revision: -1,
    limits: { ...limits },
    positions: new CowMap(),
    open: 0,
    openBySymbol: new CowMap(),
    groupRisk: new CowMap(),
    lossStreaks: new CowMap(),
    today: { day: '', pnl: 0 },
    realizedPnl: 0,
    breaker: { status: 'OK' },
    recovery: { status: 'CLEAR' },
    cooldowns: new CowMap(),
    orphans: new CowMap(),
    externalOrders: new CowMap(),
    commands: new CowMap(),
    orders: new CowMap(),
    orderKeys: new CowMap(),
    positionOrders: new CowMap(),
    liveOrders: new CowMap(),
    signals: new CowMap(),
    ordersRequested: 0,
    symbolControls: new CowMap(),
  };
}

/**
 * A writable next state that shares the unchanged part of `state` (copy-on-write maps: about
 * O(sqrt n) for a book of n positions, not a copy of the book). `evolve` it, and leave `state`
 * as it was: that is what lets a state handed to a caller stay a value. `'scratch'` makes a
 * throw-away working copy in O(1) that must not itself be forked or handed out.
 *
 * @example
 * ```ts
 * const next = evolve(forkBookState(committed), event); // committed is unchanged
 * ```
 */
export function forkBookState(state: BookState, use: 'keep' | 'scratch' = 'keep'): BookState {
  // A scratch state (decided against, then dropped) only layers over the frozen one: O(1).
  const fork = <K, V>(map: CowMap<K, V>): CowMap<K, V> => (use === 'scratch' ? map.overlay() : map.fork());
  return {
    ...state,
    positions: fork(state.positions),
    openBySymbol: fork(state.openBySymbol),
    groupRisk: fork(state.groupRisk),
    lossStreaks: fork(state.lossStreaks),
    cooldowns: fork(state.cooldowns),
    orphans: fork(state.orphans),
    externalOrders: fork(state.externalOrders),
    commands: fork(state.commands),
    orders: fork(state.orders),
    orderKeys: fork(state.orderKeys),
    positionOrders: fork(state.positionOrders),
    liveOrders: fork(state.liveOrders),
    signals: fork(state.signals),
    symbolControls: fork(state.symbolControls),
  };
}

/**
 * Makes a state read-only, maps included (writing them throws a TypeError), before it is handed
 * out: a caller holding it sees it as it was, whatever comes next. Returns the same object.
 *
 * @example
 * ```ts
 * const shown = freezeBookState(state);
 * ```
 */
export function freezeBookState(state: BookState): BookState {
  for (const map of [
    state.positions,
    state.openBySymbol,
    state.groupRisk,
    state.lossStreaks,
    state.cooldowns,
    state.orphans,
    state.externalOrders,
    state.commands,
    state.orders,
    state.orderKeys,
    state.positionOrders,
    state.liveOrders,
    state.signals,
    state.symbolControls,
  ]) {
    map.freeze();
  }
  Object.freeze(state.today);
  Object.freeze(state.breaker);
  Object.freeze(state.recovery);
  Object.freeze(state.limits);
  return Object.freeze(state);
}

/** Version of the snapshot shape below; a snapshot of another version is ignored. */
export const BOOK_STATE_VERSION = 7;

/** JSON form of the state, for snapshots. */
export interface BookStateJson {
  revision: number;
  limits: BookLimits;
  positions: Position[];
  lossStreaks: [string, { day: string; count: number }][];
  today: { day: string; pnl: number };
  realizedPnl: number;
  breaker: CircuitBreaker;
  cooldowns: [string, string][];
  orphans: [string, { detectedAt: string; value: number }][];
  /** Absent in snapshots written before external orders were detected (their logs hold none). */
  externalOrders?: [string, ExternalOrderSeen][];
  commands: [string, CommandRecord][];
  orders: Order[];
  signals: [string, SignalRecord][];
  lastSignalAt?: string;
  ordersRequested: number;
  symbolControls: [string, SymbolControl][];
  /** Absent in snapshots written before the gate existed (their logs hold no RecoveryRequired). */
  recovery?: RecoveryGate;
  lastHeartbeatAt?: string;
  lastReconciledAt?: string;
}

export function bookStateToJson(state: BookState): BookStateJson {
  return {
    revision: state.revision,
    limits: state.limits,
    positions: [...state.positions.values()],
    lossStreaks: [...state.lossStreaks],
    today: state.today,
    realizedPnl: state.realizedPnl,
    breaker: state.breaker,
    cooldowns: [...state.cooldowns],
    orphans: [...state.orphans],
    externalOrders: [...state.externalOrders],
    commands: [...state.commands],
    orders: [...state.orders.values()],
    signals: [...state.signals],
    ordersRequested: state.ordersRequested,
    symbolControls: [...state.symbolControls],
    recovery: state.recovery,
    ...definedFields({
      lastHeartbeatAt: state.lastHeartbeatAt,
      lastReconciledAt: state.lastReconciledAt,
      lastSignalAt: state.lastSignalAt,
    }),
  };
}

/** Rebuilds the state from its JSON form; the derived indexes are recomputed, not trusted. */
export function bookStateFromJson(json: BookStateJson): BookState {
  const state = initialBookState(json.limits);
  state.revision = json.revision;
  for (const p of json.positions) {
    state.positions.set(p.id, Object.freeze(p));
    if (p.status === 'IN') addOpen(state, p);
  }
  state.lossStreaks = new CowMap(json.lossStreaks);
  state.today = json.today;
  state.realizedPnl = json.realizedPnl;
  state.breaker = json.breaker;
  state.cooldowns = new CowMap(json.cooldowns);
  state.orphans = new CowMap(json.orphans);
  state.externalOrders = new CowMap(json.externalOrders ?? []);
  state.commands = new CowMap(json.commands);
  for (const o of json.orders) putOrder(state, Object.freeze({ ...o, tradeIds: Object.freeze([...o.tradeIds]) as string[] }));
  state.signals = new CowMap(json.signals);
  state.ordersRequested = json.ordersRequested;
  state.symbolControls = new CowMap(json.symbolControls);
  if (json.lastSignalAt !== undefined) state.lastSignalAt = json.lastSignalAt;
  if (json.lastHeartbeatAt !== undefined) state.lastHeartbeatAt = json.lastHeartbeatAt;
  if (json.recovery !== undefined) state.recovery = json.recovery;
  if (json.lastReconciledAt !== undefined) state.lastReconciledAt = json.lastReconciledAt;
  return state;
}

/** Counts an IN position in the book-wide indexes. */
export function addOpen(state: BookState, p: InPosition): void {
  state.open += 1;
  if (p.symbol !== undefined) state.openBySymbol.set(p.symbol, (state.openBySymbol.get(p.symbol) ?? 0) + 1);
  if (p.group !== undefined) state.groupRisk.set(p.group, (state.groupRisk.get(p.group) ?? 0) + p.risk);
}

/** Removes an IN position from the book-wide indexes. */
export function removeOpen(state: BookState, p: InPosition): void {
  state.open -= 1;
  if (p.symbol !== undefined) {
    const n = (state.openBySymbol.get(p.symbol) ?? 1) - 1;
    if (n <= 0) state.openBySymbol.delete(p.symbol);
    else state.openBySymbol.set(p.symbol, n);
  }
  if (p.group !== undefined) adjustGroupRisk(state, p.group, -p.risk);
}

export function adjustGroupRisk(state: BookState, group: string, delta: number): void {
  const next = (state.groupRisk.get(group) ?? 0) + delta;
  if (Math.abs(next) < 1e-9) state.groupRisk.delete(group);
  else state.groupRisk.set(group, next);
}

/** Whether an order may still fill (see {@link LIVE_ORDER_STATUSES}). */
export function isLive(order: Order): boolean {
  return LIVE_ORDER_STATUSES.has(order.status);
}

/** Puts an order (a frozen value) in the state and keeps the derived order indexes in step. */
export function putOrder(state: BookState, order: Order): void {
  const id = order.clientOrderId;
  if (!state.orders.has(id)) {
    state.orderKeys.set(order.orderKey, Object.freeze([...(state.orderKeys.get(order.orderKey) ?? []), id]));
    state.positionOrders.set(order.positionId, Object.freeze([...(state.positionOrders.get(order.positionId) ?? []), id]));
  }
  state.orders.set(id, order);
  if (isLive(order)) state.liveOrders.set(id, order.positionId);
  else state.liveOrders.delete(id);
}

/** Removes a position's orders (it was archived) and their index entries. */
export function dropOrdersOf(state: BookState, positionId: string): void {
  const ids = state.positionOrders.get(positionId);
  if (ids === undefined) return;
  state.positionOrders.delete(positionId);
  for (const id of ids) {
    const order = state.orders.get(id);
    state.orders.delete(id);
    state.liveOrders.delete(id);
    if (order === undefined) continue;
    const rest = (state.orderKeys.get(order.orderKey) ?? []).filter((k) => k !== id);
    if (rest.length === 0) state.orderKeys.delete(order.orderKey);
    else state.orderKeys.set(order.orderKey, Object.freeze(rest));
  }
}

/**
 * The book's order a venue order is, if any: by the client order id it carries (first), else by
 * its venue id. An adopted order matches by its venue id (its key may be one the book derived).
 */
export function bookOrderOf(state: BookState, o: { clientOrderId?: string | undefined; externalOrderId: string }): Order | undefined {
  const byClient = o.clientOrderId === undefined ? undefined : state.orders.get(o.clientOrderId);
  if (byClient !== undefined) return byClient;
  for (const ours of state.orders.values()) if (ours.externalOrderId === o.externalOrderId) return ours;
  return undefined;
}
