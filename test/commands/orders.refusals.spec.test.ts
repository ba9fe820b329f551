import { describe, expect, it } from 'vitest';
import type { CommandInput } from '../../src/commands/index.js';
import { OrderStateError } from '../../src/errors/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, tracked } from './fixtures.js';
import { accepted, cancelRequested, canceled, expired, filled, rejected, requested } from './orderFixtures.js';

/*
 * What the venue says about an order, against every state the order can be in: accepted, or
 * refused word for word. A refusal is an OrderStateError naming the order (its intent, side,
 * quantity, symbol and position), the state it is in, the states the command needs, and what to do;
 * its fields carry the client order id, that state and those states.
 */

const spec = deciderSpec({ now: NOW });
const O = 'order "o1" (entry buy 10 BTC for "BTC-1")';
const start = [tracked('BTC-1', { symbol: 'BTC' }), requested('o1', 'BTC-1')];
const open = [...start, accepted('o1', 'V-1')];
const states: Record<string, GivenEvent[]> = {
  PENDING_SUBMIT: start,
  'PENDING_CANCEL before the venue answered': [...start, cancelRequested('o1')],
  'PENDING_CANCEL before the venue answered, with a fill': [...start, cancelRequested('o1'), filled('o1', 'T1', 4, 100)],
  OPEN: open,
  PARTIALLY_FILLED: [...open, filled('o1', 'T1', 4, 100)],
  PENDING_CANCEL: [...open, cancelRequested('o1')],
  FILLED: [...open, filled('o1', 'T1', 10, 100)],
  CANCELED: [...open, cancelRequested('o1'), canceled('o1')],
  'CANCELED before the venue answered': [...start, cancelRequested('o1'), canceled('o1')],
  EXPIRED: [...open, expired('o1')],
  REJECTED: [...start, rejected('o1')],
};
const statusOf = (name: string): string => name.split(' ')[0] ?? name;

function refusedWith(history: GivenEvent[], command: CommandInput, message: string, state: string, expected: string[]): void {
  const error = spec.given(history).when(command).thenThrows(OrderStateError);
  expect(error.message).toBe(message);
  expect(error).toMatchObject({ code: 'ORDER_STATE', clientOrderId: 'o1', state, expected });
}

describe('a command about an order the book does not hold', () => {
  const verbs: [CommandInput, string][] = [
    [{ type: 'RecordOrderAccepted', clientOrderId: 'o1', externalOrderId: 'V-1' }, 'record the acceptance of order'],
    [{ type: 'RecordOrderRejected', clientOrderId: 'o1', reason: 'no margin' }, 'record the rejection of order'],
    [{ type: 'RecordFill', clientOrderId: 'o1', tradeId: 'T1', quantity: 1, price: 100 }, 'record a fill of order'],
    [{ type: 'CancelOrder', clientOrderId: 'o1' }, 'cancel order'],
    [{ type: 'RecordOrderCanceled', clientOrderId: 'o1' }, 'record the cancel of order'],
    [{ type: 'RecordOrderExpired', clientOrderId: 'o1' }, 'record the expiry of order'],
    [{ type: 'RecordOrderLost', clientOrderId: 'o1', looks: 3, reason: 'not found' }, 'record as lost order'],
    [{ type: 'RecordOrderLook', clientOrderId: 'o1', found: false }, 'record a look-up of order'],
  ];
  it.each(verbs)('%o is refused, naming the id and what to check', (command, verb) => {
    refusedWith(
      [tracked('BTC-1', { symbol: 'BTC' })],
      command,
      `cannot ${verb} "o1": the book has no such order (never requested here, or its position was archived); check the client order id`,
      'UNKNOWN',
      ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL'],
    );
  });
});

describe('RecordOrderAccepted', () => {
  const accept = (externalOrderId: string): CommandInput => ({ type: 'RecordOrderAccepted', clientOrderId: 'o1', externalOrderId });

  it('is recorded for an order the venue has not named yet, also while a cancel of it waits', () => {
    for (const name of ['PENDING_SUBMIT', 'PENDING_CANCEL before the venue answered']) {
      spec
        .given(states[name] ?? [])
        .when(accept('V-1'))
        .then([{ type: 'OrderAccepted', data: { clientOrderId: 'o1', externalOrderId: 'V-1', source: 'local' } }]);
    }
  });

  it('is refused for a rejected order: the acceptance contradicts what was recorded', () => {
    refusedWith(
      states.REJECTED ?? [],
      accept('V-1'),
      `cannot record the acceptance of ${O}: it is REJECTED, expected PENDING_SUBMIT or PENDING_CANCEL (it was recorded as refused; an acceptance contradicts it)`,
      'REJECTED',
      ['PENDING_SUBMIT', 'PENDING_CANCEL'],
    );
  });

  it('is refused under another venue id once the venue named the order, whatever its state', () => {
    for (const name of ['OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'FILLED', 'CANCELED', 'EXPIRED']) {
      refusedWith(
        states[name] ?? [],
        accept('V-2'),
        `cannot record the acceptance of ${O} as "V-2": the venue already named it "V-1" (one order has one venue id; check which order this answer is for)`,
        name,
        [name],
      );
    }
  });
});

describe('RecordOrderRejected', () => {
  const reject: CommandInput = { type: 'RecordOrderRejected', clientOrderId: 'o1', reason: 'no margin' };
  const expected = ['PENDING_SUBMIT', 'PENDING_CANCEL'];

  it('is recorded only while the venue has neither accepted nor filled the order', () => {
    for (const name of ['PENDING_SUBMIT', 'PENDING_CANCEL before the venue answered']) {
      spec
        .given(states[name] ?? [])
        .when(reject)
        .then([{ type: 'OrderRejected', data: { clientOrderId: 'o1', reason: 'no margin', source: 'local' } }]);
    }
  });

  it('is refused once the venue accepted or filled the order, saying to record a cancel instead', () => {
    for (const name of [
      'PENDING_CANCEL before the venue answered, with a fill',
      'OPEN',
      'PARTIALLY_FILLED',
      'PENDING_CANCEL',
      'FILLED',
      'CANCELED',
      'EXPIRED',
    ]) {
      const status = statusOf(name);
      refusedWith(
        states[name] ?? [],
        reject,
        `cannot record the rejection of ${O}: it is ${status}, expected PENDING_SUBMIT or PENDING_CANCEL (the venue accepted it or filled it: record a cancel instead)`,
        status,
        expected,
      );
    }
  });

  it('is refused for an order finished before the venue answered, saying why it is finished', () => {
    refusedWith(
      states.REJECTED ?? [],
      reject,
      `cannot record the rejection of ${O}: it is REJECTED, expected PENDING_SUBMIT or PENDING_CANCEL (it was refused: request a new order)`,
      'REJECTED',
      expected,
    );
    refusedWith(
      states['CANCELED before the venue answered'] ?? [],
      reject,
      `cannot record the rejection of ${O}: it is CANCELED, expected PENDING_SUBMIT or PENDING_CANCEL (it is finished: request a new order)`,
      'CANCELED',
      expected,
    );
  });
});

describe('RecordFill', () => {
  it('is refused for a rejected order, naming every state a fill may come in', () => {
    refusedWith(
      states.REJECTED ?? [],
      { type: 'RecordFill', clientOrderId: 'o1', tradeId: 'T9', quantity: 1, price: 100 },
      `cannot record a fill of ${O}: it is REJECTED, expected PENDING_SUBMIT or OPEN or PARTIALLY_FILLED or PENDING_CANCEL or CANCELED or EXPIRED (it was refused: request a new order)`,
      'REJECTED',
      ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'CANCELED', 'EXPIRED'],
    );
  });

  it('is refused when it would take the fills beyond the quantity, naming the trade and what filled already', () => {
    refusedWith(
      states.PARTIALLY_FILLED ?? [],
      { type: 'RecordFill', clientOrderId: 'o1', tradeId: 'T2', quantity: 7, price: 100 },
      `cannot record a fill of ${O}: trade "T2" of 7 would take its fills to 11, beyond its quantity 10 (4 filled already; check the trade's order)`,
      'PARTIALLY_FILLED',
      ['PARTIALLY_FILLED'],
    );
  });
});

describe('CancelOrder', () => {
  const cancel: CommandInput = { type: 'CancelOrder', clientOrderId: 'o1' };
  const live = ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED'];
  it.each([
    ['PENDING_CANCEL', "a cancel is pending: wait for the venue's answer"],
    ['FILLED', 'it is finished: every unit filled'],
    ['CANCELED', 'it is finished: request a new order'],
    ['EXPIRED', 'it is finished: request a new order'],
    ['REJECTED', 'it was refused: request a new order'],
  ])('is refused for an order %s, saying %s', (name, hint) => {
    refusedWith(states[name] ?? [], cancel, `cannot cancel ${O}: it is ${name}, expected ${live.join(' or ')} (${hint})`, name, live);
  });
});

describe('RecordOrderCanceled and RecordOrderExpired', () => {
  const live = ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL'];
  it.each([
    [{ type: 'RecordOrderCanceled', clientOrderId: 'o1' } as CommandInput, 'record the cancel of'],
    [{ type: 'RecordOrderExpired', clientOrderId: 'o1' } as CommandInput, 'record the expiry of'],
  ])('%o is refused for a finished order, in its own words', (command, verb) => {
    refusedWith(
      states.FILLED ?? [],
      command,
      `cannot ${verb} ${O}: it is FILLED, expected ${live.join(' or ')} (it is finished: every unit filled)`,
      'FILLED',
      live,
    );
  });
});

describe('RecordOrderLost', () => {
  const lose: CommandInput = { type: 'RecordOrderLost', clientOrderId: 'o1', looks: 3, reason: 'not found' };
  const live = ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED'];
  it.each([
    ['PENDING_CANCEL', 'a cancel is pending: it stays unresolved until a look answers'],
    ['FILLED', 'venues drop finished orders: a filled order is not lost'],
    ['CANCELED', 'it is finished already: nothing to resolve'],
    ['EXPIRED', 'it is finished already: nothing to resolve'],
    ['REJECTED', 'it is finished already: nothing to resolve'],
  ])('is refused for an order %s: %s', (name, why) => {
    refusedWith(states[name] ?? [], lose, `cannot record as lost ${O}: it is ${name}, expected ${live.join(' or ')} (${why})`, name, live);
  });
});
