import type { EventData } from '../../src/events/index.js';
import type { GivenEvent } from '../../src/testing/index.js';
import { iso } from './fixtures.js';

/*
 * Order facts for the specifications, written as the decider writes them (source 'local').
 * `requested` takes the client order id it is given: the specs that check the derivation
 * compute it with clientOrderIdFor, the others need only a stable name.
 */

function withTime<T extends GivenEvent>(event: T, at: Date | undefined): T {
  return at === undefined ? event : { ...event, metadata: { recordedAt: iso(at) } };
}

type RequestedData = Omit<EventData<'OrderRequested'>, 'source'>;

/** An order requested: an entry buy of 10 BTC at a reference price of 100 unless `data` says otherwise. */
export function requested(clientOrderId: string, positionId: string, data: Partial<RequestedData> = {}, at?: Date): GivenEvent {
  return withTime(
    {
      type: 'OrderRequested',
      data: {
        clientOrderId,
        orderKey: `k-${clientOrderId}`,
        attempt: 1,
        positionId,
        symbol: 'BTC',
        side: 'buy',
        intent: 'entry',
        orderType: 'market',
        quantity: 10,
        referencePrice: 100,
        ...data,
        source: 'local',
      },
    },
    at,
  );
}

export function accepted(clientOrderId: string, externalOrderId: string, at?: Date): GivenEvent {
  return withTime({ type: 'OrderAccepted', data: { clientOrderId, externalOrderId, source: 'local' } }, at);
}

export function rejected(clientOrderId: string, reason = 'insufficient margin', at?: Date): GivenEvent {
  return withTime({ type: 'OrderRejected', data: { clientOrderId, reason, source: 'local' } }, at);
}

export function filled(clientOrderId: string, tradeId: string, quantity: number, price: number, fee = 0, at?: Date): GivenEvent {
  return withTime({ type: 'OrderFilled', data: { clientOrderId, tradeId, quantity, price, fee, inferred: false, source: 'local' } }, at);
}

export function cancelRequested(clientOrderId: string, at?: Date): GivenEvent {
  return withTime({ type: 'OrderCancelRequested', data: { clientOrderId, source: 'local' } }, at);
}

export function canceled(clientOrderId: string, filledQuantity = 0, at?: Date): GivenEvent {
  return withTime({ type: 'OrderCanceled', data: { clientOrderId, filledQuantity, source: 'local' } }, at);
}

export function expired(clientOrderId: string, filledQuantity = 0, at?: Date): GivenEvent {
  return withTime({ type: 'OrderExpired', data: { clientOrderId, filledQuantity, source: 'local' } }, at);
}

export function lost(clientOrderId: string, resolution: 'REJECTED' | 'CANCELED', at?: Date): GivenEvent {
  return withTime(
    { type: 'OrderLost', data: { clientOrderId, looks: 3, resolution, reason: 'not found at the venue', source: 'local' } },
    at,
  );
}

export function increased(positionId: string, quantity: number, price: number, at?: Date): GivenEvent {
  return withTime({ type: 'PositionIncreased', data: { positionId, quantity, price, value: quantity * price, source: 'local' } }, at);
}
