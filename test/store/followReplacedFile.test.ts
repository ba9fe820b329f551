import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followReplacedFile, MemoryEventStore, openStore, SqliteEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

const heartbeat = (i: number) => ({
  type: 'Heartbeat' as const,
  data: { at: new Date(Date.UTC(2026, 0, 5, 0, 0, i)).toISOString(), source: 'local' as const },
});

async function logOf(file: string, events: number): Promise<void> {
  const store = SqliteEventStore.open(file);
  for (let i = 0; i < events; i++) await store.append('heartbeats', [heartbeat(i)]);
  await store.close();
}

/*
 * Issue 16 step 3: following the SQLite file when it is replaced is a store decorator in
 * src/store, not duck-typing in the projection runner.
 */
describe('followReplacedFile', () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    file = join(dir, 'trades.db');
  });
  afterEach(() => cleanup());

  it('a store that is not a file is always the same', async () => {
    const store = await followReplacedFile(new MemoryEventStore());
    expect(await store.checkFile()).toEqual({ status: 'same' });
    expect(store.engine).toBe('memory');
    await store.close();
  });

  it('passes every call to the store it holds', async () => {
    await logOf(file, 3);
    const store = await followReplacedFile(SqliteEventStore.open(file));
    expect(store.engine).toBe('sqlite');
    expect(store.location).toBe(file);
    expect(await store.head()).toEqual({ position: 3, count: 3 });
    await store.append('heartbeats', [heartbeat(3)], { expectedRevision: 2 });
    expect((await store.readAll()).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
    expect(await store.streamRevision('heartbeats')).toBe(3);
    expect(await store.checkIntegrity?.()).toEqual([]);
    expect(await store.checkFile()).toEqual({ status: 'same' });
    await store.close();
  });

  it('sees a file renamed over its path, and reopens it only when it was given a way to', async () => {
    await logOf(file, 5);
    await logOf(join(dir, 'backup.db'), 2);
    const handedIn = await followReplacedFile(SqliteEventStore.open(file));
    const owned = await followReplacedFile(await openStore(`sqlite:${file}`), () => openStore(`sqlite:${file}`));
    renameSync(join(dir, 'backup.db'), file);

    expect(await handedIn.checkFile()).toEqual({ status: 'replaced', reopenable: false });
    await expect(handedIn.reopen()).rejects.toThrow(/cannot be reopened/);
    await handedIn.close();

    expect(await owned.checkFile()).toEqual({ status: 'replaced', reopenable: true });
    expect(await owned.head()).toEqual({ position: 5, count: 5 });
    await owned.reopen();
    expect(await owned.head()).toEqual({ position: 2, count: 2 });
    expect(await owned.checkFile()).toEqual({ status: 'same' });
    await owned.close();
  });

  it('says gone when nothing is at the path', async () => {
    await logOf(file, 1);
    const store = await followReplacedFile(SqliteEventStore.open(file));
    rmSync(file);
    expect(await store.checkFile()).toEqual({ status: 'gone' });
    await store.close();
  });

  it('says in-use when another connection keeps the old file busy (its WAL cannot be emptied)', async () => {
    await logOf(file, 2);
    await logOf(join(dir, 'backup.db'), 1);
    // A short busy timeout: the checkpoint gives up on the reader quickly.
    const store = await followReplacedFile(SqliteEventStore.open(file, { busyTimeoutMs: 50 }), () => openStore(`sqlite:${file}`));
    await store.append('heartbeats', [heartbeat(2)]);
    // A reader holding a snapshot of the old file keeps a truncating checkpoint from completing.
    const reader = new Database(file, { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM sqlite_master').get();
      renameSync(join(dir, 'backup.db'), file);
      expect(await store.checkFile()).toEqual({ status: 'in-use' });
    } finally {
      reader.exec('COMMIT');
      reader.close();
    }
    await store.close();
  });
});
