/*
 * The ccxt adapter: one ccxt exchange behind the ExternalSystem port. ccxt is imported here,
 * dynamically, when an adapter is made, so nothing else in the package ever loads it.
 */

import type { Exchange, Order, Position } from 'ccxt';
import { z } from 'zod';
import { ExternalError, ValidationError } from '../../errors/index.js';
import type {
  CancelOrderRef,
  ExternalCallOptions,
  ExternalOrderRef,
  ExternalOrderRequest,
  ExternalSystem,
  SubmitOrderOptions,
} from '../../reconcile/index.js';
import { untilAborted } from '../../_internals/timeout.js';
import { parseOrThrow } from '../../_internals/zodIssues.js';
import { type CcxtModule, ccxtFailureOf, toExternalError } from './_internals/errors.js';
import { fromCcxtBalance, fromCcxtOrder, fromCcxtPosition, type PortPosition, pricedSymbols } from './_internals/mapping.js';
import { rebased } from './_internals/urls.js';

const Secret = z.string().min(1, 'must not be empty').optional();

const HttpUrl = z
  .string()
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
      } catch {
        return false;
      }
    },
    { message: 'must be an http:// or https:// URL without user:password' },
  )
  .transform((s) => s.replace(/\/+$/, ''));

/** What `ccxtAdapter` accepts; see {@link CcxtAdapterOptions}. */
export const CcxtAdapterOptions = z.strictObject({
  exchangeId: z.string().regex(/^[a-z0-9]+$/, 'must be a ccxt exchange id (lower-case letters and digits, e.g. binanceusdm)'),
  credentials: z.strictObject({ apiKey: Secret, secret: Secret, password: Secret, uid: Secret }).optional(),
  sandbox: z.boolean().default(false),
  baseUrl: HttpUrl.optional(),
  market: z.enum(['derivatives', 'spot']).optional(),
  positionMode: z.enum(['netting', 'hedge']).optional(),
  quote: z.string().min(1).max(20).default('USDT'),
  symbols: z.array(z.string().min(1).max(64)).default([]),
  timeoutMs: z.number().int().positive().max(600_000).default(5000),
  rateLimit: z.boolean().default(true),
});

/**
 * Options of {@link ccxtAdapter}:
 * - `exchangeId`: a ccxt exchange id (`binanceusdm`, `binance`, `okx`, ...).
 * - `credentials`: `{ apiKey, secret, password?, uid? }`; never logged, taken out of every error message.
 * - `sandbox`: the exchange's testnet (ccxt's `setSandboxMode`); refused when it has none.
 * - `baseUrl`: every API URL's scheme, host and port replaced by this one (tests, proxies).
 * - `market`: `derivatives` (positions from `fetchPositions`) or `spot` (holdings from `fetchBalance`);
 *   default derivatives when the exchange's default market type is a swap or future, else spot.
 * - `positionMode`: `netting` or `hedge`; default: asked from the exchange (`fetchPositionMode`)
 *   when it can tell and credentials are given, else netting. Spot is always netting.
 * - `quote`: spot: the cash currency that prices holdings (default USDT); it is never a position.
 * - `symbols`: where an exchange looks orders up only by symbol (Binance), the symbols to search
 *   for an order this process did not place.
 * - `timeoutMs`: ccxt's own timeout per request (default 5000).
 * - `rateLimit`: ccxt's request throttle (`enableRateLimit`, default on: it spaces requests by the
 *   exchange's weights, which also makes each call slower).
 */
export type CcxtAdapterOptions = z.input<typeof CcxtAdapterOptions>;

/** The ccxt adapter: an ExternalSystem that can trade, with the position mode it keys positions by. */
export interface CcxtAdapter extends Required<Omit<ExternalSystem, 'listFills'>> {
  readonly positionMode: 'netting' | 'hedge';
  readonly market: 'derivatives' | 'spot';
  readonly exchangeId: string;
  /** Closes (a part of) a position with a market order: reduce-only on derivatives, a sell of the holding on spot. */
  closePosition(id: string, options: ExternalCallOptions & { quantity?: number; side?: 'long' | 'short' }): Promise<unknown>;
}

/**
 * ccxt hands an answer it cannot parse as JSON to the exchange's parser as a string, which
 * Binance's reads as an empty list: "no positions" from a garbled answer. A success (2xx) whose
 * body is not JSON is refused here as ccxt's BadResponse (malformed) instead.
 */
function refuseUnreadableAnswers(lib: CcxtModule, exchange: Exchange): void {
  let status = 0;
  const onRestResponse = exchange.onRestResponse.bind(exchange);
  const parseJson = exchange.parseJson.bind(exchange);
  exchange.onRestResponse = (statusCode: number, ...rest: unknown[]) => {
    status = statusCode;
    return (onRestResponse as (...args: unknown[]) => string)(statusCode, ...rest);
  };
  exchange.parseJson = (text: string) => {
    const parsed: unknown = parseJson(text);
    if (parsed === undefined && status >= 200 && status < 300 && typeof text === 'string' && text.trim() !== '') {
      throw new lib.BadResponse(`${exchange.id} answered ${status} with a body that is not JSON (${text.length} characters)`);
    }
    return parsed;
  };
}

let loaded: Promise<CcxtModule> | undefined;

/** Imports ccxt once per process (it takes a second or more: a hundred exchanges). */
export async function loadCcxt(): Promise<CcxtModule> {
  try {
    loaded ??= import('ccxt');
    return await loaded;
  } catch (error) {
    loaded = undefined;
    throw new ValidationError(
      `the ccxt adapter needs the ccxt package: install it next to position-tracker (npm install ccxt): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Makes the ccxt adapter for one exchange: derivatives positions through `fetchPositions`
 * (contracts × contract size, shorts as side short with absolute numbers), or spot holdings
 * through `fetchBalance` valued at tickers; open orders through `fetchOpenOrders`, look-ups by
 * client order id through `fetchOrder`, orders through `createOrder` with ccxt's unified
 * `clientOrderId`, closes as reduce-only market orders (a part when `quantity` is given), cancels
 * through `cancelOrder`. ccxt's errors become the port's failure kinds; every call honours the
 * port's signal (ccxt takes none: a late answer is ignored) and ccxt's own `timeout`. Imports
 * ccxt on first use.
 *
 * @example
 * ```ts
 * const venue = await ccxtAdapter({ exchangeId: 'binanceusdm', credentials: { apiKey, secret } });
 * const report = await reconcile({ handler: tracker.handler, external: venue, policy: { orphans: 'adopt' } });
 * ```
 */
export async function ccxtAdapter(input: CcxtAdapterOptions, options: { signal?: AbortSignal } = {}): Promise<CcxtAdapter> {
  const opts = parseOrThrow(CcxtAdapterOptions, input, 'ccxtAdapter');
  const lib = await loadCcxt();
  // The id comes from outside: looked up in a Map, never as a property of ccxt's object.
  const classes = new Map(Object.entries(lib.exchanges as unknown as Record<string, new (config: Record<string, unknown>) => Exchange>));
  const Cls = classes.get(opts.exchangeId);
  if (Cls === undefined) {
    throw new ValidationError(
      `ccxtAdapter: exchangeId: expected one of ccxt's ${classes.size} exchanges (e.g. binance, binanceusdm, okx), got "${opts.exchangeId}"`,
    );
  }
  const credentials = opts.credentials ?? {};
  const secrets = [credentials.apiKey, credentials.secret, credentials.password, credentials.uid].filter(
    (s): s is string => s !== undefined,
  );
  const exchange = new Cls({
    ...credentials,
    timeout: opts.timeoutMs,
    enableRateLimit: opts.rateLimit,
    // Open orders of every symbol in one call: the bot needs all of them, the weight is the venue's concern.
    options: { warnOnFetchOpenOrdersWithoutSymbol: false },
  });
  if (opts.sandbox) {
    try {
      exchange.setSandboxMode(true);
    } catch {
      throw new ValidationError(`ccxtAdapter: sandbox: ${opts.exchangeId} has no sandbox or testnet in ccxt (leave sandbox off)`);
    }
  }
  refuseUnreadableAnswers(lib, exchange);
  if (opts.baseUrl !== undefined) exchange.urls.api = rebased(exchange.urls.api, opts.baseUrl) as typeof exchange.urls.api;

  const defaultType = String((exchange.options as Record<string, unknown>).defaultType ?? 'spot');
  const market =
    opts.market ?? (exchange.has.fetchPositions === true && (defaultType === 'swap' || defaultType === 'future') ? 'derivatives' : 'spot');
  if (market === 'derivatives' && exchange.has.fetchPositions !== true) {
    throw new ValidationError(`ccxtAdapter: market: ${opts.exchangeId} cannot list positions (fetchPositions); use market "spot"`);
  }
  const signalOf = (o: ExternalCallOptions): AbortSignal => o.signal;

  /** Runs one ccxt call under the port's signal; its failure as the port's error. */
  async function call<T>(operation: string, o: ExternalCallOptions, work: () => Promise<T>): Promise<T> {
    try {
      return await untilAborted(signalOf(o), work);
    } catch (error) {
      throw toExternalError(lib, `${opts.exchangeId} ${operation}`, error, secrets);
    }
  }
  /** Like call, but an order the venue does not know is null. */
  async function lookUp<T>(operation: string, o: ExternalCallOptions, work: () => Promise<T>): Promise<T | null> {
    try {
      return await untilAborted(signalOf(o), work);
    } catch (error) {
      if (!(error instanceof ExternalError) && ccxtFailureOf(lib, error) === 'not_found') return null;
      throw toExternalError(lib, `${opts.exchangeId} ${operation}`, error, secrets);
    }
  }

  let positionMode: 'netting' | 'hedge' = opts.positionMode ?? 'netting';
  if (
    market === 'derivatives' &&
    opts.positionMode === undefined &&
    exchange.has.fetchPositionMode === true &&
    credentials.apiKey !== undefined
  ) {
    const controller = new AbortController();
    const mode = await call('fetchPositionMode', { signal: options.signal ?? controller.signal }, () => exchange.fetchPositionMode());
    if (mode.hedged) positionMode = 'hedge';
  }
  if (market === 'spot' && positionMode === 'hedge') {
    throw new ValidationError('ccxtAdapter: positionMode: a spot account holds one balance per asset; expected "netting", got "hedge"');
  }

  // Where the exchange looks orders up by symbol only: the symbols of the orders this process placed.
  const symbolOf = new Map<string, string>();
  // Symbols come from outside: own properties of ccxt's market table only.
  const marketOf = (symbol: string): { contractSize?: number } | undefined => {
    const markets = exchange.markets as Record<string, { contractSize?: number }> | undefined;
    return markets !== undefined && Object.hasOwn(markets, symbol) ? markets[symbol] : undefined;
  };
  const contractSizeOf = (symbol: string): number | undefined => marketOf(symbol)?.contractSize ?? undefined;
  const sizeOf = (symbol: string): number => (market === 'derivatives' ? (contractSizeOf(symbol) ?? 1) : 1);
  const hasMarket = (symbol: string): boolean => marketOf(symbol) !== undefined;
  const toOrder = (o: Order): Record<string, unknown> => fromCcxtOrder(o, o.symbol === undefined ? 1 : sizeOf(o.symbol));

  async function listPositions(o: ExternalCallOptions): Promise<PortPosition[]> {
    if (market === 'derivatives') {
      const positions: Position[] = await call('fetchPositions', o, async () => {
        await exchange.loadMarkets();
        return exchange.fetchPositions();
      });
      if (!Array.isArray(positions))
        throw new ExternalError(`${opts.exchangeId} fetchPositions returned a malformed answer: expected a list`, 'malformed');
      const out: PortPosition[] = [];
      for (const p of positions) {
        const mapped = fromCcxtPosition(p, positionMode === 'hedge', contractSizeOf);
        if (mapped !== null) out.push(mapped);
      }
      return out;
    }
    return call('fetchBalance', o, async () => {
      await exchange.loadMarkets();
      const balance = await exchange.fetchBalance();
      const symbols = pricedSymbols(balance, opts.quote, hasMarket);
      const tickers = symbols.length === 0 ? {} : await exchange.fetchTickers(symbols);
      return fromCcxtBalance(balance, opts.quote, tickers, hasMarket);
    });
  }

  async function findPosition(id: string, o: ExternalCallOptions): Promise<PortPosition | null> {
    return (await listPositions(o)).find((p) => p.id === id) ?? null;
  }

  /** The order by client order id (or venue id): by its known symbol, else among open orders, else in each named symbol. */
  async function findOrder(ref: ExternalOrderRef, o: ExternalCallOptions): Promise<Order | null> {
    const byClient = 'clientOrderId' in ref;
    const params = byClient ? { clientOrderId: ref.clientOrderId } : {};
    const id = byClient ? '' : ref.externalOrderId;
    const matches = (order: Order): boolean => (byClient ? order.clientOrderId === ref.clientOrderId : order.id === ref.externalOrderId);
    const known = byClient ? symbolOf.get(ref.clientOrderId) : undefined;
    if (known !== undefined) return lookUp('fetchOrder', o, () => exchange.fetchOrder(id, known, params));
    try {
      // An exchange that finds orders without their symbol answers here (ArgumentsRequired is thrown before any request).
      return await untilAborted(o.signal, () => exchange.fetchOrder(id, undefined, params));
    } catch (error) {
      const kind = ccxtFailureOf(lib, error);
      if (kind === 'not_found') return null;
      if (!(error instanceof lib.ArgumentsRequired)) throw toExternalError(lib, `${opts.exchangeId} fetchOrder`, error, secrets);
    }
    const open = await call('fetchOpenOrders', o, () => exchange.fetchOpenOrders());
    const found = open.find(matches);
    if (found !== undefined) return found;
    if (opts.symbols.length === 0) {
      throw new ExternalError(
        `${opts.exchangeId} cannot tell whether order ${byClient ? ref.clientOrderId : ref.externalOrderId} exists: it is not open, and ${opts.exchangeId} looks finished orders up by symbol; name the symbols the bot trades (option symbols, or PTRACK_CCXT_SYMBOLS)`,
        'rejected',
      );
    }
    for (const symbol of opts.symbols) {
      const order = await lookUp('fetchOrder', o, () => exchange.fetchOrder(id, symbol, params));
      if (order !== null) return order;
    }
    return null;
  }

  const adapter: CcxtAdapter = {
    exchangeId: opts.exchangeId,
    market,
    positionMode,
    listPositions,
    async getPosition(id, o) {
      return findPosition(id, o);
    },
    async closePosition(id, o) {
      const position = await findPosition(id, o);
      if (position === null) throw new ExternalError(`${opts.exchangeId} closePosition(${id}): no such open position`, 'rejected');
      const quantity = o.quantity ?? position.quantity;
      if (!(quantity > 0) || quantity > position.quantity * (1 + 1e-9)) {
        throw new ValidationError(`closePosition(${id}): quantity: expected more than 0 and at most ${position.quantity}, got ${quantity}`);
      }
      const side = position.side === 'long' ? 'sell' : 'buy';
      const amount = quantity / sizeOf(position.symbol);
      const params = market === 'spot' ? {} : { reduceOnly: true, ...(position.metadata.hedged === true ? { hedged: true } : {}) };
      return call(`closePosition(${id})`, o, async () => {
        const order = await exchange.createOrder(position.symbol, 'market', side, amount, undefined, params);
        return toOrder(order);
      });
    },
    async submitOrder(request: ExternalOrderRequest, o: SubmitOrderOptions) {
      const amount = request.quantity / sizeOf(request.symbol);
      const params: Record<string, unknown> = { clientOrderId: o.clientOrderId };
      if (market === 'derivatives') {
        if (request.reduceOnly === true) params.reduceOnly = true;
        if (positionMode === 'hedge') params.hedged = true;
      }
      symbolOf.set(o.clientOrderId, request.symbol);
      const order = await call(`createOrder(${o.clientOrderId})`, o, async () => {
        await exchange.loadMarkets();
        return exchange.createOrder(request.symbol, request.type, request.side, amount, request.limitPrice, params);
      });
      return toOrder(order);
    },
    async getOrder(ref, o) {
      const order = await findOrder(ref, o);
      return order === null ? null : toOrder(order);
    },
    async listOpenOrders(o) {
      const orders = await call('fetchOpenOrders', o, () => exchange.fetchOpenOrders());
      return orders.map(toOrder);
    },
    async cancelOrder(ref: CancelOrderRef, o) {
      const order = await findOrder({ clientOrderId: ref.clientOrderId }, o);
      if (order === null)
        throw new ExternalError(`${opts.exchangeId} cancelOrder(${ref.clientOrderId}): the venue does not know the order`, 'rejected');
      const venueId = order.id ?? ref.externalOrderId;
      if (venueId === undefined)
        throw new ExternalError(
          `${opts.exchangeId} cancelOrder(${ref.clientOrderId}) returned a malformed answer: the order has no id`,
          'malformed',
        );
      await call(`cancelOrder(${ref.clientOrderId})`, o, () => exchange.cancelOrder(venueId, order.symbol));
    },
  };
  return adapter;
}
