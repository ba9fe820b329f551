import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BookPolicy,
  bookStateFromJson,
  bookStateToJson,
  decide,
  evolve,
  initialBookState,
  parseCommand,
  type BookState,
  type BookStateJson,
  type CommandInput,
  type DecidedEvent,
  type FoldableEvent,
} from '../../src/commands/index.js';
import { OrderStateError, TrackerError } from '../../src/errors/index.js';
import { bookStream, type NewEvent } from '../../src/events/index.js';
import { MemoryEventStore } from '../../src/store/MemoryEventStore.js';
import { readWholeStream } from '../../src/store/iterate.js';
import { intFromEnv } from '../helpers/env.js';

/*
 * Model-based test of the book's orders: random requests (entries and reduces, signals that
 * repeat), acceptances (some with a conflicting venue id), fills (duplicated, over the
 * quantity, before the acceptance, after a cancel), cancels, rejections, expiries, losses,
 * skips, archiving and restarts (the book refolded from the log, or read back from its
 * snapshot form), against the real decide/evolve with a MemoryEventStore as the log. The model
 * is the venue's ledger: every client order id issued and every fill by trade id. After every
 * step:
 *   - no client order id was issued twice (over the whole log, archived orders included);
 *   - each order's fills are the distinct trades the model saw, and never exceed its quantity;
 *     a fill is accepted, ignored (a known trade id) or refused exactly as the ledger says;
 *   - a position's quantity equals the sum of its orders' fills, entries minus reduces;
 *   - replay of the log equals the live state, and the snapshot form round-trips.
 *
 * Reproduce a failure: PTRACK_FC_SEED=<seed> [PTRACK_FC_RUNS=<n>] npx vitest run test/commands/orders.model.test.ts
 */

const seed = intFromEnv('PTRACK_FC_SEED', 20_261_202);
const numRuns = intFromEnv('PTRACK_FC_RUNS', 150);

const policy = BookPolicy.parse({
  maxPositions: 2,
  minPositionValue: 1,
  maxGroupRiskPct: null,
  dailyLossLimitPct: null,
  maxConsecutiveLossesPerSymbol: null,
  exitedCleanupSeconds: 60,
  skipCleanupSeconds: 60,
  // Small, so signals and command ids are also evicted.
  idempotencyWindow: 5,
});
const limits = { idempotencyWindow: policy.idempotencyWindow, timeZone: policy.timeZone };
const stream = bookStream('model');
const START = Date.parse('2026-01-05T12:00:00.000Z');
const TOLERANCE = 1e-6;

const POSITIONS = ['A', 'B', 'C'] as const;
const SYMBOL: Record<(typeof POSITIONS)[number], string> = { A: 'BTC', B: 'ETH', C: 'BTC' };
const SIGNALS = ['s1', 's2', 's3', 's4'] as const;

// ---------------------------------------------------------------------------------------
// The model: the venue's ledger of orders and trades.
// ---------------------------------------------------------------------------------------

interface LedgerOrder {
  positionId: string;
  intent: 'entry' | 'reduce';
  quantity: number;
  /** Trade id -> quantity, as the venue reported them (each counted once). */
  trades: Map<string, number>;
}

interface Model {
  now: number;
  /** Every client order id the book issued, in order. */
  issued: string[];
  orders: Map<string, LedgerOrder>;
  /** Positions whose book quantity can no longer follow the fills (a fill recorded without moving it); reset when archived. */
  desynced: Set<string>;
  /** Set once a finished entry order filled late: the position cap may then be passed, as the venue did. */
  lateEntry: boolean;
}

const filledOf = (o: LedgerOrder): number => [...o.trades.values()].reduce((a, b) => a + b, 0);

interface Real {
  store: MemoryEventStore;
  state: BookState;
  now: number;
  seq: number;
}

const coverage = new Map<string, number>();
const count = (key: string): void => void coverage.set(key, (coverage.get(key) ?? 0) + 1);
const cloneJson = (json: BookStateJson): BookStateJson => JSON.parse(JSON.stringify(json)) as BookStateJson;

async function replay(store: MemoryEventStore): Promise<BookState> {
  let state = initialBookState(limits);
  for await (const event of readWholeStream(store, stream)) state = evolve(state, event);
  return state;
}

async function checkInvariants(m: Model, r: Real, where: string): Promise<void> {
  const s = r.state;
  expect(new Set(m.issued).size, `${where}: a client order id was issued twice`).toBe(m.issued.length);

  // Fills: the book's sums are the ledger's distinct trades, never beyond the quantity.
  for (const [id, o] of s.orders) {
    const ledger = m.orders.get(id);
    expect(ledger, `${where}: order ${id} unknown to the ledger`).toBeDefined();
    expect(o.filledQuantity, `${where}: ${id} filled beyond its quantity`).toBeLessThanOrEqual(o.quantity * (1 + 1e-9));
    expect(o.filledQuantity, `${where}: ${id} filled vs its trades`).toBeCloseTo(filledOf(ledger!), 9);
    expect([...o.tradeIds].sort(), `${where}: ${id} trade ids`).toEqual([...ledger!.trades.keys()].sort());
    expect(s.liveOrders.has(id), `${where}: ${id} in the live index`).toBe(
      ['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL'].includes(o.status),
    );
  }
  for (const id of s.liveOrders.keys()) expect(s.orders.has(id), `${where}: live index names a missing order ${id}`).toBe(true);

  // A position's quantity is the sum of its orders' fills, entries minus reduces.
  for (const [pid, p] of s.positions) {
    if (m.desynced.has(pid)) continue;
    let net = 0;
    for (const id of s.positionOrders.get(pid) ?? []) {
      const o = s.orders.get(id)!;
      net += o.intent === 'entry' ? o.filledQuantity : -o.filledQuantity;
    }
    if (p.status === 'IN') {
      expect(p.quantity, `${where}: quantity of ${pid}`).toBeDefined();
      expect(Math.abs((p.quantity ?? 0) - net), `${where}: ${pid} holds ${p.quantity}, its fills net ${net}`).toBeLessThan(TOLERANCE);
      count('invariant:IN');
    } else {
      expect(Math.abs(net), `${where}: ${pid} is ${p.status} with fills netting ${net}`).toBeLessThan(TOLERANCE);
    }
  }
  if (!m.lateEntry) expect(s.open, `${where}: positions IN past the cap`).toBeLessThanOrEqual(policy.maxPositions);

  expect(await r.store.streamRevision(stream), `${where}: stream revision vs live revision`).toBe(s.revision);
  const json = bookStateToJson(s);
  expect(bookStateToJson(await replay(r.store)), `${where}: replay of the log vs live state`).toStrictEqual(json);
  expect(bookStateToJson(bookStateFromJson(cloneJson(json))), `${where}: snapshot round trip`).toStrictEqual(json);
}

// ---------------------------------------------------------------------------------------
// Steps.
// ---------------------------------------------------------------------------------------

type Step =
  | { kind: 'Request'; pos: (typeof POSITIONS)[number]; intent: 'entry' | 'reduce'; qty: number; signal?: string; price: number }
  | { kind: 'Accept'; pick: number; ext: string }
  | { kind: 'Fill'; pick: number; ratio: number; dup: boolean; price: number }
  | { kind: 'Cancel' | 'Canceled' | 'Expired' | 'Rejected' | 'Lost'; pick: number }
  | { kind: 'Skip'; pos: (typeof POSITIONS)[number] }
  | { kind: 'ArchiveSweep' };

/** The order a step names: one of those issued (the newest more often), or a name the book never gave. */
function pickOrder(m: Model, pick: number): string {
  if (m.issued.length === 0 || pick % 11 === 10) return 'pt-never-issued';
  return m.issued[m.issued.length - 1 - (pick % Math.min(m.issued.length, 4))]!;
}

function toInput(step: Step, m: Model, r: Real, commandId: string): CommandInput {
  switch (step.kind) {
    case 'Request': {
      // A reduce mostly aims at a position IN, for a share of what is open (a random one mostly finds nothing to reduce).
      let positionId: string = step.pos;
      let quantity = step.qty;
      const open = POSITIONS.filter((p) => r.state.positions.get(p)?.status === 'IN');
      if (step.intent === 'reduce' && open.length > 0 && step.qty <= 4) {
        positionId = open[step.qty % open.length]!;
        quantity = ((r.state.positions.get(positionId) as { quantity?: number }).quantity ?? 1) * (step.qty / 4);
      }
      return {
        type: 'RequestOrder',
        commandId,
        ...(step.signal === undefined ? {} : { signalId: step.signal }),
        positionId,
        intent: step.intent,
        quantity,
        referencePrice: step.price,
        symbol: SYMBOL[positionId as (typeof POSITIONS)[number]],
      };
    }
    case 'Accept':
      return { type: 'RecordOrderAccepted', commandId, clientOrderId: pickOrder(m, step.pick), externalOrderId: step.ext };
    case 'Fill': {
      const id = pickOrder(m, step.pick);
      const ledger = m.orders.get(id);
      const known = ledger === undefined ? [] : [...ledger.trades.keys()];
      const tradeId = step.dup && known.length > 0 ? known[0]! : `t-${r.seq}`;
      const remaining = ledger === undefined ? 1 : ledger.quantity - filledOf(ledger);
      const quantity = step.dup && known.length > 0 ? ledger!.trades.get(tradeId)! : remaining > 0 ? remaining * step.ratio : 1;
      return { type: 'RecordFill', commandId, clientOrderId: id, tradeId, quantity, price: step.price, fee: 0.01 };
    }
    case 'Cancel':
      return { type: 'CancelOrder', commandId, clientOrderId: pickOrder(m, step.pick) };
    case 'Canceled':
      return { type: 'RecordOrderCanceled', commandId, clientOrderId: pickOrder(m, step.pick) };
    case 'Expired':
      return { type: 'RecordOrderExpired', commandId, clientOrderId: pickOrder(m, step.pick) };
    case 'Rejected':
      return { type: 'RecordOrderRejected', commandId, clientOrderId: pickOrder(m, step.pick), reason: 'refused by the venue' };
    case 'Lost':
      return { type: 'RecordOrderLost', commandId, clientOrderId: pickOrder(m, step.pick), looks: 3, reason: 'not found' };
    case 'Skip':
      return { type: 'Skip', commandId, positionId: step.pos };
    case 'ArchiveSweep':
      return { type: 'Archive', commandId };
    default: {
      const _exhaustive: never = step;
      return _exhaustive;
    }
  }
}

/** What the ledger says a fill must do: be recorded, be ignored (a trade id seen), or be refused (and why). */
function ledgerSays(m: Model, r: Real, input: Extract<CommandInput, { type: 'RecordFill' }>): 'record' | 'ignore' | 'refuse' {
  const ledger = m.orders.get(input.clientOrderId);
  if (ledger === undefined) return 'refuse';
  if (ledger.trades.has(input.tradeId)) return 'ignore';
  // A REJECTED order takes no fill: the book's status is the one fact the ledger takes from it.
  if (r.state.orders.get(input.clientOrderId)?.status === 'REJECTED') return 'refuse';
  return filledOf(ledger) + input.quantity > ledger.quantity * (1 + 1e-9) ? 'refuse' : 'record';
}

class OrderStep implements fc.AsyncCommand<Model, Real> {
  constructor(readonly step: Step) {}
  check(): boolean {
    return true;
  }

  async run(m: Model, r: Real): Promise<void> {
    r.seq += 1;
    const commandId = `cmd-${r.seq}`;
    const input = toInput(this.step, m, r, commandId);
    const where = `${this.toString()} sent as ${JSON.stringify(input)}`;
    const expected = input.type === 'RecordFill' ? ledgerSays(m, r, input) : undefined;
    let events: DecidedEvent[] | undefined;
    let error: unknown;
    try {
      events = decide(parseCommand(input), r.state, { now: new Date(r.now), policy, bookId: 'model' });
    } catch (e) {
      if (!(e instanceof TrackerError)) throw e;
      error = e;
    }
    if (expected === 'refuse') {
      expect(error, `${where}: the ledger refuses this fill`).toBeInstanceOf(OrderStateError);
      count('RecordFill:refused');
    } else if (expected === 'ignore') {
      expect(error, `${where}: a known trade id threw`).toBeUndefined();
      expect(events, `${where}: a known trade id produced events`).toEqual([]);
      count('RecordFill:duplicate');
    } else if (expected === 'record') {
      expect(error, `${where}: the ledger records this fill`).toBeUndefined();
      expect(events?.[0]?.type, `${where}: first event of a fill`).toBe('OrderFilled');
    }
    if (error !== undefined) {
      count(`${input.type}:refused:${(error as Error).constructor.name}`);
      expect(await r.store.streamRevision(stream), `${where}: a refusal wrote to the log`).toBe(r.state.revision);
    } else {
      const decided = events!;
      count(`${input.type}:${decided.length === 0 ? 'no-events' : 'accepted'}`);
      const recordedAt = new Date(r.now).toISOString();
      const withMeta = decided.map((e) => ({ ...e, metadata: { recordedAt, schemaVersion: 1, commandId } }));
      if (withMeta.length > 0) {
        await r.store.append(stream, withMeta as NewEvent[], {
          expectedRevision: r.state.revision === -1 ? 'no_stream' : r.state.revision,
        });
      }
      for (const e of withMeta) {
        this.learn(m, r, e);
        r.state = evolve(r.state, e as FoldableEvent);
      }
    }
    await checkInvariants(m, r, where);
  }

  /** The ledger takes in what the book wrote (before the book folds it, so it sees the book as the event found it). */
  private learn(m: Model, r: Real, e: DecidedEvent): void {
    count(`event:${e.type}`);
    if (e.type === 'OrderRequested') {
      m.issued.push(e.data.clientOrderId);
      m.orders.set(e.data.clientOrderId, {
        positionId: e.data.positionId,
        intent: e.data.intent,
        quantity: e.data.quantity,
        trades: new Map(),
      });
    } else if (e.type === 'OrderFilled') {
      const ledger = m.orders.get(e.data.clientOrderId)!;
      ledger.trades.set(e.data.tradeId, e.data.quantity);
      const order = r.state.orders.get(e.data.clientOrderId)!;
      const p = r.state.positions.get(order.positionId);
      const finished = !['PENDING_SUBMIT', 'OPEN', 'PARTIALLY_FILLED', 'PENDING_CANCEL'].includes(order.status);
      if (finished) count('fill:late');
      if (order.intent === 'entry' && finished && p?.status !== 'IN') m.lateEntry = true;
      // A fill the position cannot follow: an entry on a skipped one, a reduce on one not IN or beyond it.
      const follows =
        order.intent === 'entry'
          ? p?.status === 'IN' || p?.status === 'WATCHING' || p?.status === 'EXITED'
          : p?.status === 'IN' && (p.quantity ?? 0) >= e.data.quantity - TOLERANCE;
      if (!follows) {
        m.desynced.add(order.positionId);
        count('fill:desynced');
      }
    } else if (e.type === 'PositionArchived') {
      // The book forgets the position's orders: a later report about one is refused as unknown.
      m.desynced.delete(e.data.positionId);
      for (const [id, o] of m.orders) if (o.positionId === e.data.positionId) m.orders.delete(id);
    }
  }

  toString(): string {
    return `${this.step.kind}(${JSON.stringify(this.step)})`;
  }
}

class AdvanceClock implements fc.AsyncCommand<Model, Real> {
  constructor(readonly seconds: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    m.now += this.seconds * 1000;
    r.now += this.seconds * 1000;
  }
  toString(): string {
    return `AdvanceClock(${this.seconds}s)`;
  }
}

/** A restart: the book refolded from the log, or read back from its snapshot form; it must be the book it was. */
class Restart implements fc.AsyncCommand<Model, Real> {
  constructor(readonly from: 'log' | 'snapshot') {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const before = bookStateToJson(r.state);
    r.state = this.from === 'log' ? await replay(r.store) : bookStateFromJson(cloneJson(before));
    expect(bookStateToJson(r.state), `restart from the ${this.from}`).toStrictEqual(before);
    count(`restart:${this.from}`);
    await checkInvariants(m, r, this.toString());
  }
  toString(): string {
    return `Restart(${this.from})`;
  }
}

const pos = fc.constantFrom(...POSITIONS);
const pick = fc.nat({ max: 1000 });
const price = fc.integer({ min: 80, max: 120 });
const steps: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({
        pos,
        intent: fc.constantFrom('entry' as const, 'entry' as const, 'reduce' as const),
        qty: fc.integer({ min: 1, max: 6 }),
        signal: fc.option(fc.constantFrom(...SIGNALS), { nil: undefined, freq: 3 }),
        price,
      })
      .map((s) => ({ kind: 'Request' as const, ...s })),
  },
  { weight: 3, arbitrary: fc.record({ pick, ext: fc.constantFrom('X1', 'X2', 'X3') }).map((s) => ({ kind: 'Accept' as const, ...s })) },
  {
    weight: 6,
    arbitrary: fc
      .record({ pick, ratio: fc.constantFrom(0.25, 0.5, 1, 1, 1.5), dup: fc.boolean(), price })
      .map((s) => ({ kind: 'Fill' as const, ...s })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        pick,
        kind: fc.constantFrom('Cancel' as const, 'Canceled' as const, 'Expired' as const, 'Rejected' as const, 'Lost' as const),
      })
      .map((s) => s),
  },
  { weight: 1, arbitrary: pos.map((p) => ({ kind: 'Skip' as const, pos: p })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ArchiveSweep' as const }) },
);

const command = fc.oneof(
  { weight: 12, arbitrary: steps.map((s): fc.AsyncCommand<Model, Real> => new OrderStep(s)) },
  { weight: 1, arbitrary: fc.constantFrom(30, 61).map((s): fc.AsyncCommand<Model, Real> => new AdvanceClock(s)) },
  { weight: 1, arbitrary: fc.constantFrom('log' as const, 'snapshot' as const).map((f): fc.AsyncCommand<Model, Real> => new Restart(f)) },
);
const commands = fc.commands([command], { maxCommands: 60, size: 'max' });

describe('orders (model-based)', () => {
  it('never reuses a client order id, never overfills, keeps positions equal to their fills, and replays to the live state', async () => {
    console.log(
      `[orders.model] fast-check seed=${seed} numRuns=${numRuns}; reproduce with ` +
        `PTRACK_FC_SEED=${seed} PTRACK_FC_RUNS=${numRuns} npx vitest run test/commands/orders.model.test.ts`,
    );
    coverage.clear();
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const model: Model = { now: START, issued: [], orders: new Map(), desynced: new Set(), lateEntry: false };
        const real: Real = { store: new MemoryEventStore(), state: initialBookState(limits), now: START, seq: 0 };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await real.store.close();
        }
      }),
      { seed, numRuns },
    );
    console.log('[orders.model] coverage', JSON.stringify(Object.fromEntries([...coverage].sort())));
    if (numRuns >= 100) {
      for (const key of [
        'event:OrderRequested',
        'event:PositionTracked',
        'event:OrderAccepted',
        'event:OrderFilled',
        'event:PositionEntered',
        'event:PositionIncreased',
        'event:PositionExited',
        'event:OrderCancelRequested',
        'event:OrderCanceled',
        'event:OrderExpired',
        'event:OrderRejected',
        'event:OrderLost',
        'event:PositionArchived',
        'RecordFill:duplicate',
        'RecordFill:refused',
        'RecordOrderAccepted:no-events',
        'RecordOrderAccepted:refused:OrderStateError',
        'RequestOrder:refused:DuplicateSignalError',
        'RequestOrder:refused:RiskLimitError',
        'RequestOrder:refused:ValidationError',
        'fill:late',
        'invariant:IN',
        'restart:log',
        'restart:snapshot',
      ]) {
        expect(coverage.get(key) ?? 0, `never reached: ${key}`).toBeGreaterThan(0);
      }
    }
  }, 120_000);
});
