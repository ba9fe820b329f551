import { z } from 'zod';
import { BookPolicy } from '../commands/index.js';
import type { TrackerConfig } from '../config/index.js';

/**
 * The settings only the read models read, defined here and spread into the tracker's
 * configuration (`src/config/schema.ts`), as the book policy is: `drawdownBands` (the equity
 * read model's bands) and `weekStartsOn` (the risk read model's weeks).
 *
 * @example
 * ```ts
 * const { drawdownBands } = ReadModelOptions.parse({ drawdownBands: { warning: 3, reduce: 6, stop: 12 } });
 * ```
 */
export const ReadModelOptions = z.strictObject({
  /** Drawdown bands of the equity read model: % below the peak where each band starts. */
  drawdownBands: z
    .strictObject({
      warning: z.number().finite().positive().default(5),
      reduce: z.number().finite().positive().default(10),
      stop: z.number().finite().positive().default(20),
    })
    .refine((b) => b.warning < b.reduce && b.reduce < b.stop, 'must rise: warning < reduce < stop')
    .default({ warning: 5, reduce: 10, stop: 20 }),
  /** First day of the week for the risk read model's weekly P&L: 0 = Sunday, 1 = Monday, ... 6. */
  weekStartsOn: z.number().int().min(0).max(6).default(1),
});
export type ReadModelOptions = z.infer<typeof ReadModelOptions>;

/**
 * The settings the read models depend on: the book policy's `equity` (the base of equity and
 * return %), `timeZone` (day boundaries) and `correlationGroups` (exposure of positions tracked
 * without a group), and the read models' own {@link ReadModelOptions}. A change to any of
 * them changes the projections' versions, so they are rebuilt.
 *
 * @example
 * ```ts
 * const options = ProjectionOptions.parse({ equity: 25_000, timeZone: 'Europe/Berlin' });
 * ```
 */
export const ProjectionOptions = z.strictObject({
  ...BookPolicy.pick({ equity: true, timeZone: true, correlationGroups: true }).shape,
  ...ReadModelOptions.shape,
});
export type ProjectionOptions = z.infer<typeof ProjectionOptions>;
export type ProjectionOptionsInput = z.input<typeof ProjectionOptions>;

/** The projection settings of a parsed configuration. */
export function projectionOptionsOf(config: TrackerConfig): ProjectionOptions {
  return {
    equity: config.equity,
    timeZone: config.timeZone,
    weekStartsOn: config.weekStartsOn,
    drawdownBands: config.drawdownBands,
    correlationGroups: config.correlationGroups,
  };
}

/** The correlation group of a symbol: the book's one rule, so read models and entries agree. */
export { groupOf } from '../commands/index.js';
