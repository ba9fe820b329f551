/**
 * Errors as the API answers them: `{ error: { code, message } }` with the CLI's message and a
 * status chosen by the error's code (one table, like the CLI's exit codes).
 */
import type { ServerResponse } from 'node:http';
import { TrackerError } from '../errors/index.js';

const STATUS = new Map<string, number>([
  ['VALIDATION', 400],
  ['NOT_FOUND', 404],
  ['INVALID_TRANSITION', 409],
  ['RISK_LIMIT', 409],
  ['CONCURRENCY', 409],
  ['RECOVERY_PENDING', 409],
  ['ORDER_STATE', 409],
  ['CORRUPTION', 503],
  ['EVENT_SCHEMA', 503],
  ['MIGRATION_CONFLICT', 503],
  ['STORE_UNAVAILABLE', 503],
  ['EXTERNAL', 502],
  ['STORE', 400],
]);

/** An HTTP-level refusal (unknown route, wrong method, no token): not a domain error. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-cache',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The status and body of any thrown value; the message's first line only, never a stack. */
export function errorResponse(error: unknown): { status: number; body: { error: { code: string; message: string } } } {
  if (error instanceof HttpError) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof TrackerError) {
    return { status: STATUS.get(error.code) ?? 500, body: { error: { code: error.code, message: error.message.split('\n')[0] ?? '' } } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { error: { code: 'UNEXPECTED', message: `unexpected error: ${message.split('\n')[0] ?? ''}` } } };
}
