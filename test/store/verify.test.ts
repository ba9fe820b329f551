import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyLog } from '../../src/store/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const heartbeat = (i: number) => ({
  type: 'Heartbeat' as const,
  data: { at: new Date(Date.UTC(2026, 0, 5, 0, 0, i)).toISOString(), source: 'local' as const },
});

describe('verify', () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    file = join(dir, 'trades.db');
    const store = SqliteEventStore.open(file);
    for (let i = 0; i < 12; i++) await store.append(i % 3 === 2 ? 'tradelog-b' : 'tradelog-a', [heartbeat(i)]);
    await store.close();
  });
  afterEach(() => cleanup());

  /** Damage done by another tool, which first drops the triggers that keep the log append-only. */
  const sql = (statement: string, ...args: unknown[]): void => {
    const db = new Database(file);
    db.exec('DROP TRIGGER IF EXISTS events_no_delete; DROP TRIGGER IF EXISTS events_no_move;');
    db.prepare(statement).run(...args);
    db.close();
  };
  const verify = async () => {
    const store = SqliteEventStore.open(file);
    try {
      return await verifyLog(store);
    } finally {
      await store.close();
    }
  };

  it('reports a sound log: every event parses, positions increase, revisions are contiguous per stream', async () => {
    expect(await verify()).toEqual({
      ok: true,
      events: 12,
      streams: 2,
      firstPosition: 1,
      lastPosition: 12,
      positionGaps: 0,
      head: { position: 12, count: 12 },
      integrity: [],
      problem: null,
    });
  });

  it('finds a missing event by the revision gap it leaves in its stream', async () => {
    // Positions 4, 5 are revisions 2, 3 of tradelog-a (a holds 1, 2, 4, 5, 7, 8, 10, 11).
    sql('DELETE FROM events WHERE position = ?', 4);
    expect((await verify()).problem).toEqual({
      kind: 'revision',
      position: 5,
      stream: 'tradelog-a',
      revision: 3,
      message: 'stream tradelog-a: revision 1 is followed by revision 3 at position 5, expected revision 2 (1 missing)',
    });
  });

  it('reports an event that does not parse, with its position', async () => {
    sql('UPDATE events SET data = \'{"at":"yesterday","source":"local"}\' WHERE position = ?', 9);
    const report = await verify();
    expect(report).toMatchObject({ ok: false, events: 8, lastPosition: 8 });
    expect(report.problem).toMatchObject({ kind: 'unparseable', position: 9, stream: 'tradelog-b', revision: 2 });
    expect(report.problem!.message).toMatch(/^stored event at position 9 .*data\.at/);
  });

  it('reports the first problem when a later event in the same page does not parse', async () => {
    sql('DELETE FROM events WHERE position = ?', 3);
    sql("UPDATE events SET type = 'Nonsense' WHERE position = ?", 10);
    expect((await verify()).problem).toMatchObject({ kind: 'revision', position: 6, stream: 'tradelog-b' });
  });

  it('reports a stream that does not start at revision 0', async () => {
    sql(
      "INSERT INTO events (stream, revision, type, data, metadata) SELECT 'tradelog-c', 4, type, data, metadata FROM events WHERE position = 1",
    );
    expect((await verify()).problem).toMatchObject({
      kind: 'revision',
      position: 13,
      message: 'stream tradelog-c: the stream starts with revision 4 at position 13, expected revision 0 (4 missing)',
    });
  });

  it('ptrack verify: exit 0 with a summary, exit 4 naming the first problem', async () => {
    const ok = await ptrack(['verify', '--store', `sqlite:${file}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^the log is sound: 12 events in 2 streams, positions 1\.\.12, every event parses, revisions contiguous, SQLite's integrity check ok \(checked in \d+ ms\)\n$/,
    );
    sql('DELETE FROM events WHERE position = ?', 4);
    const bad = await ptrack(['verify', '--store', `sqlite:${file}`]);
    expect(bad).toMatchObject({ code: 4, stdout: '' });
    expect(bad.stderr).toBe(
      'ptrack: the log is damaged at position 5: stream tradelog-a: revision 1 is followed by revision 3 at position 5, expected revision 2 (1 missing)\n',
    );
    const json = await ptrack(['verify', '--json', '--store', `sqlite:${file}`]);
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problem: { kind: 'revision', position: 5 } });
  });
});
