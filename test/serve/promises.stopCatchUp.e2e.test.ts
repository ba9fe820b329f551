import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * `ptrack serve` stopped right after it appended an event of its own (its heartbeat) still writes the
 * read models at the log's head: the workers catch up with what the process appended before their
 * last write, rather than flushing what they happened to have seen.
 */

const ATTEMPTS = 3;

describe('ptrack serve: a stop right after its own append', () => {
  it(`leaves the read models at the log's head (${ATTEMPTS} stops, each within milliseconds of a heartbeat)`, async ({
    onTestFinished,
  }) => {
    const { dir, cleanup } = tempDir('ptrack-serve-stop-');
    onTestFinished(cleanup);
    const config = join(dir, 'ptrack.config.json');
    writeFileSync(
      config,
      JSON.stringify({ store: 'sqlite:./trades.db', book: 'main', serve: { heartbeatSeconds: 1, archiveEverySeconds: 3600 } }),
    );
    const env = { PTRACK_CONFIG: undefined };
    expect((await ptrack(['--config', config, 'track', 'A-1', '--symbol', 'AAPL'], { cwd: dir, env })).code).toBe(0);
    const db = new Database(join(dir, 'trades.db'), { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    const last = (): number => (db.prepare('SELECT MAX(position) AS p FROM events').get() as { p: number }).p;

    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const s = await startServe(['--config', config], { cwd: dir, env });
      try {
        // Wait (bounded) for the next heartbeat the daemon appends, then stop it at once.
        const seen = last();
        const deadline = Date.now() + 10_000;
        while (last() === seen && Date.now() < deadline) await new Promise((r) => setImmediate(r));
        expect(last(), 'a heartbeat within 10 s').toBeGreaterThan(seen);
      } finally {
        expect(await s.stop('SIGTERM'), s.stderr()).toBe(0);
      }
      const head = last();
      const portfolio = JSON.parse(readFileSync(join(dir, 'portfolio.json'), 'utf8')) as { checkpoint: number };
      expect(portfolio.checkpoint, `attempt ${attempt}: portfolio.json's checkpoint`).toBe(head);
    }
  }, 90_000);
});
