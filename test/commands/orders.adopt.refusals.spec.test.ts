import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, OrderStateError, ValidationError } from '../../src/errors/index.js';
import type { EventData } from '../../src/events/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { entered, exited, NOW, tracked } from './fixtures.js';
import { accepted, requested } from './orderFixtures.js';

/*
 * AdoptExternalOrder's refusals, word for word: each names the venue order (its id, side, quantity
 * and symbol, and whether it is reduce-only), what the book holds instead and what to do; a
 * ValidationError names the field, the value and what was expected. And which IN position a
 * reduce-only order closes: only one IN on its symbol, on the side it reduces.
 */

const spec = deciderSpec({ now: NOW });
type Detected = Omit<EventData<'ExternalOrderDetected'>, 'source'>;
const detected = (data: Partial<Detected> = {}): GivenEvent => ({
  type: 'ExternalOrderDetected',
  data: { externalOrderId: 'V-9', symbol: 'BTC', side: 'buy', quantity: 2, filledQuantity: 0, ...data, source: 'local' },
});
const adopt = { type: 'AdoptExternalOrder' as const, externalOrderId: 'V-9', symbol: 'BTC', side: 'buy' as const, quantity: 2 };
const sellToClose = { ...adopt, side: 'sell' as const, reduceOnly: true };
const inPosition = (id: string, symbol: string, side: 'long' | 'short', quantity?: number): GivenEvent[] => [
  tracked(id, { symbol, side }),
  entered(id, { symbol, side, value: 1000, ...(quantity === undefined ? {} : { quantity }) }),
];
const adoptedFor = (positionId: string, side: 'buy' | 'sell', data: Partial<EventData<'ExternalOrderAdopted'>> = {}) => ({
  type: 'ExternalOrderAdopted' as const,
  data: {
    clientOrderId: 'ext-V-9',
    externalOrderId: 'V-9',
    positionId,
    symbol: 'BTC',
    side,
    intent: 'reduce' as const,
    orderType: 'market' as const,
    quantity: 2,
    ...data,
    source: 'local' as const,
  },
});
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (s: string): RegExp => new RegExp(`^${escape(s)}$`);

describe('a reduce-only external order: the position it closes', () => {
  const crowd = [
    ...inPosition('BTC-1', 'BTC', 'long', 10),
    tracked('BTC-W', { symbol: 'BTC' }),
    ...inPosition('ETH-1', 'ETH', 'long', 10),
    ...inPosition('BTC-S', 'BTC', 'short', 4),
  ];

  it('a sell closes the one IN long of its symbol: watched positions, other symbols and shorts do not count', () => {
    spec
      .given([...crowd, detected({ side: 'sell' })])
      .when(sellToClose)
      .then([adoptedFor('BTC-1', 'sell')]);
  });

  it('a buy closes the one IN short of its symbol', () => {
    spec
      .given([...crowd, detected()])
      .when({ ...adopt, reduceOnly: true })
      .then([adoptedFor('BTC-S', 'buy')]);
  });

  it('is refused when the book holds none, naming what it needs and what to do', () => {
    const error = spec
      .given([detected({ side: 'sell' })])
      .when(sellToClose)
      .thenThrows(
        ValidationError,
        exactly(
          'cannot adopt external order "V-9" (sell 2 BTC, reduce-only): a reduce-only order needs the one IN long position of BTC it closes, and the book has none (adopt or exit positions until one is left, or handle the order by hand)',
        ),
      );
    expect(error).toMatchObject({ issues: [{ path: 'reduceOnly', message: 'needs exactly one IN long position of BTC', value: true }] });
  });

  it('is refused when the position the venue names is not one it can close', () => {
    const error = spec
      .given([...crowd, detected()])
      .when({ ...adopt, reduceOnly: true, positionId: 'BTC-1' })
      .thenThrows(
        ValidationError,
        exactly(
          'cannot adopt external order "V-9" (buy 2 BTC, reduce-only): a reduce-only order needs IN short position "BTC-1" of BTC it closes, and the book has none (adopt or exit positions until one is left, or handle the order by hand)',
        ),
      );
    expect(error).toMatchObject({ issues: [{ path: 'reduceOnly', message: 'needs exactly one IN short position of BTC', value: true }] });
  });

  it('is refused for a position of unknown quantity, saying to correct it first', () => {
    const error = spec
      .given([...inPosition('BTC-1', 'BTC', 'long'), detected({ side: 'sell' })])
      .when(sellToClose)
      .thenThrows(
        ValidationError,
        exactly(
          'cannot adopt external order "V-9" (sell 2 BTC, reduce-only): position "BTC-1" has no known quantity, so its fills could not close a share of it (correct its quantity first)',
        ),
      );
    expect(error).toMatchObject({ issues: [{ path: 'reduceOnly', message: 'position "BTC-1" has no quantity', value: true }] });
  });
});

describe('an entry order and the position the venue names', () => {
  it('is refused when that position is on another symbol, naming both', () => {
    const error = spec
      .given([...inPosition('ETH-1', 'ETH', 'long', 1), detected()])
      .when({ ...adopt, positionId: 'ETH-1' })
      .thenThrows(
        ValidationError,
        exactly('cannot adopt external order "V-9" (buy 2 BTC): its position "ETH-1" is long ETH, not long BTC'),
      );
    expect(error).toMatchObject({
      issues: [{ path: 'externalOrderId', message: 'position "ETH-1" is another symbol or side', value: 'V-9' }],
    });
  });

  it('is refused when that position has no symbol', () => {
    spec
      .given([tracked('P-1', { side: 'long' }), detected()])
      .when({ ...adopt, positionId: 'P-1' })
      .thenThrows(
        ValidationError,
        exactly('cannot adopt external order "V-9" (buy 2 BTC): its position "P-1" is long without a symbol, not long BTC'),
      );
  });

  it('is refused when that position is closed: an order adopted for it could only be for UNKNOWN, WATCHING or IN', () => {
    const history = [
      ...inPosition('BTC-1', 'BTC', 'long', 1),
      exited('BTC-1', { value: 1000, costBasis: 1000, realizedPnl: 0 }),
      detected(),
    ];
    const error = spec
      .given(history)
      .when({ ...adopt, positionId: 'BTC-1' })
      .thenThrows(InvalidTransitionError);
    expect(error).toMatchObject({ positionId: 'BTC-1', state: 'EXITED', expected: ['UNKNOWN', 'WATCHING', 'IN'] });
  });
});

describe('an order that is not an external one to adopt', () => {
  it('one the book issued: refused, naming the book’s order', () => {
    const error = spec
      .given([requested('o1', 'BTC-1'), accepted('o1', 'V-9')])
      .when(adopt)
      .thenThrows(
        InvalidTransitionError,
        exactly('cannot adopt external order "V-9" (buy 2 BTC): the book issued it as order "o1"; it is one of ours, not external'),
      );
    expect(error).toMatchObject({ state: 'OURS', expected: ['DETECTED'] });
  });

  it('another venue order under the client order id of one adopted before: refused, not taken for a repeat', () => {
    const first = { externalOrderId: 'V-1', clientOrderId: 'desk-7' };
    const history: GivenEvent[] = [
      detected(first),
      {
        type: 'ExternalOrderAdopted',
        data: {
          ...first,
          venueClientOrderId: 'desk-7',
          positionId: 'ext-V-1',
          symbol: 'BTC',
          side: 'buy',
          intent: 'entry',
          orderType: 'market',
          quantity: 2,
          source: 'local',
        },
      },
      detected({ externalOrderId: 'V-10', clientOrderId: 'desk-7' }),
    ];
    spec
      .given(history)
      .when({ ...adopt, externalOrderId: 'V-10', clientOrderId: 'desk-7' })
      .thenThrows(InvalidTransitionError, /^cannot adopt external order "V-10" \(buy 2 BTC\): the book issued it as order "desk-7"/);
  });

  it('one never detected: refused, saying to detect it first', () => {
    const error = spec
      .given([])
      .when(adopt)
      .thenThrows(
        InvalidTransitionError,
        exactly(
          'cannot adopt external order "V-9" (buy 2 BTC): the book has not detected it (or it was resolved already); detect it first',
        ),
      );
    expect(error).toMatchObject({ state: 'UNKNOWN', expected: ['DETECTED'] });
  });

  it('one the venue now shows on another symbol or side: refused, naming what was detected field by field', () => {
    const otherSide = spec
      .given([detected()])
      .when({ ...adopt, side: 'sell' })
      .thenThrows(
        ValidationError,
        exactly(
          'cannot adopt external order "V-9" (sell 2 BTC): it was detected as buy BTC; one venue id names one order (check which order this is)',
        ),
      );
    expect(otherSide).toMatchObject({
      issues: [
        { path: 'symbol', message: 'detected as BTC', value: 'BTC' },
        { path: 'side', message: 'detected as buy', value: 'sell' },
      ],
    });
    spec
      .given([detected()])
      .when({ ...adopt, symbol: 'ETH' })
      .thenThrows(ValidationError, /^cannot adopt external order "V-9" \(buy 2 ETH\): it was detected as buy BTC;/);
  });

  it('one whose key is another order’s: an OrderStateError naming the key and that order’s state, with nothing to move to', () => {
    const error = spec
      .given([requested('ext-V-10', 'BTC-1'), detected({ externalOrderId: 'V-10' })])
      .when({ ...adopt, externalOrderId: 'V-10' })
      .thenThrows(OrderStateError);
    expect(error).toMatchObject({ clientOrderId: 'ext-V-10', state: 'PENDING_SUBMIT', expected: [] });
  });
});

describe('the reference price of an adopted order', () => {
  const given = [...inPosition('BTC-1', 'BTC', 'long', 1), detected()];
  const priced = (price: number | undefined, referencePrice: number): void =>
    spec
      .given(given)
      .when({ ...adopt, positionId: 'BTC-1', limitPrice: 100, ...(price === undefined ? {} : { price }) })
      .then([adoptedFor('BTC-1', 'buy', { intent: 'entry', orderType: 'limit', limitPrice: 100, referencePrice })]);
  it('is the venue’s average fill price when it has one, else the limit price (a venue may report 0 before any fill)', () => {
    priced(105, 105);
    priced(0, 100);
    priced(undefined, 100);
  });
});
