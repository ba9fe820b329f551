import { DuplicateSignalError, OrderStateError, ValidationError } from '../errors/index.js';
import type { EventData, Source } from '../events/index.js';
import { clientOrderIdFor } from './clientOrderId.js';
import type { DecideContext, DecidedEvent } from './decided.js';
import { checkEntryRisk, checkSymbolControl, reservedByOrders, type EntryTarget } from './entryRules.js';
import { FILL_TOLERANCE } from './evolve.js';
import { closeEvents } from './exitRules.js';
import { groupOf } from './groupOf.js';
import type { CommandOf } from './schemas.js';
import { isLive, type BookState, type InPosition, type Order, type OrderStatus } from './state.js';
import { requireStatus } from './transitions.js';

/*
 * Orders, as the decider sees them: RequestOrder (the client order id, the attempt rule, the
 * entry risk rules or the reduce-only bound) and what the venue says afterwards, each checked
 * against the order's state. A fill moves its position: an entry fill enters or grows it, a
 * reduce fill closes part of it through the same rules as an Exit.
 */

export type OrderCommand = CommandOf<
  | 'RequestOrder'
  | 'RecordOrderAccepted'
  | 'RecordOrderRejected'
  | 'RecordFill'
  | 'CancelOrder'
  | 'RecordOrderCanceled'
  | 'RecordOrderExpired'
  | 'RecordOrderLost'
  | 'RecordOrderLook'
>;

/** The book a DecideContext names (client order ids are derived from it). */
export const DEFAULT_BOOK_ID = 'main';

function describe(o: Order): string {
  return `order "${o.clientOrderId}" (${o.intent} ${o.side} ${o.quantity} ${o.symbol} for "${o.positionId}")`;
}

function hintFor(o: Order): string {
  switch (o.status) {
    case 'REJECTED':
      return 'it was refused: request a new order';
    case 'FILLED':
      return 'it is finished: every unit filled';
    case 'CANCELED':
    case 'EXPIRED':
      return 'it is finished: request a new order';
    case 'PENDING_CANCEL':
      return "a cancel is pending: wait for the venue's answer";
    // Stryker disable all: no refusal reaches these states without a reason of its own (RecordOrderRejected gives one
    // for an accepted or filled order; the other commands accept these states), so the hint stays for a future check.
    case 'PENDING_SUBMIT':
    case 'OPEN':
    case 'PARTIALLY_FILLED':
      return 'see ptrack orders';
    // Stryker restore all
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = o.status;
      return _exhaustive;
    }
  }
}

/** The order `id`, or the typed error for a command about an order the book does not hold. */
function requireOrder(state: BookState, id: string, verb: string): Order {
  const o = state.orders.get(id);
  if (o !== undefined) return o;
  throw new OrderStateError(
    `cannot ${verb} "${id}": the book has no such order (never requested here, or its position was archived); check the client order id`,
    id,
    'UNKNOWN',
    ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL'],
  );
}

function refuse(o: Order, verb: string, expected: readonly OrderStatus[], why?: string): never {
  throw new OrderStateError(
    `cannot ${verb} ${describe(o)}: it is ${o.status}, expected ${expected.join(' or ')} (${why ?? hintFor(o)})`,
    o.clientOrderId,
    o.status,
    expected,
  );
}

function requireOrderStatus(o: Order, verb: string, expected: readonly OrderStatus[]): void {
  if (!expected.includes(o.status)) refuse(o, verb, expected);
}

/**
 * The attempt a new order of `orderKey` would be: 1 + the orders the key already had, allowed
 * only when each of them finished without a fill (else it is refused, naming the one that is live
 * or filled: the caller should return that order, not send another).
 */
function nextAttempt(state: BookState, orderKey: string, signalId: string | undefined, verb: string): number {
  const earlier = state.orderKeys.get(orderKey) ?? [];
  for (const id of earlier) {
    const o = state.orders.get(id);
    if (o === undefined || (!isLive(o) && o.filledQuantity === 0)) continue;
    const why = isLive(o) ? `it is ${o.status}` : `it filled ${o.filledQuantity} of ${o.quantity}`;
    if (signalId !== undefined) {
      throw new DuplicateSignalError(
        `cannot ${verb}: signal "${signalId}" was already processed at ${o.requestedAt} as ${describe(o)}, and ${why}; return that order rather than send another`,
        signalId,
        o.clientOrderId,
        o.status,
        o.requestedAt,
      );
    }
    throw new OrderStateError(
      `cannot ${verb}: order key "${orderKey}" already has ${describe(o)}, and ${why}; a new attempt needs every earlier one finished without a fill (cancel it, or use a new command id)`,
      o.clientOrderId,
      o.status,
      ['REJECTED', 'CANCELED', 'EXPIRED'],
    );
  }
  // Its orders left with an archived position: the signal is remembered, its attempts are not.
  const seen = signalId === undefined || earlier.length > 0 ? undefined : state.signals.get(signalId);
  if (seen !== undefined && signalId !== undefined) {
    throw new DuplicateSignalError(
      `cannot ${verb}: signal "${signalId}" was already processed at ${seen.at} as order "${seen.clientOrderId}" (its position has been archived since)`,
      signalId,
      seen.clientOrderId,
      'ARCHIVED',
      seen.at,
    );
  }
  return earlier.length + 1;
}

function decideRequest(state: BookState, cmd: CommandOf<'RequestOrder'>, ctx: DecideContext, now: string, source: Source): DecidedEvent[] {
  const { policy } = ctx;
  const verb = `order for "${cmd.positionId}"`;
  const orderKey = cmd.signalId ?? cmd.commandId;
  if (orderKey === undefined) {
    throw new ValidationError(
      `cannot ${verb}: an order needs a signalId or a commandId (its client order id is derived from one, so a retry finds the same order)`,
      [
        { path: 'signalId', message: 'give a signalId or a commandId', value: undefined },
        { path: 'commandId', message: 'give a commandId or a signalId', value: undefined },
      ],
    );
  }
  // A signal already answered is told first, whatever the position became since.
  const attempt = nextAttempt(state, orderKey, cmd.signalId, verb);
  const p = requireStatus(state, cmd, cmd.positionId, cmd.intent === 'entry' ? ['UNKNOWN', 'WATCHING', 'IN'] : ['IN']);
  const symbol = p?.symbol ?? cmd.symbol;
  if (symbol === undefined) {
    throw new ValidationError(`cannot ${verb}: an order needs a symbol, and the position has none (give symbol)`, [
      { path: 'symbol', message: 'required: the position has no symbol', value: undefined },
    ]);
  }
  if (p?.symbol !== undefined && cmd.symbol !== undefined && cmd.symbol !== p.symbol) {
    throw new ValidationError(`cannot ${verb}: symbol ${cmd.symbol} is not the position's (${p.symbol})`, [
      { path: 'symbol', message: `the position's symbol is ${p.symbol}`, value: cmd.symbol },
    ]);
  }
  const side = p?.side ?? cmd.side ?? 'long';
  if (p !== undefined && cmd.side !== undefined && cmd.side !== p.side) {
    throw new ValidationError(`cannot ${verb}: side ${cmd.side} is not the position's (${p.side})`, [
      { path: 'side', message: `the position is ${p.side}`, value: cmd.side },
    ]);
  }

  const events: DecidedEvent[] = [];
  if (cmd.intent === 'entry') {
    const price = cmd.limitPrice ?? cmd.referencePrice;
    if (price === undefined) {
      throw new ValidationError(`cannot ${verb}: an entry order needs a limitPrice or a referencePrice (its risk is judged at it)`, [
        { path: 'referencePrice', message: 'required for an entry market order', value: undefined },
      ]);
    }
    const target: EntryTarget = { id: cmd.positionId, symbol };
    const group = p === undefined ? groupOf(policy.correlationGroups, symbol) : p.group;
    if (group !== undefined) target.group = group;
    const terms = { value: cmd.quantity * price, quantity: cmd.quantity, price, ...(cmd.stop === undefined ? {} : { stop: cmd.stop }) };
    checkEntryRisk(state, target, terms, now, policy, {
      verb: `order an entry for`,
      side: side === 'long' ? 'buy' : 'sell',
      grow: p?.status === 'IN',
      reserved: reservedByOrders(state, policy, cmd.positionId),
    });
    if (p === undefined) {
      const tracked: EventData<'PositionTracked'> = { positionId: cmd.positionId, symbol, side, source };
      if (group !== undefined) tracked.group = group;
      events.push({ type: 'PositionTracked', data: tracked });
    }
  } else {
    checkSymbolControl(state, symbol, side === 'long' ? 'sell' : 'buy', 'order a reduce of', cmd.positionId);
    const open = (p as InPosition).quantity;
    if (open === undefined) {
      throw new ValidationError(`cannot ${verb}: a reduce order needs the position's quantity, which is unknown (exit it by value)`);
    }
    let closing = 0;
    const others: string[] = [];
    for (const [id, of] of state.liveOrders) {
      const o = state.orders.get(id);
      if (of !== cmd.positionId || o?.intent !== 'reduce') continue;
      closing += o.quantity - o.filledQuantity;
      others.push(id);
    }
    const room = open - closing;
    if (cmd.quantity > room * (1 + FILL_TOLERANCE) + FILL_TOLERANCE) {
      const held = others.length > 0 ? ` and live reduce orders (${others.join(', ')}) already close ${closing}` : '';
      throw new ValidationError(`cannot ${verb}: reduce ${cmd.quantity}: ${open} is open${held}, so at most ${Math.max(0, room)}`, [
        { path: 'quantity', message: `at most ${Math.max(0, room)}`, value: cmd.quantity },
      ]);
    }
  }

  const clientOrderId = clientOrderIdFor(
    ctx.bookId ?? DEFAULT_BOOK_ID,
    orderKey,
    attempt,
    policy.clientOrderIdMaxLength,
    state.ordersRequested + 1,
  );
  const taken = state.orders.get(clientOrderId);
  if (taken !== undefined) {
    // Only a cut hash can collide: the book never reuses a client order id.
    throw new OrderStateError(
      `cannot ${verb}: its client order id "${clientOrderId}" is already ${describe(taken)} (raise clientOrderIdMaxLength)`,
      clientOrderId,
      taken.status,
      [],
    );
  }
  const buys = (side === 'long') === (cmd.intent === 'entry');
  const data: EventData<'OrderRequested'> = {
    clientOrderId,
    orderKey,
    attempt,
    positionId: cmd.positionId,
    symbol,
    side: buys ? 'buy' : 'sell',
    intent: cmd.intent,
    orderType: cmd.orderType,
    quantity: cmd.quantity,
    source,
  };
  if (cmd.signalId !== undefined) data.signalId = cmd.signalId;
  if (cmd.limitPrice !== undefined) data.limitPrice = cmd.limitPrice;
  if (cmd.referencePrice !== undefined) data.referencePrice = cmd.referencePrice;
  if (cmd.stop !== undefined) data.stop = cmd.stop;
  if (cmd.takeProfit !== undefined) data.takeProfit = cmd.takeProfit;
  if (cmd.trailingStop !== undefined) data.trailingStop = cmd.trailingStop;
  events.push({ type: 'OrderRequested', data });
  return events;
}

/** The position events of a fill: an entry enters or grows its position, a reduce closes part of it. */
function fillEvents(
  state: BookState,
  o: Order,
  cmd: CommandOf<'RecordFill'>,
  ctx: DecideContext,
  now: string,
  source: Source,
): DecidedEvent[] {
  const p = state.positions.get(o.positionId);
  const value = cmd.quantity * cmd.price;
  if (o.intent === 'entry') {
    if (p?.status === 'IN') {
      return [{ type: 'PositionIncreased', data: { positionId: p.id, quantity: cmd.quantity, value, price: cmd.price, source } }];
    }
    // A late fill after the position was skipped or archived: the fill is recorded, nothing more.
    if (p?.status !== 'WATCHING' && p?.status !== 'EXITED') return [];
    const data: EventData<'PositionEntered'> = {
      positionId: p.id,
      symbol: p.symbol ?? o.symbol,
      side: p.side,
      value,
      quantity: cmd.quantity,
      price: cmd.price,
      source,
    };
    if (o.stop !== undefined) data.stop = o.stop;
    if (o.takeProfit !== undefined) data.takeProfit = o.takeProfit;
    // The trailing stop trails from the first fill's price.
    if (o.trailingStop !== undefined) data.trailingStop = { ...o.trailingStop, highWater: cmd.price };
    return [{ type: 'PositionEntered', data }];
  }
  // A reduce fill of a position no longer IN (exited by hand meanwhile) only records the fill.
  if (p?.status !== 'IN' || p.quantity === undefined || p.quantity <= 0) return [];
  const closed = Math.min(cmd.quantity, p.quantity);
  return closeEvents(
    state,
    p,
    {
      fraction: Math.min(1, closed / p.quantity),
      value: closed * cmd.price,
      price: cmd.price,
      fee: cmd.fee,
      reason: `fill ${cmd.tradeId} of order ${o.clientOrderId}`,
    },
    ctx.policy,
    now,
    source,
  );
}

/** Decides an order command against the order's state (and, for a fill, its position). */
export function decideOrder(command: OrderCommand, state: BookState, context: DecideContext, now: string, source: Source): DecidedEvent[] {
  if (command.type === 'RequestOrder') return decideRequest(state, command, context, now, source);
  const id = command.clientOrderId;
  switch (command.type) {
    case 'RecordOrderAccepted': {
      const verb = 'record the acceptance of';
      const o = requireOrder(state, id, `${verb} order`);
      if (o.externalOrderId === command.externalOrderId) return [];
      if (o.externalOrderId !== undefined) {
        throw new OrderStateError(
          `cannot ${verb} ${describe(o)} as "${command.externalOrderId}": the venue already named it "${o.externalOrderId}" (one order has one venue id; check which order this answer is for)`,
          id,
          o.status,
          [o.status],
        );
      }
      if (o.status === 'REJECTED')
        refuse(o, verb, ['PENDING_SUBMIT', 'PENDING_CANCEL'], 'it was recorded as refused; an acceptance contradicts it');
      return [{ type: 'OrderAccepted', data: { clientOrderId: id, externalOrderId: command.externalOrderId, source } }];
    }
    case 'RecordOrderRejected': {
      const verb = 'record the rejection of';
      const o = requireOrder(state, id, `${verb} order`);
      // A rejection means the venue never took it: only an order it has not accepted and that never filled.
      const unacknowledgedCancel = o.status === 'PENDING_CANCEL' && o.statusBeforeCancel === 'PENDING_SUBMIT' && o.filledQuantity === 0;
      if (o.status !== 'PENDING_SUBMIT' && !unacknowledgedCancel) {
        refuse(
          o,
          verb,
          ['PENDING_SUBMIT', 'PENDING_CANCEL'],
          o.externalOrderId !== undefined || o.filledQuantity > 0
            ? 'the venue accepted it or filled it: record a cancel instead'
            : undefined,
        );
      }
      return [{ type: 'OrderRejected', data: { clientOrderId: id, reason: command.reason, source } }];
    }
    case 'RecordFill': {
      const verb = 'record a fill of';
      const o = requireOrder(state, id, `${verb} order`);
      if (o.tradeIds.includes(command.tradeId)) return [];
      if (o.status === 'REJECTED') refuse(o, verb, ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'CANCELED', 'EXPIRED']);
      const after = o.filledQuantity + command.quantity;
      if (after > o.quantity * (1 + FILL_TOLERANCE)) {
        throw new OrderStateError(
          `cannot ${verb} ${describe(o)}: trade "${command.tradeId}" of ${command.quantity} would take its fills to ${after}, beyond its quantity ${o.quantity} (${o.filledQuantity} filled already; check the trade's order)`,
          id,
          o.status,
          [o.status],
        );
      }
      const data: EventData<'OrderFilled'> = {
        clientOrderId: id,
        tradeId: command.tradeId,
        quantity: command.quantity,
        price: command.price,
        fee: command.fee,
        inferred: command.inferred,
        source,
      };
      if (command.filledAt !== undefined) data.filledAt = command.filledAt;
      return [{ type: 'OrderFilled', data }, ...fillEvents(state, o, command, context, now, source)];
    }
    case 'CancelOrder': {
      const o = requireOrder(state, id, 'cancel order');
      requireOrderStatus(o, 'cancel', ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED']);
      const data: EventData<'OrderCancelRequested'> = { clientOrderId: id, source };
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'OrderCancelRequested', data }];
    }
    case 'RecordOrderCanceled':
    case 'RecordOrderExpired': {
      const verb = command.type === 'RecordOrderCanceled' ? 'record the cancel of' : 'record the expiry of';
      const o = requireOrder(state, id, `${verb} order`);
      if (!isLive(o)) refuse(o, verb, ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL']);
      if (command.type === 'RecordOrderExpired') {
        return [{ type: 'OrderExpired', data: { clientOrderId: id, filledQuantity: o.filledQuantity, source } }];
      }
      const data: EventData<'OrderCanceled'> = { clientOrderId: id, filledQuantity: o.filledQuantity, source };
      if (command.reason !== undefined) data.reason = command.reason;
      return [{ type: 'OrderCanceled', data }];
    }
    case 'RecordOrderLost': {
      const verb = 'record as lost';
      const o = requireOrder(state, id, `${verb} order`);
      let resolution: EventData<'OrderLost'>['resolution'];
      switch (o.status) {
        case 'PENDING_SUBMIT':
        case 'OPEN':
          resolution = 'REJECTED';
          break;
        case 'PARTIALLY_FILLED':
          resolution = 'CANCELED';
          break;
        case 'PENDING_CANCEL':
          return refuse(
            o,
            verb,
            ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED'],
            'a cancel is pending: it stays unresolved until a look answers',
          );
        case 'FILLED':
          return refuse(o, verb, ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED'], 'venues drop finished orders: a filled order is not lost');
        case 'CANCELED':
        case 'REJECTED':
        case 'EXPIRED':
          return refuse(o, verb, ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED'], 'it is finished already: nothing to resolve');
        // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
        default: {
          const _exhaustive: never = o.status;
          return _exhaustive;
        }
      }
      return [{ type: 'OrderLost', data: { clientOrderId: id, looks: command.looks, resolution, reason: command.reason, source } }];
    }
    case 'RecordOrderLook': {
      const o = requireOrder(state, id, 'record a look-up of order');
      // A finished order is not looked for; a look that finds it ends a count that was running.
      if (!isLive(o)) return [];
      const missed = o.missedLooks ?? 0;
      if (command.found) return missed === 0 ? [] : [{ type: 'OrderLookedUp', data: { clientOrderId: id, found: true, looks: 0, source } }];
      return [{ type: 'OrderLookedUp', data: { clientOrderId: id, found: false, looks: missed + 1, source } }];
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement: the exhaustive default, unreachable (the compiler proves the switch covers every type)
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
