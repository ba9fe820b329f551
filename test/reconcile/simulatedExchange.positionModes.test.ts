import { describe, expect, it } from 'vitest';
import { guardExternal, SimulatedExchange, type GuardedExternal, type SimulatedExchangeOptions } from '../../src/reconcile/index.js';

/*
 * The simulated exchange's position modes: per-id (one position per id the bot filled under),
 * netting (one per symbol, outside id the symbol) and hedge (one per symbol and side, outside id
 * `<symbol>#<side>`). Every answer is read through guardExternal, so each one also parses at the port.
 */

const START = Date.parse('2026-12-02T00:00:00.000Z');
const PRICES = { BTC: 100, ETH: 10 };

function exchange(positionMode: SimulatedExchangeOptions['positionMode'], options: Partial<SimulatedExchangeOptions> = {}) {
  const clock = { now: START };
  const x = new SimulatedExchange({ seed: 1, clock: () => new Date(clock.now), symbols: PRICES, positionMode, ...options });
  return { x, clock, port: guardExternal(x, { sleep: async () => undefined }) };
}
const listed = async (port: GuardedExternal) =>
  (await port.listPositions()).map(({ id, symbol, side, quantity, value }) => ({ id, symbol, side, quantity, value }));

describe('SimulatedExchange position modes', () => {
  it('reports its mode the way the port reads an adapter (per-id by default)', () => {
    expect(exchange(undefined).port.positionMode).toBe('per-id');
    expect(exchange('netting').port.positionMode).toBe('netting');
    expect(exchange('hedge').port.positionMode).toBe('hedge');
  });

  describe('netting', () => {
    it('lists one position per symbol with the summed quantity and value, its id the symbol', async () => {
      const { x, port } = exchange('netting');
      x.fill('A', { symbol: 'BTC', side: 'long', quantity: 1 });
      x.fill('B', { symbol: 'BTC', side: 'long', quantity: 2 });
      x.fill('C', { symbol: 'ETH', side: 'long', quantity: 5 });
      expect(await listed(port)).toStrictEqual([
        { id: 'BTC', symbol: 'BTC', side: 'long', quantity: 3, value: 300 },
        { id: 'ETH', symbol: 'ETH', side: 'long', quantity: 5, value: 50 },
      ]);
      expect(await port.getPosition('BTC')).toMatchObject({ id: 'BTC', quantity: 3, value: 300 });
      expect(await port.getPosition('A')).toBeNull();
    });

    it("the bot's close of one position takes that position's quantity off the symbol", async () => {
      const { x, port } = exchange('netting');
      x.fill('A', { symbol: 'BTC', side: 'long', quantity: 1 });
      x.fill('B', { symbol: 'BTC', side: 'long', quantity: 2 });
      expect(x.closeByBot('A')).toBe(100);
      expect(await listed(port)).toStrictEqual([{ id: 'BTC', symbol: 'BTC', side: 'long', quantity: 2, value: 200 }]);
      // A position it filled nothing under (adopted from an orphan): that quantity off the venue position, never more than held.
      expect(x.closeByBot('BTC~2', { venueId: 'BTC', quantity: 0.5 })).toBe(50);
      expect(x.venuePositions()).toStrictEqual([{ id: 'BTC', symbol: 'BTC', side: 'long', quantity: 1.5, value: 150 }]);
      x.closeByBot('BTC~3', { venueId: 'BTC', quantity: 9 });
      expect(await port.listPositions()).toStrictEqual([]);
    });

    it('a close with a quantity takes only that much off, the orphan part first; never flips; the wrong side is refused', async () => {
      const { x, port } = exchange('netting', { symbols: { BTC: 100 } });
      x.fill('A', { symbol: 'BTC', side: 'long', quantity: 1 });
      expect(x.injectOrphan()).toBe('BTC');
      const held = x.venuePositions()[0]!;
      expect(held.quantity).toBeGreaterThan(1);
      await expect(port.closePosition('BTC', { quantity: 0.1, side: 'short' })).rejects.toMatchObject({ failure: 'rejected' });
      // The surplus off: what the bot filled is left, and its own close still takes it off.
      await port.closePosition('BTC', { quantity: held.quantity - 1, side: 'long' });
      expect(x.venuePositions()).toStrictEqual([{ id: 'BTC', symbol: 'BTC', side: 'long', quantity: 1, value: 100 }]);
      expect(x.valueNow('A')).toBe(100);
      // More than it holds: closed, not flipped short.
      await port.closePosition('BTC', { quantity: 5, side: 'long' });
      expect(await port.listPositions()).toStrictEqual([]);
      expect(x.closeLog().closes).toStrictEqual({ BTC: 2 });
      await expect(port.closePosition('BTC')).rejects.toMatchObject({ failure: 'rejected' });
      expect(x.closeLog().badCloses).toStrictEqual(['BTC']);
    });

    it('misbehaves by venue key: a liquidation takes the whole symbol (a direct look says closed), drift marks all of it', async () => {
      const { x, port } = exchange('netting');
      x.fill('A', { symbol: 'BTC', side: 'long', quantity: 1 });
      x.fill('B', { symbol: 'BTC', side: 'long', quantity: 1 });
      expect(x.drift('BTC', 1.1)).toBe(true);
      expect(x.venuePositions()[0]).toMatchObject({ id: 'BTC', value: 220 });
      expect(x.liquidate('A')).toBe(false);
      expect(x.liquidate('BTC')).toBe(true);
      expect(await port.listPositions()).toStrictEqual([]);
      expect(await port.lookUpPosition('BTC')).toStrictEqual({ open: false, closedAt: new Date(START).toISOString() });
      expect(x.injections()).toStrictEqual([
        { cause: 'liquidation / stop-out outside', positionId: 'BTC', at: new Date(START).toISOString() },
      ]);
    });

    it('dust lands on the symbol and grows there', () => {
      const { x } = exchange('netting');
      x.fill('A', { symbol: 'BTC', side: 'long', quantity: 1 });
      const dust = x.dustReward();
      expect(['BTC', 'ETH']).toContain(dust);
      const before = x.valueNow(dust)!;
      expect(x.growDust(dust, 100)).toBe(true);
      expect(x.valueNow(dust)!).toBeGreaterThan(before + 15);
      expect(x.truth().find((t) => t.id === dust)?.origin).toBe(dust === 'BTC' ? 'bot' : 'dust');
    });

    it('hides a fill that is younger than the lag from the summed position', async () => {
      const { x, port, clock } = exchange('netting', { lagSeconds: 30 });
      x.fill('A', { symbol: 'BTC', side: 'long', quantity: 1 });
      clock.now += 60_000;
      x.fill('B', { symbol: 'BTC', side: 'long', quantity: 2 });
      expect((await port.listPositions())[0]).toMatchObject({ id: 'BTC', quantity: 1 });
      clock.now += 31_000;
      expect((await port.listPositions())[0]).toMatchObject({ id: 'BTC', quantity: 3 });
    });
  });

  describe('hedge', () => {
    it('a long and a short on one symbol are two venue positions, ids <symbol>#<side>', async () => {
      const { x, port } = exchange('hedge');
      x.fill('A', { symbol: 'BTC', side: 'long', quantity: 1 });
      x.fill('B', { symbol: 'BTC', side: 'short', quantity: 2 });
      x.fill('C', { symbol: 'BTC', side: 'short', quantity: 1 });
      expect(await listed(port)).toStrictEqual([
        { id: 'BTC#long', symbol: 'BTC', side: 'long', quantity: 1, value: 100 },
        { id: 'BTC#short', symbol: 'BTC', side: 'short', quantity: 3, value: 300 },
      ]);
      x.closeByBot('B');
      expect(x.venuePositions()).toStrictEqual([
        { id: 'BTC#long', symbol: 'BTC', side: 'long', quantity: 1, value: 100 },
        { id: 'BTC#short', symbol: 'BTC', side: 'short', quantity: 1, value: 100 },
      ]);
      expect(x.venueIdOf({ id: 'Z', symbol: 'ETH', side: 'short' })).toBe('ETH#short');
    });

    it('a trade by hand may be a short: orphans come on both sides (by seed)', () => {
      const { x } = exchange('hedge', { symbols: { BTC: 100 } });
      const ids = new Set(Array.from({ length: 12 }, () => x.injectOrphan()));
      expect([...ids].sort()).toStrictEqual(['BTC#long', 'BTC#short']);
    });
  });

  it('per-id keeps one position per id (the ids the bot filled under)', async () => {
    const { x, port } = exchange('per-id');
    x.fill('A', { symbol: 'BTC', side: 'long', quantity: 1 });
    x.fill('B', { symbol: 'BTC', side: 'long', quantity: 2 });
    expect((await listed(port)).map((p) => [p.id, p.quantity])).toStrictEqual([
      ['A', 1],
      ['B', 2],
    ]);
    expect(x.venuePositions().map((p) => p.id)).toStrictEqual(['A', 'B']);
  });
});
