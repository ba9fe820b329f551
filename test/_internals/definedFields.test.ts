import { describe, expect, expectTypeOf, it } from 'vitest';
import { definedFields } from '../../src/_internals/definedFields.js';

/* #16.7 Optional fields without the spreading ceremony. */

describe('#16.7 definedFields', () => {
  it('leaves out the keys whose value is undefined, and keeps null, 0, false and ""', () => {
    const out = definedFields({ a: 1, b: undefined, c: null, d: 0, e: false, f: '' });
    expect(out).toStrictEqual({ a: 1, c: null, d: 0, e: false, f: '' });
    expect('b' in out).toBe(false);
  });

  it('so an undefined value never overrides a default in a later spread', () => {
    const reason: string | undefined = undefined as string | undefined;
    expect({ reason: 'default', ...definedFields({ reason }) }).toStrictEqual({ reason: 'default' });
  });

  it('keeps a key that is never undefined required, and makes one that may be optional without undefined', () => {
    const out = definedFields({ id: 'a', seconds: undefined as number | undefined });
    expectTypeOf(out.id).toEqualTypeOf<string>();
    expectTypeOf(out).toEqualTypeOf<{ id: string } & { seconds?: number }>();
    expect(out).toStrictEqual({ id: 'a' });
  });
});
