import { InvalidTransitionError, OrderStateError, ValidationError } from '../errors/index.js';
import type { EventData, Source } from '../events/index.js';
import { adoptedClientOrderId, adoptedPositionId } from './clientOrderId.js';
import type { DecideContext, DecidedEvent } from './decided.js';
import { groupOf } from './groupOf.js';
import type { CommandOf } from './schemas.js';
import { bookOrderOf, type BookState, type InPosition } from './state.js';
import { requireStatus } from './transitions.js';

/*
 * AdoptExternalOrder: a detected external order becomes the book's own. Like AdoptOrphan it
 * records what is already true at the venue, so no risk rule refuses it; what it must get right
 * is which position the order moves, and that one venue order is adopted once.
 */

type Adopt = CommandOf<'AdoptExternalOrder'>;

function about(cmd: Adopt): string {
  return `external order "${cmd.externalOrderId}" (${cmd.side} ${cmd.quantity} ${cmd.symbol}${cmd.reduceOnly ? ', reduce-only' : ''})`;
}

/** The IN position a reduce-only order closes: the one the venue names, else the one of its symbol on the side its side closes (a sell closes a long). */
function reducedPosition(state: BookState, cmd: Adopt): InPosition {
  const side = cmd.side === 'sell' ? 'long' : 'short';
  const candidates: InPosition[] = [];
  for (const p of state.positions.values()) {
    if (p.status !== 'IN' || p.symbol !== cmd.symbol || p.side !== side) continue;
    if (cmd.positionId === undefined || p.id === cmd.positionId) candidates.push(p);
  }
  const only = candidates[0];
  // Stryker disable next-line ConditionalExpression: `only === undefined` is for the compiler; one candidate is never undefined.
  if (candidates.length !== 1 || only === undefined) {
    const found = candidates.length === 0 ? 'none' : `${candidates.length} (${candidates.map((p) => p.id).join(', ')})`;
    const which =
      cmd.positionId === undefined
        ? `the one IN ${side} position of ${cmd.symbol}`
        : `IN ${side} position "${cmd.positionId}" of ${cmd.symbol}`;
    throw new ValidationError(
      `cannot adopt ${about(cmd)}: a reduce-only order needs ${which} it closes, and the book has ${found} (adopt or exit positions until one is left, or handle the order by hand)`,
      [{ path: 'reduceOnly', message: `needs exactly one IN ${side} position of ${cmd.symbol}`, value: true }],
    );
  }
  if (only.quantity === undefined) {
    throw new ValidationError(
      `cannot adopt ${about(cmd)}: position "${only.id}" has no known quantity, so its fills could not close a share of it (correct its quantity first)`,
      [{ path: 'reduceOnly', message: `position "${only.id}" has no quantity`, value: true }],
    );
  }
  return only;
}

/**
 * Decides AdoptExternalOrder: the order must be detected (ExternalOrderDetected, unresolved) with
 * the same symbol and side; one the book already adopted appends nothing; one the book issued is
 * refused. An entry order is for the position the venue names, else `adoptedPositionId(venue id)`,
 * tracked here when unknown (a known one must have the order's symbol and side, and grows by its
 * fills); a reduce-only one for the IN position it closes. The events: PositionTracked (when needed), then ExternalOrderAdopted (OPEN).
 */
export function decideAdoptExternalOrder(cmd: Adopt, state: BookState, ctx: DecideContext, source: Source): DecidedEvent[] {
  const ours = bookOrderOf(state, cmd);
  if (ours !== undefined) {
    if (ours.origin === 'adopted' && ours.externalOrderId === cmd.externalOrderId) return [];
    throw new InvalidTransitionError(
      `cannot adopt ${about(cmd)}: the book issued it as order "${ours.clientOrderId}"; it is one of ours, not external`,
      'order',
      'OURS',
      ['DETECTED'],
    );
  }
  const seen = state.externalOrders.get(cmd.externalOrderId);
  if (seen === undefined) {
    throw new InvalidTransitionError(
      `cannot adopt ${about(cmd)}: the book has not detected it (or it was resolved already); detect it first`,
      'order',
      'UNKNOWN',
      ['DETECTED'],
    );
  }
  if (seen.symbol !== cmd.symbol || seen.side !== cmd.side) {
    throw new ValidationError(
      `cannot adopt ${about(cmd)}: it was detected as ${seen.side} ${seen.symbol}; one venue id names one order (check which order this is)`,
      [
        { path: 'symbol', message: `detected as ${seen.symbol}`, value: cmd.symbol },
        { path: 'side', message: `detected as ${seen.side}`, value: cmd.side },
      ],
    );
  }
  const clientOrderId = adoptedClientOrderId(cmd.externalOrderId, cmd.clientOrderId);
  const taken = state.orders.get(clientOrderId);
  if (taken !== undefined) {
    throw new OrderStateError(
      `cannot adopt ${about(cmd)}: its key "${clientOrderId}" is already order "${taken.clientOrderId}" for "${taken.positionId}" (the venue reused a client order id); handle it by hand`,
      clientOrderId,
      taken.status,
      [],
    );
  }

  const events: DecidedEvent[] = [];
  let positionId: string;
  if (cmd.reduceOnly) {
    positionId = reducedPosition(state, cmd).id;
  } else {
    positionId = cmd.positionId ?? adoptedPositionId(cmd.externalOrderId);
    const side = cmd.side === 'buy' ? 'long' : 'short';
    const p = requireStatus(state, cmd, positionId, ['UNKNOWN', 'WATCHING', 'IN']);
    if (p === undefined) {
      const tracked: EventData<'PositionTracked'> = { positionId, symbol: cmd.symbol, side, source };
      const group = groupOf(ctx.policy.correlationGroups, cmd.symbol);
      if (group !== undefined) tracked.group = group;
      events.push({ type: 'PositionTracked', data: tracked });
    } else if (p.symbol !== cmd.symbol || p.side !== side) {
      throw new ValidationError(
        `cannot adopt ${about(cmd)}: its position "${positionId}" is ${p.side} ${p.symbol ?? 'without a symbol'}, not ${side} ${cmd.symbol}`,
        [{ path: 'externalOrderId', message: `position "${positionId}" is another symbol or side`, value: cmd.externalOrderId }],
      );
    }
  }

  const data: EventData<'ExternalOrderAdopted'> = {
    clientOrderId,
    externalOrderId: cmd.externalOrderId,
    positionId,
    symbol: cmd.symbol,
    side: cmd.side,
    intent: cmd.reduceOnly ? 'reduce' : 'entry',
    orderType: cmd.orderType ?? (cmd.limitPrice === undefined ? 'market' : 'limit'),
    quantity: cmd.quantity,
    source,
  };
  if (cmd.clientOrderId !== undefined) data.venueClientOrderId = cmd.clientOrderId;
  if (cmd.limitPrice !== undefined) data.limitPrice = cmd.limitPrice;
  // Stryker disable next-line ConditionalExpression: `undefined > 0` is false as well; the guard is for the compiler.
  const referencePrice = cmd.price !== undefined && cmd.price > 0 ? cmd.price : cmd.limitPrice;
  if (referencePrice !== undefined) data.referencePrice = referencePrice;
  if (cmd.reason !== undefined) data.reason = cmd.reason;
  if (cmd.runId !== undefined) data.runId = cmd.runId;
  events.push({ type: 'ExternalOrderAdopted', data });
  return events;
}
