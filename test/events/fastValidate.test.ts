import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventMetadata, EventMetadataInput, eventDataSchemas, eventTypes } from '../../src/events/index.js';
import { fastValid, hasCompiledValidator } from '../../src/events/compiledValidators.js';

const SEED = Number(process.env.PTRACK_FC_SEED ?? 424242);

/** Values near the edges of our schemas: empty and long strings, astral characters, signs, NaN-free numbers. */
const scalar = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'a b',
    'long',
    'short',
    'local',
    'reconcile',
    'EXITED',
    'timeout',
    'manual',
    'daily_loss',
    '😀',
    'é'.repeat(201),
    '😀'.repeat(120),
  ),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 70 }),
  fc.constantFrom('2026-01-05T00:00:00.000Z', '2026-02-30T00:00:00Z', '2026-01-05 00:00', '2026-01-05T00:00:00+01:00'),
  fc.integer({ min: -5, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.constantFrom(0, 1, 0.5, 1.0000001, -0, 2 ** 53),
  fc.boolean(),
  fc.constant(null),
);

function validSample(type: (typeof eventTypes)[number]): Record<string, unknown> {
  const base: Record<string, Record<string, unknown>> = {
    PositionExited: { positionId: 'P-1', side: 'long', fraction: 1, value: 1, costBasis: 1, realizedPnl: 0, full: true, source: 'local' },
    PositionTracked: { positionId: 'P-1', side: 'long', source: 'local', attributes: { a: 1, b: 'x', c: null, d: true } },
    ReconciliationCompleted: {
      runId: 'r',
      startedAt: '2026-01-05T00:00:00.000Z',
      completedAt: '2026-01-05T00:00:00.000Z',
      counts: { orphans: 0, phantoms: 0, drift: 0, corrected: 0, alerts: 0, errors: 0 },
      report: { any: [1, 'x'] },
      source: 'reconcile',
    },
  };
  return base[type] ?? { positionId: 'P-1', source: 'local' };
}

describe('the validators compiled at build time agree with zod', () => {
  it(`never accepts what zod refuses, for mutated events of every type (seed ${SEED})`, () => {
    console.log(`fastValidate property: seed ${SEED} (PTRACK_FC_SEED reproduces)`);
    fc.assert(
      fc.property(
        fc.constantFrom(...eventTypes),
        fc.dictionary(
          fc.constantFrom(
            'positionId',
            'symbol',
            'side',
            'value',
            'fraction',
            'quantity',
            'price',
            'stop',
            'costBasis',
            'realizedPnl',
            'full',
            'source',
            'reason',
            'from',
            'looks',
            'runId',
            'at',
            'until',
            'trigger',
            'attributes',
            'extra',
          ),
          scalar,
          { maxKeys: 4 },
        ),
        fc.array(fc.constantFrom('positionId', 'side', 'source', 'value'), { maxLength: 2 }),
        (type, overrides, removed) => {
          const candidate: Record<string, unknown> = { ...validSample(type), ...overrides };
          for (const key of removed) delete candidate[key];
          const schema = eventDataSchemas[type];
          const zodOk = schema.safeParse(candidate).success;
          const fast = fastValid(schema, candidate);
          if (fast) expect(zodOk, `${type} ${JSON.stringify(candidate)}`).toBe(true);
          // What zod accepts takes the fast path too, astral characters included (lengths in UTF-16 units, as zod counts).
          if (zodOk) expect(fast, `${type} ${JSON.stringify(candidate)}`).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('agrees on metadata', () => {
    fc.assert(
      fc.property(
        fc.record({ recordedAt: scalar, schemaVersion: scalar }, { requiredKeys: [] }),
        fc.option(fc.dictionary(fc.constantFrom('commandId', 'extra'), scalar, { maxKeys: 1 })),
        (meta, more) => {
          const candidate = { ...meta, ...more };
          const zodOk = EventMetadata.safeParse(candidate).success;
          const fast = fastValid(EventMetadata, candidate);
          if (fast) expect(zodOk, JSON.stringify(candidate)).toBe(true);
          if (zodOk) expect(fast, JSON.stringify(candidate)).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('has a validator for every event type and both metadata shapes; any other schema is left to zod', () => {
    for (const type of eventTypes) expect(hasCompiledValidator(eventDataSchemas[type]), type).toBe(true);
    expect(hasCompiledValidator(EventMetadata)).toBe(true);
    expect(hasCompiledValidator(EventMetadataInput)).toBe(true);
    const other = EventMetadata.extend({});
    expect(hasCompiledValidator(other)).toBe(false);
    expect(fastValid(other, { recordedAt: '2026-01-05T00:00:00.000Z', schemaVersion: 1 })).toBe(false);
  });

  it('accepts the ordinary events on the first call (not silently falling back to zod)', () => {
    for (const type of ['PositionExited', 'PositionTracked', 'ReconciliationCompleted'] as const) {
      expect(fastValid(eventDataSchemas[type], validSample(type)), type).toBe(true);
    }
  });
});
