import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ccxtAdapter, type CcxtAdapter } from '../../src/adapters/index.js';
import { guardExternal } from '../../src/reconcile/index.js';
import { BinanceVenue } from '../helpers/binanceVenue.js';

/*
 * Issue 12: the ccxt adapter through real ccxt (binanceusdm) against a Binance USDⓈ-M on
 * 127.0.0.1 answering with the venue's own JSON shapes: positions (long, short, hedge-mode
 * pairs), open orders with client ids, orders placed, looked up, closed and canceled, and the
 * venue's failures (a rejected order, a rate limit, a 5xx, broken JSON, a slow answer).
 */

const KEY = 'test-api-key-7Hq2';
const SECRET = 'test-secret-Zp91xK';
const NO_SLEEP = { sleep: async () => undefined };

let venue: BinanceVenue;
let base: string;

beforeAll(async () => {
  venue = new BinanceVenue('usdm');
  base = await venue.listen();
});
afterAll(() => venue.close());
beforeEach(() => {
  venue.positions.length = 0;
  venue.orders.length = 0;
  venue.requests.length = 0;
  venue.dualSidePosition = false;
});

const make = (extra: Partial<Parameters<typeof ccxtAdapter>[0]> = {}): Promise<CcxtAdapter> =>
  // ccxt's throttle off: it spaces requests by Binance's weights (seconds per test), which is no part of what is tested here.
  ccxtAdapter({ exchangeId: 'binanceusdm', credentials: { apiKey: KEY, secret: SECRET }, baseUrl: base, rateLimit: false, ...extra });

describe('#12 ccxt binanceusdm: positions', () => {
  it('lists a long and a short as side, absolute quantity (contracts × contract size) and notional value; flat ones are left out', async () => {
    venue.positions.push(
      { symbol: 'BTCUSDT', positionSide: 'BOTH', amount: 0.5, entryPrice: 58000 },
      { symbol: 'ETHUSDT', positionSide: 'BOTH', amount: -2, entryPrice: 3100 },
      { symbol: 'SOLUSDT', positionSide: 'BOTH', amount: 0, entryPrice: 0 },
    );
    const adapter = await make();
    expect(adapter.positionMode).toBe('netting');
    expect(adapter.market).toBe('derivatives');
    const positions = await guardExternal(adapter).listPositions();
    expect(positions.map(({ id, symbol, side, quantity, value, price }) => ({ id, symbol, side, quantity, value, price }))).toEqual([
      { id: 'BTC/USDT:USDT', symbol: 'BTC/USDT:USDT', side: 'long', quantity: 0.5, value: 30000, price: 60000 },
      { id: 'ETH/USDT:USDT', symbol: 'ETH/USDT:USDT', side: 'short', quantity: 2, value: 6000, price: 3000 },
    ]);
    expect(positions[1]?.metadata).toMatchObject({ entryPrice: 3100, contracts: 2, contractSize: 1, hedged: false });
    // The API key went in Binance's header, on the v3 position-risk endpoint.
    expect(venue.calls('GET /fapi/v3/positionRisk')[0]?.apiKey).toBe(KEY);
  });

  it('asks the venue for its position mode: a hedge-mode account is hedge, its long and short of one symbol keyed by symbol and side', async () => {
    venue.dualSidePosition = true;
    venue.positions.push(
      { symbol: 'BTCUSDT', positionSide: 'LONG', amount: 1, entryPrice: 59000 },
      { symbol: 'BTCUSDT', positionSide: 'SHORT', amount: -0.4, entryPrice: 61000 },
    );
    const adapter = await make();
    expect(adapter.positionMode).toBe('hedge');
    const positions = await guardExternal(adapter).listPositions();
    expect(positions.map(({ id, symbol, side, quantity, value }) => ({ id, symbol, side, quantity, value }))).toEqual([
      { id: 'BTC/USDT:USDT#long', symbol: 'BTC/USDT:USDT', side: 'long', quantity: 1, value: 60000 },
      { id: 'BTC/USDT:USDT#short', symbol: 'BTC/USDT:USDT', side: 'short', quantity: 0.4, value: 24000 },
    ]);
  });

  it('an option says hedge without asking the venue; netting by option on a one-way account', async () => {
    const hedged = await make({ positionMode: 'hedge' });
    expect(hedged.positionMode).toBe('hedge');
    const netting = await make({ positionMode: 'netting' });
    expect(netting.positionMode).toBe('netting');
    expect(venue.calls('GET /fapi/v1/positionSide/dual')).toHaveLength(0);
  });

  it('getPosition answers the position by its id, or null when it is not open', async () => {
    venue.positions.push({ symbol: 'BTCUSDT', positionSide: 'BOTH', amount: 0.25, entryPrice: 60000 });
    const guarded = guardExternal(await make());
    expect(await guarded.getPosition('BTC/USDT:USDT')).toMatchObject({ id: 'BTC/USDT:USDT', quantity: 0.25, value: 15000 });
    expect(await guarded.getPosition('ETH/USDT:USDT')).toBeNull();
  });
});

describe('#12 ccxt binanceusdm: closes', () => {
  it('closes a long with a reduce-only market sell of its whole quantity; the venue is flat after', async () => {
    venue.positions.push({ symbol: 'BTCUSDT', positionSide: 'BOTH', amount: 0.5, entryPrice: 60000 });
    await guardExternal(await make()).closePosition('BTC/USDT:USDT');
    const sent = venue.calls('POST /fapi/v1/order')[0]?.params;
    expect(Object.fromEntries([...(sent ?? [])].filter(([k]) => ['symbol', 'side', 'type', 'quantity', 'reduceOnly'].includes(k)))).toEqual(
      {
        symbol: 'BTCUSDT',
        side: 'SELL',
        type: 'MARKET',
        quantity: '0.5',
        reduceOnly: 'true',
      },
    );
    expect(venue.positions).toEqual([]);
  });

  it('a partial close (quantity) of a short is a reduce-only market buy of that quantity; the rest stays open', async () => {
    venue.positions.push({ symbol: 'ETHUSDT', positionSide: 'BOTH', amount: -3, entryPrice: 3000 });
    const adapter = await make();
    await adapter.closePosition('ETH/USDT:USDT', { signal: new AbortController().signal, quantity: 1, side: 'short' });
    const sent = venue.calls('POST /fapi/v1/order')[0]?.params;
    expect([sent?.get('side'), sent?.get('quantity'), sent?.get('reduceOnly')]).toEqual(['BUY', '1', 'true']);
    expect(venue.positions).toEqual([expect.objectContaining({ symbol: 'ETHUSDT', amount: -2 })]);
  });

  it('in hedge mode closes one side by its position side (no reduceOnly flag: Binance refuses it there)', async () => {
    venue.dualSidePosition = true;
    venue.positions.push(
      { symbol: 'BTCUSDT', positionSide: 'LONG', amount: 1, entryPrice: 59000 },
      { symbol: 'BTCUSDT', positionSide: 'SHORT', amount: -0.4, entryPrice: 61000 },
    );
    await guardExternal(await make()).closePosition('BTC/USDT:USDT#short');
    const sent = venue.calls('POST /fapi/v1/order')[0]?.params;
    expect([sent?.get('side'), sent?.get('positionSide'), sent?.get('quantity'), sent?.has('reduceOnly')]).toEqual([
      'BUY',
      'SHORT',
      '0.4',
      false,
    ]);
    expect(venue.positions).toEqual([expect.objectContaining({ positionSide: 'LONG', amount: 1 })]);
  });

  it('closing a position that is not open is refused (rejected) and sends no order', async () => {
    await expect(guardExternal(await make(), NO_SLEEP).closePosition('BTC/USDT:USDT')).rejects.toMatchObject({ failure: 'rejected' });
    expect(venue.calls('POST /fapi/v1/order')).toHaveLength(0);
  });
});

describe('#12 ccxt binanceusdm: orders', () => {
  it('submits with the client order id in ccxt’s unified param (Binance newClientOrderId) and looks it up by that id', async () => {
    const guarded = guardExternal(await make());
    const outcome = await guarded.submitOrder(
      { positionId: 'BTC-1', symbol: 'BTC/USDT:USDT', side: 'buy', type: 'limit', quantity: 0.01, limitPrice: 55000 },
      { clientOrderId: 'pt1a2b-1' },
    );
    expect(outcome).toMatchObject({
      outcome: 'accepted',
      ack: { clientOrderId: 'pt1a2b-1', status: 'open', quantity: 0.01, filledQuantity: 0 },
    });
    expect(venue.calls('POST /fapi/v1/order')[0]?.params.get('newClientOrderId')).toBe('pt1a2b-1');
    const order = await guarded.getOrder({ clientOrderId: 'pt1a2b-1' });
    expect(order).toMatchObject({ clientOrderId: 'pt1a2b-1', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01, status: 'open' });
    expect(venue.calls('GET /fapi/v1/order')[0]?.params.get('origClientOrderId')).toBe('pt1a2b-1');
  });

  it('a reduce-only order is sent reduce-only; a filled market order reads as filled with its average price', async () => {
    venue.positions.push({ symbol: 'BTCUSDT', positionSide: 'BOTH', amount: 0.5, entryPrice: 60000 });
    const guarded = guardExternal(await make());
    const outcome = await guarded.submitOrder(
      { positionId: 'BTC-1', symbol: 'BTC/USDT:USDT', side: 'sell', type: 'market', quantity: 0.2, reduceOnly: true },
      { clientOrderId: 'pt1a2b-2' },
    );
    expect(outcome).toMatchObject({ outcome: 'accepted', ack: { status: 'filled', filledQuantity: 0.2, averagePrice: 60000 } });
    expect(venue.calls('POST /fapi/v1/order')[0]?.params.get('reduceOnly')).toBe('true');
    expect(venue.positions[0]?.amount).toBeCloseTo(0.3, 9);
  });

  it('lists open orders with their client ids; one with fills is partially_filled', async () => {
    venue.orders.push(
      {
        orderId: 7,
        clientOrderId: 'pt1a2b-3',
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        origQty: 0.1,
        executedQty: 0,
        price: 50000,
        avgPrice: 0,
        status: 'NEW',
        reduceOnly: false,
        positionSide: 'BOTH',
        time: 1_700_000_000_000,
      },
      {
        orderId: 8,
        clientOrderId: 'web_abc',
        symbol: 'ETHUSDT',
        side: 'SELL',
        type: 'LIMIT',
        origQty: 2,
        executedQty: 0.5,
        price: 3500,
        avgPrice: 3500,
        status: 'PARTIALLY_FILLED',
        reduceOnly: false,
        positionSide: 'BOTH',
        time: 1_700_000_000_000,
      },
      {
        orderId: 9,
        clientOrderId: 'pt1a2b-4',
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'MARKET',
        origQty: 0.1,
        executedQty: 0.1,
        price: 0,
        avgPrice: 60000,
        status: 'FILLED',
        reduceOnly: false,
        positionSide: 'BOTH',
        time: 1_700_000_000_000,
      },
    );
    const open = await guardExternal(await make()).listOpenOrders();
    expect(
      open.map(({ externalOrderId, clientOrderId, symbol, side, quantity, filledQuantity, status }) => ({
        externalOrderId,
        clientOrderId,
        symbol,
        side,
        quantity,
        filledQuantity,
        status,
      })),
    ).toEqual([
      {
        externalOrderId: '7',
        clientOrderId: 'pt1a2b-3',
        symbol: 'BTC/USDT:USDT',
        side: 'buy',
        quantity: 0.1,
        filledQuantity: 0,
        status: 'open',
      },
      {
        externalOrderId: '8',
        clientOrderId: 'web_abc',
        symbol: 'ETH/USDT:USDT',
        side: 'sell',
        quantity: 2,
        filledQuantity: 0.5,
        status: 'partially_filled',
      },
    ]);
    expect(open[0]?.createdAt).toBe(new Date(1_700_000_000_000).toISOString());
  });

  it('a new process finds an order it did not place: open ones among the open orders, finished ones in the symbols named', async () => {
    venue.orders.push(
      {
        orderId: 7,
        clientOrderId: 'pt1a2b-5',
        symbol: 'ETHUSDT',
        side: 'BUY',
        type: 'LIMIT',
        origQty: 1,
        executedQty: 0,
        price: 2500,
        avgPrice: 0,
        status: 'NEW',
        reduceOnly: false,
        positionSide: 'BOTH',
        time: 1,
      },
      {
        orderId: 9,
        clientOrderId: 'pt1a2b-6',
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'MARKET',
        origQty: 0.1,
        executedQty: 0.1,
        price: 0,
        avgPrice: 60000,
        status: 'FILLED',
        reduceOnly: false,
        positionSide: 'BOTH',
        time: 1,
      },
    );
    const guarded = guardExternal(await make({ symbols: ['ETH/USDT:USDT', 'BTC/USDT:USDT'] }), NO_SLEEP);
    expect(await guarded.getOrder({ clientOrderId: 'pt1a2b-5' })).toMatchObject({ externalOrderId: '7', status: 'open' });
    expect(await guarded.getOrder({ clientOrderId: 'pt1a2b-6' })).toMatchObject({
      externalOrderId: '9',
      status: 'filled',
      filledQuantity: 0.1,
      averagePrice: 60000,
    });
    // Binance's "Order does not exist." (OrderNotFound) in every symbol: the venue does not know it.
    expect(await guarded.getOrder({ clientOrderId: 'pt1a2b-7' })).toBeNull();
  });

  it('without symbols to search, an order that is not open cannot be judged absent: the look-up fails (rejected), it never answers null', async () => {
    const guarded = guardExternal(await make(), { retries: 0, ...NO_SLEEP });
    await expect(guarded.getOrder({ clientOrderId: 'pt1a2b-8' })).rejects.toMatchObject({
      failure: 'rejected',
      message: expect.stringContaining('PTRACK_CCXT_SYMBOLS'),
    });
  });

  it('cancels through cancelOrder (by the venue id, in its symbol); an order the venue does not know is refused (rejected)', async () => {
    const adapter = await make({ symbols: ['BTC/USDT:USDT'] });
    const guarded = guardExternal(adapter, NO_SLEEP);
    await guarded.submitOrder(
      { positionId: 'BTC-1', symbol: 'BTC/USDT:USDT', side: 'buy', type: 'limit', quantity: 0.01, limitPrice: 50000 },
      { clientOrderId: 'pt1a2b-9' },
    );
    await guarded.cancelOrder({ clientOrderId: 'pt1a2b-9' });
    expect(venue.orders[0]?.status).toBe('CANCELED');
    expect(venue.calls('DELETE /fapi/v1/order')[0]?.params.get('symbol')).toBe('BTCUSDT');
    expect(await guarded.getOrder({ clientOrderId: 'pt1a2b-9' })).toMatchObject({ status: 'canceled' });
    await expect(guarded.cancelOrder({ clientOrderId: 'pt1a2b-9' })).rejects.toMatchObject({ failure: 'rejected' });
    await expect(guarded.cancelOrder({ clientOrderId: 'pt-nobody' })).rejects.toMatchObject({ failure: 'rejected' });
  });
});

describe('#12 ccxt binanceusdm: the venue failing', () => {
  let adapter: CcxtAdapter;
  beforeEach(async () => {
    adapter = await make();
    await adapter.listPositions({ signal: new AbortController().signal }); // markets loaded, so each fault meets the call under test
    venue.requests.length = 0;
  });
  afterEach(() => venue.requests.splice(0));

  // ccxt picks Binance's per-market error tables by host name, which a base URL override replaces: these are codes of its common table.
  it.each([
    ['-2010 NEW_ORDER_REJECTED', '{"code":-2010,"msg":"Account has insufficient balance for requested action."}', 'InsufficientFunds'],
    ['-1111 precision', '{"code":-1111,"msg":"Precision is over the maximum defined for this asset."}', 'BadRequest'],
  ])('a rejected order (Binance %s) is refused: certainly not placed', async (_name, body, cls) => {
    venue.fail('POST /fapi/v1/order', { status: 400, body });
    const outcome = await guardExternal(adapter, NO_SLEEP).submitOrder(
      { positionId: 'BTC-1', symbol: 'BTC/USDT:USDT', side: 'buy', type: 'market', quantity: 1 },
      { clientOrderId: 'pt1a2b-10' },
    );
    expect(outcome).toMatchObject({ outcome: 'refused', error: { failure: 'rejected', message: expect.stringContaining(`(${cls})`) } });
    expect(venue.orders).toEqual([]);
  });

  it('an order under a client order id the venue already has (-4116) is unknown, not refused: it may be ours', async () => {
    venue.fail('POST /fapi/v1/order', { status: 400, body: '{"code":-4116,"msg":"ClientOrderId is duplicated."}' });
    const outcome = await guardExternal(adapter, NO_SLEEP).submitOrder(
      { positionId: 'BTC-1', symbol: 'BTC/USDT:USDT', side: 'buy', type: 'market', quantity: 1 },
      { clientOrderId: 'pt1a2b-11' },
    );
    expect(outcome).toMatchObject({ outcome: 'unknown', error: { failure: 'unreachable' } });
  });

  it('a rate-limit answer (429, -1003) is rate_limited, and the guard retries it', async () => {
    venue.fail('GET /fapi/v3/positionRisk', {
      status: 429,
      body: '{"code":-1003,"msg":"Too many requests; current limit is 2400 requests per minute."}',
    });
    await expect(guardExternal(adapter, { retries: 0, ...NO_SLEEP }).listPositions()).rejects.toMatchObject({ failure: 'rate_limited' });
    venue.fail('GET /fapi/v3/positionRisk', { status: 429, body: '{"code":-1003,"msg":"Too many requests"}' });
    const guarded = guardExternal(adapter, { retries: 1, ...NO_SLEEP });
    await expect(guarded.listPositions()).resolves.toEqual([]);
    expect(guarded.stats.retries).toBe(1);
  });

  it('a 5xx is unreachable (ExchangeNotAvailable)', async () => {
    venue.fail('GET /fapi/v3/positionRisk', { status: 503, body: '<html>Service Unavailable</html>' });
    await expect(guardExternal(adapter, { retries: 0, ...NO_SLEEP }).listPositions()).rejects.toMatchObject({ failure: 'unreachable' });
  });

  it('broken JSON is malformed (not "no positions", which is what ccxt alone would read it as), and so is a 200 with a page that is not JSON', async () => {
    venue.positions.push({ symbol: 'BTCUSDT', positionSide: 'BOTH', amount: 0.5, entryPrice: 60000 });
    venue.fail('GET /fapi/v3/positionRisk', { status: 200, body: '[{"symbol":"BTCUSDT","positionAmt":"0.5",' });
    await expect(guardExternal(adapter, { retries: 0, ...NO_SLEEP }).listPositions()).rejects.toMatchObject({
      failure: 'malformed',
      message: expect.stringContaining('BadResponse'),
    });
    venue.fail('GET /fapi/v3/positionRisk', { status: 200, body: '<html>maintenance</html>' });
    await expect(guardExternal(adapter, { retries: 0, ...NO_SLEEP }).listPositions()).rejects.toMatchObject({ failure: 'malformed' });
  });

  it('a slow answer past the guard’s timeout is a timeout at the timeout, and its late answer is ignored', async () => {
    venue.positions.push({ symbol: 'BTCUSDT', positionSide: 'BOTH', amount: 0.5, entryPrice: 60000 });
    venue.fail('GET /fapi/v3/positionRisk', { delayMs: 1500 });
    const started = Date.now();
    await expect(guardExternal(adapter, { timeoutMs: 200, retries: 0, ...NO_SLEEP }).listPositions()).rejects.toMatchObject({
      failure: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(1400);
  });

  it('ccxt’s own timeout (timeoutMs) ends a slow request as a timeout (RequestTimeout) too', async () => {
    const quick = await make({ timeoutMs: 200 });
    await quick.listPositions({ signal: new AbortController().signal });
    venue.fail('GET /fapi/v3/positionRisk', { delayMs: 1500 });
    await expect(guardExternal(quick, { timeoutMs: 5000, retries: 0, ...NO_SLEEP }).listPositions()).rejects.toMatchObject({
      failure: 'timeout',
      message: expect.stringContaining('RequestTimeout'),
    });
  });

  it('a call whose signal is already aborted sends nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(adapter.listPositions({ signal: controller.signal })).rejects.toThrow('gone');
    expect(venue.calls('GET /fapi/v3/positionRisk')).toHaveLength(0);
  });

  it('never shows the credentials: a venue that echoes the API key and secret in its error has them taken out', async () => {
    venue.fail('GET /fapi/v3/positionRisk', {
      status: 400,
      body: (r) => JSON.stringify({ code: -2015, msg: `Invalid API-key ${r.apiKey ?? ''}, secret ${SECRET}` }),
    });
    const error = await guardExternal(adapter, { retries: 0, ...NO_SLEEP })
      .listPositions()
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.message).toContain('Invalid API-key ***');
    expect(error?.message).not.toContain(KEY);
    expect(error?.message).not.toContain(SECRET);
  });
});
