import { describe, expect, it } from 'vitest';
import type { BookState } from '../../src/commands/index.js';
import type { EventData } from '../../src/events/index.js';
import {
  ExternalPosition,
  ReconcilePolicy,
  planReconciliation,
  type PlanPolicy,
  type ReconcilePolicyInput,
  type ReconciliationPlan,
} from '../../src/reconcile/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';

/*
 * The planner on netting and hedge accounts, as a specification: given the book's positions
 * (folded from events) and the venue's positions (one per symbol, or per symbol and side), these
 * are the findings and the actions. Several book positions on one venue key are one venue position:
 * their quantities and values are summed. The snapshot starts at NOW; grace is 30 s; dust is below 5.
 */

const NOW = new Date('2026-01-05T12:00:00.000Z');
const LATER = new Date(NOW.getTime() + 5_000);
const RUN = 'run-1';
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);
const at = (date: Date) => ({ recordedAt: date.toISOString() });

/** A position IN on `symbol` since `when`, at 100 a unit. */
function held(
  id: string,
  quantity: number,
  options: { when?: Date; side?: 'long' | 'short'; symbol?: string; venueKey?: string; value?: number } = {},
): GivenEvent[] {
  const { when = minutesAgo(60), side = 'long', symbol = 'BTC', venueKey } = options;
  const value = options.value ?? quantity * 100;
  const tracked: EventData<'PositionTracked'> = { positionId: id, side, symbol, source: 'local' };
  if (venueKey !== undefined) tracked.venueKey = venueKey;
  return [
    { type: 'PositionTracked', data: tracked, metadata: at(when) },
    {
      type: 'PositionEntered',
      data: { positionId: id, side, symbol, value, quantity, price: value / quantity, source: 'local' },
      metadata: at(when),
    },
  ];
}
function suspected(id: string, looks: number): GivenEvent {
  return { type: 'PhantomSuspected', data: { positionId: id, looks, source: 'reconcile' }, metadata: at(minutesAgo(5)) };
}

const book = (events: GivenEvent[]): BookState => deciderSpec({ now: NOW }).given(events).state();
const policy = (input: ReconcilePolicyInput = {}): PlanPolicy => ({ ...ReconcilePolicy.parse(input), minPositionValue: 5 });
/** A venue position as the port hands it over (parsed: shorts normalised). */
const venue = (raw: Record<string, unknown>): ExternalPosition => ExternalPosition.parse(raw);

function plan(
  events: GivenEvent[],
  outside: ExternalPosition[],
  input: ReconcilePolicyInput = {},
  positionMode: 'netting' | 'hedge' = 'netting',
): ReconciliationPlan {
  return planReconciliation(book(events), { positions: outside, startedAt: NOW, canVerify: true, positionMode }, policy(input), LATER, RUN);
}

const EMPTY: ReconciliationPlan = { orphans: [], dust: [], phantoms: [], reappeared: [], drift: [], vanished: [], actions: [] };
const nothing = (over: Partial<ReconciliationPlan>): ReconciliationPlan => ({ ...EMPTY, ...over });

/** Three BTC positions entered 60, 40 and 20 minutes ago: 1 + 2 + 3 = 6 BTC, worth 600. */
const THREE = [
  ...held('A', 1, { when: minutesAgo(60) }),
  ...held('B', 2, { when: minutesAgo(40) }),
  ...held('C', 3, { when: minutesAgo(20) }),
];
const BTC = (quantity: number, value = quantity * 100, more: Record<string, unknown> = {}): ExternalPosition =>
  venue({ id: 'BTC-PERP', symbol: 'BTC', quantity, value, ...more });

describe('planReconciliation on a netting account', () => {
  describe('when the summed book equals the venue position', () => {
    it('plans nothing for three book positions against one venue position of their sum', () => {
      expect(plan(THREE, [BTC(6)])).toStrictEqual(EMPTY);
    });

    it('matches by the explicit venue key, not the symbol', () => {
      const events = held('A', 1, { symbol: 'BTC', venueKey: 'BTCUSDT' });
      expect(plan(events, [venue({ id: 'x1', symbol: 'BTCUSDT', quantity: 1, value: 100 })])).toStrictEqual(EMPTY);
    });

    it('dismisses a suspicion when the venue holds the position again', () => {
      expect(plan([...THREE, suspected('C', 1)], [BTC(6)])).toStrictEqual(
        nothing({
          reappeared: [{ positionId: 'C', looks: 1 }],
          actions: [
            { kind: 'command', command: { type: 'DismissPhantom', positionId: 'C' }, about: 'C: BTC (long) holds it outside again' },
          ],
        }),
      );
    });
  });

  describe('orphan quantity (the venue holds more than the book)', () => {
    const finding = {
      positionId: 'BTC-PERP',
      value: 150,
      quantity: 1.5,
      local: 'UNKNOWN',
      symbol: 'BTC',
      side: 'long',
      venueKey: 'BTC',
      externalId: 'BTC-PERP',
    } as const;
    const detect = {
      kind: 'command',
      command: {
        type: 'DetectOrphan',
        positionId: 'BTC-PERP',
        value: 150,
        symbol: 'BTC',
        side: 'long',
        runId: RUN,
        quantity: 1.5,
        price: 100,
      },
      about: 'BTC (long): the venue holds 1.5 more than the book (value 150)',
    } as const;

    it('adopts the surplus as one position under orphans: adopt', () => {
      expect(plan(THREE, [BTC(7.5)], { orphans: 'adopt' })).toStrictEqual(
        nothing({
          orphans: [{ ...finding, verdict: 'adopt' }],
          actions: [
            detect,
            {
              kind: 'command',
              command: {
                type: 'AdoptOrphan',
                positionId: 'BTC-PERP',
                value: 150,
                symbol: 'BTC',
                side: 'long',
                reason: 'the venue holds more than the book',
                quantity: 1.5,
                price: 100,
              },
              about: 'adopt BTC-PERP: the surplus of BTC (long)',
            },
          ],
        }),
      );
    });

    it('closes only the surplus outside (quantity and side) under orphans: close', () => {
      expect(plan(THREE, [BTC(7.5)], { orphans: 'close' })).toStrictEqual(
        nothing({
          orphans: [{ ...finding, verdict: 'close' }],
          actions: [
            detect,
            { kind: 'close', positionId: 'BTC-PERP', value: 150, symbol: 'BTC', orphanId: 'BTC-PERP', quantity: 1.5, side: 'long' },
          ],
        }),
      );
    });

    it('hands the surplus to a person under orphans: manual', () => {
      const p = plan(THREE, [BTC(7.5)], { orphans: 'manual' });
      expect(p.orphans).toStrictEqual([{ ...finding, verdict: 'manual' }]);
      expect(p.actions).toStrictEqual([
        detect,
        {
          kind: 'alert',
          alert: {
            severity: 'critical',
            kind: 'orphan',
            positionId: 'BTC-PERP',
            message: 'orphan BTC-PERP: BTC (long): the venue holds 1.5 more than the book (value 150); policy manual',
          },
        },
      ]);
    });

    it('adopts under a fresh id when the book already uses the outside id', () => {
      const events = held('BTC-PERP', 1);
      const p = plan(events, [BTC(3)], { orphans: 'adopt' });
      expect(p.orphans.map((o) => [o.positionId, o.quantity, o.value])).toStrictEqual([['BTC-PERP~2', 2, 200]]);
      expect(
        p.actions.map((a) => (a.kind === 'command' && 'positionId' in a.command ? [a.command.type, a.command.positionId] : a.kind)),
      ).toStrictEqual([
        ['DetectOrphan', 'BTC-PERP~2'],
        ['AdoptOrphan', 'BTC-PERP~2'],
      ]);
    });

    it('a venue position the book holds none of is an orphan as a whole, closed whole (no quantity)', () => {
      const p = plan([], [BTC(2)], { orphans: 'close' });
      expect(p.orphans).toStrictEqual([{ ...finding, value: 200, quantity: 2, verdict: 'close' }]);
      expect(p.actions[1]).toStrictEqual({ kind: 'close', positionId: 'BTC-PERP', value: 200, symbol: 'BTC', orphanId: 'BTC-PERP' });
    });

    it('a surplus worth less than the dust threshold is dust (judged on value), not an orphan', () => {
      // 0.04 BTC more at 100 a unit: worth 4, below 5.
      expect(plan(THREE, [BTC(6.04)])).toStrictEqual(
        nothing({ dust: [{ positionId: 'BTC-PERP', value: expect.closeTo(4, 9) as number }] }),
      );
    });

    it('a surplus on a key whose book changed within the grace window is deferred', () => {
      const events = [...THREE, ...held('D', 1, { when: new Date(NOW.getTime() - 10_000) })];
      const p = plan(events, [BTC(9)], { orphans: 'adopt' });
      expect(p.orphans).toStrictEqual([{ ...finding, value: 200, quantity: 2, verdict: 'deferred' }]);
      expect(p.actions).toStrictEqual([]);
    });

    it('an orphan recorded before stays on the books while the surplus lasts, and is resolved once it is gone', () => {
      const recorded: GivenEvent = {
        type: 'OrphanDetected',
        data: { positionId: 'BTC-PERP', value: 150, symbol: 'BTC', source: 'reconcile' },
        metadata: at(minutesAgo(5)),
      };
      expect(plan([...THREE, recorded], [BTC(7.5)], { orphans: 'manual' }).vanished).toStrictEqual([]);
      expect(plan([...THREE, recorded], [BTC(6)], { orphans: 'manual' })).toStrictEqual(
        nothing({
          vanished: [{ positionId: 'BTC-PERP', value: 150 }],
          actions: [
            {
              kind: 'command',
              command: { type: 'CloseOrphan', positionId: 'BTC-PERP', value: 150, reason: 'no longer open outside' },
              about: 'orphan BTC-PERP is gone outside',
            },
          ],
        }),
      );
    });
  });

  describe('phantom quantity (the book holds more than the venue)', () => {
    it('suspects the most recent position for a shortfall smaller than it, on the first look', () => {
      // 6 here, 4.5 outside: 1.5 missing, part of C (3, the most recent).
      expect(plan(THREE, [BTC(4.5)])).toStrictEqual(
        nothing({
          phantoms: [
            { positionId: 'C', value: 150, looks: 1, verdict: 'suspected', policy: 'clear', symbol: 'BTC', venueKey: 'BTC', quantity: 1.5 },
          ],
          actions: [
            {
              kind: 'command',
              command: { type: 'SuspectPhantom', positionId: 'C', looks: 1, runId: RUN },
              about: 'C (BTC, long): 1.5 of it missing outside (look 1 of 2)',
            },
          ],
        }),
      );
    });

    it('clears part of the most recent position once confirmed (a partial ClearPhantom by quantity)', () => {
      const p = plan([...THREE, suspected('C', 1)], [BTC(4.5)]);
      expect(p.phantoms).toStrictEqual([
        { positionId: 'C', value: 150, looks: 2, verdict: 'confirmed', policy: 'clear', symbol: 'BTC', venueKey: 'BTC', quantity: 1.5 },
      ]);
      expect(p.actions).toStrictEqual([
        {
          kind: 'command',
          command: { type: 'SuspectPhantom', positionId: 'C', looks: 2, runId: RUN },
          about: 'C (BTC, long): 1.5 of it missing outside (look 2 of 2)',
        },
        {
          kind: 'command',
          command: {
            type: 'ClearPhantom',
            positionId: 'C',
            looks: 2,
            reason: '1.5 of it missing outside for 2 consecutive look(s) (BTC long)',
            quantity: 1.5,
          },
          about: 'clear 1.5 of phantom C',
        },
      ]);
    });

    it('a shortfall larger than the most recent position clears it whole and part of the one before', () => {
      // 6 here, 2 outside: 4 missing = all of C (3) and 1 of B (2); A is untouched.
      const p = plan([...THREE, suspected('C', 1), suspected('B', 1)], [BTC(2)]);
      expect(p.phantoms.map((f) => [f.positionId, f.quantity, f.value, f.verdict])).toStrictEqual([
        ['C', undefined, 300, 'confirmed'],
        ['B', 1, 100, 'confirmed'],
      ]);
      expect(p.actions.flatMap((a) => (a.kind === 'command' && a.command.type === 'ClearPhantom' ? [a.command] : []))).toStrictEqual([
        { type: 'ClearPhantom', positionId: 'C', looks: 2, reason: 'missing outside for 2 consecutive look(s) (BTC long)' },
        {
          type: 'ClearPhantom',
          positionId: 'B',
          looks: 2,
          reason: '1 of it missing outside for 2 consecutive look(s) (BTC long)',
          quantity: 1,
        },
      ]);
    });

    it('every book position on a key the venue does not hold is a phantom, whole', () => {
      const p = plan(THREE, []);
      expect(p.phantoms.map((f) => [f.positionId, f.quantity, f.verdict])).toStrictEqual([
        ['A', undefined, 'suspected'],
        ['B', undefined, 'suspected'],
        ['C', undefined, 'suspected'],
      ]);
    });

    it('hands a confirmed shortfall to a person under phantoms: manual', () => {
      const p = plan([...THREE, suspected('C', 1)], [BTC(4.5)], { phantoms: 'manual' });
      expect(p.actions[1]).toStrictEqual({
        kind: 'alert',
        alert: {
          severity: 'critical',
          kind: 'phantom',
          positionId: 'C',
          message: 'phantom C: IN here (value 150 1.5 of it missing outside), BTC long at the venue; policy manual',
        },
      });
    });

    it('a shortfall on a key whose book changed within the grace window is deferred', () => {
      const events = [...held('A', 1), ...held('B', 2, { when: new Date(NOW.getTime() - 10_000) })];
      const p = plan(events, [BTC(1)]);
      expect(p.phantoms).toStrictEqual([
        { positionId: 'B', value: 200, looks: 1, verdict: 'deferred', policy: 'clear', symbol: 'BTC', venueKey: 'BTC' },
      ]);
      expect(p.actions).toStrictEqual([]);
    });
  });

  describe('drift (same quantity, another value)', () => {
    it('corrects each position by its share of the venue value', () => {
      // 6 BTC worth 600 here, 720 outside: each position gets its quantity's share of 720.
      const p = plan(THREE, [BTC(6, 720)]);
      expect(p.drift).toStrictEqual([
        {
          positionId: 'BTC-PERP',
          symbol: 'BTC',
          venueKey: 'BTC',
          localValue: 600,
          externalValue: 720,
          tolerance: 6,
          verdict: 'correct',
          localQuantity: 6,
          externalQuantity: 6,
        },
      ]);
      expect(
        p.actions.map((a) =>
          a.kind === 'command' && a.command.type === 'CorrectDrift' ? [a.command.positionId, a.command.externalValue] : null,
        ),
      ).toStrictEqual([
        ['A', 120],
        ['B', 240],
        ['C', 360],
      ]);
    });

    it('within tolerance is no drift', () => {
      expect(plan(THREE, [BTC(6, 605)])).toStrictEqual(EMPTY);
    });
  });

  describe('shorts', () => {
    it('a venue short (negative quantity and value) matches the book short positions on the key', () => {
      const events = [...held('S1', 1, { side: 'short' }), ...held('S2', 1, { side: 'short' })];
      expect(plan(events, [venue({ id: 'BTC-PERP', symbol: 'BTC', quantity: -2, value: -200 })])).toStrictEqual(EMPTY);
    });

    it('a book long against a venue short is a phantom long and an orphan short', () => {
      const p = plan(held('L', 1), [venue({ id: 'BTC-PERP', symbol: 'BTC', quantity: -1, value: -100 })], { orphans: 'adopt' });
      expect(p.orphans.map((o) => [o.positionId, o.side, o.quantity])).toStrictEqual([['BTC-PERP', 'short', 1]]);
      expect(p.phantoms.map((f) => [f.positionId, f.quantity])).toStrictEqual([['L', undefined]]);
      expect(p.actions.find((a) => a.kind === 'command' && a.command.type === 'AdoptOrphan')).toMatchObject({
        command: { type: 'AdoptOrphan', side: 'short', quantity: 1, value: 100 },
      });
    });
  });
});

describe('planReconciliation on a hedge account', () => {
  const pair = [...held('L1', 1), ...held('L2', 1, { when: minutesAgo(30) }), ...held('S1', 2, { side: 'short' })];
  const long = (q: number) => venue({ id: 'BTC-LONG', symbol: 'BTC', side: 'long', quantity: q, value: q * 100 });
  const short = (q: number) => venue({ id: 'BTC-SHORT', symbol: 'BTC', side: 'short', quantity: q, value: q * 100 });

  it('plans nothing when each side sums to the venue position of that side', () => {
    expect(plan(pair, [long(2), short(2)], {}, 'hedge')).toStrictEqual(EMPTY);
  });

  it('judges each side apart: a short surplus and a long shortfall at once', () => {
    const p = plan(pair, [long(1.5), short(3)], { orphans: 'close' }, 'hedge');
    expect(p.orphans.map((o) => [o.positionId, o.side, o.quantity, o.verdict])).toStrictEqual([['BTC-SHORT', 'short', 1, 'close']]);
    expect(p.actions.find((a) => a.kind === 'close')).toStrictEqual({
      kind: 'close',
      positionId: 'BTC-SHORT',
      value: 100,
      symbol: 'BTC',
      orphanId: 'BTC-SHORT',
      quantity: 1,
      side: 'short',
    });
    // 2 long here, 1.5 outside: half of L2 (the most recent long) is missing.
    expect(p.phantoms.map((f) => [f.positionId, f.quantity, f.verdict])).toStrictEqual([['L2', 0.5, 'suspected']]);
  });

  it('a side the venue does not hold is a phantom on that side only', () => {
    const p = plan(pair, [long(2)], {}, 'hedge');
    expect(p.phantoms.map((f) => f.positionId)).toStrictEqual(['S1']);
  });
});
