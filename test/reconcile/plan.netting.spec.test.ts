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
import { planSteps } from '../../src/reconcile/plan.js';
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

/** A position IN since `when` with a value and no quantity (a broker that reports values only); `symbol: null` for none. */
function valued(id: string, value: number, options: { when?: Date; symbol?: string | null } = {}): GivenEvent[] {
  const { when = minutesAgo(60), symbol = 'BTC' } = options;
  const onSymbol = symbol === null ? {} : { symbol };
  return [
    { type: 'PositionTracked', data: { positionId: id, side: 'long', ...onSymbol, source: 'local' }, metadata: at(when) },
    { type: 'PositionEntered', data: { positionId: id, side: 'long', ...onSymbol, value, source: 'local' }, metadata: at(when) },
  ];
}
/** Each action as [position, external value] when it corrects drift, else its kind. */
const corrections = (p: ReconciliationPlan): unknown[] =>
  p.actions.map((a) =>
    a.kind === 'command' && a.command.type === 'CorrectDrift' ? [a.command.positionId, a.command.externalValue] : a.kind,
  );
/** Every ordering of `items` (for a handful of items). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('planReconciliation on a netting account: ids, keys and order', () => {
  it('adopts under the whole outside id when it is free, and cuts the id to 190 characters before a suffix', () => {
    const long = 'X'.repeat(200);
    const free = plan([], [venue({ id: long, symbol: 'ETH', quantity: 1, value: 100 })], { orphans: 'adopt' });
    expect(free.orphans.map((o) => o.positionId)).toStrictEqual([long]);
    const used = plan(held(long, 1), [venue({ id: long, symbol: 'BTC', quantity: 3, value: 300 })], { orphans: 'adopt' });
    expect(used.orphans.map((o) => [o.positionId, o.quantity])).toStrictEqual([[`${'X'.repeat(190)}~2`, 2]]);
  });

  it('adopts under the first suffix the book does not use', () => {
    const events = [...held('BTC-PERP', 1), ...held('BTC-PERP~2', 1)];
    const p = plan(events, [BTC(3)], { orphans: 'adopt' });
    expect(p.orphans.map((o) => [o.positionId, o.quantity])).toStrictEqual([['BTC-PERP~3', 1]]);
  });

  it('leaves a venue position without a symbol to the port (which refuses it) and plans nothing for it', () => {
    expect(plan([], [venue({ id: 'x1', quantity: 1, value: 100 })], { orphans: 'adopt' })).toStrictEqual(EMPTY);
  });

  it('warns about a book position IN with neither symbol nor venue key, and judges it no further', () => {
    const watched: GivenEvent = {
      type: 'PositionTracked',
      data: { positionId: 'W', side: 'long', source: 'local' },
      metadata: at(minutesAgo(9)),
    };
    const events = [...valued('N', 100, { symbol: null }), watched];
    for (const mode of ['netting', 'hedge'] as const) {
      expect(plan(events, [], {}, mode)).toStrictEqual(
        nothing({
          actions: [
            {
              kind: 'alert',
              alert: {
                severity: 'warning',
                kind: 'phantom',
                positionId: 'N',
                message: `N has no symbol or venue key: a ${mode} account cannot be matched with it; not judged`,
              },
            },
          ],
        }),
      );
    }
  });

  it('counts only positions IN: a venue position on a key the book only watches is an orphan as a whole', () => {
    const watched: GivenEvent = {
      type: 'PositionTracked',
      data: { positionId: 'W', side: 'long', symbol: 'BTC', source: 'local' },
      metadata: at(minutesAgo(9)),
    };
    const p = plan([watched], [BTC(2)], { orphans: 'manual' });
    expect(p.orphans.map((o) => [o.positionId, o.quantity, o.value, o.verdict])).toStrictEqual([['BTC-PERP', 2, 200, 'manual']]);
    expect(p.drift).toStrictEqual([]);
  });

  it('plans the same, key by key and long before short, whatever order the venue lists its positions in', () => {
    const listed = [
      venue({ id: 'ETH-S', symbol: 'ETH', side: 'short', quantity: 1, value: 100 }),
      venue({ id: 'BTC-L', symbol: 'BTC', side: 'long', quantity: 1, value: 100 }),
      venue({ id: 'ETH-L', symbol: 'ETH', side: 'long', quantity: 1, value: 100 }),
      venue({ id: 'BTC-S', symbol: 'BTC', side: 'short', quantity: 1, value: 100 }),
    ];
    const first = plan([], listed, { orphans: 'manual' }, 'hedge');
    expect(first.orphans.map((o) => o.positionId)).toStrictEqual(['BTC-L', 'BTC-S', 'ETH-L', 'ETH-S']);
    for (const order of permutations(listed)) expect(plan([], order, { orphans: 'manual' }, 'hedge')).toStrictEqual(first);
  });

  it('judges the book’s keys in the same order whatever order they were entered in', () => {
    const blocks = [held('E', 1, { symbol: 'ETH' }), held('B', 1, { symbol: 'BTC' }), held('S', 1, { symbol: 'SOL', side: 'short' })];
    for (const order of permutations(blocks)) {
      const p = plan(order.flat(), []);
      expect(p.phantoms.map((f) => f.positionId)).toStrictEqual(['B', 'E', 'S']);
    }
  });
});

describe('planReconciliation on a netting account: quantities unknown on one side', () => {
  it('a venue position with a value only is judged on value: drift, corrected by each position’s quantity share', () => {
    const p = plan(THREE, [venue({ id: 'BTC-PERP', symbol: 'BTC', value: 720 })]);
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
      },
    ]);
    expect(p.orphans).toStrictEqual([]);
    expect(p.phantoms).toStrictEqual([]);
    expect(
      p.actions.map((a) => (a.kind === 'command' && a.command.type === 'CorrectDrift' ? a.command.externalValue : a.kind)),
    ).toStrictEqual([120, 240, 360]);
  });

  it('book positions with values only are judged on value and corrected by their value share', () => {
    const events = [...valued('A', 100), ...valued('B', 300, { when: minutesAgo(30) })];
    const p = plan(events, [BTC(4, 800)]);
    expect(p.drift).toStrictEqual([
      {
        positionId: 'BTC-PERP',
        symbol: 'BTC',
        venueKey: 'BTC',
        localValue: 400,
        externalValue: 800,
        tolerance: 4,
        verdict: 'correct',
        externalQuantity: 4,
      },
    ]);
    expect(p.actions).toStrictEqual([
      {
        kind: 'command',
        command: { type: 'CorrectDrift', positionId: 'A', externalValue: 200, tolerance: 1 },
        about: 'A: its share of BTC (long) is worth 200 outside, 100 here',
      },
      {
        kind: 'command',
        command: { type: 'CorrectDrift', positionId: 'B', externalValue: 600, tolerance: 3 },
        about: 'B: its share of BTC (long) is worth 600 outside, 300 here',
      },
    ]);
  });

  it('book positions worth nothing share the venue value equally', () => {
    const events = [...valued('A', 0), ...valued('B', 0, { when: minutesAgo(30) })];
    const p = plan(events, [venue({ id: 'BTC-PERP', symbol: 'BTC', value: 10 })]);
    expect(corrections(p)).toStrictEqual([
      ['A', 5],
      ['B', 5],
    ]);
  });

  it('with every quantity known, shares go by quantity, not by what each position cost', () => {
    const events = [...held('A', 1, { value: 100 }), ...held('B', 1, { value: 300, when: minutesAgo(30) })];
    const p = plan(events, [BTC(2, 500)]);
    expect(corrections(p)).toStrictEqual([
      ['A', 250],
      ['B', 250],
    ]);
  });

  it('a whole orphan with a value only is detected and adopted without quantity or price', () => {
    const p = plan([], [venue({ id: 'BTC-PERP', symbol: 'BTC', value: 200 })], { orphans: 'adopt' });
    expect(p).toStrictEqual(
      nothing({
        orphans: [
          {
            positionId: 'BTC-PERP',
            value: 200,
            local: 'UNKNOWN',
            verdict: 'adopt',
            symbol: 'BTC',
            side: 'long',
            venueKey: 'BTC',
            externalId: 'BTC-PERP',
          },
        ],
        actions: [
          {
            kind: 'command',
            command: { type: 'DetectOrphan', positionId: 'BTC-PERP', value: 200, symbol: 'BTC', side: 'long', runId: RUN },
            about: 'BTC (long) is open outside (value 200) and the book holds none of it',
          },
          {
            kind: 'command',
            command: {
              type: 'AdoptOrphan',
              positionId: 'BTC-PERP',
              value: 200,
              symbol: 'BTC',
              side: 'long',
              reason: 'open outside, unknown here',
            },
            about: 'adopt BTC-PERP: all of BTC (long)',
          },
        ],
      }),
    );
  });

  it('hands a whole orphan to a person under orphans: manual, saying the book holds none of it', () => {
    const p = plan([], [BTC(2)], { orphans: 'manual' });
    expect(p.actions[1]).toStrictEqual({
      kind: 'alert',
      alert: {
        severity: 'critical',
        kind: 'orphan',
        positionId: 'BTC-PERP',
        message: 'orphan BTC-PERP: BTC (long) is open outside (value 200) and the book holds none of it; policy manual',
      },
    });
  });
});

describe('planReconciliation on a netting account: thresholds and tolerances', () => {
  it('quantities that differ by the rounding of a large sum are the same quantity', () => {
    // 1000 units here, 1000.0000002 outside: 2e-10 of the quantity, within the relative tolerance (1e-9).
    expect(plan(held('A', 1000), [BTC(1000.0000002, 100_000)])).toStrictEqual(EMPTY);
  });

  it('a surplus worth exactly the dust threshold is an orphan, and the book’s part waits for the next look to be judged', () => {
    // 4 units worth 60 here; 4.25 worth 85 outside: the surplus of 0.25 is worth 5 (the threshold is "below 5").
    const p = plan(held('A', 4, { value: 60 }), [BTC(4.25, 85)], { orphans: 'manual' });
    expect(p.dust).toStrictEqual([]);
    expect(p.orphans.map((o) => [o.positionId, o.quantity, o.value])).toStrictEqual([['BTC-PERP', 0.25, 5]]);
    expect(p.drift).toStrictEqual([]);
  });

  it('dust on top of the book’s quantity still lets the rest be judged for drift', () => {
    // 6 here worth 600; 6.04 outside worth 724.8: 0.04 (worth 4.8) is dust, the other 720 drifts from 600.
    const p = plan(THREE, [BTC(6.04, 724.8)]);
    expect(p.dust.map((d) => d.positionId)).toStrictEqual(['BTC-PERP']);
    expect(p.drift.map((d) => [d.localValue, d.externalValue])).toStrictEqual([[600, expect.closeTo(720, 9)]]);
  });

  it('a difference of exactly the tolerance is no drift', () => {
    expect(plan(THREE, [BTC(6, 606)])).toStrictEqual(EMPTY);
  });

  it('drift on a key whose book changed within the grace window is recorded as deferred and not acted on', () => {
    const events = [...THREE, ...held('D', 1, { when: new Date(NOW.getTime() - 10_000) })];
    const p = plan(events, [BTC(7, 840)]);
    expect(p.drift.map((d) => [d.positionId, d.verdict])).toStrictEqual([['BTC-PERP', 'deferred']]);
    expect(p.actions).toStrictEqual([]);
  });

  it('corrects each position by its share of the value and of the tolerance, saying what each is worth on both sides', () => {
    expect(plan(THREE, [BTC(6, 720)]).actions).toStrictEqual(
      [
        ['A', 120, 1, 100],
        ['B', 240, 2, 200],
        ['C', 360, 3, 300],
      ].map(([id, externalValue, tolerance, here]) => ({
        kind: 'command',
        command: { type: 'CorrectDrift', positionId: id, externalValue, tolerance },
        about: `${id}: its share of BTC (long) is worth ${externalValue} outside, ${here} here`,
      })),
    );
  });

  it('warns about drift under drift: alert, with the summed values and the tolerance', () => {
    expect(plan(THREE, [BTC(6, 720)], { drift: 'alert' })).toStrictEqual(
      nothing({
        drift: [
          {
            positionId: 'BTC-PERP',
            symbol: 'BTC',
            venueKey: 'BTC',
            localValue: 600,
            externalValue: 720,
            tolerance: 6,
            verdict: 'alert',
            localQuantity: 6,
            externalQuantity: 6,
          },
        ],
        actions: [
          {
            kind: 'alert',
            alert: {
              severity: 'warning',
              kind: 'drift',
              positionId: 'BTC-PERP',
              message: 'drift on BTC (long): value 600 here over 3 position(s), 720 outside (tolerance 6)',
            },
          },
        ],
      }),
    );
  });
});

describe('planReconciliation on a netting account: which positions a shortfall takes', () => {
  it('takes the most recently entered positions first, whatever the ids and the order they were recorded in', () => {
    const blocks = [held('M', 1, { when: minutesAgo(60) }), held('Z', 1, { when: minutesAgo(40) }), held('A', 1, { when: minutesAgo(20) })];
    for (const order of permutations(blocks)) {
      expect(plan(order.flat(), [BTC(1)]).phantoms.map((f) => [f.positionId, f.quantity])).toStrictEqual([
        ['A', undefined],
        ['Z', undefined],
      ]);
    }
  });

  it('takes positions entered at the same moment in reverse id order, the same pick every run', () => {
    const when = minutesAgo(20);
    const events = [...held('P1', 1, { when }), ...held('P3', 1, { when }), ...held('P2', 1, { when })];
    expect(plan(events, [BTC(1)]).phantoms.map((f) => f.positionId)).toStrictEqual(['P3', 'P2']);
  });

  it('a shortfall equal to the newest position within the tolerance clears that position whole and nothing more', () => {
    // 1,000,001 here, 1.0005 outside: 999,999.9995 missing, the same as B's 1,000,000 within 1e-9 of it.
    const events = [...held('A', 1, { when: minutesAgo(60) }), ...held('B', 1_000_000, { when: minutesAgo(20) })];
    const p = plan(events, [BTC(1.0005, 100.05)]);
    expect(p.phantoms.map((f) => [f.positionId, f.quantity])).toStrictEqual([['B', undefined]]);
  });

  it('clears a position missing whole without a quantity, saying so', () => {
    expect(plan([...held('A', 1), suspected('A', 1)], []).actions).toStrictEqual([
      {
        kind: 'command',
        command: { type: 'SuspectPhantom', positionId: 'A', looks: 2, runId: RUN },
        about: 'A (BTC, long): missing outside (look 2 of 2)',
      },
      {
        kind: 'command',
        command: { type: 'ClearPhantom', positionId: 'A', looks: 2, reason: 'missing outside for 2 consecutive look(s) (BTC long)' },
        about: 'clear phantom A',
      },
    ]);
  });
});

describe('planSteps on a netting account: what each action settles, and which heal the book', () => {
  const settled = (events: GivenEvent[], outside: ExternalPosition[], input: ReconcilePolicyInput = {}) =>
    planSteps(
      book(events),
      { positions: outside, startedAt: NOW, canVerify: true, positionMode: 'netting' },
      policy(input),
      LATER,
      RUN,
    ).steps.map(({ action, ...rest }) => [action.kind === 'command' ? action.command.type : action.kind, rest]);

  it('an orphan surplus: adopting or closing it heals and settles the orphan; a manual alert settles it whatever happens', () => {
    expect(settled(THREE, [BTC(7.5)], { orphans: 'adopt' })).toStrictEqual([
      ['DetectOrphan', {}],
      ['AdoptOrphan', { settles: { list: 'orphans', index: 0, outcome: 'adopted' }, corrects: true }],
    ]);
    expect(settled(THREE, [BTC(7.5)], { orphans: 'close' })).toStrictEqual([
      ['DetectOrphan', {}],
      ['close', { settles: { list: 'orphans', index: 0, outcome: 'closed' }, corrects: true }],
    ]);
    expect(settled(THREE, [BTC(7.5)], { orphans: 'manual' })).toStrictEqual([
      ['DetectOrphan', {}],
      ['alert', { settles: { list: 'orphans', index: 0, outcome: 'alerted', always: true } }],
    ]);
  });

  it('a phantom shortfall: the suspicion settles it as suspected, a clear heals it, a manual alert settles it whatever happens', () => {
    const again = [...THREE, suspected('C', 1)];
    expect(settled(again, [BTC(4.5)])).toStrictEqual([
      ['SuspectPhantom', { settles: { list: 'phantoms', index: 0, outcome: 'suspected' } }],
      ['ClearPhantom', { settles: { list: 'phantoms', index: 0, outcome: 'cleared' }, corrects: true }],
    ]);
    expect(settled(again, [BTC(4.5)], { phantoms: 'manual' })).toStrictEqual([
      ['SuspectPhantom', { settles: { list: 'phantoms', index: 0, outcome: 'suspected' } }],
      ['alert', { settles: { list: 'phantoms', index: 0, outcome: 'alerted', always: true } }],
    ]);
  });

  it('drift: every correction heals and settles the one finding; an alert settles it whatever happens', () => {
    const corrected = { settles: { list: 'drift', index: 0, outcome: 'corrected' }, corrects: true };
    expect(settled(THREE, [BTC(6, 720)])).toStrictEqual([
      ['CorrectDrift', corrected],
      ['CorrectDrift', corrected],
      ['CorrectDrift', corrected],
    ]);
    expect(settled(THREE, [BTC(6, 720)], { drift: 'alert' })).toStrictEqual([
      ['alert', { settles: { list: 'drift', index: 0, outcome: 'alerted', always: true } }],
    ]);
  });
});
