import { describe, expect, it } from 'vitest';
import {
  BOOK_SNAPSHOT_VERSION,
  BookPolicy,
  CommandHandler,
  bookFromSnapshot,
  decodeBookSnapshot,
  encodeBookSnapshot,
  type BookStateJson,
} from '../../src/commands/index.js';
import { digest64 } from '../../src/commands/_internals/digest.js';
import { bookStream } from '../../src/events/index.js';
import { repairBookSnapshots } from '../../src/projections/index.js';
import { checkBookSnapshot, MemoryEventStore, verifyLog } from '../../src/store/index.js';

/*
 * Issue 10 item 16: a snapshot is a cache read back from outside. One of the wrong shape must
 * not wedge the book; verify must check snapshots against the log; rebuild --accept-regression
 * must repair them.
 */

const policy = BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null });
const stream = bookStream('b');
const limits = { idempotencyWindow: policy.idempotencyWindow, timeZone: policy.timeZone };

function warnings() {
  const seen: { obj: object; msg: string | undefined }[] = [];
  return { seen, logger: { debug: () => undefined, warn: (obj: object, msg?: string) => void seen.push({ obj, msg }) } };
}

/** A book of three events (A IN at 100, then B WATCHING) with a snapshot at revision 1 (A IN). */
async function bookWithSnapshot(): Promise<MemoryEventStore> {
  const store = new MemoryEventStore();
  const handler = new CommandHandler({ store, bookId: 'b', policy, snapshotEvery: 1 });
  await handler.handle({ type: 'Track', positionId: 'A' });
  await handler.handle({ type: 'Enter', positionId: 'A', value: 100 });
  await handler.handle({ type: 'Track', positionId: 'B' });
  expect((await store.readSnapshot(stream))?.revision).toBe(1);
  return store;
}

/** A well-formed, correctly checksummed snapshot that says something the log does not. */
async function lyingSnapshot(store: MemoryEventStore): Promise<void> {
  const decoded = decodeBookSnapshot((await store.readSnapshot(stream))!);
  if (!decoded.ok) throw new Error(decoded.reason);
  const json: BookStateJson = { ...decoded.json, realizedPnl: 5_000 };
  await store.writeSnapshot(stream, encodeBookSnapshot(bookFromSnapshot(json)));
}

async function commandsStillRun(store: MemoryEventStore, logger?: ReturnType<typeof warnings>['logger']) {
  const handler = new CommandHandler({ store, bookId: 'b', policy, snapshotEvery: 0, ...(logger ? { logger } : {}) });
  await handler.handle({ type: 'Exit', positionId: 'A', value: 110 });
  const state = await handler.load();
  expect(state.positions.get('A')?.status).toBe('EXITED');
  expect(state.positions.get('B')?.status).toBe('WATCHING');
  expect(state.realizedPnl).toBe(10);
}

describe('#10.16 book snapshots', () => {
  it('#10.16 a bare snapshot of the wrong shape (positions: 5) no longer wedges the book: the book replays', async () => {
    const store = await bookWithSnapshot();
    await store.writeSnapshot(stream, { revision: 1, version: 2, state: { revision: 1, limits, positions: 5, realizedPnl: 0 } });
    await commandsStillRun(store);
  });

  it('#10.16 a current-version snapshot of the wrong shape is discarded with a warning naming the field, and the book replays', async () => {
    const store = await bookWithSnapshot();
    const good = (await store.readSnapshot(stream))!;
    const book = { ...(good.state as { book: BookStateJson }).book, positions: 5 };
    // A matching checksum, so the shape check is what refuses it.
    const forged = { ...good, state: { checksum: `fnv64:${digest64(JSON.stringify(book))}`, book } };
    await store.writeSnapshot(stream, forged);
    const { seen, logger } = warnings();
    await commandsStillRun(store, logger);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.msg).toMatch(/^discarded the snapshot of tradelog-b: its book has the wrong shape: positions: .+; replaying the log$/);
  });

  it('#10.16 a snapshot whose checksum does not match is discarded with a warning, and the book replays', async () => {
    const store = await bookWithSnapshot();
    const good = (await store.readSnapshot(stream))!;
    const tampered = structuredClone(good);
    (tampered.state as { book: BookStateJson }).book.realizedPnl = 5_000;
    await store.writeSnapshot(stream, tampered);
    const { seen, logger } = warnings();
    await commandsStillRun(store, logger);
    expect(seen.map((w) => w.msg)).toEqual([expect.stringMatching(/discarded the snapshot of tradelog-b: its checksum does not match/)]);
  });

  it('#10.16 verify reports a snapshot that does not match the fold of the log it claims', async () => {
    const store = await bookWithSnapshot();
    expect((await verifyLog(store)).ok).toBe(true);
    await lyingSnapshot(store);
    const report = await verifyLog(store);
    expect(report.ok).toBe(false);
    expect(report.problem).toEqual({
      kind: 'snapshot',
      position: 0,
      stream: 'tradelog-b',
      revision: 1,
      message:
        'the book snapshot of tradelog-b (revision 1) cannot be trusted: it does not match the fold of the log up to revision 1: its realizedPnl differ ' +
        '(run ptrack rebuild --accept-regression to rewrite it from the log)',
    });
  });

  it('#10.16 verify reports a snapshot of the wrong shape', async () => {
    const store = await bookWithSnapshot();
    await store.writeSnapshot(stream, { revision: 1, version: BOOK_SNAPSHOT_VERSION, state: { revision: 1, positions: 5 } });
    expect((await verifyLog(store)).problem).toMatchObject({
      kind: 'snapshot',
      stream: 'tradelog-b',
      message: expect.stringMatching(/cannot be trusted: it is not \{ checksum, book \}/),
    });
  });

  it('#10.16 the snapshot repair of rebuild --accept-regression rewrites a bad snapshot from the log', async () => {
    const store = await bookWithSnapshot();
    await lyingSnapshot(store);
    const repaired = await repairBookSnapshots(store, ['b'], limits);
    expect(repaired).toEqual([
      { stream: 'tradelog-b', from: 1, to: 2, reason: 'it does not match the fold of the log up to revision 1: its realizedPnl differ' },
    ]);
    expect(await checkBookSnapshot(store, stream)).toEqual({ status: 'ok', revision: 2 });
    expect((await verifyLog(store)).ok).toBe(true);
    const { seen, logger } = warnings();
    await commandsStillRun(store, logger);
    expect(seen).toEqual([]);
  });
});
