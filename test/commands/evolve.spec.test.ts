import { describe, expect, it } from 'vitest';
import type { GivenEvent } from '../../src/testing/index.js';
import { deciderSpec } from '../../src/testing/index.js';
import { NOW, cooldownStarted, entered, exited, iso, secondsFrom, tracked } from './fixtures.js';

/*
 * What evolve remembers besides positions: the revision, the command ids it has seen (so a
 * retried command can be answered from the log), and which cooldowns are still running.
 */

const spec = deciderSpec({ now: NOW });

/** Tags an event with the command that produced it. */
function by(commandId: string, event: GivenEvent): GivenEvent {
  return { ...event, metadata: { ...event.metadata, commandId } };
}

describe('idempotency bookkeeping in evolve', () => {
  it('starts a new book at revision -1 with no command remembered', () => {
    const state = spec.given([]).state();
    expect(state.revision).toBe(-1);
    expect(state.commands.size).toBe(0);
  });

  it('counts one revision per event folded', () => {
    expect(spec.given([tracked('A'), tracked('B'), tracked('C')]).state().revision).toBe(2);
  });

  it('remembers each command id with the revisions its events took', () => {
    const state = spec
      .given([
        by('c1', tracked('A', { symbol: 'AAPL' })),
        by('c2', entered('A', { symbol: 'AAPL', value: 1000 })),
        by('c3', exited('A', { symbol: 'AAPL', value: 400, costBasis: 1000, realizedPnl: -600 })),
        by('c3', { type: 'CircuitBreakerTripped', data: { trigger: 'daily_loss', reason: 'daily loss', source: 'local' } }),
        by('c3', cooldownStarted('AAPL', secondsFrom(900))),
      ])
      .state();
    expect([...state.commands]).toEqual([
      ['c1', { from: 0, to: 0 }],
      ['c2', { from: 1, to: 1 }],
      ['c3', { from: 2, to: 4 }],
    ]);
  });

  it('does not remember events without a command id', () => {
    const state = spec.given([tracked('A'), by('c1', tracked('B')), tracked('C')]).state();
    expect([...state.commands]).toEqual([['c1', { from: 1, to: 1 }]]);
  });

  it('extends the range of a command id seen again, keeping where it started', () => {
    const state = spec.given([by('c1', tracked('A')), by('c2', tracked('B')), by('c1', tracked('C'))]).state();
    expect([...state.commands]).toEqual([
      ['c1', { from: 0, to: 2 }],
      ['c2', { from: 1, to: 1 }],
    ]);
  });

  it('forgets the oldest command ids beyond idempotencyWindow', () => {
    const state = deciderSpec({ now: NOW, policy: { idempotencyWindow: 2 } })
      .given([by('c1', tracked('A')), by('c2', tracked('B')), by('c3', tracked('C')), by('c4', tracked('D'))])
      .state();
    expect([...state.commands]).toEqual([
      ['c3', { from: 2, to: 2 }],
      ['c4', { from: 3, to: 3 }],
    ]);
  });

  it('remembers nothing when idempotencyWindow is 0, but still counts revisions', () => {
    const state = deciderSpec({ now: NOW, policy: { idempotencyWindow: 0 } })
      .given([by('c1', tracked('A')), by('c2', tracked('B'))])
      .state();
    expect(state.commands.size).toBe(0);
    expect(state.revision).toBe(1);
  });
});

describe('cooldowns in evolve', () => {
  it('keeps a cooldown while it runs', () => {
    const state = spec.given([cooldownStarted('AAPL', secondsFrom(900)), tracked('A', {}, secondsFrom(899))]).state();
    expect([...state.cooldowns]).toEqual([['AAPL', iso(secondsFrom(900))]]);
  });

  it('drops an expired cooldown, judged by the time of the events folded after it', () => {
    const state = spec.given([cooldownStarted('AAPL', secondsFrom(900)), tracked('A', {}, secondsFrom(900))]).state();
    expect(state.cooldowns.size).toBe(0);
  });
});
