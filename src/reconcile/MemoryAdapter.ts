/*
 * An outside system held in memory, for users' own tests (the seed's `MockAPIAdapter`): positions
 * set, removed and listed by hand, closes recorded, failures on demand.
 */
import type { z } from 'zod';
import { ExternalError, type ExternalFailure } from '../errors/index.js';
import { parseOrThrow } from '../_internals/zodIssues.js';
import {
  ExternalPosition,
  PositionMode,
  type ClosePositionOptions,
  type ExternalCallOptions,
  type ExternalSystem,
} from './externalSystem.js';

export interface MemoryAdapterOptions {
  /** The positions it starts with (each parsed like an adapter's answer). */
  positions?: readonly z.input<typeof ExternalPosition>[];
  /** How it keys positions (default `per-id`: the id is the book's position id). */
  positionMode?: PositionMode;
  /**
   * Whether it answers direct looks (`getPosition`). Default true: a phantom is then confirmed by
   * one direct look; false (the seed's mock: a list and closes only) needs `phantomConfirmLooks` runs.
   */
  directLook?: boolean;
}

/**
 * An in-memory {@link ExternalSystem}: what `set` / `remove` put there is what `listPositions`
 * answers; `closePosition` takes a position away (or, with `quantity`, that much of it) and records
 * the close in `closes`; closing what is not open is ExternalError `rejected`. `failWith(kind)` makes
 * every call fail with that kind until `failWith(null)`. Answers are copies: what a caller holds never
 * changes under it.
 *
 * @example
 * ```ts
 * const venue = new MemoryAdapter({ positions: [{ id: 'AAPL-1', symbol: 'AAPL', value: 1000 }] });
 * venue.set({ id: 'ORPHAN-1', symbol: 'MSFT', value: 500 });
 * venue.remove('AAPL-1');
 * const report = await reconcile({ handler: tracker.handler, external: venue });
 * ```
 */
export class MemoryAdapter implements ExternalSystem {
  readonly positionMode: PositionMode;
  /** Direct look; absent when made with `directLook: false`. */
  readonly getPosition?: (id: string, options: ExternalCallOptions) => Promise<ExternalPosition | null>;
  private readonly held = new Map<string, ExternalPosition>();
  private readonly closed: { id: string; quantity?: number }[] = [];
  private failure: ExternalFailure | null = null;
  private count = 0;

  constructor(options: MemoryAdapterOptions = {}) {
    this.positionMode = parseOrThrow(PositionMode, options.positionMode ?? 'per-id', 'MemoryAdapter positionMode');
    for (const p of options.positions ?? []) this.set(p);
    if (options.directLook !== false) {
      this.getPosition = (id) => this.answer(`getPosition(${id})`, () => this.copy(this.held.get(id)));
    }
  }

  /** Opens or replaces the position with this id (parsed: a bad one is a ValidationError naming the field). */
  set(position: z.input<typeof ExternalPosition>): this {
    const parsed = parseOrThrow(ExternalPosition, position, 'MemoryAdapter position');
    this.held.set(parsed.id, parsed);
    return this;
  }

  /** Takes a position away as if closed outside (by hand, a stop-out); true when it was there. */
  remove(id: string): boolean {
    return this.held.delete(id);
  }

  /** What it holds now (copies). */
  positions(): ExternalPosition[] {
    return [...this.held.values()].map((p) => structuredClone(p));
  }

  /** The closes asked of it, in order (`quantity` when only part was to be closed). */
  get closes(): readonly { id: string; quantity?: number }[] {
    return this.closed.map((c) => ({ ...c }));
  }

  /** How many calls it answered or failed. */
  get calls(): number {
    return this.count;
  }

  /** Every call fails with this kind from now on (ExternalError), until `failWith(null)`. */
  failWith(failure: ExternalFailure | null): this {
    this.failure = failure;
    return this;
  }

  listPositions(_options?: ExternalCallOptions): Promise<ExternalPosition[]> {
    return this.answer('listPositions', () => this.positions());
  }

  closePosition(id: string, options: Partial<ExternalCallOptions> & ClosePositionOptions = {}): Promise<void> {
    return this.answer(`closePosition(${id})`, () => {
      const p = this.held.get(id);
      if (p === undefined) throw new ExternalError(`closePosition(${id}): not open`, 'rejected');
      const { quantity } = options;
      if (quantity === undefined || p.quantity === undefined || quantity >= p.quantity - 1e-12) {
        this.held.delete(id);
      } else {
        const left = p.quantity - quantity;
        this.held.set(id, { ...p, quantity: left, value: (p.value * left) / p.quantity });
      }
      this.closed.push(quantity === undefined ? { id } : { id, quantity });
    });
  }

  private copy(p: ExternalPosition | undefined): ExternalPosition | null {
    return p === undefined ? null : structuredClone(p);
  }

  private answer<T>(operation: string, run: () => T): Promise<T> {
    this.count += 1;
    if (this.failure !== null)
      return Promise.reject(new ExternalError(`${operation}: ${this.failure} (MemoryAdapter.failWith)`, this.failure));
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
