import { exitCodeOf } from '../../src/cli/exitCodes.js';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptionError } from '../../src/errors/index.js';
import { bookStream } from '../../src/events/index.js';
import { verifyLog } from '../../src/store/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { damagedLog } from '../helpers/damage.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 10, item 19: a physically damaged SQLite file is corruption (CorruptionError, exit 4)
 * on every path (open, read, write), naming the file and what SQLite found; verify runs
 * SQLite's integrity check and reports it.
 */

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('ptrack-damage-')));
afterEach(() => cleanup());

const event = { type: 'PositionTracked', data: { positionId: 'NEW', side: 'long', source: 'local' } } as const;

describe('#10.19 a damaged SQLite file is corruption', () => {
  it('#10.19 damaged pages: every read and write is a CorruptionError naming the file and the damaged tables', async () => {
    const file = join(dir, 'trades.db');
    await damagedLog(file, 'pages');
    for (const readOnly of [true, false]) {
      const store = SqliteEventStore.open(file, { readOnly });
      try {
        const calls: [string, () => Promise<unknown>][] = [
          ['head', () => store.head()],
          ['readAll', () => store.readAll({ limit: 100 })],
          ['readStream', () => store.readStream(bookStream('main'))],
          ['streamRevision', () => store.streamRevision(bookStream('main'))],
          ['readSnapshot', () => store.readSnapshot(bookStream('main'))],
          ...(readOnly ? [] : ([['append', () => store.append(bookStream('main'), [event])]] as [string, () => Promise<unknown>][])),
        ];
        for (const [name, call] of calls) {
          const error = await call().then(
            () => null,
            (e: unknown) => e,
          );
          expect(error, name).toBeInstanceOf(CorruptionError);
          expect(exitCodeOf(error)).toBe(4);
          expect((error as Error).message, name).toMatch(
            new RegExp(`^the trade log ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is damaged \\(SQLITE_CORRUPT: `),
          );
          expect((error as Error).message, name).toMatch(/\(events\)/);
        }
      } finally {
        await store.close();
      }
    }
  });

  it.each(['header', 'schema'] as const)('#10.19 a damaged %s: opening, to read or to write, is a CorruptionError', async (damage) => {
    const file = join(dir, 'trades.db');
    await damagedLog(file, damage);
    for (const readOnly of [true, false]) {
      expect(() => SqliteEventStore.open(file, { readOnly })).toThrow(CorruptionError);
      expect(() => SqliteEventStore.open(file, { readOnly })).toThrow(/is damaged \(SQLITE_(NOTADB|CORRUPT): .*\) while opening it/);
    }
  });

  it("#10.19 verify runs SQLite's integrity check: a sound file reports none, a damaged one says which tables", async () => {
    const sound = SqliteEventStore.open(join(dir, 'sound.db'));
    await sound.append(bookStream('main'), [event]);
    const good = await verifyLog(sound);
    await sound.close();
    expect(good).toMatchObject({ ok: true, integrity: [], problem: null });

    const file = join(dir, 'trades.db');
    await damagedLog(file, 'pages');
    const store = SqliteEventStore.open(file, { readOnly: true });
    const report = await verifyLog(store);
    await store.close();
    expect(report.ok).toBe(false);
    expect(report.integrity).toEqual(expect.arrayContaining([expect.stringMatching(/^Tree \d+ \(events\) page \d+: /)]));
    expect(report.problem).toMatchObject({
      kind: 'damaged',
      position: 0,
      message: expect.stringMatching(/^the sqlite integrity check of .* found damage: .*\(events\)/),
    });
  });
});
