import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { deliverAlert, redactUrl } from '../../src/reconcile/alerts.js';
import { ReconcilePolicy } from '../../src/reconcile/policy.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { runMain } from '../helpers/inProcess.js';
import { allEvents, botEnters, openWorld } from '../helpers/reconcileWorld.js';

const TOKEN = 'T0KEN-b7f3e9';
const ALERT = { severity: 'critical', kind: 'orphan', message: 'x' } as const;

describe('#10.24 webhooks: only http(s), and never a secret part stored or printed', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
  });

  it('#10.24 file:, ftp:, data: and non-URLs are refused by the policy, the config and the CLI, without quoting the URL', async () => {
    for (const url of [
      `file:///etc/${TOKEN}`,
      `ftp://u:${TOKEN}@h/x`,
      `data:text/plain,${TOKEN}`,
      `javascript:${TOKEN}`,
      `not a url ${TOKEN}`,
    ]) {
      const parsed = ReconcilePolicy.safeParse({ webhookUrl: url });
      expect(parsed.success, url).toBe(false);
      let thrown: unknown;
      try {
        parseConfigText(JSON.stringify({ reconcile: { webhookUrl: url } }), 'c.json');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as Error).message).toMatch(/^c\.json: reconcile\.webhookUrl: must be an http:\/\/ or https:\/\/ URL/);
      expect((thrown as Error).message).not.toContain(TOKEN);
      expect(JSON.stringify((thrown as ValidationError).issues)).not.toContain(TOKEN);
      const cli = await runMain(['--store', 'memory:', 'reconcile', '--adapter', './nowhere.mjs', '--webhook', url]);
      expect(cli.code).toBe(2);
      expect(cli.stderr).not.toContain(TOKEN);
    }
    expect(ReconcilePolicy.parse({ webhookUrl: 'https://hooks.example.com/x' }).webhookUrl).toBe('https://hooks.example.com/x');
  });

  it('#10.24 a data: URL given to the library sink is not "delivered": it is an error, without the URL', async () => {
    const problem = await deliverAlert({ webhookUrl: `data:text/plain,${TOKEN}` }, ALERT, { runId: 'r', book: 'b' });
    expect(problem).toMatch(/only http:\/\/ and https:\/\/ URLs are allowed/);
    expect(problem).not.toContain(TOKEN);
  });

  it('#10.24 redactUrl keeps scheme, host and port only', () => {
    expect(redactUrl(`https://u:${TOKEN}@hooks.example.com:8443/services/${TOKEN}?t=${TOKEN}`)).toBe('https://hooks.example.com:8443/***');
    expect(redactUrl('http://127.0.0.1:9/')).toBe('http://127.0.0.1:9');
    expect(redactUrl(`nonsense ${TOKEN}`)).not.toContain(TOKEN);
  });

  it('#10.24 a failing webhook with a token in its path and credentials leaves no secret in the log', async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(500).end());
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    const w = await openWorld({ seed: 9 });
    await botEnters(w, 'BOT-1', 'BTC', 0.01);
    w.advance(300);
    w.exchange.liquidate('BOT-1');
    const hooks = [
      `http://hook:${TOKEN}@127.0.0.1:${port}/services/${TOKEN}?key=${TOKEN}`,
      `http://127.0.0.1:1/services/${TOKEN}`, // nothing listens: a connection error
    ];
    for (const webhookUrl of hooks) {
      const report = await reconcile({
        handler: w.tracker.handler,
        external: w.exchange,
        now: w.now,
        policy: { phantoms: 'manual', drift: 'alert', orphans: 'manual' },
        webhookUrl,
      });
      expect(report.errors.some((e) => e.stage === 'alert')).toBe(true);
      expect(JSON.stringify(report)).not.toContain(TOKEN);
    }
    const log = JSON.stringify(await allEvents(w.store));
    expect(log).toContain('ReconciliationCompleted');
    expect(log).toContain(`webhook http://127.0.0.1:${port}/*** answered 500`);
    expect(log).not.toContain(TOKEN);
  });
});
