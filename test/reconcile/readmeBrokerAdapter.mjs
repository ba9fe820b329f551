// broker-adapter.mjs: Alpaca's Trading API v2 by hand (the built-in `--adapter alpaca` does this and more).
const base = process.env.APCA_API_BASE_URL ?? 'https://paper-api.alpaca.markets';
const headers = { 'APCA-API-KEY-ID': process.env.APCA_API_KEY_ID, 'APCA-API-SECRET-KEY': process.env.APCA_API_SECRET_KEY };
const call = async (path, init = {}) => {
  const res = await fetch(`${base}${path}`, { ...init, headers });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${res.status}`);
  return res.status === 204 ? null : res.json();
};
// One position per symbol, numbers in strings, a short with side "short" and negative qty and market_value.
// A crypto pair is listed without its slash (BTCUSD): track it with venueKey 'BTCUSD' to match.
const toPosition = (p) => ({ id: p.symbol, symbol: p.symbol, side: p.side, quantity: Number(p.qty), value: Number(p.market_value) });
const at = (id) => `/v2/positions/${encodeURIComponent(id)}`;
export default {
  // Alpaca nets by symbol: the book's positions on a symbol are summed and matched with it, not by the bot's ids.
  positionMode: 'netting',
  listPositions: async ({ signal }) => (await call('/v2/positions', { signal })).map(toPosition),
  getPosition: async (id, { signal }) => {
    const p = await call(at(id), { signal });
    return p && toPosition(p);
  },
  // A netting surplus is closed in part (`quantity`); without it, the whole position.
  closePosition: (id, { quantity, signal }) =>
    call(quantity === undefined ? at(id) : `${at(id)}?qty=${quantity}`, { method: 'DELETE', signal }),
};
