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

/** The correlation group of a symbol in a group map (group name -> symbols). */
export function groupOf(groups: Readonly<Record<string, readonly string[]>>, symbol: string | undefined): string | undefined {
  if (symbol === undefined) return undefined;
  for (const [group, symbols] of Object.entries(groups)) if (symbols.includes(symbol)) return group;
  return undefined;
}
