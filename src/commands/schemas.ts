import { z } from 'zod';
import {
  Attributes,
  NonNegative,
  PositionId,
  Quantity,
  Reason,
  Side,
  SymbolCode,
  Tag,
} from '../events/primitives.js';

/*
 * Commands: imperative, `{ type, ...fields }`, each with an optional `commandId` for
 * idempotency. One zod schema per command is the single definition of its shape.
 */

const CommandId = z.string().min(1).max(200).optional();
const Seconds = z.number().finite().positive();

/** Start watching a position (WATCHING). */
export const Track = z.strictObject({
  type: z.literal('Track'),
  commandId: CommandId,
  positionId: PositionId,
  symbol: SymbolCode.optional(),
  side: Side.default('long'),
  setup: Tag.optional(),
  group: Tag.optional(),
  attributes: Attributes.optional(),
});

/** Enter a watched position (WATCHING -> IN). `value` is the notional value at entry. */
export const Enter = z.strictObject({
  type: z.literal('Enter'),
  commandId: CommandId,
  positionId: PositionId,
  value: NonNegative,
  quantity: Quantity.optional(),
  price: NonNegative.optional(),
  stop: NonNegative.optional(),
});

/** A fresh valuation of an open position (IN -> IN). `value` is the whole position's value. */
export const Hold = z.strictObject({
  type: z.literal('Hold'),
  commandId: CommandId,
  positionId: PositionId,
  value: NonNegative,
  price: NonNegative.optional(),
});

/** A valuation of a watched position (WATCHING -> WATCHING): the seed API's MONITOR. */
export const Monitor = z.strictObject({
  type: z.literal('Monitor'),
  commandId: CommandId,
  positionId: PositionId,
  value: NonNegative,
  price: NonNegative.optional(),
});

/**
 * Close all or part of an open position. `value` is the whole position's current value;
 * the closed part is `fraction` of it (or `quantity` of the open quantity). Default: all.
 */
export const Exit = z
  .strictObject({
    type: z.literal('Exit'),
    commandId: CommandId,
    positionId: PositionId,
    value: NonNegative,
    fraction: z.number().finite().gt(0, 'must be greater than 0').lte(1, 'must be at most 1').optional(),
    quantity: Quantity.optional(),
    price: NonNegative.optional(),
    reason: Reason.optional(),
  })
  .refine((c) => c.fraction === undefined || c.quantity === undefined, {
    message: 'give fraction or quantity, not both',
    path: ['fraction'],
  });

/** Pass over a watched position (WATCHING -> SKIPPED). */
export const Skip = z.strictObject({
  type: z.literal('Skip'),
  commandId: CommandId,
  positionId: PositionId,
  reason: Reason.optional(),
});

/** Take a position found open outside into the book (unknown or archived -> IN). */
export const AdoptOrphan = z.strictObject({
  type: z.literal('AdoptOrphan'),
  commandId: CommandId,
  positionId: PositionId,
  value: NonNegative,
  symbol: SymbolCode.optional(),
  side: Side.default('long'),
  quantity: Quantity.optional(),
  price: NonNegative.optional(),
  setup: Tag.optional(),
  group: Tag.optional(),
  reason: Reason.optional(),
});

/**
 * Archive finished positions. Without `positionId`: every EXITED, SKIPPED (and WATCHING,
 * when `watchTimeoutSeconds` is set) position whose timeout has passed. With it: that one
 * position now, whatever its age (not an IN one).
 */
export const Archive = z.strictObject({
  type: z.literal('Archive'),
  commandId: CommandId,
  positionId: PositionId.optional(),
});

/** Stop new entries until `seconds` from now (or until reset when omitted). */
export const TripCircuitBreaker = z.strictObject({
  type: z.literal('TripCircuitBreaker'),
  commandId: CommandId,
  reason: Reason,
  seconds: Seconds.optional(),
});

export const ResetCircuitBreaker = z.strictObject({
  type: z.literal('ResetCircuitBreaker'),
  commandId: CommandId,
  reason: Reason.optional(),
});

/** Refuse entries on `symbol` for `seconds`. */
export const StartCooldown = z.strictObject({
  type: z.literal('StartCooldown'),
  commandId: CommandId,
  symbol: SymbolCode,
  seconds: Seconds,
  reason: Reason.optional(),
});

export const Command = z.discriminatedUnion('type', [
  Track,
  Enter,
  Hold,
  Monitor,
  Exit,
  Skip,
  AdoptOrphan,
  Archive,
  TripCircuitBreaker,
  ResetCircuitBreaker,
  StartCooldown,
]);
export type Command = z.infer<typeof Command>;
export type CommandInput = z.input<typeof Command>;
export type CommandType = Command['type'];
export const commandTypes: readonly CommandType[] = Command.options.map((o) => o.shape.type.value);
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
