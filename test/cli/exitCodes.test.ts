import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeOf } from '../../src/cli/exitCodes.js';
import * as api from '../../src/index.js';
import { MigrationConflictError } from '../../src/store/index.js';
import {
  ConcurrencyError,
  CorruptionError,
  ExternalError,
  StoreError,
  StoreUnavailableError,
  TrackerError,
  UnexpectedStoreError,
  ValidationError,
} from '../../src/errors/index.js';

describe('the one table from error code to exit code', () => {
  it('splits the store error by what happened', () => {
    expect(exitCodeOf(new StoreError('bad path'))).toBe(ExitCode.badInput);
    expect(exitCodeOf(new StoreUnavailableError('down'))).toBe(ExitCode.external);
    expect(exitCodeOf(new UnexpectedStoreError('driver'))).toBe(ExitCode.unexpected);
    expect(exitCodeOf(new MigrationConflictError('disagree', []))).toBe(ExitCode.corruption);
    expect(new StoreUnavailableError('down')).toBeInstanceOf(StoreError);
    expect(new StoreUnavailableError('down').code).toBe('STORE_UNAVAILABLE');
    expect(new UnexpectedStoreError('x').code).toBe('STORE_UNEXPECTED');
  });
  it('maps the other families and anything else to unexpected', () => {
    expect(exitCodeOf(new ValidationError('v'))).toBe(2);
    expect(exitCodeOf(new ConcurrencyError('s', 1, 2))).toBe(3);
    expect(exitCodeOf(new CorruptionError('c'))).toBe(4);
    expect(exitCodeOf(new ExternalError('e', 'timeout'))).toBe(5);
    expect(exitCodeOf(new Error('plain'))).toBe(1);
    class Odd extends TrackerError {
      readonly code = '__proto__' as never;
    }
    expect(exitCodeOf(new Odd('odd'))).toBe(1);
  });
  it('no error carries an exit code, and the public API still exports the table', () => {
    expect('exitCode' in new StoreUnavailableError('down')).toBe(false);
    expect(api.ExitCode).toBe(ExitCode);
    expect(api.exitCodeOf).toBe(exitCodeOf);
  });
});
