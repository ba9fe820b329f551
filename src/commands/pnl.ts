import type { Side } from '../events/index.js';

/**
 * Signed P&L of `value` against `costBasis` for a side: long gains when the value rises,
 * short when it falls. The one formula behind exits, phantom clears and unrealized P&L.
 *
 * @example
 * ```ts
 * pnlOf('short', 90, 100); // 10
 * ```
 */
export function pnlOf(side: Side, value: number, costBasis: number): number {
  return side === 'long' ? value - costBasis : costBasis - value;
}
