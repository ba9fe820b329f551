import type { Alert } from './plan.js';
import { clampTimerMs } from '../_internals/timers.js';

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
  try {
    const response = await fetch(sink.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...alert, ...context }),
      signal: AbortSignal.timeout(clampTimerMs(sink.webhookTimeoutMs ?? 5000, 1)),
    });
    if (!response.ok) return `webhook ${sink.webhookUrl} answered ${response.status}`;
    return null;
  } catch (error) {
    return `webhook ${sink.webhookUrl} failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}
