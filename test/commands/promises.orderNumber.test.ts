import { describe, expect, it } from 'vitest';
import { BookPolicy, CommandHandler, clientOrderIdFor } from '../../src/commands/index.js';
import type { NewEvent } from '../../src/events/index.js';
import { MemoryEventStore } from '../../src/store/index.js';

/*
 * A client order id is never derived twice in one book. The order key (signal or command id) and
 * its attempt alone would repeat once the key's orders left with an archived position and the
 * idempotency window forgot its command id; the book's order number (every order it ever
 * requested, kept in snapshots) keeps them apart, after a restart too.
 */

const policy = BookPolicy.parse({ maxGroupRiskPct: null, idempotencyWindow: 2 });
const at = new Date('2026-01-05T12:00:00.000Z');
const entry = (positionId: string, symbol: string) =>
  ({ type: 'RequestOrder', commandId: 'c-1', positionId, symbol, intent: 'entry', quantity: 2, referencePrice: 100 }) as const;

async function orderIdOf(handler: CommandHandler, positionId: string, symbol: string): Promise<string> {
  const { events, duplicate } = await handler.handle(entry(positionId, symbol));
  expect(duplicate).toBe(false);
  const requested = events.find((e) => e.type === 'OrderRequested');
  if (requested?.type !== 'OrderRequested') throw new Error('no OrderRequested');
  return requested.data.clientOrderId;
}

describe('the book numbers its orders', () => {
  it('gives a command id used again after its position was archived and the window forgot it a new client order id', async () => {
    const store = new MemoryEventStore();
    const handler = new CommandHandler({ store, bookId: 'main', policy, now: () => at, snapshotEvery: 3 });
    const first = await orderIdOf(handler, 'A', 'BTC');
    expect(first).toBe(clientOrderIdFor('main', 'c-1', 1, 36, 1));
    await handler.handle({ type: 'RecordOrderAccepted', clientOrderId: first, externalOrderId: 'X-1' });
    await handler.handle({ type: 'RecordFill', clientOrderId: first, tradeId: 'T-1', quantity: 2, price: 100, fee: 0 });
    await handler.handle({ type: 'Exit', commandId: 'x-A', positionId: 'A', value: 210 });
    await handler.handle({ type: 'Archive', commandId: 'ar-A', positionId: 'A' });
    const book = await handler.load();
    expect(book.positions.has('A')).toBe(false);
    expect(book.orders.has(first)).toBe(false);
    expect(book.commands.has('c-1')).toBe(false);
    expect(book.ordersRequested).toBe(1);

    // A restart knows the count too: the next order is the book's second.
    expect((await new CommandHandler({ store, bookId: 'main', policy, now: () => at }).load()).ordersRequested).toBe(1);

    // The same command id, for a new position: the key's first attempt again, but the book's second order.
    const second = await orderIdOf(handler, 'B', 'ETH');
    expect(second).toBe(clientOrderIdFor('main', 'c-1', 1, 36, 2));
    expect(second).not.toBe(first);
    expect((await handler.load()).ordersRequested).toBe(2);
  });

  it('counts from the log and from a snapshot alike', async () => {
    const store = new MemoryEventStore();
    const handler = new CommandHandler({ store, bookId: 'main', policy, now: () => at, snapshotEvery: 1 });
    await orderIdOf(handler, 'A', 'BTC');
    await handler.handle({ ...entry('B', 'ETH'), commandId: 'c-2' });
    expect(await store.readSnapshot('tradelog-main')).not.toBeNull();
    const fromSnapshot = await new CommandHandler({ store, bookId: 'main', policy }).load();
    const bare = new MemoryEventStore();
    const events = await store.readStream('tradelog-main', { limit: 100 });
    await bare.append(
      'tradelog-main',
      events.map((e) => ({ type: e.type, data: e.data, metadata: e.metadata }) as NewEvent),
      { expectedRevision: 'no_stream' },
    );
    const fromLog = await new CommandHandler({ store: bare, bookId: 'main', policy }).load();
    expect(fromSnapshot.ordersRequested).toBe(2);
    expect(fromLog.ordersRequested).toBe(2);
  });
});
