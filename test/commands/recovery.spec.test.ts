import { describe, it } from 'vitest';
import { InvalidTransitionError, RecoveryPendingError } from '../../src/errors/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, expectInvalidTransition } from './fixtures.js';

/*
 * Manual recovery: a start in manual mode asks for an operator (RequireRecovery); until the
 * operator acknowledges (AcknowledgeRecovery), the book refuses what moves positions. Asking twice
 * is asking once; acknowledging what nobody asked for is refused.
 */

const spec = deciderSpec({ now: NOW });

const required = (reason = 'crash'): GivenEvent => ({ type: 'RecoveryRequired', data: { mode: 'manual', reason, source: 'local' } });
const acknowledged: GivenEvent = { type: 'RecoveryAcknowledged', data: { source: 'local' } };

describe('RequireRecovery', () => {
  it('records the mode, the reason and the process that waits', () => {
    spec
      .given([])
      .when({ type: 'RequireRecovery', reason: 'crash', process: 'ptrack reconcile (pid 42)' })
      .then([
        { type: 'RecoveryRequired', data: { mode: 'manual', reason: 'crash', process: 'ptrack reconcile (pid 42)', source: 'local' } },
      ]);
  });

  it('leaves the process out when none was named', () => {
    spec
      .given([])
      .when({ type: 'RequireRecovery', reason: 'crash' })
      .then([{ type: 'RecoveryRequired', data: { mode: 'manual', reason: 'crash', source: 'local' } }]);
  });

  it('does nothing while a recovery is already pending, and asks again once the last one was acknowledged', () => {
    spec
      .given([required('first')])
      .when({ type: 'RequireRecovery', reason: 'second' })
      .thenNothingHappened();
    spec
      .given([required('first'), acknowledged])
      .when({ type: 'RequireRecovery', reason: 'second' })
      .then([{ type: 'RecoveryRequired', data: { mode: 'manual', reason: 'second', source: 'local' } }]);
  });
});

describe('AcknowledgeRecovery', () => {
  it("ends a pending recovery, with the operator's reason when given", () => {
    spec
      .given([required()])
      .when({ type: 'AcknowledgeRecovery' })
      .then([{ type: 'RecoveryAcknowledged', data: { source: 'local' } }]);
    spec
      .given([required()])
      .when({ type: 'AcknowledgeRecovery', reason: 'checked the venue' })
      .then([{ type: 'RecoveryAcknowledged', data: { reason: 'checked the venue', source: 'local' } }]);
  });

  it.each([
    ['a book that never asked', [] as GivenEvent[]],
    ['a recovery already acknowledged', [required(), acknowledged]],
  ])('is refused for %s: none is pending', (_name, history) => {
    const error = spec
      .given(history)
      .when({ type: 'AcknowledgeRecovery' })
      .thenThrows(InvalidTransitionError, /^cannot acknowledge a recovery: none is pending \(the book is CLEAR\), expected REQUIRED$/);
    expectInvalidTransition(error, 'recovery', 'CLEAR', ['REQUIRED']);
  });
});

describe('the recovery gate', () => {
  it('refuses what moves a position, naming the command, the position and the reason it waits', () => {
    spec
      .given([required('crash at 03:00'), { type: 'PositionTracked', data: { positionId: 'A', side: 'long', source: 'local' } }])
      .when({ type: 'Enter', positionId: 'A', value: 1000 })
      .thenThrows(
        RecoveryPendingError,
        /^cannot enter "A": the book waits for an operator since \S+ \(crash at 03:00\); check it, then run ptrack recover --ack$/,
      );
  });

  it('names the command alone when it concerns no position', () => {
    spec
      .given([required('crash at 03:00')])
      .when({ type: 'ResetCircuitBreaker', reason: 'checked' })
      .thenThrows(RecoveryPendingError, /^cannot reset the circuit breaker: the book waits for an operator since /);
  });
});
