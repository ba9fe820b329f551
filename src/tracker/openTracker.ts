import {
  CommandHandler,
  type CommandResult,
  type HandleOptions,
  type HandlerLogger,
  type CommandObserver,
  breakerActive,
  type BookState,
  type Position,
  type PositionStatus,
  type CommandInput,
  type Order,
  isSignalProcessed,
  processedSignal,
  type SignalRecord,
} from '../commands/index.js';
import { TrackerConfig, policyOf, type TrackerConfigInput } from '../config/index.js';
import { ValidationError } from '../errors/index.js';
import { parseOrThrow, quote } from '../_internals/zodIssues.js';
import { definedFields } from '../_internals/definedFields.js';
import { z } from 'zod';
import type { Side } from '../events/index.js';
import {
  type ExternalSystem,
  type GuardedExternal,
  guardExternal,
  recoverOnStartup,
  type RecoveryOptions,
  type RecoveryOutcome,
} from '../reconcile/index.js';
import { openStore, parseStoreSpec, type OpenStoreOptions, type EventStore } from '../store/index.js';
import { orderGateway, type OrderOutcome, type SubmitOrderRequest } from './orderGateway.js';
import { assertLogNotGone, markingAppends, openHighWaterMark, type HighWaterMark } from './highWaterMark.js';

export interface OpenTrackerOptions extends Omit<TrackerConfigInput, 'store'> {
  /** A store string (`sqlite:./state/trades.db`, `memory:`, `postgres://user@host:5432/db`, `esdb://host:2113?tls=false`) or an open store (not closed by `close()`). */
  store?: string | EventStore;
  /** The clock (simulations and tests pin it). */
  now?: () => Date;
  logger?: HandlerLogger;
  /** Metrics hooks of the book's command handler (see CommandObserver): `ptrack serve` counts with them. */
  commandObserver?: CommandObserver;
  storeOptions?: OpenStoreOptions;
  /**
   * The outside system, for a bot that starts here: startup recovery runs before openTracker
   * returns, in the config's `recovery.mode` with its `maxStateAgeSeconds` (see `tracker.recover`).
   */
  external?: ExternalSystem | GuardedExternal;
}

/** What `tracker.recover` takes besides the outside system: anything of recoverOnStartup's but the handler. */
export type TrackerRecoveryOptions = Partial<Omit<RecoveryOptions, 'handler' | 'external'>>;

/** Per-call options: a `commandId` makes a repeated call return the first result and append nothing. */
export interface CallOptions extends HandleOptions {
  commandId?: string;
}

/** What a call returns: the events it appended and the position afterwards. */
export interface TrackerResult {
  events: CommandResult['events'];
  position: Position | null;
  duplicate: boolean;
}

/** The book-wide risk state, for `ptrack status` and bots. */
export interface RiskSummary {
  open: number;
  maxPositions: number;
  realizedPnl: number;
  equity: number;
  todayPnl: { day: string; pnl: number };
  /** The breaker as the log left it, and whether it refuses entries now (a timed trip expires by itself). */
  breaker: BookState['breaker'] & { active: boolean };
  cooldowns: { symbol: string; until: string }[];
  /** Open risk per group; `pct` of equity is null when no equity is left (a share of nothing is not a number). */
  groupRisk: { group: string; risk: number; pct: number | null }[];
  lossStreaks: { symbol: string; day: string; count: number }[];
}

/**
 * A tracker for one book: commands in, events to the log, the book's state out.
 *
 * @example
 * ```ts
 * const tracker = await openTracker({ store: 'sqlite:./state/trades.db', book: 'main', maxPositions: 5 });
 * await tracker.track('AAPL-1', { symbol: 'AAPL' });
 * await tracker.enter('AAPL-1', { value: 1000, quantity: 5, price: 200, stop: 190 });
 * await tracker.exit('AAPL-1', { value: 1100 });
 * console.log(await tracker.get('AAPL-1'));
 * await tracker.close();
 * ```
 */
/** What a position is tracked with (track, and open). */
export interface TrackOptions {
  symbol?: string;
  /** How the venue names it (matched on netting/hedge accounts); default: the symbol. */
  venueKey?: string;
  side?: Side;
  setup?: string;
  group?: string;
  attributes?: Record<string, string | number | boolean | null>;
}

export interface Tracker {
  readonly book: string;
  readonly store: EventStore;
  readonly config: TrackerConfig;
  readonly handler: CommandHandler;
  track(id: string, opts?: TrackOptions & CallOptions): Promise<TrackerResult>;
  enter(
    id: string,
    opts: { value: number; quantity?: number; price?: number; stop?: number; venueKey?: string } & CallOptions,
  ): Promise<TrackerResult>;
  /**
   * Tracks and enters `id` in one command (the Open command): the same rules as track then
   * enter, and its PositionTracked and PositionEntered appended in one append, or nothing.
   */
  open(
    id: string,
    opts: TrackOptions & {
      value: number;
      quantity?: number;
      price?: number;
      stop?: number;
      takeProfit?: number;
      trailingStop?: { distance: number } | { percent: number };
    } & CallOptions,
  ): Promise<TrackerResult>;
  hold(id: string, opts: { value: number; price?: number } & CallOptions): Promise<TrackerResult>;
  monitor(id: string, opts: { value: number; price?: number } & CallOptions): Promise<TrackerResult>;
  exit(
    id: string,
    opts: { value: number; fraction?: number; quantity?: number; price?: number; reason?: string } & CallOptions,
  ): Promise<TrackerResult>;
  skip(id: string, opts?: { reason?: string } & CallOptions): Promise<TrackerResult>;
  adoptOrphan(
    id: string,
    opts: {
      value: number;
      symbol?: string;
      side?: Side;
      quantity?: number;
      price?: number;
      setup?: string;
      group?: string;
      reason?: string;
    } & CallOptions,
  ): Promise<TrackerResult>;
  /** Archives what is due by timeout, or one position now when `id` is given. */
  archive(id?: string, opts?: CallOptions): Promise<TrackerResult[]>;
  tripCircuitBreaker(reason: string, opts?: { seconds?: number } & CallOptions): Promise<TrackerResult>;
  resetCircuitBreaker(opts?: { reason?: string } & CallOptions): Promise<TrackerResult>;
  startCooldown(symbol: string, seconds: number, opts?: { reason?: string } & CallOptions): Promise<TrackerResult>;
  /**
   * Startup recovery against `external`, in the config's `recovery.mode` and
   * `recovery.maxStateAgeSeconds` with its `reconcile` policy (each overridable). With `manual` the
   * book then refuses what moves positions or risk (RecoveryPendingError) until acknowledged.
   */
  recover(external: ExternalSystem | GuardedExternal, opts?: TrackerRecoveryOptions): Promise<RecoveryOutcome>;
  /** An operator's acknowledgement of a pending recovery: appends RecoveryAcknowledged. */
  acknowledgeRecovery(opts?: { reason?: string } & CallOptions): Promise<TrackerResult>;
  /** What startup recovery did when openTracker was given `external`; null otherwise. */
  readonly recovery: RecoveryOutcome | null;
  /**
   * The order gateway: decides RequestOrder and appends OrderRequested first (the risk rules run
   * there), then sends the order to `external` under its client order id, then records the
   * answer: OrderAccepted (and the fills it carries), OrderRejected only on a definitive refusal,
   * nothing on an unknown outcome (the order is returned in flight, PENDING_SUBMIT, with the
   * error: reconciliation looks it up, nobody sends it again). A repeated call with the same
   * signalId or commandId returns the first order (`duplicate`) and sends nothing. Needs
   * openTracker's `external` with the order methods (capabilities.canTrade).
   */
  submitOrder(request: SubmitOrderRequest, opts?: HandleOptions): Promise<OrderOutcome>;
  /** CancelOrder (PENDING_CANCEL), the venue's cancel, then OrderCanceled once the venue confirms (after the fills it lists). */
  cancelOrder(clientOrderId: string, opts?: HandleOptions & { reason?: string }): Promise<OrderOutcome>;
  /** The book's orders (values), optionally only the live ones (in flight or open), or of one position. */
  orders(filter?: { live?: boolean; positionId?: string }): Promise<Order[]>;
  /** One order by client order id, or null. */
  order(clientOrderId: string): Promise<Order | null>;
  /** Whether the book processed signal `signalId` (its order, or the recent signals of archived positions). */
  isSignalProcessed(signalId: string): Promise<boolean>;
  /** When the book processed signal `signalId` and the order it became, or null. */
  processedSignal(signalId: string): Promise<SignalRecord | null>;
  /** Runs any command object. */
  execute(command: CommandInput, opts?: HandleOptions): Promise<CommandResult>;
  /** A position by id, or null when unknown or archived. */
  get(id: string): Promise<Position | null>;
  /** Positions, optionally of some statuses. */
  list(filter?: { status?: PositionStatus | readonly PositionStatus[] }): Promise<Position[]>;
  risk(): Promise<RiskSummary>;
  /** The whole book, caught up with the log: frozen, a value later commands never change. */
  state(): Promise<BookState>;
  /**
   * Finishes the commands already accepted (queued ones included), refuses new ones with a
   * StoreError, then closes the store if the tracker opened it. Calling it again waits for the same close.
   */
  close(): Promise<void>;
}

/** A copy without undefined fields (commands are strict objects: `undefined` is not "absent"). */
function clean<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) {
    const value = (o as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

/** The keys of {@link CallOptions}: how a call is made, not what the command says. */
const CALL_OPTION_KEYS: ReadonlySet<string> = new Set<keyof CallOptions>(['commandId', 'correlationId', 'causationId', 'source']);

const STORE_EXPECTED =
  'must be a store string (sqlite:<file>, memory:, postgres://user@host:5432/db, esdb://host:2113) or an open EventStore';
const isEventStore = (v: unknown): v is EventStore =>
  typeof v === 'object' &&
  v !== null &&
  (['append', 'readStream', 'readAll', 'subscribe', 'head', 'close'] as const).every(
    (m) => typeof (v as Record<string, unknown>)[m] === 'function',
  );
const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The options of {@link openTracker}: the config's keys, plus the store (a string or an open store), clock and logger. */
const OpenTrackerOptionsSchema = TrackerConfig.omit({ store: true }).extend({
  store: z.union([z.string().min(1), z.custom<EventStore>(isEventStore)], { error: STORE_EXPECTED }).optional(),
  now: z.custom<() => Date>((v) => typeof v === 'function', 'must be a function returning the current Date').optional(),
  logger: z
    .custom<HandlerLogger>(
      (v) => isObject(v) && typeof (v as HandlerLogger).debug === 'function' && typeof (v as HandlerLogger).warn === 'function',
      'must be an object with debug() and warn()',
    )
    .optional(),
  storeOptions: z.custom<OpenStoreOptions>(isObject, 'must be an object').optional(),
  commandObserver: z
    .custom<CommandObserver>(
      (v) =>
        isObject(v) &&
        ['onCommand', 'onAppend'].every((k) => {
          const hook = (v as Record<string, unknown>)[k];
          return hook === undefined || typeof hook === 'function';
        }),
      'must be an object whose onCommand and onAppend, when present, are functions',
    )
    .optional(),
  external: z
    .custom<ExternalSystem | GuardedExternal>(
      (v) =>
        isObject(v) &&
        typeof (v as ExternalSystem).listPositions === 'function' &&
        typeof (v as ExternalSystem).closePosition === 'function',
      'must be an ExternalSystem with listPositions() and closePosition(id)',
    )
    .optional(),
});

/**
 * Opens a tracker on a store and book. Every option is parsed at the boundary with the config
 * schema: a wrong type (`store: 5`, `store: null`) or an unknown key is a ValidationError naming it.
 */
export async function openTracker(options: OpenTrackerOptions = {}): Promise<Tracker> {
  if (!isObject(options)) throw new ValidationError(`openTracker: expected an object of options, got ${quote(options)}`);
  const input = clean(options);
  const {
    store: storeOption,
    now,
    logger,
    storeOptions,
    commandObserver,
    external,
    ...configPart
  } = parseOrThrow(OpenTrackerOptionsSchema, input, 'openTracker');
  const config: TrackerConfig = {
    ...configPart,
    store: typeof storeOption === 'string' ? storeOption : TrackerConfig.shape.store.parse(undefined),
  };
  const ownsStore = typeof storeOption !== 'object';
  if (ownsStore) {
    const spec = parseStoreSpec(config.store);
    // A log deleted under a surviving high-water mark is refused before openStore creates an empty one.
    if (spec.engine === 'sqlite') assertLogNotGone(spec.engine, spec.path);
  }
  const opened =
    typeof storeOption === 'object' ? storeOption : await openStore(config.store, { ...storeOptions, ...definedFields({ now }) });
  // A book command on a log that is behind what this installation has seen of it is refused (exit 4).
  let mark: HighWaterMark | null;
  try {
    mark = await openHighWaterMark(opened, { write: storeOptions?.readOnly !== true });
  } catch (error) {
    if (ownsStore) await opened.close().catch(() => undefined);
    throw error;
  }
  const store = mark === null ? opened : markingAppends(opened, mark);
  const handler = new CommandHandler({
    store,
    bookId: config.book,
    policy: policyOf(config),
    snapshotEvery: config.snapshotEvery,
    ...definedFields({ now, logger, observer: commandObserver }),
  });

  const guarded = external === undefined ? null : 'stats' in external ? external : guardExternal(external);
  const gateway = orderGateway(handler, guarded);
  let closing: Promise<void> | undefined;
  const run = async (command: CommandInput, call: CallOptions = {}, id?: string): Promise<TrackerResult> => {
    // Copies made field by field, not by spreads and rests: this runs for every command of a busy bot.
    const input = clean(command) as Record<string, unknown>;
    if (call.commandId !== undefined) input.commandId = call.commandId;
    const handleOptions: HandleOptions = {};
    if (call.correlationId !== undefined) handleOptions.correlationId = call.correlationId;
    if (call.causationId !== undefined) handleOptions.causationId = call.causationId;
    if (call.source !== undefined) handleOptions.source = call.source;
    const result = await handler.handle(input as CommandInput, handleOptions);
    const positionId = id ?? (command as { positionId?: string }).positionId;
    return {
      events: result.events,
      position: positionId === undefined ? null : (result.state.positions.get(positionId) ?? null),
      duplicate: result.duplicate,
    };
  };
  /** A call's fields and its call options, in one pass, undefined ones dropped: the fields are spread into the command as they are. */
  const split = <T extends CallOptions>(o: T | undefined): [Omit<T, keyof CallOptions>, CallOptions] => {
    const fields: Record<string, unknown> = {};
    const call: Record<string, unknown> = {};
    if (o !== undefined) {
      for (const key of Object.keys(o)) {
        const value = (o as Record<string, unknown>)[key];
        if (value === undefined) continue;
        if (CALL_OPTION_KEYS.has(key)) call[key] = value;
        else fields[key] = value;
      }
    }
    return [fields as Omit<T, keyof CallOptions>, call as CallOptions];
  };

  const tracker: Tracker = {
    recovery: null,
    book: config.book,
    store,
    config,
    handler,
    track: (id, o) => {
      const [f, c] = split(o);
      return run({ type: 'Track', positionId: id, ...f }, c);
    },
    enter: (id, o) => {
      const [f, c] = split(o);
      return run({ type: 'Enter', positionId: id, ...f } as CommandInput, c);
    },
    open: (id, o) => {
      const [f, c] = split(o);
      return run({ type: 'Open', positionId: id, ...f } as CommandInput, c);
    },
    hold: (id, o) => {
      const [f, c] = split(o);
      return run({ type: 'Hold', positionId: id, ...f } as CommandInput, c);
    },
    monitor: (id, o) => {
      const [f, c] = split(o);
      return run({ type: 'Monitor', positionId: id, ...f } as CommandInput, c);
    },
    exit: (id, o) => {
      const [f, c] = split(o);
      return run({ type: 'Exit', positionId: id, ...f } as CommandInput, c);
    },
    skip: (id, o) => {
      const [f, c] = split(o);
      return run({ type: 'Skip', positionId: id, ...f }, c);
    },
    adoptOrphan: (id, o) => {
      const [f, c] = split(o);
      return run({ type: 'AdoptOrphan', positionId: id, ...f } as CommandInput, c);
    },
    archive: async (id, o) => {
      const { commandId, ...h } = o ?? {};
      const result = await handler.handle(clean({ type: 'Archive' as const, positionId: id, commandId }), h);
      return result.events.map((e) => ({ events: [e], position: null, duplicate: result.duplicate }));
    },
    tripCircuitBreaker: (reason, o) => {
      const [f, c] = split(o);
      return run({ type: 'TripCircuitBreaker', reason, ...f }, c);
    },
    resetCircuitBreaker: (o) => {
      const [f, c] = split(o);
      return run({ type: 'ResetCircuitBreaker', ...f }, c);
    },
    startCooldown: (symbol, seconds, o) => {
      const [f, c] = split(o);
      return run({ type: 'StartCooldown', symbol, seconds, ...f }, c);
    },
    recover: (external, o = {}) =>
      recoverOnStartup({
        handler,
        external,
        mode: config.recovery.mode,
        maxStateAgeSeconds: config.recovery.maxStateAgeSeconds,
        policy: config.reconcile,
        ...definedFields({ now }),
        ...o,
      }),
    acknowledgeRecovery: (o) => {
      const [f, c] = split(o);
      return run({ type: 'AcknowledgeRecovery', ...f }, { source: 'recovery', ...c });
    },
    submitOrder: (request, o) => gateway.submitOrder(request, o),
    cancelOrder: (id, o) => gateway.cancelOrder(id, o),
    orders: async (filter = {}) => {
      const state = await handler.load();
      return [...state.orders.values()].filter(
        (o) =>
          (filter.live !== true || state.liveOrders.has(o.clientOrderId)) &&
          (filter.positionId === undefined || o.positionId === filter.positionId),
      );
    },
    order: async (id) => (await handler.load()).orders.get(id) ?? null,
    isSignalProcessed: async (id) => isSignalProcessed(await handler.load(), id),
    processedSignal: async (id) => processedSignal(await handler.load(), id) ?? null,
    execute: (command, o) => handler.handle(command, o),
    get: async (id) => (await handler.load()).positions.get(id) ?? null,
    list: async (filter = {}) => {
      const state = await handler.load();
      const statuses = filter.status === undefined ? null : ([] as PositionStatus[]).concat(filter.status);
      return [...state.positions.values()].filter((p) => statuses === null || statuses.includes(p.status));
    },
    risk: async () => {
      const state = await handler.load();
      const equity = handler.policy.equity + state.realizedPnl;
      return {
        open: state.open,
        maxPositions: handler.policy.maxPositions,
        realizedPnl: state.realizedPnl,
        equity,
        todayPnl: state.today,
        breaker: { ...state.breaker, active: breakerActive(state.breaker, (now ?? (() => new Date()))()) },
        cooldowns: [...state.cooldowns].map(([symbol, until]) => ({ symbol, until })),
        groupRisk: [...state.groupRisk].map(([group, risk]) => ({ group, risk, pct: equity > 0 ? (risk / equity) * 100 : null })),
        lossStreaks: [...state.lossStreaks].map(([symbol, s]) => ({ symbol, ...s })),
      };
    },
    state: () => handler.load(),
    close: async () => {
      // Queued commands were accepted: finish them before the store goes (new ones are refused).
      closing ??= handler.close().then(() => {
        mark?.close();
        return ownsStore ? store.close() : undefined;
      });
      await closing;
    },
  };
  if (external === undefined) return tracker;
  try {
    return { ...tracker, recovery: await tracker.recover(guarded ?? external) };
  } catch (error) {
    await tracker.close();
    throw error;
  }
}
