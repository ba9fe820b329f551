/*
 * A small Alpaca Trading API v2 on 127.0.0.1, answering with Alpaca's JSON shapes as its API
 * documentation gives them (positions with decimal strings and negative shorts, orders with
 * client_order_id and Alpaca's status words, FILL account activities, the { code, message }
 * error envelope). It nets by symbol, like Alpaca: an order's fill moves the symbol's one
 * position. Faults are queued per route: a status with Alpaca's error body, a body that is not
 * JSON, or a delay past the caller's timeout.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface AlpacaPositionJson {
  asset_id: string;
  symbol: string;
  exchange: string;
  asset_class: string;
  asset_marginable: boolean;
  qty: string;
  qty_available: string;
  avg_entry_price: string;
  side: 'long' | 'short';
  market_value: string;
  cost_basis: string;
  unrealized_pl: string;
  unrealized_plpc: string;
  unrealized_intraday_pl: string;
  unrealized_intraday_plpc: string;
  current_price: string;
  lastday_price: string;
  change_today: string;
}

export interface AlpacaOrderJson {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at: string;
  submitted_at: string;
  filled_at: string | null;
  expired_at: string | null;
  canceled_at: string | null;
  failed_at: string | null;
  replaced_at: string | null;
  replaced_by: string | null;
  replaces: string | null;
  asset_id: string;
  symbol: string;
  asset_class: string;
  notional: string | null;
  qty: string | null;
  filled_qty: string;
  filled_avg_price: string | null;
  order_class: string;
  order_type: string;
  type: string;
  side: 'buy' | 'sell';
  time_in_force: string;
  limit_price: string | null;
  stop_price: string | null;
  status: string;
  extended_hours: boolean;
  legs: null;
  trail_percent: string | null;
  trail_price: string | null;
  hwm: string | null;
  position_intent?: string;
}

export interface AlpacaFillJson {
  id: string;
  activity_type: 'FILL';
  transaction_time: string;
  type: 'fill' | 'partial_fill';
  price: string;
  qty: string;
  side: 'buy' | 'sell';
  symbol: string;
  leaves_qty: string;
  order_id: string;
  cum_qty: string;
  order_status: string;
}

/** What a queued fault does to the next request of its route. */
export type Fault = { status: number; code?: number; message: string } | { notJson: string } | { delayMs: number } | { body: unknown };

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  /** Set when the client went away before the answer (an aborted call). */
  aborted: boolean;
}

const asset = (symbol: string): string => `asset-${symbol}`;
const dec = (n: number): string => String(Math.round(n * 1e9) / 1e9);

/** An Alpaca account in memory behind an HTTP server. */
export class FakeAlpaca {
  readonly positions = new Map<string, { qty: number; price: number; avgEntry: number }>();
  readonly orders = new Map<string, AlpacaOrderJson>();
  readonly fills: AlpacaFillJson[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Queued faults by route key (`GET /v2/positions`, `POST /v2/orders`, ...). */
  readonly faults = new Map<string, Fault[]>();
  /** When false, a market order rests `accepted` instead of filling at once. */
  fillMarketOrders = true;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private clock = Date.parse('2026-12-02T14:30:00Z');

  /** Starts listening on 127.0.0.1 (a free port); answers the base URL. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Sets the symbol's one (netted) position: a negative quantity is a short. */
  setPosition(symbol: string, qty: number, price: number): void {
    if (qty === 0) this.positions.delete(symbol);
    else this.positions.set(symbol, { qty, price, avgEntry: price });
  }

  /** The next `count` requests of `route` get `fault`. */
  fail(route: string, fault: Fault, count = 1): void {
    const list = this.faults.get(route) ?? [];
    for (let i = 0; i < count; i++) list.push(fault);
    this.faults.set(route, list);
  }

  /** An order placed by hand at the venue (not through the adapter). */
  placeByHand(order: {
    symbol: string;
    side: 'buy' | 'sell';
    qty: number;
    limitPrice: number;
    clientOrderId?: string;
    status?: string;
  }): AlpacaOrderJson {
    const o = this.newOrder({
      symbol: order.symbol,
      side: order.side,
      qty: order.qty,
      type: 'limit',
      limitPrice: order.limitPrice,
      clientOrderId: order.clientOrderId ?? randomUUID(),
      timeInForce: 'gtc',
    });
    if (order.status) o.status = order.status;
    return o;
  }

  positionJson(symbol: string): AlpacaPositionJson | undefined {
    const p = this.positions.get(symbol);
    if (!p) return undefined;
    const value = p.qty * p.price;
    const cost = p.qty * p.avgEntry;
    return {
      asset_id: asset(symbol),
      symbol,
      exchange: 'NASDAQ',
      asset_class: /(USD|USDT|USDC)$/.test(symbol) && symbol.length > 5 ? 'crypto' : 'us_equity',
      asset_marginable: true,
      qty: dec(p.qty),
      qty_available: dec(p.qty),
      avg_entry_price: dec(p.avgEntry),
      side: p.qty < 0 ? 'short' : 'long',
      market_value: dec(value),
      cost_basis: dec(cost),
      unrealized_pl: dec(value - cost),
      unrealized_plpc: cost === 0 ? '0' : dec((value - cost) / Math.abs(cost)),
      unrealized_intraday_pl: '0',
      unrealized_intraday_plpc: '0',
      current_price: dec(p.price),
      lastday_price: dec(p.price),
      change_today: '0',
    };
  }

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  private newOrder(r: {
    symbol: string;
    side: 'buy' | 'sell';
    qty: number;
    type: string;
    limitPrice?: number;
    clientOrderId: string;
    timeInForce: string;
    positionIntent?: string;
  }): AlpacaOrderJson {
    const at = this.now();
    const o: AlpacaOrderJson = {
      id: randomUUID(),
      client_order_id: r.clientOrderId,
      created_at: at,
      updated_at: at,
      submitted_at: at,
      filled_at: null,
      expired_at: null,
      canceled_at: null,
      failed_at: null,
      replaced_at: null,
      replaced_by: null,
      replaces: null,
      asset_id: asset(r.symbol),
      symbol: r.symbol,
      asset_class: 'us_equity',
      notional: null,
      qty: dec(r.qty),
      filled_qty: '0',
      filled_avg_price: null,
      order_class: '',
      order_type: r.type,
      type: r.type,
      side: r.side,
      time_in_force: r.timeInForce,
      limit_price: r.limitPrice === undefined ? null : dec(r.limitPrice),
      stop_price: null,
      status: 'accepted',
      extended_hours: false,
      legs: null,
      trail_percent: null,
      trail_price: null,
      hwm: null,
      ...(r.positionIntent === undefined ? {} : { position_intent: r.positionIntent }),
    };
    this.orders.set(o.id, o);
    return o;
  }

  /** Fills a market order at the symbol's price: one FILL activity, the netted position moves. */
  private fill(o: AlpacaOrderJson): void {
    const qty = Number(o.qty);
    const p = this.positions.get(o.symbol);
    const price = p?.price ?? 100;
    const signed = o.side === 'buy' ? qty : -qty;
    const next = (p?.qty ?? 0) + signed;
    if (Math.abs(next) < 1e-9) this.positions.delete(o.symbol);
    else this.positions.set(o.symbol, { qty: next, price, avgEntry: p?.avgEntry ?? price });
    const at = this.now();
    o.status = 'filled';
    o.filled_qty = o.qty ?? '0';
    o.filled_avg_price = dec(price);
    o.filled_at = at;
    o.updated_at = at;
    this.fills.push({
      id: `${at.replace(/\D/g, '').slice(0, 17)}::${randomUUID()}`,
      activity_type: 'FILL',
      transaction_time: at,
      type: 'fill',
      price: dec(price),
      qty: o.qty ?? '0',
      side: o.side,
      symbol: o.symbol,
      leaves_qty: '0',
      order_id: o.id,
      cum_qty: o.qty ?? '0',
      order_status: 'filled',
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
      aborted: false,
    };
    this.requests.push(recorded);
    res.on('close', () => {
      if (!res.writableFinished) recorded.aborted = true;
    });
    const send = (status: number, json?: unknown): void => {
      if (res.destroyed) return;
      if (json === undefined) res.writeHead(status).end();
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    };
    const route = this.route(recorded.method, url.pathname);
    const fault = this.faults.get(route)?.shift();
    if (fault) {
      if ('delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
      else if ('notJson' in fault) return void res.writeHead(200, { 'content-type': 'application/json' }).end(fault.notJson);
      else if ('body' in fault) return send(200, fault.body);
      else return send(fault.status, { code: fault.code ?? fault.status * 100000, message: fault.message });
    }
    if (req.headers['apca-api-key-id'] === undefined || req.headers['apca-api-secret-key'] === undefined) {
      return send(401, { code: 40110000, message: 'request is not authorized' });
    }
    this.answer(recorded, url, send);
  }

  /** The route key faults are queued under: the path with its ids replaced by `:id`. */
  route(method: string, path: string): string {
    const shape = path
      .replace(/^\/v2\/positions\/[^/]+$/, '/v2/positions/:symbol')
      .replace(/^\/v2\/orders\/[^/]+$/, '/v2/orders/:id')
      .replace(/^\/v2\/account\/activities\/[^/]+$/, '/v2/account/activities/:type');
    return `${method} ${shape}`;
  }

  private answer(r: RecordedRequest, url: URL, send: (status: number, json?: unknown) => void): void {
    const path = decodeURIComponent(url.pathname);
    const notFound = (what: string) => send(404, { code: 40410000, message: `${what} not found` });
    if (r.method === 'GET' && path === '/v2/positions') {
      return send(
        200,
        [...this.positions.keys()].map((s) => this.positionJson(s)),
      );
    }
    let m = /^\/v2\/positions\/(.+)$/.exec(path);
    if (m?.[1] !== undefined) {
      const symbol = m[1];
      const p = this.positions.get(symbol);
      if (!p) return notFound('position');
      if (r.method === 'GET') return send(200, this.positionJson(symbol));
      if (r.method === 'DELETE') {
        const asked = r.query.get('qty');
        const qty = asked === null ? Math.abs(p.qty) : Number(asked);
        if (!(qty > 0) || qty > Math.abs(p.qty) + 1e-9) {
          return send(403, {
            code: 40310000,
            message: `insufficient qty available for order (requested: ${qty}, available: ${Math.abs(p.qty)})`,
          });
        }
        const o = this.newOrder({
          symbol,
          side: p.qty > 0 ? 'sell' : 'buy',
          qty,
          type: 'market',
          clientOrderId: randomUUID(),
          timeInForce: 'day',
        });
        if (this.fillMarketOrders) {
          const answered = { ...o };
          this.fill(o);
          return send(200, answered);
        }
        return send(200, o);
      }
    }
    if (r.method === 'GET' && path === '/v2/orders:by_client_order_id') {
      const id = r.query.get('client_order_id');
      const o = [...this.orders.values()].find((x) => x.client_order_id === id);
      return o ? send(200, o) : notFound('order');
    }
    if (r.method === 'GET' && path === '/v2/orders') {
      const live = new Set(['new', 'accepted', 'pending_new', 'partially_filled', 'pending_cancel', 'held', 'done_for_day']);
      let list = [...this.orders.values()].filter((o) => r.query.get('status') !== 'open' || live.has(o.status));
      const after = r.query.get('after_order_id');
      if (after) list = list.slice(list.findIndex((o) => o.id === after) + 1);
      return send(200, list.slice(0, Number(r.query.get('limit') ?? 50)));
    }
    if (r.method === 'POST' && path === '/v2/orders') {
      const b = r.body as Record<string, string | undefined>;
      const clientOrderId = b.client_order_id ?? randomUUID();
      if ([...this.orders.values()].some((o) => o.client_order_id === clientOrderId)) {
        return send(422, { code: 40010001, message: 'client_order_id must be unique' });
      }
      const qty = Number(b.qty);
      if (!(qty > 0)) return send(422, { code: 40010001, message: 'qty must be > 0' });
      const p = this.positions.get(b.symbol ?? '');
      if (b.side === 'sell' && b.position_intent === 'sell_to_close' && (p === undefined || p.qty < qty)) {
        return send(403, { code: 40310000, message: 'insufficient qty available for order' });
      }
      const o = this.newOrder({
        symbol: b.symbol ?? '',
        side: b.side === 'sell' ? 'sell' : 'buy',
        qty,
        type: b.type ?? 'market',
        ...(b.limit_price === undefined ? {} : { limitPrice: Number(b.limit_price) }),
        clientOrderId,
        timeInForce: b.time_in_force ?? 'day',
        ...(b.position_intent === undefined ? {} : { positionIntent: b.position_intent }),
      });
      const answered = { ...o };
      if (o.type === 'market' && this.fillMarketOrders) this.fill(o);
      return send(200, answered);
    }
    m = /^\/v2\/orders\/(.+)$/.exec(path);
    if (m?.[1] !== undefined) {
      const o = this.orders.get(m[1]);
      if (!o) return notFound('order');
      if (r.method === 'GET') return send(200, o);
      if (r.method === 'DELETE') {
        if (['filled', 'canceled', 'expired', 'rejected'].includes(o.status)) {
          return send(422, { code: 42210000, message: `order is already in "${o.status}" state` });
        }
        o.status = 'canceled';
        o.canceled_at = this.now();
        o.updated_at = o.canceled_at;
        return send(204);
      }
    }
    if (r.method === 'GET' && path === '/v2/account/activities/FILL') {
      const after = r.query.get('after');
      const token = r.query.get('page_token');
      let list = this.fills.filter((f) => after === null || Date.parse(f.transaction_time) > Date.parse(after));
      if (token) list = list.slice(list.findIndex((f) => f.id === token) + 1);
      return send(200, list.slice(0, Number(r.query.get('page_size') ?? 100)));
    }
    return send(404, { code: 40410000, message: `no route ${r.method} ${path}` });
  }
}
