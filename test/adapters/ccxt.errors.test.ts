import { describe, expect, it } from 'vitest';
import * as ccxt from 'ccxt';
import { ccxtFailureOf, redactedMessage, toExternalError } from '../../src/adapters/ccxt/_internals/errors.js';
import { ExternalError } from '../../src/errors/index.js';

/*
 * Issue 12: ccxt's error classes in the port's failure kinds, with ccxt's real classes (a subclass
 * meets the most specific row: RateLimitExceeded is a NetworkError, OrderNotFound an InvalidOrder).
 */

describe('#12 ccxt errors → the port’s failure kinds', () => {
  it.each([
    ['RateLimitExceeded', new ccxt.RateLimitExceeded('slow down'), 'rate_limited'],
    ['DDoSProtection', new ccxt.DDoSProtection('418'), 'rate_limited'],
    ['RequestTimeout', new ccxt.RequestTimeout('timed out'), 'timeout'],
    ['NetworkError', new ccxt.NetworkError('socket hang up'), 'unreachable'],
    ['ExchangeNotAvailable', new ccxt.ExchangeNotAvailable('503'), 'unreachable'],
    ['OnMaintenance', new ccxt.OnMaintenance('maintenance'), 'unreachable'],
    ['InvalidOrder', new ccxt.InvalidOrder('bad order'), 'rejected'],
    ['InsufficientFunds', new ccxt.InsufficientFunds('no money'), 'rejected'],
    ['BadRequest', new ccxt.BadRequest('bad'), 'rejected'],
    ['BadSymbol', new ccxt.BadSymbol('no such symbol'), 'rejected'],
    ['AuthenticationError', new ccxt.AuthenticationError('bad key'), 'rejected'],
    ['OrderNotFound', new ccxt.OrderNotFound('unknown order'), 'not_found'],
    ['DuplicateOrderId', new ccxt.DuplicateOrderId('id taken'), 'unreachable'],
    ['BadResponse', new ccxt.BadResponse('garbage'), 'malformed'],
    ['NullResponse', new ccxt.NullResponse('nothing'), 'malformed'],
    ['ExchangeError', new ccxt.ExchangeError('something'), 'unreachable'],
    ['SyntaxError', new SyntaxError('Unexpected token'), 'malformed'],
    ['TypeError', new TypeError("Cannot read properties of undefined (reading 'symbol')"), 'malformed'],
  ])('%s is %s', (_name, error, kind) => {
    expect(ccxtFailureOf(ccxt, error)).toBe(kind);
  });

  it('an ExternalError (a timeout from the guard’s signal) keeps its kind', () => {
    expect(ccxtFailureOf(ccxt, new ExternalError('timed out', 'timeout'))).toBe('timeout');
  });

  it('the port’s error names the call and the class; an unknown order becomes rejected (for a cancel)', () => {
    const e = toExternalError(ccxt, 'binance cancelOrder(pt1)', new ccxt.OrderNotFound('binance {"code":-2011}'), []);
    expect(e).toBeInstanceOf(ExternalError);
    expect([e.failure, e.message]).toEqual(['rejected', 'binance cancelOrder(pt1) failed (OrderNotFound): binance {"code":-2011}']);
  });

  it('messages lose every secret, keep their first line only, and stay short', () => {
    expect(redactedMessage(new Error('key K3y and K3y, secret S3c\nsecond line'), ['K3y', 'S3c'])).toBe('key *** and ***, secret ***');
    expect(redactedMessage(new Error('x'.repeat(500)), [])).toHaveLength(300);
  });
});
