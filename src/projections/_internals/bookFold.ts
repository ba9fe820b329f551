import {
  bookStateFromJson,
  bookStateToJson,
  evolve,
  initialBookState,
  pnlOf,
  type BookLimits,
  type BookState,
  type BookStateJson,
  type Position,
} from '../../commands/index.js';
import { bookOfStream, type RecordedEvent } from '../../events/index.js';
import { recordFrom } from '../../_internals/records.js';

/*
 * Every read model needs the positions as the book sees them (which setup an exit belongs
 * to, what is open and at what risk). Rather than a second copy of the state machine, the
 * projections fold the book's own `evolve`, one BookState per book, and persist it in the
 * book's own snapshot form so a projection can resume from its checkpoint.
 *
 * The fold keeps no command ids (idempotency window 0): they change nothing a read model shows.
 */

/** The books of the log, by book id, as the decider's `evolve` folds them. */
export type Books = Map<string, BookState>;

/** The books as a read model reading the book stage sees them. */
export type ReadonlyBooks = ReadonlyMap<string, BookState>;

/** What one event did to the book it belongs to. */
export interface FoldStep {
  book: string;
  state: BookState;
  /** The position the event is about (by `positionId`), before and after it; undefined when none. */
  before: Position | undefined;
  after: Position | undefined;
}

export function foldLimits(timeZone: string): BookLimits {
  return { idempotencyWindow: 0, timeZone };
}

function positionIdOf(event: RecordedEvent): string | undefined {
  const d = event.data as { positionId?: unknown };
  return typeof d.positionId === 'string' ? d.positionId : undefined;
}

/**
 * The books folded so far. Read models that stand at the same checkpoint may share one (the
 * runner arranges it): the first to see an event folds it, the others get the same step,
 * so the book is folded once per event rather than once per read model.
 */
export class BookFold {
  readonly books: Books;
  /** The last event folded (by global position) and what it did, for the read models sharing this fold. */
  private lastPosition = 0;
  private lastStep: FoldStep | null = null;

  constructor(
    readonly limits: BookLimits,
    books: Books = new Map(),
  ) {
    this.books = books;
  }

  /**
   * Folds one event into its book; null for an event of a stream that is no book's (it is
   * counted by the checkpoint but belongs to no book). The BookState is updated in place.
   */
  apply(event: RecordedEvent): FoldStep | null {
    if (event.position === this.lastPosition && this.lastPosition > 0) return this.lastStep;
    const step = this.fold(event);
    this.lastPosition = event.position;
    this.lastStep = step;
    return step;
  }

  private fold(event: RecordedEvent): FoldStep | null {
    const book = bookOfStream(event.stream);
    if (book === null) return null;
    let state = this.books.get(book);
    if (state === undefined) {
      state = initialBookState(this.limits);
      this.books.set(book, state);
    }
    const id = positionIdOf(event);
    const before = id === undefined ? undefined : state.positions.get(id);
    state = evolve(state, event);
    this.books.set(book, state);
    const after = id === undefined ? undefined : state.positions.get(id);
    return { book, state, before, after };
  }

  /** The books in the book snapshot's JSON form, sorted by book id. */
  toJson(): Record<string, BookStateJson> {
    return recordFrom(sortedEntries(this.books, byKey).map(([id, book]) => [id, bookStateToJson(book)] as const));
  }

  /** Reads the books back; throws on a shape that is not the one `toJson` writes under these limits. */
  static fromJson(json: unknown, limits: BookLimits): BookFold {
    const books: Books = new Map();
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('fold: expected an object of books');
    for (const [id, value] of Object.entries(json as Record<string, unknown>)) {
      const b = value as Partial<BookStateJson> | null;
      if (
        b === null ||
        typeof b !== 'object' ||
        !Array.isArray(b.positions) ||
        typeof b.realizedPnl !== 'number' ||
        b.limits?.timeZone !== limits.timeZone ||
        b.limits.idempotencyWindow !== limits.idempotencyWindow
      ) {
        throw new Error(`fold: book "${id}" is not a folded book of this configuration`);
      }
      books.set(id, bookStateFromJson(b as BookStateJson));
    }
    return new BookFold(limits, books);
  }
}

/** The key of the book stage folded under `limits`: read models with the same key read the same books. */
export function bookStageKey(limits: BookLimits): string {
  return `book-fold:${limits.timeZone}:${limits.idempotencyWindow}`;
}

/** Positions of a book sorted by id (the order read models list them in). */
export function sortedPositions(state: BookState): Position[] {
  return [...state.positions.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Signed P&L of an open position if it were closed at its current value. */
export function unrealizedOf(p: { side: 'long' | 'short'; value: number; costBasis: number }): number {
  return pnlOf(p.side, p.value, p.costBasis);
}

/** The later of two ISO times (null counts as earliest); on a tie, the one already held. */
export function laterOf(a: string | null, b: string): string {
  if (a === null) return b;
  // Fast path: two UTC times in the same format (what toISOString writes) order as strings.
  if (a.length === b.length && a.endsWith('Z') && b.endsWith('Z')) return b > a ? b : a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** Whole and fractional seconds from `from` to `to`, never negative. */
export function secondsFrom(from: string, to: string): number {
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

/** Compares strings by code unit, for stable sorting. */
export function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A map's entries sorted by key (by code unit unless `compare` says otherwise): what the files list in order. */
export function sortedEntries<K, V>(map: ReadonlyMap<K, V>, compare: (a: K, b: K) => number): [K, V][] {
  return [...map.entries()].sort(([a], [b]) => compare(a, b));
}

/**
 * A stored document's data before it is checked: any field may be missing or null (the
 * checksum says the file is whole, not that an older or hand-edited shape is this one).
 */
export type Unchecked<T> = { [K in keyof T]?: T[K] | null } | null;
