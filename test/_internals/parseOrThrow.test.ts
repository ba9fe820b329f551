import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parseOrThrow } from '../../src/_internals/zodIssues.js';
import { ValidationError } from '../../src/errors/index.js';

/* #16.7 The one copy of safeParse -> describe -> throw, and its options. */

const Point = z.object({ x: z.number(), y: z.number() });

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('#16.7 parseOrThrow', () => {
  it('returns the parsed value', () => {
    expect(parseOrThrow(Point, { x: 1, y: 2 }, 'point')).toEqual({ x: 1, y: 2 });
  });

  it('throws a ValidationError naming the label, the field and the value, with the issues', () => {
    const error = thrown(() => parseOrThrow(Point, { x: 1, y: 'two' }, 'point'));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe('point: y: Invalid input: expected number, received string, got "two"');
    expect((error as ValidationError).issues).toEqual([
      { path: 'y', message: 'Invalid input: expected number, received string, got "two"', value: 'two' },
    ]);
  });

  it('`at` names where the input sits, an empty label leaves the issues alone, `hint` is appended', () => {
    const error = thrown(() => parseOrThrow(z.string().min(2, 'too short'), 'a', '', { at: 'book', hint: '(name a book)' }));
    expect((error as ValidationError).message).toBe('book: too short, got "a" (name a book)');
    expect((error as ValidationError).issues[0]?.path).toBe('book');
  });

  it('`error` picks the error class from the message and the issues', () => {
    class Odd extends Error {
      constructor(
        message: string,
        readonly field: string | undefined,
      ) {
        super(message);
      }
    }
    const error = thrown(() =>
      parseOrThrow(Point, { x: null, y: 0 }, 'answer', { at: 'data', error: (message, issues) => new Odd(message, issues[0]?.path) }),
    );
    expect(error).toBeInstanceOf(Odd);
    expect((error as Odd).message).toBe('answer: data.x: Invalid input: expected number, received null, got null');
    expect((error as Odd).field).toBe('data.x');
  });
});
