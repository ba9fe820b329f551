/*
 * Startup recovery's `close_all` as a plan: the flat steps executePlan runs to close everything
 * open outside and flatten the book. Pure: the book and the outside list in, steps out.
 */
import type { BookState } from '../commands/index.js';
import type { ExternalPosition } from './externalSystem.js';
import type { Step } from './steps.js';

const REASON = 'recovery: close_all';

/**
 * Everything open outside is closed there and then recorded here: as an exit when the book holds
 * it IN, as a closed orphan otherwise. What is IN here but not open outside has nothing to close
 * there; it is cleared from the book. In that order: the closes (in the outside list's order), then
 * the clears (in the book's order).
 *
 * @example
 * ```ts
 * const { results } = await executePlan(planCloseAll(await handler.load(), await external.listPositions()), { handler, external, meta: { source: 'recovery' } });
 * ```
 */
export function planCloseAll(book: BookState, outside: readonly ExternalPosition[]): Step[] {
  const steps: Step[] = [];
  const open = new Set<string>();
  for (const ext of outside) {
    open.add(ext.id);
    const record =
      book.positions.get(ext.id)?.status === 'IN'
        ? ({ type: 'Exit', positionId: ext.id, value: ext.value, reason: REASON } as const)
        : ({ type: 'CloseOrphan', positionId: ext.id, value: ext.value, reason: REASON } as const);
    steps.push({ action: { kind: 'closeOutside', positionId: ext.id, record } });
  }
  for (const p of book.positions.values()) {
    if (p.status !== 'IN' || open.has(p.id)) continue;
    steps.push({
      action: {
        kind: 'command',
        command: { type: 'ClearPhantom', positionId: p.id, looks: 0, reason: `${REASON}, not open outside` },
        about: `clear ${p.id}: IN here, not open outside`,
      },
    });
  }
  return steps;
}
