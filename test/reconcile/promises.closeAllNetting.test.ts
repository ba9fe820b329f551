import { afterEach, describe, expect, it } from 'vitest';
import type { BookState } from '../../src/commands/index.js';
import { ExternalPosition, recoverOnStartup, SimulatedExchange } from '../../src/reconcile/index.js';
import { planCloseAll } from '../../src/reconcile/planCloseAll.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';
import { allEvents, LOOSE_BOOK } from '../helpers/reconcileWorld.js';

/*
 * Startup recovery's close_all on a netting or hedge account: several book positions on one venue
 * key are one venue position, so it is closed once, whole (the venue's own quantity: the close
 * cannot flip it into the other side), and that close is recorded for each book position on the
 * key (an exit at its share of the value); what the book holds beyond the venue is cleared, the
 * most recent first; what the venue holds beyond the book is a closed orphan. Nothing is recorded
 * for a close that failed.
 */

const NOW = new Date('2026-01-05T12:00:00.000Z');
const REASON = 'recovery: close_all';
const minutesAgo = (m: number) => ({ recordedAt: new Date(NOW.getTime() - m * 60_000).toISOString() });

function held(id: string, quantity: number, minutes: number, side: 'long' | 'short' = 'long', symbol = 'BTC'): GivenEvent[] {
  return [
    { type: 'PositionTracked', data: { positionId: id, side, symbol, source: 'local' }, metadata: minutesAgo(minutes) },
    {
      type: 'PositionEntered',
      data: { positionId: id, side, symbol, value: quantity * 100, quantity, price: 100, source: 'local' },
      metadata: minutesAgo(minutes),
    },
  ];
}
const book = (events: GivenEvent[]): BookState => deciderSpec({ now: NOW }).given(events).state();
/** A, B and C on BTC, entered 60, 40 and 20 minutes ago: 1 + 2 + 3. */
const THREE = [...held('A', 1, 60), ...held('B', 2, 40), ...held('C', 3, 20)];
const venue = (raw: Record<string, unknown>): ExternalPosition => ExternalPosition.parse(raw);
const exit = (positionId: string, value: number) => ({
  type: 'Exit',
  positionId,
  value: expect.closeTo(value, 9) as number,
  reason: REASON,
});

describe('planCloseAll on a netting account', () => {
  it('one close for the symbol, recorded as an exit of each book position at its share of the value', () => {
    const steps = planCloseAll(book(THREE), [venue({ id: 'BTC', symbol: 'BTC', quantity: 6, value: 660 })], 'netting');
    expect(steps).toStrictEqual([
      { action: { kind: 'closeOutside', positionId: 'BTC', record: exit('A', 110), more: [exit('B', 220), exit('C', 330)] } },
    ]);
  });

  it('the venue holds less: the shortfall is cleared from the most recent position first, the rest exits', () => {
    // 6 here, 2.5 outside: C (3) is all missing, B loses 0.5; A and 1.5 of B exit at 100 a unit.
    const steps = planCloseAll(book(THREE), [venue({ id: 'BTC', symbol: 'BTC', quantity: 2.5, value: 250 })], 'netting');
    expect(steps).toStrictEqual([
      {
        action: {
          kind: 'closeOutside',
          positionId: 'BTC',
          record: { type: 'ClearPhantom', positionId: 'C', looks: 0, reason: `${REASON}, not open outside (BTC long)` },
          more: [
            { type: 'ClearPhantom', positionId: 'B', looks: 0, quantity: 0.5, reason: `${REASON}, not open outside (BTC long)` },
            exit('A', 100),
            exit('B', 150),
          ],
        },
      },
    ]);
  });

  it('the venue holds more: the surplus is a closed orphan; a key the venue does not hold is cleared; a symbol the book does not hold is an orphan', () => {
    const events = [...THREE, ...held('E', 1, 10, 'long', 'ETH')];
    const steps = planCloseAll(
      book(events),
      [venue({ id: 'BTC', symbol: 'BTC', quantity: 7, value: 700 }), venue({ id: 'SOL', symbol: 'SOL', quantity: 2, value: 40 })],
      'netting',
    );
    expect(steps).toStrictEqual([
      {
        action: {
          kind: 'closeOutside',
          positionId: 'BTC',
          record: exit('A', 100),
          more: [
            exit('B', 200),
            exit('C', 300),
            { type: 'CloseOrphan', positionId: 'BTC', value: expect.closeTo(100, 9) as number, reason: REASON },
          ],
        },
      },
      {
        action: { kind: 'closeOutside', positionId: 'SOL', record: { type: 'CloseOrphan', positionId: 'SOL', value: 40, reason: REASON } },
      },
      {
        action: {
          kind: 'command',
          command: { type: 'ClearPhantom', positionId: 'E', looks: 0, reason: `${REASON}, not open outside` },
          about: 'clear E: IN here, not open outside',
        },
      },
    ]);
  });

  it('hedge: a long and a short on one symbol are two venue positions, each closed once', () => {
    const events = [...held('L1', 1, 60), ...held('L2', 1, 50), ...held('S1', 2, 40, 'short')];
    const steps = planCloseAll(
      book(events),
      [
        venue({ id: 'BTC#long', symbol: 'BTC', side: 'long', quantity: 2, value: 200 }),
        venue({ id: 'BTC#short', symbol: 'BTC', quantity: -2, value: -200 }),
      ],
      'hedge',
    );
    expect(steps).toStrictEqual([
      { action: { kind: 'closeOutside', positionId: 'BTC#long', record: exit('L1', 100), more: [exit('L2', 100)] } },
      { action: { kind: 'closeOutside', positionId: 'BTC#short', record: exit('S1', 200) } },
    ]);
  });

  it('per-id (the default) is as before: matched by id', () => {
    const steps = planCloseAll(book(THREE), [venue({ id: 'BTC', symbol: 'BTC', quantity: 6, value: 600 })]);
    expect(steps.map((s) => (s.action.kind === 'closeOutside' ? s.action.record.type : s.action.kind))).toStrictEqual([
      'CloseOrphan',
      'command',
      'command',
      'command',
    ]);
  });
});

describe('recoverOnStartup close_all against a netting exchange', () => {
  const trackers: Tracker[] = [];
  afterEach(async () => {
    for (const t of trackers.splice(0)) await t.close();
  });

  async function world() {
    const clock = { now: NOW.getTime() };
    const now = () => new Date(clock.now);
    const store = new MemoryEventStore({ now });
    const tracker = await openTracker({ ...LOOSE_BOOK, store, now });
    trackers.push(tracker);
    const exchange = new SimulatedExchange({ seed: 4, clock: now, symbols: { BTC: 100, ETH: 10 }, positionMode: 'netting' });
    const enter = async (id: string, quantity: number) => {
      await tracker.track(id, { symbol: 'BTC', side: 'long' });
      await tracker.enter(id, { value: quantity * 100, quantity, price: 100 });
      exchange.fill(id, { symbol: 'BTC', side: 'long', quantity });
    };
    return { clock, now, store, tracker, exchange, enter };
  }

  it('three book positions on BTC and an orphan on ETH: one close per symbol, the book flat, each step in the log', async () => {
    const w = await world();
    await w.enter('A', 1);
    await w.enter('B', 2);
    await w.enter('C', 3);
    const orphan = w.exchange.injectOrphan();
    w.clock.now += 600_000;
    const before = (await w.store.head()).position;
    const outcome = await recoverOnStartup({
      handler: w.tracker.handler,
      external: w.exchange,
      mode: 'close_all',
      now: w.now,
      guard: { sleep: async () => undefined },
    });
    expect(outcome.errors).toStrictEqual([]);
    expect(new Set(outcome.closed)).toStrictEqual(new Set(['BTC', orphan]));
    // One close per venue position, none repeated, none of a key that was not open; nothing flipped.
    expect(w.exchange.closeLog()).toStrictEqual({ closes: orphan === 'BTC' ? { BTC: 1 } : { BTC: 1, [orphan]: 1 }, badCloses: [] });
    expect(w.exchange.venuePositions()).toStrictEqual([]);
    expect(await w.tracker.list({ status: 'IN' })).toStrictEqual([]);
    const after = (await allEvents(w.store)).filter((e) => e.position > before);
    const exits = after.filter((e) => e.type === 'PositionExited').map((e) => (e.data as { positionId: string }).positionId);
    expect(exits.sort()).toStrictEqual(['A', 'B', 'C']);
    expect(after.filter((e) => e.type === 'OrphanClosed').map((e) => (e.data as { positionId: string }).positionId)).toStrictEqual([
      orphan,
    ]);
    expect(after.every((e) => (e.data as { source?: string }).source === 'recovery')).toBe(true);
  });

  it('a close that fails records nothing: the book keeps its positions', async () => {
    const w = await world();
    await w.enter('A', 1);
    await w.enter('B', 2);
    const before = (await w.store.head()).position;
    const outcome = await recoverOnStartup({
      handler: w.tracker.handler,
      external: {
        positionMode: 'netting',
        listPositions: (o) => w.exchange.listPositions(o),
        closePosition: async () => Promise.reject(new Error('down')),
      },
      mode: 'close_all',
      now: w.now,
      guard: { sleep: async () => undefined, retries: 0 },
    });
    expect(outcome.closed).toStrictEqual([]);
    expect(outcome.errors.join('\n')).toMatch(/closePosition\(BTC\).*down/);
    expect((await allEvents(w.store)).filter((e) => e.position > before && e.type !== 'Heartbeat')).toStrictEqual([]);
    expect((await w.tracker.list({ status: 'IN' })).map((p) => p.id).sort()).toStrictEqual(['A', 'B']);
  });
});
