import { describe, expect, it } from 'vitest';
import { clientOrderIdFor, type CommandInput, type DecidedEvent } from '../../src/commands/index.js';
import { DuplicateSignalError, OrderStateError, ValidationError } from '../../src/errors/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, entered, exited, tracked } from './fixtures.js';
import { accepted, requested } from './orderFixtures.js';

/*
 * RequestOrder's refusals word for word (a ValidationError names the field, the value and what was
 * expected), the reduce-only bound counted from the live reduce orders of the same position only,
 * what an order records, and what a fill does to a position that moved meanwhile.
 */

const spec = deciderSpec({ now: NOW });
const cid = (key: string, attempt = 1): string => clientOrderIdFor('main', key, attempt, 36, attempt);
const entry = (over: Record<string, unknown> = {}): CommandInput =>
  ({
    type: 'RequestOrder',
    commandId: 'c-1',
    positionId: 'BTC-1',
    intent: 'entry',
    quantity: 2,
    referencePrice: 100,
    ...over,
  }) as CommandInput;
const reduce = (quantity: number, commandId = 'r-new'): CommandInput => ({
  type: 'RequestOrder',
  commandId,
  positionId: 'BTC-1',
  intent: 'reduce',
  quantity,
});
/** The OrderFilled of trade T1 at 100. */
const orderFilled = (clientOrderId: string, quantity: number) => ({
  type: 'OrderFilled' as const,
  data: { clientOrderId, tradeId: 'T1', quantity, price: 100, fee: 0, inferred: false, source: 'local' as const },
});
/** The OrderRequested of entry(): 2 BTC for BTC-1 at a reference price of 100, with `extra` fields. */
const entryRequested = (extra: Record<string, unknown> = {}) =>
  ({
    type: 'OrderRequested',
    data: {
      clientOrderId: cid('c-1'),
      orderKey: 'c-1',
      attempt: 1,
      positionId: 'BTC-1',
      symbol: 'BTC',
      side: 'buy',
      intent: 'entry',
      orderType: 'market',
      quantity: 2,
      referencePrice: 100,
      ...extra,
      source: 'local',
    },
  }) as DecidedEvent;
const watching = [tracked('BTC-1', { symbol: 'BTC' })];
const holding = [...watching, entered('BTC-1', { symbol: 'BTC', value: 1000, quantity: 10 })];

function invalid(history: GivenEvent[], command: CommandInput, message: string, issues: unknown[]): void {
  const error = spec.given(history).when(command).thenThrows(ValidationError);
  expect(error.message).toBe(message);
  expect((error as ValidationError).issues).toStrictEqual(issues);
}

describe('RequestOrder refused before anything is decided', () => {
  it('without a signalId or a commandId: nothing to derive its client order id from', () => {
    invalid(
      watching,
      entry({ commandId: undefined }),
      'cannot order for "BTC-1": an order needs a signalId or a commandId (its client order id is derived from one, so a retry finds the same order)',
      [
        { path: 'signalId', message: 'give a signalId or a commandId', value: undefined },
        { path: 'commandId', message: 'give a commandId or a signalId', value: undefined },
      ],
    );
  });

  it('without a symbol, when the position has none either', () => {
    invalid(
      [tracked('P-1', { side: 'long' })],
      entry({ positionId: 'P-1' }),
      'cannot order for "P-1": an order needs a symbol, and the position has none (give symbol)',
      [{ path: 'symbol', message: 'required: the position has no symbol', value: undefined }],
    );
  });

  it('with another symbol or side than the position’s (the same ones are fine)', () => {
    invalid(watching, entry({ symbol: 'ETH' }), 'cannot order for "BTC-1": symbol ETH is not the position\'s (BTC)', [
      { path: 'symbol', message: "the position's symbol is BTC", value: 'ETH' },
    ]);
    invalid(watching, entry({ side: 'short' }), 'cannot order for "BTC-1": side short is not the position\'s (long)', [
      { path: 'side', message: 'the position is long', value: 'short' },
    ]);
    spec
      .given(watching)
      .when(entry({ symbol: 'BTC', side: 'long' }))
      .then([entryRequested()]);
  });

  it('an entry without a price to judge its risk at', () => {
    invalid(
      watching,
      entry({ referencePrice: undefined }),
      'cannot order for "BTC-1": an entry order needs a limitPrice or a referencePrice (its risk is judged at it)',
      [{ path: 'referencePrice', message: 'required for an entry market order', value: undefined }],
    );
  });

  it('a second attempt of a key whose first order is live, naming the states an earlier attempt must be in', () => {
    const error = spec
      .given([...watching, requested(cid('c-1'), 'BTC-1', { orderKey: 'c-1', quantity: 2 })])
      .when(entry())
      .thenThrows(OrderStateError);
    expect(error).toMatchObject({ clientOrderId: cid('c-1'), state: 'PENDING_SUBMIT', expected: ['REJECTED', 'CANCELED', 'EXPIRED'] });
  });

  it('a signal remembered after its position was archived: a DuplicateSignalError naming the order and ARCHIVED', () => {
    const history: GivenEvent[] = [
      ...watching,
      requested(cid('s-1'), 'BTC-1', { orderKey: 's-1', signalId: 's-1', quantity: 2 }),
      { type: 'OrderRejected', data: { clientOrderId: cid('s-1'), reason: 'no margin', source: 'local' } },
      { type: 'PositionArchived', data: { positionId: 'BTC-1', from: 'WATCHING', reason: 'manual', source: 'local' } },
      ...watching,
    ];
    const error = spec
      .given(history)
      .when(entry({ signalId: 's-1' }))
      .thenThrows(DuplicateSignalError);
    expect(error).toMatchObject({ signalId: 's-1', clientOrderId: cid('s-1'), state: 'ARCHIVED' });
  });
});

describe('a new position an entry order tracks', () => {
  it('is tracked with the order’s symbol and side, in its correlation group when it has one', () => {
    const ordered = (symbol: string, group?: string) => [
      {
        type: 'PositionTracked' as const,
        data: { positionId: 'N-1', symbol, side: 'short' as const, ...(group === undefined ? {} : { group }), source: 'local' as const },
      },
      {
        type: 'OrderRequested' as const,
        data: {
          clientOrderId: cid('c-1'),
          orderKey: 'c-1',
          attempt: 1,
          positionId: 'N-1',
          symbol,
          side: 'sell' as const,
          intent: 'entry' as const,
          orderType: 'market' as const,
          quantity: 2,
          referencePrice: 100,
          source: 'local' as const,
        },
      },
    ];
    const grouped = deciderSpec({ now: NOW, policy: { correlationGroups: { majors: ['BTC'] } } });
    grouped
      .given([])
      .when(entry({ positionId: 'N-1', symbol: 'BTC', side: 'short' }))
      .then(ordered('BTC', 'majors'));
    grouped
      .given([])
      .when(entry({ positionId: 'N-1', symbol: 'DOGE', side: 'short' }))
      .then(ordered('DOGE'));
  });

  it('records the protection it asks for: the stop, the take-profit and the trailing stop', () => {
    spec
      .given(watching)
      .when(entry({ stop: 90, takeProfit: 130, trailingStop: { percent: 5 } }))
      .then([entryRequested({ stop: 90, takeProfit: 130, trailingStop: { percent: 5 } })]);
  });
});

describe('a reduce order is bounded by what is open less what live reduce orders of the same position close', () => {
  const others = [
    ...holding,
    // Counted: a live reduce order of this position (3 of 3 left).
    requested('r-1', 'BTC-1', { orderKey: 'k-r1', intent: 'reduce', side: 'sell', quantity: 3 }),
    // Not counted: a live entry order of this position, and a live reduce order of another one.
    requested('e-1', 'BTC-1', { orderKey: 'k-e1', quantity: 5 }),
    ...[tracked('ETH-1', { symbol: 'ETH' }), entered('ETH-1', { symbol: 'ETH', value: 1000, quantity: 10 })],
    requested('r-2', 'ETH-1', { orderKey: 'k-r2', intent: 'reduce', side: 'sell', symbol: 'ETH', quantity: 4 }),
  ];

  it('takes the room that is left', () => {
    const events = spec.given(others).when(reduce(7));
    events.then([
      {
        type: 'OrderRequested',
        data: {
          clientOrderId: clientOrderIdFor('main', 'r-new', 1, 36, 4),
          orderKey: 'r-new',
          attempt: 1,
          positionId: 'BTC-1',
          symbol: 'BTC',
          side: 'sell',
          intent: 'reduce',
          orderType: 'market',
          quantity: 7,
          source: 'local',
        },
      },
    ]);
  });

  it('refuses more, naming the live reduce orders and what is left', () => {
    invalid(
      others,
      reduce(8),
      'cannot order for "BTC-1": reduce 8: 10 is open and live reduce orders (r-1) already close 3, so at most 7',
      [{ path: 'quantity', message: 'at most 7', value: 8 }],
    );
    invalid(holding, reduce(11), 'cannot order for "BTC-1": reduce 11: 10 is open, so at most 10', [
      { path: 'quantity', message: 'at most 10', value: 11 },
    ]);
  });
});

describe('a fill for a position that moved meanwhile', () => {
  it('an entry fill after the position was skipped records the fill and nothing more', () => {
    const history: GivenEvent[] = [
      ...watching,
      requested('o1', 'BTC-1', { quantity: 2 }),
      accepted('o1', 'V-1'),
      { type: 'PositionSkipped', data: { positionId: 'BTC-1', reason: 'gone', source: 'local' } },
    ];
    spec
      .given(history)
      .when({ type: 'RecordFill', clientOrderId: 'o1', tradeId: 'T1', quantity: 2, price: 100 })
      .then([orderFilled('o1', 2)]);
  });

  it('an entry fill for a position exited meanwhile enters it again', () => {
    const history: GivenEvent[] = [
      ...holding,
      requested('o1', 'BTC-1', { quantity: 2 }),
      accepted('o1', 'V-1'),
      exited('BTC-1', { value: 1000, costBasis: 1000, realizedPnl: 0 }),
    ];
    spec
      .given(history)
      .when({ type: 'RecordFill', clientOrderId: 'o1', tradeId: 'T1', quantity: 2, price: 100 })
      .then([
        orderFilled('o1', 2),
        {
          type: 'PositionEntered',
          data: { positionId: 'BTC-1', symbol: 'BTC', side: 'long', value: 200, quantity: 2, price: 100, source: 'local' },
        },
      ]);
  });

  it('an entry fill for a position without a symbol enters it on the order’s symbol', () => {
    const history: GivenEvent[] = [tracked('P-1', { side: 'long' }), requested('o1', 'P-1', { quantity: 2 }), accepted('o1', 'V-1')];
    spec
      .given(history)
      .when({ type: 'RecordFill', clientOrderId: 'o1', tradeId: 'T1', quantity: 2, price: 100 })
      .then([
        orderFilled('o1', 2),
        {
          type: 'PositionEntered',
          data: { positionId: 'P-1', symbol: 'BTC', side: 'long', value: 200, quantity: 2, price: 100, source: 'local' },
        },
      ]);
  });

  it('a reduce fill after the position was exited by hand records the fill and nothing more', () => {
    const history: GivenEvent[] = [
      ...holding,
      requested('r-1', 'BTC-1', { intent: 'reduce', side: 'sell', quantity: 3 }),
      accepted('r-1', 'V-1'),
      exited('BTC-1', { value: 1000, costBasis: 1000, realizedPnl: 0 }),
    ];
    spec
      .given(history)
      .when({ type: 'RecordFill', clientOrderId: 'r-1', tradeId: 'T1', quantity: 3, price: 100 })
      .then([orderFilled('r-1', 3)]);
  });
});
