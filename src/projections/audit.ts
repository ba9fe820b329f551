import type { BookState, BookStateJson, ExternalOrderFacts } from '../commands/index.js';
import type { RecordedEvent } from '../events/index.js';
import {
  BookFold,
  byKey,
  sortedEntries,
  type Unchecked,
  foldLimits,
  laterOf,
  secondsFrom,
  bookStageKey,
  type FoldStep,
} from './_internals/bookFold.js';
import { addSegment, lasted, valueSecondsIn, type Segment } from './_internals/leaks.js';
import { leakTotals, type LeakCause, type LeakTotalsByKey } from './leakTotals.js';

export { LEAK_CAUSES, type LeakCause } from './leakTotals.js';
import type { ProjectionOptions } from './options.js';
import { projectionVersion, withPrivateFold, type BookStageReader, type Projection } from './projection.js';
import { recordFrom } from '../_internals/records.js';

/** 5: leaks dated from the best evidence, with a cause, value x time as segments, late fills as episodes, totals by cause, symbol and day; 6: external orders. */
const SHAPE = 6;

/**
 * When a leak began, from the best evidence the log holds: the venue's own open or close time
 * (`venue`); the venue's time of a fill of the book's own order recorded late (`fill`); the looks
 * around it (`looks`: after the last reconciliation that looked and did not see it, at or before the
 * one that did); a late fill without a venue time is bounded by its order's request (`order`); with
 * no earlier look in the log, only the finding itself (`detection`: it began at or before then).
 * Value x time counts from `at`: the venue's or the fill's time, else `earliest` (the longest the
 * leak can have lasted), else the finding.
 */
export interface LeakStart {
  evidence: 'venue' | 'fill' | 'looks' | 'order' | 'detection';
  at: string;
  /** It began after this (null: nothing in the log bounds it from below). */
  earliest: string | null;
  /** It began at or before this. */
  latest: string;
}

/** What every episode holds: why, since when, and its value over time (the first segment starts at `start.at`). */
interface Leak {
  cause: LeakCause;
  start: LeakStart;
  /** The latest value known. */
  value: number;
  segments: Segment[];
  /** Resolved by reconciliation or startup recovery (adopted, closed, cleared, a late fill recorded), not by a person or by itself. */
  healed: boolean;
}

export interface OrphanEpisode extends Leak {
  positionId: string;
  symbol?: string;
  detectedAt: string;
  /** Log position of the first detection (of the adoption or close, when never detected). */
  detectedPosition: number;
  /** Times reconciliation reported it (0 when it was adopted or closed without a report). */
  detections: number;
  lastSeenAt: string;
  firstValue: number;
  resolution: 'open' | 'adopted' | 'closed';
  resolvedAt: string | null;
  resolvedPosition: number | null;
}

export interface PhantomEpisode extends Leak {
  positionId: string;
  symbol?: string;
  suspectedAt: string;
  suspectedPosition: number;
  /** Most consecutive looks that missed it. */
  looks: number;
  /** cleared: closed locally as a phantom; dismissed: seen outside again; exited: left IN another way. */
  resolution: 'open' | 'cleared' | 'dismissed' | 'exited';
  resolvedAt: string | null;
  resolvedPosition: number | null;
  /** P&L booked when it was cleared. */
  realizedPnl?: number;
}

/** A fill of the book's own order that reconciliation or startup recovery found at the venue: untracked from the trade to the record. */
export interface LateFillEpisode extends Leak {
  clientOrderId: string;
  positionId: string;
  symbol: string;
  tradeId: string;
  quantity: number;
  price: number;
  resolution: 'recorded';
  resolvedAt: string;
  resolvedPosition: number;
}

export interface DriftRecord {
  at: string;
  position: number;
  positionId: string;
  localValue: number;
  externalValue: number;
  /** externalValue - localValue. */
  delta: number;
  localQuantity?: number;
  externalQuantity?: number;
  tolerance?: number;
}

export interface ReconciliationRecord {
  runId: string;
  position: number;
  startedAt: string;
  completedAt: string;
  snapshotAt?: string;
  counts: { orphans: number; phantoms: number; drift: number; corrected: number; alerts: number; errors: number };
}

/**
 * An order event that matters to an auditor: the venue refused an order (`rejected`), the venue
 * never knew an in-flight order (`lost`, resolved as REJECTED or CANCELED), an order was
 * canceled after it had partly filled (`canceled_with_fills`: a position holds less than asked),
 * or a fill of one of the book's own orders was recorded late (`late_fill`: reconciliation or
 * startup recovery found it at the venue, the bot never heard of it; what appeared outside was
 * this fill, not an orphan).
 */
export interface OrderIncident {
  kind: 'rejected' | 'lost' | 'canceled_with_fills' | 'late_fill';
  clientOrderId: string;
  positionId: string;
  symbol: string;
  at: string;
  position: number;
  quantity: number;
  filledQuantity: number;
  reason?: string;
  /** A late fill's trade, price and size (`quantity` is then the fill's). */
  tradeId?: string;
  price?: number;
  /** When the venue says the trade happened, and how long before it was recorded (seconds), when it says. */
  filledAt?: string;
  lateSeconds?: number;
}

/**
 * An order at the venue that the book never issued (placed by hand, or by another program), from
 * its detection to what the policy made of it: `open` (left alone so far: policy `manual`, or a
 * cancel or an adoption that failed), `canceled` at the venue by reconciliation, or `adopted` into
 * the book (`adoptedAs`: the book's order and position from then on). A venue id detected again
 * after it was resolved opens a new incident.
 */
export interface ExternalOrderIncident extends ExternalOrderFacts {
  detectedAt: string;
  detectedPosition: number;
  resolution: 'open' | 'canceled' | 'adopted';
  resolvedAt: string | null;
  resolvedPosition: number | null;
  adoptedAs?: { clientOrderId: string; positionId: string };
}

export interface AuditBookState {
  orphans: OrphanEpisode[];
  phantoms: PhantomEpisode[];
  lateFills: LateFillEpisode[];
  drift: DriftRecord[];
  reconciliations: ReconciliationRecord[];
  orders: OrderIncident[];
  externalOrders: ExternalOrderIncident[];
  /** Position id -> index of its unresolved episode. */
  openOrphans: Map<string, number>;
  openPhantoms: Map<string, number>;
  /**
   * Ids the looks saw in a state that is no leak on the record yet but not clear either (a finding
   * deferred as too recent, a position held by an order in flight) -> the last look before that.
   */
  unclear: Map<string, string | null>;
  /** Ids the looks listed as dust (an orphan of one of them later is dust that grew). */
  dust: Set<string>;
  /** Venue id -> index of its unresolved external order. */
  openExternal: Map<string, number>;
}

export interface AuditState {
  asOf: string | null;
  fold: BookFold;
  audit: Map<string, AuditBookState>;
}

/** An episode in audit.json: the stored fields plus how long it lasted and what it leaked (from `start.at`). */
export type Rendered<T> = T & { durationSeconds: number; valueSeconds: number };

export interface AuditTotals {
  orphans: { count: number; open: number; adopted: number; closed: number; valueSeconds: number };
  phantoms: { count: number; open: number; cleared: number; dismissed: number; exited: number; valueSeconds: number };
  drift: { count: number; absDelta: number };
  reconciliations: { count: number; lastCompletedAt: string | null };
  orders: { rejected: number; lost: number; canceledWithFills: number; lateFills: number };
  externalOrders: { count: number; open: number; canceled: number; adopted: number };
  /** Every leak episode (orphans, phantoms, late fills): how much value x time, how much of it healed automatically, by cause, symbol and day. */
  leaks: LeakTotalsByKey;
}

/** What the audit holds about looks in progress (to date the next findings); see {@link AuditBookState}. */
export interface AuditLooks {
  unclear: [string, string | null][];
  dust: string[];
}

export interface AuditBook {
  orphans: Rendered<OrphanEpisode>[];
  phantoms: Rendered<PhantomEpisode>[];
  lateFills: Rendered<LateFillEpisode>[];
  drift: DriftRecord[];
  reconciliations: ReconciliationRecord[];
  orders: OrderIncident[];
  looks: AuditLooks;
  /** Every external order with how long it lasted (open ones until `asOf`). */
  externalOrders: (ExternalOrderIncident & { durationSeconds: number })[];
  totals: AuditTotals;
}

export interface AuditData {
  asOf: string | null;
  books: Record<string, AuditBook>;
  fold: Record<string, BookStateJson>;
}

const earlier = (a: string, b: string): string => (Date.parse(a) <= Date.parse(b) ? a : b);

/** A time the venue gave, at or before the finding (a venue clock ahead of ours does not date a leak after we saw it). */
function venueStart(evidence: 'venue' | 'fill', venueAt: string, foundAt: string): LeakStart {
  const at = earlier(venueAt, foundAt);
  return { evidence, at, earliest: at, latest: at };
}

/** The last look of the book: when its latest recorded reconciliation read the outside. */
function lastLookAt(b: AuditBookState): string | null {
  const r = b.reconciliations.at(-1);
  return r === undefined ? null : (r.snapshotAt ?? r.startedAt);
}

/** The looks around a finding at `at`: after the last look that did not see it (or `notBefore`, when later). */
function lookStart(b: AuditBookState, id: string, at: string, notBefore?: string): LeakStart {
  let earliest = b.unclear.has(id) ? (b.unclear.get(id) ?? null) : lastLookAt(b);
  if (earliest !== null && notBefore !== undefined && Date.parse(notBefore) > Date.parse(earliest)) earliest = notBefore;
  if (earliest === null || Date.parse(earliest) >= Date.parse(at)) return { evidence: 'detection', at, earliest: null, latest: at };
  return { evidence: 'looks', at: earliest, earliest, latest: at };
}

/**
 * A venue time learned after the episode opened dates it anew (only a weaker start is replaced).
 * It is at or before the finding, so the first segment (the value found) now starts there.
 */
function redate(e: Leak, start: LeakStart): void {
  if (e.start.evidence === 'venue' || e.start.evidence === 'fill') return;
  e.start = start;
  const first = e.segments[0];
  if (first !== undefined) first.from = start.at;
}

function render<T extends Leak & { resolvedAt: string | null }>(e: T, asOf: string): Rendered<T> {
  const end = e.resolvedAt ?? asOf;
  return {
    ...e,
    start: { ...e.start },
    segments: e.segments.map((s) => ({ ...s })),
    durationSeconds: lasted(e.start.at, end),
    valueSeconds: valueSecondsIn(e.segments, end),
  };
}

function newBook(): AuditBookState {
  return {
    orphans: [],
    phantoms: [],
    lateFills: [],
    drift: [],
    reconciliations: [],
    orders: [],
    externalOrders: [],
    openOrphans: new Map(),
    openPhantoms: new Map(),
    unclear: new Map(),
    dust: new Set(),
    openExternal: new Map(),
  };
}

/** Whether an order of the book's own was for this position: then what appeared outside is a fill we did not hear of. */
function oursExplains(state: BookState, positionId: string): boolean {
  for (const o of state.orders.values()) if (o.positionId === positionId) return true;
  return false;
}

/** An external order's incident: opened by its detection, resolved by a cancel or an adoption (one never detected resolves nothing, as in the book). */
function externalOrderEvent(b: AuditBookState, event: RecordedEvent): void {
  const at = event.metadata.recordedAt;
  if (event.type === 'ExternalOrderDetected') {
    const { source: _source, runId: _runId, ...facts } = event.data;
    if (b.openExternal.has(facts.externalOrderId)) return;
    b.openExternal.set(facts.externalOrderId, b.externalOrders.length);
    b.externalOrders.push({
      ...facts,
      detectedAt: at,
      detectedPosition: event.position,
      resolution: 'open',
      resolvedAt: null,
      resolvedPosition: null,
    });
    return;
  }
  if (event.type !== 'ExternalOrderCanceled' && event.type !== 'ExternalOrderAdopted') return;
  const i = b.openExternal.get(event.data.externalOrderId);
  const e = i === undefined ? undefined : b.externalOrders[i];
  if (e === undefined) return;
  b.openExternal.delete(e.externalOrderId);
  e.resolvedAt = at;
  e.resolvedPosition = event.position;
  if (event.type === 'ExternalOrderCanceled') {
    e.resolution = 'canceled';
    e.filledQuantity = event.data.filledQuantity;
  } else {
    e.resolution = 'adopted';
    e.adoptedAs = { clientOrderId: event.data.clientOrderId, positionId: event.data.positionId };
  }
}

function openOrphan(
  b: AuditBookState,
  id: string,
  event: RecordedEvent,
  value: number,
  detections: number,
  symbol: string | undefined,
  openedAt: string | undefined,
  book: BookState,
): OrphanEpisode {
  const at = event.metadata.recordedAt;
  // Dust that grew: the open time is the dust's, the leak began when it crossed the threshold, between the looks.
  const grew = b.dust.has(id);
  const cause: LeakCause = grew ? 'dust growth' : oursExplains(book, id) ? 'unrecorded fill' : 'manual trade';
  const start = openedAt !== undefined && !grew ? venueStart('venue', openedAt, at) : lookStart(b, id, at);
  const e: OrphanEpisode = {
    positionId: id,
    cause,
    start,
    detectedAt: at,
    detectedPosition: event.position,
    detections,
    lastSeenAt: at,
    firstValue: value,
    value,
    segments: [{ from: start.at, value }],
    healed: false,
    resolution: 'open',
    resolvedAt: null,
    resolvedPosition: null,
  };
  if (symbol !== undefined) e.symbol = symbol;
  b.unclear.delete(id);
  b.dust.delete(id);
  b.openOrphans.set(id, b.orphans.length);
  b.orphans.push(e);
  return e;
}

function openPhantom(
  b: AuditBookState,
  id: string,
  event: RecordedEvent,
  value: number,
  looks: number,
  symbol: string | undefined,
  closedAt: string | undefined,
  enteredAt: string | undefined,
): PhantomEpisode {
  const at = event.metadata.recordedAt;
  const start = closedAt !== undefined ? venueStart('venue', closedAt, at) : lookStart(b, id, at, enteredAt);
  const e: PhantomEpisode = {
    positionId: id,
    cause: closedAt !== undefined ? 'liquidation / stop-out outside' : 'unknown',
    start,
    suspectedAt: at,
    suspectedPosition: event.position,
    looks,
    value,
    segments: [{ from: start.at, value }],
    healed: false,
    resolution: 'open',
    resolvedAt: null,
    resolvedPosition: null,
  };
  if (symbol !== undefined) e.symbol = symbol;
  b.unclear.delete(id);
  b.openPhantoms.set(id, b.phantoms.length);
  b.phantoms.push(e);
  return e;
}

/** The venue closed it: that is the cause, and its close time the start. */
function venueClosed(e: PhantomEpisode, closedAt: string | undefined): void {
  if (closedAt === undefined) return;
  e.cause = 'liquidation / stop-out outside';
  redate(e, venueStart('venue', closedAt, e.suspectedAt));
}

const healedBy = (event: RecordedEvent): boolean => (event.data as { source: string }).source !== 'local';

function resolveOrphan(b: AuditBookState, e: OrphanEpisode, how: 'adopted' | 'closed', event: RecordedEvent, value: number): void {
  e.value = value;
  e.resolution = how;
  e.resolvedAt = event.metadata.recordedAt;
  e.resolvedPosition = event.position;
  e.healed = healedBy(event);
  b.openOrphans.delete(e.positionId);
}

function resolvePhantom(b: AuditBookState, e: PhantomEpisode, how: 'cleared' | 'dismissed' | 'exited', event: RecordedEvent): void {
  e.resolution = how;
  e.resolvedAt = event.metadata.recordedAt;
  e.resolvedPosition = event.position;
  e.healed = how === 'cleared' && healedBy(event);
  b.openPhantoms.delete(e.positionId);
}

/** The ids (and outcomes) of one list of a ReconciliationCompleted report, and whether it lists them all (it is capped). */
function listed(report: Record<string, unknown>, key: string): { items: { id: string; outcome?: string }[]; complete: boolean } | null {
  const raw: unknown = report[key];
  if (raw === null || typeof raw !== 'object') return null;
  const list = raw as { items?: unknown; total?: unknown };
  if (!Array.isArray(list.items)) return null;
  const items: { id: string; outcome?: string }[] = [];
  for (const item of list.items as unknown[]) {
    if (typeof item === 'string') items.push({ id: item });
    else if (item !== null && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string') {
      const { id, outcome } = item as { id: string; outcome?: unknown };
      items.push(typeof outcome === 'string' ? { id, outcome } : { id });
    }
  }
  return { items, complete: typeof list.total === 'number' && list.total <= list.items.length };
}

/**
 * What a run's report says about the ids it saw without recording a leak: deferred findings and
 * positions held by an in-flight order are unclear since the look before (`previous`); dust is
 * remembered. An id a complete report no longer lists as unclear, or as dust, is clear again.
 */
function noteLooks(b: AuditBookState, report: Record<string, unknown>, previous: string | null): void {
  const orphans = listed(report, 'orphans');
  const phantoms = listed(report, 'phantoms');
  const held = listed(report, 'heldByOrders');
  const dust = listed(report, 'dust');
  const unclear = new Set<string>();
  const isDust = new Set((dust?.items ?? []).map((d) => d.id));
  for (const f of [...(orphans?.items ?? []), ...(phantoms?.items ?? [])]) if (f.outcome === 'deferred') unclear.add(f.id);
  // Held by an order in flight, yet listed as dust: below the threshold, so no leak yet (clear).
  for (const h of held?.items ?? []) if (!isDust.has(h.id)) unclear.add(h.id);
  for (const id of unclear) {
    if (!b.unclear.has(id) && !b.openOrphans.has(id) && !b.openPhantoms.has(id)) b.unclear.set(id, previous);
  }
  if (orphans?.complete && phantoms?.complete && held?.complete) {
    for (const id of b.unclear.keys()) if (!unclear.has(id)) b.unclear.delete(id);
  }
  if (dust !== null) {
    for (const id of isDust) b.dust.add(id);
    // What the look could not judge (held, deferred) keeps what an earlier look knew.
    if (dust.complete) for (const id of b.dust) if (!isDust.has(id) && !unclear.has(id)) b.dust.delete(id);
  }
}

function isLooks(x: unknown): x is AuditLooks {
  if (x === null || typeof x !== 'object') return false;
  const { unclear, dust } = x as { unclear?: unknown; dust?: unknown };
  return Array.isArray(unclear) && Array.isArray(dust);
}

function totalsOf(book: Omit<AuditBook, 'totals' | 'looks'>, timeZone: string, asOf: string): AuditTotals {
  const t: AuditTotals = {
    orphans: { count: 0, open: 0, adopted: 0, closed: 0, valueSeconds: 0 },
    phantoms: { count: 0, open: 0, cleared: 0, dismissed: 0, exited: 0, valueSeconds: 0 },
    drift: { count: 0, absDelta: 0 },
    reconciliations: { count: 0, lastCompletedAt: null },
    orders: { rejected: 0, lost: 0, canceledWithFills: 0, lateFills: 0 },
    leaks: leakTotals([...book.orphans, ...book.phantoms, ...book.lateFills], { timeZone, asOf }),
    externalOrders: { count: 0, open: 0, canceled: 0, adopted: 0 },
  };
  for (const e of book.externalOrders) {
    t.externalOrders.count += 1;
    t.externalOrders[e.resolution] += 1;
  }
  for (const o of book.orders) {
    if (o.kind === 'rejected') t.orders.rejected += 1;
    else if (o.kind === 'lost') t.orders.lost += 1;
    else if (o.kind === 'late_fill') t.orders.lateFills += 1;
    else t.orders.canceledWithFills += 1;
  }
  for (const o of book.orphans) {
    t.orphans.count += 1;
    t.orphans[o.resolution] += 1;
    t.orphans.valueSeconds += o.valueSeconds;
  }
  for (const p of book.phantoms) {
    t.phantoms.count += 1;
    t.phantoms[p.resolution] += 1;
    t.phantoms.valueSeconds += p.valueSeconds;
  }
  for (const d of book.drift) {
    t.drift.count += 1;
    t.drift.absDelta += Math.abs(d.delta);
  }
  for (const r of book.reconciliations) {
    t.reconciliations.count += 1;
    t.reconciliations.lastCompletedAt = laterOf(t.reconciliations.lastCompletedAt, r.completedAt);
  }
  return t;
}

/** The open orphan episode of `id` in `b`, if any. (Module functions, not closures made per event: a rebuild folds a million.) */
function openOrphanOf(b: AuditBookState, id: string): OrphanEpisode | undefined {
  const i = b.openOrphans.get(id);
  return i === undefined ? undefined : b.orphans[i];
}

/** The open phantom episode of `id` in `b`, if any. */
function openPhantomOf(b: AuditBookState, id: string): PhantomEpisode | undefined {
  const i = b.openPhantoms.get(id);
  return i === undefined ? undefined : b.phantoms[i];
}

/**
 * audit.json: per book, every leak episode: orphans, phantoms and fills of the book's own orders
 * recorded late. Each has a cause, a start dated from the best evidence the log holds (the venue's
 * time, the fill's, or the looks around it, with both bounds), when and how it was resolved, and
 * value x time from its start (open ones accrue until `asOf`, the latest event time); totals per
 * book, per cause, per symbol and per day, and how much of it reconciliation healed. Also every
 * drift correction, every reconciliation run, the order incidents, and every external order
 * (detected when, resolved when and how: open, canceled or adopted).
 *
 * @example
 * ```ts
 * const a = auditProjection(ProjectionOptions.parse({}));
 * console.log(a.toJson(foldProjection(a, events)).books.main?.totals.leaks.byCause['manual trade'].valueSeconds);
 * ```
 */
export function auditProjection(options: ProjectionOptions): Projection<AuditState, AuditData> {
  const limits = foldLimits(options.timeZone);
  const stage: BookStageReader<AuditState> = {
    key: bookStageKey(limits),
    limits,
    evolve(state: AuditState, event: RecordedEvent, step: FoldStep | null): AuditState {
      const at = event.metadata.recordedAt;
      state.asOf = laterOf(state.asOf, at);
      if (step === null) return state;
      let b = state.audit.get(step.book);
      if (b === undefined) state.audit.set(step.book, (b = newBook()));
      const enteredAt = step.before?.status === 'IN' ? step.before.since : undefined;
      switch (event.type) {
        case 'OrphanDetected': {
          const d = event.data;
          const open = openOrphanOf(b, d.positionId);
          if (open === undefined) {
            openOrphan(b, d.positionId, event, d.value, 1, d.symbol, d.openedAt, step.state);
          } else {
            addSegment(open.segments, at, d.value);
            open.value = d.value;
            open.detections += 1;
            open.lastSeenAt = at;
            if (open.symbol === undefined && d.symbol !== undefined) open.symbol = d.symbol;
            if (d.openedAt !== undefined && open.cause !== 'dust growth') redate(open, venueStart('venue', d.openedAt, open.detectedAt));
          }
          break;
        }
        case 'OrphanAdopted':
        case 'OrphanClosed': {
          const d = event.data;
          const e = openOrphanOf(b, d.positionId) ?? openOrphan(b, d.positionId, event, d.value, 0, d.symbol, undefined, step.state);
          resolveOrphan(b, e, event.type === 'OrphanAdopted' ? 'adopted' : 'closed', event, d.value);
          break;
        }
        case 'PhantomSuspected': {
          const d = event.data;
          const known = step.before?.status === 'IN' ? step.before : undefined;
          const value = d.value ?? known?.value ?? 0;
          const open = openPhantomOf(b, d.positionId);
          if (open === undefined) {
            openPhantom(b, d.positionId, event, value, d.looks, known?.symbol, d.closedAt, enteredAt);
          } else {
            addSegment(open.segments, at, value);
            open.value = value;
            open.looks = Math.max(open.looks, d.looks);
            venueClosed(open, d.closedAt);
          }
          break;
        }
        case 'PhantomCleared': {
          const d = event.data;
          const e =
            openPhantomOf(b, d.positionId) ??
            openPhantom(b, d.positionId, event, d.value, Math.max(1, d.looks), d.symbol, d.closedAt, enteredAt);
          e.looks = Math.max(e.looks, d.looks);
          e.realizedPnl = d.realizedPnl;
          venueClosed(e, d.closedAt);
          resolvePhantom(b, e, 'cleared', event);
          e.value = d.value;
          break;
        }
        case 'PhantomDismissed': {
          const e = openPhantomOf(b, event.data.positionId);
          if (e !== undefined) resolvePhantom(b, e, 'dismissed', event);
          break;
        }
        case 'DriftCorrected': {
          const d = event.data;
          const r: DriftRecord = {
            at,
            position: event.position,
            positionId: d.positionId,
            localValue: d.localValue,
            externalValue: d.externalValue,
            delta: d.externalValue - d.localValue,
          };
          if (d.localQuantity !== undefined) r.localQuantity = d.localQuantity;
          if (d.externalQuantity !== undefined) r.externalQuantity = d.externalQuantity;
          if (d.tolerance !== undefined) r.tolerance = d.tolerance;
          b.drift.push(r);
          // The book counts a corrected position as seen: a suspicion on it is over.
          const e = openPhantomOf(b, d.positionId);
          if (e !== undefined) resolvePhantom(b, e, 'dismissed', event);
          break;
        }
        case 'ReconciliationCompleted': {
          const d = event.data;
          const previous = lastLookAt(b);
          const r: ReconciliationRecord = {
            runId: d.runId,
            position: event.position,
            startedAt: d.startedAt,
            completedAt: d.completedAt,
            counts: { ...d.counts },
          };
          if (d.snapshotAt !== undefined) r.snapshotAt = d.snapshotAt;
          b.reconciliations.push(r);
          noteLooks(b, d.report, previous);
          break;
        }
        case 'PositionTracked':
        case 'PositionEntered':
        case 'PositionValued':
        case 'PositionExited':
        case 'PositionSkipped':
        case 'PositionArchived':
        case 'CircuitBreakerTripped':
        case 'CircuitBreakerReset':
        case 'CooldownStarted':
        case 'Heartbeat':
        case 'RecoveryRequired':
        case 'RecoveryAcknowledged':
        case 'PositionIncreased':
          break;
        case 'OrderRejected':
        case 'OrderCanceled':
        case 'OrderLost': {
          // What the book made of it (a report about an order it does not hold, or no longer live, changed nothing).
          const o = step.state.orders.get(event.data.clientOrderId);
          const kind =
            event.type === 'OrderRejected'
              ? 'rejected'
              : event.type === 'OrderLost'
                ? 'lost'
                : (o?.filledQuantity ?? 0) > 0
                  ? 'canceled_with_fills'
                  : null;
          if (
            o === undefined ||
            kind === null ||
            o.updatedAt !== at ||
            (event.type !== 'OrderLost' && o.status !== (event.type === 'OrderRejected' ? 'REJECTED' : 'CANCELED'))
          )
            break;
          const r: OrderIncident = {
            kind,
            clientOrderId: o.clientOrderId,
            positionId: o.positionId,
            symbol: o.symbol,
            at,
            position: event.position,
            quantity: o.quantity,
            filledQuantity: o.filledQuantity,
          };
          if (o.reason !== undefined) r.reason = o.reason;
          b.orders.push(r);
          break;
        }
        case 'OrderFilled': {
          // A fill the bot heard of itself is source local; one that reconciliation or startup
          // recovery found at the venue was recorded late. Only a fill the book took counts, and
          // not one of an adopted order (the bot never placed it: its incident is the external order's).
          const d = event.data;
          const o = step.state.orders.get(d.clientOrderId);
          if (d.source === 'local' || o === undefined || o.origin === 'adopted' || o.updatedAt !== at || !o.tradeIds.includes(d.tradeId))
            break;
          const r: OrderIncident = {
            kind: 'late_fill',
            clientOrderId: o.clientOrderId,
            positionId: o.positionId,
            symbol: o.symbol,
            at,
            position: event.position,
            quantity: d.quantity,
            filledQuantity: o.filledQuantity,
            tradeId: d.tradeId,
            price: d.price,
          };
          if (d.filledAt !== undefined) {
            r.filledAt = d.filledAt;
            r.lateSeconds = Math.max(0, secondsFrom(d.filledAt, at));
          }
          b.orders.push(r);
          // The same fill as a leak: what it moved was untracked from the trade (or, when the venue
          // gave no time, from the order's request) until it was recorded.
          const start: LeakStart =
            d.filledAt !== undefined
              ? venueStart('fill', d.filledAt, at)
              : Date.parse(o.requestedAt) < Date.parse(at)
                ? { evidence: 'order', at: o.requestedAt, earliest: o.requestedAt, latest: at }
                : { evidence: 'detection', at, earliest: null, latest: at };
          const value = d.quantity * d.price;
          b.lateFills.push({
            clientOrderId: o.clientOrderId,
            positionId: o.positionId,
            symbol: o.symbol,
            tradeId: d.tradeId,
            quantity: d.quantity,
            price: d.price,
            cause: 'unrecorded fill',
            start,
            value,
            segments: [{ from: start.at, value }],
            healed: true,
            resolution: 'recorded',
            resolvedAt: at,
            resolvedPosition: event.position,
          });
          break;
        }
        case 'OrderRequested':
        case 'OrderAccepted':
        case 'OrderCancelRequested':
        case 'OrderExpired':
        case 'SymbolDisabled':
        case 'SymbolEnabled':
        case 'OrderLookedUp':
        case 'ProtectionSet':
          break;
        case 'ExternalOrderDetected':
        case 'ExternalOrderCanceled':
        case 'ExternalOrderAdopted':
          externalOrderEvent(b, event);
          break;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
      // A suspected position that left IN by any other way (an exit, a new lifecycle) is no phantom any more.
      const id = (event.data as { positionId?: string }).positionId;
      if (id !== undefined && step.after?.status !== 'IN') {
        const e = openPhantomOf(b, id);
        if (e !== undefined) resolvePhantom(b, e, 'exited', event);
      }
      return state;
    },
    toJson(state: AuditState): Omit<AuditData, 'fold'> {
      const asOf = state.asOf ?? '';
      const books = recordFrom(
        sortedEntries(state.audit, byKey).map(([id, b]): [string, AuditBook] => {
          const book = {
            orphans: b.orphans.map((e) => render(e, asOf)),
            phantoms: b.phantoms.map((e) => render(e, asOf)),
            lateFills: b.lateFills.map((e) => render(e, asOf)),
            drift: b.drift.map((r) => ({ ...r })),
            reconciliations: b.reconciliations.map((r) => ({ ...r, counts: { ...r.counts } })),
            orders: b.orders.map((o) => ({ ...o })),
            externalOrders: b.externalOrders.map((e) => ({
              ...e,
              ...(e.adoptedAs ? { adoptedAs: { ...e.adoptedAs } } : {}),
              durationSeconds: secondsFrom(e.detectedAt, e.resolvedAt ?? asOf),
            })),
          };
          const looks: AuditLooks = { unclear: [...b.unclear], dust: [...b.dust] };
          return [id, { ...book, looks, totals: totalsOf(book, options.timeZone, asOf) }];
        }),
      );
      return { asOf: state.asOf, books };
    },
    fromJson(data: unknown): AuditState {
      const d = data as Unchecked<AuditData>;
      if (d === null || typeof d !== 'object' || d.books === null || typeof d.books !== 'object') {
        throw new Error('audit: expected { asOf, books, fold }');
      }
      const audit = new Map<string, AuditBookState>();
      for (const [id, v] of Object.entries(d.books)) {
        if (
          !Array.isArray(v.orphans) ||
          !Array.isArray(v.phantoms) ||
          !Array.isArray(v.lateFills) ||
          !Array.isArray(v.drift) ||
          !Array.isArray(v.reconciliations) ||
          !Array.isArray(v.orders) ||
          !isLooks(v.looks) ||
          !Array.isArray(v.externalOrders)
        ) {
          throw new Error(`audit: book "${id}" is malformed`);
        }
        const b = newBook();
        b.orphans = v.orphans.map(({ durationSeconds: _d, valueSeconds: _v, ...e }) => e);
        b.phantoms = v.phantoms.map(({ durationSeconds: _d, valueSeconds: _v, ...e }) => e);
        b.lateFills = v.lateFills.map(({ durationSeconds: _d, valueSeconds: _v, ...e }) => e);
        b.drift = v.drift;
        b.reconciliations = v.reconciliations;
        b.orders = v.orders;
        b.unclear = new Map(v.looks.unclear);
        b.dust = new Set(v.looks.dust);
        b.externalOrders = v.externalOrders.map(({ durationSeconds: _d, ...e }) => e);
        b.externalOrders.forEach((e, i) => e.resolution === 'open' && b.openExternal.set(e.externalOrderId, i));
        b.orphans.forEach((e, i) => e.resolution === 'open' && b.openOrphans.set(e.positionId, i));
        b.phantoms.forEach((e, i) => e.resolution === 'open' && b.openPhantoms.set(e.positionId, i));
        audit.set(id, b);
      }
      return { asOf: d.asOf ?? null, fold: new BookFold(limits), audit };
    },
  };
  return {
    name: 'audit',
    version: projectionVersion(SHAPE, { timeZone: options.timeZone }),
    initialState: () => ({ asOf: null, fold: new BookFold(limits), audit: new Map() }),
    book: stage,
    ...withPrivateFold<AuditState, AuditData>(stage),
  };
}
