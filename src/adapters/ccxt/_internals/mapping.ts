/*
 * ccxt's unified structures in the port's words: a derivatives position, a spot holding, an
 * order. Quantities are in the base asset (contracts × contract size); values are absolute.
 * An answer the mapping cannot read is a malformed one, never a guess.
 */

import type { Balances, Order, Position, Tickers } from 'ccxt';
import { ExternalError } from '../../../errors/index.js';

/** A position as the port reads it (see ExternalPosition): the shape handed to the guard, which parses it. */
export interface PortPosition {
  id: string;
  symbol: string;
  side: 'long' | 'short';
  quantity: number;
  value: number;
  price?: number;
  metadata: Record<string, unknown>;
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function malformed(operation: string, message: string): ExternalError {
  return new ExternalError(`${operation} returned a malformed answer: ${message}`, 'malformed');
}

/** The id of a position: its symbol, and its side when the venue holds both sides of it (hedge mode). */
export function positionId(symbol: string, side: 'long' | 'short', hedged: boolean): string {
  return hedged ? `${symbol}#${side}` : symbol;
}

/**
 * A ccxt derivatives position as the port's position, or null when it is flat (Binance lists
 * every symbol, most with zero contracts). A short reported with negative contracts or notional
 * is given side short and absolute numbers.
 */
export function fromCcxtPosition(
  p: Position,
  hedgeMode: boolean,
  contractSizeOf: (symbol: string) => number | undefined,
): PortPosition | null {
  const operation = 'fetchPositions';
  const symbol = p.symbol;
  if (typeof symbol !== 'string' || symbol === '') throw malformed(operation, `symbol: expected a market symbol, got ${String(symbol)}`);
  const contracts = p.contracts;
  if (contracts === undefined || contracts === 0) return null;
  if (!finite(contracts)) throw malformed(operation, `${p.symbol}: contracts: expected a number, got ${String(contracts)}`);
  const size = p.contractSize ?? contractSizeOf(symbol) ?? 1;
  if (!finite(size) || size <= 0) throw malformed(operation, `${p.symbol}: contractSize: expected a positive number, got ${String(size)}`);
  const side = p.side === 'long' || p.side === 'short' ? p.side : contracts < 0 || (p.notional ?? 0) < 0 ? 'short' : 'long';
  const quantity = Math.abs(contracts) * size;
  const mark = p.markPrice;
  let value: number;
  if (finite(p.notional)) value = Math.abs(p.notional);
  else if (finite(mark)) value = quantity * mark;
  else throw malformed(operation, `${p.symbol}: neither notional nor markPrice to value the position`);
  const hedged = hedgeMode || p.hedged === true;
  return {
    id: positionId(symbol, side, hedged),
    symbol,
    side,
    quantity,
    value,
    ...(finite(mark) ? { price: mark } : {}),
    metadata: {
      contracts: Math.abs(contracts),
      contractSize: size,
      hedged,
      ...(finite(p.entryPrice) ? { entryPrice: p.entryPrice } : {}),
      ...(finite(p.unrealizedPnl) ? { unrealizedPnl: p.unrealizedPnl } : {}),
    },
  };
}

/**
 * The spot holdings of a balance: every asset but the quote currency (that one is cash) with a
 * total above zero, valued at its `<asset>/<quote>` ticker's last price. An asset with no such
 * market or no price is reported with value 0 and `metadata.priced: false` (so the reconciler
 * treats it as dust); small holdings are reported too: dust is judged on value by the reconciler.
 */
export function fromCcxtBalance(
  balance: Balances,
  quote: string,
  tickers: Tickers,
  hasMarket: (symbol: string) => boolean,
): PortPosition[] {
  const totals = (balance.total ?? {}) as unknown as Record<string, unknown>;
  const out: PortPosition[] = [];
  for (const [asset, total] of Object.entries(totals)) {
    if (asset === quote) continue;
    if (total === undefined || total === null) continue;
    if (!finite(total)) throw malformed('fetchBalance', `${asset}: total: expected a number, got ${String(total)}`);
    if (total <= 0) continue;
    const symbol = `${asset}/${quote}`;
    const ticker = hasMarket(symbol) ? tickers[symbol] : undefined;
    const price = ticker?.last ?? ticker?.close ?? ticker?.bid;
    const priced = finite(price) && price > 0;
    out.push({
      id: symbol,
      symbol,
      side: 'long',
      quantity: total,
      value: priced ? total * price : 0,
      ...(priced ? { price } : {}),
      metadata: { asset, priced },
    });
  }
  return out;
}

/** The symbols of a balance's holdings that have a market to price them (what to ask tickers for). */
export function pricedSymbols(balance: Balances, quote: string, hasMarket: (symbol: string) => boolean): string[] {
  const totals = (balance.total ?? {}) as unknown as Record<string, unknown>;
  return Object.entries(totals)
    .filter(([asset, total]) => asset !== quote && finite(total) && total > 0)
    .map(([asset]) => `${asset}/${quote}`)
    .filter(hasMarket);
}

const STATUS = new Map<string, string>([
  ['open', 'open'],
  ['closed', 'filled'],
  ['canceled', 'canceled'],
  ['cancelled', 'canceled'],
  ['expired', 'expired'],
  ['rejected', 'rejected'],
]);

const iso = (ms: unknown): string | undefined => (finite(ms) ? new Date(ms).toISOString() : undefined);

/**
 * A ccxt order as the port's order (the guard parses it): ccxt's `closed` is `filled`, an open
 * order with fills is `partially_filled`, amounts are scaled by the contract size. A status ccxt
 * does not unify is passed as it is, so the port refuses it as malformed.
 */
export function fromCcxtOrder(o: Order, contractSize: number): Record<string, unknown> {
  const raw = o.status as string | undefined;
  let status = raw === undefined ? undefined : (STATUS.get(raw) ?? raw);
  const filled = finite(o.filled) ? o.filled * contractSize : undefined;
  if (status === 'open' && filled !== undefined && filled > 0) status = 'partially_filled';
  const fields: Record<string, unknown> = {
    externalOrderId: o.id,
    clientOrderId: o.clientOrderId ?? undefined,
    symbol: o.symbol,
    side: o.side,
    quantity: finite(o.amount) ? o.amount * contractSize : o.amount,
    filledQuantity: filled ?? (status === 'open' ? 0 : undefined),
    averagePrice: finite(o.average) && o.average > 0 ? o.average : undefined,
    status,
    createdAt: iso(o.timestamp),
    updatedAt: iso(o.lastUpdateTimestamp),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null));
}
