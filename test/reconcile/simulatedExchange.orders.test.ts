import { setTimeout as delay } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  guardExternal,
  SimulatedExchange,
  type ExternalOrderRequest,
  type GuardedExternal,
  type SimulatedExchangeOptions,
  type SimulatedExchangeState,
  type SubmitOutcome,
} from '../../src/reconcile/index.js';

/*
 * The simulated exchange's orders: fills, positions moved by them, definitive refusals, each
 * order fault doing what it says, the signal honoured, seeded stories reproducible, and the
 * state (orders and fills included) surviving a JSON round trip. Every answer is read through
 * guardExternal, so each one also parses at the port.
 */

const START = Date.parse('2026-12-02T00:00:00.000Z');
let now = START;
const advance = (seconds: number): void => void (now += seconds * 1000);

function exchange(options: Partial<SimulatedExchangeOptions> = {}, state?: SimulatedExchangeState): SimulatedExchange {
  return new SimulatedExchange({ seed: 1, clock: () => new Date(now), symbols: { BTC: 60_000, ETH: 3_000 }, ...options }, state);
}
const guard = (x: SimulatedExchange, timeoutMs = 5000): GuardedExternal => guardExternal(x, { sleep: async () => undefined, timeoutMs });

const market = (
  positionId: string,
  side: 'buy' | 'sell',
  quantity: number,
  extra: Partial<ExternalOrderRequest> = {},
): ExternalOrderRequest => ({
  positionId,
  symbol: 'BTC',
  side,
  type: 'market',
  quantity,
  ...extra,
});
const limit = (positionId: string, side: 'buy' | 'sell', quantity: number, limitPrice: number): ExternalOrderRequest => ({
  positionId,
  symbol: 'BTC',
  side,
  type: 'limit',
  quantity,
  limitPrice,
});

const quantityOf = (x: SimulatedExchange, id: string): number | undefined => x.snapshot().positions.find((p) => p.id === id)?.quantity;
const sum = (values: readonly number[]): number => Math.round(values.reduce((a, b) => a + b, 0) * 1e9) / 1e9;

beforeEach(() => {
  now = START;
});

describe('orders fill and move positions', () => {
  it('a market order fills at the current price; its fills sum to its quantity, carry a fee and open the position', async () => {
    const x = exchange();
    const g = guard(x);
    const outcome = await g.submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' });
    expect(outcome).toMatchObject({
      outcome: 'accepted',
      ack: { clientOrderId: 'c-1', externalOrderId: 'SIM-O-1', status: 'filled', filledQuantity: 0.01, averagePrice: 60_000 },
    });
    const fills = await g.listFills();
    expect(fills.length).toBeGreaterThanOrEqual(1);
    expect(sum(fills.map((f) => f.quantity))).toBe(0.01);
    for (const f of fills) {
      expect(f).toMatchObject({ externalOrderId: 'SIM-O-1', clientOrderId: 'c-1', price: 60_000, at: '2026-12-02T00:00:00.000Z' });
      expect(f.fee).toBeCloseTo(f.quantity * 60_000 * 0.001, 6);
    }
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toMatchObject({ status: 'filled', filledQuantity: 0.01 });
    expect(await g.getOrder({ externalOrderId: 'SIM-O-1' })).toMatchObject({ clientOrderId: 'c-1' });
    expect(await g.listOpenOrders()).toEqual([]);
    expect(x.truth()).toEqual([{ id: 'BTC-1', symbol: 'BTC', value: 600, origin: 'bot' }]);
    expect(await g.listPositions()).toMatchObject([{ id: 'BTC-1', side: 'long', quantity: 0.01 }]);
  });

  it('in one to three fills, by seed', async () => {
    const counts = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const x = exchange({ seed });
      await x.submitOrder(market('BTC-1', 'buy', 0.03), { clientOrderId: 'c-1', signal: new AbortController().signal });
      const fills = x.orderLog().fills;
      expect(sum(fills.map((f) => f.quantity))).toBe(0.03);
      counts.add(fills.length);
    }
    expect([...counts].sort()).toEqual([1, 2, 3]);
  });

  it('an entry grows the position, a reduce-only order shrinks it, and one for the rest closes it', async () => {
    const x = exchange();
    const g = guard(x);
    await g.submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' });
    await g.submitOrder(market('BTC-1', 'buy', 0.02), { clientOrderId: 'c-2' });
    expect(quantityOf(x, 'BTC-1')).toBe(0.03);
    await g.submitOrder(market('BTC-1', 'sell', 0.01, { reduceOnly: true }), { clientOrderId: 'c-3' });
    expect(quantityOf(x, 'BTC-1')).toBe(0.02);
    const last = await g.submitOrder(market('BTC-1', 'sell', 0.02, { reduceOnly: true }), { clientOrderId: 'c-4' });
    expect(last).toMatchObject({ outcome: 'accepted', ack: { status: 'filled' } });
    expect(quantityOf(x, 'BTC-1')).toBeUndefined();
    expect(await g.listPositions()).toEqual([]);
  });

  it('a sell entry opens a short; a reduce-only buy covers it', async () => {
    const x = exchange();
    const g = guard(x);
    await g.submitOrder(market('BTC-S', 'sell', 0.01), { clientOrderId: 'c-1' });
    expect(x.snapshot().positions).toMatchObject([{ id: 'BTC-S', side: 'short', quantity: 0.01 }]);
    await g.submitOrder(market('BTC-S', 'buy', 0.01, { reduceOnly: true }), { clientOrderId: 'c-2' });
    expect(x.snapshot().positions).toEqual([]);
  });

  it('a limit order rests until the price crosses it, then fills at its limit', async () => {
    const x = exchange();
    const g = guard(x);
    expect(await g.submitOrder(limit('BTC-1', 'buy', 0.01, 59_000), { clientOrderId: 'c-1' })).toMatchObject({
      outcome: 'accepted',
      ack: { status: 'open', filledQuantity: 0 },
    });
    expect(await g.listOpenOrders()).toMatchObject([{ clientOrderId: 'c-1', status: 'open' }]);
    x.setPrice('BTC', 59_500);
    expect(x.orderLog().fills).toEqual([]);
    expect(quantityOf(x, 'BTC-1')).toBeUndefined();
    x.setPrice('BTC', 58_800);
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toMatchObject({ status: 'filled', filledQuantity: 0.01, averagePrice: 59_000 });
    expect(new Set(x.orderLog().fills.map((f) => f.price))).toEqual(new Set([59_000]));
    expect(quantityOf(x, 'BTC-1')).toBe(0.01);
    expect(await g.listOpenOrders()).toEqual([]);
  });

  it('a limit order that crosses when it arrives fills at the market; tick() fills a resting one the prices cross', async () => {
    const x = exchange();
    const g = guard(x);
    expect(await g.submitOrder(limit('BTC-1', 'buy', 0.01, 61_000), { clientOrderId: 'c-1' })).toMatchObject({
      ack: { status: 'filled', averagePrice: 60_000 },
    });
    await g.submitOrder(limit('BTC-2', 'buy', 0.01, 1_000_000), { clientOrderId: 'c-2' }); // fills at once too
    await g.submitOrder({ ...limit('ETH-1', 'sell', 1, 3_000.5), symbol: 'ETH' }, { clientOrderId: 'c-3' });
    let ticks = 0;
    while ((await g.getOrder({ clientOrderId: 'c-3' }))?.status === 'open' && ticks < 500) {
      x.tick(2);
      ticks += 1;
    }
    expect(await g.getOrder({ clientOrderId: 'c-3' })).toMatchObject({ status: 'filled', averagePrice: 3_000.5 });
    expect(x.price('ETH')).toBeGreaterThanOrEqual(3_000.5);
  });

  it('cancel leaves a resting order canceled; a second cancel is refused', async () => {
    const x = exchange();
    const g = guard(x);
    await g.submitOrder(limit('BTC-1', 'buy', 0.01, 50_000), { clientOrderId: 'c-1' });
    await g.cancelOrder({ clientOrderId: 'c-1', externalOrderId: 'SIM-O-1' });
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toMatchObject({ status: 'canceled', filledQuantity: 0 });
    expect(await g.listOpenOrders()).toEqual([]);
    x.setPrice('BTC', 40_000);
    expect(x.orderLog().fills).toEqual([]);
    await expect(g.cancelOrder({ clientOrderId: 'c-1' })).rejects.toMatchObject({
      failure: 'rejected',
      message: 'cancelOrder(c-1): the order is canceled',
    });
    await expect(g.cancelOrder({ clientOrderId: 'c-9' })).rejects.toMatchObject({
      failure: 'rejected',
      message: 'cancelOrder(c-9): unknown order',
    });
  });
});

describe('definitive refusals are rejected and place nothing', () => {
  async function refused(x: SimulatedExchange, request: unknown, clientOrderId = 'c-new'): Promise<string> {
    const before = x.snapshot();
    let error: unknown;
    try {
      await x.submitOrder(request, { clientOrderId, signal: new AbortController().signal });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'EXTERNAL', failure: 'rejected' });
    const after = x.snapshot();
    expect(after.positions).toEqual(before.positions);
    expect(after.orderBook?.orders).toEqual(before.orderBook?.orders);
    expect(after.orderBook?.fills).toEqual(before.orderBook?.fills);
    expect(after.orderBook?.rejections.at(-1)).toMatchObject({ clientOrderId, reason: (error as Error).message });
    return (error as Error).message;
  }

  it.each([
    ['an unknown symbol', market('X-1', 'buy', 1, { symbol: 'DOGE' }), /unknown symbol DOGE/],
    ['a zero quantity', market('BTC-1', 'buy', 0), /quantity: .*got 0/],
    ['a negative quantity', market('BTC-1', 'buy', -1), /quantity: .*got -1/],
    ['a quantity that is not a number', market('BTC-1', 'buy', Number.NaN), /quantity: .*got NaN/],
    ['a limit order without a price', { ...market('BTC-1', 'buy', 1), type: 'limit' }, /limitPrice: is required/],
    ['a reduce-only order with no position', market('BTC-1', 'sell', 0.01, { reduceOnly: true }), /needs an open long position BTC-1/],
  ])('%s', async (_name, request, message) => {
    expect(await refused(exchange(), request)).toMatch(message);
  });

  it('a reduce beyond the position, counting what a resting reduce order already holds', async () => {
    const x = exchange();
    const g = guard(x);
    await g.submitOrder(market('BTC-1', 'buy', 0.03), { clientOrderId: 'c-1' });
    await g.submitOrder({ ...limit('BTC-1', 'sell', 0.02, 70_000), reduceOnly: true }, { clientOrderId: 'c-2' });
    expect(await refused(x, market('BTC-1', 'sell', 0.02, { reduceOnly: true }))).toMatch(
      /reduce-only quantity 0.02 exceeds what is left of position BTC-1 \(0.01\)/,
    );
    expect(await refused(x, market('BTC-1', 'sell', 0.01))).toMatch(/position BTC-1 is long; a sell would reduce it/);
    expect(await refused(x, { ...market('BTC-1', 'buy', 1), symbol: 'ETH' })).toMatch(/position BTC-1 is BTC, not ETH/);
  });

  it('a reused client order id, even after a cancel (venues refuse it): the guarded submit says refused', async () => {
    const x = exchange();
    const g = guard(x);
    await g.submitOrder(limit('BTC-1', 'buy', 0.01, 50_000), { clientOrderId: 'c-1' });
    await g.cancelOrder({ clientOrderId: 'c-1' });
    expect(await refused(x, market('BTC-2', 'buy', 0.01), 'c-1')).toBe(
      'submitOrder: clientOrderId "c-1" was already used (order SIM-O-1, canceled)',
    );
    expect(await g.submitOrder(market('BTC-2', 'buy', 0.01), { clientOrderId: 'c-1' })).toMatchObject({
      outcome: 'refused',
      error: { failure: 'rejected' },
    });
    expect(x.orderLog().orders.map((o) => o.clientOrderId)).toEqual(['c-1']);
  });
});

describe('order faults do what they say', () => {
  it('lostAck: the order is placed and filled, the submit fails as a timeout or lost connection; a resend is refused', async () => {
    const x = exchange();
    const g = guard(x);
    const kinds = new Set<string>();
    for (let i = 1; i <= 8; i++) {
      x.forceOrderFault('lostAck');
      const outcome = await g.submitOrder(market(`BTC-${i}`, 'buy', 0.01), { clientOrderId: `c-${i}` });
      expect(outcome.outcome).toBe('unknown');
      if (outcome.outcome === 'unknown') kinds.add(outcome.error.failure);
      expect(await g.getOrder({ clientOrderId: `c-${i}` })).toMatchObject({ status: 'filled', filledQuantity: 0.01 });
      expect(quantityOf(x, `BTC-${i}`)).toBe(0.01);
    }
    expect([...kinds].sort()).toEqual(['timeout', 'unreachable']);
    expect(await g.submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' })).toMatchObject({ outcome: 'refused' });
    expect(quantityOf(x, 'BTC-1')).toBe(0.01);
  });

  it('notFound: for notFoundSeconds the order and its fills are not found, though the position is open', async () => {
    const x = exchange({ notFoundSeconds: 60 });
    const g = guard(x);
    x.forceOrderFault('notFound', 2);
    expect(await g.submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' })).toMatchObject({ outcome: 'accepted' });
    await g.submitOrder(limit('BTC-2', 'buy', 0.01, 50_000), { clientOrderId: 'c-2' });
    await g.submitOrder(limit('BTC-3', 'buy', 0.01, 50_000), { clientOrderId: 'c-3' }); // no fault: found
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toBeNull();
    expect(await g.getOrder({ externalOrderId: 'SIM-O-1' })).toBeNull();
    expect((await g.listOpenOrders()).map((o) => o.clientOrderId)).toEqual(['c-3']);
    expect(await g.listFills()).toEqual([]);
    await expect(g.cancelOrder({ clientOrderId: 'c-2' })).rejects.toMatchObject({
      failure: 'rejected',
      message: 'cancelOrder(c-2): unknown order',
    });
    expect(quantityOf(x, 'BTC-1')).toBe(0.01);
    advance(59);
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toBeNull();
    advance(1);
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toMatchObject({ status: 'filled' });
    expect((await g.listOpenOrders()).map((o) => o.clientOrderId)).toEqual(['c-2', 'c-3']);
    expect(sum((await g.listFills()).map((f) => f.quantity))).toBe(0.01);
  });

  it('duplicateFill: listFills reports the fill twice, with one tradeId', async () => {
    const x = exchange({ seed: 3 });
    const g = guard(x);
    x.forceOrderFault('duplicateFill');
    await g.submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' });
    const [first] = x.orderLog().fills;
    const listed = await g.listFills();
    expect(listed.filter((f) => f.tradeId === first?.tradeId)).toHaveLength(2);
    expect(listed).toHaveLength(x.orderLog().fills.length + 1);
    expect(x.orderLog().fills.filter((f) => f.reportedTwice)).toHaveLength(1);
  });

  it('fillBeforeStatus: the fills are listed while getOrder and listOpenOrders still say open and unfilled, for staleSeconds', async () => {
    const x = exchange({ staleSeconds: 20 });
    const g = guard(x);
    x.forceOrderFault('fillBeforeStatus');
    const outcome = await g.submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' });
    expect(outcome).toMatchObject({ outcome: 'accepted', ack: { status: 'open', filledQuantity: 0 } });
    expect(sum((await g.listFills()).map((f) => f.quantity))).toBe(0.01);
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toMatchObject({ status: 'open', filledQuantity: 0 });
    expect(await g.listOpenOrders()).toMatchObject([{ clientOrderId: 'c-1', status: 'open', filledQuantity: 0 }]);
    expect(quantityOf(x, 'BTC-1')).toBe(0.01);
    advance(20);
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toMatchObject({ status: 'filled', filledQuantity: 0.01 });
    expect(await g.listOpenOrders()).toEqual([]);
  });

  it('fillBeforeStatus on a resting limit order: the lag starts at its fill', async () => {
    const x = exchange({ staleSeconds: 20 });
    const g = guard(x);
    x.forceOrderFault('fillBeforeStatus');
    await g.submitOrder(limit('BTC-1', 'buy', 0.01, 59_000), { clientOrderId: 'c-1' });
    advance(60);
    x.setPrice('BTC', 58_000);
    expect(x.orderLog().orders[0]).toMatchObject({ status: 'filled' });
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toMatchObject({ status: 'open', filledQuantity: 0 });
    advance(20);
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toMatchObject({ status: 'filled' });
  });

  it('partialThenCancel: part of the order fills, the venue cancels the rest; the position holds what filled', async () => {
    const x = exchange();
    const g = guard(x);
    x.forceOrderFault('partialThenCancel');
    const outcome = await g.submitOrder(market('BTC-1', 'buy', 0.05), { clientOrderId: 'c-1' });
    expect(outcome).toMatchObject({ outcome: 'accepted', ack: { status: 'canceled' } });
    const order = await g.getOrder({ clientOrderId: 'c-1' });
    expect(order?.status).toBe('canceled');
    expect(order?.filledQuantity).toBeGreaterThan(0);
    expect(order?.filledQuantity).toBeLessThan(0.05);
    expect(quantityOf(x, 'BTC-1')).toBe(order?.filledQuantity);
    expect(sum((await g.listFills()).map((f) => f.quantity))).toBe(order?.filledQuantity);
  });

  it('restartBeforeAck: the hook gets the state with the order placed, then the submit fails; the state restores with it', async () => {
    const saved: { state: SimulatedExchangeState; order: { clientOrderId: string; externalOrderId: string } }[] = [];
    const options = {
      onRestartBeforeAck: (state: SimulatedExchangeState, order: { clientOrderId: string; externalOrderId: string }) =>
        void saved.push({ state, order }),
    };
    const x = exchange(options);
    x.forceOrderFault('restartBeforeAck');
    const outcome = await guard(x).submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' });
    expect(outcome).toMatchObject({
      outcome: 'unknown',
      error: { failure: 'unreachable', message: expect.stringMatching(/restarted before answering/) },
    });
    expect(saved).toHaveLength(1);
    expect(saved[0]?.order).toEqual({ clientOrderId: 'c-1', externalOrderId: 'SIM-O-1' });
    const restarted = exchange({}, JSON.parse(JSON.stringify(saved[0]?.state)) as SimulatedExchangeState);
    const g = guard(restarted);
    expect(await g.getOrder({ clientOrderId: 'c-1' })).toMatchObject({ status: 'filled', filledQuantity: 0.01 });
    expect(quantityOf(restarted, 'BTC-1')).toBe(0.01);
    expect(await g.submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' })).toMatchObject({ outcome: 'refused' });
  });

  it('a forced fault is used once (or `count` times), then orders are plain again', async () => {
    const x = exchange();
    const g = guard(x);
    x.forceOrderFault('lostAck', 2);
    const outcomes: SubmitOutcome['outcome'][] = [];
    for (let i = 1; i <= 3; i++) outcomes.push((await g.submitOrder(market(`BTC-${i}`, 'buy', 0.01), { clientOrderId: `c-${i}` })).outcome);
    expect(outcomes).toEqual(['unknown', 'unknown', 'accepted']);
  });
});

describe('the signal is honoured', () => {
  it('a submit that timed out during the simulated latency does not land', async () => {
    const x = exchange({ latencyMs: 150 });
    const outcome = await guard(x, 20).submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' });
    expect(outcome).toMatchObject({ outcome: 'unknown', error: { failure: 'timeout' } });
    await delay(250);
    expect(x.orderLog().orders).toEqual([]);
    expect(x.snapshot().positions).toEqual([]);
    // Had it landed, this would be refused as a reused id.
    expect(await guard(x).submitOrder(market('BTC-1', 'buy', 0.01), { clientOrderId: 'c-1' })).toMatchObject({ outcome: 'accepted' });
  });

  it('a cancel that timed out during the latency does not land either', async () => {
    const x = exchange({ latencyMs: 150 });
    await guard(x).submitOrder(limit('BTC-1', 'buy', 0.01, 50_000), { clientOrderId: 'c-1' });
    await expect(guard(x, 20).cancelOrder({ clientOrderId: 'c-1' })).rejects.toMatchObject({ failure: 'timeout' });
    await delay(250);
    expect(x.orderLog().orders[0]?.status).toBe('open');
  });
});

/** One scripted session with every fault on by seed: what each call said, and the exchange's state after. */
async function story(seed: number): Promise<{ said: unknown[]; state: SimulatedExchangeState }> {
  now = START;
  const x = exchange({
    seed,
    faults: { error: 0.05, timeout: 0.05, malformed: 0.05, rateLimit: 0.05 },
    orderFaults: { lostAck: 0.2, notFound: 0.2, duplicateFill: 0.3, fillBeforeStatus: 0.2, partialThenCancel: 0.2, restartBeforeAck: 0.1 },
  });
  const g = guardExternal(x, { sleep: async () => undefined, random: () => 0.5 });
  const said: unknown[] = [];
  const note = async (work: () => Promise<unknown>): Promise<void> => {
    try {
      said.push(await work());
    } catch (error) {
      said.push({ failed: (error as Error).message });
    }
  };
  for (let i = 1; i <= 30; i++) {
    const request =
      i % 3 === 0 ? limit(`P-${i}`, 'buy', 0.01, Math.round(x.price('BTC') * 0.995)) : market(`P-${i}`, 'buy', 0.01 * (1 + (i % 4)));
    await note(() => g.submitOrder(request, { clientOrderId: `c-${i}` }));
    x.tick(1);
    advance(10);
    await note(() => g.getOrder({ clientOrderId: `c-${i}` }));
    if (i % 5 === 0) await note(() => g.cancelOrder({ clientOrderId: `c-${i - 2}` }));
    if (i % 7 === 0) await note(() => g.submitOrder(market(`P-${i}`, 'buy', 0.01), { clientOrderId: `c-${i - 1}` })); // a reused id
    if (i % 4 === 0) await note(() => g.listFills());
    if (i % 6 === 0) await note(() => g.listOpenOrders());
  }
  return { said, state: x.snapshot() };
}

describe('seeded runs', () => {
  it('same seed, same story; another seed, another story', async () => {
    const a = await story(5);
    const b = await story(5);
    expect(b).toEqual(a);
    expect(JSON.parse(JSON.stringify(a.state))).toEqual(a.state); // JSON-safe
    const c = await story(6);
    expect(c.said).not.toEqual(a.said);
  });

  it('the rates are live: a seeded story shows each order fault', async () => {
    const { said, state } = await story(5);
    const outcomes = said.filter((s): s is SubmitOutcome => typeof s === 'object' && s !== null && 'outcome' in s);
    expect(new Set(outcomes.map((o) => o.outcome))).toEqual(new Set(['accepted', 'refused', 'unknown']));
    expect(outcomes.some((o) => o.outcome === 'unknown' && /restarted before answering/.test(o.error.message))).toBe(true);
    expect(
      outcomes.some((o) => o.outcome === 'unknown' && /\(simulated\)/.test(o.error.message) && !/restarted/.test(o.error.message)),
    ).toBe(true);
    const book = state.orderBook;
    expect(book?.fills.some((f) => f.reportedTwice)).toBe(true);
    expect(book?.orders.some((o) => o.hiddenUntil !== undefined)).toBe(true);
    expect(book?.orders.some((o) => o.stale !== undefined)).toBe(true);
    expect(book?.orders.some((o) => o.cutShort === true && o.status === 'canceled' && o.filledQuantity > 0)).toBe(true);
    // And the positions equal the fills: every entry fill is in a position.
    for (const p of state.positions) {
      const filled = sum(
        book?.fills
          .filter((f) => book.orders.find((o) => o.clientOrderId === f.clientOrderId)?.positionId === p.id)
          .map((f) => f.quantity) ?? [],
      );
      expect(p.quantity, p.id).toBe(filled);
    }
  });
});

describe('snapshot and restore', () => {
  it('orders, fills, refusals, forced faults and the seed survive a JSON round trip; both copies go on alike', async () => {
    const x = exchange({ seed: 9, orderFaults: { duplicateFill: 0.5 } });
    const g = guard(x);
    await g.submitOrder(market('BTC-1', 'buy', 0.02), { clientOrderId: 'c-1' });
    await g.submitOrder(limit('BTC-2', 'buy', 0.01, 55_000), { clientOrderId: 'c-2' });
    await g.submitOrder(limit('BTC-3', 'buy', 0.01, 54_000), { clientOrderId: 'c-3' });
    await g.cancelOrder({ clientOrderId: 'c-3' });
    await g.submitOrder(market('NOPE', 'buy', 0.01, { symbol: 'DOGE' }), { clientOrderId: 'c-4' });
    x.forceOrderFault('lostAck');
    const state = x.snapshot();
    expect(state.orderBook?.orders).toHaveLength(3);
    expect(state.orderBook?.rejections).toHaveLength(1);
    expect(state.orderBook?.forcedOrderFaults).toEqual({ lostAck: 1 });

    const copy = exchange({ seed: 1234 }, JSON.parse(JSON.stringify(state)) as SimulatedExchangeState);
    expect(copy.snapshot()).toEqual(state);
    const gc = guard(copy);
    const next = async (gx: GuardedExternal, xx: SimulatedExchange): Promise<unknown[]> => {
      xx.setPrice('BTC', 54_500);
      const lost = await gx.submitOrder(market('BTC-5', 'buy', 0.01), { clientOrderId: 'c-5' });
      const reused = await gx.submitOrder(market('BTC-9', 'buy', 0.01), { clientOrderId: 'c-3' });
      return [lost, reused, await gx.listFills(), await gx.listOpenOrders(), xx.snapshot()];
    };
    const [fromX, fromCopy] = [await next(g, x), await next(gc, copy)];
    expect(fromCopy).toEqual(fromX);
    expect(fromX[0]).toMatchObject({ outcome: 'unknown' });
    expect(fromX[1]).toMatchObject({ outcome: 'refused' });
  });

  it('a state saved before orders existed (no orderBook) still loads, with no orders', async () => {
    const x = exchange();
    x.fill('BTC-1', { symbol: 'BTC', side: 'long', quantity: 0.01 });
    const { orderBook: _dropped, ...old } = x.snapshot();
    const restored = exchange({}, old);
    expect(restored.orderLog()).toEqual({ orders: [], fills: [], rejections: [] });
    expect(await guard(restored).submitOrder(market('BTC-1', 'sell', 0.01, { reduceOnly: true }), { clientOrderId: 'c-1' })).toMatchObject({
      outcome: 'accepted',
    });
    expect(restored.snapshot().positions).toEqual([]);
  });
});
