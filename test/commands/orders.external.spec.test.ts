import { describe, expect, it } from 'vitest';
import { bookStateFromJson, bookStateToJson } from '../../src/commands/index.js';
import { InvalidTransitionError, RecoveryPendingError } from '../../src/errors/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW } from './fixtures.js';
import { accepted, requested } from './orderFixtures.js';

/*
 * DetectExternalOrder and RecordExternalOrderCanceled: an open order at the venue that the book
 * never issued is recorded once while it stays unresolved; one of the book's own orders (by
 * client order id, or by venue id) is refused; a cancel is recorded only for one detected; both
 * pass the recovery gate (they only record, or take risk off).
 */

const spec = deciderSpec({ now: NOW });
const detect = {
  type: 'DetectExternalOrder' as const,
  externalOrderId: 'V-9',
  symbol: 'BTC',
  side: 'buy' as const,
  quantity: 2,
  filledQuantity: 0,
};
const detected: GivenEvent = {
  type: 'ExternalOrderDetected',
  data: { externalOrderId: 'V-9', symbol: 'BTC', side: 'buy', quantity: 2, filledQuantity: 0, source: 'local' },
};
const canceledExt: GivenEvent = { type: 'ExternalOrderCanceled', data: { externalOrderId: 'V-9', filledQuantity: 0, source: 'local' } };
const pendingRecovery: GivenEvent = { type: 'RecoveryRequired', data: { mode: 'manual', reason: 'crash', source: 'local' } };

describe('when the external order is not known', () => {
  it('records it, with the client order id and price the venue gave and the run', () => {
    spec
      .given([])
      .when({ ...detect, clientOrderId: 'by-hand-1', price: 50, runId: 'r1' })
      .then([
        {
          type: 'ExternalOrderDetected',
          data: {
            externalOrderId: 'V-9',
            clientOrderId: 'by-hand-1',
            symbol: 'BTC',
            side: 'buy',
            quantity: 2,
            filledQuantity: 0,
            price: 50,
            runId: 'r1',
            source: 'local',
          },
        },
      ]);
  });

  it("refuses to record one of the book's own orders, found by client order id", () => {
    spec
      .given([requested('o1', 'BTC-1')])
      .when({ ...detect, clientOrderId: 'o1' })
      .thenThrows(InvalidTransitionError, /issued it/);
  });

  it("refuses to record one of the book's own orders, found by venue id", () => {
    spec
      .given([requested('o1', 'BTC-1'), accepted('o1', 'V-9')])
      .when(detect)
      .thenThrows(InvalidTransitionError, /issued it/);
  });

  it('refuses to record a cancel of it: it was never detected', () => {
    spec
      .given([])
      .when({ type: 'RecordExternalOrderCanceled', externalOrderId: 'V-9', filledQuantity: 0 })
      .thenThrows(InvalidTransitionError, /has not detected it/);
  });
});

describe('when the external order is detected and unresolved', () => {
  it('a second detection appends nothing', () => {
    spec.given([detected]).when(detect).thenNothingHappened();
  });

  it('records its cancel, which resolves it', () => {
    spec
      .given([detected])
      .when({ type: 'RecordExternalOrderCanceled', externalOrderId: 'V-9', filledQuantity: 0, runId: 'r2' })
      .then([{ type: 'ExternalOrderCanceled', data: { externalOrderId: 'V-9', filledQuantity: 0, runId: 'r2', source: 'local' } }]);
  });

  it('is kept in the state, and through a snapshot, so the idempotence survives a restart', () => {
    const state = spec.given([detected]).state();
    expect([...state.externalOrders.keys()]).toEqual(['V-9']);
    const restored = bookStateFromJson(JSON.parse(JSON.stringify(bookStateToJson(state))) as ReturnType<typeof bookStateToJson>);
    expect(restored.externalOrders.get('V-9')).toMatchObject({ symbol: 'BTC', side: 'buy', quantity: 2 });
  });
});

describe('when the external order was canceled', () => {
  it('is no longer in the state, and a new detection records it again', () => {
    expect(spec.given([detected, canceledExt]).state().externalOrders.size).toBe(0);
    spec
      .given([detected, canceledExt])
      .when(detect)
      .then([{ type: 'ExternalOrderDetected', data: { ...(detected.data as object), source: 'local' } as never }]);
  });

  it('a second cancel is refused', () => {
    spec
      .given([detected, canceledExt])
      .when({ type: 'RecordExternalOrderCanceled', externalOrderId: 'V-9', filledQuantity: 0 })
      .thenThrows(InvalidTransitionError);
  });
});

describe('while a recovery waits for an operator', () => {
  it('detection and the record of a cancel pass the gate', () => {
    spec
      .given([pendingRecovery])
      .when(detect)
      .then([detected as never]);
    spec
      .given([pendingRecovery, detected])
      .when({ type: 'RecordExternalOrderCanceled', externalOrderId: 'V-9', filledQuantity: 0 })
      .then([canceledExt as never]);
  });

  it('an order request does not (the gate stands)', () => {
    spec
      .given([pendingRecovery])
      .when({
        type: 'RequestOrder',
        commandId: 'c1',
        positionId: 'A',
        symbol: 'BTC',
        intent: 'entry',
        side: 'long',
        quantity: 1,
        referencePrice: 100,
        orderType: 'market',
      } as never)
      .thenThrows(RecoveryPendingError);
  });
});
