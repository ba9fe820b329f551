/*
 * Which way the venue keys its positions for one run, and whether its list fits that way: under
 * netting every outside position names its symbol, once; under hedge its symbol and side, once each.
 */
import { ExternalError } from '../errors/index.js';
import type { ExternalPosition, PositionMode } from './externalSystem.js';
import type { ReconcilePolicy } from './policy.js';

/**
 * The mode in force: the policy's `positionMode` unless it is `auto`, then the adapter's, else `per-id`.
 *
 * @example
 * ```ts
 * resolvePositionMode('auto', 'netting') // 'netting'
 * ```
 */
export function resolvePositionMode(policy: ReconcilePolicy['positionMode'], adapter: PositionMode | undefined): PositionMode {
  return policy === 'auto' ? (adapter ?? 'per-id') : policy;
}

/**
 * Checks an outside list against the mode (per-id: nothing more to check). A list that does not
 * fit is the venue's (or the adapter's) fault: ExternalError 'malformed', and the run changes nothing.
 *
 * @example
 * ```ts
 * checkPositionKeys([{ id: 'BTC', value: 10 }], 'netting') // throws: [0].symbol is required under netting
 * ```
 */
export function checkPositionKeys(positions: readonly ExternalPosition[], mode: PositionMode): void {
  if (mode === 'per-id') return;
  const seen = new Map<string, number>();
  positions.forEach((p, i) => {
    const bad = (field: string, message: string): never => {
      throw new ExternalError(`listPositions returned a malformed answer: [${i}].${field}: ${message}`, 'malformed');
    };
    if (p.symbol === undefined) bad('symbol', `is required on a ${mode} account (positions are keyed by symbol)`);
    if (mode === 'hedge' && p.side === undefined) bad('side', 'is required on a hedge account (positions are keyed by symbol and side)');
    const key = mode === 'hedge' ? `${p.symbol ?? ''} ${p.side ?? ''}` : (p.symbol ?? '');
    const first = seen.get(key);
    if (first !== undefined) {
      bad(
        'symbol',
        mode === 'hedge'
          ? `"${p.symbol ?? ''}" ${p.side ?? ''} is listed twice (also at [${first}]); a hedge account holds one per symbol and side`
          : `"${p.symbol ?? ''}" is listed twice (also at [${first}]); a netting account holds one per symbol`,
      );
    }
    seen.set(key, i);
  });
}

/**
 * The outside's positions, listed and checked against the account's position mode: what
 * reconciliation, healing orphans and close_all all start from. A failed call, or a list keyed
 * against the mode, throws its ExternalError.
 *
 * @example
 * ```ts
 * const positions = await listKeyedPositions(external, 'netting');
 * ```
 */
export async function listKeyedPositions(
  external: { listPositions(): Promise<ExternalPosition[]> },
  mode: PositionMode,
): Promise<ExternalPosition[]> {
  const positions = await external.listPositions();
  checkPositionKeys(positions, mode);
  return positions;
}
