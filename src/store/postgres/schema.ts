import { lastOf } from '../../_internals/present.js';

/** What `meta.application` holds in a trade log's schema: tells ours from any other schema of that name. */
export const APPLICATION = 'position-tracker trade log';

/**
 * The channel `append_events` notifies on commit (payload `<schema>:<last position>`). Only a
 * wake-up: a subscriber then reads from its checkpoint, so a lost notification costs latency, never an event.
 */
export const NOTIFY_CHANNEL = 'ptrack_appended';

/** Application-specific SQLSTATE raised by `append_events` when the expected revision does not hold. */
export const WRONG_REVISION = 'PTR01';

export interface PgMigration {
  version: number;
  name: string;
  /** SQL with `{{schema}}` standing for the quoted schema name and `{{schemaLiteral}}` for it as a string literal. */
  sql: string;
}

/**
 * The PostgreSQL schema, as ordered migrations (applied on open, under a transaction-scoped
 * advisory lock so two processes opening at once do not race). Never edit a shipped one: add one.
 *
 * Global positions: `append_events` first updates the one row of `head` (`last_position +=
 * n`). That row lock is held until the appending transaction commits or rolls back, so appends
 * are serialised, each takes the positions after the previous committed one, and a position is
 * handed out only once every lower one is committed and visible. A reader that reads
 * `position > checkpoint` can therefore never see position p+1 before p: positions are gap-free
 * and in commit order, and a rolled-back append rolls its counter update back with it. (A
 * `bigserial` gives no such guarantee: two open transactions hold 1 and 2, 2 commits first, and a
 * reader that checkpoints at 2 skips 1 forever; test/store/postgres.positions.int.test.ts shows it.)
 *
 * The expected revision is checked in the same function, after the lock, on a fresh snapshot
 * (each statement of a volatile PL/pgSQL function takes one), and `UNIQUE (stream, revision)`
 * refuses any second writer of a revision whatever path it took.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'trade log: events, snapshots, the position counter and append_events',
    sql: `
      CREATE TABLE {{schema}}.events (
        position bigint PRIMARY KEY CHECK (position > 0),
        stream   text   NOT NULL,
        revision bigint NOT NULL CHECK (revision >= 0),
        type     text   NOT NULL,
        data     text   NOT NULL,
        metadata text   NOT NULL,
        UNIQUE (stream, revision)
      );
      CREATE TABLE {{schema}}.snapshots (
        stream     text        PRIMARY KEY,
        revision   bigint      NOT NULL,
        version    integer     NOT NULL,
        state      text        NOT NULL,
        written_at timestamptz NOT NULL
      );
      CREATE TABLE {{schema}}.head (
        singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        last_position bigint  NOT NULL CHECK (last_position >= 0)
      );
      INSERT INTO {{schema}}.head (singleton, last_position) VALUES (true, 0);
      CREATE FUNCTION {{schema}}.append_events(
        p_stream text, p_mode text, p_expected bigint, p_types text[], p_data text[], p_metadata text[]
      ) RETURNS TABLE (current_revision bigint, last_position bigint)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        n   integer := coalesce(array_length(p_types, 1), 0);
        pos bigint;
        cur bigint;
      BEGIN
        -- The one lock every append takes, held to commit: positions in commit order, no gaps.
        UPDATE {{schema}}.head AS h SET last_position = h.last_position + n RETURNING h.last_position INTO pos;
        SELECT coalesce(max(e.revision), -1) INTO cur FROM {{schema}}.events AS e WHERE e.stream = p_stream;
        IF (p_mode = 'no_stream' AND cur <> -1)
           OR (p_mode = 'stream_exists' AND cur = -1)
           OR (p_mode = 'revision' AND cur <> p_expected) THEN
          RAISE EXCEPTION USING ERRCODE = '${WRONG_REVISION}', MESSAGE = 'wrong expected revision', DETAIL = cur::text;
        END IF;
        INSERT INTO {{schema}}.events (position, stream, revision, type, data, metadata)
          SELECT pos - n + i, p_stream, cur + i, p_types[i], p_data[i], p_metadata[i]
          FROM generate_series(1, n) AS i;
        current_revision := cur;
        last_position := pos;
        RETURN NEXT;
      END
      $fn$;
    `,
  },
  {
    version: 2,
    name: 'append_events notifies subscribers on commit (a wake-up only)',
    sql: `
      CREATE OR REPLACE FUNCTION {{schema}}.append_events(
        p_stream text, p_mode text, p_expected bigint, p_types text[], p_data text[], p_metadata text[]
      ) RETURNS TABLE (current_revision bigint, last_position bigint)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        n   integer := coalesce(array_length(p_types, 1), 0);
        pos bigint;
        cur bigint;
      BEGIN
        -- The one lock every append takes, held to commit: positions in commit order, no gaps.
        UPDATE {{schema}}.head AS h SET last_position = h.last_position + n RETURNING h.last_position INTO pos;
        SELECT coalesce(max(e.revision), -1) INTO cur FROM {{schema}}.events AS e WHERE e.stream = p_stream;
        IF (p_mode = 'no_stream' AND cur <> -1)
           OR (p_mode = 'stream_exists' AND cur = -1)
           OR (p_mode = 'revision' AND cur <> p_expected) THEN
          RAISE EXCEPTION USING ERRCODE = '${WRONG_REVISION}', MESSAGE = 'wrong expected revision', DETAIL = cur::text;
        END IF;
        INSERT INTO {{schema}}.events (position, stream, revision, type, data, metadata)
          SELECT pos - n + i, p_stream, cur + i, p_types[i], p_data[i], p_metadata[i]
          FROM generate_series(1, n) AS i;
        IF n > 0 THEN
          -- Delivered when the append commits, not before; dropped with it on a rollback.
          PERFORM pg_notify('${NOTIFY_CHANNEL}', {{schemaLiteral}} || ':' || pos);
        END IF;
        current_revision := cur;
        last_position := pos;
        RETURN NEXT;
      END
      $fn$;
    `,
  },
  {
    version: 3,
    name: 'events are append-only (no delete, no move, no truncate), so the head row is also the count',
    // Positions are handed out gap-free by the head row (see above); with no event ever deleted
    // or moved they run 1..last_position, so head() reads that one row instead of counting.
    sql: `
      CREATE FUNCTION {{schema}}.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'the trade log is append-only: an event is never deleted or moved (% on %)', TG_OP, TG_TABLE_NAME;
      END
      $fn$;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON {{schema}}.events
        FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.refuse_event_change();
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {{schema}}.events
        FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.refuse_event_change();
      CREATE TRIGGER events_no_move BEFORE UPDATE OF position ON {{schema}}.events
        FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.refuse_event_change();
    `,
  },
];

export const PG_SCHEMA_VERSION = lastOf(PG_MIGRATIONS, 'migration').version;
