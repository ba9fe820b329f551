import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrackerConfig } from '../../src/config/index.js';
import { bookStream, type NewEvent } from '../../src/events/index.js';
import {
  auditProjection,
  canonicalJson,
  foldProjection,
  LEAK_CAUSES,
  rebuildReadModels,
  startProjections,
  type AuditData,
  type ProjectionLogger,
} from '../../src/projections/index.js';
import { projectionOptionsOf } from '../../src/projections/options.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { appendAll, intFromEnv, policy, SEED, storeWith, type Appendable } from './fixtures.js';

/*
 * Issue 15: the incremental = rebuild property, extended to the new audit. Random logs rich in
 * leak evidence (venue open and close times, reconciliation reports with deferred, held, dust and
 * capped lists, late fills with and without the venue's trade time, adoptions and clears by
 * reconciliation or by hand, days passing): audit.json folded in chunks through its own text
 * equals one fold, a live runner and a runner restarted between chunks write what a rebuild
 * writes, and every episode's numbers hang together (start inside its bounds, totals the sum of
 * the episodes, by cause and by day).
 *
 * Reproduce: PTRACK_FC_SEED=<seed> [PTRACK_FC_RUNS=<n>] npx vitest run test/projections/promises.auditIncremental.property.test.ts
 */

const runs = intFromEnv('PTRACK_FC_RUNS', 150);
const options = projectionOptionsOf(TrackerConfig.parse({ ...policy, timeZone: 'Europe/Berlin', equity: 5000, weekStartsOn: 0 }));
const audit = auditProjection(options);
const quiet: ProjectionLogger = { info() {}, warn() {}, error() {}, fatal() {} };

const OUTSIDE = ['X1', 'X2', 'X3', 'D1'] as const;
const INSIDE = ['P1', 'P2', 'P3'] as const;
const ID = fc.constantFrom(...OUTSIDE, ...INSIDE);

type Act =
  | { kind: 'clock'; seconds: number }
  | { kind: 'run'; deferred: string[]; held: string[]; dust: string[]; capped: boolean }
  | { kind: 'detect'; id: string; value: number; openedAgo: number | null; source: 'local' | 'reconcile' }
  | { kind: 'resolveOrphan'; id: string; adopt: boolean; source: 'local' | 'reconcile' }
  | { kind: 'enter'; id: string; value: number }
  | { kind: 'suspect'; id: string; value: number; closedAgo: number | null }
  | { kind: 'clear'; id: string; closedAgo: number | null; source: 'local' | 'reconcile' }
  | { kind: 'dismiss'; id: string }
  | { kind: 'exit'; id: string }
  | { kind: 'lateFill'; n: number; quantity: number; filledAgo: number | null; source: 'reconcile' | 'recovery' };

const source = fc.constantFrom('local' as const, 'reconcile' as const);
const ago = fc.option(fc.integer({ min: -120, max: 3600 }), { nil: null });
const value = fc.integer({ min: 1, max: 5000 });
const act: fc.Arbitrary<Act> = fc.oneof(
  fc.record({ kind: fc.constant('clock' as const), seconds: fc.oneof(fc.integer({ min: 1, max: 900 }), fc.constant(86_400)) }),
  fc.record({
    kind: fc.constant('run' as const),
    deferred: fc.uniqueArray(ID, { maxLength: 2 }),
    held: fc.uniqueArray(ID, { maxLength: 2 }),
    dust: fc.uniqueArray(fc.constantFrom(...OUTSIDE), { maxLength: 2 }),
    capped: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('detect' as const), id: fc.constantFrom(...OUTSIDE), value, openedAgo: ago, source }),
  fc.record({ kind: fc.constant('resolveOrphan' as const), id: fc.constantFrom(...OUTSIDE), adopt: fc.boolean(), source }),
  fc.record({ kind: fc.constant('enter' as const), id: fc.constantFrom(...INSIDE), value }),
  fc.record({ kind: fc.constant('suspect' as const), id: fc.constantFrom(...INSIDE), value, closedAgo: ago }),
  fc.record({ kind: fc.constant('clear' as const), id: fc.constantFrom(...INSIDE), closedAgo: ago, source }),
  fc.record({ kind: fc.constant('dismiss' as const), id: fc.constantFrom(...INSIDE) }),
  fc.record({ kind: fc.constant('exit' as const), id: fc.constantFrom(...INSIDE) }),
  fc.record({
    kind: fc.constant('lateFill' as const),
    n: fc.integer({ min: 1, max: 3 }),
    quantity: fc.integer({ min: 1, max: 9 }),
    filledAgo: ago,
    source: fc.constantFrom('reconcile' as const, 'recovery' as const),
  }),
);

/** The acts as a log a reconciler could have written: findings only where the book allows them. */
function logOf(acts: readonly Act[]): Appendable[] {
  const out: Appendable[] = [];
  const stream = bookStream('main');
  let now = Date.parse('2026-01-05T21:00:00.000Z');
  let runs = 0;
  let orders = 0;
  const inside = new Map<string, { value: number; looks: number }>();
  const orphans = new Set<string>();
  const iso = (ms: number): string => new Date(ms).toISOString();
  const push = (type: string, data: Record<string, unknown>): void => {
    out.push({ stream, event: { type, data, metadata: { recordedAt: iso(now) } } as NewEvent });
  };
  for (const a of acts) {
    now += 1000;
    switch (a.kind) {
      case 'clock':
        now += a.seconds * 1000;
        break;
      case 'run': {
        const ids = (xs: string[]) => ({
          items: xs.map((id) => ({ id, value: 1, outcome: 'deferred' })),
          total: xs.length + (a.capped ? 300 : 0),
        });
        push('ReconciliationCompleted', {
          runId: `r${++runs}`,
          startedAt: iso(now - 500),
          snapshotAt: iso(now - 500),
          completedAt: iso(now),
          counts: { orphans: 0, phantoms: 0, drift: 0, corrected: 0, alerts: 0, errors: 0 },
          report: {
            orphans: ids(a.deferred.filter((id) => !id.startsWith('P'))),
            phantoms: ids(a.deferred.filter((id) => id.startsWith('P'))),
            dust: { items: a.dust.map((id) => ({ id, value: 0.5 })), total: a.dust.length },
            heldByOrders: { items: a.held, total: a.held.length },
          },
          source: 'reconcile',
        });
        break;
      }
      case 'detect':
        if (orphans.has(a.id) && out.length % 2 === 0) break;
        orphans.add(a.id);
        push('OrphanDetected', {
          positionId: a.id,
          value: a.value,
          ...(a.id === 'X1' ? { symbol: 'BTC' } : {}),
          ...(a.openedAgo === null ? {} : { openedAt: iso(now - a.openedAgo * 1000) }),
          source: a.source,
        });
        break;
      case 'resolveOrphan':
        if (a.adopt) {
          orphans.delete(a.id);
          push('OrphanAdopted', { positionId: a.id, side: 'long', value: 10, source: a.source });
        } else {
          orphans.delete(a.id);
          push('OrphanClosed', { positionId: a.id, value: 10, source: a.source });
        }
        break;
      case 'enter':
        if (inside.has(a.id)) break;
        inside.set(a.id, { value: a.value, looks: 0 });
        push('PositionTracked', { positionId: a.id, symbol: 'ETH', side: 'long', source: 'local' });
        push('PositionEntered', { positionId: a.id, symbol: 'ETH', side: 'long', value: a.value, source: 'local' });
        break;
      case 'suspect': {
        const p = inside.get(a.id);
        if (p === undefined) break;
        p.looks += 1;
        push('PhantomSuspected', {
          positionId: a.id,
          looks: p.looks,
          value: a.value,
          ...(a.closedAgo === null ? {} : { closedAt: iso(now - a.closedAgo * 1000) }),
          source: 'reconcile',
        });
        break;
      }
      case 'clear': {
        const p = inside.get(a.id);
        if (p === undefined) break;
        inside.delete(a.id);
        push('PhantomCleared', {
          positionId: a.id,
          symbol: 'ETH',
          value: p.value,
          costBasis: p.value,
          realizedPnl: 0,
          looks: p.looks,
          reason: 'missing outside',
          ...(a.closedAgo === null ? {} : { closedAt: iso(now - a.closedAgo * 1000) }),
          source: a.source,
        });
        break;
      }
      case 'dismiss': {
        const p = inside.get(a.id);
        if (p === undefined || p.looks === 0) break;
        push('PhantomDismissed', { positionId: a.id, looks: p.looks, source: 'reconcile' });
        p.looks = 0;
        break;
      }
      case 'exit': {
        const p = inside.get(a.id);
        if (p === undefined) break;
        inside.delete(a.id);
        push('PositionExited', {
          positionId: a.id,
          side: 'long',
          fraction: 1,
          value: p.value,
          costBasis: p.value,
          realizedPnl: 0,
          full: true,
          source: 'local',
        });
        break;
      }
      case 'lateFill': {
        const clientOrderId = `o-${++orders}`;
        const positionId = `L${orders}`;
        push('PositionTracked', { positionId, symbol: 'SOL', side: 'long', source: 'local' });
        push('OrderRequested', {
          clientOrderId,
          orderKey: `k-${clientOrderId}`,
          attempt: 1,
          positionId,
          symbol: 'SOL',
          side: 'buy',
          intent: 'entry',
          orderType: 'market',
          quantity: a.quantity * a.n,
          referencePrice: 20,
          source: 'local',
        });
        now += 60_000;
        for (let i = 0; i < a.n; i++) {
          push('OrderFilled', {
            clientOrderId,
            tradeId: `${clientOrderId}-t${i}`,
            quantity: a.quantity,
            price: 20 + i,
            fee: 0,
            inferred: false,
            ...(a.filledAgo === null ? {} : { filledAt: iso(now - a.filledAgo * 1000) }),
            source: a.source,
          });
        }
        break;
      }
      default: {
        const _exhaustive: never = a;
        return _exhaustive;
      }
    }
  }
  out.push({
    stream,
    event: { type: 'Heartbeat', data: { at: iso(now + 1000), source: 'local' }, metadata: { recordedAt: iso(now + 1000) } },
  });
  return out;
}

const acts = fc.array(act, { minLength: 1, maxLength: 60 });

function cuts(length: number, fractions: readonly number[]): number[] {
  return [...new Set(fractions.map((f) => Math.floor(f * length)).filter((c) => c > 0 && c < length))].sort((a, b) => a - b);
}

describe('#15 the audit: incremental equals a rebuild, on logs full of leak evidence', () => {
  it(`folding in chunks through audit.json's text equals one fold, and the numbers hang together (seed ${SEED})`, async () => {
    console.log(`[projections/audit] fast-check seed=${SEED} runs=${runs}; reproduce with PTRACK_FC_SEED=${SEED} PTRACK_FC_RUNS=${runs}`);
    const seen = { venue: 0, looks: 0, fill: 0, order: 0, detection: 0, dust: 0 };
    await fc.assert(
      fc.asyncProperty(acts, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), async (script, fractions) => {
        const { recorded } = await storeWith(logOf(script));
        const whole = canonicalJson(audit.toJson(foldProjection(audit, recorded)));
        let state = audit.initialState();
        let from = 0;
        for (const cut of [...cuts(recorded.length, fractions), recorded.length]) {
          for (const e of recorded.slice(from, cut)) state = audit.evolve(state, e);
          from = cut;
          state = audit.fromJson(JSON.parse(canonicalJson(audit.toJson(state))));
        }
        expect(canonicalJson(audit.toJson(state))).toBe(whole);

        const data = JSON.parse(whole) as AuditData;
        const book = data.books.main;
        if (book === undefined) return;
        const episodes = [...book.orphans, ...book.phantoms, ...book.lateFills];
        let sum = 0;
        for (const e of episodes) {
          seen[e.start.evidence] += 1;
          if (e.cause === 'dust growth') seen.dust += 1;
          const at = Date.parse(e.start.at);
          expect(at).toBeLessThanOrEqual(Date.parse(e.start.latest));
          if (e.start.earliest !== null) expect(Date.parse(e.start.earliest)).toBeLessThanOrEqual(at);
          expect(e.segments[0]?.from).toBe(e.start.at);
          expect(e.durationSeconds).toBeGreaterThanOrEqual(0);
          expect(e.valueSeconds).toBeGreaterThanOrEqual(0);
          expect(e.durationSeconds).toBe(Math.max(0, (Date.parse(e.resolvedAt ?? data.asOf!) - at) / 1000));
          sum += e.valueSeconds;
        }
        const leaks = book.totals.leaks;
        expect(leaks.count).toBe(episodes.length);
        expect(leaks.valueSeconds).toBeCloseTo(sum, 3);
        expect(LEAK_CAUSES.reduce((n, c) => n + leaks.byCause[c].valueSeconds, 0)).toBeCloseTo(sum, 3);
        expect(Object.values(leaks.byDay).reduce((n, d) => n + d.valueSeconds, 0)).toBeCloseTo(sum, 3);
        expect(leaks.healedValueSeconds).toBeLessThanOrEqual(leaks.valueSeconds + 1e-6);
      }),
      { seed: SEED, numRuns: runs },
    );
    // The logs reach every kind of evidence (a generator that stopped making one would test nothing there).
    for (const [kind, n] of Object.entries(seen)) expect(n, kind).toBeGreaterThan(0);
  });

  it(`on disk: a live runner and a runner restarted between chunks write the audit.json a rebuild writes (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        acts,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
        async (script, fractions) => {
          const events = logOf(script);
          const { dir, cleanup } = tempDir('ptrack-audit-prop-');
          try {
            const { store: full } = await storeWith(events);
            await rebuildReadModels({ store: full, stateDir: join(dir, 'full'), options, logger: quiet });
            const chunked = new MemoryEventStore();
            let from = 0;
            for (const cut of [...cuts(events.length, fractions), events.length]) {
              await appendAll(chunked, events.slice(from, cut));
              from = cut;
              const h = await startProjections({ store: chunked, stateDir: join(dir, 'chunked'), options, logger: quiet });
              await h.whenCaughtUp();
              await h.stop();
            }
            const file = (sub: string): string => readFileSync(join(dir, sub, 'audit.json'), 'utf8');
            expect(file('chunked')).toBe(file('full'));
          } finally {
            cleanup();
          }
        },
      ),
      { seed: SEED, numRuns: Math.max(5, Math.round(runs / 6)) },
    );
  });
});
