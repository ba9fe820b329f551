import { z } from 'zod';
import type { Alert } from './plan.js';
import { clampTimerMs } from '../_internals/timers.js';

/**
 * A URL as it may be printed or stored: scheme, host and port only. Webhook paths and queries
 * carry tokens (`/services/T000/B000/XXXX`) and the user part carries credentials, so both
 * become `***`; a string that is not a URL is not shown at all.
 *
 * @example
 * ```ts
 * redactUrl('https://user:pw@hooks.example.com/T0/B0/secret?x=1') // 'https://hooks.example.com/***'
 * ```
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return '(a string that is not a URL)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol}***`;
  const secret = url.username !== '' || url.password !== '' || url.pathname.length > 1 || url.search !== '' || url.hash !== '';
  return `${url.protocol}//${url.host}${secret ? '/***' : ''}`;
}

/** Only `http:` and `https:` webhooks (a `file:`, `ftp:` or `data:` URL would swallow every alert); the error never quotes the secret parts. */
export const WebhookUrl = z.string().superRefine((raw, ctx) => {
  let url: URL | null = null;
  try {
    url = new URL(raw.trim());
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: `must be an http:// or https:// URL, got ${redactUrl(raw)}`, params: { quoted: true } });
  }
});

/** Where alerts go: a callback, and optionally a webhook that receives each alert as JSON. */
export interface AlertSink {
  onAlert?: (alert: Alert) => void | Promise<void>;
  webhookUrl?: string;
  /** Webhook timeout (ms). Default 5000. */
  webhookTimeoutMs?: number;
}

/** Delivers one alert; returns an error message instead of throwing (an alert must not stop a run). */
export async function deliverAlert(sink: AlertSink, alert: Alert, context: { runId: string; book: string }): Promise<string | null> {
  try {
    await sink.onAlert?.(alert);
  } catch (error) {
    return `alert callback failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!sink.webhookUrl) return null;
  const shown = redactUrl(sink.webhookUrl);
  if (!WebhookUrl.safeParse(sink.webhookUrl).success) return `webhook ${shown}: not sent, only http:// and https:// URLs are allowed`;
  const timeoutMs = clampTimerMs(sink.webhookTimeoutMs ?? 5000, 1);
  const url = new URL(sink.webhookUrl.trim());
  const secrets = [sink.webhookUrl, url.href, url.password, url.username, `${url.pathname}${url.search}`].filter((s) => s.length > 1);
  // fetch refuses a URL with credentials: they travel as Basic authorization instead.
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (url.username !== '' || url.password !== '') {
    const decode = (part: string): string => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    };
    headers.authorization = `Basic ${Buffer.from(`${decode(url.username)}:${decode(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...alert, ...context }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is not read: the answer is the status, and the connection is released.
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) return `webhook ${shown} answered ${response.status}`;
    return null;
  } catch (error) {
    return `webhook ${shown} failed: ${fetchFailure(error, timeoutMs, secrets)}`;
  }
}

/**
 * Why a fetch failed, without its message: fetch quotes the URL it could not reach
 * ("Failed to parse URL from https://...token..."), which must not reach the log.
 */
function fetchFailure(error: unknown, timeoutMs: number, secrets: readonly string[]): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const text =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : error instanceof Error
          ? error.message
          : String(error);
  return secrets.reduce((t, secret) => t.split(secret).join('***'), text);
}
