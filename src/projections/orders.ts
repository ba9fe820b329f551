import type { BookStateJson, ExternalOrderFacts, Order, OrderStatus } from '../commands/index.js';
import { eventKinds, isOrderEvent, type OrderEvent, type RecordedEvent } from '../events/index.js';
import { BookFold, byKey, sortedEntries, type Unchecked, foldLimits, laterOf, bookStageKey, type FoldStep } from './_internals/bookFold.js';
import type { ProjectionOptions } from './options.js';
import { projectionVersion, withPrivateFold, type BookStageReader, type Projection } from './projection.js';
import { recordFrom } from '../_internals/records.js';

/*
 * orders.json: the book's orders as a bot or an operator reads them. The order itself (status,
 * fills, average price) is the book's own, read from the book stage after each order event, so
 * this file never judges an order differently from the decider; what it adds is memory the
 * book does not keep: the finished orders after their position is archived (bounded), and each
 * fill with its price and fee (the book keeps only trade ids).
 */

/** Shape of orders.json's data; bump when it changes (2: external orders, and `adopted` in the totals). */
const SHAPE = 2;

/** How many finished orders each book keeps in orders.json (newest first): older ones drop out. */
export const ORDERS_RECENT_FINISHED = 100;
/** How many fills each book keeps in orders.json (newest first): older ones drop out. */
export const ORDERS_RECENT_FILLS = 200;

/** Where an order stands, as orders.json groups them. */
export type OrderGroup = 'inFlight' | 'open' | 'finished';

/**
 * PENDING_SUBMIT (sent or about to be, outcome not known yet: an unknown outcome stays here until
 * reconciliation resolves it) and PENDING_CANCEL are in flight; OPEN and PARTIALLY_FILLED are
 * open; the rest are finished.
 */
export function orderGroupOf(status: OrderStatus): OrderGroup {
  switch (status) {
    case 'PENDING_SUBMIT':
    case 'PENDING_CANCEL':
      return 'inFlight';
    case 'OPEN':
    case 'PARTIALLY_FILLED':
      return 'open';
    case 'FILLED':
    case 'CANCELED':
    case 'REJECTED':
    case 'EXPIRED':
      return 'finished';
    default: {
      const _exhaustive: never = status;
      return _exhaustive;
    }
  }
}

/** One order in orders.json: the book's order without its trade ids (see `fills`), and how it finished. */
export type OrderView = Omit<Order, 'tradeIds'> & {
  /** How many fills it has. */
  fills: number;
  /** Log position of its OrderRequested. */
  requestedPosition: number;
  /** Set once it finished: when, and whether the venue lost it (OrderLost) rather than answering. */
  finishedAt?: string;
  lost?: boolean;
};

/** One fill in orders.json. */
export interface FillView {
  clientOrderId: string;
  positionId: string;
  symbol: string;
  side: 'buy' | 'sell';
  tradeId: string;
  quantity: number;
  price: number;
  fee: number;
  inferred: boolean;
  filledAt?: string;
  recordedAt: string;
  position: number;
}

export interface OrdersTotals {
  /** Orders requested in the book's life (a repeated OrderRequested counts once). */
  requested: number;
  /** Orders adopted from the venue (ExternalOrderAdopted) in the book's life; they are not among `requested`. */
  adopted: number;
  inFlight: number;
  open: number;
  filled: number;
  canceled: number;
  rejected: number;
  expired: number;
  /** Of the rejected and canceled: those resolved as lost (the venue never knew them). */
  lost: number;
  fills: number;
}

/**
 * An order at the venue that the book never issued, as reconciliation recorded it: its facts when
 * detected, and what the policy made of it: `open` (detected and left alone: policy `manual`, or a
 * cancel or an adoption that failed), `canceled` (ExternalOrderCanceled) or `adopted`
 * (ExternalOrderAdopted: from then on it is the book's order `adoptedAs.clientOrderId`, listed with
 * the others).
 */
export interface ExternalOrderView extends ExternalOrderFacts {
  detectedAt: string;
  /** Log position of its ExternalOrderDetected. */
  detectedPosition: number;
  outcome: 'open' | 'canceled' | 'adopted';
  resolvedAt?: string;
  adoptedAs?: { clientOrderId: string; positionId: string };
}

/** The external orders of a book: the open ones (oldest first), the last resolved ones (newest first), and counts over the book's life. */
export interface ExternalOrdersSection {
  open: ExternalOrderView[];
  /** The last {@link ORDERS_RECENT_FINISHED} canceled or adopted, newest first. */
  recentlyResolved: ExternalOrderView[];
  totals: { detected: number; open: number; canceled: number; adopted: number };
}

export interface OrdersBook {
  inFlight: OrderView[];
  open: OrderView[];
  /** The last {@link ORDERS_RECENT_FINISHED} finished orders, newest first. */
  recentlyFinished: OrderView[];
  /** The last {@link ORDERS_RECENT_FILLS} fills, newest first. */
  fills: FillView[];
  totals: OrdersTotals;
  externalOrders: ExternalOrdersSection;
}

export interface OrdersData {
  asOf: string | null;
  books: Record<string, OrdersBook>;
  /** The books as the decider folds them, to resume from the checkpoint (not a read contract). */
  fold: Record<string, BookStateJson>;
}

interface OrdersBookState {
  /** Live orders by client order id, in the order they were requested. */
  live: Map<string, OrderView>;
  /** Finished orders by client order id, oldest finish first (bounded). */
  finished: Map<string, OrderView>;
  /** Fills, oldest first (bounded). */
  fills: FillView[];
  totals: OrdersTotals;
  /** External orders not resolved yet, by venue id, oldest detection first. */
  externalOpen: Map<string, ExternalOrderView>;
  /** Resolved external orders by venue id, oldest resolution first (bounded). */
  externalResolved: Map<string, ExternalOrderView>;
  externalTotals: ExternalOrdersSection['totals'];
}

export interface OrdersState {
  asOf: string | null;
  fold: BookFold;
  orders: Map<string, OrdersBookState>;
}

const newTotals = (): OrdersTotals => ({
  requested: 0,
  adopted: 0,
  inFlight: 0,
  open: 0,
  filled: 0,
  canceled: 0,
  rejected: 0,
  expired: 0,
  lost: 0,
  fills: 0,
});

const newExternalTotals = (): ExternalOrdersSection['totals'] => ({ detected: 0, open: 0, canceled: 0, adopted: 0 });

const newBook = (): OrdersBookState => ({
  live: new Map(),
  finished: new Map(),
  fills: [],
  totals: newTotals(),
  externalOpen: new Map(),
  externalResolved: new Map(),
  externalTotals: newExternalTotals(),
});

function viewOf(order: Order, requestedPosition: number): OrderView {
  const { tradeIds, ...rest } = order;
  return { ...rest, fills: tradeIds.length, requestedPosition };
}

const FINISHED_COUNTERS = new Map<OrderStatus, 'filled' | 'canceled' | 'rejected' | 'expired'>([
  ['FILLED', 'filled'],
  ['CANCELED', 'canceled'],
  ['REJECTED', 'rejected'],
  ['EXPIRED', 'expired'],
]);

function recordFill(book: OrdersBookState, event: RecordedEvent & { type: 'OrderFilled' }, order: Order): void {
  const d = event.data;
  const fill: FillView = {
    clientOrderId: order.clientOrderId,
    positionId: order.positionId,
    symbol: order.symbol,
    side: order.side,
    tradeId: d.tradeId,
    quantity: d.quantity,
    price: d.price,
    fee: d.fee,
    inferred: d.inferred,
    recordedAt: event.metadata.recordedAt,
    position: event.position,
  };
  if (d.filledAt !== undefined) fill.filledAt = d.filledAt;
  book.fills.push(fill);
  book.totals.fills += 1;
  // Trimmed in steps, not on every fill: the document shows the last ORDERS_RECENT_FILLS either way.
  if (book.fills.length > 2 * ORDERS_RECENT_FILLS) book.fills = book.fills.slice(-ORDERS_RECENT_FILLS);
}

function finish(book: OrdersBookState, view: OrderView, event: RecordedEvent): void {
  view.finishedAt = event.metadata.recordedAt;
  if (event.type === 'OrderLost') {
    view.lost = true;
    book.totals.lost += 1;
  }
  const counter = FINISHED_COUNTERS.get(view.status);
  if (counter !== undefined) book.totals[counter] += 1;
  book.finished.delete(view.clientOrderId);
  book.finished.set(view.clientOrderId, view);
  if (book.finished.size > ORDERS_RECENT_FINISHED) {
    const oldest = book.finished.keys().next();
    if (!oldest.done) book.finished.delete(oldest.value);
  }
}

function orderEvent(book: OrdersBookState, event: OrderEvent, step: FoldStep): void {
  const id = event.data.clientOrderId;
  // The order as the book's evolve left it: an event about an order the book does not hold
  // (never requested, or gone with its archived position) changed nothing there, nor here.
  const order = step.state.orders.get(id);
  if (order === undefined) return;
  const live = book.live.get(id);
  const finished = live === undefined ? book.finished.get(id) : undefined;
  if (event.type === 'OrderRequested' || event.type === 'ExternalOrderAdopted') {
    // A repeated request (or adoption) of a live order is ignored by the book too.
    if (live !== undefined) return;
    book.totals[event.type === 'OrderRequested' ? 'requested' : 'adopted'] += 1;
    book.finished.delete(id);
    book.live.set(id, viewOf(order, event.position));
    return;
  }
  if (event.type === 'OrderFilled') {
    const known = live ?? finished;
    // A fill is new when it grew the order's fills (the book ignores a repeated trade id). For an
    // order that dropped out of the bounded list, a new fill is its last trade id, seen once.
    const isNew =
      known !== undefined
        ? order.tradeIds.length > known.fills
        : order.tradeIds.at(-1) === event.data.tradeId && order.tradeIds.indexOf(event.data.tradeId) === order.tradeIds.length - 1;
    if (isNew) recordFill(book, event as RecordedEvent & { type: 'OrderFilled' }, order);
  }
  if (live !== undefined) {
    const view = viewOf(order, live.requestedPosition);
    if (orderGroupOf(order.status) === 'finished') {
      book.live.delete(id);
      finish(book, view, event);
    } else {
      book.live.set(id, view);
    }
    return;
  }
  if (finished !== undefined) {
    // A finished order's late report (a fill after the cancel): its numbers grow; how and when it finished stay.
    const view = viewOf(order, finished.requestedPosition);
    if (finished.finishedAt !== undefined) view.finishedAt = finished.finishedAt;
    if (finished.lost !== undefined) view.lost = finished.lost;
    book.finished.set(id, view);
  }
}

/** ExternalOrderDetected opens a view (a second detection of an open one changes nothing, as in the book); a cancel or an adoption resolves it. */
function externalOrderEvent(book: OrdersBookState, event: RecordedEvent): void {
  const at = event.metadata.recordedAt;
  if (event.type === 'ExternalOrderDetected') {
    const { source: _source, runId: _runId, ...facts } = event.data;
    if (book.externalOpen.has(facts.externalOrderId)) return;
    book.externalTotals.detected += 1;
    book.externalOpen.set(facts.externalOrderId, { ...facts, detectedAt: at, detectedPosition: event.position, outcome: 'open' });
    return;
  }
  if (event.type !== 'ExternalOrderCanceled' && event.type !== 'ExternalOrderAdopted') return;
  const id = event.data.externalOrderId;
  const open = book.externalOpen.get(id);
  // A resolution of an order never detected (or resolved already) changed nothing in the book either.
  if (open === undefined) return;
  book.externalOpen.delete(id);
  const view: ExternalOrderView = { ...open, resolvedAt: at, outcome: event.type === 'ExternalOrderCanceled' ? 'canceled' : 'adopted' };
  if (event.type === 'ExternalOrderCanceled') {
    view.filledQuantity = event.data.filledQuantity;
    book.externalTotals.canceled += 1;
  } else {
    view.adoptedAs = { clientOrderId: event.data.clientOrderId, positionId: event.data.positionId };
    book.externalTotals.adopted += 1;
  }
  book.externalResolved.set(id, view);
  if (book.externalResolved.size > ORDERS_RECENT_FINISHED) {
    const oldest = book.externalResolved.keys().next();
    if (!oldest.done) book.externalResolved.delete(oldest.value);
  }
}

const newestFirst = <T>(items: Iterable<T>): T[] => [...items].reverse();

const copyExternal = (v: ExternalOrderView): ExternalOrderView => ({ ...v, ...(v.adoptedAs ? { adoptedAs: { ...v.adoptedAs } } : {}) });

function renderBook(b: OrdersBookState): OrdersBook {
  const inFlight: OrderView[] = [];
  const open: OrderView[] = [];
  for (const o of b.live.values()) (orderGroupOf(o.status) === 'inFlight' ? inFlight : open).push({ ...o });
  return {
    inFlight,
    open,
    recentlyFinished: newestFirst(b.finished.values()).map((o) => ({ ...o })),
    fills: newestFirst(b.fills.slice(-ORDERS_RECENT_FILLS)).map((f) => ({ ...f })),
    totals: { ...b.totals, inFlight: inFlight.length, open: open.length },
    externalOrders: {
      open: [...b.externalOpen.values()].map(copyExternal),
      recentlyResolved: newestFirst(b.externalResolved.values()).map(copyExternal),
      totals: { ...b.externalTotals, open: b.externalOpen.size },
    },
  };
}

/**
 * orders.json: per book, the orders in flight (PENDING_SUBMIT, an unknown outcome included, and
 * PENDING_CANCEL), the open ones (OPEN, PARTIALLY_FILLED), the last {@link ORDERS_RECENT_FINISHED}
 * finished ones (newest first, kept after their position is archived), the last
 * {@link ORDERS_RECENT_FILLS} fills with price and fee, and totals over the book's life.
 *
 * @example
 * ```ts
 * const o = ordersProjection(ProjectionOptions.parse({}));
 * console.log(o.toJson(foldProjection(o, events)).books.main?.inFlight.length);
 * ```
 */
export function ordersProjection(options: ProjectionOptions): Projection<OrdersState, OrdersData> {
  const limits = foldLimits(options.timeZone);
  const stage: BookStageReader<OrdersState> = {
    key: bookStageKey(limits),
    limits,
    evolve(state: OrdersState, event: RecordedEvent, step: FoldStep | null): OrdersState {
      state.asOf = laterOf(state.asOf, event.metadata.recordedAt);
      if (step === null) return state;
      // Every book of the log is listed, with or without orders (as in the other read models).
      let b = state.orders.get(step.book);
      if (b === undefined) state.orders.set(step.book, (b = newBook()));
      if (isOrderEvent(event)) orderEvent(b, event, step);
      if (eventKinds[event.type] === 'externalOrder' || event.type === 'ExternalOrderAdopted') externalOrderEvent(b, event);
      return state;
    },
    toJson(state: OrdersState): Omit<OrdersData, 'fold'> {
      return { asOf: state.asOf, books: recordFrom(sortedEntries(state.orders, byKey).map(([id, b]) => [id, renderBook(b)] as const)) };
    },
    fromJson(data: unknown): OrdersState {
      const d = data as Unchecked<OrdersData>;
      if (d === null || typeof d !== 'object' || d.books === null || typeof d.books !== 'object') {
        throw new Error('orders: expected { asOf, books, fold }');
      }
      const orders = new Map<string, OrdersBookState>();
      for (const [id, v] of Object.entries(d.books)) {
        const ok =
          typeof (v as unknown) === 'object' &&
          (v as unknown) !== null &&
          Array.isArray(v.inFlight) &&
          Array.isArray(v.open) &&
          Array.isArray(v.recentlyFinished) &&
          Array.isArray(v.fills) &&
          typeof (v.totals as unknown) === 'object' &&
          (v.totals as unknown) !== null &&
          typeof (v.externalOrders as unknown) === 'object' &&
          (v.externalOrders as unknown) !== null &&
          Array.isArray(v.externalOrders.open) &&
          Array.isArray(v.externalOrders.recentlyResolved);
        if (!ok) throw new Error(`orders: book "${id}" is malformed`);
        const b = newBook();
        // Live orders in the order they were requested (the log position of their OrderRequested).
        for (const o of [...v.inFlight, ...v.open].sort((x, y) => x.requestedPosition - y.requestedPosition))
          b.live.set(o.clientOrderId, o);
        for (const o of newestFirst(v.recentlyFinished)) b.finished.set(o.clientOrderId, o);
        b.fills = newestFirst(v.fills);
        b.totals = { ...newTotals(), ...v.totals };
        for (const o of v.externalOrders.open) b.externalOpen.set(o.externalOrderId, o);
        for (const o of newestFirst(v.externalOrders.recentlyResolved)) b.externalResolved.set(o.externalOrderId, o);
        b.externalTotals = { ...newExternalTotals(), ...v.externalOrders.totals };
        orders.set(id, b);
      }
      return { asOf: d.asOf ?? null, fold: new BookFold(limits), orders };
    },
  };
  return {
    name: 'orders',
    version: projectionVersion(SHAPE, { timeZone: options.timeZone, finished: ORDERS_RECENT_FINISHED, fills: ORDERS_RECENT_FILLS }),
    initialState: () => ({ asOf: null, fold: new BookFold(limits), orders: new Map() }),
    book: stage,
    ...withPrivateFold<OrdersState, OrdersData>(stage),
  };
}
