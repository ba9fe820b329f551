import { describe, it } from 'vitest';
import { OrderStateError } from '../../src/errors/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW } from './fixtures.js';
import { accepted, filled, requested } from './orderFixtures.js';

/*
 * RecordOrderLook: the count of look-ups by client order id that said "not found", kept in the
 * log (OrderLookedUp) so that another process continues it; a look that finds the order ends it.
 */

const spec = deciderSpec({ now: NOW });
const pending: GivenEvent[] = [requested('o1', 'BTC-1')];
const missed = (looks: number): GivenEvent => ({
  type: 'OrderLookedUp',
  data: { clientOrderId: 'o1', found: false, looks, source: 'local' },
});
const look = (found: boolean) => ({ type: 'RecordOrderLook' as const, clientOrderId: 'o1', found });

describe('when the order is in flight', () => {
  it('counts a look that did not find it: the first is look 1', () => {
    spec
      .given(pending)
      .when(look(false))
      .then([{ type: 'OrderLookedUp', data: { clientOrderId: 'o1', found: false, looks: 1, source: 'local' } }]);
  });

  it('continues the count the log holds', () => {
    spec
      .given([...pending, missed(1), missed(2)])
      .when(look(false))
      .then([{ type: 'OrderLookedUp', data: { clientOrderId: 'o1', found: false, looks: 3, source: 'local' } }]);
  });

  it('ends the count when a look finds it', () => {
    spec
      .given([...pending, missed(1)])
      .when(look(true))
      .then([{ type: 'OrderLookedUp', data: { clientOrderId: 'o1', found: true, looks: 0, source: 'local' } }]);
  });

  it('a look that finds it with no count running records nothing', () => {
    spec.given(pending).when(look(true)).thenNothingHappened();
  });

  it('a found look restarts the count from 1', () => {
    const found: GivenEvent = { type: 'OrderLookedUp', data: { clientOrderId: 'o1', found: true, looks: 0, source: 'local' } };
    spec
      .given([...pending, missed(1), missed(2), found])
      .when(look(false))
      .then([{ type: 'OrderLookedUp', data: { clientOrderId: 'o1', found: false, looks: 1, source: 'local' } }]);
  });
});

describe('when the order is FILLED', () => {
  it('records nothing: a finished order is not looked for', () => {
    spec
      .given([...pending, accepted('o1', 'X1'), filled('o1', 't1', 10, 100)])
      .when(look(false))
      .thenNothingHappened();
  });
});

describe('when the book has no such order', () => {
  it('refuses, naming the client order id', () => {
    spec
      .given([])
      .when(look(false))
      .thenThrows(OrderStateError, /record a look-up of order "o1": the book has no such order/);
  });
});
