import type { NewEvent } from '../src/events/index.js';

const SYMBOLS = ['BTC', 'ETH', 'SOL', 'AAPL', 'MSFT', 'NVDA'];

/** The five events of one finished and archived lifecycle: what a busy book is made of. */
export function lifecycle(i: number, t0: number): NewEvent[] {
  const positionId = `P-${i}`;
  const symbol = SYMBOLS[i % SYMBOLS.length]!;
  const at = (k: number): { recordedAt: string } => ({ recordedAt: new Date(t0 + i * 5000 + k * 1000).toISOString() });
  return [
    {
      type: 'PositionTracked',
      data: { positionId, symbol, side: 'long', setup: i % 2 ? 'breakout' : 'pullback', source: 'local' },
      metadata: at(0),
    },
    {
      type: 'PositionEntered',
      data: { positionId, symbol, side: 'long', value: 1000, quantity: 1, price: 1000, stop: 950, source: 'local' },
      metadata: at(1),
    },
    { type: 'PositionValued', data: { positionId, value: 1010, price: 1010, source: 'local' }, metadata: at(2) },
    {
      type: 'PositionExited',
      data: {
        positionId,
        symbol,
        side: 'long',
        fraction: 1,
        quantity: 1,
        value: i % 3 ? 1020 : 980,
        costBasis: 1000,
        realizedPnl: i % 3 ? 20 : -20,
        full: true,
        source: 'local',
      },
      metadata: at(3),
    },
    { type: 'PositionArchived', data: { positionId, from: 'EXITED', reason: 'timeout', source: 'local' }, metadata: at(4) },
  ];
}

/** Track + Enter of an open position. */
export function openPosition(i: number, t0: number, prefix = 'P'): NewEvent[] {
  const positionId = `${prefix}-${i}`;
  const symbol = SYMBOLS[i % SYMBOLS.length]!;
  const recordedAt = new Date(t0 + i).toISOString();
  return [
    { type: 'PositionTracked', data: { positionId, symbol, side: 'long', source: 'local' }, metadata: { recordedAt } },
    {
      type: 'PositionEntered',
      data: { positionId, symbol, side: 'long', value: 500 + (i % 100), quantity: 1, price: 500 + (i % 100), source: 'local' },
      metadata: { recordedAt },
    },
  ];
}

export const BENCH_POLICY = {
  maxPositions: 1_000_000,
  rejectDuplicateSymbol: false,
  maxGroupRiskPct: null,
  dailyLossLimitPct: null,
  maxConsecutiveLossesPerSymbol: null,
  minPositionValue: 1,
  snapshotEvery: 1000,
} as const;
