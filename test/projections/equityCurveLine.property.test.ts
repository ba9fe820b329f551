import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { curveLine, type CurvePoint } from '../../src/projections/equity.js';
import { canonicalJson } from '../../src/projections/_internals/canonicalJson.js';

/* #18 item 1: the equity curve's line is written field by field; it must be exactly the canonical JSON the generic writer gives. */

const seed = Number(process.env.PTRACK_FC_SEED ?? 181_818);

const number = fc.oneof(fc.double(), fc.integer(), fc.constant(-0), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY));
const point: fc.Arbitrary<CurvePoint> = fc.record({
  position: fc.oneof(fc.nat(), number),
  at: fc.string({ unit: 'binary' }),
  positionId: fc.string({ unit: 'binary' }),
  type: fc.constantFrom('exit' as const, 'partial' as const, 'phantom' as const),
  pnl: number,
  equity: number,
  drawdownPct: number,
});

describe('#18.1 curveLine', () => {
  it('#18.1 is canonicalJson({ book, ...point }) and a newline, for any point and book', () => {
    console.log(`[curveLine] fast-check seed=${seed}; reproduce with PTRACK_FC_SEED=${seed}`);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), point, (book, p) => {
        const line = curveLine(book, p);
        expect(line).toBe(`${canonicalJson({ book, ...p })}\n`);
        expect(JSON.parse(line)).toEqual(JSON.parse(canonicalJson({ book, ...p })));
      }),
      { seed, numRuns: 2000 },
    );
  });
});
