import type { NewEvent } from '../../src/events/index.js';

/** A small valid event for store tests; `n` makes each one distinguishable. */
export function tracked(n: number, extra: { correlationId?: string } = {}): NewEvent {
  return {
    type: 'PositionTracked',
    data: { positionId: `P-${n}`, side: 'long', source: 'local' },
    metadata: { recordedAt: '2026-01-01T00:00:00.000Z', ...extra },
  };
}

export function heartbeat(n: number): NewEvent {
  return {
    type: 'Heartbeat',
    data: { at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), process: `p${n}`, source: 'local' },
  };
}
