/**
 * GET /api/stream: the log as server-sent events, one per event (`id` = its global position,
 * `event` = its type, `data` = the API's event JSON), catch-up from `Last-Event-ID` (or `?from=`)
 * then live, keep-alive comments, and an `event: guard` when the corruption guard fires.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ValidationError } from '../errors/index.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { apiEvent } from './events.js';
import type { ServeContext } from './routes.js';
import type { GuardState } from './startServer.js';

/** A client this far behind (bytes queued) is dropped: it reconnects with Last-Event-ID and catches up. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

const Position = z
  .string()
  .regex(/^\d{1,16}$/, 'expected a global position (a whole number >= 0)')
  .transform(Number)
  .pipe(z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER));

/** Where the stream starts: after Last-Event-ID, else after `?from=`, else at the head (live only). */
async function startOf(ctx: ServeContext, req: IncomingMessage, url: URL): Promise<number> {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string' && header.trim() !== '')
    return parseOrThrow(z.object({ 'Last-Event-ID': Position }), { 'Last-Event-ID': header.trim() }, 'header')['Last-Event-ID'];
  const from = url.searchParams.getAll('from');
  if (from.length > 1) throw new ValidationError('query: from: given twice, expected once');
  if (from[0] !== undefined) return parseOrThrow(z.object({ from: Position }), { from: from[0] }, 'query').from;
  return (await ctx.tracker.store.head()).position;
}

const guardFrame = (g: GuardState): string => `event: guard\ndata: ${JSON.stringify(g)}\n\n`;

/** Serves one stream until the client goes or the server stops. */
export async function serveStream(ctx: ServeContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const from = await startOf(ctx, req, url);
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write(`: ptrack stream from position ${from}\nretry: 1000\n\n`);
  const send = (frame: string): void => {
    if (res.destroyed) return;
    res.write(frame);
    if (res.writableLength > MAX_QUEUED_BYTES) res.destroy();
  };
  if (!ctx.guard().ok) send(guardFrame(ctx.guard()));
  const offGuard = ctx.onGuard((g) => {
    if (!g.ok) send(guardFrame(g));
  });
  const keepAlive = setInterval(() => send(': keep-alive\n\n'), ctx.config.serve.keepAliveSeconds * 1000);
  const subscription = ctx.tracker.store.subscribe({ fromPosition: from }).subscribe({
    next: (e) => send(`id: ${e.position}\nevent: ${e.type}\ndata: ${JSON.stringify(apiEvent(e))}\n\n`),
    // The log closed (the server stops) or failed: the client reconnects and resumes.
    error: () => res.end(),
    complete: () => res.end(),
  });
  res.on('close', () => {
    clearInterval(keepAlive);
    offGuard();
    subscription.unsubscribe();
  });
}
