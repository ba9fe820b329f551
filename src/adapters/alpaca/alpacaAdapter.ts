/*
 * The Alpaca adapter: the ExternalSystem port on Alpaca's official Node SDK
 * (`@alpacahq/alpaca-trade-api`, an optional peer dependency). The SDK is imported when an
 * adapter is made, never before, so nothing else in the package loads it. The SDK does the
 * HTTP (hosts, credentials headers, paths, query encoding, typed errors); this file picks the
 * calls and ./_internals maps their answers and failures onto the port. Timeouts and retries
 * stay with the port (guardExternal): the SDK's own retries and rate limiter are left off, and
 * every call passes the port's AbortSignal on.
 */

import type * as AlpacaSdk from '@alpacahq/alpaca-trade-api/rest';
import { z } from 'zod';
import { ExternalError, ValidationError } from '../../errors/index.js';
import type {
  CancelOrderRef,
  ExternalCallOptions,
  ExternalFill,
  ExternalOrder,
  ExternalOrderRef,
  ExternalOrderRequest,
  ExternalPosition,
  ExternalSystem,
  ListFillsQuery,
  SubmitOrderOptions,
} from '../../reconcile/index.js';
import { parseOrThrow } from '../../_internals/zodIssues.js';
import { classify, redactor, type SdkErrors } from './_internals/failures.js';
import { toFills, toOrder, toOrders, toPosition, toPositions } from './_internals/wire.js';

/** Alpaca's names for the credentials (the same the SDK and Alpaca's own tools read). */
export const ALPACA_KEY_ID_ENV = 'APCA_API_KEY_ID';
export const ALPACA_SECRET_ENV = 'APCA_API_SECRET_KEY';

/** Alpaca's paper-trading host: the default. */
export const ALPACA_PAPER_URL = 'https://paper-api.alpaca.markets';
/** Alpaca's live host: only with `live: true`. */
export const ALPACA_LIVE_URL = 'https://api.alpaca.markets';

/** The most orders Alpaca lists per page, and how many pages a list may take. */
const ORDER_PAGE = 500;
const FILL_PAGE = 100;
const MAX_PAGES = 100;

/**
 * How to reach Alpaca. Credentials come from the environment unless given: `APCA_API_KEY_ID`
 * and `APCA_API_SECRET_KEY`. They are kept inside the adapter (not on the object it returns)
 * and never appear in its errors.
 */
export interface AlpacaAdapterOptions {
  /** The API key id. Default: `env.APCA_API_KEY_ID`. */
  keyId?: string;
  /** The API secret. Default: `env.APCA_API_SECRET_KEY`. */
  secret?: string;
  /** Trade the live account (`https://api.alpaca.markets`). Default false: the paper account. */
  live?: boolean;
  /** Another base URL (a proxy, a test server): wins over `live`. http:// or https:// only. */
  baseUrl?: string;
  /** Where the credentials are read when not given. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The SDK's own deadline per request (ms), a backstop behind the port's signal. Default 30000. */
  timeoutMs?: number;
}

/** What `closePosition` takes besides the signal: the quantity to take off (absent: all of it). */
export interface AlpacaCloseOptions extends ExternalCallOptions {
  quantity?: number;
  side?: 'long' | 'short';
}

/**
 * An ExternalSystem on Alpaca. `positionMode` is `netting`: Alpaca holds one position per
 * symbol, and a position's id here is its symbol. `closePosition` answers the order Alpaca
 * placed to close (it is closed once that order fills: the next look tells).
 */
export interface AlpacaAdapter extends ExternalSystem {
  readonly positionMode: 'netting';
  /** The host the adapter talks to (no credentials in it). */
  readonly baseUrl: string;
  readonly live: boolean;
  listPositions(options: ExternalCallOptions): Promise<ExternalPosition[]>;
  getPosition(id: string, options: ExternalCallOptions): Promise<ExternalPosition | null>;
  closePosition(id: string, options: AlpacaCloseOptions): Promise<ExternalOrder>;
  submitOrder(request: ExternalOrderRequest, options: SubmitOrderOptions): Promise<ExternalOrder>;
  getOrder(ref: ExternalOrderRef, options: ExternalCallOptions): Promise<ExternalOrder | null>;
  listOpenOrders(options: ExternalCallOptions): Promise<ExternalOrder[]>;
  cancelOrder(ref: CancelOrderRef, options: ExternalCallOptions): Promise<void>;
  listFills(query: ListFillsQuery, options: ExternalCallOptions): Promise<ExternalFill[]>;
}

const BaseUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .refine((u) => !/\/\/[^/]*@/.test(u), 'must not carry credentials (user:password@)')
  .transform((u) => u.replace(/\/+$/, ''));

const Options = z.object({
  live: z.boolean().optional(),
  baseUrl: BaseUrl.optional(),
  timeoutMs: z.number().int().nonnegative().optional(),
});

function credential(given: string | undefined, env: NodeJS.ProcessEnv, name: string, option: string): string {
  const value = given ?? env[name];
  if (value === undefined || value === '') {
    throw new ValidationError(`alpaca: no ${option}: set ${name} in the environment (or pass ${option})`);
  }
  // The value is a secret: the message names where it came from, never what it is.
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    throw new ValidationError(
      `alpaca: ${option} (${given === undefined ? name : option}) must not contain white space or control characters`,
    );
  }
  return value;
}

/**
 * The id Alpaca's position paths take: a crypto pair without its slash (`BTC/USD` is `BTCUSD`
 * there; with the slash Alpaca answers 404, which would read as "not open").
 */
function positionPath(id: string): string {
  return id.replace('/', '');
}

async function loadSdk(): Promise<typeof AlpacaSdk> {
  try {
    return await import('@alpacahq/alpaca-trade-api/rest');
  } catch (error) {
    throw new ValidationError(
      `alpaca: cannot load the Alpaca SDK (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): install it with npm install @alpacahq/alpaca-trade-api`,
      [],
      { cause: error },
    );
  }
}

/**
 * Makes the Alpaca adapter: loads the SDK (an optional peer dependency: a clear error when it
 * is not installed), checks the options, and answers an {@link AlpacaAdapter}. Paper trading
 * unless `live: true`; credentials from `APCA_API_KEY_ID` / `APCA_API_SECRET_KEY` unless given.
 *
 * @example
 * ```ts
 * const alpaca = await alpacaAdapter(); // paper, credentials from the environment
 * const report = await reconcile({ handler: tracker.handler, external: alpaca, policy: { orphans: 'manual' } });
 * ```
 */
export async function alpacaAdapter(options: AlpacaAdapterOptions = {}): Promise<AlpacaAdapter> {
  const checked = parseOrThrow(Options, { live: options.live, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs }, 'alpaca');
  const env = options.env ?? process.env;
  const keyId = credential(options.keyId, env, ALPACA_KEY_ID_ENV, 'keyId');
  const secret = credential(options.secret, env, ALPACA_SECRET_ENV, 'secret');
  const live = checked.live ?? false;
  const baseUrl = checked.baseUrl ?? (live ? ALPACA_LIVE_URL : ALPACA_PAPER_URL);
  const sdk = await loadSdk();
  const config = new sdk.trading.Configuration({
    basePath: baseUrl,
    paper: !live,
    keyId,
    secret,
    timeoutMs: checked.timeoutMs ?? 30_000,
  });
  const positions = new sdk.trading.PositionsApi(config);
  const orders = new sdk.trading.OrdersApi(config);
  const activities = new sdk.trading.AccountActivitiesApi(config);
  const redact = redactor([secret, keyId]);
  const errors: SdkErrors = { ApiError: sdk.ApiError, FetchError: sdk.FetchError };

  /** Runs one SDK call; a 404 answers `onNotFound()` when given, else it is a refusal. */
  async function call<T>(operation: string, run: () => Promise<T>, onNotFound?: () => T): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const c = classify(errors, operation, error, redact);
      if (c.notFound && onNotFound) return onNotFound();
      throw c.error;
    }
  }

  const orderById = async (operation: string, ref: ExternalOrderRef, signal: AbortSignal): Promise<ExternalOrder | null> => {
    const raw = await call(
      operation,
      () =>
        'clientOrderId' in ref
          ? orders.getOrderByClientOrderId({ clientOrderId: ref.clientOrderId }, { signal })
          : orders.getOrderByOrderID({ orderId: ref.externalOrderId }, { signal }),
      () => null,
    );
    return raw === null ? null : toOrder(raw, operation);
  };

  const adapter: AlpacaAdapter = {
    positionMode: 'netting',
    baseUrl,
    live,

    async listPositions({ signal }) {
      const operation = 'GET /v2/positions';
      return toPositions(await call(operation, () => positions.getAllOpenPositions({ signal })), operation);
    },

    async getPosition(id, { signal }) {
      const path = positionPath(id);
      const operation = `GET /v2/positions/${path}`;
      const raw = await call(
        operation,
        () => positions.getOpenPosition({ symbolOrAssetId: path }, { signal }),
        () => null,
      );
      // Asked by the pair (BTC/USD), the answer is about the id asked.
      return raw === null ? null : { ...toPosition(raw, operation), id };
    },

    async closePosition(id, { signal, quantity }) {
      if (quantity !== undefined && !(Number.isFinite(quantity) && quantity > 0)) {
        throw new ValidationError(`alpaca closePosition(${id}): quantity: expected a positive number, got ${String(quantity)}`);
      }
      const path = positionPath(id);
      const operation = `DELETE /v2/positions/${path}${quantity === undefined ? '' : `?qty=${quantity}`}`;
      const raw = await call(operation, () =>
        positions.deleteOpenPosition({ symbolOrAssetId: path, ...(quantity === undefined ? {} : { qty: quantity }) }, { signal }),
      );
      return toOrder(raw, operation);
    },

    async submitOrder(request, { clientOrderId, signal }) {
      const operation = `POST /v2/orders (${clientOrderId})`;
      // Alpaca has no reduce-only flag; for stocks and options the closing intent says it
      // (crypto orders refuse the field, so nothing marks theirs).
      const intent =
        request.reduceOnly === true && !request.symbol.includes('/')
          ? { positionIntent: request.side === 'sell' ? ('sell_to_close' as const) : ('buy_to_close' as const) }
          : {};
      const raw = await call(operation, () =>
        orders.postOrder(
          {
            postOrderRequest: {
              symbol: request.symbol,
              qty: String(request.quantity),
              side: request.side,
              type: request.type,
              timeInForce: request.symbol.includes('/') ? 'gtc' : 'day',
              ...(request.limitPrice === undefined ? {} : { limitPrice: String(request.limitPrice) }),
              clientOrderId,
              ...intent,
            },
          },
          { signal },
        ),
      );
      return toOrder(raw, operation);
    },

    getOrder(ref, { signal }) {
      const operation =
        'clientOrderId' in ref ? `GET /v2/orders:by_client_order_id (${ref.clientOrderId})` : `GET /v2/orders/${ref.externalOrderId}`;
      return orderById(operation, ref, signal);
    },

    async listOpenOrders({ signal }) {
      const operation = 'GET /v2/orders?status=open';
      const all: ExternalOrder[] = [];
      let after: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const raw = await call(operation, () =>
          orders.getAllOrders(
            { status: 'open', limit: ORDER_PAGE, direction: 'asc', nested: false, ...(after === undefined ? {} : { afterOrderId: after }) },
            { signal },
          ),
        );
        const list = toOrders(raw, operation);
        all.push(...list);
        const last = list.at(-1);
        if (list.length < ORDER_PAGE || last === undefined) return all;
        after = last.externalOrderId;
      }
      throw new ExternalError(`alpaca ${operation}: more than ${ORDER_PAGE * MAX_PAGES} open orders`, 'unreachable');
    },

    async cancelOrder(ref, { signal }) {
      let id = ref.externalOrderId;
      if (id === undefined) {
        const found = await orderById(`GET /v2/orders:by_client_order_id (${ref.clientOrderId})`, ref, signal);
        if (found === null) throw new ExternalError(`alpaca: no order ${ref.clientOrderId} to cancel`, 'rejected');
        id = found.externalOrderId;
      }
      const orderId = id;
      // Alpaca answers 404 for an order it does not know and 422 for one that is finished: both refusals.
      await call(`DELETE /v2/orders/${orderId}`, () => orders.deleteOrderByOrderID({ orderId }, { signal }));
    },

    async listFills({ since }, { signal }) {
      const operation = 'GET /v2/account/activities/FILL';
      // Alpaca's `after` leaves out the instant itself; the port asks for fills at or after `since`.
      const after = since === undefined ? undefined : new Date(Date.parse(since) - 1);
      const all: ExternalFill[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        // The SDK's model of an activity keeps only the non-trade fields (its one-of picks the
        // first schema), dropping a fill's price and order id: read the JSON as Alpaca sent it.
        const raw = await call(operation, async () => {
          const response = await activities.getAccountActivitiesByActivityTypeRaw(
            {
              activityType: 'FILL',
              direction: 'asc',
              pageSize: FILL_PAGE,
              ...(after === undefined ? {} : { after }),
              ...(pageToken === undefined ? {} : { pageToken }),
            },
            { signal },
          );
          return (await response.raw.json()) as unknown;
        });
        const fills = toFills(raw, operation);
        all.push(...fills);
        const last = fills.at(-1);
        if (fills.length < FILL_PAGE || last === undefined) return all;
        pageToken = last.tradeId;
      }
      throw new ExternalError(`alpaca ${operation}: more than ${FILL_PAGE * MAX_PAGES} fills since ${since ?? 'the start'}`, 'unreachable');
    },
  };
  return adapter;
}
