import { describe, expect, it } from 'vitest';
import {
  auditProjection,
  foldProjection,
  leakTotals,
  ProjectionOptions,
  type AuditBook,
  type AuditData,
} from '../../src/projections/index.js';
import { fact, recorded, t, view, type Fact } from './fixtures.js';

/*
 * Issue 15, Must show 1: given findings with venue times, with late fills, and with only look
 * times, the episodes' start bounds, durations and value x time are exactly the expected numbers
 * (the leak is measured from when it began, not from when reconciliation noticed it).
 */

const audit = auditProjection(ProjectionOptions.parse({}));
const bookOf = (facts: Fact[]): AuditBook =>
  (view(audit.toJson(foldProjection(audit, recorded(facts)))) as Omit<AuditData, 'fold'>).books.main!;
const min = 60;

const rec = (f: Fact): Fact => ({ ...f, source: 'reconcile' });
const open = (id: string, symbol: string, value: number, at: string): Fact[] => [
  fact('PositionTracked', { positionId: id, symbol, side: 'long' }, at),
  fact('PositionEntered', { positionId: id, symbol, side: 'long', value }, at),
];
type Listed = { items: unknown[]; total: number };
const list = (items: unknown[]): Listed => ({ items, total: items.length });
/** One reconciliation run that looked at `at` and reported these lists (the reconciler's report shape). */
function run(
  runId: string,
  at: string,
  report: { orphans?: unknown[]; phantoms?: unknown[]; dust?: unknown[]; held?: string[] } = {},
): Fact {
  return rec(
    fact(
      'ReconciliationCompleted',
      {
        runId,
        startedAt: at,
        snapshotAt: at,
        completedAt: at,
        counts: { orphans: 0, phantoms: 0, drift: 0, corrected: 0, alerts: 0, errors: 0 },
        report: {
          orphans: list(report.orphans ?? []),
          phantoms: list(report.phantoms ?? []),
          drift: list([]),
          dust: list(report.dust ?? []),
          heldByOrders: list(report.held ?? []),
        },
      },
      at,
    ),
  );
}
const request = (clientOrderId: string, positionId: string, at: string): Fact =>
  fact(
    'OrderRequested',
    {
      clientOrderId,
      orderKey: `k-${clientOrderId}`,
      attempt: 1,
      positionId,
      symbol: 'ETH',
      side: 'buy',
      intent: 'entry',
      orderType: 'market',
      quantity: 2,
      referencePrice: 50,
    },
    at,
  );

describe('#15 leaks dated by the venue', () => {
  const facts: Fact[] = [
    ...open('P', 'BTC', 1000, t(0)),
    run('r1', t(0)),
    // X opened outside at 10:02 (the venue says), found and adopted by the run at 10:05.
    rec(fact('OrphanDetected', { positionId: 'X', symbol: 'SOL', value: 600, openedAt: t(2), runId: 'r2' }, t(5))),
    rec(fact('OrphanAdopted', { positionId: 'X', symbol: 'SOL', side: 'long', value: 600 }, t(5))),
    run('r2', t(5)),
    // P liquidated at the venue at 10:07, confirmed gone by a direct look at 10:10, cleared.
    rec(fact('PhantomSuspected', { positionId: 'P', looks: 1, value: 1000, closedAt: t(7), runId: 'r3' }, t(10))),
    rec(
      fact(
        'PhantomCleared',
        { positionId: 'P', symbol: 'BTC', value: 1000, costBasis: 1000, realizedPnl: 0, looks: 1, reason: 'gone', closedAt: t(7) },
        t(10),
      ),
    ),
    run('r3', t(10)),
    // A venue clock ahead of ours: the start is the finding, not after it.
    rec(fact('OrphanDetected', { positionId: 'Z', value: 100, openedAt: t(20), runId: 'r4' }, t(15))),
    run('r4', t(15)),
    fact('Heartbeat', { at: t(25) }, t(25)),
  ];

  it('#15 an orphan counts from the venue open time: 3 minutes, 600 x 180 value-seconds, a manual trade, healed', () => {
    const [x] = bookOf(facts).orphans;
    expect(x).toMatchObject({
      positionId: 'X',
      cause: 'manual trade',
      start: { evidence: 'venue', at: t(2), earliest: t(2), latest: t(2) },
      detectedAt: t(5),
      resolvedAt: t(5),
      durationSeconds: 3 * min,
      valueSeconds: 600 * 3 * min,
      healed: true,
    });
  });

  it('#15 a phantom counts from the venue close time: a liquidation outside, 3 minutes, 1000 x 180', () => {
    const [p] = bookOf(facts).phantoms;
    expect(p).toMatchObject({
      positionId: 'P',
      cause: 'liquidation / stop-out outside',
      start: { evidence: 'venue', at: t(7), earliest: t(7), latest: t(7) },
      resolution: 'cleared',
      durationSeconds: 3 * min,
      valueSeconds: 1000 * 3 * min,
      healed: true,
    });
  });

  it('#15 a venue time after the finding dates the leak at the finding', () => {
    const z = bookOf(facts).orphans[1];
    expect(z).toMatchObject({ start: { evidence: 'venue', at: t(15) }, durationSeconds: 10 * min, valueSeconds: 100 * 10 * min });
  });

  it('#15 totals per cause, per symbol, per day, and the part healed automatically', () => {
    const leaks = bookOf(facts).totals.leaks;
    const vx = 600 * 3 * min;
    const vp = 1000 * 3 * min;
    const vz = 100 * 10 * min;
    expect(leaks).toMatchObject({ count: 3, open: 1, valueSeconds: vx + vp + vz, healedValueSeconds: vx + vp });
    expect(leaks.byCause['manual trade']).toEqual({ count: 2, open: 1, valueSeconds: vx + vz, healedValueSeconds: vx });
    expect(leaks.byCause['liquidation / stop-out outside']).toEqual({ count: 1, open: 0, valueSeconds: vp, healedValueSeconds: vp });
    expect(leaks.byCause.unknown.count).toBe(0);
    expect(leaks.bySymbol).toEqual({
      '(none)': { count: 1, open: 1, valueSeconds: vz, healedValueSeconds: 0 },
      BTC: { count: 1, open: 0, valueSeconds: vp, healedValueSeconds: vp },
      SOL: { count: 1, open: 0, valueSeconds: vx, healedValueSeconds: vx },
    });
    expect(leaks.byDay).toEqual({ '2026-01-05': { count: 3, open: 1, valueSeconds: vx + vp + vz, healedValueSeconds: vx + vp } });
  });
});

describe('#15 late fills', () => {
  it('#15 a fill of our order recorded late counts from the venue trade time: unrecorded fill, 2 x 50 for 5 minutes', () => {
    const book = bookOf([
      fact('PositionTracked', { positionId: 'A', symbol: 'ETH', side: 'long' }, t(0)),
      request('o-1', 'A', t(0)),
      rec(
        fact(
          'OrderFilled',
          { clientOrderId: 'o-1', tradeId: 'tr-1', quantity: 2, price: 50, fee: 0, inferred: false, filledAt: t(20) },
          t(25),
        ),
      ),
    ]);
    expect(book.lateFills).toEqual([
      {
        clientOrderId: 'o-1',
        positionId: 'A',
        symbol: 'ETH',
        tradeId: 'tr-1',
        quantity: 2,
        price: 50,
        cause: 'unrecorded fill',
        start: { evidence: 'fill', at: t(20), earliest: t(20), latest: t(20) },
        value: 100,
        segments: [{ from: t(20), value: 100 }],
        healed: true,
        resolution: 'recorded',
        resolvedAt: t(25),
        resolvedPosition: 3,
        durationSeconds: 5 * min,
        valueSeconds: 100 * 5 * min,
      },
    ]);
    expect(book.totals.leaks.byCause['unrecorded fill']).toEqual({
      count: 1,
      open: 0,
      valueSeconds: 100 * 5 * min,
      healedValueSeconds: 100 * 5 * min,
    });
  });

  it('#15 without a venue time the fill is bounded by its order: began between the request and the record', () => {
    const book = bookOf([
      fact('PositionTracked', { positionId: 'A', symbol: 'ETH', side: 'long' }, t(0)),
      request('o-1', 'A', t(3)),
      rec(fact('OrderFilled', { clientOrderId: 'o-1', tradeId: 'tr-1', quantity: 2, price: 50, fee: 0, inferred: false }, t(13))),
    ]);
    expect(book.lateFills[0]).toMatchObject({
      start: { evidence: 'order', at: t(3), earliest: t(3), latest: t(13) },
      durationSeconds: 10 * min,
      valueSeconds: 100 * 10 * min,
    });
  });

  it('#15 an orphan on a position one of our orders was for is an unrecorded fill', () => {
    const book = bookOf([
      fact('PositionTracked', { positionId: 'A', symbol: 'ETH', side: 'long' }, t(0)),
      request('o-1', 'A', t(0)),
      fact('OrderLost', { clientOrderId: 'o-1', looks: 3, resolution: 'REJECTED', reason: 'not found' }, t(2)),
      rec(fact('OrphanDetected', { positionId: 'A', symbol: 'ETH', value: 100, openedAt: t(1) }, t(4))),
    ]);
    expect(book.orphans[0]).toMatchObject({ cause: 'unrecorded fill', start: { evidence: 'venue', at: t(1) } });
  });
});

describe('#15 leaks dated by the looks alone', () => {
  it('#15 an orphan began after the last look that did not see it: between 10:05 and 10:10, counted from 10:05', () => {
    const book = bookOf([
      run('r1', t(0)),
      run('r2', t(5)),
      rec(fact('OrphanDetected', { positionId: 'Y', value: 200, runId: 'r3' }, t(10))),
      rec(fact('OrphanAdopted', { positionId: 'Y', side: 'long', value: 200 }, t(10))),
      run('r3', t(10), { orphans: [{ id: 'Y', value: 200, outcome: 'adopted' }] }),
    ]);
    expect(book.orphans[0]).toMatchObject({
      start: { evidence: 'looks', at: t(5), earliest: t(5), latest: t(10) },
      durationSeconds: 5 * min,
      valueSeconds: 200 * 5 * min,
    });
  });

  it('#15 a look that saw it and deferred it (too recent, or held by an order) does not narrow the bounds', () => {
    const book = bookOf([
      run('r1', t(0)),
      run('r2', t(5), { orphans: [{ id: 'Y', value: 200, outcome: 'deferred' }] }),
      run('r3', t(10), { held: ['Y'] }),
      rec(fact('OrphanDetected', { positionId: 'Y', value: 200, runId: 'r4' }, t(15))),
      run('r4', t(15), { orphans: [{ id: 'Y', value: 200, outcome: 'alerted' }] }),
      fact('Heartbeat', { at: t(20) }, t(20)),
    ]);
    expect(book.orphans[0]).toMatchObject({
      start: { evidence: 'looks', at: t(0), earliest: t(0), latest: t(15) },
      resolution: 'open',
      durationSeconds: 20 * min,
      valueSeconds: 200 * 20 * min,
    });
    expect(book.looks).toEqual({ unclear: [], dust: [] });
  });

  it('#15 a deferral that cleared (a complete report no longer lists it) is forgotten', () => {
    const book = bookOf([
      run('r1', t(0)),
      run('r2', t(5), { orphans: [{ id: 'Y', value: 200, outcome: 'deferred' }] }),
      run('r3', t(10)),
      rec(fact('OrphanDetected', { positionId: 'Y', value: 200, runId: 'r4' }, t(15))),
    ]);
    expect(book.orphans[0]?.start).toEqual({ evidence: 'looks', at: t(10), earliest: t(10), latest: t(15) });
  });

  it('#15 a capped report does not clear what it may not have listed', () => {
    const capped = run('r3', t(10));
    (capped.data.report as { orphans: Listed }).orphans = { items: [], total: 500 };
    const book = bookOf([
      run('r1', t(0)),
      run('r2', t(5), { orphans: [{ id: 'Y', value: 200, outcome: 'deferred' }] }),
      capped,
      rec(fact('OrphanDetected', { positionId: 'Y', value: 200, runId: 'r4' }, t(15))),
    ]);
    expect(book.orphans[0]?.start).toEqual({ evidence: 'looks', at: t(0), earliest: t(0), latest: t(15) });
  });

  it('#15 dust that grew: the cause is dust growth, dated from the last look that saw it as dust (not its open time)', () => {
    const book = bookOf([
      run('r1', t(0), { dust: [{ id: 'D', value: 0.2 }] }),
      run('r2', t(5), { dust: [{ id: 'D', value: 0.3 }] }),
      rec(fact('OrphanDetected', { positionId: 'D', value: 12, openedAt: t(-300), runId: 'r3' }, t(10))),
      rec(fact('OrphanAdopted', { positionId: 'D', side: 'long', value: 12 }, t(10))),
      run('r3', t(10), { orphans: [{ id: 'D', value: 12, outcome: 'adopted' }] }),
    ]);
    expect(book.orphans[0]).toMatchObject({
      cause: 'dust growth',
      start: { evidence: 'looks', at: t(5), earliest: t(5), latest: t(10) },
      durationSeconds: 5 * min,
      valueSeconds: 12 * 5 * min,
      healed: true,
    });
    expect(book.looks.dust).toEqual([]);
  });

  it('#15 a phantom began after the last look that still saw it, and not before it was entered', () => {
    const book = bookOf([
      ...open('Q', 'ETH', 300, t(0)),
      run('r1', t(5)),
      ...open('R', 'SOL', 100, t(7)),
      rec(fact('PhantomSuspected', { positionId: 'Q', looks: 1, value: 300, runId: 'r2' }, t(10))),
      rec(fact('PhantomSuspected', { positionId: 'R', looks: 1, value: 100, runId: 'r2' }, t(10))),
      run('r2', t(10)),
      rec(fact('PhantomSuspected', { positionId: 'Q', looks: 2, value: 330, runId: 'r3' }, t(15))),
      rec(
        fact(
          'PhantomCleared',
          { positionId: 'Q', symbol: 'ETH', value: 330, costBasis: 300, realizedPnl: 30, looks: 2, reason: 'missing outside for 2 looks' },
          t(15),
        ),
      ),
      run('r3', t(15)),
      fact('Heartbeat', { at: t(20) }, t(20)),
    ]);
    const [q, r] = book.phantoms;
    expect(q).toMatchObject({
      cause: 'unknown',
      start: { evidence: 'looks', at: t(5), earliest: t(5), latest: t(10) },
      segments: [
        { from: t(5), value: 300 },
        { from: t(15), value: 330 },
      ],
      durationSeconds: 10 * min,
      valueSeconds: 300 * 10 * min,
      healed: true,
    });
    expect(r).toMatchObject({
      start: { evidence: 'looks', at: t(7), earliest: t(7), latest: t(10) },
      resolution: 'open',
      durationSeconds: 13 * min,
      valueSeconds: 100 * 13 * min,
    });
  });

  it('#15 a close time learned on a later look re-dates a phantom suspected earlier', () => {
    const book = bookOf([
      ...open('Q', 'ETH', 300, t(0)),
      run('r1', t(5)),
      rec(fact('PhantomSuspected', { positionId: 'Q', looks: 1, value: 300, runId: 'r2' }, t(10))),
      run('r2', t(10)),
      rec(
        fact(
          'PhantomCleared',
          { positionId: 'Q', symbol: 'ETH', value: 300, costBasis: 300, realizedPnl: 0, looks: 2, reason: 'gone', closedAt: t(8) },
          t(15),
        ),
      ),
    ]);
    expect(book.phantoms[0]).toMatchObject({
      cause: 'liquidation / stop-out outside',
      start: { evidence: 'venue', at: t(8) },
      durationSeconds: 7 * min,
      valueSeconds: 300 * 7 * min,
    });
  });
});

describe('#15 totals over a window and by day', () => {
  it('#15 a window counts only the value x time inside it; days split at midnight of the book time zone', () => {
    const episode = {
      cause: 'manual trade' as const,
      start: { at: '2026-01-05T22:00:00.000Z' },
      segments: [
        { from: '2026-01-05T22:00:00.000Z', value: 100 },
        { from: '2026-01-05T23:30:00.000Z', value: 200 },
      ],
      healed: true,
      resolvedAt: '2026-01-06T01:00:00.000Z',
    };
    const whole = leakTotals([episode], { timeZone: 'UTC', asOf: '2026-01-07T00:00:00.000Z' });
    expect(whole.valueSeconds).toBe(100 * 5400 + 200 * 5400);
    expect(whole.byDay).toEqual({
      '2026-01-05': { count: 1, open: 0, valueSeconds: 100 * 5400 + 200 * 1800, healedValueSeconds: 100 * 5400 + 200 * 1800 },
      '2026-01-06': { count: 1, open: 0, valueSeconds: 200 * 3600, healedValueSeconds: 200 * 3600 },
    });
    // Berlin is UTC+1 in January: its midnight is 23:00 UTC.
    const berlin = leakTotals([episode], { timeZone: 'Europe/Berlin', asOf: '2026-01-07T00:00:00.000Z' });
    expect(berlin.byDay['2026-01-05']?.valueSeconds).toBe(100 * 3600);
    expect(berlin.byDay['2026-01-06']?.valueSeconds).toBe(100 * 1800 + 200 * 5400);
    const window = leakTotals([episode], {
      timeZone: 'UTC',
      asOf: '2026-01-07T00:00:00.000Z',
      since: '2026-01-05T23:00:00.000Z',
      until: '2026-01-06T00:30:00.000Z',
    });
    expect(window).toMatchObject({ count: 1, valueSeconds: 100 * 1800 + 200 * 3600, healedValueSeconds: 100 * 1800 + 200 * 3600 });
    const before = leakTotals([episode], { timeZone: 'UTC', asOf: '2026-01-07T00:00:00.000Z', until: '2026-01-05T21:00:00.000Z' });
    expect(before).toMatchObject({ count: 0, valueSeconds: 0 });
  });
});
