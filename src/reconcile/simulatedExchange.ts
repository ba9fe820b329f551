import { setTimeout as delay } from 'node:timers/promises';
import { ExternalError } from '../errors/index.js';
import { SeededRandom } from '../_internals/random.js';
import { recordFrom } from '../_internals/records.js';
import { present } from '../_internals/present.js';
import type { ClosePositionOptions, ExternalCallOptions, ExternalSystem, PositionMode, SubmitOrderOptions } from './externalSystem.js';
import type { CancelOrderRef, ExternalOrderRef, ListFillsQuery } from './externalOrders.js';
import {
  SimulatedOrderBook,
  type OrderFaultKind,
  type OrderFaults,
  type SimFill,
  type SimOrder,
  type SimOrderState,
  type SimRejection,
  type HandOrder,
} from './simulatedOrders.js';

/** Probabilities (0..1) that a call to the outside system fails in each way. */
export interface FaultRates {
  /** The exchange is unreachable. */
  error: number;
  /** The call times out. */
  timeout: number;
  /** The answer does not parse. */
  malformed: number;
  /** The exchange says "slow down". */
  rateLimit: number;
}

export interface SimulatedExchangeOptions {
  seed: number;
  /** The simulated clock (shared with the book). */
  clock: () => Date;
  faults?: Partial<FaultRates>;
  /** A new position shows up in listPositions/getPosition only this long after it opened (seconds). */
  lagSeconds?: number;
  /** Real delay per call (ms), to exercise timeouts. Default 0. */
  latencyMs?: number;
  symbols?: Record<string, number>;
  /** Order faults by seed (see {@link OrderFaults}); `forceOrderFault` adds them on demand. */
  orderFaults?: Partial<OrderFaults>;
  /** How long an order hit by the `notFound` fault is not found (seconds). Default 30. */
  notFoundSeconds?: number;
  /** How long an order hit by `fillBeforeStatus` shows its status from before its fills (seconds). Default 30. */
  staleSeconds?: number;
  /** The fee of a fill, as a fraction of its notional. Default 0.001 (0.1 %). */
  feeRate?: number;
  /**
   * The crash point of the `restartBeforeAck` fault: called with the exchange's state once the
   * order is placed (and filled as far as it fills at once), before the submit answers. A crash
   * test saves the state to a file and kills its own process here; when the hook returns, the
   * submit fails as a lost connection.
   */
  onRestartBeforeAck?: (state: SimulatedExchangeState, order: { clientOrderId: string; externalOrderId: string }) => void;
  /**
   * How the exchange keys positions (see {@link SimulatedExchange}): `per-id` (the default: one
   * position per id the bot filled under), `netting` (one per symbol) or `hedge` (one per symbol and side).
   */
  positionMode?: PositionMode;
}

/** A position as the exchange lists it under its venue key (the truth, ignoring lag and faults). */
export interface SimVenuePosition {
  /** The outside id: the bot's id (per-id), the symbol (netting), `<symbol>#<side>` (hedge). */
  id: string;
  symbol: string;
  side: 'long' | 'short';
  quantity: number;
  value: number;
}

/**
 * A leak the exchange made on purpose, named by the cause the audit should find: a fill the bot
 * never recorded by hand (`manual trade`), a position it closed itself (`liquidation / stop-out
 * outside`), dust grown above the threshold (`dust growth`), an order of the bot's that filled while
 * its answer was lost (`unrecorded fill`, the `lostAck` and `restartBeforeAck` faults). `at` is when.
 */
export interface SimInjection {
  cause: 'manual trade' | 'liquidation / stop-out outside' | 'dust growth' | 'unrecorded fill';
  positionId: string;
  at: string;
}

interface SimPosition {
  id: string;
  symbol: string;
  side: 'long' | 'short';
  quantity: number;
  openedAt: string;
  /** Multiplier on the fair value: funding, fees, a mark the bot never saw. */
  adjust: number;
  origin: 'bot' | 'orphan' | 'dust';
}

/** The exchange's whole state, JSON-safe, so it can outlive a crashed client (the demo saves it). */
export interface SimulatedExchangeState {
  random: number;
  prices: Record<string, number>;
  positions: SimPosition[];
  /** How often each id was closed through closePosition (the reconciler's closes). */
  closes: Record<string, number>;
  /** Ids that closePosition was called for although not open. */
  badCloses: string[];
  counter: number;
  faults: FaultRates;
  /** The orders, their fills and refusals, and the order faults; absent in a state saved before orders existed. */
  orderBook?: SimOrderState;
  /** Positions the exchange closed itself (`liquidate`), and when; absent in a state saved before it kept them. */
  liquidated?: Record<string, string>;
  /** Every leak it made on purpose, in order; absent in a state saved before it kept them. */
  injections?: SimInjection[];
}

const NO_FAULTS: FaultRates = { error: 0, timeout: 0, malformed: 0, rateLimit: 0 };

/**
 * An in-process, seeded exchange: one seed gives one story. The bot trades on it through
 * `fill` / `closeByBot`; reconciliation reads it through the ExternalSystem methods. Faults on
 * demand: fills the bot never recorded (`injectOrphan`), positions liquidated outside
 * (`liquidate`), value drift (`drift`), dust rewards (`dustReward`) and their growth above the
 * dust threshold (`growDust`), and per-call errors,
 * timeouts, malformed answers and rate limits (`setFaults`), latency and lag. It honours the
 * call's `signal`: a call aborted during its latency (it timed out) changes nothing.
 *
 * It takes orders through the port's order methods: a market order fills at the current price in
 * one to three fills (by seed), a limit order rests until the price crosses it (`tick`, `setPrice`)
 * or it is canceled; an entry order's fills open or grow the position named by the request's
 * `positionId`, a reduce-only order's fills shrink or close it. A client order id is never taken
 * twice, even after a cancel; a refusal (a reused id, an unknown symbol, a quantity that is not
 * positive, a reduce beyond the position) is ExternalError 'rejected' and places nothing. Order
 * faults by seed (`orderFaults`, `setOrderFaults`) or on demand (`forceOrderFault`): see
 * {@link OrderFaults}. Orders, fills and refusals are part of `snapshot()`; so is `injections()`, every
 * leak it made on purpose with the cause an audit should find.
 *
 * Its `positionMode` says how it keys positions, as a real venue's adapter does. `per-id` (the
 * default): every fill under an id is its own position. `netting`: one position per symbol (its
 * outside id is the symbol); a fill on a symbol already held adds to it, the bot's close of a
 * position takes that position's quantity off the symbol, and the list shows the summed quantity
 * and value. `hedge`: one per symbol and side (outside id `<symbol>#<side>`), so a long and a
 * short on one symbol are two positions. Inside, it keeps what each fill put in (a lot, under the
 * bot's id or the orphan's); everything it shows outside, and every misbehaviour it is asked for
 * (`liquidate`, `drift`, `growDust`, closes, direct looks, injections), is by venue key.
 *
 * @example
 * ```ts
 * const exchange = new SimulatedExchange({ seed: 7, clock: () => simNow });
 * exchange.fill('BTC-1', { symbol: 'BTC', side: 'long', quantity: 0.01 });
 * exchange.injectOrphan();
 * await reconcile({ handler, external: exchange });
 * exchange.forceOrderFault('lostAck');
 * await guardExternal(exchange).submitOrder(request, { clientOrderId }); // { outcome: 'unknown' }, yet placed
 * ```
 */
export class SimulatedExchange implements ExternalSystem {
  private readonly random: SeededRandom;
  private readonly clock: () => Date;
  private readonly lagSeconds: number;
  private readonly latencyMs: number;
  private prices: Map<string, number>;
  private positions = new Map<string, SimPosition>();
  private closes = new Map<string, number>();
  private badCloses: string[] = [];
  private liquidated = new Map<string, string>();
  private injected: SimInjection[] = [];
  private counter = 0;
  private faults: FaultRates;
  private readonly orders: SimulatedOrderBook;
  private readonly onRestartBeforeAck: SimulatedExchangeOptions['onRestartBeforeAck'];
  /** How it keys positions (what reconciliation reads as the adapter's mode). */
  readonly positionMode: PositionMode;

  constructor(options: SimulatedExchangeOptions, state?: SimulatedExchangeState) {
    this.positionMode = options.positionMode ?? 'per-id';
    this.clock = options.clock;
    this.lagSeconds = options.lagSeconds ?? 0;
    this.latencyMs = options.latencyMs ?? 0;
    this.random = new SeededRandom(state?.random ?? options.seed);
    this.prices = new Map(
      Object.entries(state?.prices ?? options.symbols ?? { BTC: 60_000, ETH: 3_000, SOL: 150, AAPL: 200, MSFT: 420, NVDA: 130 }),
    );
    this.faults = state?.faults ?? { ...NO_FAULTS, ...options.faults };
    if (state) {
      for (const p of state.positions) this.positions.set(p.id, { ...p });
      this.closes = new Map(Object.entries(state.closes));
      this.badCloses = [...state.badCloses];
      this.liquidated = new Map(Object.entries(state.liquidated ?? {}));
      this.injected = (state.injections ?? []).map((x) => ({ ...x }));
      this.counter = state.counter;
    }
    this.onRestartBeforeAck = options.onRestartBeforeAck;
    const random = this.random;
    this.orders = new SimulatedOrderBook(
      {
        random,
        now: () => this.clock(),
        priceOf: (symbol) => this.prices.get(symbol),
        position: (id) => this.positions.get(id),
        grow: (id, order) => this.grow(id, order),
        shrink: (id, quantity) => this.shrink(id, quantity),
      },
      { notFoundSeconds: options.notFoundSeconds ?? 30, staleSeconds: options.staleSeconds ?? 30, feeRate: options.feeRate ?? 0.001 },
      options.orderFaults,
      state?.orderBook,
    );
  }

  /** Everything, for saving and for tests. */
  snapshot(): SimulatedExchangeState {
    return {
      random: this.random.seedState,
      prices: recordFrom(this.prices),
      positions: [...this.positions.values()].map((p) => ({ ...p })),
      closes: recordFrom(this.closes),
      badCloses: [...this.badCloses],
      counter: this.counter,
      faults: { ...this.faults },
      orderBook: this.orders.snapshot(),
      liquidated: recordFrom(this.liquidated),
      injections: this.injections(),
    };
  }

  get symbols(): string[] {
    return [...this.prices.keys()];
  }

  price(symbol: string): number {
    const p = this.prices.get(symbol);
    if (p === undefined) throw new ExternalError(`unknown symbol ${symbol}`, 'rejected');
    return p;
  }

  private valueOf(p: SimPosition): number {
    return round2(p.quantity * this.price(p.symbol) * p.adjust);
  }

  /**
   * The value the exchange marks a position at (or null when it is not open). Under netting and
   * hedge: what the bot filled under `id` (its part of the venue position), else the venue position of outside id `id`.
   */
  valueNow(id: string): number | null {
    const p = this.positions.get(id);
    if (p) return this.valueOf(p);
    if (this.positionMode === 'per-id') return null;
    return this.byVenueKey(false).find((v) => v.id === id)?.value ?? null;
  }

  /**
   * Open positions as the exchange knows them, ignoring lag and faults (the truth, for checks); by
   * venue key under netting and hedge (`origin`: `bot` when the bot filled any of it, else `orphan`, else `dust`).
   */
  truth(): { id: string; value: number; symbol: string; origin: SimPosition['origin'] }[] {
    if (this.positionMode !== 'per-id') {
      return this.byVenueKey(false).map((v) => ({ id: v.id, value: v.value, symbol: v.symbol, origin: originOf(v.lots) }));
    }
    return [...this.positions.values()].map((p) => ({ id: p.id, value: this.valueOf(p), symbol: p.symbol, origin: p.origin }));
  }

  /**
   * The positions by venue key with their quantities, ignoring lag and faults (the truth a book
   * summed by venue key is checked against): per-id, one per id.
   */
  venuePositions(): SimVenuePosition[] {
    return this.byVenueKey(false).map(({ id, symbol, side, quantity, value }) => ({ id, symbol, side, quantity, value }));
  }

  /**
   * The outside id of the venue position a fill of `symbol` on `side` under `id` belongs to: `id`
   * (per-id), the symbol (netting), `<symbol>#<side>` (hedge).
   */
  venueIdOf(p: { id: string; symbol: string; side: 'long' | 'short' }): string {
    switch (this.positionMode) {
      case 'per-id':
        return p.id;
      case 'netting':
        return p.symbol;
      case 'hedge':
        return `${p.symbol}#${p.side}`;
      default: {
        const _exhaustive: never = this.positionMode;
        return _exhaustive;
      }
    }
  }

  /** The lots (fills as they came in) of one venue position. */
  private lotsOf(venueId: string): SimPosition[] {
    return [...this.positions.values()].filter((p) => this.venueIdOf(p) === venueId);
  }

  /** The lots summed by venue key, in the order they opened; a netting account nets a long and a short on one symbol. */
  private byVenueKey(onlyVisible: boolean): (SimVenuePosition & { openedAt: string; lots: SimPosition[] })[] {
    const groups = new Map<string, SimPosition[]>();
    for (const p of this.positions.values()) {
      if (onlyVisible && !this.visible(p)) continue;
      const id = this.venueIdOf(p);
      const lots = groups.get(id);
      if (lots) lots.push(p);
      else groups.set(id, [p]);
    }
    const out: (SimVenuePosition & { openedAt: string; lots: SimPosition[] })[] = [];
    for (const [id, lots] of groups) {
      const sign = (p: SimPosition): number => (p.side === 'short' ? -1 : 1);
      const quantity = round9(lots.reduce((s, p) => s + sign(p) * p.quantity, 0));
      if (Math.abs(quantity) <= 1e-9) continue;
      const value = round2(lots.reduce((s, p) => s + sign(p) * this.valueOf(p), 0));
      const first = present(lots[0], 'the first lot of a venue position');
      out.push({
        id,
        symbol: first.symbol,
        side: quantity < 0 ? 'short' : 'long',
        quantity: Math.abs(quantity),
        value: Math.abs(value),
        openedAt: lots.reduce((at, p) => (p.openedAt < at ? p.openedAt : at), first.openedAt),
        lots,
      });
    }
    return out;
  }

  /**
   * Takes `quantity` off a venue position's lots, never more than it holds (a reduce-only order
   * does not flip it): the lots the bot does not know first (orphans, dust), then the newest, so
   * the bot's own closes later take off what it filled.
   */
  private reduceLots(lots: readonly SimPosition[], quantity: number): void {
    const rank = (p: SimPosition): number => (p.origin === 'bot' ? 1 : 0);
    const order = [...lots].sort((a, b) => rank(a) - rank(b) || (a.openedAt < b.openedAt ? 1 : a.openedAt > b.openedAt ? -1 : 0));
    let left = quantity;
    for (const p of order) {
      if (left <= 1e-9) break;
      const take = Math.min(left, p.quantity);
      left = round9(left - take);
      this.shrink(p.id, take);
    }
  }

  /** The leaks it made on purpose, in order (the truth an audit is checked against). */
  injections(): SimInjection[] {
    return this.injected.map((x) => ({ ...x }));
  }

  /** Records a leak under `positionId` (by venue key under netting and hedge: the callers pass the venue id). */
  private inject(cause: SimInjection['cause'], positionId: string): void {
    this.injected.push({ cause, positionId, at: this.clock().toISOString() });
  }

  /** How many times the reconciler closed each id; and closes of ids that were not open. */
  closeLog(): { closes: Readonly<Record<string, number>>; badCloses: readonly string[] } {
    return { closes: recordFrom(this.closes), badCloses: this.badCloses };
  }

  setFaults(faults: Partial<FaultRates>): void {
    this.faults = { ...this.faults, ...faults };
  }

  /** Order faults by seed: rates are merged into the current ones. */
  setOrderFaults(faults: Partial<OrderFaults>): void {
    this.orders.setFaults(faults);
  }

  /**
   * Places a resting limit order at the exchange by hand, not through the port (as a person at the
   * venue's screen would): it carries no client order id of the book's (`clientOrderId` absent: none
   * at all). Returns a copy of the order as the exchange keeps it.
   *
   * @example
   * ```ts
   * const o = exchange.placeByHand({ symbol: 'BTC', side: 'buy', quantity: 0.1, limitPrice: 1 });
   * ```
   */
  placeByHand(hand: HandOrder): SimOrder {
    return this.orders.placeByHand(hand);
  }

  /** The next `count` orders (fills, for `duplicateFill`) have fault `kind` for sure. */
  forceOrderFault(kind: OrderFaultKind, count = 1): void {
    this.orders.force(kind, count);
  }

  /** Every order, fill and refused submit, ignoring faults (the truth, for checks). */
  orderLog(): { orders: SimOrder[]; fills: SimFill[]; rejections: SimRejection[] } {
    return this.orders.truth();
  }

  /** Prices take a random step of up to ±`pct` %; resting limit orders the new prices cross fill. */
  tick(pct = 1): void {
    for (const [s, price] of this.prices) {
      const step = 1 + ((this.random.next() * 2 - 1) * pct) / 100;
      this.prices.set(s, round2(price * step));
    }
    this.orders.matchAll();
  }

  /** Sets one price (a listed symbol); resting limit orders it crosses fill. */
  setPrice(symbol: string, price: number): void {
    this.price(symbol);
    if (!Number.isFinite(price) || price <= 0)
      throw new ExternalError(`price of ${symbol} must be a positive number, got ${price}`, 'rejected');
    this.prices.set(symbol, price);
    this.orders.matchAll();
  }

  private grow(id: string, order: { symbol: string; side: 'long' | 'short'; quantity: number }): void {
    const p = this.positions.get(id);
    if (p) p.quantity = round9(p.quantity + order.quantity);
    else this.open({ id, ...order, openedAt: this.clock().toISOString(), adjust: 1, origin: 'bot' });
  }

  /** A position opens (under an id the exchange may have liquidated before: that close is history now). */
  private open(p: SimPosition): void {
    this.liquidated.delete(this.venueIdOf(p));
    this.positions.set(p.id, p);
  }

  private shrink(id: string, quantity: number): void {
    const p = this.positions.get(id);
    if (!p) return;
    p.quantity = round9(p.quantity - quantity);
    if (p.quantity <= 1e-9) this.positions.delete(id);
  }

  /** The bot's order fills: a position opens at the current price. Returns its price and value. */
  fill(id: string, order: { symbol: string; side: 'long' | 'short'; quantity: number }): { price: number; value: number } {
    if (this.positions.has(id)) throw new ExternalError(`position ${id} is already open`, 'rejected');
    const p: SimPosition = { id, ...order, openedAt: this.clock().toISOString(), adjust: 1, origin: 'bot' };
    this.open(p);
    return { price: this.price(order.symbol), value: this.valueOf(p) };
  }

  /**
   * The bot closes its own position. Returns the value it closed at. Under netting and hedge what
   * it filled under `id` comes off the venue position; a position it filled nothing under (one
   * adopted from an orphan) is closed by `reduce`: that quantity off the venue position
   * `reduce.venueId`, never more than it holds.
   */
  closeByBot(id: string, reduce?: { venueId: string; quantity: number }): number {
    const p = this.positions.get(id);
    if (!p && reduce !== undefined && this.positionMode !== 'per-id') {
      const lots = this.lotsOf(reduce.venueId);
      if (lots.length === 0) throw new ExternalError(`position ${reduce.venueId} is not open`, 'rejected');
      const before = this.valueNow(reduce.venueId) ?? 0;
      this.reduceLots(lots, reduce.quantity);
      return round2(before - (this.valueNow(reduce.venueId) ?? 0));
    }
    if (!p) throw new ExternalError(`position ${id} is not open`, 'rejected');
    this.positions.delete(id);
    return this.valueOf(p);
  }

  /** A fill the bot never recorded: an orphan above dust (on a venue key, under netting and hedge). Returns its (outside) id. */
  injectOrphan(): string {
    const symbol = this.random.pick(this.symbols);
    const id = `OUT-${symbol}-${++this.counter}`;
    const quantity = round6(this.random.int(200, 2000) / this.price(symbol));
    // A hedge account holds both sides: the trade by hand may be a short.
    const side = this.positionMode === 'hedge' && this.random.chance(0.5) ? 'short' : 'long';
    const lot: SimPosition = { id, symbol, side, quantity, openedAt: this.clock().toISOString(), adjust: 1, origin: 'orphan' };
    this.open(lot);
    this.inject('manual trade', this.venueIdOf(lot));
    return this.venueIdOf(lot);
  }

  /** A reward too small to matter (below any sensible dust threshold). Returns its (outside) id. */
  dustReward(): string {
    const symbol = this.random.pick(this.symbols);
    const id = `DUST-${symbol}-${++this.counter}`;
    const quantity = round6(0.2 / this.price(symbol));
    const lot: SimPosition = { id, symbol, side: 'long', quantity, openedAt: this.clock().toISOString(), adjust: 1, origin: 'dust' };
    this.open(lot);
    return this.venueIdOf(lot);
  }

  /**
   * The position is liquidated or stopped out outside: it vanishes (a phantom, for the book). The
   * exchange remembers when: a direct look (`getPosition`) answers `{ id, status: 'closed', closedAt }`.
   */
  liquidate(id: string): boolean {
    if (this.positionMode !== 'per-id') {
      const lots = this.lotsOf(id);
      if (lots.length === 0) return false;
      for (const p of lots) this.positions.delete(p.id);
    } else if (!this.positions.delete(id)) return false;
    this.liquidated.set(id, this.clock().toISOString());
    this.inject('liquidation / stop-out outside', id);
    return true;
  }

  /** A dust reward grows by `factor` (a reward paid in, an airdrop): above the dust threshold it is an orphan. */
  growDust(id: string, factor: number): boolean {
    if (this.positionMode !== 'per-id') {
      const dust = this.lotsOf(id).filter((p) => p.origin === 'dust');
      if (dust.length === 0) return false;
      for (const p of dust) p.adjust = round6(p.adjust * factor);
      this.inject('dust growth', id);
      return true;
    }
    const p = this.positions.get(id);
    if (p?.origin !== 'dust') return false;
    p.adjust = round6(p.adjust * factor);
    this.inject('dust growth', id);
    return true;
  }

  /** The exchange marks a position at `factor` x its fair value (fees, funding). */
  drift(id: string, factor: number): boolean {
    if (this.positionMode !== 'per-id') {
      const lots = this.lotsOf(id);
      for (const p of lots) p.adjust = round6(p.adjust * factor);
      return lots.length > 0;
    }
    const p = this.positions.get(id);
    if (!p) return false;
    p.adjust = round6(p.adjust * factor);
    return true;
  }

  private visible(p: SimPosition): boolean {
    return Date.parse(p.openedAt) <= this.clock().getTime() - this.lagSeconds * 1000;
  }

  /** One call's latency and fault roll. An aborted call (it timed out) stops here and changes nothing. */
  private async call(operation: string, signal: AbortSignal | undefined): Promise<'ok' | 'malformed'> {
    if (this.latencyMs > 0) await delay(this.latencyMs, undefined, signal ? { signal } : {}).catch(() => undefined);
    signal?.throwIfAborted();
    const f = this.faults;
    const roll = this.random.next();
    if (roll < f.error) throw new ExternalError(`${operation}: connection refused (simulated)`, 'unreachable');
    if (roll < f.error + f.timeout) throw new ExternalError(`${operation}: timed out (simulated)`, 'timeout');
    if (roll < f.error + f.timeout + f.rateLimit)
      throw new ExternalError(`${operation}: 429 too many requests (simulated)`, 'rate_limited');
    if (roll < f.error + f.timeout + f.rateLimit + f.malformed) return 'malformed';
    return 'ok';
  }

  async listPositions(options?: ExternalCallOptions): Promise<unknown> {
    if ((await this.call('listPositions', options?.signal)) === 'malformed') {
      return [{ id: 42, value: 'lots' }]; // what a broken gateway might send
    }
    if (this.positionMode !== 'per-id') {
      return this.byVenueKey(true).map((v) => ({
        id: v.id,
        symbol: v.symbol,
        side: v.side,
        quantity: v.quantity,
        price: this.price(v.symbol),
        value: v.value,
        openedAt: v.openedAt,
      }));
    }
    return [...this.positions.values()]
      .filter((p) => this.visible(p))
      .map((p) => ({
        id: p.id,
        symbol: p.symbol,
        side: p.side,
        quantity: p.quantity,
        price: this.price(p.symbol),
        value: this.valueOf(p),
        openedAt: p.openedAt,
      }));
  }

  async getPosition(id: string, options?: ExternalCallOptions): Promise<unknown> {
    if ((await this.call(`getPosition(${id})`, options?.signal)) === 'malformed') return { id, value: -1 };
    if (this.positionMode !== 'per-id') {
      const v = this.byVenueKey(true).find((x) => x.id === id);
      if (v === undefined) {
        const closedAt = this.liquidated.get(id);
        return closedAt === undefined ? null : { id, status: 'closed', closedAt };
      }
      return {
        id,
        symbol: v.symbol,
        side: v.side,
        quantity: v.quantity,
        price: this.price(v.symbol),
        value: v.value,
        openedAt: v.openedAt,
      };
    }
    const p = this.positions.get(id);
    if (!p || !this.visible(p)) {
      const closedAt = this.liquidated.get(id);
      return closedAt === undefined ? null : { id, status: 'closed', closedAt };
    }
    return {
      id: p.id,
      symbol: p.symbol,
      side: p.side,
      quantity: p.quantity,
      price: this.price(p.symbol),
      value: this.valueOf(p),
      openedAt: p.openedAt,
    };
  }

  /**
   * Closes a position outside (the reconciler's close). Under netting and hedge `id` is the venue
   * position's outside id, and `quantity` (on `side`) takes only that much off it, never more
   * than it holds (a reduce-only order does not flip it); a side other than the position's is refused.
   */
  async closePosition(id: string, options?: ExternalCallOptions & ClosePositionOptions): Promise<unknown> {
    await this.call(`closePosition(${id})`, options?.signal);
    if (this.positionMode !== 'per-id') {
      const v = this.byVenueKey(false).find((x) => x.id === id);
      if (v === undefined) {
        this.badCloses.push(id);
        throw new ExternalError(`closePosition(${id}): no such open position`, 'rejected');
      }
      if (options?.side !== undefined && options.side !== v.side) {
        throw new ExternalError(
          `closePosition(${id}): the position is ${v.side}, a reduce of the ${options.side} side would open one`,
          'rejected',
        );
      }
      if (options?.quantity === undefined) for (const p of v.lots) this.positions.delete(p.id);
      else this.reduceLots(v.lots, options.quantity);
      this.closes.set(id, (this.closes.get(id) ?? 0) + 1);
      return options?.quantity === undefined ? { closed: id } : { closed: id, quantity: options.quantity };
    }
    if (!this.positions.has(id)) {
      this.badCloses.push(id);
      throw new ExternalError(`closePosition(${id}): no such open position`, 'rejected');
    }
    this.positions.delete(id);
    this.closes.set(id, (this.closes.get(id) ?? 0) + 1);
    return { closed: id };
  }

  /**
   * Places an order (see the class comment for how it fills and its faults). A refusal is an
   * ExternalError 'rejected' and places nothing; a call aborted during its latency places nothing.
   */
  async submitOrder(request: unknown, options: SubmitOrderOptions): Promise<unknown> {
    const clientOrderId: unknown = options.clientOrderId;
    const operation = `submitOrder(${String(clientOrderId)})`;
    const transport = await this.call(operation, options.signal);
    const { order, lostAck, restart } = this.orders.place(request, clientOrderId);
    // Filled while its answer is lost: the bot does not hear of the fill.
    if ((restart || lostAck) && order.filledQuantity > 0) {
      const lot = this.positions.get(order.positionId);
      this.inject('unrecorded fill', lot ? this.venueIdOf(lot) : order.positionId);
    }
    if (restart) {
      this.onRestartBeforeAck?.(this.snapshot(), { clientOrderId: order.clientOrderId, externalOrderId: order.externalOrderId });
      throw new ExternalError(`${operation}: connection reset, the exchange restarted before answering (simulated)`, 'unreachable');
    }
    if (lostAck) {
      if (this.random.chance(0.5)) throw new ExternalError(`${operation}: timed out waiting for the answer (simulated)`, 'timeout');
      throw new ExternalError(`${operation}: connection lost before the answer (simulated)`, 'unreachable');
    }
    if (transport === 'malformed') return { id: order.externalOrderId, state: 'ok?' }; // placed, but the answer is garbled
    return this.orders.ack(order);
  }

  async getOrder(ref: ExternalOrderRef, options?: ExternalCallOptions): Promise<unknown> {
    if ((await this.call('getOrder', options?.signal)) === 'malformed') return { externalOrderId: 42, status: 'weird' };
    return this.orders.find(ref);
  }

  async listOpenOrders(options?: ExternalCallOptions): Promise<unknown> {
    if ((await this.call('listOpenOrders', options?.signal)) === 'malformed') return { orders: 'soon' };
    return this.orders.open();
  }

  async cancelOrder(ref: CancelOrderRef, options?: ExternalCallOptions): Promise<unknown> {
    await this.call(`cancelOrder(${ref.clientOrderId})`, options?.signal);
    return this.orders.cancel(ref);
  }

  async listFills(query: ListFillsQuery = {}, options?: ExternalCallOptions): Promise<unknown> {
    if ((await this.call('listFills', options?.signal)) === 'malformed') return [{ tradeId: 7, quantity: 'all' }];
    return this.orders.listFills(query);
  }
}

/** What a venue position is made of: anything the bot filled, else any orphan, else dust. */
function originOf(lots: readonly SimPosition[]): SimPosition['origin'] {
  if (lots.some((p) => p.origin === 'bot')) return 'bot';
  return lots.some((p) => p.origin === 'orphan') ? 'orphan' : 'dust';
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
function round9(n: number): number {
  return Math.round(n * 1e9) / 1e9;
}
