import type { RecordedEvent } from '../../src/events/index.js';
import type { ExternalSystem } from '../../src/reconcile/index.js';
import { SimulatedExchange, type FaultRates } from '../../src/reconcile/index.js';
import { MemoryEventStore, readAllEvents, type EventStore } from '../../src/store/index.js';
import { openTracker, type OpenTrackerOptions, type Tracker } from '../../src/tracker/index.js';

/*
 * A small world for reconciliation tests: a simulated clock, an in-memory log, a tracker
 * over it and a seeded simulated exchange that shares the clock.
 */

export const START = Date.parse('2026-01-05T12:00:00.000Z');

/** A book loose enough that risk rules never get in the way of a reconciliation test. */
export const LOOSE_BOOK = {
  book: 'main',
  minPositionValue: 5,
  maxPositions: 50,
  rejectDuplicateSymbol: false,
  maxGroupRiskPct: null,
  dailyLossLimitPct: null,
  maxConsecutiveLossesPerSymbol: null,
} satisfies OpenTrackerOptions;

export interface World {
  clock: { now: number };
  now: () => Date;
  /** Moves the clock on. */
  advance(seconds: number): void;
  store: MemoryEventStore;
  tracker: Tracker;
  exchange: SimulatedExchange;
}

export async function openWorld(
  options: { seed?: number; lagSeconds?: number; faults?: Partial<FaultRates>; latencyMs?: number; book?: OpenTrackerOptions } = {},
): Promise<World> {
  const clock = { now: START };
  const now = (): Date => new Date(clock.now);
  const store = new MemoryEventStore({ now });
  const tracker = await openTracker({ ...LOOSE_BOOK, ...options.book, store, now });
  const exchange = new SimulatedExchange({
    seed: options.seed ?? 1,
    clock: now,
    ...(options.lagSeconds === undefined ? {} : { lagSeconds: options.lagSeconds }),
    ...(options.faults === undefined ? {} : { faults: options.faults }),
    ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
  });
  return { clock, now, advance: (s) => (clock.now += s * 1000), store, tracker, exchange };
}

/** The bot's way to open a position: the book first, then the order fills outside at the exchange's price. */
export async function botEnters(w: World, id: string, symbol: string, quantity: number): Promise<number> {
  const price = w.exchange.price(symbol);
  const value = Math.round(quantity * price * 100) / 100;
  await w.tracker.track(id, { symbol, side: 'long' });
  await w.tracker.enter(id, { value, quantity, price });
  w.exchange.fill(id, { symbol, side: 'long', quantity });
  return value;
}

/** The bot's way to close: outside first, then the book. */
export async function botExits(w: World, id: string): Promise<void> {
  const value = w.exchange.closeByBot(id);
  await w.tracker.exit(id, { value });
}

export async function allEvents(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const e of readAllEvents(store)) events.push(e);
  return events;
}

/** The events appended after `position`. */
export async function eventsAfter(store: EventStore, position: number): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const e of readAllEvents(store, { fromPosition: position })) events.push(e);
  return events;
}

/** The exchange behind an adapter without `getPosition`: phantoms are confirmed by looks only. */
export function withoutDirectLook(exchange: ExternalSystem): ExternalSystem {
  return {
    ...(exchange.positionMode === undefined ? {} : { positionMode: exchange.positionMode }),
    listPositions: (o) => exchange.listPositions(o),
    closePosition: (id, o) => exchange.closePosition(id, o),
  };
}

/** Counts the calls made to an adapter. */
export function counting(system: ExternalSystem): { system: ExternalSystem; calls: { list: number; get: number; close: string[] } } {
  const calls = { list: 0, get: 0, close: [] as string[] };
  const counted: ExternalSystem = {
    listPositions: (o) => {
      calls.list += 1;
      return system.listPositions(o);
    },
    closePosition: (id, o) => {
      calls.close.push(id);
      return system.closePosition(id, o);
    },
  };
  if (system.getPosition) {
    const get = system.getPosition.bind(system);
    counted.getPosition = (id, o) => {
      calls.get += 1;
      return get(id, o);
    };
  }
  return { system: counted, calls };
}

/** Resolves after `ms` (real time). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
