import { describe, expect, it } from 'vitest';
import { BOOK_SNAPSHOT_VERSION, BookPolicy, CommandHandler, checkBookSnapshot } from '../../src/commands/index.js';
import { bookStream } from '../../src/events/index.js';
import { rebuildReadModels } from '../../src/projections/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #16.8 Snapshot repair lives with the handler's snapshots and the library's rebuild runs it:
 * rebuildReadModels({ acceptRegression: true }) rewrites a book snapshot the log does not back,
 * as ptrack rebuild --accept-regression does, and a plain rebuild leaves snapshots alone.
 */

const policy = BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null });
const limits = { idempotencyWindow: policy.idempotencyWindow, timeZone: policy.timeZone };
const quiet = { info() {}, warn() {}, error() {}, fatal() {} };

/** Book `id` of three events with a snapshot at revision 1, then a snapshot of the wrong shape in its place. */
async function bookWithBadSnapshot(store: MemoryEventStore, id: string): Promise<string> {
  const handler = new CommandHandler({ store, bookId: id, policy, snapshotEvery: 1 });
  await handler.handle({ type: 'Track', positionId: 'A' });
  await handler.handle({ type: 'Enter', positionId: 'A', value: 100 });
  await handler.handle({ type: 'Track', positionId: 'B' });
  const stream = bookStream(id);
  await store.writeSnapshot(stream, { revision: 1, version: BOOK_SNAPSHOT_VERSION, state: { revision: 1, positions: 5 } });
  expect(await checkBookSnapshot(store, stream)).toMatchObject({ status: 'bad', revision: 1 });
  return stream;
}

describe('#16.8 the library rebuild repairs book snapshots', () => {
  it('#16.8 with acceptRegression, a bad snapshot of a book it is told of is rewritten from the log', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-repair-');
    onTestFinished(cleanup);
    const store = new MemoryEventStore();
    const stream = await bookWithBadSnapshot(store, 'b');
    const result = await rebuildReadModels({
      store,
      stateDir: dir,
      logger: quiet,
      acceptRegression: true,
      snapshots: { books: ['b'], limits },
    });
    expect(result.snapshotsRepaired).toEqual([
      { stream, from: 1, to: 2, reason: expect.stringMatching(/^it is not \{ checksum, book \}/) },
    ]);
    expect(await checkBookSnapshot(store, stream)).toEqual({ status: 'ok', revision: 2 });
    // The book loads from the repaired snapshot and commands run on it.
    const handler = new CommandHandler({ store, bookId: 'b', policy, snapshotEvery: 0 });
    await handler.handle({ type: 'Exit', positionId: 'A', value: 110 });
    expect((await handler.load()).positions.get('A')?.status).toBe('EXITED');
  });

  it('#16.8 with acceptRegression and no books named, it repairs the books the read models know of', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-repair-');
    onTestFinished(cleanup);
    const store = new MemoryEventStore();
    const stream = await bookWithBadSnapshot(store, 'other');
    const result = await rebuildReadModels({ store, stateDir: dir, logger: quiet, acceptRegression: true });
    expect(result.snapshotsRepaired.map((r) => r.stream)).toEqual([stream]);
    expect(await checkBookSnapshot(store, stream)).toEqual({ status: 'ok', revision: 2 });
  });

  it('#16.8 without acceptRegression, the rebuild leaves the snapshots alone', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-repair-');
    onTestFinished(cleanup);
    const store = new MemoryEventStore();
    const stream = await bookWithBadSnapshot(store, 'b');
    const result = await rebuildReadModels({ store, stateDir: dir, logger: quiet, snapshots: { books: ['b'], limits } });
    expect(result.snapshotsRepaired).toEqual([]);
    expect(await checkBookSnapshot(store, stream)).toMatchObject({ status: 'bad', revision: 1 });
  });
});
