export * from './schemas.js';
export { parseCommand } from './parseCommand.js';
export { BookPolicy, defaultPolicy } from './policy.js';
export type { BookPolicyInput } from './policy.js';
export {
  initialBookState,
  bookStateToJson,
  bookStateFromJson,
  forkBookState,
  freezeBookState,
  BOOK_STATE_VERSION,
  defaultLimits,
  LIVE_ORDER_STATUSES,
  bookOrderOf,
  venueKeyOf,
} from './state.js';
export type {
  BookState,
  BookStateJson,
  BookLimits,
  Position,
  PositionStatus,
  WatchingPosition,
  InPosition,
  ExitedPosition,
  SkippedPosition,
  CircuitBreaker,
  RecoveryGate,
  Order,
  OrderStatus,
  ExternalOrderFacts,
  ExternalOrderSeen,
  SignalRecord,
  SymbolBlock,
  SymbolControl,
} from './state.js';
export { evolve, positionRisk } from './evolve.js';
export type { FoldableEvent } from './evolve.js';
export { decide, groupOfSymbol } from './decide.js';
export type { DecidedEvent, DecideContext } from './decided.js';
export { pnlOf } from './pnl.js';
export { adoptedClientOrderId, adoptedPositionId, clientOrderIdFor } from './clientOrderId.js';
export { isSignalProcessed, processedSignal } from './signals.js';
export { bookDecider } from './bookDecider.js';
export type { BookDecider, Decider } from './bookDecider.js';
export { groupOf } from './groupOf.js';
export { dayKey } from './time.js';
export { breakerActive } from './breaker.js';
export { allowedWhileRecoveryPending, recoveryPending } from './decideRecovery.js';
export { BOOK_SNAPSHOT_VERSION, BookStateJsonSchema, bookFromSnapshot, decodeBookSnapshot, encodeBookSnapshot } from './snapshot.js';
export type { DecodedBookSnapshot } from './snapshot.js';
export { checkBookSnapshot, repairBookSnapshots } from './snapshotRepair.js';
export type { BookSnapshotCheck, RepairedSnapshot } from './snapshotRepair.js';
export { CommandHandler } from './handler.js';
export type { CommandHandlerOptions, CommandResult, HandleOptions, HandlerLogger, CommandObserver, CommandOutcome } from './handler.js';
