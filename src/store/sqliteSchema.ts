import { lastOf } from '../_internals/present.js';

/** `PRAGMA application_id` of a trade log: "PTRC". Tells our files from any other SQLite file. */
export const APPLICATION_ID = 0x50545243;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as ordered migrations. `PRAGMA user_version` holds the applied version and
 * `schema_migrations` records when each was applied. Never edit a shipped migration: add one.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'trade log: events and snapshots',
    sql: `
      CREATE TABLE events (
        position INTEGER PRIMARY KEY,
        stream   TEXT    NOT NULL,
        revision INTEGER NOT NULL CHECK (revision >= 0),
        type     TEXT    NOT NULL,
        data     TEXT    NOT NULL,
        metadata TEXT    NOT NULL,
        UNIQUE (stream, revision)
      ) STRICT;
      CREATE TABLE snapshots (
        stream     TEXT    PRIMARY KEY,
        revision   INTEGER NOT NULL,
        version    INTEGER NOT NULL,
        state      TEXT    NOT NULL,
        written_at TEXT    NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'trade log: append-only (no event is deleted or moved), so the last position is also the count',
    // Positions are rowids handed out under the write lock as the last one + 1: with no row ever
    // deleted or moved they run 1..n, so head() reads the last one (O(1)) instead of counting.
    sql: `
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events
      BEGIN SELECT RAISE(ABORT, 'the trade log is append-only: an event is never deleted'); END;
      CREATE TRIGGER events_no_move BEFORE UPDATE OF position ON events
      BEGIN SELECT RAISE(ABORT, 'the trade log is append-only: an event never changes its position'); END;
    `,
  },
];

export const SCHEMA_VERSION = lastOf(MIGRATIONS, 'migration').version;
