import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventSchemaError, StoreError } from '../../src/errors/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import { openStore, parseStoreSpec, SqliteEventStore } from '../../src/store/index.js';
import { runChild } from '../helpers/children.js';
import { tracked } from '../helpers/events.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from './contract.js';

describe('sqlite engine', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => {
    chmodSync(dir, 0o755);
    cleanup();
  });

  describe('opening', () => {
    it('creates the directory and the file, in WAL with synchronous=FULL, and again on reopen', async () => {
      const file = join(dir, 'nested', 'state', 'trades.db');
      const first = SqliteEventStore.open(file);
      expect(first.settings()).toMatchObject({ journalMode: 'wal', synchronous: 'FULL', busyTimeoutMs: 5000 });
      await first.append('tradelog-a', [tracked(1)]);
      await first.close();
      // A WAL database reopened by the driver would fall back to NORMAL unless set again.
      const second = SqliteEventStore.open(file, { busyTimeoutMs: 1234 });
      expect(second.settings()).toEqual({ journalMode: 'wal', synchronous: 'FULL', busyTimeoutMs: 1234 });
      expect(await second.head()).toEqual({ position: 1, count: 1 });
      await second.close();
    });

    it('records the schema in a migration table and marks the file as a trade log', async () => {
      const file = join(dir, 'trades.db');
      await (await openStore(`sqlite:${file}`)).close();
      const raw = new Database(file, { readonly: true });
      expect(raw.pragma('application_id', { simple: true })).toBe(0x50545243);
      expect(raw.pragma('user_version', { simple: true })).toBe(2);
      expect(raw.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
        { version: 1, name: 'trade log: events and snapshots' },
        { version: 2, name: 'trade log: append-only (no event is deleted or moved), so the last position is also the count' },
      ]);
      raw.close();
    });

    it('is append-only: a delete or a move of an event is refused, so head() (the last position) is also the count', async () => {
      const file = join(dir, 'trades.db');
      const store = SqliteEventStore.open(file);
      await store.append('tradelog-a', [tracked(1), tracked(2)]);
      await store.append('tradelog-b', [tracked(3)]);
      expect(await store.head()).toEqual({ position: 3, count: 3 });
      const raw = new Database(file);
      expect(() => raw.prepare('DELETE FROM events WHERE position = ?').run(2)).toThrow(/append-only: an event is never deleted/);
      expect(() => raw.prepare('DELETE FROM events').run()).toThrow(/append-only/);
      expect(() => raw.prepare('UPDATE events SET position = 10 WHERE position = 3').run()).toThrow(/never changes its position/);
      expect(raw.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(3);
      raw.close();
      await store.append('tradelog-a', [tracked(4)]);
      expect(await store.head()).toEqual({ position: 4, count: 4 });
      await store.close();
    });

    it('reads a log of schema 1 as it is (read-only) and migrates it on the next writable open', async () => {
      const file = join(dir, 'old.db');
      const old = new Database(file);
      old.pragma('journal_mode = WAL');
      old.exec(
        'CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL CHECK (revision >= 0), ' +
          'type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, UNIQUE (stream, revision)) STRICT;' +
          'CREATE TABLE snapshots (stream TEXT PRIMARY KEY, revision INTEGER NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL, written_at TEXT NOT NULL) STRICT;',
      );
      old.pragma('application_id = 1347703363');
      old.pragma('user_version = 1');
      old.close();
      const writer = SqliteEventStore.open(file);
      await writer.append('tradelog-a', [tracked(1)]);
      await writer.close();
      const reader = SqliteEventStore.open(file, { readOnly: true });
      expect(await reader.head()).toEqual({ position: 1, count: 1 });
      await reader.close();
      const raw = new Database(file);
      expect(raw.pragma('user_version', { simple: true })).toBe(2);
      expect(() => raw.prepare('DELETE FROM events').run()).toThrow(/append-only/);
      raw.close();
    });

    it('refuses a file that is not SQLite, and writes nothing', () => {
      const file = join(dir, 'notes.db');
      writeFileSync(file, 'these are my trading notes, not a database\n'.repeat(200));
      const before = readFileSync(file);
      expect(() => SqliteEventStore.open(file)).toThrow(StoreError);
      expect(() => SqliteEventStore.open(file)).toThrow(/is not a trade log: it is not an SQLite database/);
      expect(readFileSync(file).equals(before)).toBe(true);
      expect(existsSync(`${file}-wal`)).toBe(false);
    });

    it("refuses another application's SQLite database, and writes nothing", () => {
      const file = join(dir, 'other.db');
      const other = new Database(file);
      other.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'ada')");
      other.close();
      const before = readFileSync(file);
      expect(() => SqliteEventStore.open(file)).toThrow(/not a trade log: it is an SQLite database of another application .*customers/);
      expect(readFileSync(file).equals(before)).toBe(true);
    });

    it('refuses a trade log written by a newer schema, and writes nothing', async () => {
      const file = join(dir, 'trades.db');
      const store = SqliteEventStore.open(file);
      await store.append('tradelog-a', [tracked(1)]);
      await store.close();
      const raw = new Database(file);
      raw.pragma('user_version = 7');
      raw.pragma('wal_checkpoint(TRUNCATE)');
      raw.close();
      const before = readFileSync(file);
      expect(() => SqliteEventStore.open(file)).toThrow(/written by a newer position-tracker \(schema 7; this build reads up to 2\)/);
      expect(readFileSync(file).equals(before)).toBe(true);
    });

    it('fails clearly in a read-only directory, writing nothing', async () => {
      const ro = join(dir, 'readonly');
      mkdirSync(ro);
      chmodSync(ro, 0o555);
      chmodSync(dir, 0o755);
      const spec = `sqlite:${join(ro, 'trades.db')}`;
      // root ignores directory permissions, so as root the open runs as an unprivileged user.
      const asRoot = process.getuid?.() === 0;
      let result: { ok: boolean; name?: string; message?: string };
      if (asRoot) {
        const child = await runChild('openStore.mjs', [spec], { uid: 65534, gid: 65534 });
        result = JSON.parse(child.stdout.trim());
      } else {
        result = await openStore(spec).then(
          async (s) => (await s.close(), { ok: true }),
          (e: Error) => ({ ok: false, name: e.name, message: e.message }),
        );
      }
      expect(result).toMatchObject({ ok: false, name: 'StoreError' });
      expect(result.message).toMatch(/cannot open the trade log at .*readonly\/trades\.db: .*must be writable/);
      expect(existsSync(join(ro, 'trades.db'))).toBe(false);
    });
  });

  describe('store strings', () => {
    it('parses sqlite and memory strings', () => {
      expect(parseStoreSpec('sqlite:./state/trades.db')).toEqual({ engine: 'sqlite', path: './state/trades.db' });
      expect(parseStoreSpec('sqlite:///var/lib/trades.db')).toEqual({ engine: 'sqlite', path: '/var/lib/trades.db' });
      expect(parseStoreSpec('memory:')).toEqual({ engine: 'memory' });
    });

    it.each([
      ['', /store: expected 'sqlite:<file>'.*got ""/],
      ['trades.db', /store "trades.db": unknown store; expected 'sqlite:<file>'/],
      ['sqlite:', /the sqlite engine needs a file path/],
      ['mysql://localhost/x', /unknown store/],
      ['memory:abc', /'memory:' takes nothing after the colon/],
    ])('refuses %j with a clear error', async (spec, message) => {
      await expect(openStore(spec)).rejects.toThrow(StoreError);
      await expect(openStore(spec)).rejects.toThrow(message);
    });
  });

  describe('reading damaged events', () => {
    it('raises EventSchemaError naming stream, revision, type and field; never skips', async () => {
      const file = join(dir, 'trades.db');
      const store = SqliteEventStore.open(file);
      await store.append('tradelog-a', [tracked(1), tracked(2), tracked(3)]);
      const raw = new Database(file);
      raw
        .prepare('UPDATE events SET data = ? WHERE revision = 1')
        .run(JSON.stringify({ positionId: 'P-2', side: 'sideways', source: 'local' }));
      raw.close();
      const err = await store.readAll().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EventSchemaError);
      expect(err).toMatchObject({ location: { stream: 'tradelog-a', revision: 1, type: 'PositionTracked', field: 'data.side' } });
      expect((err as Error).message).toMatch(
        /position 2 \(stream "tradelog-a", revision 1, type PositionTracked\): data\.side: .*got "sideways"/,
      );
      await store.close();
    });
  });

  describe('positions', () => {
    it('has no gaps after a refused append', async () => {
      const store = SqliteEventStore.open(join(dir, 'trades.db'));
      await store.append('tradelog-a', [tracked(1)], { expectedRevision: 'no_stream' });
      await expect(store.append('tradelog-a', [tracked(2), tracked(3)], { expectedRevision: 'no_stream' })).rejects.toThrow();
      await store.append('tradelog-b', [tracked(4)]);
      expect((await store.readAll()).map((e) => e.position)).toEqual([1, 2]);
      await store.close();
    });
  });

  describe('subscribe across processes', () => {
    it("sees another process's appends to the same file", async () => {
      const file = join(dir, 'trades.db');
      const store = SqliteEventStore.open(file, { pollIntervalMs: 20 });
      await store.append('tradelog-a', [tracked(1)]);
      const got: RecordedEvent[] = [];
      const sub = store.subscribe().subscribe((e) => got.push(e));
      await eventually(() => got.length === 1);
      const child = await runChild('appendOnce.mjs', [file, 'tradelog-other', '3']);
      expect(child.stdout).toBe('done\n');
      await eventually(() => got.length === 4, 5000, "the other process's events");
      expect(got.map((e) => [e.stream, e.position])).toEqual([
        ['tradelog-a', 1],
        ['tradelog-other', 2],
        ['tradelog-other', 3],
        ['tradelog-other', 4],
      ]);
      sub.unsubscribe();
      await store.close();
    });
  });

  it('completes subscriptions when the store closes', async () => {
    const store = SqliteEventStore.open(join(dir, 'trades.db'));
    let completed = false;
    store.subscribe().subscribe({ complete: () => (completed = true) });
    await store.close();
    expect(completed).toBe(true);
    await expect(store.head()).rejects.toThrow(/is closed/);
  });
});
