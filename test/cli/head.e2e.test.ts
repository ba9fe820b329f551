import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/store/index.js';
import { ptrack } from '../helpers/cli.js';
import { tracked } from '../helpers/events.js';
import { tempDir } from '../helpers/tmp.js';

describe('ptrack head', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('opens a store and prints its head, as text and as JSON', async () => {
    const file = join(dir, 'trades.db');
    const store = SqliteEventStore.open(file);
    await store.append('tradelog-main', [tracked(1), tracked(2)]);
    await store.close();
    const text = await ptrack(['head', '--store', `sqlite:${file}`]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toBe(`sqlite ${file}: 2 events, last position 2\n`);
    const json = await ptrack(['head', '--store', `sqlite:${file}`, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ store: file, engine: 'sqlite', position: 2, count: 2 });
  });

  it('exits 2 with one line for a bad store string', async () => {
    const r = await ptrack(['head', '--store', 'mysql://x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `ptrack: store "mysql://x": unknown store; expected 'sqlite:<file>' (e.g. sqlite:./state/trades.db), 'memory:', 'postgres://user:password@host:5432/db' or 'esdb://host:2113?tls=false'\n`,
    );
  });

  it('exits 2 with one line for a file that is not a trade log, or a directory', async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'not a database '.repeat(100));
    const r = await ptrack(['head', '--store', `sqlite:${notes}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ptrack: ${notes} is not a trade log: it is not an SQLite database (nothing was written)\n`);
    const d = await ptrack(['head', '--store', `sqlite:${dir}`]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/is a directory, not a trade log file/);
  });

  it('exits 2 on an unknown command, 0 on --help', async () => {
    expect((await ptrack(['frobnicate'])).code).toBe(2);
    const help = await ptrack(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: ptrack/);
  });
});
