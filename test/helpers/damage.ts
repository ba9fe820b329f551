import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { bookStream } from '../../src/events/index.js';
import { SqliteEventStore } from '../../src/store/index.js';

/*
 * Physically damaged SQLite trade logs, made the way disks and bad copies make them: bytes
 * overwritten in place, the WAL folded in first so the damage is in the file SQLite reads.
 */

export type Damage =
  /** The first bytes of every page after the first: each table's and index's page header. */
  | 'pages'
  /** The database header after its magic string (page size, counters): SQLite calls it "not a database". */
  | 'header'
  /** The schema table on page 1, after the header. */
  | 'schema';

/** Writes a trade log of `events` events at `file` and damages it. */
export async function damagedLog(file: string, damage: Damage, events = 60): Promise<void> {
  const store = SqliteEventStore.open(file);
  for (let i = 0; i < events; i++) {
    await store.append(bookStream('main'), [
      { type: 'PositionTracked', data: { positionId: `P${i}`, side: 'long', symbol: 'AAPL', setup: 's'.repeat(60), source: 'local' } },
    ]);
  }
  store.checkpointWal();
  await store.close();
  const size = statSync(file).size;
  const pageSize = 4096;
  const fd = openSync(file, 'r+');
  try {
    if (damage === 'header') writeSync(fd, Buffer.alloc(84, 0xff), 0, 84, 16);
    else if (damage === 'schema') writeSync(fd, Buffer.alloc(200, 0xff), 0, 200, 100);
    else for (let page = pageSize; page < size; page += pageSize) writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, page);
  } finally {
    closeSync(fd);
  }
}
