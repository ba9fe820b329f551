import { describe, expect, it } from 'vitest';
import { venueKeyOf } from '../../src/commands/index.js';
import { ValidationError } from '../../src/errors/index.js';
import type { EventData } from '../../src/events/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';

/*
 * Venue keys (how the venue names a position: matched with its symbol on netting and hedge
 * accounts) and partial phantom clears (what a netting account is short of), as decider specs.
 */

const T0 = { recordedAt: '2026-01-05T10:00:00.000Z' };
const spec = () => deciderSpec({ now: new Date('2026-01-05T12:00:00.000Z') });
const tracked = (data: Partial<EventData<'PositionTracked'>> = {}): GivenEvent => ({
  type: 'PositionTracked',
  data: { positionId: 'A', side: 'long', symbol: 'BTC', ...data, source: 'local' },
  metadata: T0,
});
const entered = (data: Partial<EventData<'PositionEntered'>> = {}): GivenEvent => ({
  type: 'PositionEntered',
  data: { positionId: 'A', side: 'long', symbol: 'BTC', value: 300, quantity: 3, price: 100, ...data, source: 'local' },
  metadata: T0,
});

describe('venue keys', () => {
  it('Track stores an explicit venueKey in PositionTracked', () => {
    spec()
      .given([])
      .when({ type: 'Track', positionId: 'A', symbol: 'BTC', venueKey: 'BTCUSDT' })
      .then([{ type: 'PositionTracked', data: { positionId: 'A', side: 'long', symbol: 'BTC', venueKey: 'BTCUSDT', source: 'local' } }]);
  });

  it('Enter carries the tracked venue key into PositionEntered, and an explicit one replaces it', () => {
    const base = { type: 'PositionEntered', data: { positionId: 'A', side: 'long', symbol: 'BTC', value: 100, source: 'local' } } as const;
    spec()
      .given([tracked({ venueKey: 'BTCUSDT' })])
      .when({ type: 'Enter', positionId: 'A', value: 100 })
      .then([{ ...base, data: { ...base.data, venueKey: 'BTCUSDT' } }]);
    spec()
      .given([tracked()])
      .when({ type: 'Enter', positionId: 'A', value: 100, venueKey: 'XBTUSD' })
      .then([{ ...base, data: { ...base.data, venueKey: 'XBTUSD' } }]);
    spec().given([tracked()]).when({ type: 'Enter', positionId: 'A', value: 100 }).then([base]);
  });

  it('AdoptOrphan stores a venueKey in OrphanAdopted', () => {
    spec()
      .given([])
      .when({ type: 'AdoptOrphan', positionId: 'O', value: 50, symbol: 'ETH', venueKey: 'ETH-PERP' })
      .then([
        { type: 'OrphanAdopted', data: { positionId: 'O', side: 'long', value: 50, symbol: 'ETH', venueKey: 'ETH-PERP', source: 'local' } },
      ]);
  });

  it('a position written without a venue key reads as its symbol; one with a key reads as the key', () => {
    expect(venueKeyOf(spec().given([tracked(), entered()]).state().positions.get('A') ?? {})).toBe('BTC');
    const keyed = spec()
      .given([tracked({ venueKey: 'BTCUSDT' }), entered()])
      .state()
      .positions.get('A');
    expect(keyed).toMatchObject({ status: 'IN', venueKey: 'BTCUSDT' });
    expect(venueKeyOf(keyed ?? {})).toBe('BTCUSDT');
    expect(venueKeyOf({})).toBeUndefined();
  });

  it('a venue key with a control character is refused, naming the field', () => {
    spec()
      .given([])
      .when({ type: 'Track', positionId: 'A', venueKey: 'BTC\u001b[31m' })
      .thenThrows(ValidationError, /venueKey/);
  });
});

describe('ClearPhantom with a quantity (part of a phantom)', () => {
  it('clears that part at its share of value and cost, and the rest stays IN with its looks reset', () => {
    const given = [
      tracked(),
      entered(),
      { type: 'PhantomSuspected', data: { positionId: 'A', looks: 2, source: 'reconcile' }, metadata: T0 } as GivenEvent,
    ];
    spec()
      .given(given)
      .when({ type: 'ClearPhantom', positionId: 'A', looks: 2, quantity: 1, reason: 'short outside' })
      .then([
        {
          type: 'PhantomCleared',
          data: {
            positionId: 'A',
            value: 100,
            costBasis: 100,
            realizedPnl: 0,
            looks: 2,
            reason: 'short outside',
            source: 'local',
            symbol: 'BTC',
            fraction: 1 / 3,
            quantity: 1,
          },
        },
      ]);
    const after = spec()
      .given([
        ...given,
        {
          type: 'PhantomCleared',
          data: {
            positionId: 'A',
            value: 100,
            costBasis: 100,
            realizedPnl: 0,
            looks: 2,
            reason: 'r',
            fraction: 1 / 3,
            quantity: 1,
            source: 'reconcile',
          },
          metadata: T0,
        },
      ])
      .state();
    expect(after.positions.get('A')).toMatchObject({
      status: 'IN',
      quantity: expect.closeTo(2, 9) as number,
      value: expect.closeTo(200, 9) as number,
      costBasis: 200,
      missedLooks: 0,
    });
    expect(after.open).toBe(1);
  });

  it('a quantity of all it holds clears it whole (no fraction), like a clear without one', () => {
    spec()
      .given([tracked(), entered()])
      .when({ type: 'ClearPhantom', positionId: 'A', looks: 2, quantity: 3, reason: 'gone' })
      .then([
        {
          type: 'PhantomCleared',
          data: { positionId: 'A', value: 300, costBasis: 300, realizedPnl: 0, looks: 2, reason: 'gone', source: 'local', symbol: 'BTC' },
        },
      ]);
  });

  it('refuses more than it holds, and a quantity for a position without one, naming the field', () => {
    spec()
      .given([tracked(), entered()])
      .when({ type: 'ClearPhantom', positionId: 'A', looks: 2, quantity: 4, reason: 'x' })
      .thenThrows(ValidationError, /cannot clear 4 of phantom "A": only 3 is open/);
    spec()
      .given([tracked(), entered({ quantity: undefined })])
      .when({ type: 'ClearPhantom', positionId: 'A', looks: 2, quantity: 1, reason: 'x' })
      .thenThrows(ValidationError, /its quantity is unknown/);
  });
});
