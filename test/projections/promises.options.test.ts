import { describe, expect, it } from 'vitest';
import { TrackerConfig } from '../../src/config/index.js';
import { createProjections, ProjectionOptions, projectionOptionsOf, ReadModelOptions } from '../../src/projections/index.js';
import { ValidationError } from '../../src/errors/index.js';

/*
 * Issue 16 step 8: the read models' own settings are defined in src/projections and spread
 * into the config schema, as the book policy is. One definition: the config accepts, rejects
 * and defaults them exactly as the projections do.
 */
describe('read-model options, owned by projections', () => {
  it('the config schema carries every read-model key with the same defaults', () => {
    const config = TrackerConfig.parse({});
    const own = ReadModelOptions.parse({});
    for (const key of Object.keys(ReadModelOptions.shape) as (keyof ReadModelOptions)[]) {
      expect(TrackerConfig.shape).toHaveProperty(key);
      expect(config[key]).toEqual(own[key]);
    }
    expect(own).toEqual({ drawdownBands: { warning: 5, reduce: 10, stop: 20 }, weekStartsOn: 1 });
  });

  it('projectionOptionsOf(config) parses as ProjectionOptions and equals the options given alone', () => {
    const input = {
      equity: 25_000,
      timeZone: 'Europe/Berlin',
      weekStartsOn: 0,
      drawdownBands: { warning: 2, reduce: 4, stop: 8 },
      correlationGroups: { tech: ['AAPL'] },
    };
    const fromConfig = projectionOptionsOf(TrackerConfig.parse(input));
    expect(ProjectionOptions.parse(fromConfig)).toEqual(fromConfig);
    expect(fromConfig).toEqual(ProjectionOptions.parse(input));
  });

  it('the config and the projections reject the same bad setting, naming the field', () => {
    const bad = { drawdownBands: { warning: 10, reduce: 5, stop: 20 } };
    const config = TrackerConfig.safeParse(bad);
    expect(config.success).toBe(false);
    expect(config.error?.issues[0]?.path).toEqual(['drawdownBands']);
    expect(() => createProjections(bad)).toThrow(ValidationError);
    expect(() => createProjections(bad)).toThrow(/drawdownBands/);
    expect(() => createProjections({ weekStartsOn: 7 })).toThrow(/weekStartsOn/);
  });

  it('ProjectionOptions is strict: a key that is no projection setting is refused', () => {
    expect(ProjectionOptions.safeParse({ book: 'main' }).success).toBe(false);
    expect(ReadModelOptions.safeParse({ equity: 1 }).success).toBe(false);
  });
});
