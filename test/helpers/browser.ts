import { existsSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** The system Chromium (Debian's `chromium`; `.ci/run` installs it when missing), or $PTRACK_CHROMIUM. Never downloaded. */
export const CHROMIUM = process.env.PTRACK_CHROMIUM ?? '/usr/bin/chromium';

/** The flags of the shared contract: headless, no sandbox (CI runs as root), and nothing that reaches the network by itself. */
export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether the browser suites can run here. Under CI=true they must: a missing browser is a failure, not a skip. */
export function chromiumAvailable(): boolean {
  const present = existsSync(CHROMIUM);
  if (!present && process.env.CI === 'true') throw new Error(`CI=true but no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`);
  return present;
}

export interface BrowserSession {
  browser: Browser;
  page: Page;
  /** Console errors, uncaught page errors, failed requests and requests to any origin other than `origin`, as they came. */
  problems: string[];
  /** Writes a PNG of the whole page to `<dir>/<name>.png` and returns its path. */
  screenshot: (dir: string, name: string) => Promise<string>;
}

/**
 * Opens a page of the system Chromium on `origin` and records what goes wrong in it; `use` runs with it and
 * the browser is always closed afterwards (a test that throws does not leave a Chromium behind). A request
 * anywhere but `origin` is recorded as a problem: the page must not reach the network.
 */
export async function withBrowser<T>(origin: string, use: (session: BrowserSession) => Promise<T>): Promise<T> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    headless: true,
    timeout: 20_000,
    protocolTimeout: 20_000,
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
    page.on('requestfailed', (request) => {
      // A stream cut by the page closing is not a failure of the page.
      if (!request.url().endsWith('/api/stream')) problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
    });
    page.on('request', (request) => {
      const url = request.url();
      if (!(url.startsWith(`${origin}/`) || url === origin || url.startsWith('data:'))) problems.push(`request outside ${origin}: ${url}`);
    });
    const screenshot = async (dir: string, name: string): Promise<string> => {
      const path = join(dir, `${name}.png`);
      await page.screenshot({ path: path as `${string}.png`, fullPage: true });
      return path;
    };
    return await use({ browser, page, problems, screenshot });
  } finally {
    await browser.close();
  }
}
