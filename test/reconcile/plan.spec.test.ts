import { describe, expect, it } from 'vitest';
import { bookStateToJson, type BookState } from '../../src/commands/index.js';
import type { EventData } from '../../src/events/index.js';
import {
  ReconcilePolicy,
  planReconciliation,
  type ExternalPosition,
  type PlanPolicy,
  type ReconcilePolicyInput,
  type ReconciliationPlan,
} from '../../src/reconcile/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';

/*
 * The planner as a specification: given the book (folded from events), what the outside
 * system shows, and a policy, these are the findings and the actions, exactly.
 * The snapshot starts at NOW; the default grace window is 30 s, so history written an hour
 * before is judged and history written 10 s before is deferred. Dust is below 5.
 */

const NOW = new Date('2026-01-05T12:00:00.000Z');
const LATER = new Date(NOW.getTime() + 5_000);
const LONG_AGO = new Date(NOW.getTime() - 3_600_000);
const RECENT = new Date(NOW.getTime() - 10_000);
const RUN = 'run-1';

const at = (date: Date) => ({ recordedAt: date.toISOString() });

function tracked(id: string, data: Partial<EventData<'PositionTracked'>> = {}, when = LONG_AGO): GivenEvent {
  return { type: 'PositionTracked', data: { positionId: id, side: 'long', symbol: 'BTC', ...data, source: 'local' }, metadata: at(when) };
}
function entered(id: string, value: number, data: Partial<EventData<'PositionEntered'>> = {}, when = LONG_AGO): GivenEvent {
  return {
    type: 'PositionEntered',
    data: { positionId: id, side: 'long', symbol: 'BTC', value, ...data, source: 'local' },
    metadata: at(when),
  };
}
function exited(id: string, value: number, when = LONG_AGO): GivenEvent {
  return {
    type: 'PositionExited',
    data: {
      positionId: id,
      side: 'long',
      symbol: 'BTC',
      fraction: 1,
      value,
      costBasis: value,
      realizedPnl: 0,
      full: true,
      source: 'local',
    },
    metadata: at(when),
  };
}
function suspected(id: string, looks: number, value = 1000): GivenEvent {
  return { type: 'PhantomSuspected', data: { positionId: id, looks, value, source: 'reconcile' }, metadata: at(LONG_AGO) };
}
function orphanDetected(id: string, value: number): GivenEvent {
  return { type: 'OrphanDetected', data: { positionId: id, value, symbol: 'ETH', source: 'reconcile' }, metadata: at(LONG_AGO) };
}
/** A long BTC position IN since an hour ago (or since `when`). */
function inPosition(id: string, value = 1000, data: Partial<EventData<'PositionEntered'>> = {}, when = LONG_AGO): GivenEvent[] {
  const symbol = data.symbol ?? 'BTC';
  return [tracked(id, { symbol }, when), entered(id, value, { ...data, symbol }, when)];
}

const book = (events: GivenEvent[]): BookState => deciderSpec({ now: NOW }).given(events).state();
const policy = (input: ReconcilePolicyInput = {}): PlanPolicy => ({ ...ReconcilePolicy.parse(input), minPositionValue: 5 });
const ext = (id: string, value: number, more: Partial<ExternalPosition> = {}): ExternalPosition => ({ id, value, ...more });

function plan(events: GivenEvent[], outside: ExternalPosition[], input: ReconcilePolicyInput = {}, canVerify = false): ReconciliationPlan {
  return planReconciliation(book(events), { positions: outside, startedAt: NOW, canVerify }, policy(input), LATER, RUN);
}

const EMPTY: ReconciliationPlan = { orphans: [], dust: [], phantoms: [], reappeared: [], drift: [], vanished: [], actions: [] };
const nothing = (over: Partial<ReconciliationPlan>): ReconciliationPlan => ({ ...EMPTY, ...over });

const OUT = ext('OUT-1', 500, { symbol: 'ETH', side: 'short', quantity: 0.2, price: 2500 });
const detectOut = {
  kind: 'command',
  command: { type: 'DetectOrphan', positionId: 'OUT-1', value: 500, runId: RUN, symbol: 'ETH', side: 'short', quantity: 0.2, price: 2500 },
  about: 'OUT-1 is open outside (value 500) and unknown here',
} as const;
const outFinding = { positionId: 'OUT-1', value: 500, symbol: 'ETH', side: 'short', quantity: 0.2, local: 'UNKNOWN' } as const;

describe('planReconciliation', () => {
  describe('when both sides agree', () => {
    it('plans nothing for an empty book and an empty outside', () => {
      expect(plan([], [])).toStrictEqual(EMPTY);
    });

    it('plans nothing for an IN position open outside at the same value', () => {
      expect(plan(inPosition('BOT-1', 1000), [ext('BOT-1', 1000)])).toStrictEqual(EMPTY);
    });

    it('is pure: the book is not changed and the same input gives the same plan', () => {
      const state = book([...inPosition('BOT-1', 1000), ...inPosition('BOT-2', 800, { symbol: 'ETH' }), suspected('BOT-2', 1)]);
      const before = JSON.stringify(bookStateToJson(state));
      const snapshot = { positions: [OUT, ext('BOT-1', 1200)], startedAt: NOW, canVerify: false };
      const first = planReconciliation(state, snapshot, policy(), LATER, RUN);
      const second = planReconciliation(state, snapshot, policy(), LATER, RUN);
      expect(second).toStrictEqual(first);
      expect(first.actions.length).toBeGreaterThan(0);
      expect(JSON.stringify(bookStateToJson(state))).toBe(before);
    });
  });

  describe('an orphan above dust (open outside, not IN here)', () => {
    it('is detected and adopted under orphans: adopt', () => {
      expect(plan([], [OUT], { orphans: 'adopt' })).toStrictEqual(
        nothing({
          orphans: [{ ...outFinding, verdict: 'adopt' }],
          actions: [
            detectOut,
            {
              kind: 'command',
              command: {
                type: 'AdoptOrphan',
                positionId: 'OUT-1',
                value: 500,
                reason: 'open outside, unknown here',
                symbol: 'ETH',
                side: 'short',
                quantity: 0.2,
                price: 2500,
              },
              about: 'adopt OUT-1',
            },
          ],
        }),
      );
    });

    it('is detected and planned for a close outside (after a second look) under orphans: close', () => {
      expect(plan([], [OUT], { orphans: 'close' })).toStrictEqual(
        nothing({
          orphans: [{ ...outFinding, verdict: 'close' }],
          actions: [detectOut, { kind: 'close', positionId: 'OUT-1', value: 500, symbol: 'ETH' }],
        }),
      );
    });

    it('is detected and handed to a person under orphans: manual', () => {
      expect(plan([], [OUT], { orphans: 'manual' })).toStrictEqual(
        nothing({
          orphans: [{ ...outFinding, verdict: 'manual' }],
          actions: [
            detectOut,
            {
              kind: 'alert',
              alert: {
                severity: 'critical',
                kind: 'orphan',
                positionId: 'OUT-1',
                message: 'orphan OUT-1: open outside (value 500), not IN here; policy manual',
              },
            },
          ],
        }),
      );
    });

    it('exactly at the dust threshold is an orphan, not dust', () => {
      const p = plan([], [ext('OUT-5', 5)], { orphans: 'manual' });
      expect(p.dust).toStrictEqual([]);
      expect(p.orphans).toStrictEqual([{ positionId: 'OUT-5', value: 5, local: 'UNKNOWN', verdict: 'manual' }]);
    });

    it('without runId the commands carry none', () => {
      const p = planReconciliation(book([]), { positions: [ext('OUT-2', 100)], startedAt: NOW, canVerify: false }, policy(), LATER);
      expect(p.actions[0]).toStrictEqual({
        kind: 'command',
        command: { type: 'DetectOrphan', positionId: 'OUT-2', value: 100 },
        about: 'OUT-2 is open outside (value 100) and unknown here',
      });
    });

    it.each([
      ['EXITED', [tracked('BOT-1', { symbol: 'BTC', setup: 'breakout', group: 'crypto' }), entered('BOT-1', 900), exited('BOT-1', 950)]],
      ['WATCHING', [tracked('BOT-1', { symbol: 'BTC', setup: 'breakout', group: 'crypto' })]],
    ] as const)('whose id is %s here is archived, then adopted with what the book knew of it', (status, history) => {
      // The outside system does not say which symbol or side: the book's knowledge fills in.
      expect(plan([...history], [ext('BOT-1', 700)], { orphans: 'adopt' })).toStrictEqual(
        nothing({
          orphans: [{ positionId: 'BOT-1', value: 700, local: status, verdict: 'adopt' }],
          actions: [
            {
              kind: 'command',
              command: { type: 'DetectOrphan', positionId: 'BOT-1', value: 700, runId: RUN },
              about: `BOT-1 is open outside (value 700) and ${status} here`,
            },
            { kind: 'command', command: { type: 'Archive', positionId: 'BOT-1' }, about: `archive the ${status} BOT-1 before adopting it` },
            {
              kind: 'command',
              command: {
                type: 'AdoptOrphan',
                positionId: 'BOT-1',
                value: 700,
                reason: 'open outside, unknown here',
                symbol: 'BTC',
                side: 'long',
                setup: 'breakout',
                group: 'crypto',
              },
              about: 'adopt BOT-1',
            },
          ],
        }),
      );
    });

    it('whose id is EXITED here under close is not archived (nothing enters the book)', () => {
      const p = plan([...inPosition('BOT-1', 900), exited('BOT-1', 950)], [ext('BOT-1', 700, { symbol: 'BTC' })], { orphans: 'close' });
      expect(p.actions.map((a) => (a.kind === 'command' ? a.command.type : a.kind))).toStrictEqual(['DetectOrphan', 'close']);
    });
  });

  describe('an orphan below dust', () => {
    it('is ignored and listed as dust, under every orphan policy', () => {
      for (const orphans of ['adopt', 'close', 'manual'] as const) {
        expect(plan([], [ext('DUST-1', 0.2, { symbol: 'SOL' }), ext('DUST-2', 4.99)], { orphans })).toStrictEqual(
          nothing({
            dust: [
              { positionId: 'DUST-1', value: 0.2 },
              { positionId: 'DUST-2', value: 4.99 },
            ],
          }),
        );
      }
    });
  });

  describe('a phantom (IN here, missing outside)', () => {
    const bot = inPosition('BOT-1', 1000);

    it('on the first look without a direct look is suspected (looks 1) and nothing more', () => {
      expect(plan(bot, [])).toStrictEqual(
        nothing({
          phantoms: [{ positionId: 'BOT-1', value: 1000, symbol: 'BTC', looks: 1, verdict: 'suspected', policy: 'clear' }],
          actions: [
            {
              kind: 'command',
              command: { type: 'SuspectPhantom', positionId: 'BOT-1', looks: 1, runId: RUN },
              about: 'BOT-1 is IN here and missing outside (look 1 of 2)',
            },
          ],
        }),
      );
    });

    it('is confirmed on the Nth look and cleared under phantoms: clear', () => {
      expect(plan([...bot, suspected('BOT-1', 1)], [], { phantoms: 'clear' })).toStrictEqual(
        nothing({
          phantoms: [{ positionId: 'BOT-1', value: 1000, symbol: 'BTC', looks: 2, verdict: 'confirmed', policy: 'clear' }],
          actions: [
            {
              kind: 'command',
              command: { type: 'SuspectPhantom', positionId: 'BOT-1', looks: 2, runId: RUN },
              about: 'BOT-1 missing outside for 2 look(s)',
            },
            {
              kind: 'command',
              command: { type: 'ClearPhantom', positionId: 'BOT-1', looks: 2, reason: 'missing outside for 2 consecutive look(s)' },
              about: 'clear phantom BOT-1',
            },
          ],
        }),
      );
    });

    it('is confirmed on the Nth look and alerted under phantoms: manual', () => {
      expect(plan([...bot, suspected('BOT-1', 1)], [], { phantoms: 'manual' })).toStrictEqual(
        nothing({
          phantoms: [{ positionId: 'BOT-1', value: 1000, symbol: 'BTC', looks: 2, verdict: 'confirmed', policy: 'manual' }],
          actions: [
            {
              kind: 'command',
              command: { type: 'SuspectPhantom', positionId: 'BOT-1', looks: 2, runId: RUN },
              about: 'BOT-1 missing outside for 2 look(s)',
            },
            {
              kind: 'alert',
              alert: {
                severity: 'critical',
                kind: 'phantom',
                positionId: 'BOT-1',
                message: 'phantom BOT-1: IN here (value 1000), gone outside; policy manual',
              },
            },
          ],
        }),
      );
    });

    it('counts looks from the PhantomSuspected events in the log (phantomConfirmLooks: 3)', () => {
      const second = plan([...bot, suspected('BOT-1', 1)], [], { phantomConfirmLooks: 3 });
      expect(second.phantoms).toStrictEqual([
        { positionId: 'BOT-1', value: 1000, symbol: 'BTC', looks: 2, verdict: 'suspected', policy: 'clear' },
      ]);
      expect(second.actions).toStrictEqual([
        {
          kind: 'command',
          command: { type: 'SuspectPhantom', positionId: 'BOT-1', looks: 2, runId: RUN },
          about: 'BOT-1 is IN here and missing outside (look 2 of 3)',
        },
      ]);
      const third = plan([...bot, suspected('BOT-1', 1), suspected('BOT-1', 2)], [], { phantomConfirmLooks: 3 });
      expect(third.phantoms.map((p) => [p.looks, p.verdict])).toStrictEqual([[3, 'confirmed']]);
      expect(third.actions.map((a) => (a.kind === 'command' ? a.command.type : a.kind))).toStrictEqual(['SuspectPhantom', 'ClearPhantom']);
    });

    it('with a direct look available is verified on the first look', () => {
      expect(plan(bot, [], {}, true)).toStrictEqual(
        nothing({
          phantoms: [{ positionId: 'BOT-1', value: 1000, symbol: 'BTC', looks: 1, verdict: 'verify', policy: 'clear' }],
          actions: [{ kind: 'verify', positionId: 'BOT-1', looks: 1, policy: 'clear' }],
        }),
      );
      expect(plan(bot, [], { phantoms: 'manual' }, true).actions).toStrictEqual([
        { kind: 'verify', positionId: 'BOT-1', looks: 1, policy: 'manual' },
      ]);
    });

    it('already confirmed by looks needs no direct look', () => {
      const p = plan([...bot, suspected('BOT-1', 1)], [], {}, true);
      expect(p.phantoms.map((x) => x.verdict)).toStrictEqual(['confirmed']);
      expect(p.actions.map((a) => a.kind)).toStrictEqual(['command', 'command']);
    });

    it('that reappears outside is dismissed, not confirmed', () => {
      expect(plan([...bot, suspected('BOT-1', 1)], [ext('BOT-1', 1000)])).toStrictEqual(
        nothing({
          reappeared: [{ positionId: 'BOT-1', looks: 1 }],
          actions: [{ kind: 'command', command: { type: 'DismissPhantom', positionId: 'BOT-1' }, about: 'BOT-1 is open outside again' }],
        }),
      );
    });

    it('that reappears with drift is dismissed and corrected', () => {
      const p = plan([...bot, suspected('BOT-1', 1)], [ext('BOT-1', 1100)]);
      expect(p.phantoms).toStrictEqual([]);
      expect(p.actions.map((a) => (a.kind === 'command' ? a.command.type : a.kind))).toStrictEqual(['DismissPhantom', 'CorrectDrift']);
    });

    it('is not a phantom when it is not IN (EXITED here, gone outside)', () => {
      expect(plan([...bot, exited('BOT-1', 1000)], [])).toStrictEqual(EMPTY);
    });
  });

  describe('drift (both know it, values differ)', () => {
    const bot = inPosition('BOT-1', 1000, { quantity: 2 });

    it('inside the tolerance (1% of 1000 = 10) is nothing, also exactly at it', () => {
      expect(plan(bot, [ext('BOT-1', 1009.99)])).toStrictEqual(EMPTY);
      expect(plan(bot, [ext('BOT-1', 990)])).toStrictEqual(EMPTY);
      expect(plan(bot, [ext('BOT-1', 1010)])).toStrictEqual(EMPTY);
    });

    it('beyond the tolerance is corrected under drift: correct', () => {
      expect(plan(bot, [ext('BOT-1', 1011)], { drift: 'correct' })).toStrictEqual(
        nothing({
          drift: [
            {
              positionId: 'BOT-1',
              symbol: 'BTC',
              localValue: 1000,
              externalValue: 1011,
              localQuantity: 2,
              tolerance: 10,
              verdict: 'correct',
            },
          ],
          actions: [
            {
              kind: 'command',
              command: { type: 'CorrectDrift', positionId: 'BOT-1', externalValue: 1011, tolerance: 10 },
              about: 'BOT-1: value 1000 here, 1011 outside',
            },
          ],
        }),
      );
    });

    it('beyond the tolerance is alerted under drift: alert', () => {
      expect(plan(bot, [ext('BOT-1', 950)], { drift: 'alert' })).toStrictEqual(
        nothing({
          drift: [
            { positionId: 'BOT-1', symbol: 'BTC', localValue: 1000, externalValue: 950, localQuantity: 2, tolerance: 10, verdict: 'alert' },
          ],
          actions: [
            {
              kind: 'alert',
              alert: {
                severity: 'warning',
                kind: 'drift',
                positionId: 'BOT-1',
                message: 'drift on BOT-1: value 1000 here, 950 outside (tolerance 10)',
              },
            },
          ],
        }),
      );
    });

    it('takes the larger of the % and the absolute tolerance', () => {
      expect(plan(bot, [ext('BOT-1', 1019)], { driftToleranceAbs: 20 })).toStrictEqual(EMPTY);
      expect(plan(bot, [ext('BOT-1', 1021)], { driftToleranceAbs: 20 }).drift.map((d) => d.tolerance)).toStrictEqual([20]);
      expect(plan(bot, [ext('BOT-1', 1004)], { driftTolerancePct: 0.1 }).drift.map((d) => d.tolerance)).toStrictEqual([1]);
    });

    it('in quantity (same value) is drift too, and the correction carries the quantity', () => {
      expect(plan(bot, [ext('BOT-1', 1000, { quantity: 1.5 })])).toStrictEqual(
        nothing({
          drift: [
            {
              positionId: 'BOT-1',
              symbol: 'BTC',
              localValue: 1000,
              externalValue: 1000,
              localQuantity: 2,
              externalQuantity: 1.5,
              tolerance: 10,
              verdict: 'correct',
            },
          ],
          actions: [
            {
              kind: 'command',
              command: { type: 'CorrectDrift', positionId: 'BOT-1', externalValue: 1000, externalQuantity: 1.5, tolerance: 10 },
              about: 'BOT-1: value 1000 here, 1000 outside',
            },
          ],
        }),
      );
      expect(plan(bot, [ext('BOT-1', 1000, { quantity: 2 })])).toStrictEqual(EMPTY);
    });
  });

  describe('the grace window (graceSeconds before the snapshot started)', () => {
    it('defers a phantom entered within it', () => {
      expect(plan(inPosition('BOT-1', 1000, {}, RECENT), [], {}, true)).toStrictEqual(
        nothing({ phantoms: [{ positionId: 'BOT-1', value: 1000, symbol: 'BTC', looks: 1, verdict: 'deferred', policy: 'clear' }] }),
      );
    });

    it('defers an orphan exited here within it (the exit may not show outside yet)', () => {
      expect(plan([...inPosition('BOT-1', 1000), exited('BOT-1', 1000, RECENT)], [ext('BOT-1', 1000)])).toStrictEqual(
        nothing({ orphans: [{ positionId: 'BOT-1', value: 1000, local: 'EXITED', verdict: 'deferred' }] }),
      );
    });

    it('defers drift on a position entered within it', () => {
      expect(plan(inPosition('BOT-1', 1000, {}, RECENT), [ext('BOT-1', 1500)])).toStrictEqual(
        nothing({
          drift: [{ positionId: 'BOT-1', symbol: 'BTC', localValue: 1000, externalValue: 1500, tolerance: 10, verdict: 'deferred' }],
        }),
      );
    });

    it('judges a change exactly graceSeconds old, and follows graceSeconds', () => {
      const edge = new Date(NOW.getTime() - 30_000);
      expect(plan(inPosition('BOT-1', 1000, {}, edge), []).phantoms.map((p) => p.verdict)).toStrictEqual(['suspected']);
      expect(plan(inPosition('BOT-1', 1000, {}, RECENT), [], { graceSeconds: 5 }).phantoms.map((p) => p.verdict)).toStrictEqual([
        'suspected',
      ]);
      expect(plan(inPosition('BOT-1', 1000, {}, LONG_AGO), [], { graceSeconds: 7200 }).phantoms.map((p) => p.verdict)).toStrictEqual([
        'deferred',
      ]);
    });

    it('is measured from the snapshot start, not from now', () => {
      const state = book(inPosition('BOT-1', 1000, {}, RECENT));
      const muchLater = new Date(NOW.getTime() + 3_600_000);
      const p = planReconciliation(state, { positions: [], startedAt: NOW, canVerify: false }, policy(), muchLater, RUN);
      expect(p.phantoms.map((x) => x.verdict)).toStrictEqual(['deferred']);
      expect(p.actions).toStrictEqual([]);
    });
  });

  describe('an orphan detected before', () => {
    it('that is no longer open outside is closed in the book: no longer open outside', () => {
      expect(plan([orphanDetected('OUT-1', 500)], [])).toStrictEqual(
        nothing({
          vanished: [{ positionId: 'OUT-1', value: 500 }],
          actions: [
            {
              kind: 'command',
              command: { type: 'CloseOrphan', positionId: 'OUT-1', value: 500, reason: 'no longer open outside' },
              about: 'orphan OUT-1 is gone outside',
            },
          ],
        }),
      );
    });

    it('that is still open outside is not detected again as vanished (manual keeps alerting)', () => {
      const p = plan([orphanDetected('OUT-1', 500)], [ext('OUT-1', 500, { symbol: 'ETH' })], { orphans: 'manual' });
      expect(p.vanished).toStrictEqual([]);
      expect(p.actions.map((a) => (a.kind === 'command' ? a.command.type : a.kind))).toStrictEqual(['DetectOrphan', 'alert']);
    });
  });

  describe('per-symbol policy overrides', () => {
    const history = [
      ...inPosition('BOT-BTC', 1000),
      ...inPosition('BOT-SOL', 1000, { symbol: 'SOL' }),
      ...inPosition('BOT-ETH', 1000, { symbol: 'ETH' }),
    ];
    const outside = [
      ext('BOT-BTC', 1030),
      ext('BOT-SOL', 1030),
      ext('OUT-ETH', 300, { symbol: 'ETH' }),
      ext('OUT-BTC', 300, { symbol: 'BTC' }),
    ];
    const input: ReconcilePolicyInput = {
      orphans: 'adopt',
      phantoms: 'clear',
      drift: 'correct',
      perSymbol: { SOL: { driftTolerancePct: 5 }, ETH: { orphans: 'close', phantoms: 'manual' }, BTC: { drift: 'alert' } },
    };

    it('apply to orphans, phantoms and drift of that symbol only', () => {
      const p = plan([...history, suspected('BOT-ETH', 1)], outside, input);
      expect(p.drift.map((d) => [d.positionId, d.verdict, d.tolerance])).toStrictEqual([['BOT-BTC', 'alert', 10]]);
      expect(p.orphans.map((o) => [o.positionId, o.verdict])).toStrictEqual([
        ['OUT-ETH', 'close'],
        ['OUT-BTC', 'adopt'],
      ]);
      expect(p.phantoms.map((x) => [x.positionId, x.verdict, x.policy])).toStrictEqual([['BOT-ETH', 'confirmed', 'manual']]);
      expect(
        p.actions.map((a) =>
          a.kind === 'command'
            ? `${a.command.type} ${'positionId' in a.command ? a.command.positionId : ''}`
            : `${a.kind} ${'positionId' in a ? a.positionId : (a.alert.positionId ?? '')}`,
        ),
      ).toStrictEqual([
        'alert BOT-BTC',
        'DetectOrphan OUT-ETH',
        'close OUT-ETH',
        'DetectOrphan OUT-BTC',
        'AdoptOrphan OUT-BTC',
        'SuspectPhantom BOT-ETH',
        'alert BOT-ETH',
      ]);
    });

    it('use the symbol the book knows when the outside system gives none', () => {
      const p = plan([tracked('BOT-X', { symbol: 'ETH' })], [ext('BOT-X', 300)], input);
      expect(p.orphans.map((o) => [o.positionId, o.local, o.verdict])).toStrictEqual([['BOT-X', 'WATCHING', 'close']]);
    });
  });
});
