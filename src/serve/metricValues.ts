/**
 * What the gauges of GET /metrics show, read at scrape time from the store (the log's head), the
 * projection workers (checkpoints) and the read-model files (the served book): nothing is kept
 * between scrapes.
 */
import type { BookReadModel } from './readModels.js';
import type { ServeContext } from './routes.js';

/** The gauges' values for one scrape; a book value is null while the read model it comes from cannot be read. */
export interface MetricValues {
  headPosition: number;
  readModels: { name: string; checkpoint: number; lag: number }[];
  book: {
    name: string;
    openPositions: number | null;
    equity: number | null;
    drawdownRatio: number | null;
    breakerActive: boolean | null;
    orphansOpen: number | null;
    phantomsOpen: number | null;
    leakedValueSeconds: { orphan: number; phantom: number } | null;
  };
}

type Doc = Record<string, unknown> | null;
const at = (doc: Doc, ...path: string[]): unknown => {
  let v: unknown = doc;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
};
const num = (v: unknown, absent: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : absent);

/**
 * Reads the values of one scrape. A book with no events yet has no positions, the configured
 * equity and nothing leaked; a file that cannot be read (not written yet, being rebuilt) gives
 * null, so its gauges are absent rather than zeros.
 */
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
  const from = <T>(m: BookReadModel, read: (data: Doc) => T): T | null => (m.unavailable === null ? read(m.data) : null);
  return {
    headPosition: head.position,
    readModels,
    book: {
      name: ctx.config.book,
      openPositions: from(portfolio, (d) => num(at(d, 'totals', 'open'), 0)),
      equity: from(equity, (d) => num(at(d, 'equity'), ctx.config.equity)),
      drawdownRatio: from(equity, (d) => num(at(d, 'drawdown', 'pct'), 0) / 100),
      breakerActive: from(risk, (d) => at(d, 'circuitBreaker', 'status') === 'TRIPPED' && at(d, 'circuitBreaker', 'active') === true),
      orphansOpen: from(audit, (d) => num(at(d, 'totals', 'orphans', 'open'), 0)),
      phantomsOpen: from(audit, (d) => num(at(d, 'totals', 'phantoms', 'open'), 0)),
      leakedValueSeconds: from(audit, (d) => ({
        orphan: num(at(d, 'totals', 'orphans', 'valueSeconds'), 0),
        phantom: num(at(d, 'totals', 'phantoms', 'valueSeconds'), 0),
      })),
    },
  };
}
