import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { api, startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #14 write endpoints: off without a token (403), refused without it or with another (401),
 * accepted with it; every body parsed with zod (400 naming the field, nothing appended); errors
 * carry the CLI's own message.
 */

const TOKEN = 'test-token-0123456789abcdef';

function world(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-writes-');
  onTestFinished(cleanup);
  const file = join(dir, 'ptrack.config.json');
  writeFileSync(file, JSON.stringify({ store: 'sqlite:./trades.db', serve: { heartbeatSeconds: 3600, archiveEverySeconds: 3600 } }));
  const cli = (...args: string[]) => ptrack(['--config', file, ...args], { cwd: dir, env: { PTRACK_CONFIG: undefined } });
  return { dir, file, cli };
}

const post = (url: string, body: unknown, token?: string) =>
  api(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('#14 write endpoints', () => {
  it('are off without a configured token: 403, nothing appended', async ({ onTestFinished }) => {
    const w = world(onTestFinished);
    expect((await w.cli('track', 'A', '--symbol', 'A')).code).toBe(0);
    const s = await startServe(['--config', w.file], { cwd: w.dir, env: { PTRACK_API_TOKEN: undefined } });
    try {
      const head = (await api(`${s.url}/api/health`)).body.head;
      const r = await post(`${s.url}/api/breaker/trip`, { reason: 'by hand' }, TOKEN);
      expect(r.status).toBe(403);
      expect(r.body.error).toEqual({
        code: 'READ_ONLY',
        message: 'the write endpoints are off: no API token is configured (set serve.apiToken or PTRACK_API_TOKEN)',
      });
      expect((await api(`${s.url}/api/health`)).body.head).toEqual(head);
    } finally {
      await s.kill();
    }
  }, 60_000);

  it('with a token: refused without it or with another, accepted with it; bad bodies are 400 naming the field and change nothing; errors say what the CLI says', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished);
    expect((await w.cli('track', 'A', '--symbol', 'AAPL')).code).toBe(0);
    const s = await startServe(['--config', w.file], { cwd: w.dir, env: { PTRACK_API_TOKEN: TOKEN } });
    try {
      const headNow = async () => (await api(`${s.url}/api/health`)).body.head;
      const before = await headNow();
      for (const token of [undefined, 'another-token-0123456789']) {
        const r = await post(`${s.url}/api/breaker/trip`, { reason: 'by hand' }, token);
        expect(r.status).toBe(401);
        expect(r.body.error.code).toBe('UNAUTHORIZED');
      }
      for (const [path, body, field] of [
        ['/api/breaker/trip', {}, 'reason'],
        ['/api/breaker/trip', { reason: 'x', seconds: -5 }, 'seconds'],
        ['/api/breaker/trip', { reason: 'x', extra: 1 }, 'extra'],
        ['/api/symbols/disable', { symbol: 'AAPL', side: 'up', reason: 'r' }, 'side'],
        ['/api/orders/cancel', { clientOrderId: 7 }, 'clientOrderId'],
        ['/api/reconcile', { now: true }, 'now'],
        ['/api/breaker/trip', '{not json', 'expected a JSON object'],
      ] as const) {
        const r = await post(`${s.url}${path}`, body, TOKEN);
        expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
        expect(r.body.error.code).toBe('VALIDATION');
        expect(r.body.error.message).toMatch(new RegExp(`^body: .*${field}`));
      }
      expect((await api(`${s.url}/api/breaker/trip`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
      expect(await headNow()).toEqual(before);

      const trip = await post(`${s.url}/api/breaker/trip`, { reason: 'by hand', seconds: 3600 }, TOKEN);
      expect(trip.status).toBe(200);
      expect(trip.body).toEqual({ events: [{ position: before.position + 1, type: 'CircuitBreakerTripped' }], duplicate: false });
      const status = JSON.parse((await w.cli('status', '--json')).stdout) as { risk: { breaker: { status: string; reason: string } } };
      expect(status.risk.breaker).toMatchObject({ status: 'TRIPPED', reason: 'by hand' });
      const disable = await post(`${s.url}/api/symbols/disable`, { symbol: 'AAPL', side: 'buy', reason: 'halted' }, TOKEN);
      expect(disable.body.events.map((e: { type: string }) => e.type)).toEqual(['SymbolDisabled']);
      const reset = await post(`${s.url}/api/breaker/reset`, {}, TOKEN);
      expect(reset.body.events.map((e: { type: string }) => e.type)).toEqual(['CircuitBreakerReset']);

      // The CLI's messages, as JSON.
      const ack = await post(`${s.url}/api/recovery/ack`, {}, TOKEN);
      const ackCli = await w.cli('recover', '--ack');
      expect(ackCli.code).toBe(3);
      expect(ack.status).toBe(409);
      expect(`ptrack: ${ack.body.error.message as string}\n`).toBe(ackCli.stderr);
      const cancel = await post(`${s.url}/api/orders/cancel`, { clientOrderId: 'nope-1' }, TOKEN);
      const cancelCli = await w.cli('order', 'cancel', 'nope-1');
      expect(`ptrack: ${cancel.body.error.message as string}\n`).toBe(cancelCli.stderr);
      expect(cancel.status).toBe(cancelCli.code === 3 ? 409 : 400);
      const rec = await post(`${s.url}/api/reconcile`, {}, TOKEN);
      expect(rec.status).toBe(400);
      expect(rec.body.error.message).toBe('no adapter: start ptrack serve with --adapter to reconcile');
      expect(s.stdout() + s.stderr()).not.toContain(TOKEN);
    } finally {
      await s.kill();
    }
  }, 60_000);
});
