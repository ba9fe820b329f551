import fc from 'fast-check';
import { BookPolicy, decide, evolve, initialBookState, parseCommand, type BookState, type CommandInput } from '../../src/commands/index.js';
import {
  bookStream,
  CURRENT_SCHEMA_VERSION,
  type EventData,
  type EventType,
  type NewEvent,
  type RecordedEvent,
} from '../../src/events/index.js';
import { canonicalJson } from '../../src/projections/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { intFromEnv } from '../helpers/env.js';

/*
 * Building blocks for the projection tests: events written as facts (for specifications),
 * and random valid logs made by the real decider (for properties).
 */

export { intFromEnv };

/** The property tests' seed: pinned, printed, and overridable (PTRACK_FC_SEED). */
export const SEED = intFromEnv('PTRACK_FC_SEED', 20_261_121);

// ---------------------------------------------------------------------------------------
// Specifications: `at(...)` events, recorded in order with positions and revisions.
// ---------------------------------------------------------------------------------------

/** A fact for a specification: the data without `source` (always 'local'), a time, and a book. */
export interface Fact {
  type: EventType;
  data: Record<string, unknown>;
  at: string;
  book?: string;
  /** A stream that is not a book's (default: the book's). */
  stream?: string;
  /** Who wrote it (default local). */
  source?: 'local' | 'reconcile' | 'recovery';
}

export function fact<T extends EventType>(type: T, data: Omit<EventData<T>, 'source'>, at: string, book = 'main'): Fact {
  return { type, data: data as Record<string, unknown>, at, book };
}

/** Facts as the store would give them back: positions from 1, revisions per stream from 0. */
export function recorded(facts: readonly Fact[]): RecordedEvent[] {
  const revisions = new Map<string, number>();
  return facts.map((f, i) => {
    const stream = f.stream ?? bookStream(f.book ?? 'main');
    const revision = (revisions.get(stream) ?? -1) + 1;
    revisions.set(stream, revision);
    return {
      type: f.type,
      data: { ...f.data, source: f.source ?? 'local' },
      metadata: { recordedAt: f.at, schemaVersion: CURRENT_SCHEMA_VERSION[f.type] },
      stream,
      revision,
      position: i + 1,
    } as RecordedEvent;
  });
}

/** `minutes` after 2026-01-05T10:00Z (a Monday), as ISO. */
export function t(minutes: number): string {
  return new Date(Date.parse('2026-01-05T10:00:00.000Z') + minutes * 60_000).toISOString();
}

/** A value as the files hold it (canonical JSON read back), for comparisons that -0 or key order must not upset. */
export function asStored<T>(value: T): T {
  return JSON.parse(canonicalJson(value)) as T;
}

/** A read model's data without the persisted fold (the specifications look at what bots read). */
export function view(data: unknown): Record<string, unknown> {
  const { fold: _fold, ...rest } = asStored(data) as Record<string, unknown>;
  return rest;
}

// ---------------------------------------------------------------------------------------
// Random valid logs: commands run through the real decider, over two books and a stream
// that belongs to no book, with a clock that moves by minutes to days.
// ---------------------------------------------------------------------------------------

export const policy = BookPolicy.parse({
  maxPositions: 4,
  minPositionValue: 1,
  maxGroupRiskPct: null,
  dailyLossLimitPct: 8,
  circuitBreakerSeconds: 3 * 3600,
  maxConsecutiveLossesPerSymbol: 2,
  cooldownSeconds: 1800,
  exitedCleanupSeconds: 600,
  skipCleanupSeconds: 600,
  correlationGroups: { crypto: ['BTC', 'ETH'] },
  idempotencyWindow: 1000,
});

const BOOKS = ['alpha', 'beta'] as const;
const IDS = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
const SYMBOLS = ['BTC', 'ETH', 'SOL', 'AAPL', 'MSFT'] as const;
const SETUPS = ['breakout', 'dip', 'trend'] as const;

type Status = 'WATCHING' | 'IN' | 'EXITED' | 'SKIPPED' | 'UNKNOWN';

/**
 * A command aimed at the book as it is when it runs: `pick` chooses among the positions in
 * the state the command needs (so most commands are valid), falling back to any id.
 */
interface Aim {
  verb:
    | 'Track'
    | 'Enter'
    | 'Hold'
    | 'Monitor'
    | 'Exit'
    | 'PartialExit'
    | 'Skip'
    | 'AdoptOrphan'
    | 'Archive'
    | 'ArchiveDue'
    | 'Trip'
    | 'Reset'
    | 'Cooldown'
    | 'DetectOrphan'
    | 'CloseOrphan'
    | 'SuspectPhantom'
    | 'DismissPhantom'
    | 'ClearPhantom'
    | 'CorrectDrift'
    | 'Reconciled'
    | 'Heartbeat'
    | OrderVerb;
  pick: number;
  /** A multiplier around 1 for values (exits, holds, drift), or a base value. */
  factor: number;
  value: number;
  symbol: (typeof SYMBOLS)[number] | undefined;
  setup: (typeof SETUPS)[number] | undefined;
  side: 'long' | 'short';
  small: number;
}

/** The order commands, drawn only by {@link stepsWithOrders} (so `steps` makes the logs it always made). */
type OrderVerb =
  | 'OrderEntry'
  | 'OrderReduce'
  | 'OrderAccept'
  | 'OrderFill'
  | 'OrderCancel'
  | 'OrderCanceled'
  | 'OrderReject'
  | 'OrderExpire'
  | 'OrderLost'
  | 'OrderLook'
  | 'ExternalDetect'
  | 'ExternalCancel'
  | 'ExternalAdopt';

export type Step = { kind: 'command'; book: (typeof BOOKS)[number]; aim: Aim } | { kind: 'clock'; seconds: number } | { kind: 'foreign' };

const verbs: [Aim['verb'], number][] = [
  ['Track', 6],
  ['Enter', 8],
  ['Hold', 3],
  ['Monitor', 1],
  ['Exit', 6],
  ['PartialExit', 2],
  ['Skip', 1],
  ['AdoptOrphan', 2],
  ['Archive', 1],
  ['ArchiveDue', 2],
  ['Trip', 1],
  ['Reset', 2],
  ['Cooldown', 1],
  ['DetectOrphan', 3],
  ['CloseOrphan', 2],
  ['SuspectPhantom', 3],
  ['DismissPhantom', 1],
  ['ClearPhantom', 2],
  ['CorrectDrift', 2],
  ['Reconciled', 1],
  ['Heartbeat', 1],
];

const orderVerbs: [Aim['verb'], number][] = [
  ['OrderEntry', 8],
  ['OrderReduce', 3],
  ['OrderAccept', 5],
  ['OrderFill', 8],
  ['OrderCancel', 2],
  ['OrderCanceled', 2],
  ['OrderReject', 1],
  ['OrderExpire', 1],
  ['OrderLost', 1],
  ['OrderLook', 2],
  ['ExternalDetect', 3],
  ['ExternalCancel', 1],
  ['ExternalAdopt', 2],
];

const aimOf = (weighted: readonly [Aim['verb'], number][]): fc.Arbitrary<Aim> =>
  fc.record({
    verb: fc.oneof(...weighted.map(([verb, weight]) => ({ weight, arbitrary: fc.constant(verb) }))),
    pick: fc.nat(1000),
    factor: fc.integer({ min: 70, max: 140 }).map((n) => n / 100),
    value: fc.integer({ min: 50, max: 3000 }),
    symbol: fc.option(fc.constantFrom(...SYMBOLS), { nil: undefined, freq: 6 }),
    setup: fc.option(fc.constantFrom(...SETUPS), { nil: undefined, freq: 4 }),
    side: fc.constantFrom('long' as const, 'short' as const),
    small: fc.integer({ min: 1, max: 4 }),
  });

const stepsOf = (aim: fc.Arbitrary<Aim>): fc.Arbitrary<Step[]> =>
  fc.array(
    fc.oneof(
      {
        weight: 14,
        arbitrary: fc.record({ book: fc.constantFrom(...BOOKS), aim }).map((a): Step => ({ kind: 'command', book: a.book, aim: a.aim })),
      },
      // Minutes to two days: days, weeks, cooldowns and breakers all come and go.
      {
        weight: 4,
        arbitrary: fc
          .oneof(fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 3600, max: 2 * 86_400 }))
          .map((seconds): Step => ({ kind: 'clock', seconds })),
      },
      { weight: 1, arbitrary: fc.constant<Step>({ kind: 'foreign' }) },
    ),
    { minLength: 10, maxLength: 200, size: 'medium' },
  );

export const steps: fc.Arbitrary<Step[]> = stepsOf(aimOf(verbs));

/** Random logs with orders too: requests, acknowledgements, fills (trade ids repeat), cancels, rejections, losses. */
export const stepsWithOrders: fc.Arbitrary<Step[]> = stepsOf(aimOf([...verbs, ...orderVerbs]));

function statusOf(state: BookState, id: string): Status {
  return state.positions.get(id)?.status ?? 'UNKNOWN';
}

/** The command an aim makes against this book, or null when nothing fits. */
function commandFor(a: Aim, state: BookState): CommandInput | null {
  const among = (want: readonly Status[]): string | undefined => {
    const fits = IDS.filter((id) => want.includes(statusOf(state, id)));
    return fits.length === 0 ? undefined : fits[a.pick % fits.length];
  };
  const inPosition = (): { id: string; value: number } | null => {
    const id = among(['IN']);
    const p = id === undefined ? undefined : state.positions.get(id);
    return p?.status === 'IN' ? { id: p.id, value: p.value } : null;
  };
  const round = (n: number): number => Math.max(1, Math.round(n * 100) / 100);
  switch (a.verb) {
    case 'Track': {
      const id = among(['UNKNOWN']);
      return id === undefined
        ? null
        : {
            type: 'Track',
            positionId: id,
            side: a.side,
            ...(a.symbol ? { symbol: a.symbol } : {}),
            ...(a.setup ? { setup: a.setup } : {}),
          };
    }
    case 'Enter': {
      const id = among(['WATCHING']);
      if (id === undefined) return null;
      const quantity = a.small * 2;
      return {
        type: 'Enter',
        positionId: id,
        value: a.value,
        ...(a.pick % 2 === 0 ? { quantity, price: a.value / quantity, stop: (a.value / quantity) * 0.9 } : {}),
      };
    }
    case 'Hold':
    case 'Exit':
    case 'PartialExit':
    case 'CorrectDrift': {
      const p = inPosition();
      if (p === null) return null;
      const value = round(p.value * a.factor);
      if (a.verb === 'Hold') return { type: 'Hold', positionId: p.id, value };
      if (a.verb === 'CorrectDrift') return { type: 'CorrectDrift', positionId: p.id, externalValue: value };
      return { type: 'Exit', positionId: p.id, value, ...(a.verb === 'PartialExit' ? { fraction: a.small / 5 } : {}) };
    }
    case 'Monitor':
    case 'Skip': {
      const id = among(['WATCHING']);
      if (id === undefined) return null;
      return a.verb === 'Monitor'
        ? { type: 'Monitor', positionId: id, value: a.value }
        : { type: 'Skip', positionId: id, reason: 'no edge' };
    }
    case 'AdoptOrphan': {
      const orphans = [...state.orphans.keys()].filter((id) => statusOf(state, id) === 'UNKNOWN');
      const id = orphans.length > 0 ? orphans[a.pick % orphans.length] : among(['UNKNOWN']);
      return id === undefined
        ? null
        : {
            type: 'AdoptOrphan',
            positionId: id,
            value: state.orphans.get(id)?.value ?? a.value,
            ...(a.symbol ? { symbol: a.symbol } : {}),
            setup: 'adopted',
          };
    }
    case 'Archive': {
      const id = among(['EXITED', 'SKIPPED', 'WATCHING']);
      return id === undefined ? null : { type: 'Archive', positionId: id };
    }
    case 'ArchiveDue':
      return { type: 'Archive' };
    case 'Trip':
      return { type: 'TripCircuitBreaker', reason: 'manual', ...(a.pick % 3 === 0 ? {} : { seconds: 600 * a.small }) };
    case 'Reset':
      return { type: 'ResetCircuitBreaker' };
    case 'Cooldown':
      return { type: 'StartCooldown', symbol: a.symbol ?? 'BTC', seconds: 900 };
    case 'DetectOrphan': {
      const id = among(['UNKNOWN', 'EXITED', 'SKIPPED', 'WATCHING']);
      return id === undefined
        ? null
        : { type: 'DetectOrphan', positionId: id, value: a.value, ...(a.symbol ? { symbol: a.symbol } : {}), runId: `run-${a.small}` };
    }
    case 'CloseOrphan': {
      const orphans = [...state.orphans.keys()].filter((id) => statusOf(state, id) !== 'IN');
      const id = orphans.length > 0 ? orphans[a.pick % orphans.length]! : among(['UNKNOWN']);
      return id === undefined
        ? null
        : { type: 'CloseOrphan', positionId: id, value: round((state.orphans.get(id)?.value ?? a.value) * a.factor) };
    }
    case 'SuspectPhantom':
    case 'DismissPhantom':
    case 'ClearPhantom': {
      const p = inPosition();
      if (p === null) return null;
      if (a.verb === 'SuspectPhantom') {
        const looks = (state.positions.get(p.id) as { missedLooks: number }).missedLooks + 1;
        return { type: 'SuspectPhantom', positionId: p.id, looks, runId: `run-${a.small}` };
      }
      return a.verb === 'DismissPhantom'
        ? { type: 'DismissPhantom', positionId: p.id }
        : { type: 'ClearPhantom', positionId: p.id, looks: 3, reason: 'not found outside' };
    }
    case 'Reconciled':
      return {
        type: 'CompleteReconciliation',
        runId: `run-${a.pick}`,
        startedAt: '2026-01-05T07:00:00.000Z',
        counts: { orphans: state.orphans.size, phantoms: 0, drift: 0, corrected: 0, alerts: 0, errors: 0 },
        report: { pick: a.pick },
      };
    case 'Heartbeat':
      return { type: 'RecordHeartbeat', process: 'bot' };
    case 'OrderEntry':
    case 'OrderReduce': {
      const entry = a.verb === 'OrderEntry';
      const id = entry ? among(['WATCHING', 'IN', 'UNKNOWN']) : among(['IN']);
      if (id === undefined) return null;
      const p = state.positions.get(id);
      return {
        type: 'RequestOrder',
        commandId: `c-${state.revision}-${a.pick}`,
        positionId: id,
        intent: entry ? 'entry' : 'reduce',
        quantity: a.small,
        ...(a.pick % 3 === 0 ? { orderType: 'limit' as const, limitPrice: a.value / 10 } : { referencePrice: a.value / 10 }),
        ...(p === undefined ? { symbol: a.symbol ?? 'BTC', side: a.side } : {}),
      };
    }
    case 'OrderAccept':
    case 'OrderFill':
    case 'OrderCancel':
    case 'OrderCanceled':
    case 'OrderReject':
    case 'OrderExpire':
    case 'OrderLost':
    case 'OrderLook': {
      const ids = [...state.orders.keys()];
      if (ids.length === 0) return null;
      const clientOrderId = ids[a.pick % ids.length]!;
      const order = state.orders.get(clientOrderId)!;
      const commandId = `c-${state.revision}-${a.pick}`;
      switch (a.verb) {
        case 'OrderAccept':
          return { type: 'RecordOrderAccepted', commandId, clientOrderId, externalOrderId: `x-${clientOrderId}` };
        case 'OrderFill': {
          // Trade ids repeat across runs of the same order (a repeated report), and fills may be partial.
          const rest = order.quantity - order.filledQuantity;
          const quantity = a.pick % 2 === 0 ? rest : Math.min(rest, order.quantity / a.small);
          if (!(quantity > 0)) return null;
          return {
            type: 'RecordFill',
            commandId,
            clientOrderId,
            tradeId: `tr-${clientOrderId}-${a.pick % 3}`,
            quantity,
            price: round(a.value / 10),
            fee: a.small / 10,
          };
        }
        case 'OrderCancel':
          return { type: 'CancelOrder', commandId, clientOrderId };
        case 'OrderCanceled':
          return { type: 'RecordOrderCanceled', commandId, clientOrderId };
        case 'OrderReject':
          return { type: 'RecordOrderRejected', commandId, clientOrderId, reason: 'refused by the venue' };
        case 'OrderExpire':
          return { type: 'RecordOrderExpired', commandId, clientOrderId };
        case 'OrderLost':
          return { type: 'RecordOrderLost', commandId, clientOrderId, looks: 3, reason: 'not found' };
        case 'OrderLook':
          return { type: 'RecordOrderLook', commandId, clientOrderId, found: a.pick % 4 === 0 };
      }
    }
    case 'ExternalDetect':
      // A few venue ids, so detections repeat (nothing twice while open) and come back after a cancel.
      return {
        type: 'DetectExternalOrder',
        externalOrderId: `V-${a.pick % 5}`,
        ...(a.pick % 2 === 0 ? { clientOrderId: `desk-${a.pick % 5}` } : {}),
        symbol: a.symbol ?? 'BTC',
        side: a.side === 'long' ? 'buy' : 'sell',
        quantity: a.small,
        filledQuantity: 0,
        price: round(a.value / 10),
      };
    case 'ExternalCancel':
    case 'ExternalAdopt': {
      const seen = [...state.externalOrders.values()];
      if (seen.length === 0) return null;
      const o = seen[a.pick % seen.length]!;
      if (a.verb === 'ExternalCancel')
        return { type: 'RecordExternalOrderCanceled', externalOrderId: o.externalOrderId, filledQuantity: 0 };
      return {
        type: 'AdoptExternalOrder',
        externalOrderId: o.externalOrderId,
        ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
        symbol: o.symbol,
        side: o.side,
        quantity: o.quantity,
        limitPrice: round(a.value / 10),
        // Reduce-only now and then: adopted for the one IN position it closes, else refused.
        reduceOnly: a.pick % 4 === 0,
      };
    }
    default: {
      const _exhaustive: never = a.verb;
      return _exhaustive;
    }
  }
}

/** An event to append, with its stream. */
export interface Appendable {
  stream: string;
  event: NewEvent;
}

/**
 * Runs steps through the real decider, book by book, as the command handler would (refused
 * commands append nothing), and returns what to append, in order. Times strictly increase.
 */
export function simulate(run: readonly Step[], start = Date.parse('2026-01-05T08:00:00.000Z')): Appendable[] {
  const states = new Map<string, BookState>();
  const out: Appendable[] = [];
  let now = start;
  for (const step of run) {
    if (step.kind === 'clock') {
      now += step.seconds * 1000;
      continue;
    }
    now += 1000;
    const recordedAt = new Date(now).toISOString();
    if (step.kind === 'foreign') {
      out.push({
        stream: 'ops-heartbeats',
        event: { type: 'Heartbeat', data: { at: recordedAt, process: 'ops', source: 'local' }, metadata: { recordedAt } },
      });
      continue;
    }
    let state = states.get(step.book) ?? initialBookState({ idempotencyWindow: policy.idempotencyWindow, timeZone: policy.timeZone });
    const command = commandFor(step.aim, state);
    if (command === null) continue;
    let decided;
    try {
      decided = decide(parseCommand(command), state, { now: new Date(now), policy });
    } catch {
      continue; // refused by a rule: nothing is appended
    }
    for (const e of decided) {
      const event = { ...e, metadata: { recordedAt } } as NewEvent;
      out.push({ stream: bookStream(step.book), event });
      state = evolve(state, { ...(event as RecordedEvent), metadata: { recordedAt, schemaVersion: 1 } });
    }
    states.set(step.book, state);
  }
  return out;
}

/** Appends events one call per event (so each gets its own position), in order. */
export async function appendAll(
  store: MemoryEventStore | { append: MemoryEventStore['append'] },
  events: readonly Appendable[],
): Promise<void> {
  for (const { stream, event } of events) await store.append(stream, [event]);
}

/** A memory store holding `events`, and the events as it gives them back. */
export async function storeWith(events: readonly Appendable[]): Promise<{ store: MemoryEventStore; recorded: RecordedEvent[] }> {
  const store = new MemoryEventStore();
  await appendAll(store, events);
  const recorded = await store.readAll({ fromPosition: 0, limit: 10_000 });
  return { store, recorded };
}

/** A varied log of at least `min` events, the same on every run (sampled runs joined end to end). */
export function sampleLog(min = 150, seed = SEED): Appendable[] {
  const joined: Step[] = [];
  for (const run of fc.sample(steps, { seed, numRuns: 500 })) {
    joined.push(...run);
    const events = simulate(joined);
    if (events.length >= min) return events;
  }
  throw new Error(`no sample of ${min} events`);
}
