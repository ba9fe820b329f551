import { describe, expect, it } from 'vitest';
import { BookPolicy, CommandHandler } from '../../src/commands/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { bookStream } from '../../src/events/index.js';
import { MemoryEventStore } from '../../src/store/index.js';

/*
 * Issue 10 item 8: a command id reused for a different command must not be answered with
 * "already done" for a command that never ran.
 */

const policy = BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null });
const handlerOn = (store: MemoryEventStore, snapshotEvery = 0) => new CommandHandler({ store, bookId: 'b', policy, snapshotEvery });
const reused =
  /^commandId "c-1" was already used for a Track command \(revision 0\) and is now given to Enter "A": a commandId names one command; use a new commandId for a new command$/;

describe('#10.8 a reused commandId for a different command', () => {
  it('#10.8 is a validation error naming both commands, and appends nothing', async () => {
    const store = new MemoryEventStore();
    const handler = handlerOn(store);
    await handler.handle({ type: 'Track', positionId: 'A', commandId: 'c-1' });
    const error = await handler.handle({ type: 'Enter', positionId: 'A', value: 100, commandId: 'c-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(reused);
    expect((error as ValidationError).issues).toEqual([
      { path: 'commandId', message: 'already used for a different command (Track)', value: 'c-1' },
    ]);
    expect((await store.head()).count).toBe(1);
    expect((await handler.load()).positions.get('A')?.status).toBe('WATCHING');
  });

  it('#10.8 tells another command of the same type by its fields', async () => {
    const store = new MemoryEventStore();
    const handler = handlerOn(store);
    await handler.handle({ type: 'Track', positionId: 'A', commandId: 'c-1' });
    await expect(handler.handle({ type: 'Track', positionId: 'B', commandId: 'c-1' })).rejects.toThrow(
      /now given to Track "B" \(another Track, with different fields\)/,
    );
    expect((await store.head()).count).toBe(1);
  });

  it('#10.8 still answers the same command again (defaults filled in or not) with its first result', async () => {
    const store = new MemoryEventStore();
    const handler = handlerOn(store);
    const first = await handler.handle({ type: 'Track', positionId: 'A', commandId: 'c-1' });
    const again = await handler.handle({ type: 'Track', positionId: 'A', side: 'long', commandId: 'c-1' });
    expect(again.duplicate).toBe(true);
    expect(again.events).toEqual(first.events);
  });

  it('#10.8 is refused after a replay of the log by a new handler (the fingerprint is in the events)', async () => {
    const store = new MemoryEventStore();
    await handlerOn(store).handle({ type: 'Track', positionId: 'A', commandId: 'c-1' });
    expect(await store.readSnapshot(bookStream('b'))).toBeNull();
    await expect(handlerOn(store).handle({ type: 'Enter', positionId: 'A', value: 100, commandId: 'c-1' })).rejects.toThrow(reused);
    expect((await store.head()).count).toBe(1);
  });

  it('#10.8 is refused by a new handler that loads the book from a snapshot', async () => {
    const store = new MemoryEventStore();
    await handlerOn(store, 1).handle({ type: 'Track', positionId: 'A', commandId: 'c-1' });
    const snapshot = await store.readSnapshot(bookStream('b'));
    expect(snapshot?.revision).toBe(0);
    // Nothing left to replay after the snapshot: what is known of c-1 comes from it.
    await expect(handlerOn(store, 1).handle({ type: 'Enter', positionId: 'A', value: 100, commandId: 'c-1' })).rejects.toThrow(reused);
    expect((await store.head()).count).toBe(1);
  });

  it('#10.8 is refused within one group-commit batch, while the first command runs', async () => {
    const store = new MemoryEventStore();
    const handler = handlerOn(store);
    const [a, b] = await Promise.allSettled([
      handler.handle({ type: 'Track', positionId: 'A', commandId: 'c-1' }),
      handler.handle({ type: 'Enter', positionId: 'A', value: 100, commandId: 'c-1' }),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    expect((b as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError);
    expect(((b as PromiseRejectedResult).reason as Error).message).toMatch(reused);
    expect((await store.readStream(bookStream('b'))).map((e) => e.type)).toEqual(['PositionTracked']);
  });
});
