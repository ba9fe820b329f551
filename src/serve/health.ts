/**
 * GET /api/health: the log's head, each read model's checkpoint and lag, the last
 * reconciliation and the scheduler, the corruption guard, the breaker and startup recovery.
 */
import type { ServeContext } from './routes.js';

/** One read model's progress: `lag` is how many global positions it is behind the log's head. */
export interface ReadModelHealth {
  name: string;
  checkpoint: number;
  persistedCheckpoint: number | null;
  lag: number;
  healing: string | null;
}

/** The health document; `status` is `ok`, or `stopped` once the guard fired (HTTP 503). */
export async function health(ctx: ServeContext): Promise<Record<string, unknown>> {
  const [head, risk, audit, book] = await Promise.all([
    ctx.tracker.store.head(),
    ctx.readModels.read('risk'),
    ctx.readModels.read('audit'),
    ctx.tracker.state(),
  ]);
  const runner = ctx.projections.status();
  const readModels: ReadModelHealth[] = runner.projections.map((p) => ({
    name: p.name,
    checkpoint: p.checkpoint,
    persistedCheckpoint: p.persistedCheckpoint,
    lag: Math.max(0, head.position - p.checkpoint),
    healing: p.healing,
  }));
  const runs = (audit.data?.reconciliations ?? []) as Record<string, unknown>[];
  const s = ctx.scheduler();
  const g = ctx.guard();
  const breaker = (risk.data?.circuitBreaker ?? { status: 'OK' }) as Record<string, unknown>;
  return {
    status: g.ok ? 'ok' : 'stopped',
    book: ctx.config.book,
    head,
    workers: runner.state,
    readModels,
    reconciliation: {
      adapter: ctx.adapterName,
      everySeconds: ctx.adapterName === null ? null : ctx.config.reconcile.everySeconds,
      /** The last run recorded in the log (by this daemon or any other process). */
      last: runs.at(-1) ?? null,
      scheduler:
        s === null
          ? null
          : {
              runs: s.runs,
              running: s.running,
              consecutiveFailures: s.consecutiveFailures,
              nextDelayMs: s.nextDelayMs,
              lastError: s.lastError ?? null,
            },
      outside: ctx.external === null ? null : { calls: ctx.external.stats.calls, retries: ctx.external.stats.retries },
    },
    guard: g,
    breaker,
    recovery: { ...ctx.recovery, pending: book.recovery.status !== 'CLEAR' },
  };
}
