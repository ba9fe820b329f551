/**
 * GET /metrics: the daemon's Prometheus series on a registry of its own (never prom-client's
 * global one). Counters and histograms are fed by the core's observer hooks (the command
 * handler, the guarded outside system), by the daemon's reconciliation runs and by its
 * subscription to the log; the gauges are read at scrape time (see metricValues.ts), so the
 * daemon keeps no second copy of the book. Only src/serve imports prom-client.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommandObserver, CommandOutcome } from '../commands/index.js';
import type { ExternalFailure } from '../errors/index.js';
import type { ExternalCallObserver, ExternalOperation, ReconcileReport } from '../reconcile/index.js';
import type { Subscription } from 'rxjs';
import type { EventStore } from '../store/index.js';
import type { MetricValues } from './metricValues.js';

/** Every metric's name starts with it. */
export const METRIC_PREFIX = 'ptrack_';

/** How a reconciliation run of the daemon ended: no errors, completed with errors in its report, or thrown. */
export type ReconciliationOutcome = 'ok' | 'errors' | 'failed';

/** The daemon's metrics: the hooks that feed the counters, and the scrape. */
export interface ServeMetrics {
  readonly registry: Registry;
  /** For the book's command handler (openTracker's `commandObserver`). */
  readonly commandObserver: CommandObserver;
  /** For guardExternal's `observer`. */
  readonly externalObserver: ExternalCallObserver;
  /** Runs one reconciliation, counting it by outcome and timing it. */
  reconciliation(run: () => Promise<ReconcileReport>): Promise<ReconcileReport>;
  /** Counts by type every event appended to the log after `fromPosition`, by any process, until stop(). */
  follow(store: EventStore, fromPosition: number, onError: (error: unknown) => void): void;
  /** The text exposition, with the gauges set from `read()` (scrapes run one at a time). */
  scrape(read: () => Promise<MetricValues>): Promise<string>;
  /** Stops following the log. */
  stop(): void;
}

/** Content-Type of the text exposition format. */
export const METRICS_CONTENT_TYPE = new Registry().contentType;

/** Label children cached by their values, so a hot-path increment allocates nothing. */
function children<L extends string>(counter: Counter<L>, names: readonly L[]): (a: string, b?: string) => Counter<L> {
  const cache = new Map<string, Map<string, Counter<L>>>();
  return (a, b = '') => {
    let inner = cache.get(a);
    if (inner === undefined) cache.set(a, (inner = new Map()));
    let child = inner.get(b);
    if (child === undefined) {
      const labels = (names.length === 1 ? [a] : [a, b]) as string[];
      child = counter.labels(...labels) as unknown as Counter<L>;
      inner.set(b, child);
    }
    return child;
  };
}

/**
 * Creates the daemon's registry with every series (see the README, "Metrics") and the process
 * defaults (`collectDefaultMetrics`, prefixed `ptrack_`).
 *
 * @example
 * ```ts
 * const metrics = createServeMetrics();
 * const tracker = await openTracker({ ...config, commandObserver: metrics.commandObserver });
 * const text = await metrics.scrape(() => metricValues(context));
 * ```
 */
export function createServeMetrics(): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];

  const events = new Counter({
    name: `${METRIC_PREFIX}events_appended_total`,
    help: 'Events appended to the log, by type, as this daemon sees them arrive (its subscription since it started): appends by any process, the CLI included.',
    labelNames: ['type'] as const,
    registers,
  });
  const commands = new Counter({
    name: `${METRIC_PREFIX}commands_total`,
    help: 'Commands this daemon handled itself (heartbeats, reconciliation, write endpoints), by type and outcome: accepted, rejected (a rule or bad input), duplicate (a repeated commandId), failed (the store). Commands of other processes are not counted here.',
    labelNames: ['type', 'outcome'] as const,
    registers,
  });
  const appendSeconds = new Histogram({
    name: `${METRIC_PREFIX}append_duration_seconds`,
    help: "Seconds the store took to append one batch of this daemon's commands.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const runs = new Counter({
    name: `${METRIC_PREFIX}reconciliation_runs_total`,
    help: 'Reconciliation runs of this daemon (scheduler and POST /api/reconcile), by outcome: ok, errors (completed, its report lists errors), failed (threw).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const runSeconds = new Histogram({
    name: `${METRIC_PREFIX}reconciliation_duration_seconds`,
    help: 'Seconds one reconciliation run of this daemon took, whatever its outcome.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const calls = new Counter({
    name: `${METRIC_PREFIX}external_calls_total`,
    help: 'Calls this daemon made to the outside system (each retry is one), by operation and outcome: ok, or the failure kind (unreachable, rate_limited, rejected, malformed, timeout).',
    labelNames: ['operation', 'outcome'] as const,
    registers,
  });

  let values: MetricValues | null = null;
  type BookValues = MetricValues['book'];
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void): void => {
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames,
      registers,
      collect(this: Gauge) {
        collect(this);
      },
    });
  };
  /** A gauge of the served book: absent while the read model it comes from cannot be read. */
  const bookGauge = (name: string, help: string, value: (v: BookValues) => number | null): void =>
    gauge(name, help, ['book'], (g) => {
      g.reset();
      const v = values === null ? null : value(values.book);
      if (values !== null && v !== null) g.set({ book: values.book.name }, v);
    });

  bookGauge('open_positions', 'Positions IN in the book (portfolio read model, read at scrape time).', (v) => v.openPositions);
  bookGauge('equity', "The book's equity in its currency: the config's equity plus realized P&L (equity read model).", (v) => v.equity);
  bookGauge(
    'drawdown_ratio',
    'How far equity is below its peak, as a ratio of the peak (0.05 = 5%) (equity read model).',
    (v) => v.drawdownRatio,
  );
  bookGauge('breaker_active', '1 while the circuit breaker refuses entries, else 0 (risk read model).', (v) =>
    v.breakerActive === null ? null : v.breakerActive ? 1 : 0,
  );
  bookGauge('orphans_open', 'Orphans (open outside, not in the book) not resolved yet (audit read model).', (v) => v.orphansOpen);
  bookGauge('phantoms_open', 'Phantoms (IN in the book, gone outside) not resolved yet (audit read model).', (v) => v.phantomsOpen);
  gauge(
    'leaked_value_seconds',
    "Value x time leaked by every episode of the kind (orphan, phantom), open ones until the audit read model's asOf: value times seconds.",
    ['book', 'kind'],
    (g) => {
      g.reset();
      const leaked = values?.book.leakedValueSeconds;
      if (values === null || leaked == null) return;
      g.set({ book: values.book.name, kind: 'orphan' }, leaked.orphan);
      g.set({ book: values.book.name, kind: 'phantom' }, leaked.phantom);
    },
  );
  gauge('read_model_checkpoint', "The global position each read model's worker has folded, by model.", ['model'], (g) => {
    g.reset();
    for (const m of values?.readModels ?? []) g.set({ model: m.name }, m.checkpoint);
  });
  gauge('read_model_lag', "How many global positions each read model's worker is behind the log's head, by model.", ['model'], (g) => {
    g.reset();
    for (const m of values?.readModels ?? []) g.set({ model: m.name }, m.lag);
  });
  gauge('log_head_position', "The log's last global position.", [], (g) => {
    if (values) g.set(values.headPosition);
  });

  const command = children(commands, ['type', 'outcome']);
  const call = children(calls, ['operation', 'outcome']);
  const eventType = children(events, ['type']);
  let subscription: Subscription | null = null;
  let scraping: Promise<unknown> = Promise.resolve();

  return {
    registry,
    commandObserver: {
      onCommand: (type: string, outcome: CommandOutcome) => command(type, outcome).inc(),
      onAppend: (seconds: number) => appendSeconds.observe(seconds),
    },
    externalObserver: { onCall: (operation: ExternalOperation, outcome: ExternalFailure | 'ok') => call(operation, outcome).inc() },
    async reconciliation(run) {
      const end = runSeconds.startTimer();
      try {
        const report = await run();
        const outcome: ReconciliationOutcome = report.errors.length === 0 ? 'ok' : 'errors';
        runs.labels(outcome).inc();
        return report;
      } catch (error) {
        runs.labels('failed' satisfies ReconciliationOutcome).inc();
        throw error;
      } finally {
        end();
      }
    },
    follow(store, fromPosition, onError) {
      subscription?.unsubscribe();
      subscription = store.subscribe({ fromPosition }).subscribe({
        next: (e) => eventType(e.type).inc(),
        error: onError,
      });
    },
    scrape(read) {
      const next = scraping.then(async () => {
        values = await read();
        try {
          return await registry.metrics();
        } finally {
          values = null;
        }
      });
      scraping = next.catch(() => undefined);
      return next;
    },
    stop() {
      subscription?.unsubscribe();
      subscription = null;
    },
  };
}
