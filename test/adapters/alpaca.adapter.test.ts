import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExternalError, ValidationError, alpacaAdapter, guardExternal, type AlpacaAdapter } from '../../src/index.js';
import { ALPACA_LIVE_URL, ALPACA_PAPER_URL } from '../../src/adapters/alpaca/index.js';
import { FakeAlpaca } from '../helpers/fakeAlpaca.js';

/*
 * Issue 12: the Alpaca adapter through the real SDK (@alpacahq/alpaca-trade-api), pointed at a
 * server on 127.0.0.1 that answers with Alpaca's JSON: positions (long, short), orders with
 * client ids, refusals, a rate limit, a 5xx, a body that is not JSON, a slow answer.
 */

const KEY = 'PKTESTKEYID0000000001';
const SECRET = 'sk-test-secret-do-not-print-9f3a';

let venue: FakeAlpaca;
let adapter: AlpacaAdapter;

beforeEach(async () => {
  venue = new FakeAlpaca();
  const baseUrl = await venue.start();
  adapter = await alpacaAdapter({ keyId: KEY, secret: SECRET, baseUrl, env: {} });
});
afterEach(() => venue.stop());

/** The guard as reconciliation uses it, with no real sleeping between retries. */
const guarded = (timeoutMs = 2000) => guardExternal(adapter, { timeoutMs, retries: 2, sleep: () => Promise.resolve(), random: () => 0 });

describe('alpaca positions', () => {
  it('lists a long and a short position: strings to numbers, the short as side short with absolute numbers, keyed by symbol', async () => {
    venue.setPosition('AAPL', 10, 152.34);
    venue.setPosition('TSLA', -5, 220.1);
    const list = await guarded().listPositions();
    expect(list).toEqual([
      {
        id: 'AAPL',
        symbol: 'AAPL',
        side: 'long',
        quantity: 10,
        value: 1523.4,
        price: 152.34,
        metadata: { assetId: 'asset-AAPL', assetClass: 'us_equity', avgEntryPrice: 152.34 },
      },
      {
        id: 'TSLA',
        symbol: 'TSLA',
        side: 'short',
        quantity: 5,
        value: 1100.5,
        price: 220.1,
        metadata: { assetId: 'asset-TSLA', assetClass: 'us_equity', avgEntryPrice: 220.1 },
      },
    ]);
    // What Alpaca sent for the short: negative strings.
    expect(venue.positionJson('TSLA')).toMatchObject({ qty: '-5', market_value: '-1100.5', side: 'short' });
    const request = venue.requests.at(-1);
    expect(request).toMatchObject({ method: 'GET', path: '/v2/positions' });
    expect(request?.headers['apca-api-key-id']).toBe(KEY);
    expect(request?.headers['apca-api-secret-key']).toBe(SECRET);
    expect(adapter.positionMode).toBe('netting');
  });

  it('a crypto position (BTCUSD at Alpaca) keeps Alpaca’s id for the position paths and names its pair as orders do (BTC/USD)', async () => {
    venue.setPosition('BTCUSD', 0.5, 60000);
    venue.setPosition('ETHUSDT', 2, 3000);
    const list = await guarded().listPositions();
    expect(list.map((p) => [p.id, p.symbol, p.quantity, p.value])).toEqual([
      ['BTCUSD', 'BTC/USD', 0.5, 30000],
      ['ETHUSDT', 'ETH/USDT', 2, 6000],
    ]);
    await adapter.closePosition('BTCUSD', { signal: new AbortController().signal, quantity: 0.1 });
    expect(venue.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/v2/positions/BTCUSD' });
    // Named by its pair (a venue key), the position is still found and closed at Alpaca's path.
    expect(await guarded().getPosition('BTC/USD')).toMatchObject({ id: 'BTC/USD', symbol: 'BTC/USD', quantity: 0.4 });
    expect(venue.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v2/positions/BTCUSD' });
    await adapter.closePosition('ETH/USDT', { signal: new AbortController().signal });
    expect(venue.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/v2/positions/ETHUSDT' });
  });

  it('getPosition answers the symbol’s position, and null when Alpaca says 404', async () => {
    venue.setPosition('MSFT', -2, 400);
    const g = guarded();
    expect(await g.getPosition('MSFT')).toMatchObject({ id: 'MSFT', side: 'short', quantity: 2, value: 800 });
    expect(await g.getPosition('NVDA')).toBeNull();
    expect(venue.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v2/positions/NVDA' });
  });

  it('a sign that contradicts the side, or a quantity that is not a number, is malformed naming the field', async () => {
    venue.setPosition('AAPL', 10, 100);
    const good = venue.positionJson('AAPL');
    venue.fail('GET /v2/positions', { body: [{ ...good, qty: '-10' }] });
    await expect(guarded().listPositions()).rejects.toMatchObject({
      failure: 'malformed',
      message: expect.stringContaining('side "long" with qty -10'),
    });
    venue.fail('GET /v2/positions', { body: [{ ...good, qty: 'ten' }] });
    await expect(guarded().listPositions()).rejects.toMatchObject({
      failure: 'malformed',
      message: expect.stringContaining('qty: must be a decimal number in a string, got "ten"'),
    });
  });

  it('closes a position with DELETE /v2/positions/{symbol} and reports the order Alpaca placed, not a closed position', async () => {
    venue.setPosition('AAPL', 10, 100);
    const order = await adapter.closePosition('AAPL', { signal: new AbortController().signal });
    expect(order).toMatchObject({ symbol: 'AAPL', side: 'sell', quantity: 10, filledQuantity: 0, status: 'open' });
    expect(venue.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/v2/positions/AAPL' });
    expect(venue.requests.at(-1)?.query.get('qty')).toBeNull();
    expect(venue.positions.has('AAPL')).toBe(false);
  });

  it('a partial close sends the quantity to take off (qty), and Alpaca closes only that much', async () => {
    venue.setPosition('TSLA', -8, 200);
    const order = await adapter.closePosition('TSLA', { signal: new AbortController().signal, quantity: 3, side: 'short' });
    expect(order).toMatchObject({ symbol: 'TSLA', side: 'buy', quantity: 3 });
    expect(venue.requests.at(-1)?.query.get('qty')).toBe('3');
    expect(venue.positions.get('TSLA')?.qty).toBe(-5);
    await expect(adapter.closePosition('TSLA', { signal: new AbortController().signal, quantity: -1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('closing what Alpaca does not hold is a refusal (404), and the guarded close is not retried', async () => {
    const g = guarded();
    await expect(g.closePosition('GONE')).rejects.toMatchObject({ failure: 'rejected', message: expect.stringContaining('HTTP 404') });
    expect(venue.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });
});

describe('alpaca orders', () => {
  it('lists open orders with their client ids, Alpaca status words in the port’s', async () => {
    const a = venue.placeByHand({ symbol: 'AAPL', side: 'buy', qty: 5, limitPrice: 90, clientOrderId: 'pt-a-1' });
    const b = venue.placeByHand({ symbol: 'TSLA', side: 'sell', qty: 2, limitPrice: 300, clientOrderId: 'by-hand', status: 'new' });
    const c = venue.placeByHand({
      symbol: 'MSFT',
      side: 'buy',
      qty: 4,
      limitPrice: 300,
      clientOrderId: 'pt-a-2',
      status: 'partially_filled',
    });
    c.filled_qty = '1';
    c.filled_avg_price = '299.5';
    const d = venue.placeByHand({
      symbol: 'NVDA',
      side: 'buy',
      qty: 1,
      limitPrice: 100,
      clientOrderId: 'pt-a-3',
      status: 'pending_cancel',
    });
    venue.placeByHand({ symbol: 'AMD', side: 'buy', qty: 1, limitPrice: 100, clientOrderId: 'done', status: 'filled' });
    const list = await guarded().listOpenOrders();
    expect(list.map((o) => [o.clientOrderId, o.externalOrderId, o.status, o.quantity, o.filledQuantity])).toEqual([
      ['pt-a-1', a.id, 'open', 5, 0],
      ['by-hand', b.id, 'open', 2, 0],
      ['pt-a-2', c.id, 'partially_filled', 4, 1],
      ['pt-a-3', d.id, 'open', 1, 0],
    ]);
    expect(list[2]).toMatchObject({ averagePrice: 299.5, symbol: 'MSFT', side: 'buy', createdAt: c.created_at });
    expect(venue.requests.at(-1)?.query.get('status')).toBe('open');
  });

  it('pages through open orders past Alpaca’s 500 a page (after_order_id)', async () => {
    const placed = Array.from({ length: 502 }, (_, i) =>
      venue.placeByHand({ symbol: 'AAPL', side: 'buy', qty: 1, limitPrice: 90, clientOrderId: `pt-page-${i}` }),
    );
    const list = await guarded().listOpenOrders();
    expect(list.map((o) => o.externalOrderId)).toEqual(placed.map((o) => o.id));
    const pages = venue.requests.filter((r) => r.path === '/v2/orders');
    expect(pages.map((r) => [r.query.get('limit'), r.query.get('after_order_id')])).toEqual([
      ['500', null],
      ['500', placed[499]?.id],
    ]);
  });

  it('looks an order up by client order id (/v2/orders:by_client_order_id) and by Alpaca id; unknown is null', async () => {
    const a = venue.placeByHand({ symbol: 'AAPL', side: 'buy', qty: 5, limitPrice: 90, clientOrderId: 'pt-look-1' });
    const g = guarded();
    expect(await g.getOrder({ clientOrderId: 'pt-look-1' })).toMatchObject({ externalOrderId: a.id, status: 'open' });
    expect(venue.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v2/orders:by_client_order_id' });
    expect(venue.requests.at(-1)?.query.get('client_order_id')).toBe('pt-look-1');
    expect(await g.getOrder({ externalOrderId: a.id })).toMatchObject({ clientOrderId: 'pt-look-1' });
    expect(await g.getOrder({ clientOrderId: 'pt-nobody' })).toBeNull();
  });

  it('submits with the client order id; Alpaca’s answer is the accepted order', async () => {
    venue.setPosition('AAPL', 1, 150);
    const outcome = await guarded().submitOrder(
      { positionId: 'AAPL-1', symbol: 'AAPL', side: 'buy', type: 'limit', quantity: 2, limitPrice: 149.5 },
      { clientOrderId: 'pt-sub-1' },
    );
    expect(outcome).toMatchObject({ outcome: 'accepted', ack: { clientOrderId: 'pt-sub-1', status: 'open', quantity: 2 } });
    expect(venue.requests.at(-1)?.body).toEqual({
      symbol: 'AAPL',
      qty: '2',
      side: 'buy',
      type: 'limit',
      time_in_force: 'day',
      limit_price: '149.5',
      client_order_id: 'pt-sub-1',
    });
  });

  it('a reduce-only order carries the closing intent', async () => {
    venue.setPosition('AAPL', 5, 150);
    await guarded().submitOrder(
      { positionId: 'AAPL-1', symbol: 'AAPL', side: 'sell', type: 'market', quantity: 2, reduceOnly: true },
      { clientOrderId: 'pt-red-1' },
    );
    expect(venue.requests.at(-1)?.body).toMatchObject({ position_intent: 'sell_to_close', client_order_id: 'pt-red-1' });
  });

  it('a refused order (403 insufficient buying power, 422 unprocessable) is refused: provably not placed', async () => {
    for (const [status, message] of [
      [403, 'insufficient buying power'],
      [422, 'qty must be integer'],
    ] as const) {
      venue.fail('POST /v2/orders', { status, message });
      const outcome = await guarded().submitOrder(
        { positionId: 'AAPL-1', symbol: 'AAPL', side: 'buy', type: 'market', quantity: 1 },
        { clientOrderId: `pt-ref-${status}` },
      );
      expect(outcome.outcome).toBe('refused');
      if (outcome.outcome !== 'refused') continue;
      expect(outcome.error.failure).toBe('rejected');
      expect(outcome.error.message).toContain(`HTTP ${status}`);
      expect(outcome.error.message).toContain(message);
    }
    expect(venue.orders.size).toBe(0);
  });

  it('a reused client order id is refused by Alpaca (422)', async () => {
    const g = guarded();
    const request = { positionId: 'AAPL-1', symbol: 'AAPL', side: 'buy', type: 'market', quantity: 1 } as const;
    expect((await g.submitOrder(request, { clientOrderId: 'pt-dup-1' })).outcome).toBe('accepted');
    const again = await g.submitOrder(request, { clientOrderId: 'pt-dup-1' });
    expect(again).toMatchObject({
      outcome: 'refused',
      error: { failure: 'rejected', message: expect.stringContaining('client_order_id must be unique') },
    });
  });

  it('cancels by client order id (looked up first, then DELETE /v2/orders/{id}); a finished order is a refusal', async () => {
    const a = venue.placeByHand({ symbol: 'AAPL', side: 'buy', qty: 5, limitPrice: 90, clientOrderId: 'pt-can-1' });
    const g = guarded();
    await g.cancelOrder({ clientOrderId: 'pt-can-1' });
    expect(venue.requests.at(-1)).toMatchObject({ method: 'DELETE', path: `/v2/orders/${a.id}` });
    expect(a.status).toBe('canceled');
    await expect(g.cancelOrder({ clientOrderId: 'pt-can-1', externalOrderId: a.id })).rejects.toMatchObject({
      failure: 'rejected',
      message: expect.stringContaining('HTTP 422'),
    });
    await expect(g.cancelOrder({ clientOrderId: 'pt-none' })).rejects.toMatchObject({ failure: 'rejected' });
  });

  it('lists fills from the FILL account activities, at or after since', async () => {
    venue.setPosition('AAPL', 1, 150);
    const g = guarded();
    const first = await g.submitOrder(
      { positionId: 'AAPL-1', symbol: 'AAPL', side: 'buy', type: 'market', quantity: 2 },
      { clientOrderId: 'pt-f-1' },
    );
    await g.submitOrder({ positionId: 'AAPL-1', symbol: 'AAPL', side: 'buy', type: 'market', quantity: 3 }, { clientOrderId: 'pt-f-2' });
    const all = await g.listFills({});
    expect(all).toHaveLength(2);
    expect(all[0]).toEqual({
      tradeId: venue.fills[0]?.id,
      externalOrderId: first.outcome === 'accepted' ? first.ack.externalOrderId : '',
      quantity: 2,
      price: 150,
      fee: 0,
      at: venue.fills[0]?.transaction_time,
    });
    const since = venue.fills[1]?.transaction_time ?? '';
    const later = await g.listFills({ since });
    expect(later.map((f) => f.quantity)).toEqual([3]);
    expect(venue.requests.at(-1)?.query.get('after')).toBe(new Date(Date.parse(since) - 1).toISOString());
  });
});

describe('alpaca failures in the port’s kinds', () => {
  it('429 is rate_limited: the guard backs off and tries again; one that persists ends rate_limited', async () => {
    venue.setPosition('AAPL', 1, 100);
    venue.fail('GET /v2/positions', { status: 429, message: 'too many requests' });
    const g = guarded();
    expect(await g.listPositions()).toHaveLength(1);
    expect(g.stats.retries).toBe(1);
    venue.fail('GET /v2/positions', { status: 429, message: 'too many requests' }, 3);
    await expect(guarded().listPositions()).rejects.toMatchObject({
      failure: 'rate_limited',
      message: expect.stringContaining('HTTP 429'),
    });
  });

  it('a 5xx is unreachable; a submit answered 5xx is unknown (looked up, never sent again)', async () => {
    venue.fail('GET /v2/positions', { status: 503, message: 'service unavailable' }, 3);
    await expect(guarded().listPositions()).rejects.toMatchObject({ failure: 'unreachable', message: expect.stringContaining('HTTP 503') });
    venue.fail('POST /v2/orders', { status: 500, message: 'internal server error' });
    const outcome = await guarded().submitOrder(
      { positionId: 'AAPL-1', symbol: 'AAPL', side: 'buy', type: 'market', quantity: 1 },
      { clientOrderId: 'pt-5xx-1' },
    );
    expect(outcome).toMatchObject({ outcome: 'unknown', error: { failure: 'unreachable' } });
    expect(venue.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('a body that is not JSON is malformed', async () => {
    venue.fail('GET /v2/positions', { notJson: '{"symbol": "AAPL", qty: oops' });
    await expect(guarded().listPositions()).rejects.toMatchObject({ failure: 'malformed', message: expect.stringContaining('not JSON') });
    venue.fail('GET /v2/orders', { notJson: '<html>502 Bad Gateway</html>' });
    await expect(guarded().listOpenOrders()).rejects.toMatchObject({ failure: 'malformed' });
  });

  it('an unknown order status word is malformed', async () => {
    const a = venue.placeByHand({ symbol: 'AAPL', side: 'buy', qty: 5, limitPrice: 90, clientOrderId: 'pt-st-1' });
    venue.fail('GET /v2/orders:by_client_order_id', { body: { ...a, status: 'teleported' } });
    await expect(guarded().getOrder({ clientOrderId: 'pt-st-1' })).rejects.toMatchObject({
      failure: 'malformed',
      message: expect.stringContaining('"teleported"'),
    });
  });

  it('a slow answer past the timeout is a timeout, and the SDK’s request is aborted by the port’s signal', async () => {
    venue.fail('GET /v2/positions', { delayMs: 1500 }, 3);
    const started = Date.now();
    await expect(guardExternal(adapter, { timeoutMs: 150, retries: 0 }).listPositions()).rejects.toMatchObject({ failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1400);
    await expect.poll(() => venue.requests[0]?.aborted, { timeout: 2000 }).toBe(true);
  });

  it('a venue that cannot be reached is unreachable', async () => {
    await venue.stop();
    await expect(guardExternal(adapter, { timeoutMs: 2000, retries: 0 }).listPositions()).rejects.toMatchObject({ failure: 'unreachable' });
  });

  it('credentials never appear in an error, even when the server echoes them', async () => {
    venue.fail('GET /v2/positions', { status: 401, message: `key ${KEY} with secret ${SECRET} is not authorized` });
    const error = (await guarded()
      .listPositions()
      .catch((e: unknown) => e)) as ExternalError;
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.failure).toBe('rejected');
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(KEY);
    expect(error.message).toContain('[redacted]');
    expect(JSON.stringify(adapter)).not.toContain(SECRET);
  });
});

describe('alpaca adapter options', () => {
  it('paper by default, live only when asked; credentials from APCA_API_KEY_ID / APCA_API_SECRET_KEY', async () => {
    const env = { APCA_API_KEY_ID: KEY, APCA_API_SECRET_KEY: SECRET };
    const paper = await alpacaAdapter({ env });
    expect([paper.baseUrl, paper.live]).toEqual([ALPACA_PAPER_URL, false]);
    const live = await alpacaAdapter({ env, live: true });
    expect([live.baseUrl, live.live]).toEqual([ALPACA_LIVE_URL, true]);
  });

  it('missing credentials or a bad base URL are bad input naming what to set, never the secret', async () => {
    await expect(alpacaAdapter({ env: {} })).rejects.toThrow(/alpaca: no keyId: set APCA_API_KEY_ID/);
    await expect(alpacaAdapter({ env: { APCA_API_KEY_ID: KEY } })).rejects.toThrow(/alpaca: no secret: set APCA_API_SECRET_KEY/);
    const bad = await alpacaAdapter({ env: { APCA_API_KEY_ID: KEY, APCA_API_SECRET_KEY: `${SECRET}\n` } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as Error).message).not.toContain(SECRET);
    await expect(alpacaAdapter({ keyId: KEY, secret: SECRET, baseUrl: 'ftp://example.test' })).rejects.toThrow(
      /baseUrl: must be an http:\/\/ or https:\/\/ URL/,
    );
  });
});
