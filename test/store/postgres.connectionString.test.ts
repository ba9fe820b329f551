import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { parsePostgresConnectionString, parseStoreSpec } from '../../src/store/index.js';

/** #13 The postgres store string, parsed before anything is dialled; no password ever printed. */
describe('postgres store string', () => {
  it('takes postgres:// and postgresql://, with ?schema= (default ptrack) taken out of what the driver gets', () => {
    expect(parseStoreSpec('postgres://bot:s3cret@db:5432/trading')).toEqual({
      engine: 'postgres',
      connection: {
        connectionString: 'postgres://bot:s3cret@db:5432/trading',
        schema: 'ptrack',
        display: 'postgres://bot:***@db:5432/trading',
      },
    });
    expect(parseStoreSpec('postgresql://db/trading?schema=desk_1&sslmode=require')).toEqual({
      engine: 'postgres',
      connection: {
        connectionString: 'postgresql://db/trading?sslmode=require',
        schema: 'desk_1',
        display: 'postgresql://db/trading?schema=desk_1&sslmode=require',
      },
    });
    expect(parsePostgresConnectionString('postgres://db/x?schema=a', 'b').schema).toBe('b');
  });

  it.each([
    ['postgres://bot:hunter2@db:99999/trading', /not a valid URL/],
    ['postgres://bot:hunter2@db/trading?schema=Desk', /schema: expected a name of 1-63 lower-case letters.*got "Desk"/],
    ['postgres://bot:hunter2@db/trading?schema=pg_catalog', /got "pg_catalog"/],
    ['postgres://bot:hunter2@db/trading?schema=a&schema=b', /schema= is given more than once/],
    ['postgres:bot:hunter2@db/trading', /not a PostgreSQL connection string/],
    ['POSTGRES://bot:hunter2@db/trading', /write the scheme in lower case/],
  ])('%j is a StoreError naming what is wrong, with the password as ***', (spec, message) => {
    let error: unknown;
    try {
      parseStoreSpec(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/bot:\*\*\*@db/);
    expect((error as Error).message).not.toContain('hunter2');
  });
});
