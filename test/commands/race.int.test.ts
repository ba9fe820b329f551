import { join } from 'node:path';
import { describe, expect } from 'vitest';
import type { BookPolicyInput } from '../../src/commands/index.js';
import { bookStream, type RecordedEvent } from '../../src/events/index.js';
import { SqliteEventStore, readWholeStream, verifyLog } from '../../src/store/index.js';
import { enterRaces, PROCS, runRace, type PlannedEntry, type Race } from '../helpers/enterRace.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Several processes enter positions on one SQLite file's book at once: the limits hold exactly
 * and no acknowledged command goes missing (the races and their checks: test/helpers/enterRace.ts).
 */

async function race(book: string, policy: BookPolicyInput, planOf: (name: string) => PlannedEntry[]): Promise<Race> {
  const { dir, cleanup } = tempDir('ptrack-race-');
  const file = join(dir, 'trades.db');
  try {
    // Create the file first, so the racers race on the book and not on creating the schema.
    await SqliteEventStore.open(file).close();
    const result = await runRace({
      store: `sqlite:${file}`,
      dir,
      book,
      policy,
      planOf,
      readLog: async () => {
        const store = SqliteEventStore.open(file);
        const events: RecordedEvent[] = [];
        try {
          for await (const e of readWholeStream(store, bookStream(book))) events.push(e);
        } finally {
          await store.close();
        }
        return events;
      },
    });
    // After the racers: the file itself is sound (SQLite's integrity check, positions, revisions).
    const store = SqliteEventStore.open(file);
    try {
      expect((await verifyLog(store)).problem).toBeNull();
    } finally {
      await store.close();
    }
    return result;
  } finally {
    cleanup();
  }
}

describe(`${PROCS} processes entering positions on one book at once`, () => {
  enterRaces('sqlite', race);
});
