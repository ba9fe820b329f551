import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * `ptrack reconcile --external-orders adopt|cancel|manual` overrides reconcile.externalOrders for
 * the run, like --orphans: with adopt, an open order the book never issued becomes the book's
 * order (the report says so, and ptrack orders lists it); another word is refused as bad input
 * (exit 2) and changes nothing.
 */

const ADAPTER = `
const order = { externalOrderId: 'V-1', clientOrderId: 'desk-7', symbol: 'BTC', side: 'buy', type: 'limit',
  limitPrice: 50000, quantity: 0.5, filledQuantity: 0, status: 'open' };
export default {
  async listPositions() { return []; },
  async closePosition() {},
  async listOpenOrders() { return [order]; },
  async getOrder(ref) { return ref.externalOrderId === 'V-1' || ref.clientOrderId === 'desk-7' ? order : null; },
};
`;

async function world(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-extflag-');
  onTestFinished(cleanup);
  const store = `sqlite:${join(dir, 'trades.db')}`;
  const adapter = join(dir, 'venue.mjs');
  writeFileSync(adapter, ADAPTER);
  return { store, adapter };
}

describe('ptrack reconcile --external-orders', () => {
  it('adopt: the run adopts the external order, and ptrack orders lists it as the book’s', async ({ onTestFinished }) => {
    const w = await world(onTestFinished);
    const r = await runMain(['--store', w.store, 'reconcile', '--adapter', w.adapter, '--external-orders', 'adopt', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { externalOrders: unknown[] };
    expect(report.externalOrders).toEqual([
      expect.objectContaining({
        externalOrderId: 'V-1',
        policy: 'adopt',
        outcome: 'adopted',
        adoptedAs: { clientOrderId: 'desk-7', positionId: 'ext-V-1' },
      }),
    ]);
    const orders = await runMain(['--store', w.store, 'orders', '--json']);
    expect(orders.code, orders.stderr).toBe(0);
    expect((JSON.parse(orders.stdout) as { orders: unknown[] }).orders).toEqual([
      expect.objectContaining({ clientOrderId: 'desk-7', origin: 'adopted', status: 'OPEN', positionId: 'ext-V-1' }),
    ]);
  });

  it('without the flag the config decides (manual by default): detected only; the text report lists it', async ({ onTestFinished }) => {
    const w = await world(onTestFinished);
    const r = await runMain(['--store', w.store, 'reconcile', '--adapter', w.adapter]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/external orders \(open at the venue, never issued by this book\):/);
    expect(r.stdout).toMatch(/V-1\s+desk-7\s+buy 0\.5 BTC\s+manual\s+detected/);
    const orders = await runMain(['--store', w.store, 'orders', '--json']);
    expect((JSON.parse(orders.stdout) as { orders: unknown[] }).orders).toEqual([]);
  });

  it('refuses another word as bad input, and appends nothing', async ({ onTestFinished }) => {
    const w = await world(onTestFinished);
    const r = await runMain(['--store', w.store, 'reconcile', '--adapter', w.adapter, '--external-orders', 'close']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--external-orders.*close/);
    // The run before it (manual) recorded the detection: the refused one adds nothing after it.
    const log = async () => (await runMain(['--store', w.store, 'log', '--json'])).stdout;
    expect(r.stdout).toBe('');
    const first = await runMain(['--store', w.store, 'reconcile', '--adapter', w.adapter]);
    expect(first.code, first.stderr).toBe(0);
    const before = await log();
    expect(before).toMatch(/ExternalOrderDetected/);
    expect((await runMain(['--store', w.store, 'reconcile', '--adapter', w.adapter, '--external-orders', 'close'])).code).toBe(2);
    expect(await log()).toBe(before);
  });
});
