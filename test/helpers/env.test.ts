import { afterEach, describe, expect, it } from 'vitest';
import { intFromEnv } from './env.js';

const NAME = 'PTRACK_TEST_INT_FROM_ENV';

describe('intFromEnv', () => {
  afterEach(() => {
    delete process.env[NAME];
  });

  it('reads an integer, and falls back when the variable is unset or blank', () => {
    expect(intFromEnv(NAME, 7)).toBe(7);
    process.env[NAME] = '  ';
    expect(intFromEnv(NAME, 7)).toBe(7);
    process.env[NAME] = '-42';
    expect(intFromEnv(NAME, 7)).toBe(-42);
  });

  it('refuses anything but a safe integer, naming the variable and the value', () => {
    for (const raw of ['1.5', 'abc', '9007199254740993']) {
      process.env[NAME] = raw;
      expect(() => intFromEnv(NAME, 7)).toThrow(`${NAME} must be an integer, got "${raw}"`);
    }
  });
});
