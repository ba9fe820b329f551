/**
 * The write endpoints: only when an API token is configured, and then only with it
 * (`Authorization: Bearer <token>`). Every body is parsed with zod (the command's own schema):
 * a bad one is 400 naming the field, and nothing is appended.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import {
  AcknowledgeRecovery,
  CancelOrder,
  DisableSymbol,
  EnableSymbol,
  ResetCircuitBreaker,
  TripCircuitBreaker,
  type CommandResult,
} from '../commands/index.js';
import { ValidationError } from '../errors/index.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import { HttpError } from './httpErrors.js';
import type { ServeContext } from './routes.js';

/** The largest body a write endpoint reads. */
const MAX_BODY_BYTES = 64 * 1024;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Refuses the request unless the token is configured and given (compared in constant time). */
export function authorize(ctx: ServeContext, req: IncomingMessage): void {
  if (ctx.apiToken === null)
    throw new HttpError(
      403,
      'READ_ONLY',
      'the write endpoints are off: no API token is configured (set serve.apiToken or PTRACK_API_TOKEN)',
    );
  const header = req.headers.authorization ?? '';
  const m = /^Bearer (\S+)$/.exec(header);
  if (m?.[1] === undefined || !timingSafeEqual(digest(m[1]), digest(ctx.apiToken)))
    throw new HttpError(401, 'UNAUTHORIZED', 'this endpoint needs the API token: Authorization: Bearer <token>');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'TOO_LARGE', `body: expected at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('body: expected a JSON object');
  }
}

const eventsOf = (r: CommandResult): { events: { position: number; type: string }[]; duplicate: boolean } => ({
  events: r.events.map((e) => ({ position: e.position, type: e.type })),
  duplicate: r.duplicate,
});

type Write = (ctx: ServeContext, body: unknown) => Promise<unknown>;

/** POST routes: path -> what it does with the parsed body. */
export const WRITES = new Map<string, Write>([
  [
    '/api/breaker/trip',
    async (ctx, body) =>
      eventsOf(
        await ctx.tracker.execute({ type: 'TripCircuitBreaker', ...parseOrThrow(TripCircuitBreaker.omit({ type: true }), body, 'body') }),
      ),
  ],
  [
    '/api/breaker/reset',
    async (ctx, body) =>
      eventsOf(
        await ctx.tracker.execute({ type: 'ResetCircuitBreaker', ...parseOrThrow(ResetCircuitBreaker.omit({ type: true }), body, 'body') }),
      ),
  ],
  [
    '/api/symbols/disable',
    async (ctx, body) =>
      eventsOf(await ctx.tracker.execute({ type: 'DisableSymbol', ...parseOrThrow(DisableSymbol.omit({ type: true }), body, 'body') })),
  ],
  [
    '/api/recovery/ack',
    async (ctx, body) =>
      eventsOf(
        await ctx.tracker.execute({ type: 'AcknowledgeRecovery', ...parseOrThrow(AcknowledgeRecovery.omit({ type: true }), body, 'body') }),
      ),
  ],
  [
    '/api/reconcile',
    async (ctx, body) => {
      parseOrThrow(z.strictObject({}), body, 'body');
      return { report: await ctx.runReconcile() };
    },
  ],
  [
    '/api/symbols/enable',
    async (ctx, body) =>
      eventsOf(await ctx.tracker.execute({ type: 'EnableSymbol', ...parseOrThrow(EnableSymbol.omit({ type: true }), body, 'body') })),
  ],
  [
    // As `ptrack order cancel` without --adapter: the request is recorded (PENDING_CANCEL) and
    // nothing is sent from here; with --adapter the scheduler's next run (or POST /api/reconcile)
    // sends the cancel to the venue and records how it ended.
    '/api/orders/cancel',
    async (ctx, body) => {
      const b = parseOrThrow(CancelOrder.omit({ type: true }), body, 'body');
      const r = await ctx.tracker.execute({ type: 'CancelOrder', ...b });
      return { ...eventsOf(r), order: r.state.orders.get(b.clientOrderId) ?? null };
    },
  ],
]);

/** Runs a write: token first, then the body. */
export async function runWrite(ctx: ServeContext, write: Write, req: IncomingMessage): Promise<unknown> {
  authorize(ctx, req);
  return write(ctx, await readJson(req));
}
