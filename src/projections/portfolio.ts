import { venueKeyOf, type BookState, type BookStateJson, type Position } from '../commands/index.js';
import type { RecordedEvent } from '../events/index.js';
import {
  BookFold,
  byKey,
  sortedEntries,
  foldLimits,
  laterOf,
  sortedPositions,
  unrealizedOf,
  bookStageKey,
  type ReadonlyBooks,
} from './_internals/bookFold.js';
import { groupOf, type ProjectionOptions } from './options.js';
import { projectionVersion, withPrivateFold, type BookStageReader, type Projection } from './projection.js';
import { recordFrom } from '../_internals/records.js';

/** Shape of portfolio.json's data; bump when it changes. */
const SHAPE = 4;

export interface PortfolioState {
  /** Latest event time seen. */
  asOf: string | null;
  fold: BookFold;
}

interface Common {
  id: string;
  symbol?: string;
  /** How the venue names it (its explicit venue key, else its symbol): what reconciliation matches on netting/hedge accounts. */
  venueKey?: string;
  side: 'long' | 'short';
  setup?: string;
  group?: string;
  attributes?: Record<string, string | number | boolean | null>;
  /** When it entered its current state. */
  since: string;
  /** Its live orders, when it has any: in flight (PENDING_SUBMIT, PENDING_CANCEL) and open (OPEN, PARTIALLY_FILLED). */
  orders?: { inFlight: number; open: number };
}

/** One position in portfolio.json. */
export type PortfolioPosition =
  | (Common & {
      status: 'IN';
      origin: 'entered' | 'adopted';
      /** Entry value of what is still open (the cost basis). */
      entryValue: number;
      /** Current value of what is still open. */
      value: number;
      quantity?: number;
      price?: number;
      /** The stop loss. */
      stop?: number;
      takeProfit?: number;
      /** The trailing stop: its distance or percent, and the best price it has seen. */
      trailingStop?: { distance: number; highWater: number } | { percent: number; highWater: number };
      /** Open risk in money: |entry - stop| x quantity, else the whole value. */
      risk: number;
      /** Realized by partial exits so far. */
      realizedPnl: number;
      unrealizedPnl: number;
      pnl: number;
      missedLooks: number;
    })
  | (Common & { status: 'WATCHING'; value?: number })
  | (Common & { status: 'EXITED'; realizedPnl: number; closedBy: 'exit' | 'phantom' })
  | (Common & { status: 'SKIPPED'; reason?: string });

export interface ExposureRow {
  positions: number;
  entryValue: number;
  value: number;
  unrealizedPnl: number;
  risk: number;
}

export interface PortfolioTotals {
  watching: number;
  open: number;
  exited: number;
  skipped: number;
  entryValue: number;
  value: number;
  risk: number;
  /** Everything realized in the book's life, archived positions included. */
  realizedPnl: number;
  unrealizedPnl: number;
  pnl: number;
}

export interface PortfolioBook {
  positions: { IN: PortfolioPosition[]; WATCHING: PortfolioPosition[]; EXITED: PortfolioPosition[]; SKIPPED: PortfolioPosition[] };
  exposure: {
    bySymbol: (ExposureRow & { symbol: string | null })[];
    byGroup: (ExposureRow & { group: string | null })[];
  };
  /** Orphans seen outside and not resolved yet. */
  orphans: { positionId: string; detectedAt: string; value: number }[];
  totals: PortfolioTotals;
}

export interface PortfolioData {
  asOf: string | null;
  books: Record<string, PortfolioBook>;
  totals: PortfolioTotals & { books: number };
  /** The books as the decider folds them, to resume from the checkpoint (not a read contract). */
  fold: Record<string, BookStateJson>;
}

/** A position's live orders by group, or undefined when it has none. */
function liveOrdersOf(state: BookState, positionId: string): Common['orders'] {
  const ids = state.positionOrders.get(positionId);
  if (ids === undefined) return undefined;
  let inFlight = 0;
  let open = 0;
  for (const id of ids) {
    const status = state.orders.get(id)?.status;
    if (status === 'PENDING_SUBMIT' || status === 'PENDING_CANCEL') inFlight += 1;
    else if (status === 'OPEN' || status === 'PARTIALLY_FILLED') open += 1;
  }
  return inFlight + open === 0 ? undefined : { inFlight, open };
}

function common(p: Position): Common {
  const c: Common = { id: p.id, side: p.side, since: p.since };
  if (p.symbol !== undefined) c.symbol = p.symbol;
  const venueKey = venueKeyOf(p);
  if (venueKey !== undefined) c.venueKey = venueKey;
  if (p.setup !== undefined) c.setup = p.setup;
  if (p.group !== undefined) c.group = p.group;
  if (p.attributes !== undefined) c.attributes = p.attributes;
  return c;
}

function view(p: Position): PortfolioPosition {
  switch (p.status) {
    case 'IN': {
      const unrealizedPnl = unrealizedOf(p);
      const v: PortfolioPosition = {
        ...common(p),
        status: 'IN',
        origin: p.origin,
        entryValue: p.costBasis,
        value: p.value,
        risk: p.risk,
        realizedPnl: p.realizedPnl,
        unrealizedPnl,
        pnl: p.realizedPnl + unrealizedPnl,
        missedLooks: p.missedLooks,
      };
      if (p.quantity !== undefined) v.quantity = p.quantity;
      if (p.price !== undefined) v.price = p.price;
      if (p.stop !== undefined) v.stop = p.stop;
      if (p.takeProfit !== undefined) v.takeProfit = p.takeProfit;
      if (p.trailingStop !== undefined) v.trailingStop = { ...p.trailingStop };
      return v;
    }
    case 'WATCHING':
      return p.value === undefined ? { ...common(p), status: 'WATCHING' } : { ...common(p), status: 'WATCHING', value: p.value };
    case 'EXITED':
      return { ...common(p), status: 'EXITED', realizedPnl: p.realizedPnl, closedBy: p.closedBy };
    case 'SKIPPED':
      return p.reason === undefined ? { ...common(p), status: 'SKIPPED' } : { ...common(p), status: 'SKIPPED', reason: p.reason };
    default: {
      const _exhaustive: never = p;
      return _exhaustive;
    }
  }
}

const emptyRow = (): ExposureRow => ({ positions: 0, entryValue: 0, value: 0, unrealizedPnl: 0, risk: 0 });

function addTo(rows: Map<string | null, ExposureRow>, key: string | null, p: Extract<Position, { status: 'IN' }>): void {
  let row = rows.get(key);
  if (row === undefined) rows.set(key, (row = emptyRow()));
  row.positions += 1;
  row.entryValue += p.costBasis;
  row.value += p.value;
  row.unrealizedPnl += unrealizedOf(p);
  row.risk += p.risk;
}

/** Rows sorted by key, the row of unknown symbol or group (null) last. */
function rowsOf<K extends 'symbol' | 'group'>(rows: Map<string | null, ExposureRow>, key: K): (ExposureRow & Record<K, string | null>)[] {
  return sortedEntries(rows, (a, b) => (a === null ? 1 : b === null ? -1 : byKey(a, b))).map(
    ([k, row]) => ({ [key]: k, ...row }) as ExposureRow & Record<K, string | null>,
  );
}

function renderBook(state: BookState, options: ProjectionOptions): PortfolioBook {
  const positions: PortfolioBook['positions'] = { IN: [], WATCHING: [], EXITED: [], SKIPPED: [] };
  const bySymbol = new Map<string | null, ExposureRow>();
  const byGroup = new Map<string | null, ExposureRow>();
  const totals: PortfolioTotals = {
    watching: 0,
    open: 0,
    exited: 0,
    skipped: 0,
    entryValue: 0,
    value: 0,
    risk: 0,
    realizedPnl: state.realizedPnl,
    unrealizedPnl: 0,
    pnl: 0,
  };
  for (const p of sortedPositions(state)) {
    const v = view(p);
    const orders = liveOrdersOf(state, p.id);
    if (orders !== undefined) v.orders = orders;
    positions[p.status].push(v);
    switch (p.status) {
      case 'IN':
        totals.open += 1;
        totals.entryValue += p.costBasis;
        totals.value += p.value;
        totals.risk += p.risk;
        totals.unrealizedPnl += unrealizedOf(p);
        addTo(bySymbol, p.symbol ?? null, p);
        addTo(byGroup, p.group ?? groupOf(options.correlationGroups, p.symbol) ?? null, p);
        break;
      case 'WATCHING':
        totals.watching += 1;
        break;
      case 'EXITED':
        totals.exited += 1;
        break;
      case 'SKIPPED':
        totals.skipped += 1;
        break;
      default: {
        const _exhaustive: never = p;
        return _exhaustive;
      }
    }
  }
  totals.pnl = totals.realizedPnl + totals.unrealizedPnl;
  const orphans = [...state.orphans]
    .sort(([a], [b]) => byKey(a, b))
    .map(([positionId, o]) => ({ positionId, detectedAt: o.detectedAt, value: o.value }));
  return { positions, exposure: { bySymbol: rowsOf(bySymbol, 'symbol'), byGroup: rowsOf(byGroup, 'group') }, orphans, totals };
}

/**
 * portfolio.json: every book's positions by state with entry and current value, exposure per
 * symbol and per correlation group, realized and unrealized P&L, and totals.
 *
 * @example
 * ```ts
 * const p = portfolioProjection(ProjectionOptions.parse({}));
 * const data = p.toJson(foldProjection(p, events));
 * console.log(data.books.main?.totals.unrealizedPnl);
 * ```
 */
export function portfolioProjection(options: ProjectionOptions): Projection<PortfolioState, PortfolioData> {
  const limits = foldLimits(options.timeZone);
  const stage: BookStageReader<PortfolioState> = {
    key: bookStageKey(limits),
    limits,
    evolve(state: PortfolioState, event: RecordedEvent): PortfolioState {
      state.asOf = laterOf(state.asOf, event.metadata.recordedAt);
      return state;
    },
    toJson(state: PortfolioState, folded: ReadonlyBooks): Omit<PortfolioData, 'fold'> {
      const books = new Map<string, PortfolioBook>();
      const totals: PortfolioData['totals'] = {
        books: 0,
        watching: 0,
        open: 0,
        exited: 0,
        skipped: 0,
        entryValue: 0,
        value: 0,
        risk: 0,
        realizedPnl: 0,
        unrealizedPnl: 0,
        pnl: 0,
      };
      for (const [id, folding] of sortedEntries(folded, byKey)) {
        const book = renderBook(folding, options);
        books.set(id, book);
        totals.books += 1;
        for (const k of [
          'watching',
          'open',
          'exited',
          'skipped',
          'entryValue',
          'value',
          'risk',
          'realizedPnl',
          'unrealizedPnl',
          'pnl',
        ] as const) {
          totals[k] += book.totals[k];
        }
      }
      return { asOf: state.asOf, books: recordFrom(books), totals };
    },
    fromJson(data: unknown): PortfolioState {
      const d = data as Partial<PortfolioData> | null;
      if (d === null || typeof d !== 'object' || !(d.asOf === null || typeof d.asOf === 'string')) {
        throw new Error('portfolio: expected { asOf, books, totals, fold }');
      }
      return { asOf: d.asOf, fold: new BookFold(limits) };
    },
  };
  return {
    name: 'portfolio',
    version: projectionVersion(SHAPE, { timeZone: options.timeZone, correlationGroups: options.correlationGroups }),
    initialState: () => ({ asOf: null, fold: new BookFold(limits) }),
    book: stage,
    ...withPrivateFold<PortfolioState, PortfolioData>(stage),
  };
}
