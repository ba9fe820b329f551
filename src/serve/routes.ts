/**
 * The HTTP API's routing: `/api/*` as JSON, `/api/stream` as server-sent events, the dashboard's
 * files at `/`. Every answer is JSON, errors included (`{ error: { code, message } }`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TrackerConfig } from '../config/index.js';
import type { ProjectionsHandle } from '../projections/index.js';
import type { GuardedExternal, ReconcileReport, SchedulerStatus } from '../reconcile/index.js';
import type { Tracker } from '../tracker/index.js';
import { errorResponse, HttpError, sendJson } from './httpErrors.js';
import type { ReadModelReader } from './readModels.js';
import { health } from './health.js';
import { eventsPage } from './events.js';
import { staticFile } from './staticFiles.js';
import { serveStream } from './stream.js';
import { METRICS_CONTENT_TYPE, type ServeMetrics } from './metrics.js';
import { metricValues } from './metricValues.js';
import { runWrite, WRITES } from './writes.js';
import type { GuardState, RecoveryInfo } from './startServer.js';

/** What a request may reach: the daemon's parts, read-only but for the write endpoints. */
export interface ServeContext {
  config: TrackerConfig;
  tracker: Tracker;
  projections: ProjectionsHandle;
  readModels: ReadModelReader;
  dashboardDir: string;
  adapterName: string | null;
  recovery: RecoveryInfo;
  apiToken: string | null;
  guard(): GuardState;
  /** Called once when the guard fires (and at stop); returns the unsubscribe. */
  onGuard(listener: (g: GuardState) => void): () => void;
  scheduler(): SchedulerStatus | null;
  external: GuardedExternal | null;
  runReconcile(): Promise<ReconcileReport>;
  metrics: ServeMetrics;
}

type Handler = (ctx: ServeContext, url: URL, req: IncomingMessage, res: ServerResponse) => Promise<unknown>;

const readModel =
  (name: Parameters<ReadModelReader['read']>[0]): Handler =>
  (ctx) =>
    ctx.readModels.read(name);

/** GET routes answered with JSON. */
const GET = new Map<string, Handler>([
  ['/api/health', (ctx) => health(ctx)],
  [
    '/api/positions',
    async (ctx) => {
      const m = await ctx.readModels.read('portfolio');
      const positions = (m.data?.positions ?? { WATCHING: [], IN: [], EXITED: [], SKIPPED: [] }) as Record<string, unknown[]>;
      return { book: m.book, checkpoint: m.checkpoint, asOf: m.asOf, timeZone: m.timeZone, unavailable: m.unavailable, positions };
    },
  ],
  ['/api/orders', readModel('orders')],
  ['/api/portfolio', readModel('portfolio')],
  ['/api/equity', readModel('equity')],
  ['/api/equity/curve', (ctx) => ctx.readModels.equityCurve()],
  ['/api/risk', readModel('risk')],
  ['/api/performance', readModel('performance')],
  ['/api/audit', readModel('audit')],
  [
    '/api/reconciliations',
    async (ctx) => {
      const m = await ctx.readModels.read('audit');
      return {
        book: m.book,
        checkpoint: m.checkpoint,
        asOf: m.asOf,
        timeZone: m.timeZone,
        unavailable: m.unavailable,
        reconciliations: (m.data?.reconciliations ?? []) as unknown[],
      };
    },
  ],
  ['/api/events', (ctx, url) => eventsPage(ctx.tracker.store, url.searchParams)],
]);

/** Answers one request; never throws (a failure is a JSON error). */
export async function handleRequest(ctx: ServeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (url.pathname === '/api/stream') {
      if (method !== 'GET') throw new HttpError(405, 'METHOD', `${url.pathname} answers GET, not ${method}`);
      await serveStream(ctx, req, res, url);
      return;
    }
    if (url.pathname === '/metrics') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'METHOD', `${url.pathname} answers GET, not ${method}`);
      const text = await ctx.metrics.scrape(() => metricValues(ctx));
      res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-cache', 'Content-Length': Buffer.byteLength(text) });
      res.end(method === 'HEAD' ? undefined : text);
      return;
    }
    const write = WRITES.get(url.pathname);
    if (write !== undefined) {
      if (method !== 'POST') throw new HttpError(405, 'METHOD', `${url.pathname} answers POST, not ${method}`);
      sendJson(res, 200, await runWrite(ctx, write, req));
      return;
    }
    const get = GET.get(url.pathname);
    if (get !== undefined) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'METHOD', `${url.pathname} answers GET, not ${method}`);
      const body = await get(ctx, url, req, res);
      const status = url.pathname === '/api/health' && !ctx.guard().ok ? 503 : 200;
      sendJson(res, status, body);
      return;
    }
    if (url.pathname.startsWith('/api/')) throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${method} ${url.pathname}`);
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'METHOD', `${url.pathname} answers GET, not ${method}`);
    const file = await staticFile(ctx.dashboardDir, url.pathname);
    if (file.status === 404) throw new HttpError(404, 'NOT_FOUND', `no such file: ${url.pathname}`);
    res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-cache', 'Content-Length': file.body.length });
    res.end(method === 'HEAD' ? undefined : file.body);
  } catch (error) {
    const { status, body } = errorResponse(error);
    if (res.headersSent) res.destroy();
    else sendJson(res, status, body);
  }
}
