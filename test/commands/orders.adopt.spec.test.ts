import { describe, expect, it } from 'vitest';
import { adoptedClientOrderId, adoptedPositionId, bookStateFromJson, bookStateToJson } from '../../src/commands/index.js';
import { InvalidTransitionError, OrderStateError, RecoveryPendingError, RiskLimitError, ValidationError } from '../../src/errors/index.js';
import type { EventData } from '../../src/events/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { entered, NOW, tracked } from './fixtures.js';
import { accepted, requested } from './orderFixtures.js';

/*
 * AdoptExternalOrder: a detected external order becomes the book's own, in its venue state (OPEN),
 * with the venue's ids. An entry order gets a position of its own (its id derived from the venue
 * id, or the one the venue names); a reduce-only one closes the one IN position it can. Adopting
 * records what is already true at the venue: no risk rule refuses it, and from then on its fills,
 * cancel and finish go through the order commands like any order's.
 */

const spec = deciderSpec({ now: NOW });
type Detected = Omit<EventData<'ExternalOrderDetected'>, 'source'>;
const detected = (data: Partial<Detected> = {}): GivenEvent => ({
  type: 'ExternalOrderDetected',
  data: { externalOrderId: 'V-9', symbol: 'BTC', side: 'buy', quantity: 2, filledQuantity: 0, ...data, source: 'local' },
});
const adopt = {
  type: 'AdoptExternalOrder' as const,
  externalOrderId: 'V-9',
  symbol: 'BTC',
  side: 'buy' as const,
  quantity: 2,
  limitPrice: 100,
};
const adoptedEvent = (data: Partial<EventData<'ExternalOrderAdopted'>> = {}) => ({
  type: 'ExternalOrderAdopted' as const,
  data: {
    clientOrderId: 'ext-V-9',
    externalOrderId: 'V-9',
    positionId: 'ext-V-9',
    symbol: 'BTC',
    side: 'buy' as const,
    intent: 'entry' as const,
    orderType: 'limit' as const,
    quantity: 2,
    limitPrice: 100,
    referencePrice: 100,
    ...data,
    source: 'local' as const,
  },
});
const trackedExt = {
  type: 'PositionTracked' as const,
  data: { positionId: 'ext-V-9', symbol: 'BTC', side: 'long' as const, source: 'local' as const },
};

describe('when an external order is detected and unresolved', () => {
  it('adopts an entry order: its own position is tracked (id from the venue id), the order is OPEN with the venue id', () => {
    spec.given([detected()]).when(adopt).then([trackedExt, adoptedEvent()]);
    const state = spec.given([detected(), trackedExt, adoptedEvent()]).state();
    expect(state.orders.get('ext-V-9')).toMatchObject({
      status: 'OPEN',
      origin: 'adopted',
      externalOrderId: 'V-9',
      positionId: 'ext-V-9',
      intent: 'entry',
      filledQuantity: 0,
    });
    expect(state.liveOrders.get('ext-V-9')).toBe('ext-V-9');
    expect(state.externalOrders.size).toBe(0);
  });

  it("keeps the venue's client order id as the book's key, and as the venue's", () => {
    spec
      .given([detected({ clientOrderId: 'desk-7' })])
      .when({ ...adopt, clientOrderId: 'desk-7', price: 99.5, runId: 'r1', reason: 'by policy' })
      .then([
        trackedExt,
        adoptedEvent({
          clientOrderId: 'desk-7',
          venueClientOrderId: 'desk-7',
          referencePrice: 99.5,
          runId: 'r1',
          reason: 'by policy',
        }),
      ]);
  });

  it('is a market order without a limit price, and a sell opens a short', () => {
    const { limitPrice: _l, ...market } = adopt;
    const { limitPrice: _a, referencePrice: _r, ...data } = adoptedEvent({ side: 'sell', orderType: 'market' }).data;
    spec
      .given([detected({ side: 'sell' })])
      .when({ ...market, side: 'sell' })
      .then([
        { type: 'PositionTracked', data: { positionId: 'ext-V-9', symbol: 'BTC', side: 'short', source: 'local' } },
        { type: 'ExternalOrderAdopted', data },
      ]);
  });

  it('puts the position in its correlation group', () => {
    deciderSpec({ now: NOW, policy: { correlationGroups: { crypto: ['BTC'] } } })
      .given([detected()])
      .when(adopt)
      .then([{ ...trackedExt, data: { ...trackedExt.data, group: 'crypto' } }, adoptedEvent()]);
  });

  it('grows the position the venue names when it is IN on the same symbol and side', () => {
    spec
      .given([tracked('BTC-1', { symbol: 'BTC' }), entered('BTC-1', { symbol: 'BTC', value: 1000, quantity: 10 }), detected()])
      .when({ ...adopt, positionId: 'BTC-1' })
      .then([adoptedEvent({ positionId: 'BTC-1' })]);
  });

  it('refuses the position the venue names when it is another side', () => {
    spec
      .given([
        tracked('BTC-1', { symbol: 'BTC', side: 'short' }),
        entered('BTC-1', { symbol: 'BTC', side: 'short', value: 1000 }),
        detected(),
      ])
      .when({ ...adopt, positionId: 'BTC-1' })
      .thenThrows(ValidationError, /is short BTC, not long BTC/);
  });

  it('refuses an order the venue now shows with another symbol or side than it was detected with', () => {
    spec
      .given([detected()])
      .when({ ...adopt, side: 'sell' })
      .thenThrows(ValidationError, /detected as buy BTC/);
  });

  it('does not refuse on caps or the breaker: the order is at the venue already', () => {
    deciderSpec({ now: NOW, policy: { maxPositions: 1 } })
      .given([
        tracked('ETH-1', { symbol: 'ETH' }),
        entered('ETH-1', { symbol: 'ETH', value: 1000 }),
        { type: 'CircuitBreakerTripped', data: { trigger: 'manual', reason: 'by hand', source: 'local' } },
        { type: 'SymbolDisabled', data: { symbol: 'BTC', side: 'buy', reason: 'halted', source: 'local' } },
        detected(),
      ])
      .when(adopt)
      .then([trackedExt, adoptedEvent()]);
  });
});

describe('a reduce-only external order', () => {
  const longBtc = [tracked('BTC-1', { symbol: 'BTC' }), entered('BTC-1', { symbol: 'BTC', value: 1000, quantity: 10 })];

  it('closes the one IN position of its symbol on the side it reduces (a sell reduces a long)', () => {
    spec
      .given([...longBtc, detected({ side: 'sell' })])
      .when({ ...adopt, side: 'sell', reduceOnly: true })
      .then([adoptedEvent({ side: 'sell', intent: 'reduce', positionId: 'BTC-1' })]);
  });

  it('is refused with no such position, and with two (which one would it close?)', () => {
    spec
      .given([detected({ side: 'sell' })])
      .when({ ...adopt, side: 'sell', reduceOnly: true })
      .thenThrows(ValidationError, /the book has none/);
    spec
      .given([
        ...longBtc,
        tracked('BTC-2', { symbol: 'BTC' }),
        entered('BTC-2', { symbol: 'BTC', value: 500, quantity: 5 }),
        detected({ side: 'sell' }),
      ])
      .when({ ...adopt, side: 'sell', reduceOnly: true })
      .thenThrows(ValidationError, /the book has 2 \(BTC-1, BTC-2\)/);
  });

  it('takes the one the venue names among several', () => {
    spec
      .given([
        ...longBtc,
        tracked('BTC-2', { symbol: 'BTC' }),
        entered('BTC-2', { symbol: 'BTC', value: 500, quantity: 5 }),
        detected({ side: 'sell' }),
      ])
      .when({ ...adopt, side: 'sell', reduceOnly: true, positionId: 'BTC-2' })
      .then([adoptedEvent({ side: 'sell', intent: 'reduce', positionId: 'BTC-2' })]);
  });

  it('is refused for a position of unknown quantity', () => {
    spec
      .given([tracked('BTC-1', { symbol: 'BTC' }), entered('BTC-1', { symbol: 'BTC', value: 1000 }), detected({ side: 'sell' })])
      .when({ ...adopt, side: 'sell', reduceOnly: true })
      .thenThrows(ValidationError, /no known quantity/);
  });

  it('its fill exits that share of the position, like a reduce order of the book', () => {
    const given = [...longBtc, detected({ side: 'sell' }), adoptedEvent({ side: 'sell', intent: 'reduce', positionId: 'BTC-1' })];
    expect(spec.given(given).state().orders.get('ext-V-9')?.intent).toBe('reduce');
    spec
      .given(given)
      .when({ type: 'RecordFill', clientOrderId: 'ext-V-9', tradeId: 'T1', quantity: 2, price: 110 })
      .then([
        {
          type: 'OrderFilled',
          data: { clientOrderId: 'ext-V-9', tradeId: 'T1', quantity: 2, price: 110, fee: 0, inferred: false, source: 'local' },
        },
        {
          type: 'PositionExited',
          data: {
            positionId: 'BTC-1',
            symbol: 'BTC',
            side: 'long',
            fraction: 0.2,
            quantity: 2,
            value: 220,
            price: 110,
            costBasis: 200,
            realizedPnl: 20,
            full: false,
            reason: 'fill T1 of order ext-V-9',
            source: 'local',
          },
        },
      ]);
  });
});

describe('when the order is not an external one to adopt', () => {
  it('is refused when it was never detected (or was resolved already)', () => {
    spec
      .given([])
      .when(adopt)
      .thenThrows(InvalidTransitionError, /has not detected it/);
    spec
      .given([detected(), { type: 'ExternalOrderCanceled', data: { externalOrderId: 'V-9', filledQuantity: 0, source: 'local' } }])
      .when(adopt)
      .thenThrows(InvalidTransitionError, /has not detected it/);
  });

  it('appends nothing when it is adopted already (a second run)', () => {
    spec.given([detected(), trackedExt, adoptedEvent()]).when(adopt).thenNothingHappened();
  });

  it("is refused when it is one of the book's own orders", () => {
    spec
      .given([requested('o1', 'BTC-1'), accepted('o1', 'V-9')])
      .when(adopt)
      .thenThrows(InvalidTransitionError, /the book issued it as order "o1"/);
  });

  it("is refused when the venue's client order id is already the key of another order of the book", () => {
    spec
      .given([requested('desk-7', 'BTC-1'), detected({ clientOrderId: 'desk-7', externalOrderId: 'V-10' })])
      .when({ ...adopt, externalOrderId: 'V-10', clientOrderId: 'desk-7' })
      .thenThrows(InvalidTransitionError, /issued it/);
    // A venue client order id too long to be the key gives ext-<venue id>, which another order's venue client order id may be.
    const long = 'c'.repeat(65);
    spec
      .given([
        detected({ externalOrderId: 'V-1', clientOrderId: 'ext-V-2' }),
        adoptedEvent({ externalOrderId: 'V-1', clientOrderId: 'ext-V-2', venueClientOrderId: 'ext-V-2', positionId: 'ext-V-1' }),
        detected({ externalOrderId: 'V-2', clientOrderId: long }),
      ])
      .when({ ...adopt, externalOrderId: 'V-2', clientOrderId: long })
      .thenThrows(OrderStateError, /its key "ext-V-2" is already order "ext-V-2"/);
  });

  it('is refused while a recovery waits for an operator (it moves a position)', () => {
    spec
      .given([{ type: 'RecoveryRequired', data: { mode: 'manual', reason: 'crash', source: 'local' } }, detected()])
      .when(adopt)
      .thenThrows(RecoveryPendingError);
  });
});

describe('once adopted, it is an order like the book’s own', () => {
  const given = [detected(), trackedExt, adoptedEvent()];

  it('its first fill enters its position', () => {
    spec
      .given(given)
      .when({ type: 'RecordFill', clientOrderId: 'ext-V-9', tradeId: 'T1', quantity: 1, price: 100, fee: 0.1 })
      .then([
        {
          type: 'OrderFilled',
          data: { clientOrderId: 'ext-V-9', tradeId: 'T1', quantity: 1, price: 100, fee: 0.1, inferred: false, source: 'local' },
        },
        {
          type: 'PositionEntered',
          data: { positionId: 'ext-V-9', symbol: 'BTC', side: 'long', value: 100, quantity: 1, price: 100, source: 'local' },
        },
      ]);
  });

  it('can be canceled, and its cancel recorded', () => {
    spec
      .given(given)
      .when({ type: 'CancelOrder', clientOrderId: 'ext-V-9' })
      .then([{ type: 'OrderCancelRequested', data: { clientOrderId: 'ext-V-9', source: 'local' } }]);
    spec
      .given(given)
      .when({ type: 'RecordOrderCanceled', clientOrderId: 'ext-V-9' })
      .then([{ type: 'OrderCanceled', data: { clientOrderId: 'ext-V-9', filledQuantity: 0, source: 'local' } }]);
  });

  it('its live part counts toward maxPositions: a new entry elsewhere is refused', () => {
    const error = deciderSpec({ now: NOW, policy: { maxPositions: 1 } })
      .given(given)
      .when({
        type: 'RequestOrder',
        commandId: 'c1',
        positionId: 'ETH-1',
        symbol: 'ETH',
        intent: 'entry',
        quantity: 1,
        referencePrice: 100,
        orderType: 'market',
      })
      .thenThrows(RiskLimitError) as RiskLimitError;
    expect([error.rule, error.limit, error.current]).toEqual(['maxPositions', 1, 1]);
  });

  it('is a second detection of the same venue order refused as one of ours', () => {
    spec
      .given(given)
      .when({ type: 'DetectExternalOrder', externalOrderId: 'V-9', symbol: 'BTC', side: 'buy', quantity: 2, filledQuantity: 0 })
      .thenThrows(InvalidTransitionError, /issued it/);
  });

  it('keeps its origin and venue client order id through a snapshot', () => {
    const state = spec
      .given([detected({ clientOrderId: 'desk-7' }), trackedExt, adoptedEvent({ clientOrderId: 'desk-7', venueClientOrderId: 'desk-7' })])
      .state();
    const restored = bookStateFromJson(JSON.parse(JSON.stringify(bookStateToJson(state))) as ReturnType<typeof bookStateToJson>);
    expect(restored.orders.get('desk-7')).toMatchObject({ origin: 'adopted', venueClientOrderId: 'desk-7', externalOrderId: 'V-9' });
    expect(restored.liveOrders.get('desk-7')).toBe('ext-V-9');
  });
});

describe('the derived ids', () => {
  it("the book's key: the venue's client order id when it fits 64 characters, else ext-<venue id>, else a hash", () => {
    expect(adoptedClientOrderId('V-9', 'desk-7')).toBe('desk-7');
    expect(adoptedClientOrderId('V-9', 'x'.repeat(65))).toBe('ext-V-9');
    const long = 'V'.repeat(100);
    expect(adoptedClientOrderId(long, undefined)).toMatch(/^ext-[0-9a-f]{40}$/);
    expect(adoptedClientOrderId(long, undefined)).toBe(adoptedClientOrderId(long, undefined));
    expect(adoptedClientOrderId(long, undefined)).not.toBe(adoptedClientOrderId(`${long}W`, undefined));
  });

  it('the position id: ext-<venue id>, else a hash for white space or length', () => {
    expect(adoptedPositionId('V-9')).toBe('ext-V-9');
    expect(adoptedPositionId('V 9')).toMatch(/^ext-[0-9a-f]{40}$/);
    expect(adoptedPositionId('V'.repeat(200))).toMatch(/^ext-[0-9a-f]{40}$/);
  });
});
