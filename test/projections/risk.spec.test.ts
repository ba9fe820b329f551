import { afterEach, describe, expect, it, vi } from 'vitest';
import { foldProjection, ProjectionOptions, riskProjection } from '../../src/projections/index.js';
import { fact, recorded, view, type Fact } from './fixtures.js';

const ny = riskProjection(
  ProjectionOptions.parse({ timeZone: 'America/New_York', weekStartsOn: 1, correlationGroups: { crypto: ['BTC', 'ETH'] } }),
);
const project = (facts: Fact[], projection = ny) => view(projection.toJson(foldProjection(projection, recorded(facts))));

const exit = (id: string, symbol: string, pnl: number, at: string, value = 1000): Fact =>
  fact(
    'PositionExited',
    { positionId: id, symbol, side: 'long', fraction: 1, value: value + pnl, costBasis: value, realizedPnl: pnl, full: true },
    at,
  );

// 2026-01-06T04:30Z is 23:30 on Monday 5 January in New York; 05:10Z is 00:10 on Tuesday the 6th.
const facts: Fact[] = [
  fact('PositionTracked', { positionId: 'A', symbol: 'BTC', side: 'long' }, '2026-01-05T15:00:00.000Z'),
  fact(
    'PositionEntered',
    { positionId: 'A', symbol: 'BTC', side: 'long', value: 1000, quantity: 10, price: 100, stop: 95 },
    '2026-01-05T15:01:00.000Z',
  ),
  fact('PositionTracked', { positionId: 'B', symbol: 'ETH', side: 'long' }, '2026-01-05T15:02:00.000Z'),
  fact('PositionEntered', { positionId: 'B', symbol: 'ETH', side: 'long', value: 1000 }, '2026-01-05T15:03:00.000Z'),
  exit('B', 'ETH', -100, '2026-01-06T04:30:00.000Z'),
  fact('PositionTracked', { positionId: 'C', symbol: 'SOL', side: 'long' }, '2026-01-06T05:00:00.000Z'),
  fact('PositionEntered', { positionId: 'C', symbol: 'SOL', side: 'long', value: 1000 }, '2026-01-06T05:10:00.000Z'),
  exit('C', 'SOL', -20, '2026-01-06T05:30:00.000Z'),
  fact('CooldownStarted', { symbol: 'SOL', until: '2026-01-06T07:00:00.000Z' }, '2026-01-06T05:31:00.000Z'),
  fact(
    'CircuitBreakerTripped',
    { trigger: 'manual', reason: 'manual stop', until: '2026-01-06T08:00:00.000Z' },
    '2026-01-06T06:00:00.000Z',
  ),
  fact('Heartbeat', { at: '2026-01-06T06:30:00.000Z' }, '2026-01-06T06:30:00.000Z'),
];

describe('risk.json', () => {
  afterEach(() => vi.useRealTimers());

  it("splits P&L into days and weeks of the configured time zone, by the events' times", () => {
    const equity = 10_000 - 120;
    const heat = (50 / equity) * 100;
    expect(project(facts)).toEqual({
      asOf: '2026-01-06T06:30:00.000Z',
      timeZone: 'America/New_York',
      weekStartsOn: 1,
      books: {
        main: {
          equity,
          realizedPnl: -120,
          today: { day: '2026-01-06', pnl: -20, closes: 1, trades: 1, wins: 0, losses: 1, entries: 1 },
          thisWeek: { week: '2026-01-05', pnl: -120, closes: 2, trades: 2, wins: 0, losses: 2, entries: 3 },
          daily: [
            { day: '2026-01-05', pnl: -100, closes: 1, trades: 1, wins: 0, losses: 1, entries: 2 },
            { day: '2026-01-06', pnl: -20, closes: 1, trades: 1, wins: 0, losses: 1, entries: 1 },
          ],
          weekly: [{ week: '2026-01-05', pnl: -120, closes: 2, trades: 2, wins: 0, losses: 2, entries: 3 }],
          consecutiveLosses: 2,
          consecutiveLossesBySymbol: [
            { symbol: 'ETH', count: 1 },
            { symbol: 'SOL', count: 1 },
          ],
          // The decider's own rule input, on New York days too.
          sameDayLossStreaks: [
            { symbol: 'ETH', day: '2026-01-05', count: 1 },
            { symbol: 'SOL', day: '2026-01-06', count: 1 },
          ],
          circuitBreaker: {
            status: 'TRIPPED',
            active: true,
            trigger: 'manual',
            reason: 'manual stop',
            since: '2026-01-06T06:00:00.000Z',
            until: '2026-01-06T08:00:00.000Z',
          },
          cooldowns: [{ symbol: 'SOL', until: '2026-01-06T07:00:00.000Z' }],
          // Only A is open: |100 - 95| x 10 at risk.
          heat: {
            openRisk: 50,
            pct: heat,
            positions: [{ id: 'A', symbol: 'BTC', group: 'crypto', value: 1000, risk: 50, pct: heat }],
            byGroup: [{ group: 'crypto', risk: 50, pct: heat }],
          },
        },
      },
    });
  });

  it('does not care when the worker runs: the same log gives the same read model on any day', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2031-07-04T12:00:00Z'));
    const later = project(facts);
    vi.useRealTimers();
    expect(later).toEqual(project(facts));
  });

  it('puts the same exit on another day in UTC, and starts weeks on the configured day', () => {
    const utc = riskProjection(ProjectionOptions.parse({ timeZone: 'UTC', weekStartsOn: 0 }));
    const data = project(facts, utc) as { books: { main: { daily: { day: string; pnl: number }[]; weekly: { week: string }[] } } };
    expect(data.books.main.daily.map((d) => [d.day, d.pnl])).toEqual([
      ['2026-01-05', 0],
      ['2026-01-06', -120],
    ]);
    // Weeks from Sunday: Monday the 5th belongs to the week of Sunday the 4th.
    expect(data.books.main.weekly.map((w) => w.week)).toEqual(['2026-01-04']);
    expect(utc.version).not.toBe(ny.version);
  });

  it("lets the breaker and cooldowns expire by the log's time, and a win ends the losing streaks", () => {
    const data = project([
      ...facts,
      fact('PositionTracked', { positionId: 'E', symbol: 'ETH', side: 'long' }, '2026-01-06T08:30:00.000Z'),
      fact('PositionEntered', { positionId: 'E', symbol: 'ETH', side: 'long', value: 1000 }, '2026-01-06T08:31:00.000Z'),
      exit('E', 'ETH', 5, '2026-01-06T08:40:00.000Z'),
    ]) as { books: { main: Record<string, unknown> } };
    expect(data.books.main).toMatchObject({
      circuitBreaker: { status: 'TRIPPED', active: false },
      cooldowns: [],
      consecutiveLosses: 0,
      consecutiveLossesBySymbol: [{ symbol: 'SOL', count: 1 }],
    });
  });

  it('reads back to the same read model', () => {
    const events = recorded(facts);
    const data = ny.toJson(foldProjection(ny, events.slice(0, 6)));
    let state = ny.fromJson(JSON.parse(JSON.stringify(data)));
    for (const e of events.slice(6)) state = ny.evolve(state, e);
    expect(view(ny.toJson(state))).toEqual(project(facts));
  });
});
