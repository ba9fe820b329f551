import { ExternalError, ValidationError } from '../errors/index.js';
import { quote } from '../_internals/zodIssues.js';
import { definedFields } from '../_internals/definedFields.js';
import type { Position } from '../commands/index.js';
import {
  guardExternal,
  healOrphans,
  reconcile,
  type ExternalPosition,
  type ExternalSystem,
  type GuardedExternal,
  type GuardOptions,
  type HealOrphansReport,
  type ReconcileError,
  type ReconcilePolicyInput,
  type ReconcileReport,
} from '../reconcile/index.js';
import { openTracker, type OpenTrackerOptions, type Tracker, type TrackerResult } from './openTracker.js';

/** The seed systems' actions. */
export const LEGACY_ACTIONS = ['ENTER', 'EXIT', 'HOLD', 'MONITOR', 'SKIP'] as const;
export type LegacyAction = (typeof LEGACY_ACTIONS)[number];

/** An orphan as the seed reports it: the outside position's id, value and metadata (and what else the venue said). */
export interface LegacyOrphan {
  /** The id the reconciler knows it by (the outside id; under netting, the id the surplus would be adopted as). */
  id: string;
  value: number;
  symbol?: string;
  side?: 'long' | 'short';
  quantity?: number;
  metadata?: Record<string, unknown>;
}

/** What `cleanupOrphans` did with each orphan it was given. */
export interface LegacyCleanupResult {
  /** Ids adopted into the book (AdoptOrphan). */
  adopted: string[];
  /** Ids closed outside and recorded (CloseOrphan), or found gone on the second look and recorded. */
  closed: string[];
  /** Ids this look did not find orphans (gone, adopted since, dust, or changed within the grace window): nothing done. */
  notOrphans: string[];
  /** The errors met, one line each (a failed read changes nothing). */
  errors: string[];
  /** The reconciler's report of the run. */
  report: HealOrphansReport | null;
}

/** What the seed's `reconcile()` returns, from one real reconciliation run. */
export interface LegacyReconcileResult {
  /** Orphans found (open outside above the dust threshold, not IN here); adopted unless deferred by grace. */
  orphans: LegacyOrphan[];
  /** Ids of the phantoms cleaned (confirmed and cleared from the book). */
  phantoms: string[];
  /** Ids of the positions whose value (or quantity) was corrected to the outside one. */
  corrected: string[];
  /** The errors met, one line each; reconcile() never throws. */
  errors: string[];
  /** The full report, or null when the run did not start (no adapter, a pending recovery). */
  report: ReconcileReport | null;
}

/**
 * The seed API: `track(id, metadata)`, `update(id, action, value)`, `get(id)`, and against the
 * adapter `detectOrphans()`, `cleanupOrphans(orphans, { autoClose })`, `reconcile()`.
 */
export interface LegacyTracker {
  track(id: string, metadata?: Record<string, unknown>): Promise<TrackerResult>;
  update(id: string, action: string, value?: number): Promise<TrackerResult>;
  get(id: string): Promise<Position | null>;
  /** A dry run of the reconciler: the orphans it finds now; nothing is appended. Throws when the adapter fails. */
  detectOrphans(): Promise<LegacyOrphan[]>;
  /** Adopts the orphans given (or, with `autoClose`, closes them outside after a second look and records it). */
  cleanupOrphans(orphans: readonly (LegacyOrphan | string)[], options?: { autoClose?: boolean }): Promise<LegacyCleanupResult>;
  /** One reconciliation run: adopt orphans, clear confirmed phantoms, correct drift. Never throws. */
  reconcile(): Promise<LegacyReconcileResult>;
}

/** What {@link compat} takes besides the tracker. */
export interface CompatOptions {
  /** The seed's `api_adapter`: the outside system detectOrphans, cleanupOrphans and reconcile read. */
  adapter?: ExternalSystem | GuardedExternal;
  /**
   * The reconcile policy beyond the seed's three choices (grace, phantom looks, tolerance,
   * position mode); default the tracker's config `reconcile` section. The seed's choices win:
   * orphans adopted, confirmed phantoms cleared, drift corrected.
   */
  policy?: Omit<ReconcilePolicyInput, 'orphans' | 'phantoms' | 'drift'>;
  guard?: GuardOptions;
  /** The book's clock (pass the tracker's when it has one). Default: the wall clock. */
  now?: () => Date;
}

/** The policies the seed implies. */
const SEED_POLICY = { orphans: 'adopt', phantoms: 'clear', drift: 'correct' } as const;

const line = (e: ReconcileError): string => `${e.stage}${e.positionId ? ` ${e.positionId}` : ''}: ${e.message}`;
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const scalar = (v: unknown): v is string | number | boolean | null =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/**
 * A thin layer with the seed systems' API over a {@link Tracker}. Unlike the seeds, an
 * unknown action or a transition the state does not allow is an error, not a silent change.
 * With `adapter`, detectOrphans, cleanupOrphans and reconcile run the real reconciler against it
 * (see the README, "The seed's API").
 *
 * @example
 * ```ts
 * const legacy = compat(await openTracker(), { adapter: new MemoryAdapter() });
 * await legacy.track('AAPL-1', { symbol: 'AAPL', setup: 'breakout' });
 * await legacy.update('AAPL-1', 'ENTER', 1000);
 * const { orphans, phantoms, corrected, errors } = await legacy.reconcile();
 * ```
 */
export function compat(tracker: Tracker, options: CompatOptions = {}): LegacyTracker {
  const guarded =
    options.adapter === undefined
      ? undefined
      : 'stats' in options.adapter
        ? options.adapter
        : guardExternal(options.adapter, options.guard);
  const policy = { ...tracker.config.reconcile, ...options.policy, ...SEED_POLICY };
  const clock = definedFields({ now: options.now });
  const adapter = (method: string): GuardedExternal => {
    if (guarded === undefined) throw new ValidationError(`${method}: no adapter; pass compat(tracker, { adapter })`);
    return guarded;
  };
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
    async detectOrphans() {
      const external = adapter('detectOrphans');
      // The dry run's list, kept for the orphans' metadata (the report carries only what the book records).
      let listed: ExternalPosition[] = [];
      const seeing: GuardedExternal = {
        ...external,
        listPositions: async () => (listed = await external.listPositions()),
      };
      const report = await reconcile({ handler: tracker.handler, external: seeing, policy, dryRun: true, ...clock });
      const failed = report.errors[0];
      if (failed !== undefined) throw new ExternalError(`detectOrphans: ${line(failed)}`, toFailure(failed.failure));
      const byId = new Map(listed.map((p) => [p.id, p]));
      return report.orphans
        .filter((o) => o.verdict !== 'deferred')
        .map((o) =>
          definedFields({
            id: o.positionId,
            value: o.value,
            symbol: o.symbol,
            side: o.side,
            quantity: o.quantity,
            metadata: byId.get(o.externalId ?? o.positionId)?.metadata,
          }),
        );
    },
    async cleanupOrphans(orphans, { autoClose = false } = {}) {
      const external = adapter('cleanupOrphans');
      const ids = orphans.map((o) => (typeof o === 'string' ? o : o.id));
      const report = await healOrphans({
        handler: tracker.handler,
        external,
        ids,
        action: autoClose ? 'close' : 'adopt',
        policy,
        ...clock,
      });
      const having = (...outcomes: string[]): string[] => report.results.filter((r) => outcomes.includes(r.outcome)).map((r) => r.id);
      return {
        adopted: having('adopted'),
        closed: having('closed', 'gone on second look'),
        notOrphans: having('not an orphan'),
        errors: report.errors.map(line),
        report,
      };
    },
    async reconcile() {
      const empty = (error: string): LegacyReconcileResult => ({ orphans: [], phantoms: [], corrected: [], errors: [error], report: null });
      if (guarded === undefined) return empty('reconcile: no adapter; pass compat(tracker, { adapter })');
      let report: ReconcileReport;
      try {
        report = await reconcile({ handler: tracker.handler, external: guarded, policy, ...clock });
      } catch (error) {
        // The seed never throws from reconcile: a pending recovery (refused before anything is done) is an error like any.
        return empty(`reconcile: ${messageOf(error)}`);
      }
      return {
        orphans: report.orphans
          .filter((o) => o.outcome !== 'deferred')
          .map((o) => definedFields({ id: o.positionId, value: o.value, symbol: o.symbol, side: o.side, quantity: o.quantity })),
        phantoms: report.phantoms.filter((p) => p.outcome === 'cleared').map((p) => p.positionId),
        corrected: report.drift.filter((d) => d.outcome === 'corrected').map((d) => d.positionId),
        errors: report.errors.map(line),
        report,
      };
    },
  };
}

const FAILURES = ['unreachable', 'rate_limited', 'rejected', 'malformed', 'timeout'] as const;
const toFailure = (failure: string | undefined): (typeof FAILURES)[number] => FAILURES.find((f) => f === failure) ?? 'unreachable';

/** The seed's constructor arguments, in our words, plus anything of openTracker's. */
export interface OpenLegacyTrackerOptions extends Omit<OpenTrackerOptions, 'external'> {
  /** The seed's `api_adapter`. */
  apiAdapter?: ExternalSystem | GuardedExternal;
  /** The seed's `min_position_value` (dust threshold and smallest entry); default 5, as the seed's. */
  minPositionValue?: number;
  /** The seed's `max_positions`; default 10, as the seed's. */
  maxPositions?: number;
}

/**
 * The seed's `PositionTracker(api_adapter=..., min_position_value=5.0, max_positions=10)`: opens a
 * tracker with the seed's defaults and returns its {@link compat} layer, with `tracker` (the full
 * API) and `close()`. No startup recovery runs: the seed had none; call `reconcile()`.
 *
 * @example
 * ```ts
 * const api = new MemoryAdapter();
 * const legacy = await openLegacyTracker({ apiAdapter: api, store: 'memory:' });
 * await legacy.track('AAPL-1', { symbol: 'AAPL' });
 * await legacy.close();
 * ```
 */
export async function openLegacyTracker(
  options: OpenLegacyTrackerOptions = {},
): Promise<LegacyTracker & { tracker: Tracker; close(): Promise<void> }> {
  const { apiAdapter, minPositionValue = 5, maxPositions = 10, ...rest } = options;
  const tracker = await openTracker({ ...rest, minPositionValue, maxPositions });
  const legacy = compat(tracker, definedFields({ adapter: apiAdapter, now: rest.now }));
  return { ...legacy, tracker, close: () => tracker.close() };
}
