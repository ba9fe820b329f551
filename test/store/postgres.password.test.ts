import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { parseStoreSpec, splitPostgresPassword } from '../../src/store/index.js';
import { redactStoreString } from '../../src/store/esdb/connectionString.js';

/** #13 What `ptrack init` writes for a postgres store: the string without its password, and the password apart. */
describe('splitPostgresPassword', () => {
  it.each([
    ['postgres://bot:s%40cret@db:5432/trading?schema=desk1', 'postgres://bot@db:5432/trading?schema=desk1', 's@cret'],
    ['postgresql://bot:pw@db/trading', 'postgresql://bot@db/trading', 'pw'],
    ['postgres://bot@db/trading?password=p%26w&sslmode=require', 'postgres://bot@db/trading?sslmode=require', 'p&w'],
    ['postgres://bot:a@db/trading?password=b', 'postgres://bot@db/trading', 'b'],
    ['postgres://bot@db/trading', 'postgres://bot@db/trading', null],
    ['postgres://bot:@db/trading', 'postgres://bot@db/trading', null],
    ['postgres://db/trading?schema=x', 'postgres://db/trading?schema=x', null],
  ])('%j -> %j and its password', (spec, without, password) => {
    expect(splitPostgresPassword(spec)).toEqual({ spec: without, password });
    // What is left parses as the same server and schema.
    expect(parseStoreSpec(without)).toMatchObject({ engine: 'postgres' });
  });

  it('a string that does not parse is a StoreError with the password as ***', () => {
    for (const spec of ['postgres://bot:hunter2@db:99999/x', 'postgres://bot:hunter2%zz@db/x']) {
      let error: unknown;
      try {
        splitPostgresPassword(spec);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toMatch(/bot:\*\*\*@db/);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('redactStoreString and postgres strings', () => {
  it('hides ?password= and ?sslpassword=, and shows a user given alone (a name, not a secret)', () => {
    expect(redactStoreString('postgres://bot@db/x?password=hunter2&sslmode=require')).toBe(
      'postgres://bot@db/x?password=***&sslmode=require',
    );
    expect(redactStoreString('postgres://db/x?sslpassword=hunter2')).toBe('postgres://db/x?sslpassword=***');
    expect(redactStoreString('postgres://bot:hunter2@db/x')).toBe('postgres://bot:***@db/x');
    expect(redactStoreString('postgres://bot@db/x')).toBe('postgres://bot@db/x');
    expect(redactStoreString('esdb://token@db')).toBe('esdb://***@db');
  });
});
