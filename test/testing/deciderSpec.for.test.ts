import { describe, expect, it } from 'vitest';
import { bookDecider, type BookDecider, RiskLimitError } from '../../src/index.js';
import { deciderSpec } from '../../src/testing/index.js';

const NOW = new Date('2026-01-05T12:00:00.000Z');
const tracked = [{ type: 'PositionTracked', data: { positionId: 'A', side: 'long', symbol: 'XYZ', source: 'local' } }] as const;

describe('deciderSpec.for', () => {
  it('runs the kit against the decider it is given', () => {
    const strict: BookDecider = {
      ...bookDecider,
      decide: (command, state, context) => {
        if (command.type === 'Enter') throw new RiskLimitError('no XYZ here', 'maxPositions', 0, 0);
        return bookDecider.decide(command, state, context);
      },
    };
    deciderSpec
      .for(strict, { now: NOW })
      .given([...tracked])
      .when({ type: 'Enter', positionId: 'A', value: 100 })
      .thenThrows(RiskLimitError, /no XYZ/);
    deciderSpec
      .for(bookDecider, { now: NOW })
      .given([...tracked])
      .when({ type: 'Enter', positionId: 'A', value: 100 })
      .then([{ type: 'PositionEntered', data: { positionId: 'A', side: 'long', value: 100, symbol: 'XYZ', source: 'local' } }]);
  });

  it('thenNothingHappened passes on no events and fails on some', () => {
    deciderSpec({ now: NOW })
      .given([...tracked])
      .when({ type: 'Archive' })
      .thenNothingHappened();
    expect(() =>
      deciderSpec({ now: NOW })
        .given([...tracked])
        .when({ type: 'Skip', positionId: 'A' })
        .thenNothingHappened(),
    ).toThrow(/expected no events/);
  });
});
