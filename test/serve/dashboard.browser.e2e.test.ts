import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer-core';
import { chromiumAvailable, withBrowser } from '../helpers/browser.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The dashboard in a real headless Chromium (the system's, through puppeteer-core) against a real
 * `ptrack serve` child on 127.0.0.1: it loads with no console error and no request elsewhere, its
 * positions table and equity chart show what the read-model files hold, a command appended while it
 * is open shows within two seconds without a reload, and the guard's banner appears when the log
 * regresses under the daemon (an older copy of the SQLite file swapped in). Each test writes a
 * screenshot under its temporary directory; PTRACK_DASHBOARD_SCREENSHOT=<path> also writes the
 * loaded page there (how docs/dashboard.png is made).
 */

const BIN = fileURLToPath(new URL('../../bin/ptrack.js', import.meta.url));
const BOOK = 'main';
const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

interface Serve {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `ptrack serve` on a free port of 127.0.0.1 and waits for the address it prints. */
async function serve(dir: string, store: string, port = 0): Promise<Serve> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1', '--store', store], {
    cwd: dir,
    env: { ...process.env, LOG_LEVEL: 'silent', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
    if (url !== undefined) return { url, child, stdout: () => out, stderr: () => err, exited };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ptrack serve did not print its address (exit ${child.exitCode}): ${out} ${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function stop(s: Serve | undefined): Promise<void> {
  if (s === undefined) return;
  s.child.kill('SIGKILL');
  await s.exited;
}

/** Runs ptrack on the test's log and fails with its stderr unless it exits 0. */
async function run(dir: string, store: string, args: string[]): Promise<void> {
  const r = await ptrack([...args, '--store', store], { cwd: dir });
  expect(r.code, `ptrack ${args.join(' ')}: ${r.stderr}`).toBe(0);
}

const readModel = (stateDir: string, name: string): { checkpoint: number; data: { books: Record<string, Record<string, unknown>> } } =>
  JSON.parse(readFileSync(join(stateDir, `${name}.json`), 'utf8'));

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The text of each cell of the positions table's rows, by position id. */
const positionRows = (page: Page): Promise<Record<string, { status: string; cells: string[] }>> =>
  page.$$eval('#positions tbody tr[data-id]', (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        (r as unknown as Dataset).dataset.id!,
        { status: (r as unknown as Dataset).dataset.status!, cells: [...r.querySelectorAll('td')].map((td) => td.textContent ?? '') },
      ]),
    ),
  );

/** How many pixels of the chart's canvas carry the equity line's colour (#2f7de1): the curve was drawn. */
const equityPixels = (page: Page): Promise<number> =>
  page.$eval('#equity-chart canvas', (canvas) => {
    const c = canvas as unknown as Canvas;
    const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] === 47 && pixels[i + 1] === 125 && pixels[i + 2] === 225) n += 1;
    return n;
  });

// The DOM as the page functions use it (the tests' TypeScript has no DOM library).
type Dataset = { dataset: Record<string, string | undefined> };
type Canvas = {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
};

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const describeBrowser = chromiumAvailable() ? describe : describe.skip;

describeBrowser('the dashboard in headless Chromium against ptrack serve', () => {
  let dir: string;
  let cleanup: () => void;
  let stateDir: string;
  let file: string;
  let store: string;

  // The book every test starts from, made once through the binary and copied per test (state dir and all).
  let template: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    template = tempDir('ptrack-dash-template-');
    const tdir = template.dir;
    const tstore = `sqlite:${join(tdir, 'state', 'trades.db')}`;
    // A book with an equity curve: a partial and a full exit realize P&L; one position stays IN with its protection.
    await run(tdir, tstore, ['track', 'AAPL-1', '--symbol', 'AAPL', '--side', 'long', '--setup', 'breakout']);
    await run(tdir, tstore, ['enter', 'AAPL-1', '--value', '1000', '--qty', '10', '--price', '100', '--stop', '95']);
    await run(tdir, tstore, ['exit', 'AAPL-1', '--value', '1100', '--fraction', '0.5']);
    await run(tdir, tstore, ['exit', 'AAPL-1', '--value', '520']);
    await run(tdir, tstore, ['track', 'MSFT-1', '--symbol', 'MSFT', '--side', 'long']);
    await run(tdir, tstore, [
      'enter',
      'MSFT-1',
      '--value',
      '812.5',
      '--qty',
      '2.5',
      '--price',
      '325',
      '--stop',
      '300',
      '--take-profit',
      '360',
    ]);
    await run(tdir, tstore, ['hold', 'MSFT-1', '--value', '830.25']);
    await run(tdir, tstore, ['track', 'NVDA-1', '--symbol', 'NVDA']);
  }, 60_000);
  afterAll(() => template?.cleanup());

  beforeEach(() => {
    ({ dir, cleanup } = tempDir('ptrack-dash-'));
    stateDir = join(dir, 'state');
    file = join(stateDir, 'trades.db');
    store = `sqlite:${file}`;
    cpSync(join(template.dir, 'state'), stateDir, { recursive: true });
  });
  afterEach(() => cleanup());

  it('loads with no console error, and its positions table and equity chart show what the read models hold', async () => {
    let server: Serve | undefined;
    try {
      server = await serve(dir, store);
      const origin = server.url;
      await withBrowser(origin, async ({ page, problems, screenshot }) => {
        await page.goto(`${origin}/`, { waitUntil: 'load' });
        await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
        // The read models on disk, as the daemon's workers wrote them (at the log's head).
        const head = JSON.parse((await ptrack(['head', '--json', '--store', store], { cwd: dir })).stdout) as { position: number };
        await until(
          () => readModel(stateDir, 'portfolio').checkpoint >= head.position && readModel(stateDir, 'equity').checkpoint >= head.position,
          'the read models',
        );
        const portfolio = readModel(stateDir, 'portfolio').data.books[BOOK] as {
          positions: Record<
            string,
            {
              id: string;
              symbol?: string;
              side: string;
              status: string;
              value?: number;
              unrealizedPnl?: number;
              realizedPnl?: number;
              quantity?: number;
            }[]
          >;
        };
        const equity = readModel(stateDir, 'equity').data.books[BOOK] as { equity: number; curve: unknown[] };
        const positions = Object.values(portfolio.positions).flat();
        expect(positions.map((p) => p.id).sort()).toEqual(['AAPL-1', 'MSFT-1', 'NVDA-1']);

        // The page may have loaded before the workers caught up: it asks again until it shows the head.
        const rows = await until(async () => {
          const r = await positionRows(page);
          return Object.keys(r).length === positions.length && r['MSFT-1']?.cells[8] === money.format(830.25) ? r : undefined;
        }, 'the positions table');
        for (const p of positions) {
          const r = rows[p.id]!;
          expect(r.status).toBe(p.status);
          // book, id, symbol, side, status, quantity, entry price, entry value, value, unrealized P&L, realized P&L, protection
          expect(r.cells.slice(0, 5)).toEqual([BOOK, p.id, p.symbol, p.side, p.status]);
        }
        const msft = portfolio.positions.IN!.find((p) => p.id === 'MSFT-1')!;
        expect(rows['MSFT-1']!.cells.slice(5)).toEqual([
          '2.5',
          '325',
          money.format(812.5),
          money.format(msft.value!),
          money.format(msft.unrealizedPnl!),
          '0.00',
          'stop 300 · take profit 360',
        ]);
        expect(rows['AAPL-1']!.status).toBe('EXITED');
        expect(rows['AAPL-1']!.cells[10]).toBe(money.format(portfolio.positions.EXITED![0]!.realizedPnl!));

        // The equity chart: the curve's points, its last equity, and the line drawn on the canvas.
        expect(equity.curve.length).toBe(2);
        const chart = await page.$eval('#equity-chart', (e) => ({ ...(e as unknown as Dataset).dataset }));
        expect(chart).toMatchObject({ book: BOOK, points: String(equity.curve.length), lastEquity: String(equity.equity) });
        expect(await page.$eval('#equity-summary', (e) => e.textContent)).toContain(`equity ${money.format(equity.equity)}`);
        expect(await equityPixels(page)).toBeGreaterThan(50);

        expect(await page.$eval('#banner', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);
        expect(await page.$eval('#connection', (e) => e.textContent)).toBe('live');
        const shot = await screenshot(dir, 'dashboard');
        expect(readFileSync(shot).subarray(0, 8)).toEqual(PNG);
        expect(statSync(shot).size).toBeGreaterThan(10_000);
        const docs = process.env.PTRACK_DASHBOARD_SCREENSHOT;
        if (docs !== undefined && docs !== '') {
          mkdirSync(dirname(docs), { recursive: true });
          copyFileSync(shot, docs);
        }
        expect(problems).toEqual([]);
      });
    } finally {
      await stop(server);
    }
  }, 90_000);

  it('shows a command appended while it is open within two seconds, without a reload', async () => {
    let server: Serve | undefined;
    try {
      server = await serve(dir, store);
      const origin = server.url;
      await withBrowser(origin, async ({ page, problems, screenshot }) => {
        await page.goto(`${origin}/`, { waitUntil: 'load' });
        await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
        await page.waitForSelector('#positions tr[data-id="NVDA-1"]', { timeout: 10_000 });
        await until(async () => (await page.$eval('#connection', (e) => e.textContent)) === 'live', 'the stream');
        // A marker that a reload would lose.
        await page.evaluate('window.marker = 42');

        await run(dir, store, ['enter', 'NVDA-1', '--value', '640', '--qty', '4', '--price', '160']);
        const appended = Date.now();
        await page.waitForFunction(`document.querySelector('#positions tr[data-id="NVDA-1"]')?.dataset.status === 'IN'`, {
          timeout: 2_000,
          polling: 20,
        });
        expect(Date.now() - appended).toBeLessThan(2_000);
        await run(dir, store, ['exit', 'MSFT-1', '--value', '850']);
        await page.waitForFunction(`document.querySelector('#equity-chart').dataset.points === '3'`, {
          timeout: 2_000,
          polling: 20,
        });
        // Text from outside stays text: a symbol that is HTML, a breaker reason with an escape sequence and a direction mark
        // (the tripped breaker raises the banner).
        const html = '<img src=x onerror="window.pwned=1">';
        await run(dir, store, ['track', 'HTML-1', '--symbol', html]);
        await page.waitForSelector('#positions tr[data-id="HTML-1"]', { timeout: 2_000 });
        expect((await positionRows(page))['HTML-1']!.cells[2]).toBe(html);
        expect(await page.$$('#positions img')).toHaveLength(0);
        await run(dir, store, ['breaker', 'trip', '--reason', 'halt\u001b[31m\u202eX']);
        await page.waitForSelector('#banner:not([hidden]) p[data-source="breaker"]', { timeout: 2_000 });
        expect(await page.$eval('#banner p[data-source="breaker"]', (e) => e.textContent)).toBe(
          `circuit breaker tripped in book ${BOOK}: halt\\u001b[31m\\u202eX`,
        );
        expect(await page.evaluate('window.pwned')).toBeUndefined();
        // The newest events show them too, and the page was never reloaded.
        const events = await page.$$eval('#events tbody tr', (rows) => rows.map((r) => r.children[2]?.textContent));
        expect(events).toEqual(expect.arrayContaining(['PositionEntered', 'PositionExited', 'PositionTracked', 'CircuitBreakerTripped']));
        expect(await page.evaluate('window.marker')).toBe(42);
        const shot = await screenshot(dir, 'dashboard-live');
        expect(existsSync(shot)).toBe(true);
        expect(problems).toEqual([]);
      });
    } finally {
      await stop(server);
    }
  }, 90_000);

  it('reconnects after the server went away, resuming from Last-Event-ID: the event it missed shows, none twice', async () => {
    let server: Serve | undefined;
    try {
      server = await serve(dir, store);
      const origin = server.url;
      const port = Number(new URL(origin).port);
      await withBrowser(origin, async ({ page, screenshot }) => {
        await page.goto(`${origin}/`, { waitUntil: 'load' });
        await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
        await until(async () => (await page.$eval('#connection', (e) => e.textContent)) === 'live', 'the stream');
        await page.evaluate('window.marker = 7');

        await stop(server);
        server = undefined;
        await until(async () => (await page.$eval('#connection', (e) => e.textContent)) === 'reconnecting', 'the page to see the drop');
        // Appended while no server runs: only a resumed stream (or a re-read) can bring it to the page.
        await run(dir, store, ['enter', 'NVDA-1', '--value', '640', '--qty', '4', '--price', '160']);
        const missed = JSON.parse((await ptrack(['head', '--json', '--store', store], { cwd: dir })).stdout) as { position: number };
        server = await serve(dir, store, port);

        await page.waitForFunction(`document.querySelector('#positions tr[data-id="NVDA-1"]')?.dataset.status === 'IN'`, {
          timeout: 15_000,
        });
        await until(async () => (await page.$eval('#connection', (e) => e.textContent)) === 'live', 'the stream again');
        // The missed event came through the stream's catch-up (a stream started at the head would never send it).
        const shown = () =>
          page.$$eval('#events tbody tr', (rows) => rows.map((r) => `${r.children[0]?.textContent} ${r.children[2]?.textContent}`));
        await until(async () => (await shown()).includes(`${missed.position} PositionEntered`), 'the missed event in the newest events');
        const positions = (await shown()).map((line) => line.split(' ')[0]);
        expect(new Set(positions).size).toBe(positions.length);
        expect(await page.evaluate('window.marker')).toBe(7);
        await screenshot(dir, 'dashboard-reconnected');
      });
    } finally {
      await stop(server);
    }
  }, 90_000);

  it('shows the guard’s banner with its message when the log regresses under the daemon', async () => {
    // A consistent copy of the log as it is now (SQLite's online backup), then more events after it.
    const backup = join(dir, 'backup.db');
    const reader = new Database(file, { readonly: true });
    await reader.backup(backup);
    reader.close();
    await run(dir, store, ['enter', 'NVDA-1', '--value', '640', '--qty', '4', '--price', '160']);
    let server: Serve | undefined;
    try {
      server = await serve(dir, store);
      const origin = server.url;
      await withBrowser(origin, async ({ page, screenshot }) => {
        await page.goto(`${origin}/`, { waitUntil: 'load' });
        await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
        await page.waitForFunction(`document.querySelector('#positions tr[data-id="NVDA-1"]')?.dataset.status === 'IN'`, {
          timeout: 10_000,
        });
        expect(await page.$eval('#banner', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);

        renameSync(backup, file);

        await page.waitForSelector('#banner:not([hidden]) p[data-source="guard"]', { timeout: 15_000 });
        const text = await page.$eval('#banner p[data-source="guard"]', (e) => e.textContent);
        const health = (await (await fetch(`${origin}/api/health`)).json()) as { guard: { ok: boolean; message?: string } };
        expect(health.guard.ok).toBe(false);
        expect(text).toBe(health.guard.message);
        expect(text).toMatch(/^the log regressed: it holds \d+ events/);
        expect(await page.$eval('#health', (e) => e.textContent)).toContain('stopped work');
        await screenshot(dir, 'dashboard-guard');
      });
    } finally {
      await stop(server);
    }
  }, 90_000);
});
