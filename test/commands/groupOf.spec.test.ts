import { describe, expect, it } from 'vitest';
import { groupOf } from '../../src/commands/groupOf.js';

/*
 * Which correlation group a symbol's risk counts in (maxGroupRiskPct): the group that lists it, the
 * first such group when several do, and none when no group lists it.
 */

const groups = { tech: ['AAPL', 'MSFT'], chips: ['NVDA', 'AMD'], overlap: ['MSFT', 'NVDA'] };

describe('groupOf', () => {
  it('a symbol listed by a later group counts in that group, not in the first one', () => {
    expect(groupOf(groups, 'AMD')).toBe('chips');
  });

  it('a symbol listed by two groups counts in the first that lists it', () => {
    expect(groupOf(groups, 'MSFT')).toBe('tech');
    expect(groupOf(groups, 'NVDA')).toBe('chips');
  });

  it('a symbol no group lists, or no symbol, counts in no group', () => {
    expect(groupOf(groups, 'BTC')).toBeUndefined();
    expect(groupOf(groups, undefined)).toBeUndefined();
    expect(groupOf({}, 'AAPL')).toBeUndefined();
  });
});
