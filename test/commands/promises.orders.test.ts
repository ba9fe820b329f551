import { describe, expect, it } from 'vitest';
import { BookPolicy, CommandHandler, clientOrderIdFor, isSignalProcessed, processedSignal } from '../../src/commands/index.js';
import { DuplicateSignalError } from '../../src/errors/index.js';
import type { NewEvent } from '../../src/events/index.js';
import { MemoryEventStore } from '../../src/store/index.js';

/*
 * Orders through the command handler: the client order id is derived from the handler's own
 * book, a repeated command id returns the first order and appends nothing, a repeated signal
 * under another command id is refused naming the first order, and a restart (a new handler on
 * the same log, with or without a snapshot) knows the same orders and signals.
 */

const policy = BookPolicy.parse({ maxGroupRiskPct: null });
const at = new Date('2026-01-05T12:00:00.000Z');
const request = {
  type: 'RequestOrder',
  commandId: 'c-1',
  signalId: 'sig-1',
  positionId: 'A',
  intent: 'entry',
  quantity: 2,
  referencePrice: 100,
  symbol: 'BTC',
} as const;

describe('orders through the command handler', () => {
  it("derives the client order id from the handler's book", async () => {
    const store = new MemoryEventStore();
    const handler = new CommandHandler({ store, bookId: 'bot-7', policy, now: () => at });
    const { events } = await handler.handle(request);
    expect(events.map((e) => e.type)).toEqual(['PositionTracked', 'OrderRequested']);
    const id = clientOrderIdFor('bot-7', 'sig-1', 1, 36, 1);
    expect(events[1]?.data).toMatchObject({ clientOrderId: id, signalId: 'sig-1', orderKey: 'sig-1' });
    expect(id).not.toBe(clientOrderIdFor('main', 'sig-1', 1, 36, 1));
  });

  it('answers a repeated command id with the first order; a repeated signal under another command id is refused', async () => {
    const store = new MemoryEventStore();
    const handler = new CommandHandler({ store, bookId: 'main', policy, now: () => at });
    const first = await handler.handle(request);
    const again = await handler.handle(request);
    expect(again.duplicate).toBe(true);
    expect(again.events).toEqual(first.events);
    const id = clientOrderIdFor('main', 'sig-1', 1, 36, 1);
    await expect(handler.handle({ ...request, commandId: 'c-2' })).rejects.toMatchObject({
      constructor: DuplicateSignalError,
      signalId: 'sig-1',
      clientOrderId: id,
      processedAt: at.toISOString(),
    });
    expect(await store.streamRevision('tradelog-main')).toBe(1);
    const state = await handler.load();
    expect(isSignalProcessed(state, 'sig-1')).toBe(true);
    expect(processedSignal(state, 'sig-1')).toEqual({ at: at.toISOString(), clientOrderId: id });
    expect(isSignalProcessed(state, 'sig-2')).toBe(false);
    expect(state.lastSignalAt).toBe(at.toISOString());
  });

  it('a restart (from the log, and from a snapshot) knows the same orders, fills and signals', async () => {
    const store = new MemoryEventStore();
    const handler = new CommandHandler({ store, bookId: 'main', policy, now: () => at, snapshotEvery: 1 });
    await handler.handle(request);
    const id = clientOrderIdFor('main', 'sig-1', 1, 36, 1);
    await handler.handle({ type: 'RecordOrderAccepted', clientOrderId: id, externalOrderId: 'X-1' });
    await handler.handle({ type: 'RecordFill', clientOrderId: id, tradeId: 'T-1', quantity: 1, price: 101, fee: 0.1 });
    const live = await handler.load();
    const fromSnapshot = await new CommandHandler({ store, bookId: 'main', policy }).load();
    expect(await store.readSnapshot('tradelog-main')).not.toBeNull();
    // The same log in a store without the snapshot: the book is folded from the events alone.
    const bare = new MemoryEventStore();
    const events = await store.readStream('tradelog-main', { limit: 100 });
    await bare.append(
      'tradelog-main',
      events.map((e) => ({ type: e.type, data: e.data, metadata: e.metadata }) as NewEvent),
      { expectedRevision: 'no_stream' },
    );
    expect(await bare.readSnapshot('tradelog-main')).toBeNull();
    const fromLog = await new CommandHandler({ store: bare, bookId: 'main', policy }).load();
    for (const restarted of [fromSnapshot, fromLog]) {
      expect(restarted.orders.get(id)).toEqual(live.orders.get(id));
      expect([...restarted.signals]).toEqual([...live.signals]);
      expect(restarted.positions.get('A')).toEqual(live.positions.get('A'));
    }
    expect(live.orders.get(id)).toMatchObject({ status: 'PARTIALLY_FILLED', externalOrderId: 'X-1', filledQuantity: 1, tradeIds: ['T-1'] });
  });
});
