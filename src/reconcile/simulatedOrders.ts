/*
 * The simulated exchange's orders: it accepts them (or refuses them, definitively), fills market
 * orders at once and limit orders when the price crosses, moves the positions by the fills, and
 * injects the order faults a real venue shows (a lost acknowledgement, an order not found yet,
 * a fill reported twice, a fill listed before the order's status moves, a partial fill then a
 * cancel, a restart between the submit and its answer). Transport faults (errors, timeouts, rate
 * limits, garbled answers) and latency stay in simulatedExchange.ts, which owns this book.
 */

import { ExternalError } from '../errors/index.js';
import type { SeededRandom } from '../_internals/random.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import {
  ExternalId,
  ExternalOrderRequest,
  LIVE_ORDER_STATUSES,
  type CancelOrderRef,
  type ExternalOrderRef,
  type ExternalOrderStatus,
  type ListFillsQuery,
} from './externalOrders.js';

/**
 * Probabilities (0..1) of the order faults, rolled per order (per fill for `duplicateFill`) with
 * the exchange's seed; `forceOrderFault(kind)` makes the next order (or fill) have one for sure.
 */
export interface OrderFaults {
  /** The order is placed, then its answer is lost: the submit fails as a timeout or a lost connection. */
  lostAck: number;
  /** The order (and its fills) is not found by getOrder, listOpenOrders, listFills or cancelOrder for `notFoundSeconds`. */
  notFound: number;
  /** A fill is listed twice by listFills. */
  duplicateFill: number;
  /** When the order fills, listFills shows the fills while getOrder and listOpenOrders show it as before them, for `staleSeconds`. */
  fillBeforeStatus: number;
  /** The order fills only in part, then the venue cancels the rest. */
  partialThenCancel: number;
  /** The order is placed and the exchange restarts before it answers: `onRestartBeforeAck` gets the state, then the submit fails. */
  restartBeforeAck: number;
}
/** The name of one order fault, as `forceOrderFault(kind)` takes it: `exchange.forceOrderFault('lostAck')`. */
export type OrderFaultKind = keyof OrderFaults;

/** Every order fault off: what an exchange starts with unless `orderFaults` says otherwise. */
export const NO_ORDER_FAULTS: OrderFaults = {
  lostAck: 0,
  notFound: 0,
  duplicateFill: 0,
  fillBeforeStatus: 0,
  partialThenCancel: 0,
  restartBeforeAck: 0,
};

/** What an order's status looked like to the outside while its status lags its fills. */
interface OrderView {
  status: ExternalOrderStatus;
  filledQuantity: number;
  averagePrice?: number;
}

/** An order as the simulated exchange keeps it (JSON-safe). */
export interface SimOrder {
  clientOrderId: string;
  externalOrderId: string;
  positionId: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit';
  quantity: number;
  limitPrice?: number;
  reduceOnly: boolean;
  filledQuantity: number;
  averagePrice?: number;
  status: ExternalOrderStatus;
  createdAt: string;
  updatedAt: string;
  /** Not found by the read calls before this time (the `notFound` fault). */
  hiddenUntil?: string;
  /** The fault `fillBeforeStatus` was rolled for it: its first fills leave `stale` visible until `staleUntil`. */
  statusLags?: boolean;
  stale?: OrderView & { until: string };
  /** The fault `partialThenCancel` was rolled for it. */
  cutShort?: boolean;
  /** Placed by hand (placeByHand) without a client order id: the venue lists it without one (its key here is `clientOrderId`, never shown). */
  anonymous?: boolean;
}

/** A resting limit order placed at the venue by hand (not through the port), as placeByHand takes it. */
export interface HandOrder {
  symbol: string;
  side: 'buy' | 'sell';
  quantity: number;
  limitPrice: number;
  /** The client order id the person's tool gave it; absent, the venue lists it with none. */
  clientOrderId?: string;
}

/** A fill (trade) as the simulated exchange keeps it. */
export interface SimFill {
  tradeId: string;
  externalOrderId: string;
  clientOrderId: string;
  quantity: number;
  price: number;
  fee: number;
  at: string;
  /** listFills reports it twice (the `duplicateFill` fault). */
  reportedTwice: boolean;
}

/** A submit the exchange refused (nothing was placed). */
export interface SimRejection {
  clientOrderId: string;
  reason: string;
  at: string;
}

/** The order side of the exchange's state (JSON-safe). */
export interface SimOrderState {
  orders: SimOrder[];
  fills: SimFill[];
  rejections: SimRejection[];
  orderCounter: number;
  tradeCounter: number;
  orderFaults: OrderFaults;
  /** Faults forced on the next orders (or fills), by kind: how many are left. */
  forcedOrderFaults: Partial<Record<OrderFaultKind, number>>;
}

/** What the order book needs of the exchange around it: its randomness, clock, prices and positions. */
export interface SimVenue {
  readonly random: SeededRandom;
  now(): Date;
  /** The price of a symbol, or undefined when the exchange does not list it. */
  priceOf(symbol: string): number | undefined;
  position(id: string): { symbol: string; side: 'long' | 'short'; quantity: number } | undefined;
  /** An entry fill: opens the position or grows it. */
  grow(id: string, order: { symbol: string; side: 'long' | 'short'; quantity: number }): void;
  /** A reduce fill: shrinks the position, closing it at zero. */
  shrink(id: string, quantity: number): void;
}

/** How the order book is tuned (seconds and a fee rate), from the exchange's options. */
export interface SimOrderSettings {
  notFoundSeconds: number;
  staleSeconds: number;
  feeRate: number;
}

/** What placing an order gave: the order, and which faults its answer hits. */
export interface Placed {
  order: SimOrder;
  lostAck: boolean;
  restart: boolean;
}

const EPSILON = 1e-9;

function round9(n: number): number {
  return Math.round(n * 1e9) / 1e9;
}
function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function refusal(message: string): ExternalError {
  return new ExternalError(message, 'rejected');
}

/**
 * The orders of one simulated exchange (not public: the exchange is). Seeded through the venue's
 * randomness, so one seed gives one story; its whole state is JSON-safe (`snapshot`).
 */
export class SimulatedOrderBook {
  private orders = new Map<string, SimOrder>();
  private fills: SimFill[] = [];
  private rejections: SimRejection[] = [];
  private orderCounter = 0;
  private tradeCounter = 0;
  private faults: OrderFaults;
  private forced = new Map<OrderFaultKind, number>();

  constructor(
    private readonly venue: SimVenue,
    private readonly settings: SimOrderSettings,
    faults: Partial<OrderFaults> = {},
    state?: Partial<SimOrderState>,
  ) {
    this.faults = { ...NO_ORDER_FAULTS, ...faults, ...state?.orderFaults };
    for (const o of state?.orders ?? []) this.orders.set(o.clientOrderId, structuredClone(o));
    this.fills = (state?.fills ?? []).map((f) => ({ ...f }));
    this.rejections = (state?.rejections ?? []).map((r) => ({ ...r }));
    this.orderCounter = state?.orderCounter ?? 0;
    this.tradeCounter = state?.tradeCounter ?? 0;
    for (const [kind, n] of Object.entries(state?.forcedOrderFaults ?? {})) this.forced.set(kind as OrderFaultKind, n);
  }

  snapshot(): SimOrderState {
    return {
      orders: [...this.orders.values()].map((o) => structuredClone(o)),
      fills: this.fills.map((f) => ({ ...f })),
      rejections: this.rejections.map((r) => ({ ...r })),
      orderCounter: this.orderCounter,
      tradeCounter: this.tradeCounter,
      orderFaults: { ...this.faults },
      forcedOrderFaults: Object.fromEntries(this.forced),
    };
  }

  setFaults(faults: Partial<OrderFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  force(kind: OrderFaultKind, count: number): void {
    this.forced.set(kind, (this.forced.get(kind) ?? 0) + count);
  }

  /** A forced fault is used up first; else a roll of the seed against the rate (no roll at rate 0, so a story without faults stays as it was). */
  private hit(kind: OrderFaultKind): boolean {
    const forced = this.forced.get(kind) ?? 0;
    if (forced > 0) {
      if (forced === 1) this.forced.delete(kind);
      else this.forced.set(kind, forced - 1);
      return true;
    }
    const rate = this.faults[kind];
    return rate > 0 && this.venue.random.next() < rate;
  }

  private nowIso(): string {
    return this.venue.now().toISOString();
  }

  private secondsFromNow(seconds: number): string {
    return new Date(this.venue.now().getTime() + seconds * 1000).toISOString();
  }

  /** Refuses (ExternalError 'rejected', recorded) or places the order, filling what it can at once. */
  place(rawRequest: unknown, rawClientOrderId: unknown): Placed {
    const clientOrderId = this.check(
      () => parseOrThrow(ExternalId, rawClientOrderId, 'submitOrder: clientOrderId'),
      String(rawClientOrderId),
    );
    const request = this.check(() => parseOrThrow(ExternalOrderRequest, rawRequest, 'submitOrder: the request'), clientOrderId);
    this.check(() => this.admissible(request, clientOrderId), clientOrderId);

    const now = this.nowIso();
    const order: SimOrder = {
      clientOrderId,
      externalOrderId: `SIM-O-${++this.orderCounter}`,
      positionId: request.positionId,
      symbol: request.symbol,
      side: request.side,
      type: request.type,
      quantity: request.quantity,
      ...(request.limitPrice === undefined ? {} : { limitPrice: request.limitPrice }),
      reduceOnly: request.reduceOnly ?? false,
      filledQuantity: 0,
      status: 'open',
      createdAt: now,
      updatedAt: now,
    };
    if (this.hit('notFound')) order.hiddenUntil = this.secondsFromNow(this.settings.notFoundSeconds);
    if (this.hit('fillBeforeStatus')) order.statusLags = true;
    if (this.hit('partialThenCancel')) order.cutShort = true;
    this.orders.set(clientOrderId, order);
    this.match(order, true);
    const restart = this.hit('restartBeforeAck');
    const lostAck = !restart && this.hit('lostAck');
    return { order, lostAck, restart };
  }

  /**
   * Places an order by hand, as a person at the venue's screen would: not through the port, so
   * with no client order id of the book's. A limit order the market does not cross rests open;
   * one that crosses fills at once like any other.
   */
  placeByHand(hand: HandOrder): SimOrder {
    if (this.venue.priceOf(hand.symbol) === undefined) throw refusal(`placeByHand: unknown symbol ${hand.symbol}`);
    if (!(hand.quantity > 0) || !(hand.limitPrice > 0)) throw refusal('placeByHand: quantity and limitPrice must be positive');
    const externalOrderId = `SIM-O-${++this.orderCounter}`;
    const key = hand.clientOrderId ?? `hand-${externalOrderId}`;
    if (this.orders.has(key)) throw refusal(`placeByHand: clientOrderId "${key}" was already used`);
    const now = this.nowIso();
    const order: SimOrder = {
      clientOrderId: key,
      externalOrderId,
      positionId: `HAND-${externalOrderId}`,
      symbol: hand.symbol,
      side: hand.side,
      type: 'limit',
      quantity: hand.quantity,
      limitPrice: hand.limitPrice,
      reduceOnly: false,
      filledQuantity: 0,
      status: 'open',
      createdAt: now,
      updatedAt: now,
      ...(hand.clientOrderId === undefined ? { anonymous: true } : {}),
    };
    this.orders.set(key, order);
    this.match(order, true);
    return structuredClone(order);
  }

  /** Runs `work`; a refusal it throws is recorded (with the client order id) and thrown on. */
  private check<T>(work: () => T, clientOrderId: string): T {
    try {
      return work();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.rejections.push({ clientOrderId, reason: message, at: this.nowIso() });
      throw error instanceof ExternalError ? error : refusal(message);
    }
  }

  /** The venue's definitive refusals: a reused id, an unknown symbol, an entry against the position, a reduce beyond it. */
  private admissible(request: ExternalOrderRequest, clientOrderId: string): void {
    const earlier = this.orders.get(clientOrderId);
    if (earlier) {
      throw refusal(`submitOrder: clientOrderId "${clientOrderId}" was already used (order ${earlier.externalOrderId}, ${earlier.status})`);
    }
    if (this.venue.priceOf(request.symbol) === undefined) throw refusal(`submitOrder: unknown symbol ${request.symbol}`);
    const position = this.venue.position(request.positionId);
    const side = request.side === 'buy' ? 'long' : 'short';
    if (position && position.symbol !== request.symbol) {
      throw refusal(`submitOrder: position ${request.positionId} is ${position.symbol}, not ${request.symbol}`);
    }
    if (!request.reduceOnly) {
      if (position && position.side !== side) {
        throw refusal(
          `submitOrder: position ${request.positionId} is ${position.side}; a ${request.side} would reduce it (send it reduce-only)`,
        );
      }
      return;
    }
    if (!position || position.side === side) {
      throw refusal(
        `submitOrder: a reduce-only ${request.side} needs an open ${side === 'long' ? 'short' : 'long'} position ${request.positionId}`,
      );
    }
    const reserved = [...this.orders.values()]
      .filter((o) => o.reduceOnly && o.positionId === request.positionId && LIVE_ORDER_STATUSES.includes(o.status))
      .reduce((sum, o) => sum + o.quantity - o.filledQuantity, 0);
    if (request.quantity > position.quantity - reserved + EPSILON) {
      throw refusal(
        `submitOrder: a reduce-only quantity ${request.quantity} exceeds what is left of position ${request.positionId} (${round9(position.quantity - reserved)})`,
      );
    }
  }

  /** Fills every live order the current prices allow (market orders always, limit orders when the price crosses). */
  matchAll(): void {
    for (const order of this.orders.values()) this.match(order);
  }

  private match(order: SimOrder, atSubmit = false): void {
    if (!LIVE_ORDER_STATUSES.includes(order.status)) return;
    const market = this.venue.priceOf(order.symbol);
    if (market === undefined) return;
    let price = market;
    if (order.type === 'limit') {
      const limit = order.limitPrice ?? market;
      const crosses = order.side === 'buy' ? market <= limit : market >= limit;
      if (!crosses) return;
      // Marketable when it arrives, it fills at the market; resting, at its limit once the market crosses it.
      price = atSubmit ? market : limit;
    }
    this.fill(order, price);
  }

  /** Fills what is left of `order` at `price`, in one to three parts by seed, or in part then canceled. */
  private fill(order: SimOrder, price: number): void {
    const before: OrderView = {
      status: order.status,
      filledQuantity: order.filledQuantity,
      ...(order.averagePrice === undefined ? {} : { averagePrice: order.averagePrice }),
    };
    let remaining = round9(order.quantity - order.filledQuantity);
    let cancelRest = false;
    if (order.cutShort) {
      remaining = Math.max(round9(remaining * (0.2 + 0.6 * this.venue.random.next())), EPSILON);
      cancelRest = true;
    }
    if (order.reduceOnly) {
      const open = this.venue.position(order.positionId)?.quantity ?? 0;
      if (open < remaining - EPSILON) {
        remaining = round9(open);
        cancelRest = true; // a reduce-only order never grows the position the other way
      }
    }
    const parts = remaining > EPSILON ? this.venue.random.int(1, 3) : 0;
    let left = remaining;
    for (let i = 0; i < parts; i++) {
      const quantity = i === parts - 1 ? round9(left) : round9(remaining / parts);
      left = round9(left - quantity);
      if (quantity <= EPSILON) continue;
      this.addFill(order, quantity, price);
    }
    if (cancelRest) order.status = 'canceled';
    order.updatedAt = this.nowIso();
    if (order.statusLags && order.stale === undefined && order.filledQuantity > 0) {
      order.stale = { ...before, until: this.secondsFromNow(this.settings.staleSeconds) };
    }
  }

  private addFill(order: SimOrder, quantity: number, price: number): void {
    const side = order.side === 'buy' ? 'long' : 'short';
    if (order.reduceOnly) this.venue.shrink(order.positionId, quantity);
    else this.venue.grow(order.positionId, { symbol: order.symbol, side, quantity });
    const filled = round9(order.filledQuantity + quantity);
    order.averagePrice = round6(((order.averagePrice ?? 0) * order.filledQuantity + price * quantity) / filled);
    order.filledQuantity = filled;
    order.status = filled >= order.quantity - EPSILON ? 'filled' : 'partially_filled';
    this.fills.push({
      tradeId: `SIM-T-${++this.tradeCounter}`,
      externalOrderId: order.externalOrderId,
      clientOrderId: order.clientOrderId,
      quantity,
      price,
      fee: round6(quantity * price * this.settings.feeRate),
      at: this.nowIso(),
      reportedTwice: this.hit('duplicateFill'),
    });
  }

  private hidden(order: SimOrder): boolean {
    return order.hiddenUntil !== undefined && this.venue.now().getTime() < Date.parse(order.hiddenUntil);
  }

  /** The order as the outside sees it now: its lagging status while that lasts. */
  private view(order: SimOrder): Record<string, unknown> {
    const lagging = order.stale !== undefined && this.venue.now().getTime() < Date.parse(order.stale.until);
    const shown: OrderView = lagging && order.stale ? order.stale : order;
    return {
      ...(order.anonymous ? {} : { clientOrderId: order.clientOrderId }),
      externalOrderId: order.externalOrderId,
      positionId: order.positionId,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: order.quantity,
      ...(order.limitPrice === undefined ? {} : { limitPrice: order.limitPrice }),
      reduceOnly: order.reduceOnly,
      filledQuantity: shown.filledQuantity,
      ...(shown.averagePrice === undefined ? {} : { averagePrice: shown.averagePrice }),
      status: shown.status,
      createdAt: order.createdAt,
      updatedAt: order.updatedAt,
    };
  }

  /** The answer to a submit. */
  ack(order: SimOrder): Record<string, unknown> {
    return this.view(order);
  }

  find(ref: ExternalOrderRef): Record<string, unknown> | null {
    const order =
      'clientOrderId' in ref
        ? this.orders.get(ref.clientOrderId)
        : [...this.orders.values()].find((o) => o.externalOrderId === ref.externalOrderId);
    return order && !this.hidden(order) ? this.view(order) : null;
  }

  open(): Record<string, unknown>[] {
    return [...this.orders.values()]
      .filter((o) => !this.hidden(o))
      .map((o) => this.view(o))
      .filter((v) => LIVE_ORDER_STATUSES.includes(v.status as ExternalOrderStatus));
  }

  cancel(ref: CancelOrderRef): Record<string, unknown> {
    // An order listed without a client order id is canceled by its venue id.
    const order =
      this.orders.get(ref.clientOrderId) ??
      (ref.externalOrderId === undefined
        ? undefined
        : [...this.orders.values()].find((o) => o.anonymous && o.externalOrderId === ref.externalOrderId));
    if (!order || this.hidden(order)) throw refusal(`cancelOrder(${ref.clientOrderId}): unknown order`);
    if (ref.externalOrderId !== undefined && ref.externalOrderId !== order.externalOrderId) {
      throw refusal(`cancelOrder(${ref.clientOrderId}): the order is ${order.externalOrderId}, not ${ref.externalOrderId}`);
    }
    if (!LIVE_ORDER_STATUSES.includes(order.status)) throw refusal(`cancelOrder(${ref.clientOrderId}): the order is ${order.status}`);
    order.status = 'canceled';
    order.updatedAt = this.nowIso();
    return this.view(order);
  }

  listFills(query: ListFillsQuery): Record<string, unknown>[] {
    const since = query.since === undefined ? Number.NEGATIVE_INFINITY : Date.parse(query.since);
    const visible = new Set([...this.orders.values()].filter((o) => !this.hidden(o)).map((o) => o.clientOrderId));
    return this.fills
      .filter((f) => visible.has(f.clientOrderId) && Date.parse(f.at) >= since)
      .flatMap((f) => {
        const { reportedTwice, ...fill } = f;
        return reportedTwice ? [{ ...fill }, { ...fill }] : [fill];
      });
  }

  /** Every order, fill and refusal, ignoring faults (the truth, for checks). Copies. */
  truth(): { orders: SimOrder[]; fills: SimFill[]; rejections: SimRejection[] } {
    const { orders, fills, rejections } = this.snapshot();
    return { orders, fills, rejections };
  }
}
