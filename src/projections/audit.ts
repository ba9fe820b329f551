import type { BookStateJson } from '../commands/index.js';
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
import type { ProjectionOptions } from './options.js';
import { projectionVersion, withPrivateFold, type BookStageReader, type Projection } from './projection.js';
import { recordFrom } from '../_internals/records.js';

const SHAPE = 4;

/**
 * Value x time is integrated piecewise: `settledValueSeconds` holds what accrued up to
 * `valueSince`, when `value` was last seen; the rest accrues until the resolution (or `asOf`).
 */
interface Leak {
  value: number;
  valueSince: string;
  settledValueSeconds: number;
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

export interface AuditBookState {
  orphans: OrphanEpisode[];
  phantoms: PhantomEpisode[];
  drift: DriftRecord[];
  reconciliations: ReconciliationRecord[];
  orders: OrderIncident[];
  /** Position id -> index of its unresolved episode. */
  openOrphans: Map<string, number>;
  openPhantoms: Map<string, number>;
}

export interface AuditState {
  asOf: string | null;
  fold: BookFold;
  audit: Map<string, AuditBookState>;
}

/** An episode in audit.json: the stored fields plus how long it lasted and what it leaked. */
export type Rendered<T> = T & { durationSeconds: number; valueSeconds: number };

export interface AuditTotals {
  orphans: { count: number; open: number; adopted: number; closed: number; valueSeconds: number };
  phantoms: { count: number; open: number; cleared: number; dismissed: number; exited: number; valueSeconds: number };
  drift: { count: number; absDelta: number };
  reconciliations: { count: number; lastCompletedAt: string | null };
  orders: { rejected: number; lost: number; canceledWithFills: number; lateFills: number };
}

export interface AuditBook {
  orphans: Rendered<OrphanEpisode>[];
  phantoms: Rendered<PhantomEpisode>[];
  drift: DriftRecord[];
  reconciliations: ReconciliationRecord[];
  orders: OrderIncident[];
  totals: AuditTotals;
}

export interface AuditData {
  asOf: string | null;
  books: Record<string, AuditBook>;
  fold: Record<string, BookStateJson>;
}

function settle(leak: Leak, at: string): void {
  leak.settledValueSeconds += leak.value * secondsFrom(leak.valueSince, at);
  leak.valueSince = at;
}

function render<T extends Leak & { resolvedAt: string | null }>(e: T, start: string, asOf: string): Rendered<T> {
  const end = e.resolvedAt ?? asOf;
  return { ...e, durationSeconds: secondsFrom(start, end), valueSeconds: e.settledValueSeconds + e.value * secondsFrom(e.valueSince, end) };
}

function newBook(): AuditBookState {
  return { orphans: [], phantoms: [], drift: [], reconciliations: [], orders: [], openOrphans: new Map(), openPhantoms: new Map() };
}

function openOrphan(
  b: AuditBookState,
  id: string,
  event: RecordedEvent,
  value: number,
  detections: number,
  symbol: string | undefined,
): OrphanEpisode {
  const at = event.metadata.recordedAt;
  const e: OrphanEpisode = {
    positionId: id,
    detectedAt: at,
    detectedPosition: event.position,
    detections,
    lastSeenAt: at,
    firstValue: value,
    value,
    valueSince: at,
    settledValueSeconds: 0,
    resolution: 'open',
    resolvedAt: null,
    resolvedPosition: null,
  };
  if (symbol !== undefined) e.symbol = symbol;
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
): PhantomEpisode {
  const at = event.metadata.recordedAt;
  const e: PhantomEpisode = {
    positionId: id,
    suspectedAt: at,
    suspectedPosition: event.position,
    looks,
    value,
    valueSince: at,
    settledValueSeconds: 0,
    resolution: 'open',
    resolvedAt: null,
    resolvedPosition: null,
  };
  if (symbol !== undefined) e.symbol = symbol;
  b.openPhantoms.set(id, b.phantoms.length);
  b.phantoms.push(e);
  return e;
}

function resolveOrphan(b: AuditBookState, e: OrphanEpisode, how: 'adopted' | 'closed', event: RecordedEvent, value: number): void {
  settle(e, event.metadata.recordedAt);
  e.value = value;
  e.resolution = how;
  e.resolvedAt = event.metadata.recordedAt;
  e.resolvedPosition = event.position;
  b.openOrphans.delete(e.positionId);
}

function resolvePhantom(b: AuditBookState, e: PhantomEpisode, how: 'cleared' | 'dismissed' | 'exited', event: RecordedEvent): void {
  settle(e, event.metadata.recordedAt);
  e.resolution = how;
  e.resolvedAt = event.metadata.recordedAt;
  e.resolvedPosition = event.position;
  b.openPhantoms.delete(e.positionId);
}

function totalsOf(book: Omit<AuditBook, 'totals'>): AuditTotals {
  const t: AuditTotals = {
    orphans: { count: 0, open: 0, adopted: 0, closed: 0, valueSeconds: 0 },
    phantoms: { count: 0, open: 0, cleared: 0, dismissed: 0, exited: 0, valueSeconds: 0 },
    drift: { count: 0, absDelta: 0 },
    reconciliations: { count: 0, lastCompletedAt: null },
    orders: { rejected: 0, lost: 0, canceledWithFills: 0, lateFills: 0 },
  };
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

/**
 * audit.json: per book, every orphan and phantom ever seen (detected when, resolved when and
 * how, value, and value x time leaked: open ones accrue until `asOf`, the latest event time),
 * every drift correction, and every reconciliation run.
 *
 * @example
 * ```ts
 * const a = auditProjection(ProjectionOptions.parse({}));
 * console.log(a.toJson(foldProjection(a, events)).books.main?.totals.orphans.valueSeconds);
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
      const orphanOf = (id: string): OrphanEpisode | undefined => {
        const i = b.openOrphans.get(id);
        return i === undefined ? undefined : b.orphans[i];
      };
      const phantomOf = (id: string): PhantomEpisode | undefined => {
        const i = b.openPhantoms.get(id);
        return i === undefined ? undefined : b.phantoms[i];
      };
      switch (event.type) {
        case 'OrphanDetected': {
          const d = event.data;
          const open = orphanOf(d.positionId);
          if (open === undefined) {
            openOrphan(b, d.positionId, event, d.value, 1, d.symbol);
          } else {
            settle(open, at);
            open.value = d.value;
            open.detections += 1;
            open.lastSeenAt = at;
            if (open.symbol === undefined && d.symbol !== undefined) open.symbol = d.symbol;
          }
          break;
        }
        case 'OrphanAdopted':
        case 'OrphanClosed': {
          const d = event.data;
          const e = orphanOf(d.positionId) ?? openOrphan(b, d.positionId, event, d.value, 0, d.symbol);
          resolveOrphan(b, e, event.type === 'OrphanAdopted' ? 'adopted' : 'closed', event, d.value);
          break;
        }
        case 'PhantomSuspected': {
          const d = event.data;
          const known = step.before?.status === 'IN' ? step.before : undefined;
          const value = d.value ?? known?.value ?? 0;
          const open = phantomOf(d.positionId);
          if (open === undefined) {
            openPhantom(b, d.positionId, event, value, d.looks, known?.symbol);
          } else {
            settle(open, at);
            open.value = value;
            open.looks = Math.max(open.looks, d.looks);
          }
          break;
        }
        case 'PhantomCleared': {
          const d = event.data;
          const e = phantomOf(d.positionId) ?? openPhantom(b, d.positionId, event, d.value, Math.max(1, d.looks), d.symbol);
          e.looks = Math.max(e.looks, d.looks);
          e.realizedPnl = d.realizedPnl;
          resolvePhantom(b, e, 'cleared', event);
          e.value = d.value;
          break;
        }
        case 'PhantomDismissed': {
          const e = phantomOf(event.data.positionId);
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
          const e = phantomOf(d.positionId);
          if (e !== undefined) resolvePhantom(b, e, 'dismissed', event);
          break;
        }
        case 'ReconciliationCompleted': {
          const d = event.data;
          const r: ReconciliationRecord = {
            runId: d.runId,
            position: event.position,
            startedAt: d.startedAt,
            completedAt: d.completedAt,
            counts: { ...d.counts },
          };
          if (d.snapshotAt !== undefined) r.snapshotAt = d.snapshotAt;
          b.reconciliations.push(r);
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
        case 'OrderRejected':
        case 'OrderCanceled':
        case 'OrderLost': {
          // What the book made of it (a report about an order it does not hold, or no longer live, changed nothing).
          const o = step.state.orders.get((event.data as { clientOrderId: string }).clientOrderId);
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
          // recovery found at the venue was recorded late. Only a fill the book took counts.
          const d = event.data;
          const o = step.state.orders.get(d.clientOrderId);
          if (d.source === 'local' || o === undefined || o.updatedAt !== at || !o.tradeIds.includes(d.tradeId)) break;
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
          break;
        }
        case 'OrderRequested':
        case 'OrderAccepted':
        case 'OrderCancelRequested':
        case 'OrderExpired':
        case 'SymbolDisabled':
        case 'SymbolEnabled':
        case 'OrderLookedUp':
        case 'ExternalOrderDetected':
        case 'ExternalOrderCanceled':
        case 'ProtectionSet':
          break;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
      // A suspected position that left IN by any other way (an exit, a new lifecycle) is no phantom any more.
      const id = (event.data as { positionId?: string }).positionId;
      if (id !== undefined && step.after?.status !== 'IN') {
        const e = phantomOf(id);
        if (e !== undefined) resolvePhantom(b, e, 'exited', event);
      }
      return state;
    },
    toJson(state: AuditState): Omit<AuditData, 'fold'> {
      const asOf = state.asOf ?? '';
      const books = recordFrom(
        sortedEntries(state.audit, byKey).map(([id, b]): [string, AuditBook] => {
          const book = {
            orphans: b.orphans.map((e) => render(e, e.detectedAt, asOf)),
            phantoms: b.phantoms.map((e) => render(e, e.suspectedAt, asOf)),
            drift: b.drift.map((r) => ({ ...r })),
            reconciliations: b.reconciliations.map((r) => ({ ...r, counts: { ...r.counts } })),
            orders: b.orders.map((o) => ({ ...o })),
          };
          return [id, { ...book, totals: totalsOf(book) }];
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
          !Array.isArray(v.drift) ||
          !Array.isArray(v.reconciliations) ||
          !Array.isArray(v.orders)
        ) {
          throw new Error(`audit: book "${id}" is malformed`);
        }
        const b = newBook();
        b.orphans = v.orphans.map(({ durationSeconds: _d, valueSeconds: _v, ...e }) => e);
        b.phantoms = v.phantoms.map(({ durationSeconds: _d, valueSeconds: _v, ...e }) => e);
        b.drift = v.drift;
        b.reconciliations = v.reconciliations;
        b.orders = v.orders;
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
