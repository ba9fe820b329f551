import type { BookState, SignalRecord } from './state.js';

/**
 * When the book processed signal `signalId`, and the order it became (its latest attempt), or
 * undefined when the book does not know it: neither among its orders nor among the last
 * `idempotencyWindow` signals (a signal whose position was archived is remembered that long).
 * `state.lastSignalAt` is when the last signal was processed.
 *
 * @example
 * ```ts
 * const seen = processedSignal(await tracker.handler.load(), 'sig-42');
 * if (seen) console.log(`processed at ${seen.at} as ${seen.clientOrderId}`);
 * ```
 */
export function processedSignal(state: BookState, signalId: string): SignalRecord | undefined {
  const ids = state.orderKeys.get(signalId);
  const last = ids === undefined ? undefined : state.orders.get(ids[ids.length - 1] ?? '');
  if (last?.signalId === signalId) return { at: last.requestedAt, clientOrderId: last.clientOrderId };
  return state.signals.get(signalId);
}

/**
 * Whether the book processed signal `signalId` (see {@link processedSignal}).
 *
 * @example
 * ```ts
 * if (isSignalProcessed(state, 'sig-42')) return; // sent already
 * ```
 */
export function isSignalProcessed(state: BookState, signalId: string): boolean {
  return processedSignal(state, signalId) !== undefined;
}
