import type { EventPosition, TradeEvent } from '../events/index.js';
import {
  addOpen,
  adjustGroupRisk,
  dropOrdersOf,
  putOrder,
  removeOpen,
  type BookState,
  type InPosition,
  type Order,
  type Position,
  type SymbolControl,
} from './state.js';
import { dayKey } from './time.js';

/** An event to fold: a recorded one, or (in specifications) one without its place in the log. */
export type FoldableEvent = TradeEvent & Partial<EventPosition>;

/**
 * Open risk of a position in money: |entry price - stop| x quantity when both are known
 * (the entry price defaults to value / quantity), otherwise the whole value is at risk.
 */
export function positionRisk(value: number, quantity?: number, price?: number, stop?: number): number {
  if (stop !== undefined && quantity !== undefined) {
    const entry = price ?? value / quantity;
    return Math.abs(entry - stop) * quantity;
  }
  return value;
}

function commonOf(p: Position | undefined): Pick<Position, 'symbol' | 'venueKey' | 'setup' | 'group' | 'attributes'> {
  if (!p) return {};
  const out: Pick<Position, 'symbol' | 'venueKey' | 'setup' | 'group' | 'attributes'> = {};
  if (p.symbol !== undefined) out.symbol = p.symbol;
  if (p.venueKey !== undefined) out.venueKey = p.venueKey;
  if (p.setup !== undefined) out.setup = p.setup;
  if (p.group !== undefined) out.group = p.group;
  if (p.attributes !== undefined) out.attributes = p.attributes;
  return out;
}

/** Positions are values: frozen when they enter the map, replaced (never changed) by later events. */
function putPosition(state: BookState, id: string, p: Position): void {
  state.positions.set(id, Object.freeze(p));
}

function setDefined<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

type OpenFields = Pick<InPosition, 'side' | 'value'> &
  Partial<
    Pick<
      InPosition,
      'symbol' | 'venueKey' | 'setup' | 'group' | 'attributes' | 'quantity' | 'price' | 'stop' | 'takeProfit' | 'trailingStop'
    >
  > & {
    positionId: string;
  };

/** The common fields an entry keeps from the position it replaces, where the event does not name them (as `{ ...commonOf(before), ...d }` would, without the two objects). */
type Inherited = 'symbol' | 'venueKey' | 'setup' | 'group' | 'attributes';
function inherit<K extends Inherited>(f: OpenFields, before: Position | undefined, key: K): OpenFields[K] {
  return Object.hasOwn(f, key) || before === undefined ? f[key] : (before[key] as OpenFields[K]);
}

/** Puts a position IN (entered or adopted) and counts it in the open indexes; `before`: the position it replaces, whose common fields it keeps. */
function open(state: BookState, f: OpenFields, at: string, origin: InPosition['origin'], risk: number, before?: Position): void {
  const p: InPosition = {
    id: f.positionId,
    status: 'IN',
    side: f.side,
    since: at,
    origin,
    costBasis: f.value,
    value: f.value,
    risk,
    realizedPnl: 0,
    missedLooks: 0,
  };
  setDefined(p, 'symbol', inherit(f, before, 'symbol'));
  setDefined(p, 'venueKey', inherit(f, before, 'venueKey'));
  setDefined(p, 'setup', inherit(f, before, 'setup'));
  setDefined(p, 'group', inherit(f, before, 'group'));
  setDefined(p, 'attributes', inherit(f, before, 'attributes'));
  setDefined(p, 'quantity', f.quantity);
  setDefined(p, 'price', f.price);
  setDefined(p, 'stop', f.stop);
  setDefined(p, 'takeProfit', f.takeProfit);
  setDefined(p, 'trailingStop', f.trailingStop);
  putPosition(state, p.id, p);
  addOpen(state, p);
}

/** Takes a position out of the open indexes if it was IN (the log may say anything: evolve never throws). */
function leave(state: BookState, id: string): Position | undefined {
  const p = state.positions.get(id);
  if (p?.status === 'IN') removeOpen(state, p);
  return p;
}

function recordPnl(state: BookState, at: string, pnl: number): void {
  const day = dayKey(at, state.limits.timeZone);
  state.today = state.today.day === day ? { day, pnl: state.today.pnl + pnl } : { day, pnl };
  state.realizedPnl += pnl;
}

/** Replaces an order by `change(order)` (the log may name an unknown order: then nothing happens). */
function updateOrder(state: BookState, id: string, at: string, change: (o: Order) => Order): void {
  const o = state.orders.get(id);
  if (o === undefined) return;
  const next = change(o);
  // An event that changes nothing (a duplicate fill report, a cancel request on a finished order) leaves the order as it was.
  if (next === o) return;
  putOrder(state, Object.freeze({ ...next, updatedAt: at }));
}

/** A fill is full when it leaves less than this share of the order open (float sums of partial fills). */
export const FILL_TOLERANCE = 1e-9;

function withFill(o: Order, d: { tradeId: string; quantity: number; price: number; fee: number }): Order {
  const filledQuantity = o.filledQuantity + d.quantity;
  const averagePrice = ((o.averagePrice ?? 0) * o.filledQuantity + d.price * d.quantity) / filledQuantity;
  const next: Order = {
    ...o,
    filledQuantity,
    averagePrice,
    fees: o.fees + d.fee,
    tradeIds: Object.freeze([...o.tradeIds, d.tradeId]) as string[],
  };
  const full = filledQuantity >= o.quantity * (1 - FILL_TOLERANCE);
  switch (o.status) {
    case 'PENDING_SUBMIT':
    case 'OPEN':
    case 'PARTIALLY_FILLED':
      next.status = full ? 'FILLED' : 'PARTIALLY_FILLED';
      break;
    case 'PENDING_CANCEL':
      // Filled before the cancel landed: nothing is left to cancel.
      if (full) {
        next.status = 'FILLED';
        delete next.statusBeforeCancel;
      } else {
        next.statusBeforeCancel = 'PARTIALLY_FILLED';
      }
      break;
    case 'FILLED':
    case 'CANCELED':
    case 'EXPIRED':
    case 'REJECTED':
      // A late report of a finished order: its fills grow, its status stays.
      break;
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = o.status;
      return _exhaustive;
    }
  }
  return next;
}

/** Grows an IN position by an entry fill: quantity and cost basis add up, the value is the fill's price on the whole. */
function increase(state: BookState, p: InPosition, d: { quantity: number; value: number; price: number }): void {
  const quantity = p.quantity === undefined ? undefined : p.quantity + d.quantity;
  const costBasis = p.costBasis + d.value;
  const next: InPosition = {
    ...p,
    costBasis,
    value: quantity === undefined ? p.value + d.value : quantity * d.price,
    price: d.price,
    // With a stop, the risk is the average entry's distance to it; without, the whole cost basis.
    risk:
      quantity !== undefined && p.stop !== undefined ? positionRisk(costBasis, quantity, costBasis / quantity, p.stop) : p.risk + d.value,
  };
  if (quantity !== undefined) next.quantity = quantity;
  trail(next, d.price);
  if (p.group !== undefined) adjustGroupRisk(state, p.group, next.risk - p.risk);
  putPosition(state, p.id, next);
}

/** Moves a trailing stop's high water to `price` when it is better (higher for a long, lower for a short). */
function trail(p: InPosition, price: number): void {
  const t = p.trailingStop;
  if (t === undefined) return;
  const better = p.side === 'long' ? price > t.highWater : price < t.highWater;
  if (better) p.trailingStop = { ...t, highWater: price };
}

/**
 * Folds one event into the book and returns the next state. Never throws: the log is fact.
 * For speed on large books the state passed in is updated in place and must not be used
 * afterwards by the caller (the returned state replaces it); `decide` never mutates.
 *
 * @example
 * ```ts
 * const state = events.reduce(evolve, initialBookState());
 * ```
 */
export function evolve(state: BookState, event: FoldableEvent): BookState {
  const at = event.metadata.recordedAt;
  state.revision = event.revision ?? state.revision + 1;

  switch (event.type) {
    case 'PositionTracked': {
      const d = event.data;
      leave(state, d.positionId);
      const p: Position = { id: d.positionId, status: 'WATCHING', side: d.side, since: at };
      setDefined(p, 'symbol', d.symbol);
      setDefined(p, 'venueKey', d.venueKey);
      setDefined(p, 'setup', d.setup);
      setDefined(p, 'group', d.group);
      setDefined(p, 'attributes', d.attributes);
      putPosition(state, d.positionId, p);
      break;
    }
    case 'PositionEntered': {
      const d = event.data;
      const before = leave(state, d.positionId);
      open(state, d, at, 'entered', positionRisk(d.value, d.quantity, d.price, d.stop), before);
      break;
    }
    case 'PositionValued': {
      const d = event.data;
      const p = state.positions.get(d.positionId);
      if (p?.status === 'IN') {
        const next: InPosition = { ...p, value: d.value };
        setDefined(next, 'price', d.price);
        if (d.price !== undefined) trail(next, d.price);
        putPosition(state, d.positionId, next);
      } else if (p?.status === 'WATCHING') {
        putPosition(state, d.positionId, { ...p, value: d.value });
      }
      break;
    }
    case 'PositionExited': {
      const d = event.data;
      const p = state.positions.get(d.positionId);
      recordPnl(state, at, d.realizedPnl);
      if (p?.status !== 'IN') break;
      if (d.full) {
        removeOpen(state, p);
        const lifecyclePnl = p.realizedPnl + d.realizedPnl;
        putPosition(state, d.positionId, {
          id: p.id,
          status: 'EXITED',
          ...commonOf(p),
          side: p.side,
          since: at,
          realizedPnl: lifecyclePnl,
          closedBy: 'exit',
        });
        if (p.symbol !== undefined) {
          const day = dayKey(at, state.limits.timeZone);
          if (lifecyclePnl < 0) {
            const streak = state.lossStreaks.get(p.symbol);
            state.lossStreaks.set(p.symbol, { day, count: streak && streak.day === day ? streak.count + 1 : 1 });
          } else if (lifecyclePnl > 0) {
            state.lossStreaks.delete(p.symbol);
          }
        }
      } else {
        const keep = 1 - d.fraction;
        const next: InPosition = {
          ...p,
          costBasis: Math.max(0, p.costBasis - d.costBasis),
          // The exit priced the whole position (d.value is its closed part): that is the freshest value.
          value: d.fraction > 0 ? (d.value / d.fraction) * keep : p.value,
          risk: p.risk * keep,
          realizedPnl: p.realizedPnl + d.realizedPnl,
        };
        if (p.quantity !== undefined) next.quantity = p.quantity * keep;
        if (p.group !== undefined) adjustGroupRisk(state, p.group, next.risk - p.risk);
        putPosition(state, d.positionId, next);
      }
      break;
    }
    case 'PositionSkipped': {
      const d = event.data;
      const p = leave(state, d.positionId);
      const next: Position = { id: d.positionId, status: 'SKIPPED', ...commonOf(p), side: p?.side ?? 'long', since: at };
      setDefined(next, 'reason', d.reason);
      putPosition(state, d.positionId, next);
      break;
    }
    case 'PositionArchived': {
      leave(state, event.data.positionId);
      state.positions.delete(event.data.positionId);
      // Memory follows what is live: the finished orders of an archived position go with it.
      dropOrdersOf(state, event.data.positionId);
      break;
    }
    case 'PositionIncreased': {
      const p = state.positions.get(event.data.positionId);
      if (p?.status === 'IN') increase(state, p, event.data);
      break;
    }
    case 'OrderRequested': {
      const { source: _source, ...d } = event.data;
      if (state.orders.has(d.clientOrderId)) break;
      const order: Order = { ...d, status: 'PENDING_SUBMIT', filledQuantity: 0, fees: 0, tradeIds: [], requestedAt: at, updatedAt: at };
      putOrder(state, Object.freeze(order));
      state.ordersRequested += 1;
      if (d.signalId !== undefined && state.limits.idempotencyWindow > 0) {
        // Delete first: a signal processed again moves to the end of the window.
        state.signals.delete(d.signalId);
        state.signals.set(d.signalId, { at, clientOrderId: d.clientOrderId });
        if (state.signals.size > state.limits.idempotencyWindow) {
          const oldest = state.signals.keys().next();
          if (!oldest.done) state.signals.delete(oldest.value);
        }
      }
      if (d.signalId !== undefined) state.lastSignalAt = at;
      break;
    }
    case 'OrderAccepted': {
      const d = event.data;
      updateOrder(state, d.clientOrderId, at, (o) => {
        if (o.externalOrderId !== undefined) return o;
        const next: Order = { ...o, externalOrderId: d.externalOrderId };
        if (o.status === 'PENDING_SUBMIT') next.status = 'OPEN';
        if (o.statusBeforeCancel === 'PENDING_SUBMIT') next.statusBeforeCancel = 'OPEN';
        return next;
      });
      break;
    }
    case 'OrderRejected': {
      const d = event.data;
      updateOrder(state, d.clientOrderId, at, (o) => {
        const { statusBeforeCancel: _b, ...rest } = o;
        return { ...rest, status: 'REJECTED', reason: d.reason };
      });
      break;
    }
    case 'OrderFilled': {
      const d = event.data;
      updateOrder(state, d.clientOrderId, at, (o) => (o.tradeIds.includes(d.tradeId) ? o : withFill(o, d)));
      break;
    }
    case 'OrderCancelRequested': {
      const d = event.data;
      updateOrder(state, d.clientOrderId, at, (o) =>
        o.status === 'PENDING_SUBMIT' || o.status === 'OPEN' || o.status === 'PARTIALLY_FILLED'
          ? { ...o, status: 'PENDING_CANCEL', statusBeforeCancel: o.status }
          : o,
      );
      break;
    }
    case 'ProtectionSet': {
      const d = event.data;
      const p = state.positions.get(d.positionId);
      if (p?.status !== 'IN') break;
      const { stop: _s, takeProfit: _t, trailingStop: _r, ...rest } = p;
      const next: InPosition = { ...rest };
      setDefined(next, 'stop', d.stop);
      setDefined(next, 'takeProfit', d.takeProfit);
      setDefined(next, 'trailingStop', d.trailingStop);
      // The risk is measured from the average entry to the new stop (the whole cost basis without one).
      next.risk =
        next.stop !== undefined && next.quantity !== undefined && next.quantity > 0
          ? positionRisk(next.costBasis, next.quantity, next.costBasis / next.quantity, next.stop)
          : next.costBasis;
      if (p.group !== undefined) adjustGroupRisk(state, p.group, next.risk - p.risk);
      putPosition(state, p.id, next);
      break;
    }
    case 'SymbolDisabled':
    case 'SymbolEnabled': {
      const d = event.data;
      const next: SymbolControl = { ...state.symbolControls.get(d.symbol) };
      for (const side of d.side === 'both' ? (['buy', 'sell'] as const) : [d.side]) {
        if (event.type === 'SymbolDisabled') next[side] = { reason: event.data.reason, since: at };
        else delete next[side];
      }
      if (next.buy === undefined && next.sell === undefined) state.symbolControls.delete(d.symbol);
      else state.symbolControls.set(d.symbol, Object.freeze(next));
      break;
    }
    case 'OrderCanceled':
    case 'OrderExpired':
    case 'OrderLost': {
      const d = event.data;
      const status = event.type === 'OrderCanceled' ? 'CANCELED' : event.type === 'OrderExpired' ? 'EXPIRED' : event.data.resolution;
      const reason = 'reason' in d ? d.reason : undefined;
      updateOrder(state, d.clientOrderId, at, (o) => {
        const { statusBeforeCancel: _b, ...rest } = o;
        const next: Order = { ...rest, status };
        if (reason !== undefined) next.reason = reason;
        return next;
      });
      break;
    }
    case 'OrderLookedUp': {
      const d = event.data;
      updateOrder(state, d.clientOrderId, at, (o) => {
        const { missedLooks: _m, ...rest } = o;
        return d.found || d.looks === 0 ? rest : { ...rest, missedLooks: d.looks };
      });
      break;
    }
    case 'OrphanAdopted': {
      const d = event.data;
      leave(state, d.positionId);
      state.orphans.delete(d.positionId);
      // Adopted without a stop: the whole value is at risk.
      open(state, d, at, 'adopted', d.value);
      break;
    }
    case 'PhantomDismissed': {
      const p = state.positions.get(event.data.positionId);
      if (p?.status === 'IN') putPosition(state, p.id, { ...p, missedLooks: 0 });
      break;
    }
    case 'PhantomSuspected': {
      const p = state.positions.get(event.data.positionId);
      if (p?.status === 'IN') putPosition(state, p.id, { ...p, missedLooks: event.data.looks });
      break;
    }
    case 'PhantomCleared': {
      const d = event.data;
      // A fraction is below 1 (the schema's bound): part of it, the rest stays IN, its count of missed looks starts over.
      if (d.fraction !== undefined) {
        recordPnl(state, at, d.realizedPnl);
        const p = state.positions.get(d.positionId);
        if (p?.status === 'IN') {
          const keep = 1 - d.fraction;
          const next: InPosition = {
            ...p,
            costBasis: Math.max(0, p.costBasis - d.costBasis),
            value: p.value * keep,
            risk: p.risk * keep,
            realizedPnl: p.realizedPnl + d.realizedPnl,
            missedLooks: 0,
          };
          if (p.quantity !== undefined) next.quantity = p.quantity * keep;
          if (p.group !== undefined) adjustGroupRisk(state, p.group, next.risk - p.risk);
          putPosition(state, d.positionId, next);
        }
        break;
      }
      const p = leave(state, d.positionId);
      recordPnl(state, at, d.realizedPnl);
      if (p?.status === 'IN') {
        putPosition(state, d.positionId, {
          id: p.id,
          status: 'EXITED',
          ...commonOf(p),
          side: p.side,
          since: at,
          realizedPnl: p.realizedPnl + d.realizedPnl,
          closedBy: 'phantom',
        });
      }
      break;
    }
    case 'DriftCorrected': {
      const d = event.data;
      const p = state.positions.get(d.positionId);
      if (p?.status === 'IN') {
        const next: InPosition = { ...p, value: d.externalValue, missedLooks: 0 };
        setDefined(next, 'quantity', d.externalQuantity);
        putPosition(state, p.id, next);
      }
      break;
    }
    case 'ReconciliationCompleted':
      state.lastReconciledAt = event.data.completedAt;
      break;
    case 'CircuitBreakerTripped': {
      const d = event.data;
      state.breaker = { status: 'TRIPPED', trigger: d.trigger, reason: d.reason, since: at };
      if (d.until !== undefined) state.breaker.until = d.until;
      break;
    }
    case 'CircuitBreakerReset':
      state.breaker = { status: 'OK' };
      break;
    case 'CooldownStarted':
      state.cooldowns.set(event.data.symbol, event.data.until);
      break;
    case 'Heartbeat':
      state.lastHeartbeatAt = event.data.at;
      break;
    case 'RecoveryRequired':
      // A second one while the gate is open keeps the first one's time: it has waited since then.
      if (state.recovery.status !== 'REQUIRED') {
        state.recovery = { status: 'REQUIRED', mode: event.data.mode, reason: event.data.reason, since: at };
      }
      break;
    case 'RecoveryAcknowledged':
      state.recovery = { status: 'CLEAR' };
      break;
    case 'OrphanDetected':
      // The book's positions do not change; the orphan stays on the books until resolved.
      if (!state.orphans.has(event.data.positionId)) {
        state.orphans.set(event.data.positionId, { detectedAt: at, value: event.data.value });
      }
      break;
    case 'OrphanClosed':
      state.orphans.delete(event.data.positionId);
      break;
    case 'ExternalOrderDetected': {
      const { source: _source, runId: _runId, ...facts } = event.data;
      if (!state.externalOrders.has(facts.externalOrderId)) {
        state.externalOrders.set(facts.externalOrderId, Object.freeze({ ...facts, detectedAt: at }));
      }
      break;
    }
    case 'ExternalOrderCanceled':
      state.externalOrders.delete(event.data.externalOrderId);
      break;
    case 'ExternalOrderAdopted': {
      const { source: _source, runId: _runId, reason: _reason, venueClientOrderId, ...d } = event.data;
      state.externalOrders.delete(d.externalOrderId);
      if (state.orders.has(d.clientOrderId)) break;
      // Adopted as the venue shows it, open; its fills so far are recorded after it, as any order's.
      const order: Order = {
        ...d,
        orderKey: d.clientOrderId,
        attempt: 1,
        status: 'OPEN',
        filledQuantity: 0,
        fees: 0,
        tradeIds: [],
        requestedAt: at,
        updatedAt: at,
        origin: 'adopted',
      };
      if (venueClientOrderId !== undefined) order.venueClientOrderId = venueClientOrderId;
      putOrder(state, Object.freeze(order));
      break;
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }

  // Expired cooldowns leave the state, judged by the log's own time.
  if (state.cooldowns.size > 0) {
    const now = Date.parse(at);
    for (const [symbol, until] of state.cooldowns) if (Date.parse(until) <= now) state.cooldowns.delete(symbol);
  }

  const commandId = event.metadata.commandId;
  if (commandId !== undefined && state.limits.idempotencyWindow > 0) {
    const seen = state.commands.get(commandId);
    if (seen) state.commands.set(commandId, { ...seen, to: state.revision });
    else {
      const fingerprint = event.metadata.commandHash;
      state.commands.set(
        commandId,
        fingerprint === undefined
          ? { from: state.revision, to: state.revision }
          : { from: state.revision, to: state.revision, fingerprint },
      );
      if (state.commands.size > state.limits.idempotencyWindow) {
        const oldest = state.commands.keys().next();
        if (!oldest.done) state.commands.delete(oldest.value);
      }
    }
  }
  return state;
}
