import { parseOrThrow } from '../_internals/zodIssues.js';
import { auditProjection } from './audit.js';
import { equityProjection } from './equity.js';
import { ProjectionOptions, type ProjectionOptionsInput } from './options.js';
import { ordersProjection } from './orders.js';
import { performanceProjection } from './performance.js';
import { portfolioProjection } from './portfolio.js';
import type { AnyProjection } from './projection.js';
import { riskProjection } from './risk.js';

/** The names of the six read models, in the order they are listed and written. */
export const READ_MODEL_NAMES = ['portfolio', 'equity', 'risk', 'performance', 'audit', 'orders'] as const;
export type ReadModelName = (typeof READ_MODEL_NAMES)[number];

/**
 * The six read models under one set of settings (defaults filled in).
 *
 * @example
 * ```ts
 * const projections = createProjections({ equity: 25_000, timeZone: 'Europe/Berlin' });
 * ```
 */
export function createProjections(options: ProjectionOptionsInput | ProjectionOptions = {}): AnyProjection[] {
  const o = parseOrThrow(ProjectionOptions, options, 'projection options', {
    hint: '(expected equity, timeZone, weekStartsOn, drawdownBands, correlationGroups; projectionOptionsOf(config) picks them from a config)',
  });
  return [
    portfolioProjection(o),
    equityProjection(o),
    riskProjection(o),
    performanceProjection(o),
    auditProjection(o),
    ordersProjection(o),
  ];
}
