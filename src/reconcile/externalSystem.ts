import { z } from 'zod';
import { ExternalError, type ExternalFailure } from '../errors/index.js';
import { backoffDelay } from '../_internals/backoff.js';
import { withTimeout } from '../_internals/timeout.js';
import { MAX_TIMER_MS, sleep as sleep_ } from '../_internals/timers.js';
import { parseOrThrow, quote } from '../_internals/zodIssues.js';
import { definedFields } from '../_internals/definedFields.js';
import { IsoTime, NonNegative, PositionId, Side, SymbolCode } from '../events/index.js';
import {
  ExternalFillList,
  ExternalId,
  ExternalOrder,
  ExternalOrderAck,
  ExternalOrderRequest,
  OpenOrderList,
  type CancelOrderRef,
  type ExternalFill,
  type ExternalOrderRef,
  type ListFillsQuery,
  type SubmitOutcome,
} from './externalOrders.js';

const Signed = z.number().finite();

/**
 * A position as the outside system reports it. Extra fields are ignored; missing or bad ones are
 * an error. Shorts are normalised: a negative `quantity` and/or `value` (how brokers list a short)
 * reads as `side: 'short'` with the absolute numbers; a negative number beside an explicit
 * `side: 'long'` is malformed. What comes out always has a non-negative value and a positive quantity.
 *
 * @example
 * ```ts
 * ExternalPosition.parse({ id: 'AAPL', symbol: 'AAPL', quantity: -10, value: -1500 })
 * // { id: 'AAPL', symbol: 'AAPL', side: 'short', quantity: 10, value: 1500 }
 * ```
 */
export const ExternalPosition = z
  .object({
    id: PositionId,
    value: Signed,
    symbol: SymbolCode.optional(),
    side: Side.optional(),
    quantity: Signed.refine((q) => q !== 0, 'must not be 0 (a closed position is not listed)').optional(),
    price: NonNegative.optional(),
    /**
     * When the venue says the position opened: an orphan's leak starts there. Only an open time
     * counts (the built-in adapters leave it out: ccxt's position `timestamp` is its last update,
     * and Alpaca's positions carry no time).
     */
    openedAt: IsoTime.optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.side !== 'long') return;
    if (p.value < 0) ctx.addIssue({ code: 'custom', message: 'is negative (a short) but side is "long"', path: ['value'] });
    if (p.quantity !== undefined && p.quantity < 0) {
      ctx.addIssue({ code: 'custom', message: 'is negative (a short) but side is "long"', path: ['quantity'] });
    }
  })
  .transform((p) => {
    const short = p.value < 0 || (p.quantity !== undefined && p.quantity < 0);
    if (!short) return p;
    const out = { ...p, side: 'short' as const, value: Math.abs(p.value) };
    if (p.quantity !== undefined) out.quantity = Math.abs(p.quantity);
    return out;
  });
export type ExternalPosition = z.infer<typeof ExternalPosition>;

/**
 * What a direct look (`getPosition`) may answer about a position the venue knows it closed, instead
 * of null: `{ id, status: 'closed', closedAt }`. It counts as "not open"; `closedAt` dates a phantom's start.
 */
export const ClosedPosition = z.object({
  id: PositionId,
  status: z.literal('closed'),
  closedAt: IsoTime,
});
export type ClosedPosition = z.infer<typeof ClosedPosition>;

/** A direct look's answer: open (the position), or not open (with the venue's close time when it gave one). */
export type PositionLook = { open: true; position: ExternalPosition } | { open: false; closedAt?: string };

const PositionList = z.array(ExternalPosition).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((p, i) => {
    if (seen.has(p.id)) ctx.addIssue({ code: 'custom', message: `duplicate position id "${p.id}"`, path: [i, 'id'] });
    seen.add(p.id);
  });
});

/**
 * How a venue keys its positions (see the README, "Netting and hedge accounts"): `per-id` (the
 * outside `id` is the book's position id), `netting` (one position per `symbol`), `hedge` (one per
 * `symbol` and `side`).
 */
export const PositionMode = z.enum(['per-id', 'netting', 'hedge']);
export type PositionMode = z.infer<typeof PositionMode>;

/** What a close receives besides the signal: under netting, the `quantity` (and `side`) to take off; absent: close it all. */
export interface ClosePositionOptions {
  quantity?: number;
  side?: 'long' | 'short';
}

/** What every call to an adapter receives: `signal` is aborted when the call times out. */
export interface ExternalCallOptions {
  signal: AbortSignal;
}

/** What a submit receives besides the request: the caller's id for the order (send it to the venue), and the signal. */
export interface SubmitOrderOptions extends ExternalCallOptions {
  clientOrderId: string;
}

/**
 * The port to the outside system (exchange, broker, cloud, any API). Responses are parsed
 * with zod at the boundary: a malformed answer is an ExternalError and the run changes nothing.
 * Throw `ExternalError` with a failure kind to say what went wrong; anything else thrown is
 * treated as "unreachable". Every method receives `{ signal }` as its last argument; the signal
 * is aborted when the call times out: pass it on (to `fetch`, to the client library) so a call
 * that timed out, a close above all, does not land later.
 *
 * @example
 * ```ts
 * const broker: ExternalSystem = {
 *   async listPositions({ signal }) { return (await fetch(url, { signal }).then((r) => r.json())).positions; },
 *   async closePosition(id, { signal }) { await fetch(`${url}/${id}`, { method: 'DELETE', signal }); },
 * };
 * ```
 */
export interface ExternalSystem {
  /** How the venue keys positions; `reconcile.positionMode` (other than `auto`) overrides it. Absent: `per-id`. */
  readonly positionMode?: PositionMode;
  listPositions(options: ExternalCallOptions): Promise<unknown>;
  /**
   * Closes the outside position `id`; with `quantity`, only that much of it (a reduce-only market
   * order of that size on a netting or hedge account), on `side`.
   */
  closePosition(id: string, options: ExternalCallOptions & ClosePositionOptions): Promise<unknown>;
  /**
   * Optional direct look at one position: the position, or null when it is not open (or a
   * {@link ClosedPosition} `{ id, status: 'closed', closedAt }` when the venue knows when it closed it).
   */
  getPosition?(id: string, options: ExternalCallOptions): Promise<unknown>;
  /**
   * Places an order under the caller's `clientOrderId`; answers at least `{ externalOrderId }`
   * (an {@link ExternalOrderAck}). Throw ExternalError 'rejected' only when the venue refused it
   * (it is certainly not placed), 'rate_limited' when it said "slow down"; anything else leaves
   * the outcome unknown and the order is looked up, never sent again.
   */
  submitOrder?(request: ExternalOrderRequest, options: SubmitOrderOptions): Promise<unknown>;
  /** One order, by the caller's or the venue's id: an {@link ExternalOrder}, or null when the venue does not know it. */
  getOrder?(ref: ExternalOrderRef, options: ExternalCallOptions): Promise<unknown>;
  /** The orders that can still fill: a list of {@link ExternalOrder}. */
  listOpenOrders?(options: ExternalCallOptions): Promise<unknown>;
  /** Cancels what is left of an order. Throw ExternalError 'rejected' when the venue does not know it or it is finished. */
  cancelOrder?(ref: CancelOrderRef, options: ExternalCallOptions): Promise<unknown>;
  /** The fills (trades) at or after `query.since`: a list of {@link ExternalFill}; one may be listed twice. */
  listFills?(query: ListFillsQuery, options: ExternalCallOptions): Promise<unknown>;
}

/**
 * Which optional methods an adapter has. `canTrade` needs the four an order's life depends on:
 * submit, a look-up by client order id (to resolve an unknown outcome), the open orders (for
 * reconciliation) and cancel; `listFills` is optional even then (fills can be inferred from an
 * order's filled quantity).
 *
 * @example
 * ```ts
 * if (!guardExternal(adapter).capabilities.canTrade) throw new Error('this adapter cannot place orders');
 * ```
 */
export interface ExternalCapabilities {
  getPosition: boolean;
  submitOrder: boolean;
  getOrder: boolean;
  listOpenOrders: boolean;
  cancelOrder: boolean;
  listFills: boolean;
  canTrade: boolean;
}

/**
 * The capabilities of an adapter, read from the methods it has (a method is there when it is a function).
 *
 * @example
 * ```ts
 * capabilitiesOf({ listPositions, closePosition }).canTrade // false
 * ```
 */
export function capabilitiesOf(system: ExternalSystem): ExternalCapabilities {
  const has = {
    getPosition: typeof system.getPosition === 'function',
    submitOrder: typeof system.submitOrder === 'function',
    getOrder: typeof system.getOrder === 'function',
    listOpenOrders: typeof system.listOpenOrders === 'function',
    cancelOrder: typeof system.cancelOrder === 'function',
    listFills: typeof system.listFills === 'function',
  };
  return { ...has, canTrade: has.submitOrder && has.getOrder && has.listOpenOrders && has.cancelOrder };
}

export interface GuardOptions {
  /** Per call (ms). Default 5000. When it runs out the call's `signal` is aborted. */
  timeoutMs?: number;
  /**
   * Retries after a retryable failure (unreachable, rate limited, timeout). Default 2.
   * A close is retried only when rate limited: after a timeout or a lost connection it may
   * have gone through, and the next run's second look decides instead of a blind repeat.
   */
  retries?: number;
  /**
   * Ceiling of the first back-off (ms), doubled per retry. Default 200. Each wait is jittered:
   * half the ceiling fixed, half random, so a rate-limited venue gets rest and callers spread out.
   */
  backoffMs?: number;
  /** How to wait (simulations pass one that does not sleep). */
  sleep?: (ms: number) => Promise<void>;
  /** Randomness in [0, 1) for the jitter (tests pin it). Default Math.random. */
  random?: () => number;
  /** Metrics hook: told of every call made to the outside system (see {@link ExternalCallObserver}). */
  observer?: ExternalCallObserver;
}

/** The adapter's methods the guard calls, as metrics name them. */
export type ExternalOperation =
  'listPositions' | 'closePosition' | 'getPosition' | 'submitOrder' | 'getOrder' | 'listOpenOrders' | 'cancelOrder' | 'listFills';

/**
 * Told of every attempt the guard makes at the outside system (each retry is one more), with
 * how it ended: `ok` (answered and parsed) or the failure kind. Called synchronously; an
 * implementation should only increment. The core imports no metrics library: src/serve counts.
 *
 * @example
 * ```ts
 * const guarded = guardExternal(adapter, { observer: { onCall: (op, outcome) => console.log(op, outcome) } });
 * ```
 */
export interface ExternalCallObserver {
  onCall(operation: ExternalOperation, outcome: ExternalFailure | 'ok'): void;
}

/**
 * The outside system behind timeouts, bounded retries and parsing. The order methods throw
 * ExternalError 'rejected' when the adapter lacks them (see `capabilities`), except
 * `submitOrder`, which answers `refused` then: it never throws for what the venue did.
 */
export interface GuardedExternal {
  readonly canVerify: boolean;
  /** The adapter's own `positionMode`, checked; undefined when it names none. */
  readonly positionMode: PositionMode | undefined;
  /** Which optional methods the adapter has; `capabilities.canTrade` says orders can be placed and resolved. */
  readonly capabilities: ExternalCapabilities;
  listPositions(): Promise<ExternalPosition[]>;
  /** Closes `id` outside, all of it or (`quantity`) part of it. */
  closePosition(id: string, close?: ClosePositionOptions): Promise<void>;
  /** The position, or null when it is not open outside. Throws when the adapter has no getPosition. */
  getPosition(id: string): Promise<ExternalPosition | null>;
  /** {@link getPosition} with the venue's close time kept when the answer was a {@link ClosedPosition}. */
  lookUpPosition(id: string): Promise<PositionLook>;
  /**
   * Places an order: retried only after a rate limit (certainly not placed); a timeout, a lost
   * connection, a 5xx or an answer that does not parse is `unknown`, never retried. A bad request
   * or client order id is a ValidationError before anything is sent.
   */
  submitOrder(request: ExternalOrderRequest, options: { clientOrderId: string }): Promise<SubmitOutcome>;
  /** The order, or null when the venue does not know it; retried like a list. An answer about another order is malformed. */
  getOrder(ref: ExternalOrderRef): Promise<ExternalOrder | null>;
  /** The orders that can still fill; retried like a list. */
  listOpenOrders(): Promise<ExternalOrder[]>;
  /**
   * Cancels what is left of an order; retried only after a rate limit (a cancel that landed
   * before a timeout answers "unknown order" when repeated, which would read as a refusal).
   */
  cancelOrder(ref: CancelOrderRef): Promise<void>;
  /** The fills at or after `since`; retried like a list. A trade listed twice is kept twice (the book de-duplicates). */
  listFills(query?: ListFillsQuery): Promise<ExternalFill[]>;
  /** Calls made and retried, for reports. */
  readonly stats: { calls: number; retries: number };
}

const RETRYABLE: readonly ExternalFailure[] = ['unreachable', 'rate_limited', 'timeout'];
/** Failures after which a write certainly did not happen. */
const RETRYABLE_WRITE: readonly ExternalFailure[] = ['rate_limited'];

function classify(operation: string, error: unknown): ExternalError {
  if (error instanceof ExternalError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ExternalError(`${operation} failed: ${message}`, 'unreachable', { cause: error });
}

/**
 * Wraps an adapter: every call has a timeout and bounded retries with jittered exponential back-off;
 * failures are typed (unreachable, rate_limited, rejected, malformed, timeout).
 */
export function guardExternal(system: ExternalSystem, options: GuardOptions = {}): GuardedExternal {
  const timeoutMs = options.timeoutMs ?? 5000;
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 200;
  const sleep = options.sleep ?? sleep_;
  const random = options.random ?? Math.random;
  const stats = { calls: 0, retries: 0 };
  const observer = options.observer;
  const observe = (method: ExternalOperation, outcome: ExternalFailure | 'ok'): void => {
    try {
      observer?.onCall(method, outcome);
    } catch {
      // A metrics hook never decides what a call did.
    }
  };

  async function call<T>(
    method: ExternalOperation,
    operation: string,
    run: (options: ExternalCallOptions) => Promise<unknown>,
    parse: (raw: unknown) => T,
    retryable = RETRYABLE,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      stats.calls += 1;
      let raw: unknown;
      try {
        raw = await withTimeout(
          timeoutMs,
          (signal) => run({ signal }),
          () => new ExternalError(`${operation} timed out after ${timeoutMs} ms`, 'timeout'),
        );
      } catch (error) {
        const typed = classify(operation, error);
        if (observer) observe(method, typed.failure);
        if (!retryable.includes(typed.failure) || attempt >= retries) throw typed;
        stats.retries += 1;
        await sleep(backoffDelay(attempt, { baseMs: backoffMs, maxMs: MAX_TIMER_MS, jitter: 'equal', random }));
        continue;
      }
      if (!observer) return parse(raw);
      let parsed: T;
      try {
        parsed = parse(raw);
      } catch (error) {
        observe(method, error instanceof ExternalError ? error.failure : 'malformed');
        throw error;
      }
      observe(method, 'ok');
      return parsed;
    }
  }

  // An answer that does not parse is the outside system's fault: an ExternalError, not bad input.
  const malformed = (message: string): ExternalError => new ExternalError(message, 'malformed');

  const lookUp = (id: string): Promise<PositionLook> => {
    if (!system.getPosition) return Promise.reject(new ExternalError('the adapter has no getPosition', 'rejected'));
    const get = system.getPosition.bind(system);
    return call(
      'getPosition',
      `getPosition(${id})`,
      (o) => get(id, o),
      (raw): PositionLook => {
        if (raw === null || raw === undefined) return { open: false };
        const closed = (raw as { status?: unknown }).status === 'closed';
        const answer = closed
          ? parseOrThrow(ClosedPosition, raw, `getPosition(${id}) returned a malformed answer`, { error: malformed })
          : parseOrThrow(ExternalPosition, raw, `getPosition(${id}) returned a malformed answer`, { error: malformed });
        // An answer about another position says nothing about this one.
        if (answer.id !== id) {
          throw new ExternalError(`getPosition(${id}) returned a malformed answer: id: expected "${id}", got "${answer.id}"`, 'malformed');
        }
        return 'closedAt' in answer ? { open: false, closedAt: answer.closedAt } : { open: true, position: answer };
      },
    );
  };

  const capabilities = capabilitiesOf(system);
  const positionMode =
    system.positionMode === undefined ? undefined : parseOrThrow(PositionMode, system.positionMode, "the adapter's positionMode");
  const lacking = (method: string): Promise<never> => Promise.reject(new ExternalError(`the adapter has no ${method}`, 'rejected'));

  return {
    canVerify: capabilities.getPosition,
    positionMode,
    capabilities,
    stats,
    listPositions: () =>
      call(
        'listPositions',
        'listPositions',
        (o) => system.listPositions(o),
        (raw) => {
          return parseOrThrow(PositionList, raw, 'listPositions returned a malformed answer', { error: malformed });
        },
      ),
    closePosition: (id, close = {}) =>
      call(
        'closePosition',
        close.quantity === undefined ? `closePosition(${id})` : `closePosition(${id}, quantity ${close.quantity})`,
        (o) => system.closePosition(id, { ...o, ...definedFields({ quantity: close.quantity, side: close.side }) }),
        () => undefined,
        RETRYABLE_WRITE,
      ),
    lookUpPosition: (id) => lookUp(id),
    getPosition: async (id) => {
      const look = await lookUp(id);
      return look.open ? look.position : null;
    },
    submitOrder: async (request, { clientOrderId }) => {
      const parsed = parseOrThrow(ExternalOrderRequest, request, 'submitOrder: the request');
      const id = parseOrThrow(ExternalId, clientOrderId, 'submitOrder: the clientOrderId');
      if (!system.submitOrder) {
        return { outcome: 'refused', clientOrderId: id, error: new ExternalError('the adapter has no submitOrder', 'rejected') };
      }
      const submit = system.submitOrder.bind(system);
      const operation = `submitOrder(${id})`;
      let ack: ExternalOrderAck;
      try {
        ack = await call(
          'submitOrder',
          operation,
          (o) => submit(parsed, { ...o, clientOrderId: id }),
          (raw) => parseAck(operation, id, raw),
          RETRYABLE_WRITE,
        );
      } catch (error) {
        const typed = classify(operation, error);
        const notPlaced = typed.failure === 'rejected' || typed.failure === 'rate_limited';
        return { outcome: notPlaced ? 'refused' : 'unknown', clientOrderId: id, error: typed };
      }
      if (ack.status === 'rejected') {
        return {
          outcome: 'refused',
          clientOrderId: id,
          error: new ExternalError(`${operation}: the venue answered status "rejected"`, 'rejected'),
        };
      }
      return { outcome: 'accepted', clientOrderId: id, ack };
    },
    getOrder: async (ref) => {
      if (!system.getOrder) return lacking('getOrder');
      const get = system.getOrder.bind(system);
      const asked = parseRef(ref);
      const operation = `getOrder(${describeRef(asked)})`;
      return call(
        'getOrder',
        operation,
        (o) => get(asked, o),
        (raw) => {
          if (raw === null || raw === undefined) return null;
          const order = parseOrThrow(ExternalOrder, raw, `${operation} returned a malformed answer`, { error: malformed });
          return sameOrder(operation, asked, order);
        },
      );
    },
    listOpenOrders: () => {
      if (!system.listOpenOrders) return lacking('listOpenOrders');
      const list = system.listOpenOrders.bind(system);
      return call(
        'listOpenOrders',
        'listOpenOrders',
        (o) => list(o),
        (raw) => parseOrThrow(OpenOrderList, raw, 'listOpenOrders returned a malformed answer', { error: malformed }),
      );
    },
    cancelOrder: async (ref) => {
      if (!system.cancelOrder) return lacking('cancelOrder');
      const cancel = system.cancelOrder.bind(system);
      const asked = parseOrThrow(CancelRef, ref, 'cancelOrder: the order');
      return call(
        'cancelOrder',
        `cancelOrder(${asked.clientOrderId})`,
        (o) => cancel(asked, o),
        () => undefined,
        RETRYABLE_WRITE,
      );
    },
    listFills: async (query = {}) => {
      if (!system.listFills) return lacking('listFills');
      const list = system.listFills.bind(system);
      const asked = parseOrThrow(FillsQuery, query, 'listFills: the query');
      return call(
        'listFills',
        'listFills',
        (o) => list(asked, o),
        (raw) => parseOrThrow(ExternalFillList, raw, 'listFills returned a malformed answer', { error: malformed }),
      );
    },
  };
}

const OrderRef = z.union([z.object({ clientOrderId: ExternalId }).strict(), z.object({ externalOrderId: ExternalId }).strict()], {
  error: 'must be { clientOrderId } or { externalOrderId }',
});
const CancelRef = z.object({ clientOrderId: ExternalId, externalOrderId: ExternalId.optional() }).strict();
const FillsQuery = z.object({ since: IsoTime.optional() }).strict();

function parseRef(ref: ExternalOrderRef): ExternalOrderRef {
  return parseOrThrow(OrderRef, ref, 'getOrder: the order');
}

function describeRef(ref: ExternalOrderRef): string {
  return 'clientOrderId' in ref ? ref.clientOrderId : `externalOrderId ${ref.externalOrderId}`;
}

function malformedAnswer(operation: string, field: string, expected: string, got: string): ExternalError {
  return new ExternalError(
    `${operation} returned a malformed answer: ${field}: expected ${quote(expected)}, got ${quote(got)}`,
    'malformed',
  );
}

/** A submit's answer: it must parse, and name the order that was sent if it names one. */
function parseAck(operation: string, clientOrderId: string, raw: unknown): ExternalOrderAck {
  const ack = parseOrThrow(ExternalOrderAck, raw, `${operation} returned a malformed answer`, {
    error: (message) => new ExternalError(message, 'malformed'),
  });
  if (ack.clientOrderId !== undefined && ack.clientOrderId !== clientOrderId) {
    throw malformedAnswer(operation, 'clientOrderId', clientOrderId, ack.clientOrderId);
  }
  return { ...ack, clientOrderId };
}

/**
 * A look-up's answer must be about the order asked for. The venue found it by the id asked, so an
 * answer that leaves the client order id out is given the one asked for.
 */
function sameOrder(operation: string, asked: ExternalOrderRef, order: ExternalOrder): ExternalOrder {
  if ('clientOrderId' in asked) {
    if (order.clientOrderId !== undefined && order.clientOrderId !== asked.clientOrderId) {
      throw malformedAnswer(operation, 'clientOrderId', asked.clientOrderId, order.clientOrderId);
    }
    return { ...order, clientOrderId: asked.clientOrderId };
  }
  if (order.externalOrderId !== asked.externalOrderId) {
    throw malformedAnswer(operation, 'externalOrderId', asked.externalOrderId, order.externalOrderId);
  }
  return order;
}
