import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/index.js';
import { PostgresEventStore, SqliteEventStore, readAllEvents, type EventStore } from '../../src/store/index.js';
import { ptrack } from '../helpers/cli.js';
import { heartbeat, tracked } from '../helpers/events.js';
import { describePostgres, postgresForSuite } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

async function all(store: EventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of readAllEvents(store, { pageSize: 7 })) out.push(e);
  return out;
}

/** What must survive a migration: stream, revision and the envelope (positions are the target's own). */
const shape = (events: RecordedEvent[]) =>
  events.map(({ stream, revision, type, data, metadata }) => ({ stream, revision, type, data, metadata }));

/** #13 `ptrack migrate` from SQLite to PostgreSQL and back, through the real binary. */
describePostgres('ptrack migrate: sqlite <-> postgres', () => {
  let server: Awaited<ReturnType<typeof postgresForSuite>>;
  let dir: string;
  let cleanup: () => void;
  beforeAll(async () => {
    server = await postgresForSuite();
    ({ dir, cleanup } = tempDir());
  });
  afterAll(async () => {
    cleanup?.();
    await server?.destroy();
  });

  it('copies a log to a postgres schema and from there to a new sqlite file, keeping every stream and revision; a second run copies nothing', async () => {
    const schema = server.schemaName();
    const source = SqliteEventStore.open(join(dir, 'source.db'));
    await source.append('tradelog-a', [tracked(1, { correlationId: 'k-1' }), tracked(2)], { expectedRevision: 'no_stream' });
    await source.append('tradelog-b', [heartbeat(1)], { expectedRevision: 'no_stream' });
    for (let i = 3; i <= 12; i++) await source.append(i % 3 === 0 ? 'tradelog-b' : 'tradelog-a', [tracked(i)]);
    const expected = shape(await all(source));
    await source.close();

    const pgStore = `${server.url}?schema=${schema}`;
    const there = await ptrack(['migrate', '--from', `sqlite:${join(dir, 'source.db')}`, '--to', pgStore, '--json'], { cwd: dir });
    expect(there.code).toBe(0);
    expect(JSON.parse(there.stdout)).toMatchObject({ events: 13, copied: 13, skipped: 0, targetCount: 13, to: { engine: 'postgres' } });
    const again = await ptrack(['migrate', '--from', `sqlite:${join(dir, 'source.db')}`, '--to', pgStore, '--json'], { cwd: dir });
    expect(JSON.parse(again.stdout)).toMatchObject({ copied: 0, skipped: 13, targetCount: 13 });

    const back = await ptrack(['migrate', '--from', pgStore, '--to', `sqlite:${join(dir, 'back.db')}`, '--json'], { cwd: dir });
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ events: 13, copied: 13, from: { engine: 'postgres' }, to: { engine: 'sqlite' } });

    const onPg = await PostgresEventStore.open(server.url, { schema });
    const returned = SqliteEventStore.open(join(dir, 'back.db'));
    try {
      expect(shape(await all(onPg))).toEqual(expected);
      expect(shape(await all(returned))).toEqual(expected);
      expect((await all(onPg)).map((e) => e.position)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    } finally {
      await onPg.close();
      await returned.close();
    }
  });
});
