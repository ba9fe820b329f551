import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ccxtAdapter, type CcxtAdapter } from '../../src/adapters/index.js';
import { guardExternal } from '../../src/reconcile/index.js';
import { BinanceVenue } from '../helpers/binanceVenue.js';

/*
 * Issue 12: the ccxt adapter on a spot exchange (ccxt `binance`) against a Binance spot API on
 * 127.0.0.1: holdings from the account's balances valued at 24 h tickers (the quote currency is
 * cash, dust is reported for the reconciler to judge on value), closes as market sells, open orders.
 */

const NO_SLEEP = { sleep: async () => undefined };
let venue: BinanceVenue;
let base: string;

beforeAll(async () => {
  venue = new BinanceVenue('spot');
  base = await venue.listen();
});
afterAll(() => venue.close());
beforeEach(() => {
  venue.balances.clear();
  venue.orders.length = 0;
  venue.requests.length = 0;
});

// ccxt's throttle off: it spaces requests by Binance's weights, which is no part of what is tested here.
const make = (): Promise<CcxtAdapter> =>
  ccxtAdapter({ exchangeId: 'binance', credentials: { apiKey: 'spot-key', secret: 'spot-secret' }, baseUrl: base, rateLimit: false });

describe('#12 ccxt binance spot: holdings', () => {
  it('lists each asset held but the quote currency, valued at its ticker; dust is listed too (the reconciler judges it on value)', async () => {
    venue.balances.set('BTC', 0.5);
    venue.balances.set('ETH', 0.001);
    venue.balances.set('USDT', 1200);
    venue.balances.set('SOL', 0);
    const adapter = await make();
    expect([adapter.market, adapter.positionMode]).toEqual(['spot', 'netting']);
    const positions = await guardExternal(adapter).listPositions();
    expect(positions.map(({ id, symbol, side, quantity, value, price }) => ({ id, symbol, side, quantity, value, price }))).toEqual([
      { id: 'BTC/USDT', symbol: 'BTC/USDT', side: 'long', quantity: 0.5, value: 30000, price: 60000 },
      { id: 'ETH/USDT', symbol: 'ETH/USDT', side: 'long', quantity: 0.001, value: 3, price: 3000 },
    ]);
    // Tickers asked for the held symbols only.
    expect(JSON.parse(venue.calls('GET /api/v3/ticker/24hr')[0]?.params.get('symbols') ?? '[]')).toEqual(['BTCUSDT', 'ETHUSDT']);
  });

  it('an asset with no market against the quote currency is listed with value 0 and priced: false (no price to judge it by)', async () => {
    venue.balances.set('BTC', 0.1);
    venue.balances.set('XYZ', 40);
    const positions = await guardExternal(await make()).listPositions();
    expect(positions.find((p) => p.id === 'XYZ/USDT')).toMatchObject({ quantity: 40, value: 0, metadata: { asset: 'XYZ', priced: false } });
    expect(positions.find((p) => p.id === 'BTC/USDT')).toMatchObject({ value: 6000, metadata: { priced: true } });
  });

  it('closes a holding with a market sell of it (partly, when a quantity is given); the balance moves to the quote currency', async () => {
    venue.balances.set('BTC', 0.5);
    venue.balances.set('USDT', 0);
    const adapter = await make();
    await adapter.closePosition('BTC/USDT', { signal: new AbortController().signal, quantity: 0.2 });
    expect(venue.balances.get('BTC')).toBeCloseTo(0.3, 9);
    await guardExternal(adapter).closePosition('BTC/USDT');
    expect(venue.balances.get('BTC')).toBe(0);
    expect(venue.balances.get('USDT')).toBeCloseTo(30000, 6);
    const sells = venue
      .calls('POST /api/v3/order')
      .map((r) => [r.params.get('side'), r.params.get('type'), r.params.get('quantity'), r.params.has('reduceOnly')]);
    expect(sells).toEqual([
      ['SELL', 'MARKET', '0.2', false],
      ['SELL', 'MARKET', '0.3', false],
    ]);
    expect(await guardExternal(adapter).listPositions()).toEqual([]);
  });

  it('a sell the venue refuses (insufficient balance) is rejected', async () => {
    venue.balances.set('BTC', 0.5);
    const adapter = await make();
    venue.fail('POST /api/v3/order', {
      status: 400,
      body: '{"code":-2010,"msg":"Account has insufficient balance for requested action."}',
    });
    await expect(guardExternal(adapter, NO_SLEEP).closePosition('BTC/USDT')).rejects.toMatchObject({ failure: 'rejected' });
    expect(venue.balances.get('BTC')).toBe(0.5);
  });
});

describe('#12 ccxt binance spot: orders', () => {
  it('places with the client order id, lists it open, finds it by that id and cancels it', async () => {
    venue.balances.set('USDT', 10_000);
    const guarded = guardExternal(await make());
    const outcome = await guarded.submitOrder(
      { positionId: 'ETH-1', symbol: 'ETH/USDT', side: 'buy', type: 'limit', quantity: 1, limitPrice: 2500 },
      { clientOrderId: 'pt9f8e-1' },
    );
    expect(outcome).toMatchObject({ outcome: 'accepted', ack: { clientOrderId: 'pt9f8e-1', status: 'open' } });
    expect(venue.calls('POST /api/v3/order')[0]?.params.get('newClientOrderId')).toBe('pt9f8e-1');
    expect(await guarded.listOpenOrders()).toEqual([
      expect.objectContaining({
        clientOrderId: 'pt9f8e-1',
        symbol: 'ETH/USDT',
        side: 'buy',
        quantity: 1,
        filledQuantity: 0,
        status: 'open',
      }),
    ]);
    expect(await guarded.getOrder({ clientOrderId: 'pt9f8e-1' })).toMatchObject({ status: 'open', quantity: 1 });
    await guarded.cancelOrder({ clientOrderId: 'pt9f8e-1' });
    expect(venue.orders[0]?.status).toBe('CANCELED');
    expect(await guarded.listOpenOrders()).toEqual([]);
  });
});
