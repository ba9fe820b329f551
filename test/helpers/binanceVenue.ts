/*
 * A small Binance on 127.0.0.1 for the ccxt adapter's tests: USDⓈ-M futures (`/fapi`) or spot
 * (`/api/v3`), answering with the JSON shapes of Binance's public API documentation (exchange
 * information, position risk v3, account, 24 h tickers, orders, error bodies `{ code, msg }`).
 * It keeps state: a market order fills at once at the mark price and moves the position or the
 * balances, so reconciliation through real ccxt can be checked against what the venue holds.
 * Faults (a status, a raw body, a delay) can be queued per route. Signatures are not checked.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type VenueKind = 'usdm' | 'spot';

/** A futures position as Binance keeps it: signed amount, `BOTH` in one-way mode, `LONG`/`SHORT` in hedge mode. */
export interface VenuePosition {
  symbol: string;
  positionSide: 'BOTH' | 'LONG' | 'SHORT';
  amount: number;
  entryPrice: number;
}

export interface VenueOrder {
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: 'MARKET' | 'LIMIT';
  origQty: number;
  executedQty: number;
  price: number;
  avgPrice: number;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';
  reduceOnly: boolean;
  positionSide: 'BOTH' | 'LONG' | 'SHORT';
  time: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  params: Map<string, string>;
  apiKey: string | undefined;
}

/** A queued answer for one route, used once: an HTTP status with a raw body, after an optional delay. */
export interface Fault {
  status?: number;
  /** The raw body; a function sees the request (to echo what was sent). */
  body?: string | ((request: RecordedRequest) => string);
  delayMs?: number;
}

/** Symbols of the venue, with the mark price each starts at. */
const MARKETS: readonly { base: string; quote: string; price: number }[] = [
  { base: 'BTC', quote: 'USDT', price: 60000 },
  { base: 'ETH', quote: 'USDT', price: 3000 },
  { base: 'SOL', quote: 'USDT', price: 150 },
  { base: 'LTC', quote: 'USDT', price: 80 },
];

const str = (n: number): string => String(n);

function futuresSymbol(base: string, quote: string): Record<string, unknown> {
  return {
    symbol: `${base}${quote}`,
    pair: `${base}${quote}`,
    contractType: 'PERPETUAL',
    deliveryDate: 4133404800000,
    onboardDate: 1569398400000,
    status: 'TRADING',
    baseAsset: base,
    quoteAsset: quote,
    marginAsset: quote,
    pricePrecision: 2,
    quantityPrecision: 3,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    settlePlan: 0,
    triggerProtect: '0.0500',
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: '0.10', maxPrice: '1000000', tickSize: '0.10' },
      { filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '1000', stepSize: '0.001' },
      { filterType: 'MARKET_LOT_SIZE', minQty: '0.001', maxQty: '1000', stepSize: '0.001' },
      { filterType: 'MAX_NUM_ORDERS', limit: 200 },
      { filterType: 'MIN_NOTIONAL', notional: '5' },
    ],
    orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  };
}

function spotSymbol(base: string, quote: string): Record<string, unknown> {
  return {
    symbol: `${base}${quote}`,
    status: 'TRADING',
    baseAsset: base,
    baseAssetPrecision: 8,
    quoteAsset: quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: '0.01000000', maxPrice: '1000000.00000000', tickSize: '0.01000000' },
      { filterType: 'LOT_SIZE', minQty: '0.00001000', maxQty: '9000.00000000', stepSize: '0.00001000' },
      {
        filterType: 'NOTIONAL',
        minNotional: '5.00000000',
        applyMinToMarket: true,
        maxNotional: '9000000.00000000',
        applyMaxToMarket: false,
        avgPriceMins: 5,
      },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

/**
 * The fake venue. `positions`, `balances`, `prices`, `orders` and `dualSidePosition` are its
 * state (tests set and read them); `fail(route, fault)` queues a fault, `requests` records calls.
 */
export class BinanceVenue {
  readonly positions: VenuePosition[] = [];
  /** Spot: asset → free amount. */
  readonly balances = new Map<string, number>();
  /** Venue symbol (BTCUSDT) → mark / last price. */
  readonly prices = new Map<string, number>(MARKETS.map((m) => [`${m.base}${m.quote}`, m.price]));
  readonly orders: VenueOrder[] = [];
  readonly requests: RecordedRequest[] = [];
  dualSidePosition = false;
  private readonly faults = new Map<string, Fault[]>();
  private server: Server | undefined;
  private nextOrderId = 1000;
  private readonly sockets = new Set<Socket>();

  constructor(readonly kind: VenueKind) {}

  /** Queues a fault for `METHOD /path` (e.g. `GET /fapi/v3/positionRisk`); used by the next matching request. */
  fail(route: string, fault: Fault): void {
    const queue = this.faults.get(route) ?? [];
    queue.push(fault);
    this.faults.set(route, queue);
  }

  /** Drops the faults not used yet. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Starts on 127.0.0.1 at a free port; answers the base URL. */
  async listen(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Calls of one route so far. */
  calls(route: string): RecordedRequest[] {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params = new Map<string, string>(url.searchParams);
    for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
    const header = req.headers['x-mbx-apikey'];
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      params,
      apiKey: Array.isArray(header) ? header[0] : header,
    };
    this.requests.push(request);
    const route = `${request.method} ${request.path}`;
    const fault = this.faults.get(route)?.shift();
    if (fault?.delayMs !== undefined) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.status !== undefined || fault?.body !== undefined) {
      const text = typeof fault.body === 'function' ? fault.body(request) : (fault.body ?? '');
      res.writeHead(fault.status ?? 200, { 'content-type': 'application/json' });
      res.end(text);
      return;
    }
    const [status, answer] = this.answer(route, params);
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  }

  private answer(route: string, p: Map<string, string>): [number, unknown] {
    const f = this.kind === 'usdm' ? '/fapi' : '/api';
    switch (route) {
      case 'GET /sapi/v1/capital/config/getall':
      case 'GET /sapi/v1/margin/allPairs':
      case 'GET /sapi/v1/margin/isolated/allPairs':
        return [200, []];
      case 'GET /fapi/v1/exchangeInfo':
        return [
          200,
          {
            timezone: 'UTC',
            serverTime: Date.now(),
            rateLimits: [],
            exchangeFilters: [],
            assets: [],
            symbols: MARKETS.map((m) => futuresSymbol(m.base, m.quote)),
          },
        ];
      case 'GET /dapi/v1/exchangeInfo':
        // ccxt's binance loads coin-margined markets too: this venue lists none.
        return [200, { timezone: 'UTC', serverTime: Date.now(), rateLimits: [], exchangeFilters: [], symbols: [] }];
      case 'GET /api/v3/exchangeInfo':
        return [
          200,
          {
            timezone: 'UTC',
            serverTime: Date.now(),
            rateLimits: [],
            exchangeFilters: [],
            symbols: MARKETS.map((m) => spotSymbol(m.base, m.quote)),
          },
        ];
      case 'GET /fapi/v1/leverageBracket':
        return [
          200,
          MARKETS.map((m) => ({
            symbol: `${m.base}${m.quote}`,
            brackets: [{ bracket: 1, initialLeverage: 125, notionalCap: 50000, notionalFloor: 0, maintMarginRatio: 0.004, cum: 0 }],
          })),
        ];
      case 'GET /fapi/v1/positionSide/dual':
        return [200, { dualSidePosition: this.dualSidePosition }];
      case 'GET /fapi/v3/positionRisk':
        return [200, this.positions.map((pos) => this.positionRisk(pos))];
      case 'GET /api/v3/account':
        return [200, this.account()];
      case 'GET /api/v3/ticker/24hr':
        return [200, this.tickers(p.get('symbols'))];
      case `GET ${f}/v1/openOrders`:
      case 'GET /api/v3/openOrders':
        return [
          200,
          this.orders
            .filter((o) => (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (!p.has('symbol') || o.symbol === p.get('symbol')))
            .map((o) => this.orderJson(o)),
        ];
      case `GET ${f}/v1/order`:
      case 'GET /api/v3/order': {
        const order = this.find(p);
        return order ? [200, this.orderJson(order)] : [400, { code: -2013, msg: 'Order does not exist.' }];
      }
      case `DELETE ${f}/v1/order`:
      case 'DELETE /api/v3/order': {
        const order = this.find(p);
        if (!order || (order.status !== 'NEW' && order.status !== 'PARTIALLY_FILLED'))
          return [400, { code: -2011, msg: 'Unknown order sent.' }];
        order.status = 'CANCELED';
        return [200, this.orderJson(order)];
      }
      case `POST ${f}/v1/order`:
      case 'POST /api/v3/order':
        return this.place(p);
      default:
        return [404, { code: -1, msg: `no such endpoint: ${route}` }];
    }
  }

  private find(p: Map<string, string>): VenueOrder | undefined {
    const client = p.get('origClientOrderId');
    const id = p.get('orderId');
    return this.orders.find(
      (o) => o.symbol === p.get('symbol') && (client !== undefined ? o.clientOrderId === client : String(o.orderId) === id),
    );
  }

  private place(p: Map<string, string>): [number, unknown] {
    const symbol = p.get('symbol') ?? '';
    const price = this.prices.get(symbol);
    if (price === undefined) return [400, { code: -1121, msg: 'Invalid symbol.' }];
    const clientOrderId = p.get('newClientOrderId') ?? `x-${this.nextOrderId}`;
    if (this.orders.some((o) => o.clientOrderId === clientOrderId && o.symbol === symbol))
      return [400, { code: -4116, msg: 'ClientOrderId is duplicated.' }];
    const side = p.get('side') === 'SELL' ? 'SELL' : 'BUY';
    const type = p.get('type') === 'LIMIT' ? 'LIMIT' : 'MARKET';
    const qty = Number(p.get('quantity'));
    const positionSide = (p.get('positionSide') ?? 'BOTH') as VenueOrder['positionSide'];
    const reduceOnly = p.get('reduceOnly') === 'true';
    const order: VenueOrder = {
      orderId: this.nextOrderId++,
      clientOrderId,
      symbol,
      side,
      type,
      origQty: qty,
      executedQty: 0,
      price: type === 'LIMIT' ? Number(p.get('price')) : 0,
      avgPrice: 0,
      status: 'NEW',
      reduceOnly,
      positionSide,
      time: Date.now(),
    };
    if (type === 'MARKET') {
      const refused = this.kind === 'usdm' ? this.fillFutures(order, price) : this.fillSpot(order, price);
      if (refused !== undefined) return [400, refused];
    }
    this.orders.push(order);
    return [200, this.orderJson(order)];
  }

  private fillFutures(order: VenueOrder, price: number): { code: number; msg: string } | undefined {
    const signed = order.side === 'BUY' ? order.origQty : -order.origQty;
    let pos = this.positions.find((x) => x.symbol === order.symbol && x.positionSide === order.positionSide);
    if (
      order.reduceOnly ||
      (order.positionSide === 'LONG' && order.side === 'SELL') ||
      (order.positionSide === 'SHORT' && order.side === 'BUY')
    ) {
      if (!pos || Math.sign(pos.amount) === Math.sign(signed) || Math.abs(pos.amount) + 1e-12 < order.origQty) {
        return { code: -2022, msg: 'ReduceOnly Order is rejected.' };
      }
    }
    if (!pos) {
      pos = { symbol: order.symbol, positionSide: order.positionSide, amount: 0, entryPrice: price };
      this.positions.push(pos);
    }
    pos.amount = Math.round((pos.amount + signed) * 1e9) / 1e9;
    if (pos.amount === 0) this.positions.splice(this.positions.indexOf(pos), 1);
    order.executedQty = order.origQty;
    order.avgPrice = price;
    order.status = 'FILLED';
    return undefined;
  }

  private fillSpot(order: VenueOrder, price: number): { code: number; msg: string } | undefined {
    const market = MARKETS.find((m) => `${m.base}${m.quote}` === order.symbol);
    if (!market) return { code: -1121, msg: 'Invalid symbol.' };
    const base = this.balances.get(market.base) ?? 0;
    const quote = this.balances.get(market.quote) ?? 0;
    if (order.side === 'SELL' && base + 1e-12 < order.origQty)
      return { code: -2010, msg: 'Account has insufficient balance for requested action.' };
    if (order.side === 'BUY' && quote + 1e-9 < order.origQty * price)
      return { code: -2010, msg: 'Account has insufficient balance for requested action.' };
    const sign = order.side === 'BUY' ? 1 : -1;
    this.balances.set(market.base, Math.round((base + sign * order.origQty) * 1e9) / 1e9);
    this.balances.set(market.quote, quote - sign * order.origQty * price);
    order.executedQty = order.origQty;
    order.avgPrice = price;
    order.status = 'FILLED';
    return undefined;
  }

  private positionRisk(pos: VenuePosition): Record<string, string> {
    const mark = this.prices.get(pos.symbol) ?? 0;
    const notional = pos.amount * mark;
    return {
      symbol: pos.symbol,
      positionSide: pos.positionSide,
      positionAmt: str(pos.amount),
      entryPrice: str(pos.entryPrice),
      breakEvenPrice: str(pos.entryPrice),
      markPrice: str(mark),
      unRealizedProfit: str((mark - pos.entryPrice) * pos.amount),
      liquidationPrice: '0',
      isolatedMargin: '0',
      notional: str(notional),
      marginAsset: 'USDT',
      isolatedWallet: '0',
      initialMargin: str(Math.abs(notional) / 20),
      maintMargin: str(Math.abs(notional) * 0.004),
      positionInitialMargin: str(Math.abs(notional) / 20),
      openOrderInitialMargin: '0',
      adl: '1',
      bidNotional: '0',
      askNotional: '0',
      updateTime: str(Date.now()),
    };
  }

  private account(): Record<string, unknown> {
    return {
      makerCommission: 10,
      takerCommission: 10,
      buyerCommission: 0,
      sellerCommission: 0,
      commissionRates: { maker: '0.00100000', taker: '0.00100000', buyer: '0.00000000', seller: '0.00000000' },
      canTrade: true,
      canWithdraw: true,
      canDeposit: true,
      brokered: false,
      requireSelfTradePrevention: false,
      preventSor: false,
      updateTime: Date.now(),
      accountType: 'SPOT',
      balances: [...this.balances].map(([asset, free]) => ({ asset, free: free.toFixed(8), locked: '0.00000000' })),
      permissions: ['SPOT'],
      uid: 354937868,
    };
  }

  private tickers(symbolsParam: string | undefined): Record<string, unknown>[] {
    const wanted = symbolsParam === undefined ? undefined : new Set(JSON.parse(symbolsParam) as string[]);
    return [...this.prices]
      .filter(([symbol]) => wanted === undefined || wanted.has(symbol))
      .map(([symbol, last]) => ({
        symbol,
        priceChange: '0',
        priceChangePercent: '0',
        weightedAvgPrice: str(last),
        prevClosePrice: str(last),
        lastPrice: str(last),
        lastQty: '1',
        bidPrice: str(last),
        bidQty: '1',
        askPrice: str(last),
        askQty: '1',
        openPrice: str(last),
        highPrice: str(last),
        lowPrice: str(last),
        volume: '100',
        quoteVolume: str(100 * last),
        openTime: Date.now() - 86_400_000,
        closeTime: Date.now(),
        firstId: 1,
        lastId: 100,
        count: 100,
      }));
  }

  private orderJson(o: VenueOrder): Record<string, unknown> {
    const common = {
      orderId: o.orderId,
      symbol: o.symbol,
      status: o.status,
      clientOrderId: o.clientOrderId,
      price: str(o.price),
      origQty: str(o.origQty),
      executedQty: str(o.executedQty),
      timeInForce: 'GTC',
      type: o.type,
      side: o.side,
      time: o.time,
      updateTime: o.time,
    };
    if (this.kind === 'spot') {
      return {
        ...common,
        orderListId: -1,
        cummulativeQuoteQty: str(o.executedQty * o.avgPrice),
        stopPrice: '0.00000000',
        icebergQty: '0.00000000',
        isWorking: true,
        workingTime: o.time,
        origQuoteOrderQty: '0.00000000',
        selfTradePreventionMode: 'NONE',
      };
    }
    return {
      ...common,
      avgPrice: str(o.avgPrice),
      cumQty: str(o.executedQty),
      cumQuote: str(o.executedQty * o.avgPrice),
      reduceOnly: o.reduceOnly,
      closePosition: false,
      positionSide: o.positionSide,
      stopPrice: '0',
      workingType: 'CONTRACT_PRICE',
      priceProtect: false,
      origType: o.type,
      priceMatch: 'NONE',
      selfTradePreventionMode: 'NONE',
      goodTillDate: 0,
    };
  }
}
