import { ValidationError } from '../errors/index.js';
import { quote } from '../_internals/zodIssues.js';
import type { Position } from '../commands/index.js';
import type { Tracker, TrackerResult } from './openTracker.js';

/** The seed systems' actions. */
export const LEGACY_ACTIONS = ['ENTER', 'EXIT', 'HOLD', 'MONITOR', 'SKIP'] as const;
export type LegacyAction = (typeof LEGACY_ACTIONS)[number];

/** The seed API: `track(id, metadata)`, `update(id, action, value)`, `get(id)`. */
export interface LegacyTracker {
  track(id: string, metadata?: Record<string, unknown>): Promise<TrackerResult>;
  update(id: string, action: string, value?: number): Promise<TrackerResult>;
  get(id: string): Promise<Position | null>;
}

const scalar = (v: unknown): v is string | number | boolean | null =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/**
 * A thin layer with the seed systems' API over a {@link Tracker}. Unlike the seeds, an
 * unknown action or a transition the state does not allow is an error, not a silent change.
 *
 * @example
 * ```ts
 * const legacy = compat(await openTracker());
 * await legacy.track('AAPL-1', { symbol: 'AAPL', setup: 'breakout' });
 * await legacy.update('AAPL-1', 'ENTER', 1000);
 * ```
 */
export function compat(tracker: Tracker): LegacyTracker {
  return {
    async track(id, metadata = {}) {
      const { symbol, side, setup, group, ...others } = metadata;
      const attributes = Object.fromEntries(Object.entries(others).filter(([, v]) => scalar(v))) as Record<
        string,
        string | number | boolean | null
      >;
      const dropped = Object.keys(others).filter((k) => !scalar(others[k]));
      if (dropped.length > 0) {
        throw new ValidationError(
          `track "${id}": metadata ${dropped.map((k) => quote(k)).join(', ')} must be strings, numbers, booleans or null`,
        );
      }
      return tracker.track(id, {
        ...(typeof symbol === 'string' ? { symbol } : {}),
        ...(side === 'long' || side === 'short' ? { side } : {}),
        ...(typeof setup === 'string' ? { setup } : {}),
        ...(typeof group === 'string' ? { group } : {}),
        ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
      });
    },
    async update(id, action, value) {
      const needValue = (): number => {
        if (typeof value !== 'number') throw new ValidationError(`update "${id}" ${action}: value must be a number, got ${quote(value)}`);
        return value;
      };
      switch (action) {
        case 'ENTER':
          return tracker.enter(id, { value: needValue() });
        case 'EXIT':
          return tracker.exit(id, { value: needValue() });
        case 'HOLD':
          return tracker.hold(id, { value: needValue() });
        case 'MONITOR':
          return tracker.monitor(id, { value: needValue() });
        case 'SKIP':
          return tracker.skip(id);
        default:
          throw new ValidationError(`update "${id}": unknown action ${quote(action)}; expected one of ${LEGACY_ACTIONS.join(', ')}`, [
            { path: 'action', message: 'unknown action', value: action },
          ]);
      }
    },
    get: (id) => tracker.get(id),
  };
}
