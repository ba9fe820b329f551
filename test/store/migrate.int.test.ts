import { exitCodeOf } from '../../src/cli/exitCodes.js';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import { MemoryEventStore, SqliteEventStore, readAllEvents } from '../../src/store/index.js';
import { MigrationConflictError, migrateStore, type MigrateProgress } from '../../src/store/migrate.js';
import { ptrack } from '../helpers/cli.js';
import { heartbeat, tracked } from '../helpers/events.js';
import { tempDir } from '../helpers/tmp.js';

async function all(store: SqliteEventStore | MemoryEventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of readAllEvents(store, { pageSize: 7 })) out.push(e);
  return out;
}

/** What must survive a migration: stream, revision and the envelope (positions are the target's own). */
const shape = (events: RecordedEvent[]) =>
  events.map(({ stream, revision, type, data, metadata }) => ({ stream, revision, type, data, metadata }));

/** Two books written interleaved, in batches, with ids in the metadata. */
async function fill(store: SqliteEventStore): Promise<void> {
  await store.append('tradelog-a', [tracked(1, { correlationId: 'k-1' }), tracked(2)], { expectedRevision: 'no_stream' });
  await store.append('tradelog-b', [heartbeat(1)], { expectedRevision: 'no_stream' });
  for (let i = 3; i <= 12; i++) await store.append(i % 3 === 0 ? 'tradelog-b' : 'tradelog-a', [tracked(i)]);
  await store.append('tradelog-a', [heartbeat(2), heartbeat(3), heartbeat(4)]);
  await store.writeSnapshot('tradelog-a', { revision: 3, version: 1, state: { cached: true } });
}

describe('migrateStore: sqlite -> sqlite (a second file)', () => {
  let dir: string;
  let cleanup: () => void;
  let source: SqliteEventStore;
  let target: SqliteEventStore;
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    source = SqliteEventStore.open(join(dir, 'source.db'));
    target = SqliteEventStore.open(join(dir, 'target.db'));
    await fill(source);
  });
  afterEach(async () => {
    await source.close();
    await target.close();
    cleanup();
  });

  it('copies every stream in global order, keeping revisions and envelopes', async () => {
    const progress: MigrateProgress[] = [];
    const report = await migrateStore(source, target, { onProgress: (p) => progress.push(p), pageSize: 4, batchSize: 2 });
    const [src, dst] = [await all(source), await all(target)];
    expect(src).toHaveLength(16);
    expect(shape(dst)).toEqual(shape(src));
    // Global order is kept: on two SQLite files the positions even come out the same.
    expect(dst.map((e) => e.position)).toEqual(src.map((e) => e.position));
    expect(await target.head()).toEqual(await source.head());
    expect(await target.streamRevision('tradelog-a')).toBe(await source.streamRevision('tradelog-a'));
    expect(report).toMatchObject({
      events: 16,
      streams: 2,
      copied: 16,
      skipped: 0,
      targetCount: 16,
      snapshots: 'not copied',
      dryRun: false,
    });
    expect(await target.readSnapshot('tradelog-a')).toBeNull();
    expect([...new Set(progress.map((p) => p.phase))]).toEqual(['verify', 'copy', 'check']);
    expect(progress.filter((p) => p.phase === 'copy').at(-1)).toMatchObject({ scanned: 16, total: 16, copied: 16, skipped: 0 });
  });

  it('run again, copies nothing and succeeds; after new source events, copies only those', async () => {
    await migrateStore(source, target);
    const before = await all(target);
    const again = await migrateStore(source, target);
    expect(again).toMatchObject({ copied: 0, skipped: 16, targetCount: 16 });
    expect(await all(target)).toEqual(before);

    await source.append('tradelog-b', [tracked(20)], { expectedRevision: 4 });
    await source.append('tradelog-c', [tracked(21)]);
    const third = await migrateStore(source, target);
    expect(third).toMatchObject({ events: 18, streams: 3, copied: 2, skipped: 16, targetCount: 18 });
    expect(shape(await all(target))).toEqual(shape(await all(source)));
  });

  it('finishes an interrupted copy: what the target holds is checked equal and skipped', async () => {
    const src = await all(source);
    // The first 5 events got across before the interruption.
    for (const e of src.slice(0, 5)) {
      await target.append(e.stream, [{ type: e.type, data: e.data, metadata: e.metadata } as never], {
        expectedRevision: e.revision === 0 ? 'no_stream' : e.revision - 1,
      });
    }
    const report = await migrateStore(source, target);
    expect(report).toMatchObject({ copied: 11, skipped: 5 });
    expect(shape(await all(target))).toEqual(shape(src));
  });

  it('refuses a target with another event at a revision, and writes nothing', async () => {
    await target.append('tradelog-a', [tracked(1, { correlationId: 'k-1' })]);
    await target.append('tradelog-a', [tracked(99)]); // the source has tracked(2) at revision 1
    const before = await all(target);
    const error = await migrateStore(source, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationConflictError);
    expect(exitCodeOf(error)).toBe(4);
    expect(error).toMatchObject({ code: 'MIGRATION_CONFLICT', conflicts: [{ stream: 'tradelog-a', revision: 1 }] });
    expect((error as Error).message).toMatch(
      /^cannot migrate into sqlite .*target\.db: 1 stream disagrees with the source \(tradelog-a at revision 1: both PositionTracked, but their data differ\); nothing was written$/,
    );
    // Nothing written: not even tradelog-b, which had no conflict.
    expect(await all(target)).toEqual(before);
    expect(await target.streamRevision('tradelog-b')).toBe(-1);
  });

  it('refuses a target stream with more events than the source, or different metadata', async () => {
    const src = await all(source);
    const b = src.filter((e) => e.stream === 'tradelog-b');
    for (const e of b) await target.append('tradelog-b', [{ type: e.type, data: e.data, metadata: e.metadata } as never]);
    await target.append('tradelog-b', [heartbeat(9)]);
    await target.append('tradelog-a', [tracked(1, { correlationId: 'other' })]);
    const error = await migrateStore(source, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationConflictError);
    const conflicts = (error as MigrationConflictError).conflicts;
    expect(conflicts).toEqual([
      { stream: 'tradelog-a', revision: 0, reason: 'both PositionTracked, but their metadata differ' },
      { stream: 'tradelog-b', reason: `the target holds ${b.length + 1} events, the source ${b.length}` },
    ]);
    expect((error as Error).message).toMatch(/2 streams disagree with the source/);
    expect(await target.head()).toMatchObject({ count: b.length + 2 });
  });

  it('leaves streams only the target holds alone, and says so in the count', async () => {
    await target.append('tradelog-other', [tracked(50), tracked(51)]);
    const report = await migrateStore(source, target);
    expect(report).toMatchObject({ events: 16, copied: 16, targetCount: 18 });
    expect(await target.streamRevision('tradelog-other')).toBe(1);
  });

  it('a dry run counts what would be copied and appends nothing', async () => {
    const report = await migrateStore(source, target, { dryRun: true });
    expect(report).toMatchObject({ dryRun: true, copied: 16, skipped: 0, targetCount: 0 });
    expect(await target.head()).toEqual({ position: 0, count: 0 });
  });

  it('refuses to copy a store into itself', async () => {
    const same = SqliteEventStore.open(join(dir, 'source.db'));
    try {
      await expect(migrateStore(source, same)).rejects.toThrow(ValidationError);
      await expect(migrateStore(source, same)).rejects.toThrow(/the source and the target are the same store/);
    } finally {
      await same.close();
    }
  });

  it("copies into another engine: memory (positions are the target's own)", async () => {
    const memory = new MemoryEventStore();
    await memory.append('tradelog-z', [tracked(70)]);
    await migrateStore(source, memory);
    const copied = (await all(memory)).filter((e) => e.stream !== 'tradelog-z');
    expect(shape(copied)).toEqual(shape(await all(source)));
    expect(copied[0]!.position).toBe(2);
  });
});

describe('ptrack migrate', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    const source = SqliteEventStore.open(join(dir, 'source.db'));
    await fill(source);
    await source.close();
  });
  afterEach(() => cleanup());

  it('copies, reports progress on stderr, and runs again safely', async () => {
    const from = `sqlite:${join(dir, 'source.db')}`;
    const to = `sqlite:${join(dir, 'target.db')}`;
    const first = await ptrack(['migrate', '--from', from, '--to', to], { cwd: dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      `sqlite ${join(dir, 'source.db')} -> sqlite ${join(dir, 'target.db')}: 16 events in 2 streams; copied 16, already there 0; ` +
        'the target holds 16 events; snapshots are not copied (a cache, rebuilt from the streams)\n',
    );
    expect(first.stderr).toMatch(/^verify: 16 \/ 16 events compared with the target$/m);
    expect(first.stderr).toMatch(/^copy: 16 \/ 16 events \(copied 16, already there 0\)$/m);

    const again = await ptrack(['migrate', '--from', from, '--to', to, '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ events: 16, copied: 0, skipped: 16, targetCount: 16, from: { engine: 'sqlite' } });

    const target = SqliteEventStore.open(join(dir, 'target.db'));
    const source = SqliteEventStore.open(join(dir, 'source.db'));
    try {
      expect(shape(await all(target))).toEqual(shape(await all(source)));
    } finally {
      await target.close();
      await source.close();
    }
  });

  it('exits 4 with one line on a target that disagrees, writing nothing', async () => {
    const target = SqliteEventStore.open(join(dir, 'target.db'));
    await target.append('tradelog-b', [tracked(77)]);
    await target.close();
    const r = await ptrack(['migrate', '--from', `sqlite:${join(dir, 'source.db')}`, '--to', `sqlite:${join(dir, 'target.db')}`], {
      cwd: dir,
    });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('ptrack:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^ptrack: cannot migrate into sqlite ${join(dir, 'target.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 1 stream disagrees with the source ` +
          '\\(tradelog-b at revision 0: source Heartbeat recorded \\S+, target PositionTracked recorded 2026-01-01T00:00:00\\.000Z\\); nothing was written$',
      ),
    );
    const after = SqliteEventStore.open(join(dir, 'target.db'));
    expect(await after.head()).toEqual({ position: 1, count: 1 });
    await after.close();
  });

  it('exits 2 on a missing --to or a bad store string, 5 on an unreachable server', async () => {
    const from = `sqlite:${join(dir, 'source.db')}`;
    expect((await ptrack(['migrate', '--from', from], { cwd: dir })).code).toBe(2);
    const bad = await ptrack(['migrate', '--from', from, '--to', 'esdb://localhost:2113?tls=maybe'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/option tls: expected true or false, got "maybe"/);
    const down = await ptrack(['migrate', '--from', from, '--to', 'esdb://127.0.0.1:1?tls=false'], { cwd: dir });
    expect(down.code).toBe(5);
    expect(down.stderr).toMatch(/^ptrack: cannot reach EventStoreDB at esdb:\/\/127\.0\.0\.1:1\?tls=false \(connect\)/);
  });
});
