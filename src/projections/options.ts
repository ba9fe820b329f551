import type { z } from 'zod';
import { TrackerConfig } from '../config/schema.js';

/**
 * The settings the read models depend on, taken from the tracker's configuration:
 * `equity` (the base of equity and return %), `timeZone` (day boundaries), `weekStartsOn`,
 * `drawdownBands` and `correlationGroups` (exposure of positions tracked without a group).
 * A change to any of them changes the projections' versions, so they are rebuilt.
 */
export const ProjectionOptions = TrackerConfig.pick({
  equity: true,
  timeZone: true,
  weekStartsOn: true,
  drawdownBands: true,
  correlationGroups: true,
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
