/**
 * The daemon: startup recovery, the projection workers, the reconciliation scheduler, archiving
 * by timeout, heartbeats and the HTTP server, in one process, stopped cleanly by `stop()`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TrackerConfig } from '../config/index.js';
import { ExternalError, RecoveryPendingError, TrackerError, ValidationError } from '../errors/index.js';
import { projectionOptionsOf, startProjections, type ProjectionsHandle } from '../projections/index.js';
import {
  guardExternal,
  reconcile,
  scheduleReconciliation,
  type ExternalSystem,
  type GuardedExternal,
  type ReconcileReport,
  type ReconcileScheduler,
  type SchedulerStatus,
} from '../reconcile/index.js';
import { openTracker, type Tracker } from '../tracker/index.js';
import type { LogLevelMethods } from '../log.js';
import { setTimer, type Timer } from '../_internals/timers.js';
import { withTimeout } from '../_internals/timeout.js';
import { ReadModelReader } from './readModels.js';
import { defaultDashboardDir } from './staticFiles.js';
import { handleRequest, type ServeContext } from './routes.js';
import { createServeMetrics } from './metrics.js';

/** A logger with pino's methods (the CLI's lazy logger fits). */
export type ServeLogger = LogLevelMethods;

export interface StartServerOptions {
  /** The parsed configuration (store, book, rules, `reconcile`, `recovery`, `serve`). */
  config: TrackerConfig;
  /** Directory of the read-model files (the CLI's: `stateDir`, else beside the SQLite file). */
  stateDir: string;
  /** The outside system: with it the daemon runs startup recovery and the reconciliation scheduler. */
  external?: ExternalSystem;
  /** How the adapter was named (`--adapter`), shown by /api/health. */
  adapterName?: string;
  /** Override `serve.port` (0 = any free port). */
  port?: number;
  /** Override `serve.host`. */
  host?: string;
  /** Override `serve.apiToken` (the CLI passes PTRACK_API_TOKEN). */
  apiToken?: string | null;
  /** Where the dashboard's files are (default dist/dashboard/ beside the module). */
  dashboardDir?: string;
  /** The read-model workers' write interval (ms, default 1000). */
  persistEveryMs?: number;
  logger?: ServeLogger;
}

/** The corruption guard as the API shows it. */
export type GuardState = { ok: true } | { ok: false; message: string };

/** A running daemon. */
export interface ServerHandle {
  /** `http://host:port` as bound. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  guard(): GuardState;
  /** Stops the scheduler (a run in progress finishes), the timers and the workers (pending writes flushed), then the server. */
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
/**
 * Whether `host` only reaches this machine (127.0.0.0/8, ::1, localhost): `ptrack serve` binds
 * anything else only with an API token.
 *
 * @example
 * ```ts
 * isLoopback('127.0.0.1'); // true
 * isLoopback('0.0.0.0'); // false
 * ```
 */
export const isLoopback = (host: string): boolean => LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/** Stands in for the outside system in a manual recovery without an adapter (that mode asks it nothing). */
const NO_ADAPTER: ExternalSystem = {
  listPositions: () => Promise.reject(new ExternalError('ptrack serve runs without an adapter', 'unreachable')),
  closePosition: () => Promise.reject(new ExternalError('ptrack serve runs without an adapter', 'unreachable')),
};

/** What the daemon's startup recovery did, for /api/health. */
export interface RecoveryInfo {
  mode: TrackerConfig['recovery']['mode'];
  ran: boolean;
  /** What ran (`sync` when restore found the state too old), or null. */
  ranAs: string | null;
  note: string | null;
}

/**
 * Starts `ptrack serve` in this process: opens the tracker, runs startup recovery as the config's
 * `recovery.mode` says (with an adapter; without one only `manual` runs, as it asks the outside
 * nothing), starts the projection workers following the log, the reconciliation scheduler
 * (with an adapter, every `reconcile.everySeconds`, backing off while the outside fails),
 * archiving every `serve.archiveEverySeconds`, a heartbeat every `serve.heartbeatSeconds`, and the
 * HTTP server. Refuses (ValidationError) to bind beyond loopback without an API token. When the
 * corruption guard fires, the workers, the scheduler and the timers stop and the HTTP server keeps
 * answering with the guard's message.
 *
 * @example
 * ```ts
 * const server = await startServer({ config, stateDir: './state', port: 0 });
 * console.log(server.url); // http://127.0.0.1:41234
 * process.on('SIGTERM', () => void server.stop());
 * ```
 */
export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const { config } = options;
  const host = options.host ?? config.serve.host;
  const port = options.port ?? config.serve.port;
  const apiToken = options.apiToken === undefined ? config.serve.apiToken : options.apiToken;
  if (!isLoopback(host) && apiToken === null) {
    throw new ValidationError(
      `--host: ${JSON.stringify(host)} is reachable beyond this machine, and no API token is configured (set serve.apiToken or PTRACK_API_TOKEN, or bind 127.0.0.1)`,
    );
  }
  const logger = options.logger;
  const metrics = createServeMetrics();
  const tracker: Tracker = await openTracker({ ...config, ...(logger ? { logger } : {}), commandObserver: metrics.commandObserver });
  const external: GuardedExternal | null = options.external
    ? guardExternal(options.external, { observer: metrics.externalObserver })
    : null;
  let guard: GuardState = { ok: true };
  const listeners = new Set<(g: GuardState) => void>();

  const recovery = await runRecovery(tracker, external, config).catch(async (error: unknown) => {
    await tracker.close();
    throw error;
  });

  // Events by type as the daemon sees them arrive, whoever appended them (the CLI too), from now on.
  try {
    metrics.follow(tracker.store, (await tracker.store.head()).position, (error) =>
      logger?.warn({ err: message(error) }, `metrics stopped following the log: ${message(error)}`),
    );
  } catch (error) {
    await tracker.close();
    throw error;
  }

  let projections: ProjectionsHandle;
  try {
    projections = await startProjections({
      store: config.store,
      stateDir: options.stateDir,
      options: projectionOptionsOf(config),
      ...(logger ? { logger } : {}),
      ...(options.persistEveryMs !== undefined ? { persistEveryMs: options.persistEveryMs } : {}),
    });
  } catch (error) {
    metrics.stop();
    await tracker.close();
    throw error;
  }

  // One reconciliation at a time, whether the scheduler or POST /api/reconcile asks for it.
  let running: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = running.then(work, work);
    running = next.catch(() => undefined);
    return next;
  };
  const runReconcile = (): Promise<ReconcileReport> => {
    if (external === null) throw new ValidationError('no adapter: start ptrack serve with --adapter to reconcile');
    return exclusive(() => metrics.reconciliation(() => reconcile({ handler: tracker.handler, external, policy: config.reconcile })));
  };

  let schedulerStatus: SchedulerStatus | null = null;
  let scheduler: ReconcileScheduler | null = null;
  if (external !== null) {
    scheduler = scheduleReconciliation({
      everyMs: config.reconcile.everySeconds * 1000,
      run: runReconcile,
      onAlert: (a) => logger?.error({ alert: a }, a.message),
    });
    scheduler.status$.subscribe((s) => (schedulerStatus = s));
  }

  // Archiving and heartbeats: each re-armed after it finished, so two never overlap.
  const timers = new Set<Timer>();
  const inFlight = new Set<Promise<unknown>>();
  let stopping = false;
  const every = (seconds: number, what: string, work: () => Promise<unknown>): void => {
    const arm = (): void => {
      const t = setTimer(() => {
        timers.delete(t);
        if (stopping || !guard.ok) return;
        const p = work()
          .catch((error: unknown) => {
            // A refusal (recovery pending, a rule) is expected while it lasts; anything else is logged louder.
            if (error instanceof RecoveryPendingError) logger?.info({ what }, message(error));
            else logger?.error({ what, err: message(error) }, `${what} failed: ${message(error)}`);
          })
          .finally(() => {
            inFlight.delete(p);
            if (!stopping && guard.ok) arm();
          });
        inFlight.add(p);
      }, seconds * 1000);
      timers.add(t);
    };
    arm();
  };
  every(config.serve.archiveEverySeconds, 'archiving', () => tracker.archive());
  every(config.serve.heartbeatSeconds, 'heartbeat', () =>
    tracker.handler.handle({ type: 'RecordHeartbeat', process: 'ptrack serve' }, { source: 'local' }),
  );

  const stopWork = (): void => {
    scheduler?.stop();
    for (const t of timers) t.cancel();
    timers.clear();
  };
  const onGuard = (error: unknown): void => {
    if (!guard.ok) return;
    guard = { ok: false, message: message(error) };
    logger?.fatal({ err: guard.message }, `the corruption guard stopped the work: ${guard.message}`);
    stopWork();
    for (const l of listeners) l(guard);
  };
  projections.done.catch(onGuard);
  try {
    await projections.whenCaughtUp();
  } catch (error) {
    onGuard(error);
  }

  const context: ServeContext = {
    config,
    tracker,
    projections,
    readModels: new ReadModelReader(options.stateDir, config.book, config.timeZone, projectionOptionsOf(config)),
    dashboardDir: options.dashboardDir ?? defaultDashboardDir(),
    adapterName: external === null ? null : (options.adapterName ?? 'adapter'),
    recovery,
    apiToken,
    guard: () => guard,
    onGuard: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    scheduler: () => schedulerStatus,
    external,
    runReconcile,
    metrics,
  };
  const server: Server = createServer((req, res) => void handleRequest(context, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    stopWork();
    metrics.stop();
    await projections.stop().catch(() => undefined);
    await tracker.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new ValidationError(`--port: cannot listen on ${host}:${port}${code ? ` (${code})` : ''}: ${message(error)}`, [], {
      cause: error,
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      stopping = true;
      stopWork();
      // The run in progress finishes (its steps are decided commands; abandoning one halfway is
      // what a crash does, and the next run heals it) before the tracker is closed under it.
      await running;
      await Promise.allSettled([...inFlight]);
      // What this process appended last (a heartbeat, a run's events) reaches the read models before
      // their last write; bounded, so a stop never hangs on it (a guard failure is stop()'s below).
      if (guard.ok) {
        await withTimeout(
          STOP_CATCH_UP_MS,
          () => projections.whenCaughtUp(),
          () => new Error('catch-up at stop timed out'),
        ).catch(() => undefined);
      }
      for (const l of [...listeners]) l(guard);
      listeners.clear();
      await projections.stop().catch((error: unknown) => {
        if (!(error instanceof TrackerError)) throw error;
        onGuard(error);
      });
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      metrics.stop();
      await tracker.close();
    })());

  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    host: address.address,
    guard: () => guard,
    stop,
  };
}

/** How long a stop waits for the workers to catch up with the log before their last write. */
const STOP_CATCH_UP_MS = 10_000;

/** Startup recovery as the config says; without an adapter only `manual` can run. */
async function runRecovery(tracker: Tracker, external: GuardedExternal | null, config: TrackerConfig): Promise<RecoveryInfo> {
  const mode = config.recovery.mode;
  const base = { mode, ran: false, ranAs: null, note: null };
  if (external === null && mode !== 'manual') {
    await tracker.handler.handle({ type: 'RecordHeartbeat', process: 'ptrack serve' }, { source: 'local' });
    return { ...base, note: `recovery mode ${mode} needs the outside system: start with --adapter to run it` };
  }
  try {
    const outcome = await tracker.recover(external ?? NO_ADAPTER, { policy: config.reconcile, processName: 'ptrack serve' });
    return { ...base, ran: true, ranAs: outcome.mode, note: outcome.errors[0] ?? null };
  } catch (error) {
    // A book already waiting for an operator: serve it (health shows it; POST /api/recovery/ack opens it).
    if (error instanceof RecoveryPendingError) return { ...base, note: message(error) };
    throw error;
  }
}
