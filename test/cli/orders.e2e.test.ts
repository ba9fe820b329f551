import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/commands/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * ptrack orders, order cancel, symbol disable / enable, and the orders in ptrack status,
 * through the built binary, on a log whose orders were placed through the library.
 */

let dir: string;
let cleanup: () => void;
let store: string[];
/** Client order ids: a partly filled open order, one in flight (never answered), one rejected. */
let open: string;
let inFlight: string;
let rejected: string;

const run = (args: string[]) => ptrack([...args, ...store], { cwd: dir });
const json = <T>(stdout: string): T => JSON.parse(stdout) as T;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  const file = join(dir, 'trades.db');
  store = ['--store', `sqlite:${file}`];
  const tracker = await openTracker({ store: `sqlite:${file}` });
  const request = async (commandId: string, positionId: string, symbol: string): Promise<string> => {
    const r = await tracker.execute({
      type: 'RequestOrder',
      commandId,
      positionId,
      symbol,
      side: 'long',
      intent: 'entry',
      quantity: 10,
      referencePrice: 10,
    });
    return [...r.state.positionOrders.get(positionId)!].at(-1)!;
  };
  open = await request('c-1', 'A', 'BTC');
  await tracker.execute({ type: 'RecordOrderAccepted', clientOrderId: open, externalOrderId: 'x-1' });
  await tracker.execute({ type: 'RecordFill', clientOrderId: open, tradeId: 't-1', quantity: 3, price: 10 });
  inFlight = await request('c-2', 'B', 'ETH');
  rejected = await request('c-3', 'C', 'SOL');
  await tracker.execute({ type: 'RecordOrderRejected', clientOrderId: rejected, reason: 'insufficient margin' });
  await tracker.close();
});
afterAll(() => cleanup());

describe('ptrack orders', () => {
  it('lists every order the book holds, in flight first, then open, then finished; --open only the live ones', async () => {
    const all = await run(['orders', '--json']);
    expect(all.code, all.stderr).toBe(0);
    const listed = json<{ book: string; orders: Order[] }>(all.stdout);
    expect(listed.book).toBe('main');
    expect(listed.orders.map((o) => [o.clientOrderId, o.status, o.filledQuantity])).toEqual([
      [inFlight, 'PENDING_SUBMIT', 0],
      [open, 'PARTIALLY_FILLED', 3],
      [rejected, 'REJECTED', 0],
    ]);
    const live = json<{ orders: Order[] }>((await run(['orders', '--open', '--json'])).stdout);
    expect(live.orders.map((o) => o.clientOrderId)).toEqual([inFlight, open]);

    const text = await run(['orders']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^book main: 1 in flight, 1 open, 1 finished\n/);
    expect(text.stdout).toContain('PENDING_SUBMIT (in flight)');
    const row = text.stdout.split('\n').find((l) => l.startsWith(open));
    expect(row).toMatch(/PARTIALLY_FILLED\s+A\s+BTC\s+buy\s+entry\s+market\s+10\s+3\s+10\s+x-1/);
  });

  it('says what it takes (--help), and refuses an argument too many (exit 2)', async () => {
    const help = await run(['orders', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--open');
    expect(help.stdout).toContain('--json');
    expect((await run(['orders', 'extra'])).code).toBe(2);
  });
});

describe('ptrack status', () => {
  it('shows the orders in flight and open, as text and in --json', async () => {
    const text = await run(['status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('orders: 1 in flight, 1 open');
    expect(text.stdout).toContain(inFlight);
    expect(text.stdout).not.toContain(rejected);
    const data = json<{ orders: Order[] }>((await run(['status', '--json'])).stdout);
    expect(data.orders.map((o) => [o.clientOrderId, o.status])).toEqual([
      [open, 'PARTIALLY_FILLED'],
      [inFlight, 'PENDING_SUBMIT'],
    ]);
  });
});

describe('ptrack order cancel', () => {
  it('refuses an unknown order (exit 3, naming it), an id with control characters (exit 2, escaped), and a finished order (exit 3)', async () => {
    const unknown = await run(['order', 'cancel', 'no-such-order']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^ptrack: cannot cancel order "no-such-order": the book has no such order/);
    const bad = await run(['order', 'cancel', 'a\x1b[2Jb']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('<clientOrderId>');
    expect(bad.stderr).toContain('\\u001b[2J');
    expect(bad.stderr).not.toContain('\x1b');
    const finished = await run(['order', 'cancel', rejected]);
    expect(finished.code).toBe(3);
    expect(finished.stderr).toContain(rejected);
  });

  it('without --adapter records the cancel request (PENDING_CANCEL) and sends nothing; a second one is refused', async () => {
    const r = await run(['order', 'cancel', inFlight, '--reason', 'changed my mind']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`order ${inFlight}: PENDING_CANCEL`);
    expect(r.stdout).toContain('nothing was sent to the venue');
    const again = await run(['order', 'cancel', inFlight, '--json']);
    expect(again.code).toBe(3);
    const log = (await run(['log', '--json'])).stdout
      .trim()
      .split('\n')
      .map((l) => json<{ type: string; data: Record<string, unknown> }>(l));
    expect(log.filter((e) => e.type === 'OrderCancelRequested').map((e) => e.data)).toEqual([
      { clientOrderId: inFlight, reason: 'changed my mind', source: 'local' },
    ]);
  });

  it('with --adapter also cancels it at the venue and records OrderCanceled once the venue confirms', async () => {
    const venue = join(dir, 'venue.json');
    writeFileSync(venue, JSON.stringify({ canceled: [] }));
    const adapter = join(dir, 'adapter.mjs');
    writeFileSync(
      adapter,
      `import { readFileSync, writeFileSync } from 'node:fs';
const file = ${JSON.stringify(venue)};
const read = () => JSON.parse(readFileSync(file, 'utf8'));
const known = { ${JSON.stringify(open)}: { externalOrderId: 'x-1', symbol: 'BTC', side: 'buy', quantity: 10, filledQuantity: 3, averagePrice: 10 } };
export default {
  listPositions: async () => [{ positionId: 'A', symbol: 'BTC', side: 'long', quantity: 3, value: 30 }],
  closePosition: async () => {},
  submitOrder: async () => { throw new Error('this test sends no order'); },
  listOpenOrders: async () => [],
  getOrder: async (ref) => {
    const o = known[ref.clientOrderId];
    if (!o) return null;
    const status = read().canceled.includes(ref.clientOrderId) ? 'canceled' : 'partially_filled';
    return { ...o, clientOrderId: ref.clientOrderId, status };
  },
  cancelOrder: async (ref) => {
    const s = read();
    s.canceled.push(ref.clientOrderId);
    writeFileSync(file, JSON.stringify(s));
  },
};
`,
    );
    const r = await run(['order', 'cancel', open, '--adapter', adapter, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = json<{ outcome: string; order: Order }>(r.stdout);
    expect(out.outcome).toBe('canceled');
    expect(out.order).toMatchObject({ clientOrderId: open, status: 'CANCELED', filledQuantity: 3 });
    expect(json<{ canceled: string[] }>(readFileSync(venue, 'utf8')).canceled).toEqual([open]);
    const after = json<{ orders: Order[] }>((await run(['orders', '--json'])).stdout);
    expect(after.orders.find((o) => o.clientOrderId === open)?.status).toBe('CANCELED');
  });

  it('with --adapter whose venue cannot be reached: the request is recorded, the order printed, exit 5', async () => {
    const tracker = await openTracker({ store: store[1]! });
    let id: string;
    try {
      const r = await tracker.execute({
        type: 'RequestOrder',
        commandId: 'c-5',
        positionId: 'E',
        symbol: 'ADA',
        intent: 'entry',
        quantity: 1,
        referencePrice: 1,
      });
      id = [...r.state.positionOrders.get('E')!][0]!;
      await tracker.execute({ type: 'RecordOrderAccepted', clientOrderId: id, externalOrderId: 'x-5' });
    } finally {
      await tracker.close();
    }
    const adapter = join(dir, 'down.mjs');
    writeFileSync(
      adapter,
      `export default {
  listPositions: async () => [],
  closePosition: async () => {},
  submitOrder: async () => { throw new Error('no'); },
  listOpenOrders: async () => [],
  getOrder: async (ref) => ref.clientOrderId === ${JSON.stringify(id)} ? { externalOrderId: 'x-5', clientOrderId: ref.clientOrderId, symbol: 'ADA', side: 'buy', quantity: 1, filledQuantity: 0, status: 'open' } : null,
  cancelOrder: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:9'); },
};
`,
    );
    const r = await run(['order', 'cancel', id, '--adapter', adapter]);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stdout).toContain(`order ${id}: PENDING_CANCEL; the venue did not confirm the cancel`);
    expect(r.stderr).toMatch(/^ptrack: .*ECONNREFUSED/);
  });

  it('with an adapter that cannot trade: exit 2 naming what it lacks, nothing appended', async () => {
    const adapter = join(dir, 'positions-only.mjs');
    writeFileSync(adapter, 'export default { listPositions: async () => [], closePosition: async () => {} };\n');
    const before = (await run(['head', '--json'])).stdout;
    const r = await run(['order', 'cancel', rejected, '--adapter', adapter]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^ptrack: --adapter: \S+positions-only\.mjs cannot trade: the adapter lacks submitOrder, getOrder, listOpenOrders, cancelOrder/,
    );
    expect((await run(['head', '--json'])).stdout).toBe(before);
  });
});

describe('ptrack symbol disable / enable', () => {
  it('disables a side with a reason (kept in the log: an order on it is refused), shows it in status, and enables it again', async () => {
    const off = await run(['symbol', 'disable', 'DOGE', '--side', 'buy', '--reason', 'delisting \x07soon', '--json']);
    expect(off.code, off.stderr).toBe(0);
    expect(json<{ control: unknown }>(off.stdout).control).toMatchObject({ buy: { reason: 'delisting \u0007soon' } });
    expect(off.stdout).not.toContain('\x07');

    const status = await run(['status']);
    expect(status.stdout).toMatch(/buying DOGE disabled since \S+: delisting \\u0007soon/);
    const data = json<{ symbolControls: { symbol: string }[] }>((await run(['status', '--json'])).stdout);
    expect(data.symbolControls.map((c) => c.symbol)).toEqual(['DOGE']);

    const tracker = await openTracker({ store: store[1]! });
    try {
      await expect(
        tracker.execute({
          type: 'RequestOrder',
          commandId: 'c-doge',
          positionId: 'D',
          symbol: 'DOGE',
          intent: 'entry',
          quantity: 1,
          referencePrice: 1,
        }),
      ).rejects.toThrow(/buying DOGE is disabled .*delisting/);
    } finally {
      await tracker.close();
    }

    const again = await run(['symbol', 'disable', 'DOGE', '--side', 'buy', '--reason', 'delisting \x07soon']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^DOGE: already so, nothing appended; buying disabled/);
    const on = await run(['symbol', 'enable', 'DOGE']);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toBe('DOGE: recorded; buying enabled, selling enabled\n');
    expect(json<{ symbolControls: unknown[] }>((await run(['status', '--json'])).stdout).symbolControls).toEqual([]);
  });

  it('refuses a bad --side, a missing --reason and a bad symbol (exit 2, naming the flag and the value)', async () => {
    const side = await run(['symbol', 'disable', 'BTC', '--side', 'up', '--reason', 'x']);
    expect(side.code).toBe(2);
    expect(side.stderr).toMatch(/--side.*'up'.*buy, sell, both/);
    const reason = await run(['symbol', 'disable', 'BTC', '--side', 'sell']);
    expect(reason.code).toBe(2);
    expect(reason.stderr).toContain('--reason');
    const symbol = await run(['symbol', 'enable', 'B\x1bTC']);
    expect(symbol.code).toBe(2);
    expect(symbol.stderr).toMatch(/<symbol>: .*"B\\u001bTC"/);
    const help = await run(['symbol', 'disable', '--help']);
    expect(help.stdout).toContain('--side <side>');
    expect(help.stdout).toContain('--reason <text>');
  });
});
