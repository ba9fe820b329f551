import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { parseStoreSpec } from '../../src/store/index.js';
import { parseEsdbConnectionString } from '../../src/store/esdb/index.js';
import { redactStoreString } from '../../src/store/esdb/connectionString.js';
import { runMain } from '../helpers/inProcess.js';

const SECRET = 'hunter2';

/** The message a bad store string gives, from the parser and from the CLI. */
async function messagesFor(spec: string): Promise<string[]> {
  let parsed = '';
  try {
    parseStoreSpec(spec);
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    parsed = (error as Error).message;
  }
  const cli = await runMain(['--store', spec, 'head']);
  return [parsed, cli.stderr];
}

describe('#10.23 store passwords are never printed', () => {
  const cases = [
    `esdbs://admin:${SECRET}@db:2113`,
    `tcp://admin:${SECRET}@db:2113`,
    `ESDB://admin:${SECRET}@db:2113`,
    ` esdb://admin:${SECRET}@db:2113`,
    `esdb://admin:${SECRET}/x@db:2113`,
    `esdb://admin:${SECRET}?x@db:2113`,
    `esdb://admin:${SECRET}@x@db:2113`,
    `esdb://admin:${SECRET}@db:99999`,
    `esdb://admin:${SECRET}@db:2113?nope=1`,
    `esdb:admin:${SECRET}@db:2113`,
    `admin:${SECRET}@db:2113`,
    `kurrentdb://admin:${SECRET}/@db:2113`,
    `mysql://${SECRET}@db`,
  ];

  it.each(cases)('#10.23 %j: the error names the store with the password as ***', async (spec) => {
    for (const message of await messagesFor(spec)) {
      expect(message).not.toBe('');
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(SECRET.slice(2));
      expect(message).toMatch(/\*\*\*/);
    }
  });

  it('#10.23 redactStoreString keeps the user, the host and the scheme as typed, and leaves sqlite paths alone', () => {
    expect(redactStoreString('esdbs://admin:p@ss/w?rd@db:2113?tls=false')).toBe('esdbs://admin:***@db:2113?tls=false');
    expect(redactStoreString('  tcp://admin:pw@db')).toBe('  tcp://admin:***@db');
    expect(redactStoreString('esdb://token@db')).toBe('esdb://***@db');
    expect(redactStoreString('sqlite:./me@home/trades.db')).toBe('sqlite:./me@home/trades.db');
    expect(redactStoreString('esdb://db:2113?tls=false')).toBe('esdb://db:2113?tls=false');
  });

  it('#10.23 a good connection string still parses, with the password kept for the client and hidden in display', () => {
    const c = parseEsdbConnectionString(`esdb://admin:${SECRET}@db:2113?tls=false`);
    expect(c.connectionString).toBe(`esdb://admin:${SECRET}@db:2113?tls=false`);
    expect(c.display).toBe('esdb://admin:***@db:2113?tls=false');
    expect(c.username).toBe('admin');
  });
});
