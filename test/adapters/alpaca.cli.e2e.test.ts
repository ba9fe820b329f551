import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliBundleText, ptrack, staticImportOf } from '../helpers/cli.js';
import { FakeAlpaca, type Fault } from '../helpers/fakeAlpaca.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 12: `ptrack reconcile --adapter alpaca` through the built binary, against a local
 * Alpaca on 127.0.0.1 (PTRACK_ALPACA_BASE_URL). A failing venue changes nothing in the log and
 * exits 5; the credentials are never printed; and no other command loads the Alpaca SDK.
 */

const KEY = 'PKE2EKEYID00000000001';
const SECRET = 'e2e-secret-never-printed-77c1';

let venue: FakeAlpaca;
let baseUrl: string;
let dir: string;
let store: string;
let cleanup: () => void;

beforeEach(async () => {
  venue = new FakeAlpaca();
  baseUrl = await venue.start();
  ({ dir, cleanup } = tempDir('ptrack-alpaca-'));
  store = `sqlite:${join(dir, 'trades.db')}`;
  const init = await runMain(['--store', store, 'init', '--config', join(dir, 'c.json')]);
  expect(init.code, init.stderr).toBe(0);
});
afterEach(async () => {
  await venue.stop();
  cleanup();
});

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PTRACK_CONFIG: undefined,
  DEBUG: undefined,
  APCA_API_KEY_ID: KEY,
  APCA_API_SECRET_KEY: SECRET,
  PTRACK_ALPACA_BASE_URL: baseUrl,
  ...extra,
});
const run = (args: string[], extra?: NodeJS.ProcessEnv) =>
  ptrack(['--store', store, ...args], { cwd: dir, env: env(extra), timeoutMs: 60_000 });

async function eventTypes(): Promise<string[]> {
  const log = await runMain(['--store', store, 'log', '--json']);
  expect(log.code, log.stderr).toBe(0);
  return log.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { type: string }).type);
}

describe('ptrack reconcile --adapter alpaca', () => {
  it('adopts what the Alpaca account holds (a long and a short), keyed by symbol, and prints no secret', async () => {
    venue.setPosition('AAPL', 10, 150);
    venue.setPosition('TSLA', -4, 250);
    const r = await run(['reconcile', '--adapter', 'alpaca', '--orphans', 'adopt', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { orphans: { positionId: string; outcome: string }[] };
    expect(report.orphans.map((o) => [o.positionId, o.outcome]).sort()).toEqual([
      ['AAPL', 'adopted'],
      ['TSLA', 'adopted'],
    ]);
    const status = await runMain(['--store', store, 'status', '--json']);
    expect(status.stdout).toContain('"AAPL"');
    for (const text of [r.stdout, r.stderr]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(KEY);
    }
    expect(venue.requests.every((q) => q.headers['apca-api-secret-key'] === SECRET)).toBe(true);
  }, 90_000);

  it.each<[string, Fault, string]>([
    ['a 5xx', { status: 503, message: 'service unavailable' }, 'unreachable'],
    ['a rate limit', { status: 429, message: 'rate limit exceeded' }, 'rate_limited'],
    ['malformed JSON', { notJson: '[{"symbol": "AAPL", "qty": ' }, 'malformed'],
  ])(
    'a failing venue (%s) changes nothing in the log and exits 5',
    async (_name, fault, failure) => {
      venue.setPosition('AAPL', 10, 150);
      const before = await eventTypes();
      venue.fail('GET /v2/positions', fault, 20);
      const r = await run(['reconcile', '--adapter', 'alpaca', '--orphans', 'adopt']);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stdout).toContain(`ERROR listPositions (${failure})`);
      expect(r.stderr).toMatch(/^ptrack: reconcile .*the outside system failed/);
      // Nothing is new: no adoption, no report of a run that could not look, no heartbeat of its start.
      expect(await eventTypes()).toEqual(before);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    },
    90_000,
  );

  it('missing credentials are bad input (exit 2) naming the variable; a bad argument too', async () => {
    const r = await run(['reconcile', '--adapter', 'alpaca'], { APCA_API_SECRET_KEY: undefined });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('set APCA_API_SECRET_KEY in the environment');
    expect(r.stderr).not.toContain(KEY);
    const bad = await run(['reconcile', '--adapter', 'alpaca:moon']);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('expected alpaca, alpaca:paper or alpaca:live');
    expect(venue.requests).toHaveLength(0);
  }, 90_000);

  it('ptrack --help and other commands never resolve the Alpaca SDK; --adapter alpaca does (traced by a module resolve hook)', async () => {
    const trace = join(dir, 'resolved.txt');
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  appendFileSync(${JSON.stringify(trace)}, specifier + '\\n');\n  return next(specifier, context);\n}\n`,
    );
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
    );
    const bin = fileURLToPath(new URL('../../bin/ptrack.js', import.meta.url));
    const resolvedBy = (args: string[]): Promise<string[]> =>
      new Promise((resolve) => {
        writeFileSync(trace, '');
        execFile(
          process.execPath,
          ['--import', pathToFileURL(join(dir, 'register.mjs')).href, bin, ...args],
          { cwd: dir, env: { ...process.env, ...env(), LOG_LEVEL: 'silent' }, timeout: 30_000 },
          () =>
            resolve(
              readFileSync(trace, 'utf8')
                .split('\n')
                .filter((l) => l !== ''),
            ),
        );
      });
    const help = await resolvedBy(['--help']);
    expect(help.length).toBeGreaterThan(0); // the hook saw the CLI load
    expect(help.filter((s) => s.includes('alpaca'))).toEqual([]);
    expect((await resolvedBy(['--store', store, 'status'])).filter((s) => s.includes('alpaca'))).toEqual([]);
    expect(await resolvedBy(['--store', store, 'reconcile', '--adapter', 'alpaca', '--dry-run'])).toContain(
      '@alpacahq/alpaca-trade-api/rest',
    );
  }, 90_000);

  it('the CLI bundle imports the Alpaca SDK only dynamically (ptrack --help and other commands never load it)', () => {
    const bundle = cliBundleText();
    expect(bundle).toContain('import("@alpacahq/alpaca-trade-api/rest")');
    expect(bundle).not.toMatch(staticImportOf('@alpacahq/alpaca-trade-api'));
    expect(bundle).not.toMatch(/require\(["']@alpacahq\/alpaca-trade-api/);
  });
});
