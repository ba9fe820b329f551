/*
 * The one place timers are made. Node's setTimeout/setInterval take a 32-bit delay: 2^31 ms
 * or more (24.8 days), NaN or a negative number fire after 1 ms, so an overflowing interval or
 * back-off spins. Every timer in src goes through these, which clamp; a longer wait is chained.
 */
import { MAX_TIMER_MS } from '../events/index.js';

export { MAX_TIMER_MS };

/** A delay Node's timers honour: whole ms from `min` to 2^31 - 1; NaN is the longest (never a spin). */
export function clampTimerMs(ms: number, min = 0): number {
  if (Number.isNaN(ms)) return MAX_TIMER_MS;
  return Math.min(MAX_TIMER_MS, Math.max(min, Math.ceil(ms)));
}

/** A cancellable one-shot timer. */
export interface Timer {
  cancel(): void;
}

/**
 * Calls `fn` once after `ms` (any length: waits beyond 24.8 days are chained). `unref` lets
 * the process exit while it waits.
 */
export function setTimer(fn: () => void, ms: number, options: { unref?: boolean } = {}): Timer {
  const due = Number.isNaN(ms) ? Infinity : Date.now() + Math.max(0, ms);
  let handle: NodeJS.Timeout | undefined;
  let cancelled = false;
  const arm = (): void => {
    const left = due - Date.now();
    handle = setTimeout(() => {
      if (cancelled) return;
      if (due - Date.now() > 0 && left > MAX_TIMER_MS) arm();
      else fn();
    }, clampTimerMs(left));
    if (options.unref) handle.unref();
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
    },
  };
}

/** `setInterval` with the period clamped to 1 ms .. 2^31 - 1 ms. */
export function setRepeating(fn: () => void, ms: number): NodeJS.Timeout {
  return setInterval(fn, clampTimerMs(ms, 1));
}

/** Resolves after `ms` (clamped like every timer; waits beyond 24.8 days are chained). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimer(resolve, ms));
}
