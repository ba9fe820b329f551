import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { clientOrderIdFor, type CommandInput, type DecidedEvent } from '../../src/commands/index.js';
import {
  DuplicateSignalError,
  InvalidTransitionError,
  OrderStateError,
  RecoveryPendingError,
  ValidationError,
} from '../../src/errors/index.js';
import type { EventData } from '../../src/events/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, breakerTripped, entered, exited, expectRiskLimit, iso, secondsFrom, tracked } from './fixtures.js';
import { accepted, cancelRequested, canceled, expired, filled, rejected, requested } from './orderFixtures.js';

/*
 * Orders, as specifications: RequestOrder against the position it is for (and the risk rules,
 * counting what live entry orders hold back), then every order command grouped by the state
 * of the order it names:
 *
 *   RequestOrder -> PENDING_SUBMIT --accept--> OPEN --fill--> PARTIALLY_FILLED --fill--> FILLED
 *                   PENDING_SUBMIT | OPEN | PARTIALLY_FILLED --cancel--> PENDING_CANCEL --canceled--> CANCELED
 *                   PENDING_SUBMIT --reject--> REJECTED;  any live state --expired--> EXPIRED
 *                   lost: PENDING_SUBMIT | OPEN -> REJECTED, PARTIALLY_FILLED -> CANCELED (fills kept)
 */

const spec = deciderSpec({ now: NOW });
/** The id the decider derives; `n`, the book's order number, is the attempt unless other keys' orders came before. */
const cid = (key: string, attempt = 1, max = 36, book = 'main', n = attempt): string => clientOrderIdFor(book, key, attempt, max, n);

/** The OrderRequested the decider writes for `key`: an entry buy of 10 BTC at a reference price of 100 unless `data` says otherwise. */
function orderRequested(key: string, positionId: string, data: Partial<EventData<'OrderRequested'>> = {}): DecidedEvent {
  return {
    type: 'OrderRequested',
    data: {
      clientOrderId: cid(key, data.attempt ?? 1),
      orderKey: key,
      attempt: 1,
      positionId,
      symbol: 'BTC',
      side: 'buy',
      intent: 'entry',
      orderType: 'market',
      quantity: 10,
      source: 'local',
      ...data,
    },
  };
}

const entry = (positionId: string, rest: Partial<Extract<CommandInput, { type: 'RequestOrder' }>> = {}): CommandInput => ({
  type: 'RequestOrder',
  signalId: `s-${positionId}`,
  positionId,
  intent: 'entry',
  quantity: 10,
  referencePrice: 100,
  ...rest,
});

const reduce = (
  positionId: string,
  quantity: number,
  rest: Partial<Extract<CommandInput, { type: 'RequestOrder' }>> = {},
): CommandInput => ({
  type: 'RequestOrder',
  commandId: `r-${positionId}-${quantity}`,
  positionId,
  intent: 'reduce',
  quantity,
  ...rest,
});

const watchingBtc = [tracked('A', { symbol: 'BTC' })];
/** A long BTC position IN: 10 at 100. */
const inBtc = [...watchingBtc, entered('A', { symbol: 'BTC', value: 1000, quantity: 10, price: 100 })];

function expectOrderState(error: Error, clientOrderId: string, state: string, expected?: readonly string[]): void {
  expect(error).toBeInstanceOf(OrderStateError);
  expect(error).toMatchObject({ code: 'ORDER_STATE', clientOrderId, state, ...(expected === undefined ? {} : { expected }) });
}

describe('RequestOrder', () => {
  describe('the client order id', () => {
    it('is pt + the SHA-256 of book, key and attempt cut to fit + -attempt, at most 36 characters by default', () => {
      const hash = createHash('sha256').update('main\u0000sig-1\u00001').digest('hex');
      expect(cid('sig-1')).toBe(`pt${hash.slice(0, 32)}-1`);
      expect(cid('sig-1')).toHaveLength(36);
      expect(cid('sig-1', 1, 16)).toHaveLength(16);
      expect(cid('sig-1', 12, 16)).toMatch(/^pt[0-9a-f]{11}-12$/);
    });

    it('is the same for the same inputs and differs by book, key and attempt', () => {
      const ids = [cid('k'), cid('k', 2), cid('k2'), cid('k', 1, 36, 'other')];
      expect(new Set(ids).size).toBe(4);
      expect(cid('k')).toBe(clientOrderIdFor('main', 'k', 1, 36, 1));
    });

    it('follows clientOrderIdMaxLength and the book the context names', () => {
      deciderSpec({ now: NOW, policy: { clientOrderIdMaxLength: 20 }, bookId: 'bot-7' })
        .given(watchingBtc)
        .when(entry('A'))
        .then([orderRequested('s-A', 'A', { signalId: 's-A', referencePrice: 100, clientOrderId: cid('s-A', 1, 20, 'bot-7') })]);
      expect(cid('s-A', 1, 20, 'bot-7')).toHaveLength(20);
    });

    it('refuses clientOrderIdMaxLength outside 16..64', () => {
      expect(() => deciderSpec({ policy: { clientOrderIdMaxLength: 12 } })).toThrow(/clientOrderIdMaxLength|16/);
    });
  });

  describe('when the position is WATCHING', () => {
    it('requests an entry buy keyed by the signal id, with the risk judged at the reference price', () => {
      spec
        .given(watchingBtc)
        .when(entry('A', { stop: 90 }))
        .then([orderRequested('s-A', 'A', { signalId: 's-A', referencePrice: 100, stop: 90 })]);
    });

    it('keys an order without a signal by its command id, and takes a limit price', () => {
      spec
        .given(watchingBtc)
        .when({ type: 'RequestOrder', commandId: 'c-1', positionId: 'A', intent: 'entry', quantity: 2, orderType: 'limit', limitPrice: 95 })
        .then([orderRequested('c-1', 'A', { quantity: 2, orderType: 'limit', limitPrice: 95 })]);
    });

    it('refuses an order with neither a signal id nor a command id, naming both', () => {
      const error = spec
        .given(watchingBtc)
        .when(entry('A', { signalId: undefined }))
        .thenThrows(ValidationError, /needs a signalId or a commandId/);
      expect((error as ValidationError).issues.map((i) => i.path)).toEqual(['signalId', 'commandId']);
    });

    it('refuses an entry market order without a reference price, and a limit order without a limit price', () => {
      spec
        .given(watchingBtc)
        .when(entry('A', { referencePrice: undefined }))
        .thenThrows(ValidationError, /needs a limitPrice or a referencePrice/);
      spec
        .given(watchingBtc)
        .when(entry('A', { orderType: 'limit' }))
        .thenThrows(ValidationError, /limit order needs a limitPrice/);
    });

    it("refuses a symbol or side that is not the position's", () => {
      spec
        .given(watchingBtc)
        .when(entry('A', { symbol: 'ETH' }))
        .thenThrows(ValidationError, /symbol ETH is not the position's \(BTC\)/);
      spec
        .given(watchingBtc)
        .when(entry('A', { side: 'short' }))
        .thenThrows(ValidationError, /side short is not the position's \(long\)/);
    });

    it('refuses a reduce order: there is nothing to reduce', () => {
      const error = spec
        .given(watchingBtc)
        .when(reduce('A', 1))
        .thenThrows(InvalidTransitionError, /cannot order for "A": it is WATCHING, expected IN \(enter it first\)/);
      expect(error).toMatchObject({ positionId: 'A', state: 'WATCHING', expected: ['IN'] });
    });

    it('runs the entry risk rules: the breaker refuses it', () => {
      const error = spec
        .given([...watchingBtc, breakerTripped()])
        .when(entry('A'))
        .thenThrows(Error, /cannot order an entry for "A": rule circuitBreaker/);
      expectRiskLimit(error, 'circuitBreaker', 'until reset', 'tripped');
    });

    it('runs the entry risk rules: dust is quantity x price', () => {
      const error = deciderSpec({ now: NOW, policy: { minPositionValue: 500 } })
        .given(watchingBtc)
        .when(entry('A', { quantity: 4 }))
        .thenThrows(Error, /rule minPositionValue: value 400 is below the minimum 500/);
      expectRiskLimit(error, 'minPositionValue', 500, 400);
    });
  });

  describe('when the position is unknown', () => {
    it('tracks it in the same batch (symbol and side given, group from the policy), then requests the order', () => {
      deciderSpec({ now: NOW, policy: { correlationGroups: { crypto: ['BTC'] }, maxGroupRiskPct: null } })
        .given([])
        .when(entry('N', { symbol: 'BTC', side: 'short' }))
        .then([
          { type: 'PositionTracked', data: { positionId: 'N', symbol: 'BTC', side: 'short', group: 'crypto', source: 'local' } },
          orderRequested('s-N', 'N', { signalId: 's-N', side: 'sell', referencePrice: 100 }),
        ]);
    });

    it('refuses it without a symbol', () => {
      spec
        .given([])
        .when(entry('N'))
        .thenThrows(ValidationError, /an order needs a symbol/);
    });

    it('refuses a finished position: archive it first', () => {
      const error = spec
        .given([...inBtc, exited('A', { symbol: 'BTC', value: 1000, costBasis: 1000, realizedPnl: 0 })])
        .when(entry('A'))
        .thenThrows(InvalidTransitionError, /it is EXITED, expected unknown or archived or WATCHING or IN/);
      expect(error).toMatchObject({ state: 'EXITED' });
    });
  });

  describe('when the position is IN', () => {
    it('grows it: only the breaker, the cooldown and the risk caps apply (a full book does not refuse it)', () => {
      deciderSpec({ now: NOW, policy: { maxPositions: 1 } })
        .given(inBtc)
        .when(entry('A', { quantity: 5 }))
        .then([orderRequested('s-A', 'A', { signalId: 's-A', quantity: 5, referencePrice: 100 })]);
      spec
        .given([...inBtc, breakerTripped()])
        .when(entry('A'))
        .thenThrows(Error, /rule circuitBreaker/);
    });

    it('requests a reduce-only sell of a long (a buy of a short), never refused by the breaker', () => {
      spec
        .given([...inBtc, breakerTripped()])
        .when(reduce('A', 4))
        .then([orderRequested('r-A-4', 'A', { side: 'sell', intent: 'reduce', quantity: 4 })]);
      spec
        .given([tracked('S', { symbol: 'BTC', side: 'short' }), entered('S', { symbol: 'BTC', side: 'short', value: 1000, quantity: 10 })])
        .when(reduce('S', 10))
        .then([orderRequested('r-S-10', 'S', { side: 'buy', intent: 'reduce', quantity: 10 })]);
    });

    it('refuses a reduce beyond the open quantity minus what live reduce orders already close', () => {
      spec
        .given(inBtc)
        .when(reduce('A', 11))
        .thenThrows(ValidationError, /reduce 11: 10 is open, so at most 10/);
      spec
        .given([...inBtc, requested('o1', 'A', { intent: 'reduce', side: 'sell', quantity: 6 }), filled('o1', 't1', 2, 100)])
        .when(reduce('A', 7))
        .thenThrows(ValidationError, /reduce 7: 10 is open and live reduce orders \(o1\) already close 4, so at most 6/);
    });

    it('refuses a reduce order of a position whose quantity is unknown', () => {
      spec
        .given([tracked('V', { symbol: 'BTC' }), entered('V', { symbol: 'BTC', value: 1000 })])
        .when(reduce('V', 1))
        .thenThrows(ValidationError, /quantity, which is unknown/);
    });
  });

  describe('live entry orders hold their positions, symbols and risk back', () => {
    const twoCaps = deciderSpec({
      now: NOW,
      policy: { maxPositions: 1, correlationGroups: { crypto: ['BTC', 'ETH'] }, maxGroupRiskPct: 10 },
    });

    it('a WATCHING position with a live entry order counts toward maxPositions', () => {
      const error = twoCaps
        .given([...watchingBtc, requested('o1', 'A'), tracked('B', { symbol: 'ETH' })])
        .when(entry('B', { quantity: 1 }))
        .thenThrows(Error, /0 positions are IN and 1 more are reserved by live entry orders, the limit is 1/);
      expectRiskLimit(error, 'maxPositions', 1, 1);
    });

    it('and toward the duplicate symbol rule, for Enter as well', () => {
      const given = [...watchingBtc, requested('o1', 'A'), tracked('B', { symbol: 'BTC' })];
      spec
        .given(given)
        .when(entry('B'))
        .thenThrows(Error, /BTC is already IN or ordered by a live entry order/);
      spec
        .given(given)
        .when({ type: 'Enter', positionId: 'B', value: 100 })
        .thenThrows(Error, /cannot enter "B": rule duplicateSymbol/);
    });

    it("and toward its group's risk, by the unfilled part of the order", () => {
      // 600 of crypto risk held by o1 (10 x 100 - 4 filled); +500 for B would be 11% of 10,000.
      const error = deciderSpec({ now: NOW, policy: { correlationGroups: { crypto: ['BTC', 'ETH'] }, maxGroupRiskPct: 10 } })
        .given([...watchingBtc, requested('o1', 'A', { quantity: 10 }), tracked('B', { symbol: 'ETH', group: 'crypto' })])
        .when(entry('B', { quantity: 5 }))
        .thenThrows(Error, /group "crypto" would have 15.00% of equity at risk \(open 0.00% \+ live entry orders 10.00% \+ this 5.00%\)/);
      expectRiskLimit(error, 'maxGroupRiskPct', 10, 15);
    });

    it('an order finished without a fill holds nothing back', () => {
      twoCaps
        .given([...watchingBtc, requested('o1', 'A'), rejected('o1'), tracked('B', { symbol: 'ETH' })])
        .when(entry('B', { quantity: 1 }))
        .then([
          // The book's second order: its number is 2 whatever became of the first.
          orderRequested('s-B', 'B', {
            signalId: 's-B',
            symbol: 'ETH',
            quantity: 1,
            referencePrice: 100,
            clientOrderId: cid('s-B', 1, 36, 'main', 2),
          }),
        ]);
    });
  });

  describe('attempts and signals', () => {
    const first = requested(cid('s-A'), 'A', { orderKey: 's-A', signalId: 's-A' }, secondsFrom(-60));

    it('refuses a signal whose order is live, naming it and when it was processed', () => {
      const error = spec
        .given([...watchingBtc, first])
        .when(entry('A', { commandId: 'another' }))
        .thenThrows(
          DuplicateSignalError,
          new RegExp(`signal "s-A" was already processed at ${iso(secondsFrom(-60))} as order "${cid('s-A')}".*it is PENDING_SUBMIT`),
        );
      expect(error).toMatchObject({ signalId: 's-A', clientOrderId: cid('s-A'), processedAt: iso(secondsFrom(-60)), code: 'ORDER_STATE' });
    });

    it('refuses a signal whose order filled, even finished', () => {
      spec
        .given([...watchingBtc, first, filled(cid('s-A'), 't1', 4, 100), canceled(cid('s-A'), 4)])
        .when(entry('A'))
        .thenThrows(DuplicateSignalError, /it filled 4 of 10/);
    });

    it('allows a new attempt, with a new client order id, when every earlier one finished without a fill', () => {
      spec
        .given([
          ...watchingBtc,
          first,
          rejected(cid('s-A')),
          requested(cid('s-A', 2), 'A', { orderKey: 's-A', signalId: 's-A', attempt: 2 }),
          expired(cid('s-A', 2)),
        ])
        .when(entry('A'))
        .then([orderRequested('s-A', 'A', { signalId: 's-A', attempt: 3, clientOrderId: cid('s-A', 3), referencePrice: 100 })]);
    });

    it('refuses a signal remembered after its position was archived', () => {
      spec
        .given([
          ...watchingBtc,
          first,
          rejected(cid('s-A')),
          { type: 'PositionArchived', data: { positionId: 'A', from: 'WATCHING', reason: 'manual', source: 'local' } },
          ...watchingBtc,
        ])
        .when(entry('A'))
        .thenThrows(DuplicateSignalError, /its position has been archived since/);
    });

    it('refuses a second order of a command-id key whose first is live', () => {
      const error = spec
        .given([...watchingBtc, requested(cid('c-1'), 'A', { orderKey: 'c-1' })])
        .when(entry('A', { signalId: undefined, commandId: 'c-1' }))
        .thenThrows(OrderStateError, /order key "c-1" already has order/);
      expect(error).not.toBeInstanceOf(DuplicateSignalError);
    });
  });

  it('is refused while a manual recovery waits; what the venue reports is still recorded', () => {
    const waiting: GivenEvent[] = [
      ...watchingBtc,
      requested('o1', 'A'),
      { type: 'RecoveryRequired', data: { mode: 'manual', reason: 'operator', source: 'local' } },
    ];
    spec
      .given(waiting)
      .when(entry('A'))
      .thenThrows(RecoveryPendingError, /cannot order for "A": the book waits for an operator/);
    spec
      .given(waiting)
      .when({ type: 'RecordOrderAccepted', clientOrderId: 'o1', externalOrderId: 'X' })
      .then([{ type: 'OrderAccepted', data: { clientOrderId: 'o1', externalOrderId: 'X', source: 'local' } }]);
    spec
      .given(waiting)
      .when({ type: 'CancelOrder', clientOrderId: 'o1' })
      .then([{ type: 'OrderCancelRequested', data: { clientOrderId: 'o1', source: 'local' } }]);
  });
});

/** An order of the position A (entry buy of 10 BTC) in the state named by `describe`. */
const pendingSubmit = [...watchingBtc, requested('o1', 'A')];
const open = [...pendingSubmit, accepted('o1', 'X1')];
/** Its first fill, with the PositionEntered the decider wrote beside it. */
const partiallyFilled = [...open, filled('o1', 't1', 4, 100), entered('A', { symbol: 'BTC', value: 400, quantity: 4, price: 100 })];
const fill = (tradeId: string, quantity: number, price: number, fee = 0): CommandInput => ({
  type: 'RecordFill',
  clientOrderId: 'o1',
  tradeId,
  quantity,
  price,
  fee,
});
const orderFilled = (tradeId: string, quantity: number, price: number, fee = 0): DecidedEvent => ({
  type: 'OrderFilled',
  data: { clientOrderId: 'o1', tradeId, quantity, price, fee, inferred: false, source: 'local' },
});
const enteredBy = (quantity: number, price: number): DecidedEvent => ({
  type: 'PositionEntered',
  data: { positionId: 'A', symbol: 'BTC', side: 'long', value: quantity * price, quantity, price, source: 'local' },
});
const increasedBy = (quantity: number, price: number): DecidedEvent => ({
  type: 'PositionIncreased',
  data: { positionId: 'A', quantity, value: quantity * price, price, source: 'local' },
});

describe('when the order is PENDING_SUBMIT', () => {
  it('records the acceptance with the venue id', () => {
    spec
      .given(pendingSubmit)
      .when({ type: 'RecordOrderAccepted', clientOrderId: 'o1', externalOrderId: 'X1' })
      .then([{ type: 'OrderAccepted', data: { clientOrderId: 'o1', externalOrderId: 'X1', source: 'local' } }]);
  });

  it('records a rejection', () => {
    spec
      .given(pendingSubmit)
      .when({ type: 'RecordOrderRejected', clientOrderId: 'o1', reason: 'no margin' })
      .then([{ type: 'OrderRejected', data: { clientOrderId: 'o1', reason: 'no margin', source: 'local' } }]);
  });

  it('records a fill reported before the order status: the position is entered, with the order stop', () => {
    spec
      .given([...watchingBtc, requested('o1', 'A', { stop: 90 })])
      .when({ ...fill('t1', 10, 101), inferred: true, filledAt: iso(secondsFrom(-1)) } as CommandInput)
      .then([
        {
          type: 'OrderFilled',
          data: {
            clientOrderId: 'o1',
            tradeId: 't1',
            quantity: 10,
            price: 101,
            fee: 0,
            inferred: true,
            filledAt: iso(secondsFrom(-1)),
            source: 'local',
          },
        },
        {
          type: 'PositionEntered',
          data: { positionId: 'A', symbol: 'BTC', side: 'long', value: 1010, quantity: 10, price: 101, stop: 90, source: 'local' },
        },
      ]);
  });

  it('requests a cancel', () => {
    spec
      .given(pendingSubmit)
      .when({ type: 'CancelOrder', clientOrderId: 'o1', reason: 'stale' })
      .then([{ type: 'OrderCancelRequested', data: { clientOrderId: 'o1', reason: 'stale', source: 'local' } }]);
  });

  it('records a cancel or an expiry with nothing filled', () => {
    spec
      .given(pendingSubmit)
      .when({ type: 'RecordOrderCanceled', clientOrderId: 'o1' })
      .then([{ type: 'OrderCanceled', data: { clientOrderId: 'o1', filledQuantity: 0, source: 'local' } }]);
    spec
      .given(pendingSubmit)
      .when({ type: 'RecordOrderExpired', clientOrderId: 'o1' })
      .then([{ type: 'OrderExpired', data: { clientOrderId: 'o1', filledQuantity: 0, source: 'local' } }]);
  });

  it('resolves a lost order as REJECTED', () => {
    spec
      .given(pendingSubmit)
      .when({ type: 'RecordOrderLost', clientOrderId: 'o1', looks: 3, reason: 'not found' })
      .then([{ type: 'OrderLost', data: { clientOrderId: 'o1', looks: 3, resolution: 'REJECTED', reason: 'not found', source: 'local' } }]);
  });
});

describe('when the order is OPEN', () => {
  it('takes the same acceptance again as nothing new, and refuses another venue id', () => {
    spec.given(open).when({ type: 'RecordOrderAccepted', clientOrderId: 'o1', externalOrderId: 'X1' }).thenNothingHappened();
    const error = spec
      .given(open)
      .when({ type: 'RecordOrderAccepted', clientOrderId: 'o1', externalOrderId: 'X2' })
      .thenThrows(OrderStateError, /as "X2": the venue already named it "X1"/);
    expectOrderState(error, 'o1', 'OPEN');
  });

  it('refuses a rejection: the venue accepted it', () => {
    const error = spec
      .given(open)
      .when({ type: 'RecordOrderRejected', clientOrderId: 'o1', reason: 'x' })
      .thenThrows(
        OrderStateError,
        /^cannot record the rejection of order "o1" \(entry buy 10 BTC for "A"\): it is OPEN, expected PENDING_SUBMIT or PENDING_CANCEL \(the venue accepted it or filled it: record a cancel instead\)$/,
      );
    expectOrderState(error, 'o1', 'OPEN', ['PENDING_SUBMIT', 'PENDING_CANCEL']);
  });

  it('records a partial fill: the position is entered with what filled', () => {
    spec
      .given(open)
      .when(fill('t1', 4, 100, 0.5))
      .then([orderFilled('t1', 4, 100, 0.5), enteredBy(4, 100)]);
  });

  it('refuses fills beyond its quantity, naming both', () => {
    const error = spec
      .given(open)
      .when(fill('t1', 10.5, 100))
      .thenThrows(OrderStateError, /trade "t1" of 10.5 would take its fills to 10.5, beyond its quantity 10 \(0 filled already/);
    expectOrderState(error, 'o1', 'OPEN');
  });

  it('requests a cancel, and resolves a lost order as REJECTED', () => {
    spec
      .given(open)
      .when({ type: 'CancelOrder', clientOrderId: 'o1' })
      .then([{ type: 'OrderCancelRequested', data: { clientOrderId: 'o1', source: 'local' } }]);
    spec
      .given(open)
      .when({ type: 'RecordOrderLost', clientOrderId: 'o1', looks: 2, reason: 'gone' })
      .then([{ type: 'OrderLost', data: { clientOrderId: 'o1', looks: 2, resolution: 'REJECTED', reason: 'gone', source: 'local' } }]);
  });
});

describe('when the order is PARTIALLY_FILLED', () => {
  it('takes a repeated trade id as nothing new (not an error)', () => {
    spec
      .given(partiallyFilled)
      .when(fill('t1', 4, 100))
      .thenNothingHappened();
  });

  it('records the next fill: the IN position grows', () => {
    spec
      .given(partiallyFilled)
      .when(fill('t2', 6, 110))
      .then([orderFilled('t2', 6, 110), increasedBy(6, 110)]);
  });

  it('allows the last fill up to a tiny tolerance, and refuses beyond it', () => {
    spec
      .given(partiallyFilled)
      .when(fill('t2', 6.000000001, 100))
      .then([orderFilled('t2', 6.000000001, 100), increasedBy(6.000000001, 100)]);
    spec
      .given(partiallyFilled)
      .when(fill('t2', 6.001, 100))
      .thenThrows(OrderStateError, /beyond its quantity 10 \(4 filled already/);
  });

  it('resolves a lost order as CANCELED, keeping its fills', () => {
    spec
      .given(partiallyFilled)
      .when({ type: 'RecordOrderLost', clientOrderId: 'o1', looks: 3, reason: 'gone' })
      .then([{ type: 'OrderLost', data: { clientOrderId: 'o1', looks: 3, resolution: 'CANCELED', reason: 'gone', source: 'local' } }]);
  });

  it('records a cancel with what filled', () => {
    spec
      .given(partiallyFilled)
      .when({ type: 'RecordOrderCanceled', clientOrderId: 'o1', reason: 'by user' })
      .then([{ type: 'OrderCanceled', data: { clientOrderId: 'o1', filledQuantity: 4, reason: 'by user', source: 'local' } }]);
  });

  it('refuses a rejection', () => {
    spec
      .given(partiallyFilled)
      .when({ type: 'RecordOrderRejected', clientOrderId: 'o1', reason: 'x' })
      .thenThrows(OrderStateError, /it is PARTIALLY_FILLED/);
  });
});

describe('when the order is PENDING_CANCEL', () => {
  const beforeAck = [...pendingSubmit, cancelRequested('o1')];
  const afterAck = [...open, cancelRequested('o1')];

  it('records an acceptance that arrives after the cancel was requested', () => {
    spec
      .given(beforeAck)
      .when({ type: 'RecordOrderAccepted', clientOrderId: 'o1', externalOrderId: 'X1' })
      .then([{ type: 'OrderAccepted', data: { clientOrderId: 'o1', externalOrderId: 'X1', source: 'local' } }]);
  });

  it('records a rejection only if the venue never accepted it and nothing filled', () => {
    spec
      .given(beforeAck)
      .when({ type: 'RecordOrderRejected', clientOrderId: 'o1', reason: 'x' })
      .then([{ type: 'OrderRejected', data: { clientOrderId: 'o1', reason: 'x', source: 'local' } }]);
    spec
      .given(afterAck)
      .when({ type: 'RecordOrderRejected', clientOrderId: 'o1', reason: 'x' })
      .thenThrows(OrderStateError, /record a cancel instead/);
  });

  it('records a fill that landed before the cancel', () => {
    spec
      .given(afterAck)
      .when(fill('t1', 3, 100))
      .then([orderFilled('t1', 3, 100), enteredBy(3, 100)]);
  });

  it('refuses a second cancel request', () => {
    const error = spec
      .given(afterAck)
      .when({ type: 'CancelOrder', clientOrderId: 'o1' })
      .thenThrows(
        OrderStateError,
        /it is PENDING_CANCEL, expected PENDING_SUBMIT or OPEN or PARTIALLY_FILLED \(a cancel is pending: wait for the venue's answer\)/,
      );
    expectOrderState(error, 'o1', 'PENDING_CANCEL', ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED']);
  });

  it('records the cancel and an expiry', () => {
    spec
      .given(afterAck)
      .when({ type: 'RecordOrderCanceled', clientOrderId: 'o1' })
      .then([{ type: 'OrderCanceled', data: { clientOrderId: 'o1', filledQuantity: 0, source: 'local' } }]);
    spec
      .given(afterAck)
      .when({ type: 'RecordOrderExpired', clientOrderId: 'o1' })
      .then([{ type: 'OrderExpired', data: { clientOrderId: 'o1', filledQuantity: 0, source: 'local' } }]);
  });

  it('refuses to resolve it as lost: it stays unresolved until a look answers', () => {
    spec
      .given(afterAck)
      .when({ type: 'RecordOrderLost', clientOrderId: 'o1', looks: 3, reason: 'x' })
      .thenThrows(OrderStateError, /a cancel is pending: it stays unresolved until a look answers/);
  });
});

describe('when the order is FILLED', () => {
  const done = [...partiallyFilled, filled('o1', 't2', 6, 100)];

  it('takes a repeated trade id as nothing new, and refuses any more', () => {
    spec
      .given(done)
      .when(fill('t2', 6, 100))
      .thenNothingHappened();
    spec
      .given(done)
      .when(fill('t3', 1, 100))
      .thenThrows(OrderStateError, /would take its fills to 11, beyond its quantity 10/);
  });

  it('refuses a cancel, a canceled, an expiry and a rejection', () => {
    spec
      .given(done)
      .when({ type: 'CancelOrder', clientOrderId: 'o1' })
      .thenThrows(OrderStateError, /it is FILLED.*every unit filled/);
    spec
      .given(done)
      .when({ type: 'RecordOrderCanceled', clientOrderId: 'o1' })
      .thenThrows(OrderStateError, /it is FILLED, expected PENDING_SUBMIT or OPEN or PARTIALLY_FILLED or PENDING_CANCEL/);
    spec
      .given(done)
      .when({ type: 'RecordOrderExpired', clientOrderId: 'o1' })
      .thenThrows(OrderStateError, /it is FILLED/);
    spec
      .given(done)
      .when({ type: 'RecordOrderRejected', clientOrderId: 'o1', reason: 'x' })
      .thenThrows(OrderStateError, /it is FILLED/);
  });

  it('is not lost when the venue no longer lists it', () => {
    spec
      .given(done)
      .when({ type: 'RecordOrderLost', clientOrderId: 'o1', looks: 3, reason: 'x' })
      .thenThrows(OrderStateError, /venues drop finished orders: a filled order is not lost/);
  });

  it('records a late acceptance of an order filled before its status came', () => {
    spec
      .given([...pendingSubmit, filled('o1', 't1', 10, 100)])
      .when({ type: 'RecordOrderAccepted', clientOrderId: 'o1', externalOrderId: 'X9' })
      .then([{ type: 'OrderAccepted', data: { clientOrderId: 'o1', externalOrderId: 'X9', source: 'local' } }]);
  });
});

describe('when the order is CANCELED or EXPIRED', () => {
  for (const [name, finish] of [
    ['CANCELED', canceled('o1', 4)],
    ['EXPIRED', expired('o1', 4)],
  ] as const) {
    it(`${name}: records a late fill (the position grows), and refuses a cancel, another finish and a loss`, () => {
      const given = [...partiallyFilled, finish];
      spec
        .given(given)
        .when(fill('t2', 1, 100))
        .then([orderFilled('t2', 1, 100), increasedBy(1, 100)]);
      spec
        .given(given)
        .when({ type: 'CancelOrder', clientOrderId: 'o1' })
        .thenThrows(OrderStateError, new RegExp(`it is ${name}.*it is finished: request a new order`));
      spec
        .given(given)
        .when({ type: 'RecordOrderCanceled', clientOrderId: 'o1' })
        .thenThrows(OrderStateError, new RegExp(`it is ${name}`));
      spec
        .given(given)
        .when({ type: 'RecordOrderLost', clientOrderId: 'o1', looks: 3, reason: 'x' })
        .thenThrows(OrderStateError, /it is finished already: nothing to resolve/);
    });
  }
});

describe('when the order is REJECTED', () => {
  const refused = [...pendingSubmit, rejected('o1')];

  it('refuses a fill and an acceptance', () => {
    spec
      .given(refused)
      .when(fill('t1', 1, 100))
      .thenThrows(OrderStateError, /it is REJECTED.*it was refused: request a new order/);
    spec
      .given(refused)
      .when({ type: 'RecordOrderAccepted', clientOrderId: 'o1', externalOrderId: 'X' })
      .thenThrows(OrderStateError, /an acceptance contradicts it/);
  });
});

describe('when the book has no such order', () => {
  it.each([
    { type: 'RecordOrderAccepted', clientOrderId: 'nope', externalOrderId: 'X' },
    { type: 'RecordOrderRejected', clientOrderId: 'nope', reason: 'x' },
    { type: 'RecordFill', clientOrderId: 'nope', tradeId: 't', quantity: 1, price: 1 },
    { type: 'CancelOrder', clientOrderId: 'nope' },
    { type: 'RecordOrderCanceled', clientOrderId: 'nope' },
    { type: 'RecordOrderExpired', clientOrderId: 'nope' },
    { type: 'RecordOrderLost', clientOrderId: 'nope', looks: 1, reason: 'x' },
  ] as CommandInput[])('refuses $type', (command) => {
    const error = spec
      .given(watchingBtc)
      .when(command)
      .thenThrows(OrderStateError, /"nope": the book has no such order/);
    expectOrderState(error, 'nope', 'UNKNOWN');
  });

  it('refuses ids with control characters at the boundary', () => {
    spec
      .given([])
      .when({ type: 'CancelOrder', clientOrderId: 'a\u001bb' })
      .thenThrows(ValidationError, /control characters/);
    spec
      .given([])
      .when({ type: 'RecordFill', clientOrderId: 'o1', tradeId: 't\u0007', quantity: 1, price: 1 })
      .thenThrows(ValidationError, /tradeId/);
  });
});

describe('reduce fills close the position through the exit rules', () => {
  const reducing = (quantity: number) => [...inBtc, requested('o1', 'A', { intent: 'reduce', side: 'sell', quantity })];

  it('a partial fill exits its share: cost basis by fraction, P&L from the prices minus the fee', () => {
    spec
      .given(reducing(4))
      .when(fill('t1', 4, 110, 2))
      .then([
        orderFilled('t1', 4, 110, 2),
        {
          type: 'PositionExited',
          data: {
            positionId: 'A',
            side: 'long',
            fraction: 0.4,
            value: 440,
            costBasis: 400,
            realizedPnl: 38,
            full: false,
            symbol: 'BTC',
            quantity: 4,
            price: 110,
            reason: 'fill t1 of order o1',
            source: 'local',
          },
        },
      ]);
  });

  it('the last fill exits it fully, with the cooldown a full exit starts', () => {
    deciderSpec({ now: NOW, policy: { cooldownSeconds: 60 } })
      .given(reducing(10))
      .when(fill('t1', 10, 100))
      .then([
        orderFilled('t1', 10, 100),
        {
          type: 'PositionExited',
          data: {
            positionId: 'A',
            side: 'long',
            fraction: 1,
            value: 1000,
            costBasis: 1000,
            realizedPnl: 0,
            full: true,
            symbol: 'BTC',
            quantity: 10,
            price: 100,
            reason: 'fill t1 of order o1',
            source: 'local',
          },
        },
        { type: 'CooldownStarted', data: { symbol: 'BTC', until: iso(secondsFrom(60)), reason: 'exit of A', source: 'local' } },
      ]);
  });

  it('a losing fill trips the daily-loss breaker like an Exit', () => {
    spec
      .given(reducing(10))
      .when(fill('t1', 10, 40))
      .then([
        orderFilled('t1', 10, 40),
        {
          type: 'PositionExited',
          data: {
            positionId: 'A',
            side: 'long',
            fraction: 1,
            value: 400,
            costBasis: 1000,
            realizedPnl: -600,
            full: true,
            symbol: 'BTC',
            quantity: 10,
            price: 40,
            reason: 'fill t1 of order o1',
            source: 'local',
          },
        },
        {
          type: 'CircuitBreakerTripped',
          data: {
            trigger: 'daily_loss',
            reason: 'daily realized loss 600 reached the limit 500 (5.00% of equity)',
            until: iso(secondsFrom(86_400)),
            dailyPnl: -600,
            limit: -500,
            source: 'local',
          },
        },
      ]);
  });

  it('a reduce fill of a position no longer IN records the fill only', () => {
    spec
      .given([...reducing(10), exited('A', { symbol: 'BTC', value: 1000, costBasis: 1000, realizedPnl: 0 })])
      .when(fill('t1', 10, 100))
      .then([orderFilled('t1', 10, 100)]);
  });
});

describe('positions with a live order', () => {
  const live = [...watchingBtc, requested('o1', 'A')];

  it('refuse Skip and a manual Archive: cancel the order first', () => {
    const error = spec
      .given(live)
      .when({ type: 'Skip', positionId: 'A' })
      .thenThrows(OrderStateError, /cannot skip "A": its order "o1" is PENDING_SUBMIT and may still fill \(cancel it first/);
    expectOrderState(error, 'o1', 'PENDING_SUBMIT');
    spec
      .given(live)
      .when({ type: 'Archive', positionId: 'A' })
      .thenThrows(OrderStateError, /cannot archive "A": its order "o1"/);
  });

  it('are not archived by timeout while the order is live, and are once it finished', () => {
    const timeouts = deciderSpec({ now: NOW, policy: { watchTimeoutSeconds: 60 } });
    timeouts
      .given([tracked('A', { symbol: 'BTC' }, secondsFrom(-120)), requested('o1', 'A')])
      .when({ type: 'Archive' })
      .thenNothingHappened();
    timeouts
      .given([tracked('A', { symbol: 'BTC' }, secondsFrom(-120)), requested('o1', 'A'), rejected('o1')])
      .when({ type: 'Archive' })
      .then([{ type: 'PositionArchived', data: { positionId: 'A', from: 'WATCHING', reason: 'timeout', source: 'local' } }]);
  });

  it('still allow Exit', () => {
    spec
      .given([...inBtc, requested('o1', 'A', { intent: 'reduce', side: 'sell', quantity: 5 })])
      .when({ type: 'Exit', positionId: 'A', value: 1000 })
      .then([
        {
          type: 'PositionExited',
          data: {
            positionId: 'A',
            side: 'long',
            fraction: 1,
            value: 1000,
            costBasis: 1000,
            realizedPnl: 0,
            full: true,
            symbol: 'BTC',
            quantity: 10,
            source: 'local',
          },
        },
      ]);
  });

  it('Skip is allowed again once the order finished', () => {
    spec
      .given([...live, canceled('o1')])
      .when({ type: 'Skip', positionId: 'A' })
      .then([{ type: 'PositionSkipped', data: { positionId: 'A', source: 'local' } }]);
  });
});
