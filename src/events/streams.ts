import { z } from 'zod';
import { parseOrThrow } from '../_internals/zodIssues.js';

export const STREAM_PREFIX = 'tradelog-';

/** A book's name: letters, digits and `_ . : -`, 1 to 100 characters. */
export const BookId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, 'must be 1-100 letters, digits or _ . : - (starting with a letter or digit)');

/**
 * The one helper that names streams: one book = one stream `tradelog-<bookId>`. A bad book
 * name is a ValidationError naming it.
 *
 * @example
 * ```ts
 * bookStream('main') // 'tradelog-main'
 * ```
 */
export function bookStream(bookId: string): string {
  return `${STREAM_PREFIX}${parseOrThrow(BookId, bookId, '', { at: 'book' })}`;
}

/** The book id of a trade-log stream name, or null for another stream. */
export function bookOfStream(stream: string): string | null {
  return stream.startsWith(STREAM_PREFIX) ? stream.slice(STREAM_PREFIX.length) : null;
}
