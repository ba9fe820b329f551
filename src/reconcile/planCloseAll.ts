/*
 * Startup recovery's `close_all` as a plan: the flat steps executePlan runs to close everything
 * open outside and flatten the book. Pure: the book and the outside list in, steps out.
 */
import { venueKeyOf, type BookState, type CommandInput, type InPosition } from '../commands/index.js';
import type { ExternalPosition, PositionMode } from './externalSystem.js';
import type { Step } from './steps.js';

const REASON = 'recovery: close_all';
/** Two quantities this close are the same (float sums of fills). */
const EPSILON = 1e-9;

/**
 * Everything open outside is closed there and then recorded here: as an exit when the book holds
 * it IN, as a closed orphan otherwise. What is IN here but not open outside has nothing to close
 * there; it is cleared from the book. In that order: the closes (in the outside list's order), then
 * the clears (in the book's order).
 *
 * Under `netting` and `hedge` (`mode`) the book's positions are matched by venue key (and side), as
 * reconciliation matches them: each venue position is closed once, whole (the venue's own quantity,
 * so the close cannot flip it), and that one close is recorded for every book position on its key:
 * an exit at its share of the venue's value (by quantity, else by value); what the book holds beyond
 * the venue's quantity is cleared first, from the most recent position back (a phantom: nothing of
 * it was closed outside); what the venue held beyond the book's is a closed orphan. The records run
 * only once the close worked.
 *
 * @example
 * ```ts
 * const { results } = await executePlan(planCloseAll(await handler.load(), await external.listPositions()), { handler, external, meta: { source: 'recovery' } });
 * ```
 */
export function planCloseAll(book: BookState, outside: readonly ExternalPosition[], mode: PositionMode = 'per-id'): Step[] {
  if (mode !== 'per-id') return closeAllByVenueKey(book, outside);
  const steps: Step[] = [];
  const open = new Set<string>();
  for (const ext of outside) {
    open.add(ext.id);
    const record =
      book.positions.get(ext.id)?.status === 'IN'
        ? ({ type: 'Exit', positionId: ext.id, value: ext.value, reason: REASON } as const)
        : ({ type: 'CloseOrphan', positionId: ext.id, value: ext.value, reason: REASON } as const);
    steps.push({ action: { kind: 'closeOutside', positionId: ext.id, record } });
  }
  for (const p of book.positions.values()) {
    if (p.status !== 'IN' || open.has(p.id)) continue;
    steps.push(clear(p, `${REASON}, not open outside`));
  }
  return steps;
}

function clear(p: InPosition, reason: string): Step {
  return {
    action: {
      kind: 'command',
      command: { type: 'ClearPhantom', positionId: p.id, looks: 0, reason },
      about: `clear ${p.id}: IN here, not open outside`,
    },
  };
}

const groupOf = (symbol: string, side: 'long' | 'short'): string => `${side}\u0000${symbol}`;
const bySince = (a: InPosition, b: InPosition): number => (a.since < b.since ? -1 : a.since > b.since ? 1 : a.id < b.id ? -1 : 1);

/**
 * The id a surplus is closed under: the outside id, unless the book uses it (then `<id>~2`, ..., the id
 * cut to 190 characters first so the suffix keeps it within the 200 a position id may have).
 */
function orphanIdFor(book: BookState, externalId: string): string {
  if (!book.positions.has(externalId)) return externalId;
  const base = externalId.slice(0, 190);
  for (let n = 2; ; n++) if (!book.positions.has(`${base}~${n}`)) return `${base}~${n}`;
}

function closeAllByVenueKey(book: BookState, outside: readonly ExternalPosition[]): Step[] {
  const held = new Map<string, InPosition[]>();
  const unkeyed: InPosition[] = [];
  for (const p of book.positions.values()) {
    if (p.status !== 'IN') continue;
    const key = venueKeyOf(p);
    if (key === undefined) {
      unkeyed.push(p);
      continue;
    }
    const id = groupOf(key, p.side);
    held.set(id, [...(held.get(id) ?? []), p]);
  }
  const steps: Step[] = [];
  const closed = new Set<string>();
  for (const ext of outside) {
    const side = ext.side ?? 'long';
    const group = ext.symbol === undefined ? undefined : groupOf(ext.symbol, side);
    const positions = group === undefined ? [] : (held.get(group) ?? []);
    if (group !== undefined) closed.add(group);
    const records = positions.length === 0 ? [orphanClosed(book, ext, ext.value)] : recordsOf(book, ext, positions);
    const [record, ...more] = records as [CommandInput, ...CommandInput[]];
    steps.push({ action: { kind: 'closeOutside', positionId: ext.id, record, ...(more.length > 0 ? { more } : {}) } });
  }
  const clears: Step[] = [];
  for (const [group, positions] of held) {
    if (closed.has(group)) continue;
    for (const p of positions) clears.push(clear(p, `${REASON}, not open outside`));
  }
  for (const p of unkeyed) clears.push(clear(p, `${REASON}, no venue key to match it outside`));
  return [...steps, ...clears];
}

function orphanClosed(book: BookState, ext: ExternalPosition, value: number): CommandInput {
  return { type: 'CloseOrphan', positionId: orphanIdFor(book, ext.id), value, reason: REASON };
}

/** The book's side of one close of a venue position that its positions `positions` are part of. */
function recordsOf(book: BookState, ext: ExternalPosition, positions: readonly InPosition[]): CommandInput[] {
  const where = `${ext.symbol ?? ext.id} ${ext.side ?? 'long'}`;
  const oldestFirst = [...positions].sort(bySince);
  const quantities = oldestFirst.map((p) => p.quantity);
  const venueQuantity = ext.quantity;
  if (venueQuantity === undefined || quantities.some((q) => q === undefined)) {
    // Quantities unknown: every position exits at its share of the venue's value, by value.
    const bookValue = oldestFirst.reduce((s, p) => s + p.value, 0);
    return oldestFirst.map((p) => ({
      type: 'Exit',
      positionId: p.id,
      value: bookValue > 0 ? (ext.value * p.value) / bookValue : ext.value / oldestFirst.length,
      reason: REASON,
    }));
  }
  const records: CommandInput[] = [];
  const left = new Map(oldestFirst.map((p) => [p.id, p.quantity ?? 0]));
  const bookQuantity = [...left.values()].reduce((s, q) => s + q, 0);
  // What the book holds beyond the venue is not there to close: cleared, the most recent first.
  let missing = bookQuantity - venueQuantity;
  for (const p of [...oldestFirst].reverse()) {
    if (missing <= EPSILON * Math.max(1, bookQuantity)) break;
    const q = left.get(p.id) ?? 0;
    const reason = `${REASON}, not open outside (${where})`;
    if (missing >= q * (1 - EPSILON)) {
      records.push({ type: 'ClearPhantom', positionId: p.id, looks: 0, reason });
      left.set(p.id, 0);
      missing -= q;
    } else {
      records.push({ type: 'ClearPhantom', positionId: p.id, looks: 0, quantity: missing, reason });
      left.set(p.id, q - missing);
      missing = 0;
    }
  }
  for (const p of oldestFirst) {
    const q = left.get(p.id) ?? 0;
    if (q <= EPSILON * Math.max(1, bookQuantity)) continue;
    records.push({ type: 'Exit', positionId: p.id, value: (ext.value * q) / venueQuantity, reason: REASON });
  }
  const surplus = venueQuantity - bookQuantity;
  if (surplus > EPSILON * Math.max(1, venueQuantity)) records.push(orphanClosed(book, ext, (ext.value * surplus) / venueQuantity));
  return records;
}
