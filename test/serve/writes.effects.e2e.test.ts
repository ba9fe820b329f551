import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTracker } from '../../src/tracker/index.js';
import { ptrack } from '../helpers/cli.js';
import { api, startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #14 what each write endpoint does, in the log, against a real `ptrack serve` child on 127.0.0.1:
 * cancel records the request (PENDING_CANCEL) as `ptrack order cancel` does without --adapter, and
 * with an adapter POST /api/reconcile runs a reconciliation now that sends it to the venue; enable
 * lifts a disable; a manual startup recovery is acknowledged; a body over 64 KiB is 413 and
 * changes nothing; unknown routes and methods are JSON 404 / 405.
 */

const TOKEN = 'effects-token-0123456789abcdef';

function world(onTestFinished: (fn: () => void) => void, config: Record<string, unknown> = {}) {
  const { dir, cleanup } = tempDir('ptrack-writes-fx-');
  onTestFinished(cleanup);
  const file = join(dir, 'ptrack.config.json');
  writeFileSync(
    file,
    JSON.stringify({ store: 'sqlite:./trades.db', serve: { heartbeatSeconds: 3600, archiveEverySeconds: 3600 }, ...config }),
  );
  const env = { PTRACK_CONFIG: undefined, PTRACK_API_TOKEN: TOKEN };
  const cli = (...args: string[]) => ptrack(['--config', file, ...args], { cwd: dir, env });
  return { dir, file, env, cli, store: `sqlite:${join(dir, 'trades.db')}` };
}

const post = (url: string, body: unknown, token: string | undefined = TOKEN) =>
  api(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** An order of the book, accepted at the venue as x-1: its client order id. */
async function anOrder(store: string): Promise<string> {
  const tracker = await openTracker({ store });
  try {
    const r = await tracker.execute({
      type: 'RequestOrder',
      commandId: 'order-1',
      positionId: 'A',
      symbol: 'BTC',
      side: 'long',
      intent: 'entry',
      quantity: 1,
      referencePrice: 100,
    });
    const id = [...r.state.positionOrders.get('A')!].at(-1)!;
    await tracker.execute({ type: 'RecordOrderAccepted', clientOrderId: id, externalOrderId: 'x-1' });
    return id;
  } finally {
    await tracker.close();
  }
}

/** A venue module holding the one order open until canceled; each cancel it receives is a line in cancels.log. */
function venueModule(dir: string, clientOrderId: string): string {
  const file = join(dir, 'venue.mjs');
  writeFileSync(
    file,
    `import { appendFileSync } from 'node:fs';
const order = { clientOrderId: ${JSON.stringify(clientOrderId)}, externalOrderId: 'x-1', symbol: 'BTC', side: 'buy', quantity: 1, filledQuantity: 0, status: 'open' };
export default {
  async listPositions() { return []; },
  async getPosition() { return null; },
  async closePosition() {},
  async submitOrder() { throw new Error('not in this test'); },
  async getOrder() { return { ...order }; },
  async listOpenOrders() { return order.status === 'open' ? [{ ...order }] : []; },
  async cancelOrder(ref) { appendFileSync(${JSON.stringify(join(dir, 'cancels.log'))}, ref.clientOrderId + '\\n'); order.status = 'canceled'; },
};
`,
  );
  return file;
}

describe('#14 write endpoints: their effects', () => {
  it('cancel records PENDING_CANCEL as the CLI does without --adapter, and sends nothing; enable lifts a disable; 413, 404, 405', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished);
    const id = await anOrder(w.store);
    const s = await startServe(['--config', w.file], { cwd: w.dir, env: w.env });
    onTestFinished(() => s.kill());
    const head = async () => (await api(`${s.url}/api/health`)).body.head;

    const cancel = await post(`${s.url}/api/orders/cancel`, { clientOrderId: id, reason: 'changed my mind' });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect(cancel.body.events.map((e: { type: string }) => e.type)).toEqual(['OrderCancelRequested']);
    expect(cancel.body.order).toMatchObject({ clientOrderId: id, status: 'PENDING_CANCEL' });
    const orders = JSON.parse((await w.cli('orders', '--json')).stdout) as { orders: { clientOrderId: string; status: string }[] };
    expect(orders.orders.find((o) => o.clientOrderId === id)?.status).toBe('PENDING_CANCEL');
    // Once more: the order is already PENDING_CANCEL, refused as the CLI refuses it.
    const again = await post(`${s.url}/api/orders/cancel`, { clientOrderId: id });
    const againCli = await w.cli('order', 'cancel', id);
    expect(againCli.code).toBe(3);
    expect(again.status).toBe(409);
    expect(`ptrack: ${again.body.error.message as string}\n`).toBe(againCli.stderr);

    const disable = await post(`${s.url}/api/symbols/disable`, { symbol: 'BTC', side: 'both', reason: 'halted' });
    expect(disable.body.events.map((e: { type: string }) => e.type)).toEqual(['SymbolDisabled']);
    const enable = await post(`${s.url}/api/symbols/enable`, { symbol: 'BTC', side: 'both' });
    expect(enable.status, JSON.stringify(enable.body)).toBe(200);
    expect(enable.body.events.map((e: { type: string }) => e.type)).toEqual(['SymbolEnabled']);
    const bad = await post(`${s.url}/api/symbols/enable`, { symbol: 'BTC', side: 'sideways' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION']);
    expect(bad.body.error.message).toMatch(/^body: .*side/);

    const before = await head();
    const big = await post(`${s.url}/api/breaker/trip`, { reason: 'x'.repeat(70 * 1024) });
    expect([big.status, big.body.error?.code]).toEqual([413, 'TOO_LARGE']);
    expect((await api(`${s.url}/api/nothing`, { method: 'POST' })).body.error.code).toBe('NOT_FOUND');
    const get = await api(`${s.url}/api/orders/cancel`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect([get.status, get.body.error.code]).toEqual([405, 'METHOD']);
    expect(await head()).toEqual(before);
  }, 60_000);

  it('acknowledges a manual startup recovery: a command refused before (409, the CLI’s message) is accepted after', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished, { recovery: { mode: 'manual' } });
    expect((await w.cli('track', 'A-1', '--symbol', 'AAPL')).code).toBe(0);
    const s = await startServe(['--config', w.file], { cwd: w.dir, env: w.env });
    onTestFinished(() => s.kill());
    const refused = await post(`${s.url}/api/breaker/reset`, {});
    const refusedCli = await w.cli('enter', 'A-1', '--value', '100');
    expect(refusedCli.code).toBe(3);
    // Resetting the breaker loosens risk: refused while the recovery waits, like enter.
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('RECOVERY_PENDING');
    const ack = await post(`${s.url}/api/recovery/ack`, {});
    expect(ack.status, JSON.stringify(ack.body)).toBe(200);
    expect(ack.body.events.map((e: { type: string }) => e.type)).toEqual(['RecoveryAcknowledged']);
    expect((await w.cli('enter', 'A-1', '--value', '100')).code).toBe(0);
  }, 60_000);

  it('with an adapter: POST /api/reconcile runs a reconciliation now, which sends the pending cancel to the venue', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished, { recovery: { mode: 'restore' }, reconcile: { everySeconds: 3600 } });
    const id = await anOrder(w.store);
    const venue = venueModule(w.dir, id);
    const s = await startServe(['--config', w.file], { cwd: w.dir, env: w.env, serveArgs: ['--adapter', venue] });
    onTestFinished(() => s.kill());
    const cancel = await post(`${s.url}/api/orders/cancel`, { clientOrderId: id });
    expect(cancel.body.order).toMatchObject({ status: 'PENDING_CANCEL' });
    const log = join(w.dir, 'cancels.log');
    // The scheduler's first run (at start) may already have come and gone: what is asserted is the run asked for now.
    const sentBefore = existsSync(log) ? readFileSync(log, 'utf8') : '';
    expect(sentBefore).toBe('');

    const run = await post(`${s.url}/api/reconcile`, {});
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.report).toMatchObject({ runId: expect.any(String), errors: [] });
    expect(readFileSync(log, 'utf8')).toBe(`${id}\n`);
    // The next run sees it canceled at the venue and records it.
    const next = await post(`${s.url}/api/reconcile`, {});
    expect(next.status).toBe(200);
    const orders = JSON.parse((await w.cli('orders', '--json')).stdout) as { orders: { clientOrderId: string; status: string }[] };
    expect(orders.orders.find((o) => o.clientOrderId === id)?.status).toBe('CANCELED');
    const events = (await api(`${s.url}/api/events?limit=1000`)).body.events.map((e: { type: string }) => e.type);
    expect(events.filter((t: string) => t === 'ReconciliationCompleted').length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
