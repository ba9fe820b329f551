import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliBundleText, ptrack, staticImportOf } from '../helpers/cli.js';
import { BinanceVenue } from '../helpers/binanceVenue.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 12: `ptrack reconcile --adapter ccxt:binanceusdm` through the binary, pointed at a
 * Binance USDⓈ-M on 127.0.0.1 by PTRACK_CCXT_URL, with credentials from the environment. A
 * failing venue (unreachable, rate limited, malformed) changes nothing in the log and exits 5;
 * the credentials never appear in what the command prints.
 */

const KEY = 'cli-key-Q8zr5';
const SECRET = 'cli-secret-Lm3x0';

let venue: BinanceVenue;
let base: string;

beforeAll(async () => {
  venue = new BinanceVenue('usdm');
  base = await venue.listen();
});
afterAll(() => venue.close());
beforeEach(() => {
  venue.positions.length = 0;
  venue.orders.length = 0;
  venue.requests.length = 0;
  venue.clearFaults();
});

async function world(onTestFinished: (fn: () => void) => void, url = base) {
  const { dir, cleanup } = tempDir('ptrack-ccxt-');
  onTestFinished(cleanup);
  const db = join(dir, 'trades.db');
  const store = `sqlite:${db}`;
  const env: NodeJS.ProcessEnv = {
    PTRACK_CONFIG: undefined,
    DEBUG: undefined,
    PTRACK_CCXT_URL: url,
    PTRACK_CCXT_API_KEY: KEY,
    PTRACK_CCXT_SECRET: SECRET,
    // ccxt's throttle off: it spaces requests by Binance's weights (seconds per run), no part of what is tested here.
    PTRACK_CCXT_RATE_LIMIT: '0',
  };
  const run = (...args: string[]) => ptrack(['--store', store, ...args], { cwd: dir, env, timeoutMs: 40_000 });
  const init = await run('init', '--config', join(dir, 'ptrack.config.json'));
  expect(init.code, init.stderr).toBe(0);
  /** The log's events as `ptrack log --json` prints them. */
  const events = async (): Promise<{ type: string; data: Record<string, unknown> }[]> => {
    const r = await run('log', '--json');
    expect(r.code, r.stderr).toBe(0);
    return r.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  };
  /** A failed run leaves the log exactly as it was: not even the startup recovery's heartbeat. */
  const expectUnchanged = async (before: { type: string }[]): Promise<void> => {
    const after = await events();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).map((e) => e.type)).toEqual([]);
  };
  return { dir, db, run, events, expectUnchanged };
}

describe('#12 ptrack reconcile --adapter ccxt:binanceusdm', () => {
  it('adopts what the venue holds and the book lacks (a long and a short) through real ccxt', async ({ onTestFinished }) => {
    venue.positions.push(
      { symbol: 'BTCUSDT', positionSide: 'BOTH', amount: 0.5, entryPrice: 60000 },
      { symbol: 'ETHUSDT', positionSide: 'BOTH', amount: -2, entryPrice: 3000 },
    );
    const w = await world(onTestFinished);
    const r = await w.run('reconcile', '--adapter', 'ccxt:binanceusdm', '--orphans', 'adopt', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      orphans: { positionId: string; outcome: string }[];
      errors: unknown[];
    };
    expect(report.errors).toEqual([]);
    expect(report.orphans.map((o) => [o.positionId, o.outcome]).sort()).toEqual([
      ['BTC/USDT:USDT', 'adopted'],
      ['ETH/USDT:USDT', 'adopted'],
    ]);
    expect(venue.calls('GET /fapi/v3/positionRisk').every((c) => c.apiKey === KEY)).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  }, 60_000);

  const FAILING: [string, string, () => void][] = [
    [
      'rate limited (429 every time)',
      'DDoSProtection',
      () => venue.fail('GET /fapi/v3/positionRisk', { status: 429, body: '{"code":-1003,"msg":"Too many requests"}' }),
    ],
    [
      'malformed (broken JSON)',
      'BadResponse',
      () => venue.fail('GET /fapi/v3/positionRisk', { status: 200, body: '[{"symbol":"BTCUSDT",' }),
    ],
    [
      'unreachable (503)',
      'ExchangeNotAvailable',
      () => venue.fail('GET /fapi/v3/positionRisk', { status: 503, body: 'Service Unavailable' }),
    ],
  ];
  for (const [name, cls, fault] of FAILING) {
    it(`a venue that is ${name} changes nothing in the log and exits 5`, async ({ onTestFinished }) => {
      // An orphan the run would adopt if the venue answered.
      venue.positions.push({ symbol: 'BTCUSDT', positionSide: 'BOTH', amount: 0.5, entryPrice: 60000 });
      const w = await world(onTestFinished);
      // Every try of the run (the guard retries) meets the fault.
      for (let i = 0; i < 6; i++) fault();
      const before = await w.events();
      const r = await w.run('reconcile', '--adapter', 'ccxt:binanceusdm', '--orphans', 'adopt');
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain(`first at listPositions: binanceusdm fetchPositions failed (${cls})`);
      await w.expectUnchanged(before);
    }, 60_000);
  }

  it('a venue nobody answers at (connection refused) exits 5 and changes nothing', async ({ onTestFinished }) => {
    const closed = new BinanceVenue('usdm');
    const url = await closed.listen();
    await closed.close();
    const w = await world(onTestFinished, url);
    const before = readFileSync(w.db);
    const r = await w.run('reconcile', '--adapter', 'ccxt:binanceusdm');
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain('fetchPositionMode failed (NetworkError)');
    expect(readFileSync(w.db).equals(before)).toBe(true);
    // With the position mode named, nothing is asked while the adapter is made: the run's own list fails.
    const events = await w.events();
    const named = await ptrack(['--store', `sqlite:${w.db}`, 'reconcile', '--adapter', 'ccxt:binanceusdm'], {
      cwd: w.dir,
      env: { PTRACK_CONFIG: undefined, PTRACK_CCXT_URL: url, PTRACK_CCXT_POSITION_MODE: 'netting', PTRACK_CCXT_RATE_LIMIT: '0' },
      timeoutMs: 40_000,
    });
    expect(named.code, named.stderr).toBe(5);
    expect(named.stderr).toContain('first at listPositions: binanceusdm fetchPositions failed (NetworkError)');
    await w.expectUnchanged(events);
  }, 60_000);

  it('credentials the venue echoes in an error are not printed; bad settings are bad input (exit 2) naming the variable', async ({
    onTestFinished,
  }) => {
    const w = await world(onTestFinished);
    for (let i = 0; i < 6; i++) {
      venue.fail('GET /fapi/v1/positionSide/dual', {
        status: 400,
        body: (req) => JSON.stringify({ code: -2015, msg: `Invalid API-key ${req.apiKey ?? ''} ${SECRET}` }),
      });
    }
    const r = await w.run('reconcile', '--adapter', 'ccxt:binanceusdm');
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain('Invalid API-key ***');
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(r.stdout + r.stderr).not.toContain(SECRET);

    const bad = await ptrack(['--store', `sqlite:${w.db}`, 'reconcile', '--adapter', 'ccxt:binanceusdm'], {
      cwd: w.dir,
      env: { PTRACK_CONFIG: undefined, PTRACK_CCXT_URL: base, PTRACK_CCXT_SANDBOX: 'maybe' },
    });
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('PTRACK_CCXT_SANDBOX: expected 1, true, 0 or false, got "maybe"');
    const unknown = await ptrack(['--store', `sqlite:${w.db}`, 'reconcile', '--adapter', 'ccxt:nosuchexchange'], {
      cwd: w.dir,
      env: { PTRACK_CONFIG: undefined },
    });
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain('exchangeId: expected one of ccxt');
  }, 60_000);
});

describe('#12 ccxt is loaded only when named', () => {
  it('ptrack --help and ptrack status never resolve ccxt; --adapter ccxt:binanceusdm does (traced by a module resolve hook)', async ({
    onTestFinished,
  }) => {
    const w = await world(onTestFinished);
    const trace = join(w.dir, 'resolved.txt');
    writeFileSync(
      join(w.dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  appendFileSync(${JSON.stringify(trace)}, specifier + '\\n');\n  return next(specifier, context);\n}\n`,
    );
    writeFileSync(
      join(w.dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(w.dir, 'hooks.mjs')).href)});\n`,
    );
    const bin = fileURLToPath(new URL('../../bin/ptrack.js', import.meta.url));
    const store = `sqlite:${w.db}`;
    const resolvedBy = (args: string[]): Promise<string[]> =>
      new Promise((resolve) => {
        writeFileSync(trace, '');
        execFile(
          process.execPath,
          ['--import', pathToFileURL(join(w.dir, 'register.mjs')).href, bin, ...args],
          {
            cwd: w.dir,
            env: {
              ...process.env,
              PTRACK_CONFIG: undefined,
              LOG_LEVEL: 'silent',
              PTRACK_CCXT_URL: base,
              PTRACK_CCXT_RATE_LIMIT: '0',
              PTRACK_CCXT_POSITION_MODE: 'netting',
            },
            timeout: 40_000,
          },
          () =>
            resolve(
              readFileSync(trace, 'utf8')
                .split('\n')
                .filter((l) => l !== ''),
            ),
        );
      });
    // The package, by name (this worktree's own path may contain the word).
    const isCcxt = (s: string): boolean => s === 'ccxt' || s.startsWith('ccxt/');
    const help = await resolvedBy(['--help']);
    expect(help.length).toBeGreaterThan(0); // the hook saw the CLI load
    expect(help.filter(isCcxt)).toEqual([]);
    expect((await resolvedBy(['--store', store, 'status'])).filter(isCcxt)).toEqual([]);
    expect(await resolvedBy(['--store', store, 'reconcile', '--adapter', 'ccxt:binanceusdm', '--dry-run'])).toContain('ccxt');
  }, 90_000);

  it('the CLI bundle imports ccxt only dynamically', () => {
    const bundle = cliBundleText();
    expect(bundle).toContain('import("ccxt")');
    expect(staticImportOf('ccxt').test('x;import{a}from"ccxt";')).toBe(true); // the pattern finds minified imports
    expect(bundle).not.toMatch(staticImportOf('ccxt'));
    expect(bundle).not.toMatch(/require\(["']ccxt["']\)/);
  });
});
