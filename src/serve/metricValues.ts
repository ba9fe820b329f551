/**
 * What the gauges of GET /metrics show, read at scrape time from the store (the log's head), the
 * projection workers (checkpoints) and the read-model files (the served book): nothing is kept
 * between scrapes.
 */
import type { ServeContext } from './routes.js';

/** The gauges' values for one scrape; `book` is null while a read model it needs cannot be read. */
export interface MetricValues {
  headPosition: number;
  readModels: { name: string; checkpoint: number; lag: number }[];
  book: {
    name: string;
    openPositions: number;
    equity: number;
    drawdownRatio: number;
    breakerActive: boolean;
    orphansOpen: number;
    phantomsOpen: number;
    leakedValueSeconds: { orphan: number; phantom: number };
  } | null;
}

type Doc = Record<string, unknown> | null;
const at = (doc: Doc, ...path: string[]): unknown => {
  let v: unknown = doc;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
};
const num = (v: unknown, absent: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : absent);

/** Reads the values of one scrape (a book with no events yet: no positions, the configured equity, nothing leaked). */
export async function metricValues(ctx: Pick<ServeContext, 'tracker' | 'projections' | 'readModels' | 'config'>): Promise<MetricValues> {
  const [head, portfolio, equity, risk, audit] = await Promise.all([
    ctx.tracker.store.head(),
    ctx.readModels.read('portfolio'),
    ctx.readModels.read('equity'),
    ctx.readModels.read('risk'),
    ctx.readModels.read('audit'),
  ]);
  const readModels = ctx.projections.status().projections.map((p) => ({
    name: p.name,
    checkpoint: p.checkpoint,
    lag: Math.max(0, head.position - p.checkpoint),
  }));
  // A file that cannot be read (not written yet, being rebuilt) gives no book series rather than zeros.
  const readable = [portfolio, equity, risk, audit].every((m) => m.unavailable === null);
  if (!readable) return { headPosition: head.position, readModels, book: null };
  const breaker = at(risk.data, 'circuitBreaker') as { status?: string; active?: boolean } | undefined;
  return {
    headPosition: head.position,
    readModels,
    book: {
      name: ctx.config.book,
      openPositions: num(at(portfolio.data, 'totals', 'open'), 0),
      equity: num(at(equity.data, 'equity'), ctx.config.equity),
      drawdownRatio: num(at(equity.data, 'drawdown', 'pct'), 0) / 100,
      breakerActive: breaker?.status === 'TRIPPED' && breaker.active === true,
      orphansOpen: num(at(audit.data, 'totals', 'orphans', 'open'), 0),
      phantomsOpen: num(at(audit.data, 'totals', 'phantoms', 'open'), 0),
      leakedValueSeconds: {
        orphan: num(at(audit.data, 'totals', 'orphans', 'valueSeconds'), 0),
        phantom: num(at(audit.data, 'totals', 'phantoms', 'valueSeconds'), 0),
      },
    },
  };
}
