import type { CommandInput, BookState, InPosition, Position } from '../commands/index.js';
import type { ExternalPosition, PositionMode } from './externalSystem.js';
import { matchById } from './planMatch.js';
import { planByVenueKey } from './planNetting.js';
import { policyFor, type ReconcilePolicy } from './policy.js';
import type { PlanStep, Settles, Step } from './steps.js';
import { definedFields } from '../_internals/definedFields.js';

/** What the outside system showed, and when the look started. */
export interface ExternalSnapshot {
  positions: readonly ExternalPosition[];
  /** When `listPositions` was called: local changes after (minus the grace window) are not judged. */
  startedAt: Date;
  /** Whether a direct `getPosition` can confirm a phantom. */
  canVerify: boolean;
  /**
   * How the venue keys positions (default `per-id`). Under `netting` / `hedge` the book's positions
   * are matched by venue key (and side), summed, and healed by quantity; phantoms are confirmed by looks only.
   */
  positionMode?: PositionMode;
}

export type LocalStatus = Position['status'] | 'UNKNOWN';

export interface OrphanFinding {
  positionId: string;
  value: number;
  symbol?: string;
  side?: 'long' | 'short';
  /** Under netting/hedge: the surplus quantity (the venue holds this much more than the book). */
  quantity?: number;
  local: LocalStatus;
  verdict: 'adopt' | 'close' | 'manual' | 'deferred';
  /** Under netting/hedge: the venue key, and the outside id of the venue position the surplus belongs to. */
  venueKey?: string;
  externalId?: string;
}

export interface PhantomFinding {
  positionId: string;
  value: number;
  symbol?: string;
  /** Consecutive looks that missed it, this one included. */
  looks: number;
  verdict: 'suspected' | 'confirmed' | 'verify' | 'deferred';
  policy: 'clear' | 'manual';
  /** Under netting/hedge: the venue key, and the part of the position missing outside (absent: all of it). */
  venueKey?: string;
  quantity?: number;
}

export interface DriftFinding {
  positionId: string;
  symbol?: string;
  localValue: number;
  externalValue: number;
  localQuantity?: number;
  externalQuantity?: number;
  tolerance: number;
  verdict: 'correct' | 'alert' | 'deferred';
  /** Under netting/hedge: the venue key (`positionId` is then the outside id; the values are the book's sum and the venue's). */
  venueKey?: string;
}

export interface Alert {
  severity: 'warning' | 'critical';
  kind: 'orphan' | 'phantom' | 'drift' | 'external' | 'externalOrder';
  positionId?: string;
  message: string;
}

/** One step of a plan, as data; the executor carries it out. */
export type PlannedAction =
  | { kind: 'command'; command: CommandInput; about: string }
  /**
   * Close an orphan outside (`positionId` is the outside id), only if a second look still shows it;
   * then record it (as `orphanId` when the book knows it by another id). With `quantity`, only that
   * much of it, on `side` (a netting surplus).
   */
  | { kind: 'close'; positionId: string; value: number; symbol?: string; orphanId?: string; quantity?: number; side?: 'long' | 'short' }
  /** Ask the outside system directly about a missing position; clear or alert when confirmed gone. */
  | { kind: 'verify'; positionId: string; looks: number; policy: 'clear' | 'manual' }
  | { kind: 'alert'; alert: Alert };

export interface ReconciliationPlan {
  orphans: OrphanFinding[];
  /** Open outside below the dust threshold: ignored. */
  dust: { positionId: string; value: number }[];
  phantoms: PhantomFinding[];
  /** Suspected phantoms seen outside again. */
  reappeared: { positionId: string; looks: number }[];
  drift: DriftFinding[];
  /** Orphans recorded earlier that are no longer open outside. */
  vanished: { positionId: string; value: number }[];
  actions: PlannedAction[];
}

/** The reconcile policy plus the book's dust threshold. */
export type PlanPolicy = ReconcilePolicy & { minPositionValue: number };

const isoMinus = (date: Date, seconds: number): number => date.getTime() - seconds * 1000;

function money(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/**
 * Compares the book with a snapshot of the outside system and returns what to do, as data.
 * Pure: no I/O, no clock (time comes in as `now` and `snapshot.startedAt`).
 * - Orphan: open outside at or above `minPositionValue`, not IN here.
 * - Phantom: IN here, missing outside; confirmed after `phantomConfirmLooks` looks, or by a direct look.
 * - Drift: both know it, values (or quantities) differ beyond tolerance.
 * - Anything that changed locally within `graceSeconds` before the snapshot started is deferred.
 *
 * @example
 * ```ts
 * const policy = { ...ReconcilePolicy.parse({}), minPositionValue: 1 };
 * const plan = planReconciliation(state, { positions, startedAt, canVerify: false }, policy, new Date());
 * ```
 */
export function planReconciliation(
  book: BookState,
  snapshot: ExternalSnapshot,
  policy: PlanPolicy,
  now: Date,
  runId?: string,
): ReconciliationPlan {
  return planSteps(book, snapshot, policy, now, runId).plan;
}

/** A plan and its actions as steps: the same actions, each with the finding it settles (for the executor). */
export interface PlannedSteps {
  plan: ReconciliationPlan;
  /** One per `plan.actions`, in the same order. */
  steps: PlanStep[];
}

/** {@link planReconciliation}, with each action wrapped in a step that carries its finding and outcome. */
export function planSteps(book: BookState, snapshot: ExternalSnapshot, policy: PlanPolicy, _now: Date, runId?: string): PlannedSteps {
  // Grace is measured from the snapshot's start, not from `now`: a slow look must not widen it.
  const { minPositionValue } = policy;
  const plan: ReconciliationPlan = { orphans: [], dust: [], phantoms: [], reappeared: [], drift: [], vanished: [], actions: [] };
  const steps: PlanStep[] = [];
  const add = (action: PlannedAction, settles?: Settles, corrects?: true): void => {
    plan.actions.push(action);
    const step: PlanStep = { action };
    if (settles !== undefined) step.settles = settles;
    if (corrects) step.corrects = corrects;
    steps.push(step);
  };
  const recent = (p: Position, graceSeconds: number): boolean => Date.parse(p.since) > isoMinus(snapshot.startedAt, graceSeconds);
  // One resolved policy per symbol, not one object per position (100,000 positions: ~40 % of the plan).
  const rulesBySymbol = new Map<string | undefined, ReturnType<typeof policyFor>>();
  const rulesFor = (symbol: string | undefined): ReturnType<typeof policyFor> => {
    let rules = rulesBySymbol.get(symbol);
    if (rules === undefined) {
      rules = policyFor(policy, symbol);
      rulesBySymbol.set(symbol, rules);
    }
    return rules;
  };
  const tag = runId === undefined ? {} : { runId };

  if (snapshot.positionMode === 'netting' || snapshot.positionMode === 'hedge') {
    const known = planByVenueKey({
      book,
      positions: snapshot.positions,
      mode: snapshot.positionMode,
      minPositionValue,
      plan,
      add,
      rulesFor,
      recent,
      tag,
    });
    vanishedOrphans(book, (id) => known.has(id), plan, add);
    return { plan, steps };
  }

  // One pass over each side (planMatch.ts): what each outside position is here, what is missing outside.
  const { localOf, missing, isOutside } = matchById(snapshot.positions, book.positions);

  // Outside -> orphans, dust, drift, reappeared.
  const { positions } = snapshot;
  for (let i = 0; i < positions.length; i++) {
    const ext = positions[i] as ExternalPosition;
    const local = localOf[i];
    const rules = rulesFor(ext.symbol ?? local?.symbol);
    if (local?.status === 'IN') {
      if (local.missedLooks > 0) {
        plan.reappeared.push({ positionId: local.id, looks: local.missedLooks });
        add({ kind: 'command', command: { type: 'DismissPhantom', positionId: local.id }, about: `${local.id} is open outside again` });
      }
      const tolerance = Math.max(rules.driftToleranceAbs, (rules.driftTolerancePct / 100) * local.value);
      const valueDrift = Math.abs(ext.value - local.value) > tolerance + 1e-9;
      const quantityDrift =
        ext.quantity !== undefined &&
        local.quantity !== undefined &&
        Math.abs(ext.quantity - local.quantity) > 1e-9 * Math.max(1, local.quantity);
      if (!valueDrift && !quantityDrift) continue;
      const finding: DriftFinding = {
        positionId: local.id,
        localValue: local.value,
        externalValue: ext.value,
        tolerance,
        verdict: recent(local, rules.graceSeconds) ? 'deferred' : rules.drift,
      };
      if (local.symbol !== undefined) finding.symbol = local.symbol;
      if (local.quantity !== undefined) finding.localQuantity = local.quantity;
      if (ext.quantity !== undefined) finding.externalQuantity = ext.quantity;
      const driftAt = plan.drift.push(finding) - 1;
      if (finding.verdict === 'correct') {
        add(
          {
            kind: 'command',
            command: {
              type: 'CorrectDrift',
              positionId: local.id,
              externalValue: ext.value,
              tolerance,
              ...definedFields({ externalQuantity: ext.quantity }),
            },
            about: `${local.id}: value ${money(local.value)} here, ${money(ext.value)} outside`,
          },
          { list: 'drift', index: driftAt, outcome: 'corrected' },
          true,
        );
      } else if (finding.verdict === 'alert') {
        add(
          {
            kind: 'alert',
            alert: {
              severity: 'warning',
              kind: 'drift',
              positionId: local.id,
              message: `drift on ${local.id}: value ${money(local.value)} here, ${money(ext.value)} outside (tolerance ${money(tolerance)})`,
            },
          },
          { list: 'drift', index: driftAt, outcome: 'alerted', always: true },
        );
      }
      continue;
    }

    if (ext.value < minPositionValue) {
      plan.dust.push({ positionId: ext.id, value: ext.value });
      continue;
    }
    const finding: OrphanFinding = {
      positionId: ext.id,
      value: ext.value,
      local: local?.status ?? 'UNKNOWN',
      verdict: local !== undefined && recent(local, rules.graceSeconds) ? 'deferred' : rules.orphans,
    };
    if (ext.symbol !== undefined) finding.symbol = ext.symbol;
    if (ext.side !== undefined) finding.side = ext.side;
    if (ext.quantity !== undefined) finding.quantity = ext.quantity;
    const orphanAt = plan.orphans.push(finding) - 1;
    if (finding.verdict === 'deferred') continue;

    add({
      kind: 'command',
      command: {
        type: 'DetectOrphan',
        positionId: ext.id,
        value: ext.value,
        ...tag,
        ...definedFields({ symbol: ext.symbol, side: ext.side, quantity: ext.quantity, price: ext.price, openedAt: ext.openedAt }),
      },
      about: `${ext.id} is open outside (value ${money(ext.value)}) and ${finding.local === 'UNKNOWN' ? 'unknown' : finding.local} here`,
    });
    if (finding.verdict === 'adopt') {
      if (local !== undefined) {
        add({
          kind: 'command',
          command: { type: 'Archive', positionId: ext.id },
          about: `archive the ${local.status} ${ext.id} before adopting it`,
        });
      }
      add(
        {
          kind: 'command',
          command: {
            type: 'AdoptOrphan',
            positionId: ext.id,
            value: ext.value,
            reason: 'open outside, unknown here',
            ...definedFields({
              symbol: (ext.symbol ?? local?.symbol) || undefined,
              side: ext.side ?? local?.side,
              quantity: ext.quantity,
              price: ext.price,
              setup: local?.setup,
              group: local?.group,
            }),
          },
          about: `adopt ${ext.id}`,
        },
        { list: 'orphans', index: orphanAt, outcome: 'adopted' },
        true,
      );
    } else if (finding.verdict === 'close') {
      // The outcome and the correction are the second look's to give (followUp).
      add(
        { kind: 'close', positionId: ext.id, value: ext.value, ...definedFields({ symbol: ext.symbol }) },
        { list: 'orphans', index: orphanAt, outcome: 'closed' },
        true,
      );
    } else {
      add(
        {
          kind: 'alert',
          alert: {
            severity: 'critical',
            kind: 'orphan',
            positionId: ext.id,
            message: `orphan ${ext.id}: open outside (value ${money(ext.value)}), not IN here; policy manual`,
          },
        },
        { list: 'orphans', index: orphanAt, outcome: 'alerted', always: true },
      );
    }
  }

  vanishedOrphans(book, isOutside, plan, add);

  // Inside -> phantoms.
  for (const p of missing) {
    const rules = rulesFor(p.symbol);
    const looks = p.missedLooks + 1;
    const finding: PhantomFinding = { positionId: p.id, value: p.value, looks, verdict: 'suspected', policy: rules.phantoms };
    if (p.symbol !== undefined) finding.symbol = p.symbol;
    const phantomAt = plan.phantoms.push(finding) - 1;
    if (recent(p, rules.graceSeconds)) {
      finding.verdict = 'deferred';
      continue;
    }
    if (looks >= rules.phantomConfirmLooks) {
      finding.verdict = 'confirmed';
      for (const step of confirmedPhantomSteps(p, looks, rules.phantoms, tag, phantomAt)) add(step.action, step.settles, step.corrects);
    } else if (snapshot.canVerify) {
      finding.verdict = 'verify';
      // What becomes of it is the direct look's to say (followUp).
      add(
        { kind: 'verify', positionId: p.id, looks, policy: rules.phantoms },
        { list: 'phantoms', index: phantomAt, outcome: 'suspected' },
      );
    } else {
      add(
        {
          kind: 'command',
          command: { type: 'SuspectPhantom', positionId: p.id, looks, ...tag },
          about: `${p.id} is IN here and missing outside (look ${looks} of ${rules.phantomConfirmLooks})`,
        },
        { list: 'phantoms', index: phantomAt, outcome: 'suspected' },
      );
    }
  }
  return { plan, steps };
}

/** Orphans recorded before and gone outside since (not `outside`): resolved, for the audit trail. */
function vanishedOrphans(
  book: BookState,
  outside: (id: string) => boolean,
  plan: ReconciliationPlan,
  add: (action: PlannedAction, settles?: Settles, corrects?: true) => void,
): void {
  for (const [id, orphan] of book.orphans) {
    if (outside(id) || book.positions.get(id)?.status === 'IN') continue;
    plan.vanished.push({ positionId: id, value: orphan.value });
    add(
      {
        kind: 'command',
        command: { type: 'CloseOrphan', positionId: id, value: orphan.value, reason: 'no longer open outside' },
        about: `orphan ${id} is gone outside`,
      },
      undefined,
      true,
    );
  }
}

/** The actions for a confirmed phantom: record the looks, then clear it or hand it to a person. */
export function confirmedPhantom(
  p: Pick<InPosition, 'id' | 'value'>,
  looks: number,
  policy: 'clear' | 'manual',
  tag: { runId?: string; closedAt?: string } = {},
): PlannedAction[] {
  return confirmedPhantomSteps(p, looks, policy, tag).map((s) => s.action);
}

/**
 * {@link confirmedPhantom} as steps; with `phantomAt`, each settles that phantom of the plan. A
 * `tag.closedAt` (the venue's close time) goes into both the SuspectPhantom and the ClearPhantom.
 */
export function confirmedPhantomSteps(
  p: Pick<InPosition, 'id' | 'value'>,
  looks: number,
  policy: 'clear' | 'manual',
  tag: { runId?: string; closedAt?: string } = {},
  phantomAt?: number,
): Step<Extract<PlannedAction, { kind: 'command' | 'alert' }>>[] {
  const settles = (outcome: 'suspected' | 'cleared' | 'alerted', always?: true): { settles?: Settles } =>
    phantomAt === undefined ? {} : { settles: { list: 'phantoms', index: phantomAt, outcome, ...(always ? { always } : {}) } };
  const suspect = {
    action: {
      kind: 'command',
      command: { type: 'SuspectPhantom', positionId: p.id, looks, ...tag },
      about: `${p.id} missing outside for ${looks} look(s)`,
    },
    ...settles('suspected'),
  } as const;
  if (policy === 'clear') {
    return [
      suspect,
      {
        action: {
          kind: 'command',
          command: {
            type: 'ClearPhantom',
            positionId: p.id,
            looks,
            reason: `missing outside for ${looks} consecutive look(s)`,
            ...definedFields({ closedAt: tag.closedAt }),
          },
          about: `clear phantom ${p.id}`,
        },
        ...settles('cleared'),
        corrects: true,
      },
    ];
  }
  return [
    suspect,
    {
      action: {
        kind: 'alert',
        alert: {
          severity: 'critical',
          kind: 'phantom',
          positionId: p.id,
          message: `phantom ${p.id}: IN here (value ${money(p.value)}), gone outside; policy manual`,
        },
      },
      ...settles('alerted', true),
    },
  ];
}
