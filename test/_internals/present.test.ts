import { describe, expect, it } from 'vitest';
import { lastOf, present } from '../../src/_internals/present.js';

describe('present / lastOf', () => {
  it('hands back a value that is there, falsy ones included', () => {
    expect(present(0, 'n')).toBe(0);
    expect(present('', 's')).toBe('');
    expect(present(null, 'x')).toBeNull();
    expect(lastOf([1, 2, 3], 'number')).toBe(3);
  });
  it('stops at the spot, naming what is missing', () => {
    expect(() => present(undefined, 'the head row')).toThrow('internal error: the head row is missing');
    expect(() => lastOf([], 'appended position')).toThrow('internal error: the last appended position is missing');
  });
});
