import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { openStore, SqliteEventStore } from '../../src/store/index.js';
import { bookStream } from '../../src/events/index.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

function sandbox(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-ro-');
  onTestFinished(cleanup);
  return dir;
}

/** The commands that only read the log, each given the store string to read. */
const READERS: [string, (store: string) => string[]][] = [
  ['verify', (s) => ['--store', s, 'verify']],
  ['head', (s) => ['--store', s, 'head']],
  ['log', (s) => ['--store', s, 'log']],
  ['status', (s) => ['--store', s, 'status']],
  ['replay', (s) => ['--store', s, 'replay', '--until', '1']],
  ['migrate --from', (s) => ['migrate', '--from', s, '--to', 'memory:']],
];

describe('#10.6 read-only commands never create a log', () => {
  it('#10.6 verify, head, log, status, replay and migrate --from on a missing path exit 2 naming it, and create nothing', async ({
    onTestFinished,
  }) => {
    const dir = sandbox(onTestFinished);
    const missing = join(dir, 'typo', 'trades.db');
    for (const [name, args] of READERS) {
      const r = await runMain(args(`sqlite:${missing}`));
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toContain(`no trade log at ${missing}`);
      expect(r.stdout, name).toBe('');
      expect(existsSync(join(dir, 'typo')), `${name} created the directory`).toBe(false);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('#10.6 an empty file is not read as an empty log, and stays empty', async ({ onTestFinished }) => {
    const dir = sandbox(onTestFinished);
    const file = join(dir, 'empty.db');
    writeFileSync(file, '');
    for (const [name, args] of READERS) {
      const r = await runMain(args(`sqlite:${file}`));
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toContain(`${file} is not a trade log yet`);
    }
    expect(statSync(file).size).toBe(0);
    expect(readdirSync(dir)).toEqual(['empty.db']);
  });

  it('#10.6 a non-regular file such as /dev/null is refused by readers and writers, and nothing is written beside it', async () => {
    const journalBefore = existsSync('/dev/null-journal');
    const walBefore = existsSync('/dev/null-wal');
    for (const args of [
      ...READERS.map(([, a]) => a('sqlite:/dev/null')),
      ['--store', 'sqlite:/dev/null', 'track', 'A1'],
      ['--store', 'sqlite:/dev/null', 'init', '--config', '/nonexistent-dir-ptrack/c.json'],
    ]) {
      const r = await runMain(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('/dev/null is a character device, not a regular file');
    }
    await expect(openStore('sqlite:/dev/null')).rejects.toThrow(StoreError);
    expect(existsSync('/dev/null-journal')).toBe(journalBefore);
    expect(existsSync('/dev/null-wal')).toBe(walBefore);
  });

  it('#10.6 an existing log is read as before, and a read-only store refuses writes', async ({ onTestFinished }) => {
    const dir = sandbox(onTestFinished);
    const file = join(dir, 'trades.db');
    const store = `sqlite:${file}`;
    expect((await runMain(['--store', store, 'track', 'A1'])).code).toBe(0);
    const before = readFileSync(file);
    for (const [name, args] of READERS) {
      const r = await runMain(args(store));
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    }
    expect((await runMain(['--store', store, 'head', '--json'])).stdout).toMatch(/"count":1/);
    expect(readFileSync(file).equals(before)).toBe(true);

    const ro = SqliteEventStore.open(file, { readOnly: true });
    try {
      const events = await ro.readStream(bookStream('main'));
      expect(events).toHaveLength(1);
      const [e] = events as [(typeof events)[number]];
      await expect(ro.append(bookStream('main'), [{ type: e.type, data: e.data, metadata: e.metadata }] as never)).rejects.toThrow(
        /read-only/,
      );
    } finally {
      await ro.close();
    }
  });

  it('#10.6 project, rebuild and audit (they write only read models) never create a log either', async ({ onTestFinished }) => {
    const dir = sandbox(onTestFinished);
    const missing = join(dir, 'typo', 'trades.db');
    for (const args of [['project'], ['rebuild'], ['rebuild', '--accept-regression'], ['audit']]) {
      const r = await runMain(['--store', `sqlite:${missing}`, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`no trade log at ${missing}`);
    }
    expect(readdirSync(dir)).toEqual([]);
    // On an existing log they work as before.
    const store = `sqlite:${join(dir, 'trades.db')}`;
    expect((await runMain(['--store', store, 'track', 'A1'])).code).toBe(0);
    for (const args of [['project'], ['rebuild'], ['audit']]) {
      const r = await runMain(['--store', store, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    await expect(openStore(`sqlite:${missing}`, { create: false })).rejects.toThrow(`no trade log at ${missing}`);
  });

  it('#10.6 memory: opens to read as before (nothing to create there)', async () => {
    const head = await runMain(['--store', 'memory:', 'head', '--json']);
    expect(head.code, head.stderr).toBe(0);
    expect(JSON.parse(head.stdout)).toMatchObject({ engine: 'memory', count: 0 });
    const status = await runMain(['--store', 'memory:', 'status']);
    expect(status.code, status.stderr).toBe(0);
    const store = await openStore('memory:', { readOnly: true });
    expect(await store.head()).toEqual({ position: 0, count: 0 });
    await store.close();
  });
});
