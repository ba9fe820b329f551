import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guardExternal, type ExternalOrderRequest, type GuardedExternal } from '../../src/index.js';
import { broker } from './readmeOrderAdapter.js';

/*
 * The README's order adapter ("Orders at the outside system") is test/reconcile/readmeOrderAdapter.ts,
 * word for word but the import (the typecheck covers the file, so the README's example type-checks),
 * and it works: run through guardExternal against a 127.0.0.1 server answering Alpaca's JSON.
 */

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const EXAMPLE = readFileSync(new URL('./readmeOrderAdapter.ts', import.meta.url), 'utf8');

it('the README block is the example file, with the package name in its import', () => {
  const start = README.indexOf('\n### Orders at the outside system\n');
  expect(start).toBeGreaterThan(-1);
  const section = README.slice(start).split(/\n#{1,3} /)[1] ?? '';
  const block = /^```ts\n([\s\S]*?)^```/m.exec(section)?.[1];
  expect(block).toBe(EXAMPLE.replace("from '../../src/index.js'", "from 'position-tracker'"));
});

interface AlpacaOrder {
  id: string;
  client_order_id: string;
  symbol: string;
  side: string;
  qty: string;
  filled_qty: string;
  filled_avg_price: string | null;
  status: string;
}

/** A small Alpaca: orders by id, answers with its JSON, and fails on demand with a status code. */
class FakeAlpaca {
  readonly orders = new Map<string, AlpacaOrder>();
  readonly requests: string[] = [];
  /** Alpaca's one position per symbol, as its JSON has it (decimal strings, a short negative). */
  readonly positions = new Map<string, { symbol: string; side: string; qty: string; market_value: string }>();
  failNext: number[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (status: number, json?: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(json === undefined ? undefined : JSON.stringify(json));
    };
    if (req.headers['apca-api-key-id'] !== 'key-id' || req.headers['apca-api-secret-key'] !== 'secret') {
      return send(401, { code: 40110000, message: 'request is not authorized' });
    }
    const failure = this.failNext.shift();
    if (failure !== undefined) return send(failure, { message: 'simulated' });
    if (req.method === 'POST' && url.pathname === '/v2/orders') {
      const sent = JSON.parse(body) as Record<string, string>;
      const order: AlpacaOrder = {
        id: `alp-${this.orders.size + 1}`,
        client_order_id: sent.client_order_id ?? '',
        symbol: sent.symbol ?? '',
        side: sent.side ?? '',
        qty: sent.qty ?? '',
        filled_qty: '0',
        filled_avg_price: null,
        status: 'accepted',
      };
      this.orders.set(order.id, order);
      return send(200, order);
    }
    if (req.method === 'GET' && url.pathname === '/v2/orders:by_client_order_id') {
      const found = [...this.orders.values()].find((o) => o.client_order_id === url.searchParams.get('client_order_id'));
      return found ? send(200, found) : send(404, { message: 'order not found' });
    }
    if (req.method === 'GET' && url.pathname === '/v2/orders') {
      return send(
        200,
        [...this.orders.values()].filter((o) => ['accepted', 'new', 'partially_filled'].includes(o.status)),
      );
    }
    if (url.pathname.startsWith('/v2/orders/')) {
      const order = this.orders.get(decodeURIComponent(url.pathname.slice('/v2/orders/'.length)));
      if (!order) return send(404, { message: 'order not found' });
      if (req.method === 'GET') return send(200, order);
      order.status = 'canceled';
      return send(204);
    }
    if (req.method === 'GET' && url.pathname === '/v2/positions') return send(200, [...this.positions.values()]);
    if (req.method === 'DELETE' && url.pathname.startsWith('/v2/positions/')) {
      const p = this.positions.get(decodeURIComponent(url.pathname.slice('/v2/positions/'.length)));
      if (!p) return send(404, { message: 'position not found' });
      const left = Math.abs(Number(p.qty)) - Number(url.searchParams.get('qty') ?? Math.abs(Number(p.qty)));
      if (left <= 0) this.positions.delete(p.symbol);
      else p.qty = String(Math.sign(Number(p.qty)) * left);
      return send(200, { id: 'close-1', symbol: p.symbol, status: 'accepted' });
    }
    if (req.method === 'GET' && url.pathname === '/v2/account/activities/FILL') {
      return send(200, [{ id: 'fill-1', order_id: 'alp-1', qty: '0.01', price: '60000', transaction_time: '2026-12-02T00:00:00Z' }]);
    }
    send(404, { message: 'no route' });
  }
}

const REQUEST: ExternalOrderRequest = { positionId: 'BTC-1', symbol: 'BTCUSD', side: 'buy', type: 'market', quantity: 0.01 };

describe("the README's order adapter against Alpaca's JSON", () => {
  let alpaca: FakeAlpaca;
  let guarded: GuardedExternal;
  let base: string;

  beforeEach(async () => {
    alpaca = new FakeAlpaca();
    base = await alpaca.start();
    guarded = guardExternal(broker(base, { keyId: 'key-id', secretKey: 'secret' }), {
      sleep: async () => undefined,
      timeoutMs: 2000,
    });
  });
  afterEach(async () => alpaca.stop());

  it('can trade: submit, look up by client order id, list, cancel, list fills', async () => {
    expect(guarded.capabilities).toMatchObject({ canTrade: true, listFills: true });
    expect(await guarded.submitOrder(REQUEST, { clientOrderId: 'pt-a-1' })).toEqual({
      outcome: 'accepted',
      clientOrderId: 'pt-a-1',
      ack: {
        clientOrderId: 'pt-a-1',
        externalOrderId: 'alp-1',
        symbol: 'BTCUSD',
        side: 'buy',
        quantity: 0.01,
        filledQuantity: 0,
        status: 'open',
      },
    });
    expect(await guarded.getOrder({ clientOrderId: 'pt-a-1' })).toMatchObject({ externalOrderId: 'alp-1', status: 'open' });
    expect(await guarded.getOrder({ clientOrderId: 'pt-unknown-1' })).toBeNull();
    expect((await guarded.listOpenOrders()).map((o) => o.externalOrderId)).toEqual(['alp-1']);
    await guarded.cancelOrder({ clientOrderId: 'pt-a-1' });
    expect(await guarded.getOrder({ externalOrderId: 'alp-1' })).toMatchObject({ status: 'canceled' });
    expect(await guarded.listOpenOrders()).toEqual([]);
    expect(await guarded.listFills({ since: '2026-12-01T00:00:00Z' })).toEqual([
      { tradeId: 'fill-1', externalOrderId: 'alp-1', quantity: 0.01, price: 60_000, fee: 0, at: '2026-12-02T00:00:00Z' },
    ]);
    expect(alpaca.requests).toContain('GET /v2/account/activities/FILL?after=2026-12-01T00:00:00Z');
  });

  it('a 5xx leaves a submit unknown (sent once), a 422 is a refusal, a 429 is sent again', async () => {
    alpaca.failNext = [503];
    expect(await guarded.submitOrder(REQUEST, { clientOrderId: 'pt-a-1' })).toMatchObject({
      outcome: 'unknown',
      error: { failure: 'unreachable' },
    });
    alpaca.failNext = [422];
    expect(await guarded.submitOrder(REQUEST, { clientOrderId: 'pt-b-1' })).toMatchObject({
      outcome: 'refused',
      error: { failure: 'rejected' },
    });
    alpaca.failNext = [429];
    expect(await guarded.submitOrder(REQUEST, { clientOrderId: 'pt-c-1' })).toMatchObject({ outcome: 'accepted' });
    expect(alpaca.requests.filter((r) => r === 'POST /v2/orders')).toHaveLength(4);
  });

  it("lists Alpaca's positions netted by symbol (a short normalised), and closes a part with ?qty=", async () => {
    alpaca.positions.set('AAPL', { symbol: 'AAPL', side: 'short', qty: '-3', market_value: '-450' });
    expect(guarded.positionMode).toBe('netting');
    expect(await guarded.listPositions()).toEqual([{ id: 'AAPL', symbol: 'AAPL', side: 'short', quantity: 3, value: 450 }]);
    await guarded.closePosition('AAPL', { quantity: 1, side: 'short' });
    expect(alpaca.requests).toContain('DELETE /v2/positions/AAPL?qty=1');
    expect(alpaca.positions.get('AAPL')?.qty).toBe('-2');
  });

  it("sends Alpaca's key headers: without them Alpaca answers 401, a refusal", async () => {
    const keyless = guardExternal(broker(base, { keyId: 'wrong', secretKey: 'secret' }), { sleep: async () => undefined });
    await expect(keyless.listPositions()).rejects.toMatchObject({ failure: 'rejected' });
  });

  it('a status the mapping does not know reaches the port as is and is malformed there', async () => {
    await guarded.submitOrder(REQUEST, { clientOrderId: 'pt-a-1' });
    const order = alpaca.orders.get('alp-1');
    if (order) order.status = 'done_for_day';
    await expect(guarded.getOrder({ clientOrderId: 'pt-a-1' })).rejects.toMatchObject({
      failure: 'malformed',
      message: expect.stringMatching(/status: .*got "done_for_day"/),
    });
  });
});
