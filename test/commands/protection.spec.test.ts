import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, RecoveryPendingError, ValidationError } from '../../src/errors/index.js';
import { foldProjection, portfolioProjection, ProjectionOptions } from '../../src/projections/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { fact, recorded, t } from '../projections/fixtures.js';
import { NOW, entered, tracked, valued } from './fixtures.js';
import { increased, requested } from './orderFixtures.js';

/*
 * Position protection: a stop loss (the position's `stop`, which its risk is measured to), a
 * take profit and a trailing stop (a distance or a percent, and the best price it has seen),
 * set on Enter or an entry order and changed while IN with SetProtection. The tracker records
 * and reports them; the bot or the venue enforces them.
 */

const spec = deciderSpec({ now: NOW });
const watching = [tracked('A', { symbol: 'BTC', group: 'g' })];
const longIn = [...watching, entered('A', { symbol: 'BTC', value: 1000, quantity: 10, price: 100, stop: 90 })];
const priced = (value: number, price: number): GivenEvent => ({
  type: 'PositionValued',
  data: { positionId: 'A', value, price, source: 'local' },
});

describe('protection on entry', () => {
  it('Enter records take profit and a trailing stop trailing from the entry price', () => {
    spec
      .given(watching)
      .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, stop: 90, takeProfit: 130, trailingStop: { percent: 5 } })
      .then([
        {
          type: 'PositionEntered',
          data: {
            positionId: 'A',
            side: 'long',
            value: 1000,
            symbol: 'BTC',
            quantity: 10,
            stop: 90,
            takeProfit: 130,
            trailingStop: { percent: 5, highWater: 100 },
            source: 'local',
          },
        },
      ]);
  });

  it('refuses a trailing stop without an entry price to trail from, and a bad spec at the boundary', () => {
    spec
      .given(watching)
      .when({ type: 'Enter', positionId: 'A', value: 100, trailingStop: { distance: 5 } })
      .thenThrows(ValidationError, /needs the entry price/);
    spec
      .given(watching)
      .when({ type: 'Enter', positionId: 'A', value: 100, price: 100, trailingStop: { percent: 120 } })
      .thenThrows(ValidationError, /trailingStop/);
    spec
      .given(watching)
      .when({ type: 'Enter', positionId: 'A', value: 100, price: 100, trailingStop: { percent: 5, distance: 2 } } as never)
      .thenThrows(ValidationError, /trailingStop/);
  });

  it('an entry order carries them, and its first fill puts them on the position (trailing from the fill price)', () => {
    const s = spec.given([...watching, requested('o1', 'A', { stop: 90, takeProfit: 130, trailingStop: { distance: 4 } })]);
    s.when({ type: 'RecordFill', clientOrderId: 'o1', tradeId: 't1', quantity: 10, price: 101 }).then([
      {
        type: 'OrderFilled',
        data: { clientOrderId: 'o1', tradeId: 't1', quantity: 10, price: 101, fee: 0, inferred: false, source: 'local' },
      },
      {
        type: 'PositionEntered',
        data: {
          positionId: 'A',
          symbol: 'BTC',
          side: 'long',
          value: 1010,
          quantity: 10,
          price: 101,
          stop: 90,
          takeProfit: 130,
          trailingStop: { distance: 4, highWater: 101 },
          source: 'local',
        },
      },
    ]);
  });

  it('a reduce order takes no protection', () => {
    spec
      .given(longIn)
      .when({ type: 'RequestOrder', commandId: 'c', positionId: 'A', intent: 'reduce', quantity: 1, takeProfit: 120 })
      .thenThrows(ValidationError, /protection \(stop, takeProfit, trailingStop\) belongs to an entry order/);
  });
});

describe('SetProtection', () => {
  it('when IN: replaces what is given, keeps what is left out, and the risk follows the new stop', () => {
    const s = spec.given([...longIn, priced(1100, 110)]);
    s.when({ type: 'SetProtection', positionId: 'A', stop: 95, trailingStop: { distance: 3 } }).then([
      { type: 'ProtectionSet', data: { positionId: 'A', stop: 95, trailingStop: { distance: 3, highWater: 110 }, source: 'local' } },
    ]);
    const after = spec
      .given([...longIn, { type: 'ProtectionSet', data: { positionId: 'A', stop: 95, takeProfit: 140, source: 'local' } }])
      .state();
    // |100 - 95| x 10
    expect(after.positions.get('A')).toMatchObject({ stop: 95, takeProfit: 140, risk: 50 });
    expect(after.groupRisk.get('g')).toBe(50);
  });

  it('null removes a field; without a stop the whole cost basis is at risk', () => {
    spec
      .given(longIn)
      .when({ type: 'SetProtection', positionId: 'A', stop: null })
      .then([{ type: 'ProtectionSet', data: { positionId: 'A', source: 'local' } }]);
    const after = spec.given([...longIn, { type: 'ProtectionSet', data: { positionId: 'A', source: 'local' } }]).state();
    expect(after.positions.get('A')).toMatchObject({ risk: 1000 });
    expect(after.positions.get('A')).not.toHaveProperty('stop');
  });

  it('keeps a take profit and a trailing stop it is not told about, and null removes each of them', () => {
    const guarded = [
      ...longIn,
      {
        type: 'ProtectionSet',
        data: { positionId: 'A', stop: 90, takeProfit: 140, trailingStop: { percent: 5, highWater: 100 }, source: 'local' },
      } as GivenEvent,
    ];
    spec
      .given(guarded)
      .when({ type: 'SetProtection', positionId: 'A', stop: 92 })
      .then([
        {
          type: 'ProtectionSet',
          data: { positionId: 'A', stop: 92, takeProfit: 140, trailingStop: { percent: 5, highWater: 100 }, source: 'local' },
        },
      ]);
    spec
      .given(guarded)
      .when({ type: 'SetProtection', positionId: 'A', takeProfit: null })
      .then([
        { type: 'ProtectionSet', data: { positionId: 'A', stop: 90, trailingStop: { percent: 5, highWater: 100 }, source: 'local' } },
      ]);
    spec
      .given(guarded)
      .when({ type: 'SetProtection', positionId: 'A', trailingStop: null })
      .then([{ type: 'ProtectionSet', data: { positionId: 'A', stop: 90, takeProfit: 140, source: 'local' } }]);
    spec.given(guarded).when({ type: 'SetProtection', positionId: 'A', takeProfit: 140 }).thenNothingHappened();
  });

  it('a trailing stop set while IN trails from the entry price, or from cost / quantity when no price was given', () => {
    const noPrice = [...watching, entered('A', { symbol: 'BTC', value: 1000, quantity: 8, stop: 90 })];
    spec
      .given(noPrice)
      .when({ type: 'SetProtection', positionId: 'A', trailingStop: { distance: 10 } })
      .then([
        { type: 'ProtectionSet', data: { positionId: 'A', stop: 90, trailingStop: { distance: 10, highWater: 125 }, source: 'local' } },
      ]);
    spec
      .given([...watching, entered('A', { symbol: 'BTC', value: 1000, stop: 900 })])
      .when({ type: 'SetProtection', positionId: 'A', trailingStop: { distance: 10 } })
      .thenThrows(
        ValidationError,
        /^cannot set the protection of "A": a trailing stop needs the entry price to trail from \(give price, or quantity\)$/,
      );
  });

  it('changes nothing when nothing changes', () => {
    spec.given(longIn).when({ type: 'SetProtection', positionId: 'A', stop: 90 }).thenNothingHappened();
  });

  it('is refused for a position not IN, and while a manual recovery waits', () => {
    const error = spec
      .given(watching)
      .when({ type: 'SetProtection', positionId: 'A', stop: 90 })
      .thenThrows(InvalidTransitionError, /cannot set the protection of "A": it is WATCHING, expected IN/);
    expect(error).toMatchObject({ state: 'WATCHING' });
    spec
      .given([...longIn, { type: 'RecoveryRequired', data: { mode: 'manual', reason: 'x', source: 'local' } }])
      .when({ type: 'SetProtection', positionId: 'A', stop: 95 })
      .thenThrows(RecoveryPendingError);
  });
});

describe('the trailing stop follows the best price', () => {
  const trailing = [
    ...watching,
    entered('A', { symbol: 'BTC', value: 1000, quantity: 10, price: 100, trailingStop: { percent: 5, highWater: 100 } }),
  ];

  it('a long: a higher valuation or fill price moves the high water up, a lower one does not', () => {
    const state = spec.given([...trailing, priced(1200, 120), priced(1100, 110), valued('A', 1300)]).state();
    expect(state.positions.get('A')).toMatchObject({ trailingStop: { percent: 5, highWater: 120 } });
    expect(
      spec
        .given([...trailing, increased('A', 1, 125)])
        .state()
        .positions.get('A'),
    ).toMatchObject({ trailingStop: { highWater: 125 } });
  });

  it('a short: the low water is the lowest price', () => {
    const short = [
      tracked('S', { symbol: 'BTC', side: 'short' }),
      entered('S', { symbol: 'BTC', side: 'short', value: 1000, quantity: 10, price: 100, trailingStop: { distance: 2, highWater: 100 } }),
      { type: 'PositionValued', data: { positionId: 'S', value: 900, price: 90, source: 'local' } },
      { type: 'PositionValued', data: { positionId: 'S', value: 950, price: 95, source: 'local' } },
    ] satisfies GivenEvent[];
    expect(spec.given(short).state().positions.get('S')).toMatchObject({ trailingStop: { distance: 2, highWater: 90 } });
  });

  it('portfolio.json shows the stop, take profit and trailing stop of an IN position', () => {
    const portfolio = portfolioProjection(ProjectionOptions.parse({}));
    const data = portfolio.toJson(
      foldProjection(
        portfolio,
        recorded([
          fact('PositionTracked', { positionId: 'A', symbol: 'BTC', side: 'long' }, t(0)),
          fact(
            'PositionEntered',
            {
              positionId: 'A',
              symbol: 'BTC',
              side: 'long',
              value: 1000,
              quantity: 10,
              price: 100,
              stop: 90,
              takeProfit: 130,
              trailingStop: { percent: 5, highWater: 100 },
            },
            t(1),
          ),
          fact('PositionValued', { positionId: 'A', value: 1100, price: 110 }, t(2)),
        ]),
      ),
    );
    expect(data.books.main?.positions.IN[0]).toMatchObject({ stop: 90, takeProfit: 130, trailingStop: { percent: 5, highWater: 110 } });
  });
});
