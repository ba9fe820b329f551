import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * ptrack init never writes a secret into the config. A postgres:// password goes to PGPASSWORD
 * (test/cli/postgres.init.e2e.test.ts); the EventStoreDB client reads credentials only from its
 * string, so an esdb:// string with user:password@ is refused before anything is written or opened.
 */

const tmp = tempDir('ptrack-initsecret-');
afterAll(() => tmp.cleanup());

describe('ptrack init and an EventStoreDB string with a password', () => {
  it.each([
    'esdb://admin:changeit-4711@127.0.0.1:2113?tls=false',
    'esdb+discover://admin:changeit-4711@cluster.example.com:2113',
    'esdb://admin:changeit-4711@h1:2113,h2:2113,h3:2113/?tls=false',
  ])('refuses %s with exit 2, names the key, prints no password and writes nothing', async (store) => {
    const dir = join(tmp.dir, String(Math.random()).slice(2));
    const result = await ptrack(['init', '--store', store, '--config', join(dir, 'ptrack.jsonc')], { cwd: tmp.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--store: esdb(\+discover)?:\/\/admin:\*\*\*@.* holds a password, and ptrack init never writes a secret/);
    expect(result.stdout + result.stderr).not.toContain('changeit-4711');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('lets a string without credentials through: init goes on to open the store (unreachable here: exit 5, nothing written)', async () => {
    const dir = join(tmp.dir, 'no-credentials');
    const result = await ptrack(['init', '--store', 'esdb://127.0.0.1:1?tls=false', '--config', join(dir, 'ptrack.jsonc')], {
      cwd: tmp.dir,
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/cannot reach EventStoreDB at esdb:\/\/127\.0\.0\.1:1/);
    expect(existsSync(join(dir, 'ptrack.jsonc'))).toBe(false);
  }, 60_000);
});
