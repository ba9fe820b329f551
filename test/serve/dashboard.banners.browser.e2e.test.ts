import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, withBrowser, type BrowserSession } from '../helpers/browser.js';
import { ptrack } from '../helpers/cli.js';
import { startServe, type ServeChild } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The dashboard's other banners, in a real headless Chromium against a real `ptrack serve` child on
 * 127.0.0.1: the outside system failing (the scheduler's runs in a row, with the venue's error), a
 * reconciliation that recorded errors, and a book waiting for an operator after a `manual` startup
 * recovery (gone once `ptrack recover --ack` runs). And times shown in the config's time zone, not
 * the browser's. (The breaker's and the guard's banners: dashboard.browser.e2e.test.ts.)
 */

const TZ = 'Asia/Tokyo';

/** A temp dir with a config (Tokyo time, the scheduler every second) and the given adapter module. */
function world(onTestFinished: (fn: () => void) => void, adapter: string, config: Record<string, unknown> = {}) {
  const { dir, cleanup } = tempDir('ptrack-banner-');
  onTestFinished(cleanup);
  const store = `sqlite:${join(dir, 'state', 'trades.db')}`;
  const configFile = join(dir, 'ptrack.config.json');
  writeFileSync(configFile, JSON.stringify({ timeZone: TZ, reconcile: { everySeconds: 1 }, ...config }));
  const adapterFile = join(dir, 'adapter.mjs');
  writeFileSync(adapterFile, adapter);
  return { dir, store, configFile, adapterFile };
}

async function run(w: { dir: string; store: string; configFile: string }, args: string[]): Promise<string> {
  const r = await ptrack(['--config', w.configFile, '--store', w.store, ...args], { cwd: w.dir, env: { PTRACK_CONFIG: undefined } });
  expect(r.code, `ptrack ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The banner's line from one source, once it shows (bounded). */
async function bannerLine(page: BrowserSession['page'], source: string, timeout = 15_000): Promise<string> {
  await page.waitForSelector(`#banner:not([hidden]) p[data-source="${source}"]`, { timeout });
  return page.$eval(`#banner p[data-source="${source}"]`, (e) => e.textContent ?? '');
}

const open = async (server: ServeChild, use: (session: BrowserSession) => Promise<void>): Promise<void> =>
  withBrowser(server.url, async (session) => {
    await session.page.goto(`${server.url}/`, { waitUntil: 'load' });
    await session.page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    await use(session);
  });

const describeBrowser = chromiumAvailable() ? describe : describe.skip;

describeBrowser('the dashboard’s banners and time zone in headless Chromium against ptrack serve', () => {
  it('says the outside system is failing, with its error, while the scheduler’s runs fail; times are the config’s zone', async ({
    onTestFinished,
  }) => {
    const w = world(
      onTestFinished,
      `export default { async listPositions() { throw new Error('connect ECONNREFUSED 127.0.0.1:9'); }, async closePosition() {} };\n`,
      // Startup recovery that needs nothing from the venue, so the scheduler is what meets it.
      { recovery: { mode: 'restore' } },
    );
    await run(w, ['track', 'AAPL-1', '--symbol', 'AAPL']);
    const server = await startServe(['--config', w.configFile, '--store', w.store], {
      cwd: w.dir,
      serveArgs: ['--adapter', w.adapterFile],
    });
    onTestFinished(() => server.kill());
    await open(server, async ({ page, problems, screenshot }) => {
      const text = await bannerLine(page, 'scheduler');
      expect(text).toMatch(/^the outside system is failing: \d+ reconciliation\(s\) in a row failed: .*ECONNREFUSED 127\.0\.0\.1:9/);
      const health = (await (await fetch(`${server.url}/api/health`)).json()) as {
        reconciliation: { scheduler: { consecutiveFailures: number } };
      };
      expect(health.reconciliation.scheduler.consecutiveFailures).toBeGreaterThan(0);

      // The newest events' times: in Tokyo, the config's zone, not the browser's own (checked to differ).
      expect(await page.evaluate('Intl.DateTimeFormat().resolvedOptions().timeZone')).not.toBe(TZ);
      await run(w, ['track', 'MSFT-1', '--symbol', 'MSFT']);
      const after = (await (await fetch(`${server.url}/api/events?from=0&limit=1000`)).json()) as {
        events: { position: number; type: string; recordedAt: string; data: { positionId?: string } }[];
      };
      const msft = after.events.find((e) => e.type === 'PositionTracked' && e.data.positionId === 'MSFT-1')!;
      const row = await page.waitForFunction(
        `[...document.querySelectorAll('#events tbody tr')].map((r) => [...r.children].map((c) => c.textContent ?? '')).find((cells) => cells[0] === '${msft.position}')`,
        { timeout: 5_000, polling: 50 },
      );
      const cells = (await row.jsonValue()) as string[];
      expect(cells[2]).toBe('PositionTracked');
      expect(cells[1]).toBe(
        new Intl.DateTimeFormat('sv-SE', {
          timeZone: TZ,
          year: 'numeric',
          month: '2-digit',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
        }).format(new Date(msft.recordedAt)),
      );
      await screenshot(w.dir, 'dashboard-outside-failing');
      expect(problems).toEqual([]);
    });
  }, 90_000);

  it('says the last reconciliation had errors when a heal failed at the venue', async ({ onTestFinished }) => {
    // The venue lists an orphan, and refuses to close it: the run records the error in its ReconciliationCompleted.
    const w = world(
      onTestFinished,
      `export default {
  async listPositions() { return [{ id: 'X-1', symbol: 'XYZ', value: 500 }]; },
  async getPosition(id) { return id === 'X-1' ? { id: 'X-1', symbol: 'XYZ', value: 500 } : null; },
  async closePosition() { throw new Error('venue refused the close'); },
};\n`,
      { recovery: { mode: 'restore' }, reconcile: { everySeconds: 1, orphans: 'close' } },
    );
    await run(w, ['track', 'AAPL-1', '--symbol', 'AAPL']);
    const server = await startServe(['--config', w.configFile, '--store', w.store], {
      cwd: w.dir,
      serveArgs: ['--adapter', w.adapterFile],
    });
    onTestFinished(() => server.kill());
    await open(server, async ({ page, problems, screenshot }) => {
      const text = await bannerLine(page, 'outside');
      expect(text).toMatch(/^the last reconciliation of book main \(\S+\) had \d+ error\(s\)$/);
      const runs = (await (await fetch(`${server.url}/api/reconciliations`)).json()) as {
        reconciliations: { runId: string; counts: { errors: number } }[];
      };
      const withErrors = runs.reconciliations.filter((r) => r.counts.errors > 0);
      expect(withErrors.length).toBeGreaterThan(0);
      // The run it names is one of those (the scheduler may have run again since the page rendered).
      const named = /\((\S+)\) had/.exec(text)![1];
      expect(withErrors.map((r) => r.runId)).toContain(named);
      await screenshot(w.dir, 'dashboard-reconcile-errors');
      expect(problems).toEqual([]);
    });
  }, 90_000);

  it('says a book waits for an operator after a manual startup recovery, and drops it once acknowledged', async ({ onTestFinished }) => {
    const w = world(onTestFinished, `export default { async listPositions() { return []; }, async closePosition() {} };\n`, {
      recovery: { mode: 'manual' },
    });
    await run(w, ['track', 'AAPL-1', '--symbol', 'AAPL']);
    const server = await startServe(['--config', w.configFile, '--store', w.store], { cwd: w.dir });
    onTestFinished(() => server.kill());
    await open(server, async ({ page, problems, screenshot }) => {
      expect(await bannerLine(page, 'recovery')).toBe(
        'startup recovery waits for an operator: commands are refused until ptrack recover --ack',
      );
      await screenshot(w.dir, 'dashboard-recovery');
      await run(w, ['recover', '--ack']);
      await page.waitForFunction(`document.querySelector('#banner p[data-source="recovery"]') === null`, {
        timeout: 5_000,
        polling: 50,
      });
      expect(await page.$eval('#banner', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);
      expect(problems).toEqual([]);
    });
  }, 90_000);
});
