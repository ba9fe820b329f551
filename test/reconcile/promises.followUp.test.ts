import { describe, expect, it } from 'vitest';
import type { BookState } from '../../src/commands/index.js';
import type { EventData } from '../../src/events/index.js';
import { followUp, secondLooks } from '../../src/reconcile/followUp.js';
import { planReconciliation, planSteps, type PlannedSteps } from '../../src/reconcile/plan.js';
import { ReconcilePolicy, type ExternalPosition, type ReconcilePolicyInput } from '../../src/reconcile/index.js';
import { settledBy } from '../../src/reconcile/steps.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';

/*
 * #16.5 The executor is thin: the planner's steps carry the finding they settle and the outcome it
 * gets, and what a second look decides is a pure function of (planned steps, second read).
 */

const NOW = new Date('2026-01-05T12:00:00.000Z');
const LONG_AGO = { recordedAt: new Date(NOW.getTime() - 3_600_000).toISOString() };
const RUN = 'run-1';

function inPosition(id: string, value: number, symbol = 'BTC'): GivenEvent[] {
  const data: Partial<EventData<'PositionEntered'>> = { positionId: id, side: 'long', symbol, source: 'local' };
  return [
    { type: 'PositionTracked', data: { ...data }, metadata: LONG_AGO } as GivenEvent,
    { type: 'PositionEntered', data: { ...data, value }, metadata: LONG_AGO } as GivenEvent,
  ];
}
const book = (events: GivenEvent[]): BookState => deciderSpec({ now: NOW }).given(events).state();
const ext = (id: string, value: number, more: Partial<ExternalPosition> = {}): ExternalPosition => ({ id, value, ...more });

type PlanArgs = Parameters<typeof planSteps>;
function args(events: GivenEvent[], outside: ExternalPosition[], input: ReconcilePolicyInput, canVerify = true): PlanArgs {
  return [
    book(events),
    { positions: outside, startedAt: NOW, canVerify },
    { ...ReconcilePolicy.parse(input), minPositionValue: 5 },
    NOW,
    RUN,
  ];
}
const planned = (...a: Parameters<typeof args>): PlannedSteps => planSteps(...args(...a));

/** BOT-1 IN and missing outside (to verify), BOT-2 drifted, OUT-1 open outside and unknown here (to close). */
const WORLD = [
  [...inPosition('BOT-1', 1000), ...inPosition('BOT-2', 800, 'ETH')],
  [ext('BOT-2', 600), ext('OUT-1', 500, { symbol: 'SOL' })],
  { orphans: 'close', phantoms: 'clear', drift: 'correct' },
] as const satisfies Parameters<typeof args>;
const world = (): PlannedSteps => planned([...WORLD[0]], [...WORLD[1]], WORLD[2]);

const kinds = (steps: { action: { kind: string; command?: { type: string } } }[]) =>
  steps.map((s) => s.action.command?.type ?? s.action.kind);

describe('#16.5 planned steps carry their finding and outcome', () => {
  it('#16.5 one step per public action, the same actions, each pointing at the finding it settles', () => {
    const p = world();
    expect(p.plan).toStrictEqual(planReconciliation(...args([...WORLD[0]], [...WORLD[1]], WORLD[2])));
    expect(p.steps.map((s) => s.action)).toStrictEqual(p.plan.actions);
    expect(p.steps.map((s) => [s.action.kind === 'command' ? s.action.command.type : s.action.kind, s.settles, s.corrects])).toStrictEqual([
      ['CorrectDrift', { list: 'drift', index: 0, outcome: 'corrected' }, true],
      ['DetectOrphan', undefined, undefined],
      ['close', { list: 'orphans', index: 0, outcome: 'closed' }, true],
      ['verify', { list: 'phantoms', index: 0, outcome: 'suspected' }, undefined],
    ]);
    expect(p.plan.drift[0]?.positionId).toBe('BOT-2');
    expect(p.plan.orphans[0]?.positionId).toBe('OUT-1');
    expect(p.plan.phantoms[0]?.positionId).toBe('BOT-1');
  });

  it('#16.5 an alert stands whatever its delivery; a refused step gives its finding the result', () => {
    const p = planned(inPosition('BOT-1', 1000), [ext('OUT-1', 500)], { orphans: 'manual', phantoms: 'manual' }, false);
    const alert = p.steps.find((s) => s.action.kind === 'alert')!;
    expect(alert.settles).toStrictEqual({ list: 'orphans', index: 0, outcome: 'alerted', always: true });
    expect(settledBy(alert.settles!, 'failed')).toStrictEqual(alert.settles);
    const suspect = p.steps.find((s) => s.action.kind === 'command' && s.action.command.type === 'SuspectPhantom')!;
    expect(settledBy(suspect.settles!, 'ok')).toStrictEqual({ list: 'phantoms', index: 0, outcome: 'suspected' });
    expect(settledBy(suspect.settles!, 'skipped')).toStrictEqual({ list: 'phantoms', index: 0, outcome: 'skipped' });
  });
});

describe('#16.5 followUp(planned, second read) is pure', () => {
  it('#16.5 asks for a direct look at each phantom to verify and each orphan to close, or one more list without getPosition', () => {
    const { plan } = world();
    expect(secondLooks(plan.actions, true)).toStrictEqual({ direct: ['OUT-1', 'BOT-1'], byList: [] });
    expect(secondLooks(plan.actions, false)).toStrictEqual({ direct: ['BOT-1'], byList: ['OUT-1'] });
  });

  it('#16.5 a phantom confirmed gone and an orphan still open: record and clear it, close outside then record', () => {
    const p = world();
    const out = followUp(
      p,
      new Map([
        ['BOT-1', false],
        ['OUT-1', true],
      ]),
      RUN,
    );
    expect(out.confirmed).toStrictEqual([0]);
    expect(out.reappeared).toStrictEqual([]);
    expect(kinds(out.steps)).toStrictEqual(['CorrectDrift', 'DetectOrphan', 'closeOutside', 'SuspectPhantom', 'ClearPhantom']);
    expect(out.steps[2]).toStrictEqual({
      action: {
        kind: 'closeOutside',
        positionId: 'OUT-1',
        record: { type: 'CloseOrphan', positionId: 'OUT-1', value: 500, reason: 'closed by reconciliation (policy close)', symbol: 'SOL' },
      },
      settles: { list: 'orphans', index: 0, outcome: 'closed' },
      corrects: true,
    });
    expect(out.steps.slice(3)).toStrictEqual([
      {
        action: {
          kind: 'command',
          command: { type: 'SuspectPhantom', positionId: 'BOT-1', looks: 1, runId: RUN },
          about: 'BOT-1 missing outside for 1 look(s)',
        },
        settles: { list: 'phantoms', index: 0, outcome: 'suspected' },
      },
      {
        action: {
          kind: 'command',
          command: { type: 'ClearPhantom', positionId: 'BOT-1', looks: 1, reason: 'missing outside for 1 consecutive look(s)' },
          about: 'clear phantom BOT-1',
        },
        settles: { list: 'phantoms', index: 0, outcome: 'cleared' },
        corrects: true,
      },
    ]);
    // The steps that needed no second look pass through as they were planned.
    expect(out.steps.slice(0, 2)).toStrictEqual(p.steps.slice(0, 2));
  });

  it('#16.5 a phantom found open is reappeared (nothing to do); an orphan gone is recorded and closed nowhere', () => {
    const out = followUp(
      world(),
      new Map([
        ['BOT-1', true],
        ['OUT-1', false],
      ]),
      RUN,
    );
    expect(out).toMatchObject({ confirmed: [], reappeared: [0] });
    expect(kinds(out.steps)).toStrictEqual(['CorrectDrift', 'DetectOrphan', 'CloseOrphan']);
    expect(out.steps[2]).toStrictEqual({
      action: {
        kind: 'command',
        command: { type: 'CloseOrphan', positionId: 'OUT-1', value: 500, reason: 'gone on a second look' },
        about: 'OUT-1 is gone outside on a second look',
      },
      settles: { list: 'orphans', index: 0, outcome: 'gone on second look', always: true },
    });
  });

  it('#16.5 a confirmed phantom under phantoms: manual is recorded and alerted with its value, not cleared; an id the read did not answer is not open', () => {
    const p = planned(inPosition('BOT-1', 1234.5), [], { phantoms: 'manual' });
    const out = followUp(p, new Map(), RUN);
    expect(out.confirmed).toStrictEqual([0]);
    expect(kinds(out.steps)).toStrictEqual(['SuspectPhantom', 'alert']);
    expect(out.steps[1]).toStrictEqual({
      action: {
        kind: 'alert',
        alert: {
          severity: 'critical',
          kind: 'phantom',
          positionId: 'BOT-1',
          message: 'phantom BOT-1: IN here (value 1234.5), gone outside; policy manual',
        },
      },
      settles: { list: 'phantoms', index: 0, outcome: 'alerted', always: true },
    });
  });

  it('#16.5 changes neither the plan nor its steps, and gives the same answer twice', () => {
    const p = world();
    const before = structuredClone(p);
    const open = new Map([
      ['BOT-1', false],
      ['OUT-1', true],
    ]);
    expect(followUp(p, open, RUN)).toStrictEqual(followUp(p, open, RUN));
    expect(p).toStrictEqual(before);
  });
});
