import { describe, expect, it } from 'vitest';
import { auditProjection, foldProjection, ProjectionOptions } from '../../src/projections/index.js';
import { fact, recorded, t, view, type Fact } from './fixtures.js';

const audit = auditProjection(ProjectionOptions.parse({}));
const project = (facts: Fact[]) => view(audit.toJson(foldProjection(audit, recorded(facts))));

const open = (id: string, value: number, at: string): Fact[] => [
  fact('PositionTracked', { positionId: id, side: 'long' }, at),
  fact('PositionEntered', { positionId: id, side: 'long', value }, at),
];

const facts: Fact[] = [
  ...open('P', 1000, t(0)),
  ...open('Q', 400, t(0)),
  ...open('R', 200, t(0)),
  // X: seen twice (its value moved), then adopted. Leaked 300 x 10 min + 500 x 20 min.
  fact('OrphanDetected', { positionId: 'X', symbol: 'SOL', value: 300, runId: 'r1' }, t(0)),
  fact('OrphanDetected', { positionId: 'X', symbol: 'SOL', value: 500, runId: 'r2' }, t(10)),
  fact('OrphanAdopted', { positionId: 'X', symbol: 'SOL', side: 'long', value: 500 }, t(30)),
  // Y: seen once, still open at the end (t(100)): 100 x 60 min so far.
  fact('OrphanDetected', { positionId: 'Y', value: 100 }, t(40)),
  // Z: closed outside without ever being reported.
  fact('OrphanClosed', { positionId: 'Z', value: 50 }, t(50)),
  // P: suspected twice, then cleared. 1000 x 10 min + 900 x 10 min.
  fact('PhantomSuspected', { positionId: 'P', looks: 1, value: 1000 }, t(60)),
  fact('PhantomSuspected', { positionId: 'P', looks: 2, value: 900 }, t(70)),
  fact('PhantomCleared', { positionId: 'P', value: 900, costBasis: 1000, realizedPnl: -100, looks: 3, reason: 'not found' }, t(80)),
  // Q: suspected without a value (the book's value counts), then seen again. 400 x 3 min.
  fact('PhantomSuspected', { positionId: 'Q', looks: 1 }, t(62)),
  fact('PhantomDismissed', { positionId: 'Q', looks: 1 }, t(65)),
  // R: suspected, then exited by the bot. 200 x 2 min.
  fact('PhantomSuspected', { positionId: 'R', looks: 1, value: 200 }, t(66)),
  fact('PositionExited', { positionId: 'R', side: 'long', fraction: 1, value: 210, costBasis: 200, realizedPnl: 10, full: true }, t(68)),
  fact('DriftCorrected', { positionId: 'Q', localValue: 400, externalValue: 380, localQuantity: 4, externalQuantity: 3.8 }, t(90)),
  fact(
    'ReconciliationCompleted',
    {
      runId: 'r2',
      startedAt: t(94),
      completedAt: t(95),
      counts: { orphans: 1, phantoms: 1, drift: 1, corrected: 1, alerts: 0, errors: 0 },
      report: { note: 'x' },
    },
    t(95),
  ),
  fact('Heartbeat', { at: t(100) }, t(100)),
];

describe('audit.json', () => {
  it('lists every orphan and phantom with when it was seen, when and how it was resolved, and value x time leaked', () => {
    const min = 60;
    const xVs = 300 * 10 * min + 500 * 20 * min;
    const orphanVs = xVs + 100 * 60 * min;
    const phantomVs = 1000 * 10 * min + 900 * 10 * min + 400 * 3 * min + 200 * 2 * min;
    const none = { count: 0, open: 0, valueSeconds: 0, healedValueSeconds: 0 };
    expect(project(facts)).toEqual({
      asOf: t(100),
      books: {
        main: {
          orphans: [
            {
              positionId: 'X',
              symbol: 'SOL',
              detectedAt: t(0),
              detectedPosition: 7,
              detections: 2,
              lastSeenAt: t(10),
              firstValue: 300,
              value: 500,
              cause: 'manual trade',
              start: { evidence: 'detection', at: t(0), earliest: null, latest: t(0) },
              segments: [
                { from: t(0), value: 300 },
                { from: t(10), value: 500 },
              ],
              healed: false,
              resolution: 'adopted',
              resolvedAt: t(30),
              resolvedPosition: 9,
              durationSeconds: 30 * min,
              valueSeconds: 300 * 10 * min + 500 * 20 * min,
            },
            {
              positionId: 'Y',
              detectedAt: t(40),
              detectedPosition: 10,
              detections: 1,
              lastSeenAt: t(40),
              firstValue: 100,
              value: 100,
              cause: 'manual trade',
              start: { evidence: 'detection', at: t(40), earliest: null, latest: t(40) },
              segments: [{ from: t(40), value: 100 }],
              healed: false,
              resolution: 'open',
              resolvedAt: null,
              resolvedPosition: null,
              durationSeconds: 60 * min,
              valueSeconds: 100 * 60 * min,
            },
            {
              positionId: 'Z',
              detectedAt: t(50),
              detectedPosition: 11,
              detections: 0,
              lastSeenAt: t(50),
              firstValue: 50,
              value: 50,
              cause: 'manual trade',
              start: { evidence: 'detection', at: t(50), earliest: null, latest: t(50) },
              segments: [{ from: t(50), value: 50 }],
              healed: false,
              resolution: 'closed',
              resolvedAt: t(50),
              resolvedPosition: 11,
              durationSeconds: 0,
              valueSeconds: 0,
            },
          ],
          phantoms: [
            {
              positionId: 'P',
              suspectedAt: t(60),
              suspectedPosition: 12,
              looks: 3,
              value: 900,
              cause: 'unknown',
              start: { evidence: 'detection', at: t(60), earliest: null, latest: t(60) },
              segments: [
                { from: t(60), value: 1000 },
                { from: t(70), value: 900 },
              ],
              healed: false,
              resolution: 'cleared',
              resolvedAt: t(80),
              resolvedPosition: 14,
              realizedPnl: -100,
              durationSeconds: 20 * min,
              valueSeconds: 1000 * 10 * min + 900 * 10 * min,
            },
            {
              positionId: 'Q',
              suspectedAt: t(62),
              suspectedPosition: 15,
              looks: 1,
              value: 400,
              cause: 'unknown',
              start: { evidence: 'detection', at: t(62), earliest: null, latest: t(62) },
              segments: [{ from: t(62), value: 400 }],
              healed: false,
              resolution: 'dismissed',
              resolvedAt: t(65),
              resolvedPosition: 16,
              durationSeconds: 3 * min,
              valueSeconds: 400 * 3 * min,
            },
            {
              positionId: 'R',
              suspectedAt: t(66),
              suspectedPosition: 17,
              looks: 1,
              value: 200,
              cause: 'unknown',
              start: { evidence: 'detection', at: t(66), earliest: null, latest: t(66) },
              segments: [{ from: t(66), value: 200 }],
              healed: false,
              resolution: 'exited',
              resolvedAt: t(68),
              resolvedPosition: 18,
              durationSeconds: 2 * min,
              valueSeconds: 200 * 2 * min,
            },
          ],
          drift: [
            {
              at: t(90),
              position: 19,
              positionId: 'Q',
              localValue: 400,
              externalValue: 380,
              delta: -20,
              localQuantity: 4,
              externalQuantity: 3.8,
            },
          ],
          reconciliations: [
            {
              runId: 'r2',
              position: 20,
              startedAt: t(94),
              completedAt: t(95),
              counts: { orphans: 1, phantoms: 1, drift: 1, corrected: 1, alerts: 0, errors: 0 },
            },
          ],
          // No order events in this log (see promises.auditOrders.test.ts).
          orders: [],
          lateFills: [],
          // The one run's report lists nothing deferred, held or dust.
          looks: { unclear: [], dust: [] },
          externalOrders: [],
          totals: {
            orphans: { count: 3, open: 1, adopted: 1, closed: 1, valueSeconds: 300 * 10 * min + 500 * 20 * min + 100 * 60 * min },
            phantoms: {
              count: 3,
              open: 0,
              cleared: 1,
              dismissed: 1,
              exited: 1,
              valueSeconds: 1000 * 10 * min + 900 * 10 * min + 400 * 3 * min + 200 * 2 * min,
            },
            drift: { count: 1, absDelta: 20 },
            reconciliations: { count: 1, lastCompletedAt: t(95) },
            orders: { rejected: 0, lost: 0, canceledWithFills: 0, lateFills: 0 },
            leaks: {
              count: 6,
              open: 1,
              valueSeconds: orphanVs + phantomVs,
              healedValueSeconds: 0,
              byCause: {
                'unrecorded fill': none,
                'manual trade': { count: 3, open: 1, valueSeconds: orphanVs, healedValueSeconds: 0 },
                'liquidation / stop-out outside': none,
                'dust growth': none,
                unknown: { count: 3, open: 0, valueSeconds: phantomVs, healedValueSeconds: 0 },
              },
              bySymbol: {
                '(none)': { count: 5, open: 1, valueSeconds: orphanVs + phantomVs - xVs, healedValueSeconds: 0 },
                SOL: { count: 1, open: 0, valueSeconds: xVs, healedValueSeconds: 0 },
              },
              byDay: { '2026-01-05': { count: 6, open: 1, valueSeconds: orphanVs + phantomVs, healedValueSeconds: 0 } },
            },
            externalOrders: { count: 0, open: 0, canceled: 0, adopted: 0 },
          },
        },
      },
    });
  });

  it("keeps an open leak growing with the log's time, and the same orphan seen again later is a new episode", () => {
    const leak = (facts: Fact[]) =>
      (project(facts) as { books: { main: { orphans: { valueSeconds: number; resolution: string }[] } } }).books.main.orphans;
    const seen = [fact('OrphanDetected', { positionId: 'Y', value: 100 }, t(0))];
    expect(leak([...seen, fact('Heartbeat', { at: t(1) }, t(1))])[0]!.valueSeconds).toBe(100 * 60);
    expect(leak([...seen, fact('Heartbeat', { at: t(2) }, t(2))])[0]!.valueSeconds).toBe(100 * 120);
    const again = leak([
      ...seen,
      fact('OrphanClosed', { positionId: 'Y', value: 100 }, t(1)),
      fact('OrphanDetected', { positionId: 'Y', value: 10 }, t(5)),
    ]);
    expect(again.map((o) => o.resolution)).toEqual(['closed', 'open']);
  });

  it('reads back to the same read model, open episodes included', () => {
    const events = recorded(facts);
    for (const cut of [8, 12, 16]) {
      let state = audit.fromJson(JSON.parse(JSON.stringify(audit.toJson(foldProjection(audit, events.slice(0, cut))))));
      for (const e of events.slice(cut)) state = audit.evolve(state, e);
      expect(view(audit.toJson(state))).toEqual(project(facts));
    }
  });
});
