/*
 * The planner for netting and hedge accounts, pure: the venue keys positions by symbol (netting)
 * or by symbol and side (hedge), so several book positions may be one venue position. Per venue
 * key and side, the book's positions are summed and compared with the venue's; what differs is
 * drift, orphan quantity (the venue holds more) or phantom quantity (the book holds more), healed
 * by quantity through the same commands as a per-id account.
 */
import { venueKeyOf, type BookState, type InPosition, type Position } from '../commands/index.js';
import { definedFields } from '../_internals/definedFields.js';
import type { ExternalPosition } from './externalSystem.js';
import type { DriftFinding, OrphanFinding, PhantomFinding, PlannedAction, ReconciliationPlan } from './plan.js';
import type { policyFor } from './policy.js';
import type { Settles } from './steps.js';

type Rules = ReturnType<typeof policyFor>;
type Side = 'long' | 'short';

/** What the planner hands over: the plan being built and how to add to it. */
export interface NettingContext {
  book: BookState;
  positions: readonly ExternalPosition[];
  mode: 'netting' | 'hedge';
  minPositionValue: number;
  plan: ReconciliationPlan;
  add: (action: PlannedAction, settles?: Settles, corrects?: true) => void;
  rulesFor: (symbol: string | undefined) => Rules;
  /** Whether a position changed within the grace window before the snapshot. */
  recent: (p: Position, graceSeconds: number) => boolean;
  tag: { runId?: string };
}

/** Two quantities this close are the same (float sums of fills). */
const EPSILON = 1e-9;
const same = (a: number, b: number): boolean => Math.abs(a - b) <= EPSILON * Math.max(1, Math.abs(a), Math.abs(b));

function money(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function number(n: number): string {
  return String(Math.round(n * 1e8) / 1e8);
}

/** One venue key and side: the book's IN positions on it and the venue's position, if any. */
interface Group {
  key: string;
  side: Side;
  /** The key, then the side: sorts as the key and then the side (a key holds no control character). */
  order: string;
  inBook: InPosition[];
  /** Every book position on the key and side, whatever its status (for the grace window). */
  all: Position[];
  outside?: ExternalPosition;
}

const groupId = (key: string, side: Side): string => `${side}\u0000${key}`;

/** The outside side of a venue position: a netting account's position without a side is long. */
const sideOf = (ext: ExternalPosition): Side => ext.side ?? 'long';

/**
 * An id for the position an orphan surplus is adopted as: the outside id when the book has no
 * position by that name, else the first free `<id>~<n>` (the id cut to 190 characters first, so
 * the suffix keeps it within the 200 a position id may have). Stable while the book does not
 * change, so a surplus left to a person is the same orphan run after run.
 */
function freshId(book: BookState, taken: Set<string>, externalId: string): string {
  if (!book.positions.has(externalId) && !taken.has(externalId)) return externalId;
  const base = externalId.slice(0, 190);
  for (let n = 2; ; n++) {
    const id = `${base}~${n}`;
    if (!book.positions.has(id) && !taken.has(id)) return id;
  }
}

/**
 * Plans a netting or hedge account into `ctx.plan` (see the file's opening comment). Returns the
 * ids the book's recorded orphans may still be known by (orphans and dust found this run), so the
 * caller resolves the rest as vanished.
 */
export function planByVenueKey(ctx: NettingContext): Set<string> {
  const { book, plan, add } = ctx;
  const groups = new Map<string, Group>();
  const groupOf = (key: string, side: Side): Group => {
    const id = groupId(key, side);
    let g = groups.get(id);
    if (g === undefined) {
      // Stryker disable next-line ArrayDeclaration: `all` only feeds `recent`, which finds no entry time on a string and answers false.
      g = { key, side, order: `${key}\u0000${side}`, inBook: [], all: [] };
      groups.set(id, g);
    }
    return g;
  };
  for (const ext of ctx.positions) {
    // The port checked that every outside position has its symbol (and side in hedge mode).
    if (ext.symbol === undefined) continue;
    groupOf(ext.symbol, sideOf(ext)).outside = ext;
  }
  for (const p of book.positions.values()) {
    const key = venueKeyOf(p);
    if (key === undefined) {
      if (p.status === 'IN') {
        add({
          kind: 'alert',
          alert: {
            severity: 'warning',
            kind: 'phantom',
            positionId: p.id,
            message: `${p.id} has no symbol or venue key: a ${ctx.mode} account cannot be matched with it; not judged`,
          },
        });
      }
      continue;
    }
    const g = groupOf(key, p.side);
    g.all.push(p);
    if (p.status === 'IN') g.inBook.push(p);
  }

  const known = new Set<string>();
  const taken = new Set<string>();
  for (const g of [...groups.values()].sort(byKey)) {
    // A shortcut for keys the book only held before: with nothing IN and nothing outside, the branches below plan nothing either.
    // Stryker disable next-line ConditionalExpression: see the line above.
    if (g.inBook.length === 0 && g.outside === undefined) continue;
    const rules = ctx.rulesFor(g.key);
    const deferred = g.all.some((p) => ctx.recent(p, rules.graceSeconds));
    const ext = g.outside;
    const bookQuantity = sum(g.inBook.map((p) => p.quantity));
    const bookValue = g.inBook.reduce((s, p) => s + p.value, 0);
    const judged: Set<string> = new Set();

    if (ext === undefined) {
      phantoms(
        ctx,
        g,
        g.inBook.map((p) => ({ p })),
        deferred,
        rules,
        judged,
      );
    } else if (g.inBook.length === 0) {
      orphan(ctx, g, ext, { quantity: ext.quantity, value: ext.value, whole: true }, deferred, rules, taken, known);
    } else if (ext.quantity !== undefined && bookQuantity !== undefined && !same(ext.quantity, bookQuantity)) {
      // Quantities known on both sides and different: orphan or phantom quantity (else value drift, below).
      // Stryker disable next-line EqualityOperator: equal quantities never get here (`same` above).
      if (ext.quantity > bookQuantity) {
        const surplus = ext.quantity - bookQuantity;
        const value = (ext.value * surplus) / ext.quantity;
        orphan(ctx, g, ext, { quantity: surplus, value, whole: false }, deferred, rules, taken, known);
        // Dust on top of what the book holds (a reward on a held symbol): the rest is the book's, and its value is still judged.
        if (value < ctx.minPositionValue) {
          drift(ctx, g, { ...ext, quantity: bookQuantity, value: ext.value - value }, bookValue, bookQuantity, deferred, rules);
        }
      } else {
        phantoms(ctx, g, shortfall(g.inBook, bookQuantity - ext.quantity), deferred, rules, judged);
      }
    } else {
      drift(ctx, g, ext, bookValue, bookQuantity, deferred, rules);
    }

    // Suspected before, and not missing this time: seen again.
    // Stryker disable next-line ConditionalExpression: with nothing outside, every IN position was judged a phantom above and is skipped.
    if (ext !== undefined) {
      for (const p of g.inBook) {
        if (p.missedLooks === 0 || judged.has(p.id)) continue;
        plan.reappeared.push({ positionId: p.id, looks: p.missedLooks });
        add({
          kind: 'command',
          command: { type: 'DismissPhantom', positionId: p.id },
          about: `${p.id}: ${g.key} (${g.side}) holds it outside again`,
        });
      }
    }
  }
  return known;
}

/** By venue key, then long before short. No two groups share both, so none compares equal. */
function byKey(a: Group, b: Group): number {
  // Stryker disable next-line EqualityOperator: the order strings are never equal (see above).
  return a.order < b.order ? -1 : 1;
}

/** The sum of the quantities, or undefined when one is unknown. */
function sum(quantities: (number | undefined)[]): number | undefined {
  let total = 0;
  for (const q of quantities) {
    if (q === undefined) return undefined;
    total += q;
  }
  return total;
}

/**
 * What a shortfall clears: from the most recent position back (the last entered is the first
 * the venue would not have), whole positions while the shortfall covers them, then part of one.
 */
function shortfall(positions: readonly InPosition[], missing: number): { p: InPosition; quantity?: number }[] {
  const newestFirst = [...positions].sort((a, b) => (a.since < b.since ? 1 : a.since > b.since ? -1 : idDescending(a, b)));
  const out: { p: InPosition; quantity?: number }[] = [];
  let left = missing;
  for (const p of newestFirst) {
    // A clear within the tolerance may leave left a little below 0 (`same` is relative); at 0 exactly, `same` answers.
    // Stryker disable next-line EqualityOperator: see the line above.
    if (left <= 0 || same(left, 0)) break;
    const q = p.quantity ?? 0;
    // Stryker disable next-line EqualityOperator: at left === q, `same` answers true as well.
    if (left >= q || same(left, q)) {
      out.push({ p });
      left -= q;
    } else {
      out.push({ p, quantity: left });
      left = 0;
    }
  }
  return out;
}

/** Positions entered at the same moment: the greater id first (the same pick every run). */
function idDescending(a: InPosition, b: InPosition): number {
  // Stryker disable next-line EqualityOperator: two positions never share an id.
  return a.id < b.id ? 1 : -1;
}

/** The venue holds more than the book (or holds what the book does not): adopt, close or hand over the surplus. */
function orphan(
  ctx: NettingContext,
  g: Group,
  ext: ExternalPosition,
  surplus: { quantity: number | undefined; value: number; whole: boolean },
  deferred: boolean,
  rules: Rules,
  taken: Set<string>,
  known: Set<string>,
): void {
  const { plan, add, tag } = ctx;
  const id = freshId(ctx.book, taken, ext.id);
  taken.add(id);
  known.add(id);
  if (surplus.value < ctx.minPositionValue) {
    plan.dust.push({ positionId: id, value: surplus.value });
    return;
  }
  const finding: OrphanFinding = {
    positionId: id,
    value: surplus.value,
    local: 'UNKNOWN',
    verdict: deferred ? 'deferred' : rules.orphans,
    symbol: g.key,
    side: g.side,
    venueKey: g.key,
    externalId: ext.id,
  };
  if (surplus.quantity !== undefined) finding.quantity = surplus.quantity;
  const orphanAt = plan.orphans.push(finding) - 1;
  if (finding.verdict === 'deferred') return;
  // An outside quantity is never 0 and is positive once parsed (shorts normalised).
  const price = ext.price ?? (ext.quantity !== undefined ? ext.value / ext.quantity : undefined);
  const what = surplus.whole
    ? `${g.key} (${g.side}) is open outside (value ${money(surplus.value)}) and the book holds none of it`
    : `${g.key} (${g.side}): the venue holds ${number(surplus.quantity ?? 0)} more than the book (value ${money(surplus.value)})`;
  add({
    kind: 'command',
    command: {
      type: 'DetectOrphan',
      positionId: id,
      value: surplus.value,
      symbol: g.key,
      side: g.side,
      ...tag,
      ...definedFields({ quantity: surplus.quantity, price }),
    },
    about: what,
  });
  if (finding.verdict === 'adopt') {
    add(
      {
        kind: 'command',
        command: {
          type: 'AdoptOrphan',
          positionId: id,
          value: surplus.value,
          symbol: g.key,
          side: g.side,
          reason: surplus.whole ? 'open outside, unknown here' : 'the venue holds more than the book',
          ...definedFields({ quantity: surplus.quantity, price }),
        },
        about: `adopt ${id}: ${surplus.whole ? 'all' : 'the surplus'} of ${g.key} (${g.side})`,
      },
      { list: 'orphans', index: orphanAt, outcome: 'adopted' },
      true,
    );
  } else if (finding.verdict === 'close') {
    add(
      {
        kind: 'close',
        positionId: ext.id,
        value: surplus.value,
        symbol: g.key,
        orphanId: id,
        // The whole position: close it all; a surplus: take that much off, on its side.
        ...(surplus.whole ? {} : definedFields({ quantity: surplus.quantity, side: g.side })),
      },
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
          positionId: id,
          message: `orphan ${id}: ${what}; policy manual`,
        },
      },
      { list: 'orphans', index: orphanAt, outcome: 'alerted', always: true },
    );
  }
}

/** The book holds more than the venue (or holds what the venue does not): suspect, then clear or hand over, by quantity. */
function phantoms(
  ctx: NettingContext,
  g: Group,
  parts: readonly { p: InPosition; quantity?: number }[],
  deferred: boolean,
  rules: Rules,
  judged: Set<string>,
): void {
  const { plan, add, tag } = ctx;
  for (const { p, quantity } of parts) {
    judged.add(p.id);
    const looks = p.missedLooks + 1;
    const part = quantity === undefined ? 1 : quantity / (p.quantity ?? quantity);
    const finding: PhantomFinding = {
      positionId: p.id,
      value: p.value * part,
      looks,
      verdict: 'suspected',
      policy: rules.phantoms,
      symbol: g.key,
      venueKey: g.key,
    };
    if (quantity !== undefined) finding.quantity = quantity;
    const phantomAt = plan.phantoms.push(finding) - 1;
    if (deferred) {
      finding.verdict = 'deferred';
      continue;
    }
    const missing = quantity === undefined ? 'missing outside' : `${number(quantity)} of it missing outside`;
    const settles = (outcome: 'suspected' | 'cleared' | 'alerted', always?: true): Settles => ({
      list: 'phantoms',
      index: phantomAt,
      outcome,
      ...(always ? { always } : {}),
    });
    add(
      {
        kind: 'command',
        command: { type: 'SuspectPhantom', positionId: p.id, looks, ...tag },
        about: `${p.id} (${g.key}, ${g.side}): ${missing} (look ${looks} of ${rules.phantomConfirmLooks})`,
      },
      settles('suspected'),
    );
    if (looks < rules.phantomConfirmLooks) continue;
    finding.verdict = 'confirmed';
    if (rules.phantoms === 'clear') {
      add(
        {
          kind: 'command',
          command: {
            type: 'ClearPhantom',
            positionId: p.id,
            looks,
            reason: `${missing} for ${looks} consecutive look(s) (${g.key} ${g.side})`,
            ...definedFields({ quantity }),
          },
          about: quantity === undefined ? `clear phantom ${p.id}` : `clear ${number(quantity)} of phantom ${p.id}`,
        },
        settles('cleared'),
        true,
      );
    } else {
      add(
        {
          kind: 'alert',
          alert: {
            severity: 'critical',
            kind: 'phantom',
            positionId: p.id,
            message: `phantom ${p.id}: IN here (value ${money(finding.value)} ${missing}), ${g.key} ${g.side} at the venue; policy manual`,
          },
        },
        settles('alerted', true),
      );
    }
  }
}

/** Same quantity (or none known): the summed value beyond tolerance is drift, corrected on each position by its share. */
function drift(
  ctx: NettingContext,
  g: Group,
  ext: ExternalPosition,
  bookValue: number,
  bookQuantity: number | undefined,
  deferred: boolean,
  rules: Rules,
): void {
  const { plan, add } = ctx;
  const tolerance = Math.max(rules.driftToleranceAbs, (rules.driftTolerancePct / 100) * bookValue);
  if (Math.abs(ext.value - bookValue) <= tolerance + 1e-9) return;
  const finding: DriftFinding = {
    positionId: ext.id,
    symbol: g.key,
    venueKey: g.key,
    localValue: bookValue,
    externalValue: ext.value,
    tolerance,
    verdict: deferred ? 'deferred' : rules.drift,
  };
  if (bookQuantity !== undefined) finding.localQuantity = bookQuantity;
  if (ext.quantity !== undefined) finding.externalQuantity = ext.quantity;
  const driftAt = plan.drift.push(finding) - 1;
  if (finding.verdict === 'correct') {
    for (const p of g.inBook) {
      // Each position's share: by quantity when every quantity is known (each is positive, so the sum is), else by
      // value (equal when the book is worth 0).
      const share =
        bookQuantity !== undefined ? (p.quantity ?? 0) / bookQuantity : bookValue > 0 ? p.value / bookValue : 1 / g.inBook.length;
      const externalValue = ext.value * share;
      add(
        {
          kind: 'command',
          command: { type: 'CorrectDrift', positionId: p.id, externalValue, tolerance: tolerance * share },
          about: `${p.id}: its share of ${g.key} (${g.side}) is worth ${money(externalValue)} outside, ${money(p.value)} here`,
        },
        { list: 'drift', index: driftAt, outcome: 'corrected' },
        true,
      );
    }
  } else if (finding.verdict === 'alert') {
    add(
      {
        kind: 'alert',
        alert: {
          severity: 'warning',
          kind: 'drift',
          positionId: ext.id,
          message: `drift on ${g.key} (${g.side}): value ${money(bookValue)} here over ${g.inBook.length} position(s), ${money(ext.value)} outside (tolerance ${money(tolerance)})`,
        },
      },
      { list: 'drift', index: driftAt, outcome: 'alerted', always: true },
    );
  }
}
