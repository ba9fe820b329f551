import { describe, it } from 'vitest';
import { InvalidTransitionError, ValidationError } from '../../src/errors/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, entered, expectInvalidTransition, iso, tracked } from './fixtures.js';
import { accepted, requested } from './orderFixtures.js';

/*
 * What each of the reconciler's commands records, field by field: an event carries what the look
 * at the outside system gave and nothing it did not (no key for an absent field), and a repeat of
 * a look that changes nothing records nothing.
 */

const spec = deciderSpec({ now: NOW });

const inA = (data: { value?: number; quantity?: number } = {}): GivenEvent[] => [
  tracked('A', { symbol: 'BTC' }),
  entered('A', { symbol: 'BTC', value: data.value ?? 1000, ...(data.quantity === undefined ? {} : { quantity: data.quantity }) }),
];
const suspected = (looks: number): GivenEvent => ({
  type: 'PhantomSuspected',
  data: { positionId: 'A', looks, value: 1000, source: 'local' },
});

describe('DetectOrphan', () => {
  it('records every field the venue gave', () => {
    spec
      .given([])
      .when({
        type: 'DetectOrphan',
        positionId: 'X',
        value: 500,
        symbol: 'ETH',
        side: 'short',
        quantity: 2,
        price: 250,
        runId: 'run-1',
        openedAt: '2026-01-05T11:00:00.000Z',
      })
      .then([
        {
          type: 'OrphanDetected',
          data: {
            positionId: 'X',
            value: 500,
            source: 'local',
            symbol: 'ETH',
            side: 'short',
            quantity: 2,
            price: 250,
            runId: 'run-1',
            openedAt: '2026-01-05T11:00:00.000Z',
          },
        },
      ]);
  });

  it('records an orphan seen once only, until it is resolved', () => {
    const detected: GivenEvent = { type: 'OrphanDetected', data: { positionId: 'X', value: 500, source: 'local' } };
    spec.given([detected]).when({ type: 'DetectOrphan', positionId: 'X', value: 600 }).thenNothingHappened();
  });
});

describe('CloseOrphan', () => {
  it('records the close with its symbol and reason, or without them', () => {
    spec
      .given([])
      .when({ type: 'CloseOrphan', positionId: 'X', value: 500, symbol: 'ETH', reason: 'closed by policy' })
      .then([{ type: 'OrphanClosed', data: { positionId: 'X', value: 500, source: 'local', symbol: 'ETH', reason: 'closed by policy' } }]);
    spec
      .given([])
      .when({ type: 'CloseOrphan', positionId: 'X', value: 500 })
      .then([{ type: 'OrphanClosed', data: { positionId: 'X', value: 500, source: 'local' } }]);
  });
});

describe('SuspectPhantom and DismissPhantom', () => {
  it('records the missed looks with the run and the venue close time', () => {
    spec
      .given(inA())
      .when({ type: 'SuspectPhantom', positionId: 'A', looks: 1, runId: 'run-1', closedAt: '2026-01-05T11:30:00.000Z' })
      .then([
        {
          type: 'PhantomSuspected',
          data: { positionId: 'A', looks: 1, value: 1000, source: 'local', runId: 'run-1', closedAt: '2026-01-05T11:30:00.000Z' },
        },
      ]);
  });

  it('records a further missed look, and nothing for a count already recorded', () => {
    spec
      .given([...inA(), suspected(1)])
      .when({ type: 'SuspectPhantom', positionId: 'A', looks: 2 })
      .then([{ type: 'PhantomSuspected', data: { positionId: 'A', looks: 2, value: 1000, source: 'local' } }]);
    spec
      .given([...inA(), suspected(2)])
      .when({ type: 'SuspectPhantom', positionId: 'A', looks: 2 })
      .thenNothingHappened();
    spec
      .given([...inA(), suspected(2)])
      .when({ type: 'SuspectPhantom', positionId: 'A', looks: 1 })
      .thenNothingHappened();
  });

  it('dismisses a suspicion when the position is seen again, saying how many looks it had missed', () => {
    spec
      .given([...inA(), suspected(2)])
      .when({ type: 'DismissPhantom', positionId: 'A' })
      .then([{ type: 'PhantomDismissed', data: { positionId: 'A', looks: 2, source: 'local' } }]);
    spec.given(inA()).when({ type: 'DismissPhantom', positionId: 'A' }).thenNothingHappened();
  });
});

describe('ClearPhantom', () => {
  it('clears all of it at its last known value, with the venue close time', () => {
    spec
      .given([...inA({ value: 1200, quantity: 4 }), suspected(3)])
      .when({ type: 'ClearPhantom', positionId: 'A', looks: 3, reason: 'phantom', closedAt: '2026-01-05T11:30:00.000Z' })
      .then([
        {
          type: 'PhantomCleared',
          data: {
            positionId: 'A',
            value: 1200,
            costBasis: 1200,
            realizedPnl: 0,
            looks: 3,
            reason: 'phantom',
            source: 'local',
            symbol: 'BTC',
            closedAt: '2026-01-05T11:30:00.000Z',
          },
        },
      ]);
  });

  it('clears a part of it by quantity: the fraction and the quantity are recorded', () => {
    spec
      .given(inA({ value: 1000, quantity: 4 }))
      .when({ type: 'ClearPhantom', positionId: 'A', looks: 3, reason: 'netting short', quantity: 1 })
      .then([
        {
          type: 'PhantomCleared',
          data: {
            positionId: 'A',
            value: 250,
            costBasis: 250,
            realizedPnl: 0,
            looks: 3,
            reason: 'netting short',
            source: 'local',
            symbol: 'BTC',
            fraction: 0.25,
            quantity: 1,
          },
        },
      ]);
  });

  it('clears it whole when the quantity is all it holds (within rounding)', () => {
    spec
      .given(inA({ value: 1000, quantity: 0.3 }))
      .when({ type: 'ClearPhantom', positionId: 'A', looks: 3, reason: 'phantom', quantity: 0.1 + 0.2 })
      .then([
        {
          type: 'PhantomCleared',
          data: {
            positionId: 'A',
            value: 1000,
            costBasis: 1000,
            realizedPnl: 0,
            looks: 3,
            reason: 'phantom',
            source: 'local',
            symbol: 'BTC',
          },
        },
      ]);
  });

  it('refuses a quantity larger than it holds, or one it cannot measure', () => {
    spec
      .given(inA({ quantity: 4 }))
      .when({ type: 'ClearPhantom', positionId: 'A', looks: 3, reason: 'phantom', quantity: 5 })
      .thenThrows(ValidationError, /^cannot clear 5 of phantom "A": only 4 is open$/);
    spec
      .given(inA())
      .when({ type: 'ClearPhantom', positionId: 'A', looks: 3, reason: 'phantom', quantity: 1 })
      .thenThrows(ValidationError, /^cannot clear 1 of phantom "A": its quantity is unknown \(clear it whole: leave quantity out\)$/);
  });
});

describe('CorrectDrift', () => {
  it('records the local and external value and quantity, and the tolerance it was judged by', () => {
    spec
      .given(inA({ value: 1000, quantity: 4 }))
      .when({ type: 'CorrectDrift', positionId: 'A', externalValue: 1100, externalQuantity: 4.4, tolerance: 0.01 })
      .then([
        {
          type: 'DriftCorrected',
          data: {
            positionId: 'A',
            localValue: 1000,
            externalValue: 1100,
            source: 'local',
            localQuantity: 4,
            externalQuantity: 4.4,
            tolerance: 0.01,
          },
        },
      ]);
    spec
      .given(inA({ value: 1000 }))
      .when({ type: 'CorrectDrift', positionId: 'A', externalValue: 1100 })
      .then([{ type: 'DriftCorrected', data: { positionId: 'A', localValue: 1000, externalValue: 1100, source: 'local' } }]);
  });

  it('corrects a quantity that drifted alone, and records nothing when both already agree', () => {
    spec
      .given(inA({ value: 1000, quantity: 4 }))
      .when({ type: 'CorrectDrift', positionId: 'A', externalValue: 1000, externalQuantity: 3 })
      .then([
        {
          type: 'DriftCorrected',
          data: { positionId: 'A', localValue: 1000, externalValue: 1000, source: 'local', localQuantity: 4, externalQuantity: 3 },
        },
      ]);
    spec
      .given(inA({ value: 1000, quantity: 4 }))
      .when({ type: 'CorrectDrift', positionId: 'A', externalValue: 1000, externalQuantity: 4 })
      .thenNothingHappened();
    spec
      .given(inA({ value: 1000, quantity: 4 }))
      .when({ type: 'CorrectDrift', positionId: 'A', externalValue: 1000 })
      .thenNothingHappened();
  });
});

describe('CompleteReconciliation and RecordHeartbeat', () => {
  const counts = { orphans: 1, phantoms: 0, drift: 2, corrected: 2, alerts: 0, errors: 0 };
  it('appends the run report, completed now, with the snapshot time when given', () => {
    spec
      .given([])
      .when({
        type: 'CompleteReconciliation',
        runId: 'run-1',
        startedAt: '2026-01-05T11:59:00.000Z',
        snapshotAt: '2026-01-05T11:59:30.000Z',
        counts,
        report: { note: 'ok' },
      })
      .then([
        {
          type: 'ReconciliationCompleted',
          data: {
            runId: 'run-1',
            startedAt: '2026-01-05T11:59:00.000Z',
            completedAt: iso(NOW),
            counts,
            report: { note: 'ok' },
            source: 'local',
            snapshotAt: '2026-01-05T11:59:30.000Z',
          },
        },
      ]);
    spec
      .given([])
      .when({ type: 'CompleteReconciliation', runId: 'run-1', startedAt: '2026-01-05T11:59:00.000Z', counts, report: {} })
      .then([
        {
          type: 'ReconciliationCompleted',
          data: { runId: 'run-1', startedAt: '2026-01-05T11:59:00.000Z', completedAt: iso(NOW), counts, report: {}, source: 'local' },
        },
      ]);
  });

  it('records a heartbeat now, naming the process when given', () => {
    spec
      .given([])
      .when({ type: 'RecordHeartbeat', process: 'ptrack serve' })
      .then([{ type: 'Heartbeat', data: { at: iso(NOW), source: 'local', process: 'ptrack serve' } }]);
    spec
      .given([])
      .when({ type: 'RecordHeartbeat' })
      .then([{ type: 'Heartbeat', data: { at: iso(NOW), source: 'local' } }]);
  });
});

describe('DetectExternalOrder and RecordExternalOrderCanceled', () => {
  const detect = {
    type: 'DetectExternalOrder',
    externalOrderId: 'V-9',
    symbol: 'BTC',
    side: 'buy',
    quantity: 2,
    filledQuantity: 0.5,
  } as const;
  const detected: GivenEvent = {
    type: 'ExternalOrderDetected',
    data: { externalOrderId: 'V-9', symbol: 'BTC', side: 'buy', quantity: 2, filledQuantity: 0.5, source: 'local' },
  };

  it('records an order the book did not issue, with what the venue gave, once', () => {
    spec
      .given([])
      .when({ ...detect, clientOrderId: 'manual-1', price: 100, runId: 'run-1' })
      .then([
        {
          type: 'ExternalOrderDetected',
          data: {
            externalOrderId: 'V-9',
            symbol: 'BTC',
            side: 'buy',
            quantity: 2,
            filledQuantity: 0.5,
            source: 'local',
            clientOrderId: 'manual-1',
            price: 100,
            runId: 'run-1',
          },
        },
      ]);
    spec.given([]).when(detect).then([detected]);
    spec.given([detected]).when(detect).thenNothingHappened();
  });

  it('refuses an order the book issued itself, by client order id or by venue id', () => {
    const ours = [tracked('A', { symbol: 'BTC' }), requested('c-1', 'A'), accepted('c-1', 'V-9')];
    const byClientId = spec
      .given(ours)
      .when({ ...detect, clientOrderId: 'c-1' })
      .thenThrows(
        InvalidTransitionError,
        /^cannot record external order "V-9": the book issued it \(client order id c-1\); it is one of ours, not external$/,
      );
    expectInvalidTransition(byClientId, 'order', 'OURS', ['UNKNOWN']);
    spec
      .given(ours)
      .when(detect)
      .thenThrows(
        InvalidTransitionError,
        /^cannot record external order "V-9": the book issued it \(client order id matched by venue id\); it is one of ours, not external$/,
      );
  });

  it('records the cancel of a detected one, and refuses one it has not detected', () => {
    spec
      .given([detected])
      .when({ type: 'RecordExternalOrderCanceled', externalOrderId: 'V-9', filledQuantity: 0.5, runId: 'run-1' })
      .then([{ type: 'ExternalOrderCanceled', data: { externalOrderId: 'V-9', filledQuantity: 0.5, source: 'local', runId: 'run-1' } }]);
    spec
      .given([detected])
      .when({ type: 'RecordExternalOrderCanceled', externalOrderId: 'V-9', filledQuantity: 0.5 })
      .then([{ type: 'ExternalOrderCanceled', data: { externalOrderId: 'V-9', filledQuantity: 0.5, source: 'local' } }]);
    const error = spec
      .given([])
      .when({ type: 'RecordExternalOrderCanceled', externalOrderId: 'V-9', filledQuantity: 0 })
      .thenThrows(
        InvalidTransitionError,
        /^cannot record the cancel of external order "V-9": the book has not detected it \(or it was resolved already\); detect it first$/,
      );
    expectInvalidTransition(error, 'order', 'UNKNOWN', ['DETECTED']);
  });
});
