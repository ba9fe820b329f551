import { describe, expect, it } from 'vitest';
import { MemoryEventStore, type EventStore } from '../../src/store/index.js';
import { openTracker } from '../../src/tracker/index.js';

/*
 * The Open command: track and enter in one command, one append. Against a store that counts its
 * appends: an accepted open is one append of PositionTracked then PositionEntered, a refused one
 * appends nothing, and every refusal is the one track then enter gives, word for word.
 */

function countingStore(): { store: EventStore; appends: number[] } {
  const inner = new MemoryEventStore();
  const appends: number[] = [];
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'append') {
        return (stream: string, events: readonly unknown[], options?: unknown) => {
          appends.push(events.length);
          return (target.append as (...a: unknown[]) => unknown).call(target, stream, events, options);
        };
      }
      const v = Reflect.get(target, key, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store, appends };
}

const POLICY = { maxPositions: 2, minPositionValue: 10, rejectDuplicateSymbol: true, snapshotEvery: 0 };

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  return 'accepted';
}

describe('open: track and enter in one append', () => {
  it('appends PositionTracked and PositionEntered in one append, with the entry fields', async () => {
    const { store, appends } = countingStore();
    const tracker = await openTracker({ store, ...POLICY });
    const r = await tracker.open('A', { symbol: 'AAA', value: 100, quantity: 2, price: 50, stop: 45, takeProfit: 60, side: 'long' });
    expect(appends).toEqual([2]);
    expect(r.events.map((e) => e.type)).toEqual(['PositionTracked', 'PositionEntered']);
    expect(r.events[1]!.position).toBe(r.events[0]!.position + 1);
    expect(r.events[1]!.data).toMatchObject({
      positionId: 'A',
      symbol: 'AAA',
      value: 100,
      quantity: 2,
      price: 50,
      stop: 45,
      takeProfit: 60,
    });
    expect(r.position).toMatchObject({ id: 'A', status: 'IN', symbol: 'AAA' });
    await tracker.close();
  });

  it('refuses exactly as track then enter would, and a refused open appends nothing', async () => {
    const cases: {
      name: string;
      setup: (t: Awaited<ReturnType<typeof openTracker>>) => Promise<unknown>;
      open: Record<string, unknown>;
    }[] = [
      { name: 'already tracked', setup: (t) => t.track('X', { symbol: 'XX' }), open: { symbol: 'XX', value: 100 } },
      { name: 'dust', setup: async () => undefined, open: { symbol: 'XX', value: 5 } },
      { name: 'duplicate symbol', setup: (t) => t.open('Y', { symbol: 'XX', value: 100 }), open: { symbol: 'XX', value: 100 } },
      {
        name: 'position limit',
        setup: async (t) => {
          await t.open('Y1', { symbol: 'Y1', value: 100 });
          await t.open('Y2', { symbol: 'Y2', value: 100 });
        },
        open: { symbol: 'XX', value: 100 },
      },
      { name: 'breaker tripped', setup: (t) => t.tripCircuitBreaker('test'), open: { symbol: 'XX', value: 100 } },
      { name: 'trailing without a price', setup: async () => undefined, open: { symbol: 'XX', value: 100, trailingStop: { percent: 2 } } },
    ];
    for (const c of cases) {
      const viaOpen = countingStore();
      const a = await openTracker({ store: viaOpen.store, ...POLICY });
      await c.setup(a);
      const before = viaOpen.appends.length;
      const opened = await errorOf(a.open('X', c.open as { value: number }));
      expect(viaOpen.appends.length, c.name).toBe(before);
      await a.close();

      const viaTwo = countingStore();
      const b = await openTracker({ store: viaTwo.store, ...POLICY });
      await c.setup(b);
      const { value, quantity, price, stop, trailingStop, ...track } = c.open;
      let twoStep = await errorOf(b.track('X', track));
      if (twoStep === 'accepted')
        twoStep = await errorOf(b.enter('X', { value, quantity, price, stop, trailingStop } as { value: number }));
      await b.close();
      expect(opened, c.name).not.toBe('accepted');
      expect(opened, c.name).toBe(twoStep);
    }
  });

  it('is idempotent by command id: a repeat appends nothing and answers the first result', async () => {
    const { store, appends } = countingStore();
    const tracker = await openTracker({ store, ...POLICY });
    await tracker.open('A', { symbol: 'AAA', value: 100, commandId: 'c1' });
    const again = await tracker.open('A', { symbol: 'AAA', value: 100, commandId: 'c1' });
    expect(again.duplicate).toBe(true);
    expect(appends).toEqual([2]);
    await tracker.close();
  });
});
