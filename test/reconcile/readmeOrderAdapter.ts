import { ExternalError, type ExternalSystem } from '../../src/index.js';

// Alpaca's order statuses in the port's words; any other one reaches the port as is and is refused there (malformed).
const STATUS = new Map([
  ['new', 'open'],
  ['accepted', 'open'],
  ['pending_new', 'open'],
  ['partially_filled', 'partially_filled'],
  ['filled', 'filled'],
  ['canceled', 'canceled'],
  ['expired', 'expired'],
  ['rejected', 'rejected'],
]);
type Json = Record<string, string | null>;
const toOrder = (o: Json) => ({
  clientOrderId: o.client_order_id,
  externalOrderId: o.id,
  symbol: o.symbol,
  side: o.side,
  quantity: Number(o.qty),
  filledQuantity: Number(o.filled_qty),
  averagePrice: o.filled_avg_price === null ? undefined : Number(o.filled_avg_price),
  status: STATUS.get(String(o.status)) ?? o.status,
});

export function broker(base: string, keys: { keyId: string; secretKey: string }): ExternalSystem {
  const headers = { 'content-type': 'application/json', 'APCA-API-KEY-ID': keys.keyId, 'APCA-API-SECRET-KEY': keys.secretKey };
  const call = async (path: string, signal: AbortSignal, init: RequestInit = {}): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, { ...init, signal, headers });
    if (res.status === 404) return null;
    const what = `${init.method ?? 'GET'} ${path}: HTTP ${res.status}`;
    if (res.status === 429) throw new ExternalError(what, 'rate_limited'); // not placed: sent again after a back-off
    if (res.status >= 400 && res.status < 500) throw new ExternalError(what, 'rejected'); // refused: provably not placed
    if (!res.ok) throw new ExternalError(what, 'unreachable'); // a 5xx: a submit's outcome is unknown, looked up later
    return res.status === 204 ? null : res.json();
  };
  const order = async (path: string, signal: AbortSignal, init?: RequestInit) => {
    const o = (await call(path, signal, init)) as Json | null;
    return o && toOrder(o);
  };
  return {
    // Alpaca nets by symbol (one position per symbol, matched with the book's by venue key); a short comes as negative strings.
    positionMode: 'netting',
    listPositions: async ({ signal }) =>
      ((await call('/v2/positions', signal)) as Json[]).map((p) => ({
        id: p.symbol,
        symbol: p.symbol,
        side: p.side,
        quantity: Math.abs(Number(p.qty)),
        value: Math.abs(Number(p.market_value)),
      })),
    // A netting surplus is closed in part (`quantity`); without it, the whole position.
    closePosition: (id, { quantity, signal }) =>
      call(`/v2/positions/${encodeURIComponent(id)}${quantity === undefined ? '' : `?qty=${quantity}`}`, signal, { method: 'DELETE' }),
    submitOrder: (r, { clientOrderId, signal }) => {
      const body = { symbol: r.symbol, side: r.side, type: r.type, qty: String(r.quantity), limit_price: r.limitPrice };
      const sent = { ...body, time_in_force: 'gtc', client_order_id: clientOrderId };
      return order('/v2/orders', signal, { method: 'POST', body: JSON.stringify(sent) });
    },
    getOrder: (ref, { signal }) =>
      'clientOrderId' in ref
        ? order(`/v2/orders:by_client_order_id?client_order_id=${encodeURIComponent(ref.clientOrderId)}`, signal)
        : order(`/v2/orders/${encodeURIComponent(ref.externalOrderId)}`, signal),
    listOpenOrders: async ({ signal }) => ((await call('/v2/orders?status=open', signal)) as Json[]).map(toOrder),
    cancelOrder: async (ref, { signal }) => {
      const id =
        ref.externalOrderId ?? (await order(`/v2/orders:by_client_order_id?client_order_id=${ref.clientOrderId}`, signal))?.externalOrderId;
      if (!id) throw new ExternalError(`no order ${ref.clientOrderId} to cancel`, 'rejected');
      return call(`/v2/orders/${encodeURIComponent(id)}`, signal, { method: 'DELETE' });
    },
    listFills: async ({ since }, { signal }) => {
      const fills = (await call(`/v2/account/activities/FILL${since ? `?after=${since}` : ''}`, signal)) as Json[];
      // Alpaca's fill activities carry no fee (commission-free); a venue that charges one reports it here.
      return fills.map((f) => ({
        tradeId: f.id,
        externalOrderId: f.order_id,
        quantity: Number(f.qty),
        price: Number(f.price),
        fee: 0,
        at: f.transaction_time,
      }));
    },
  };
}
