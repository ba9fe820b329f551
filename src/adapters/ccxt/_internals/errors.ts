/*
 * ccxt's error classes in the port's failure kinds. The classes are read from the loaded ccxt
 * module (it is imported only when the adapter is named), most specific first.
 */

import type * as Ccxt from 'ccxt';
import { ExternalError, type ExternalFailure } from '../../../errors/index.js';

/** The loaded ccxt module. */
export type CcxtModule = typeof Ccxt;

/** What a ccxt failure means to the port; `not_found` is an order the venue does not know (getOrder answers null). */
export type CcxtFailure = ExternalFailure | 'not_found';

type ErrorClassName = {
  [K in keyof CcxtModule]: CcxtModule[K] extends abstract new (...args: never[]) => Error ? K : never;
}[keyof CcxtModule];

const KINDS: readonly (readonly [ErrorClassName, CcxtFailure])[] = [
  ['OrderNotFound', 'not_found'],
  // An order under this client order id is already there: ours may have landed, so the outcome is unknown (look it up).
  ['DuplicateOrderId', 'unreachable'],
  ['RateLimitExceeded', 'rate_limited'],
  ['DDoSProtection', 'rate_limited'],
  ['RequestTimeout', 'timeout'],
  // ExchangeNotAvailable (a 5xx), OnMaintenance, InvalidNonce and a lost connection.
  ['NetworkError', 'unreachable'],
  ['BadResponse', 'malformed'],
  ['InvalidOrder', 'rejected'],
  ['InsufficientFunds', 'rejected'],
  ['BadRequest', 'rejected'],
  ['AuthenticationError', 'rejected'],
  ['OperationRejected', 'rejected'],
  ['NotSupported', 'rejected'],
  ['ArgumentsRequired', 'rejected'],
  ['CancelPending', 'unreachable'],
  // An exchange error ccxt could not classify: nothing says the call did not happen.
  ['ExchangeError', 'unreachable'],
];

/** The kind of a failure thrown by a ccxt call (or by parsing its answer). */
export function ccxtFailureOf(lib: CcxtModule, error: unknown): CcxtFailure {
  if (error instanceof ExternalError) return error.failure;
  for (const [name, kind] of KINDS) {
    const cls = lib[name] as abstract new (...args: never[]) => Error;
    if (error instanceof cls) return kind;
  }
  // ccxt read an answer that was not what the venue documents (broken JSON, a missing field).
  if (error instanceof SyntaxError || error instanceof TypeError) return 'malformed';
  return 'unreachable';
}

/** The first line of an error's message, at most 300 characters, with every secret replaced by `***`. */
export function redactedMessage(error: unknown, secrets: readonly string[]): string {
  let text = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  for (const secret of secrets) if (secret.length > 0) text = text.split(secret).join('***');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/**
 * The port's error for a ccxt failure: the operation, the ccxt class and its message with the
 * credentials taken out. The ccxt error is not kept as the cause (it may carry the request).
 */
export function toExternalError(lib: CcxtModule, operation: string, error: unknown, secrets: readonly string[]): ExternalError {
  if (error instanceof ExternalError) return error;
  const failure = ccxtFailureOf(lib, error);
  const name = error instanceof Error ? error.constructor.name : 'Error';
  const kind: ExternalFailure = failure === 'not_found' ? 'rejected' : failure;
  return new ExternalError(`${operation} failed (${name}): ${redactedMessage(error, secrets)}`, kind);
}
