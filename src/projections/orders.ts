import type { BookStateJson, Order, OrderStatus } from '../commands/index.js';
import type { RecordedEvent } from '../events/index.js';
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

/** Shape of orders.json's data; bump when it changes. */
const SHAPE = 1;

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

export interface OrdersBook {
  inFlight: OrderView[];
  open: OrderView[];
  /** The last {@link ORDERS_RECENT_FINISHED} finished orders, newest first. */
  recentlyFinished: OrderView[];
  /** The last {@link ORDERS_RECENT_FILLS} fills, newest first. */
  fills: FillView[];
  totals: OrdersTotals;
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
}

export interface OrdersState {
  asOf: string | null;
  fold: BookFold;
  orders: Map<string, OrdersBookState>;
}

const newTotals = (): OrdersTotals => ({
  requested: 0,
  inFlight: 0,
  open: 0,
  filled: 0,
  canceled: 0,
  rejected: 0,
  expired: 0,
  lost: 0,
  fills: 0,
});

const newBook = (): OrdersBookState => ({ live: new Map(), finished: new Map(), fills: [], totals: newTotals() });

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

function orderEvent(book: OrdersBookState, event: RecordedEvent & { data: { clientOrderId: string } }, step: FoldStep): void {
  const id = event.data.clientOrderId;
  // The order as the book's evolve left it: an event about an order the book does not hold
  // (never requested, or gone with its archived position) changed nothing there, nor here.
  const order = step.state.orders.get(id);
  if (order === undefined) return;
  const live = book.live.get(id);
  const finished = live === undefined ? book.finished.get(id) : undefined;
  if (event.type === 'OrderRequested') {
    // A repeated request of a live order is ignored by the book too.
    if (live !== undefined) return;
    book.totals.requested += 1;
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

function isOrderEvent(event: RecordedEvent): event is RecordedEvent & { data: { clientOrderId: string } } {
  switch (event.type) {
    case 'OrderRequested':
    case 'OrderAccepted':
    case 'OrderRejected':
    case 'OrderFilled':
    case 'OrderCancelRequested':
    case 'OrderCanceled':
    case 'OrderExpired':
    case 'OrderLost':
    case 'OrderLookedUp':
      return true;
    case 'PositionTracked':
    case 'PositionEntered':
    case 'PositionValued':
    case 'PositionExited':
    case 'PositionSkipped':
    case 'PositionArchived':
    case 'PositionIncreased':
    case 'OrphanDetected':
    case 'ExternalOrderDetected':
    case 'ExternalOrderCanceled':
    case 'OrphanAdopted':
    case 'OrphanClosed':
    case 'PhantomSuspected':
    case 'PhantomDismissed':
    case 'PhantomCleared':
    case 'DriftCorrected':
    case 'ReconciliationCompleted':
    case 'CircuitBreakerTripped':
    case 'CircuitBreakerReset':
    case 'CooldownStarted':
    case 'Heartbeat':
    case 'RecoveryRequired':
    case 'RecoveryAcknowledged':
    case 'SymbolDisabled':
    case 'SymbolEnabled':
    case 'ProtectionSet':
      return false;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

const newestFirst = <T>(items: Iterable<T>): T[] => [...items].reverse();

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
          (v.totals as unknown) !== null;
        if (!ok) throw new Error(`orders: book "${id}" is malformed`);
        const b = newBook();
        // Live orders in the order they were requested (the log position of their OrderRequested).
        for (const o of [...v.inFlight, ...v.open].sort((x, y) => x.requestedPosition - y.requestedPosition))
          b.live.set(o.clientOrderId, o);
        for (const o of newestFirst(v.recentlyFinished)) b.finished.set(o.clientOrderId, o);
        b.fills = newestFirst(v.fills);
        b.totals = { ...newTotals(), ...v.totals };
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
