import { afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { BookPolicy, CommandHandler } from '../../src/commands/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { bookStream } from '../../src/events/index.js';
import { tempDir } from '../helpers/tmp.js';

/* Issue 18 item 2: no catch-up read before a command when the store can tell nothing was committed since. */

const policy = BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function file(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return join(dir, 'trades.db');
}

function open(path: string): SqliteEventStore {
  const store = SqliteEventStore.open(path);
  cleanups.push(() => store.close());
  return store;
}

describe('#18.2 catch-up before a command, on SQLite', () => {
  it('#18.2 with no other writer, commands after the first do not read the log', async () => {
    const store = open(file());
    const reads = vi.spyOn(store, 'readStream');
    const handler = new CommandHandler({ store, bookId: 'b', policy, snapshotEvery: 0 });
    await handler.handle({ type: 'Track', positionId: 'P-1', symbol: 'BTC' });
    expect(reads).toHaveBeenCalled();
    reads.mockClear();
    await handler.handle({ type: 'Enter', positionId: 'P-1', value: 100 });
    await handler.handle({ type: 'Hold', positionId: 'P-1', value: 101 });
    await handler.handle({ type: 'Track', positionId: 'P-2', symbol: 'ETH' });
    await expect(handler.handle({ type: 'Exit', positionId: 'P-2', value: 1 })).rejects.toThrow();
    expect(reads).not.toHaveBeenCalled();
    expect((await handler.load()).revision).toBe(3);
  });

  it('#18.2 a second tracker on the same file: the next command sees its events (accepted and refused by them)', async () => {
    const path = file();
    const mine = open(path);
    const other = open(path);
    const reads = vi.spyOn(mine, 'readStream');
    const handler = new CommandHandler({ store: mine, bookId: 'b', policy, snapshotEvery: 0 });
    const otherHandler = new CommandHandler({ store: other, bookId: 'b', policy, snapshotEvery: 0 });
    await handler.handle({ type: 'Track', positionId: 'P-1', symbol: 'BTC' });
    await otherHandler.handle({ type: 'Track', positionId: 'P-2', symbol: 'ETH' });
    reads.mockClear();
    // Entering P-2 is accepted only by a book that holds the other tracker's Track.
    const entered = await handler.handle({ type: 'Enter', positionId: 'P-2', value: 100 });
    expect(entered.events.map((e) => e.type)).toEqual(['PositionEntered']);
    expect(reads).toHaveBeenCalled();
    await otherHandler.handle({ type: 'Exit', positionId: 'P-2', value: 110 });
    // The other tracker exited it: exiting again is refused here.
    await expect(handler.handle({ type: 'Exit', positionId: 'P-2', value: 110 })).rejects.toThrow(/EXITED/);
    // The same on one connection: another handler of the same store appends.
    const sameConnection = new CommandHandler({ store: mine, bookId: 'b', policy, snapshotEvery: 0 });
    await sameConnection.handle({ type: 'Track', positionId: 'P-3', symbol: 'SOL' });
    const third = await handler.handle({ type: 'Enter', positionId: 'P-3', value: 50 });
    expect(third.events.map((e) => e.type)).toEqual(['PositionEntered']);
    expect((await handler.load()).revision).toBe((await otherHandler.load()).revision);
  });

  it('#18.2 a command that appends does not look at the store first: the append, conditioned on the book revision, is the check', async () => {
    const store = open(file());
    const handler = new CommandHandler({ store, bookId: 'b', policy, snapshotEvery: 0 });
    await handler.handle({ type: 'Track', positionId: 'P-1', symbol: 'BTC' });
    const looks = vi.spyOn(store, 'changeToken');
    await handler.handle({ type: 'Enter', positionId: 'P-1', value: 100 });
    await handler.handle({ type: 'Hold', positionId: 'P-1', value: 101 });
    expect(looks).not.toHaveBeenCalled();
    // A refusal appends nothing, so it stands only once the store says the book is current.
    await expect(handler.handle({ type: 'Exit', positionId: 'P-9', value: 1 })).rejects.toThrow();
    expect(looks).toHaveBeenCalledTimes(1);
    // So does a load.
    expect((await handler.load()).revision).toBe(2);
    expect(looks).toHaveBeenCalledTimes(2);
  });

  it('#18.2 a book behind the log is caught by the append and decided again from a fresh read at once, not as a retry', async () => {
    const path = file();
    const mine = open(path);
    const other = open(path);
    const debug = vi.fn();
    const logger = { debug, warn: vi.fn() };
    // No retries allowed: the book being behind is not a conflict between two writers racing.
    const handler = new CommandHandler({ store: mine, bookId: 'b', policy, snapshotEvery: 0, maxRetries: 0, logger });
    const otherHandler = new CommandHandler({ store: other, bookId: 'b', policy, snapshotEvery: 0 });
    await handler.handle({ type: 'Track', positionId: 'P-1', symbol: 'BTC' });
    await otherHandler.handle({ type: 'Track', positionId: 'P-2', symbol: 'ETH' });
    // Decided against the cached book, this Track is accepted; against the log it is refused (P-2 exists).
    await expect(handler.handle({ type: 'Track', positionId: 'P-2', symbol: 'ETH' })).rejects.toThrow(/P-2/);
    expect(debug).toHaveBeenCalledWith(expect.objectContaining({ expected: 0, actual: 1 }), 'the book was behind the log, deciding again');
    const tracked = (await mine.readStream(bookStream('b'))).filter((e) => e.type === 'PositionTracked');
    expect(tracked.map((e) => (e.data as { positionId: string }).positionId)).toEqual(['P-1', 'P-2']);
    // Accepted both ways: appended once, after the other tracker's event.
    await otherHandler.handle({ type: 'Track', positionId: 'P-3', symbol: 'SOL' });
    const entered = await handler.handle({ type: 'Track', positionId: 'P-4', symbol: 'SOL' });
    expect(entered.events.map((e) => e.revision)).toEqual([3]);
    expect((await handler.load()).positions.has('P-3')).toBe(true);
  });
});
