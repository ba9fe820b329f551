import { describe, expect, it } from 'vitest';
import type { BookState } from '../../src/commands/index.js';
import type { EventData } from '../../src/events/index.js';
import { planCloseAll } from '../../src/reconcile/planCloseAll.js';
import { recoverOnStartup, type ExternalSystem } from '../../src/reconcile/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { botEnters, eventsAfter, openWorld } from '../helpers/reconcileWorld.js';

/*
 * #16.5 Startup recovery's close_all is a plan (planCloseAll, pure) run by the same executor as a
 * reconciliation (executePlan), not a loop of its own.
 */

const NOW = new Date('2026-01-05T12:00:00.000Z');
const AGO = { recordedAt: new Date(NOW.getTime() - 3_600_000).toISOString() };
const NO_SLEEP = { sleep: async () => undefined };

function tracked(id: string): GivenEvent {
  return { type: 'PositionTracked', data: { positionId: id, side: 'long', symbol: 'BTC', source: 'local' }, metadata: AGO };
}
function entered(id: string, value: number): GivenEvent {
  const data: EventData<'PositionEntered'> = {
    positionId: id,
    side: 'long',
    symbol: 'BTC',
    value,
    source: 'local',
  } as EventData<'PositionEntered'>;
  return { type: 'PositionEntered', data, metadata: AGO };
}
const book = (events: GivenEvent[]): BookState => deciderSpec({ now: NOW }).given(events).state();

describe('#16.5 planCloseAll', () => {
  it('#16.5 closes outside and records each (an exit when IN here, a closed orphan otherwise), then clears what is IN here only', () => {
    const state = book([tracked('BOT-1'), entered('BOT-1', 900), tracked('BOT-2'), entered('BOT-2', 300), tracked('W-1')]);
    const steps = planCloseAll(state, [
      { id: 'BOT-1', value: 950 },
      { id: 'W-1', value: 40 },
      { id: 'HAND-1', value: 120 },
    ]);
    expect(steps).toStrictEqual([
      {
        action: {
          kind: 'closeOutside',
          positionId: 'BOT-1',
          record: { type: 'Exit', positionId: 'BOT-1', value: 950, reason: 'recovery: close_all' },
        },
      },
      {
        action: {
          kind: 'closeOutside',
          positionId: 'W-1',
          record: { type: 'CloseOrphan', positionId: 'W-1', value: 40, reason: 'recovery: close_all' },
        },
      },
      {
        action: {
          kind: 'closeOutside',
          positionId: 'HAND-1',
          record: { type: 'CloseOrphan', positionId: 'HAND-1', value: 120, reason: 'recovery: close_all' },
        },
      },
      {
        action: {
          kind: 'command',
          command: { type: 'ClearPhantom', positionId: 'BOT-2', looks: 0, reason: 'recovery: close_all, not open outside' },
          about: 'clear BOT-2: IN here, not open outside',
        },
      },
    ]);
  });

  it('#16.5 an empty outside and an empty book plan nothing', () => {
    expect(planCloseAll(book([]), [])).toStrictEqual([]);
  });

  it('#16.5 a position no longer IN when its clear runs (someone exited it meanwhile) is already flat: no error, and the start goes on to its heartbeat', async () => {
    const w = await openWorld({ seed: 3 });
    await botEnters(w, 'BOT-1', 'BTC', 0.01);
    await botEnters(w, 'BOT-2', 'ETH', 0.3);
    w.exchange.liquidate('BOT-2');
    w.advance(600);
    const before = (await w.store.head()).position;
    const external: ExternalSystem = {
      listPositions: () => w.exchange.listPositions(),
      closePosition: async (id) => {
        const r = await w.exchange.closePosition(id);
        // Someone else exits BOT-2 while the closes run: the planned clear of BOT-2 is refused.
        await w.tracker.exit('BOT-2', { value: 100 });
        return r;
      },
    };
    const outcome = await recoverOnStartup({ handler: w.tracker.handler, external, mode: 'close_all', now: w.now, guard: NO_SLEEP });
    expect(outcome.closed).toStrictEqual(['BOT-1']);
    expect(outcome.errors).toStrictEqual([]);
    expect(await w.tracker.get('BOT-2')).toMatchObject({ status: 'EXITED', closedBy: 'exit' });
    expect((await eventsAfter(w.store, before)).map((e) => [e.type, (e.data as { positionId?: string }).positionId])).toStrictEqual([
      ['PositionExited', 'BOT-2'],
      ['PositionExited', 'BOT-1'],
      ['Heartbeat', undefined],
    ]);
  });
});
