import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../src/errors/index.js';
import { recoverOnStartup, type ExternalSystem, type RecoveryOptions } from '../../src/reconcile/index.js';
import { allEvents, botEnters, counting, eventsAfter, openWorld, type World } from '../helpers/reconcileWorld.js';

/*
 * Startup after a stop or a crash. The story before each start: the bot recorded a
 * heartbeat, held BOT-1 and BOT-2; then, while it was down, BOT-2 was liquidated outside
 * and an order it never recorded (HAND-1) filled.
 */

const NO_SLEEP = { sleep: async () => undefined };

async function crashedWorld(heartbeatAgeSeconds: number | null): Promise<World> {
  const w = await openWorld({ seed: 21 });
  if (heartbeatAgeSeconds !== null) await w.tracker.handler.handle({ type: 'RecordHeartbeat', process: 'tracker' });
  await botEnters(w, 'BOT-1', 'BTC', 0.01);
  await botEnters(w, 'BOT-2', 'ETH', 0.3);
  w.exchange.liquidate('BOT-2');
  w.exchange.fill('HAND-1', { symbol: 'NVDA', side: 'long', quantity: 5 });
  w.advance(heartbeatAgeSeconds ?? 600);
  return w;
}

function recover(w: World, external: ExternalSystem, options: Partial<RecoveryOptions> & Pick<RecoveryOptions, 'mode'>) {
  return recoverOnStartup({ handler: w.tracker.handler, external, now: w.now, guard: NO_SLEEP, ...options });
}

const typesAndSources = (events: { type: string; data: unknown }[]) => events.map((e) => [e.type, (e.data as { source?: string }).source]);

describe('recoverOnStartup', () => {
  it('sync: reads the outside before writing anything, reconciles, then records a heartbeat', async () => {
    const w = await crashedWorld(600);
    const before = (await w.store.head()).position;
    const headAtFirstLook: number[] = [];
    const external: ExternalSystem = {
      listPositions: async () => {
        headAtFirstLook.push((await w.store.head()).position);
        return w.exchange.listPositions();
      },
      closePosition: (id) => w.exchange.closePosition(id),
      getPosition: (id) => w.exchange.getPosition(id),
    };
    const outcome = await recover(w, external, { mode: 'sync', policy: { orphans: 'adopt', phantoms: 'clear' } });
    expect(headAtFirstLook[0]).toBe(before);
    expect(outcome).toMatchObject({
      requested: 'sync',
      mode: 'sync',
      stateAgeSeconds: 600,
      closed: [],
      errors: [],
      gate: { locked: false },
    });
    expect(outcome.report?.corrected).toBe(2);
    expect(typesAndSources(await eventsAfter(w.store, before))).toEqual([
      ['OrphanDetected', 'reconcile'],
      ['OrphanAdopted', 'reconcile'],
      ['PhantomSuspected', 'reconcile'],
      ['PhantomCleared', 'reconcile'],
      ['ReconciliationCompleted', 'reconcile'],
      ['Heartbeat', 'recovery'],
    ]);
    const state = await w.tracker.state();
    expect(state.lastHeartbeatAt).toBe(w.now().toISOString());
    expect(
      [...state.positions.values()]
        .filter((p) => p.status === 'IN')
        .map((p) => p.id)
        .sort(),
    ).toEqual(['BOT-1', 'HAND-1']);
  });

  it('sync: a failed read changes nothing, not even the heartbeat (the state stays as old as it was), and says why', async () => {
    const w = await crashedWorld(600);
    w.exchange.setFaults({ error: 1 });
    const before = (await w.store.head()).position;
    const heartbeat = (await w.tracker.state()).lastHeartbeatAt;
    const outcome = await recover(w, w.exchange, { mode: 'sync' });
    expect(outcome.errors).toEqual([expect.stringMatching(/connection refused/)]);
    expect(await eventsAfter(w.store, before)).toEqual([]);
    expect((await w.tracker.state()).lastHeartbeatAt).toBe(heartbeat);
    // The venue back: the next start still syncs (restore would see a state too old to trust).
    w.exchange.setFaults({ error: 0 });
    const again = await recover(w, w.exchange, { mode: 'restore', maxStateAgeSeconds: 300 });
    expect(again).toMatchObject({ requested: 'restore', mode: 'sync', stateAgeSeconds: 600, errors: [] });
    expect(typesAndSources(await eventsAfter(w.store, before)).at(-1)).toEqual(['Heartbeat', 'recovery']);
  });

  it('restore: trusts the log; the outside is not even read', async () => {
    const w = await crashedWorld(600);
    const before = (await w.store.head()).position;
    const positions = structuredClone([...(await w.tracker.state()).positions]);
    const { system, calls } = counting(w.exchange);
    const outcome = await recover(w, system, { mode: 'restore', maxStateAgeSeconds: 3600, processName: 'bot-7' });
    expect(outcome).toMatchObject({ requested: 'restore', mode: 'restore', stateAgeSeconds: 600, closed: [], errors: [] });
    expect(outcome.report).toBeUndefined();
    expect(calls).toEqual({ list: 0, get: 0, close: [] });
    const appended = await eventsAfter(w.store, before);
    expect(typesAndSources(appended)).toEqual([['Heartbeat', 'recovery']]);
    expect(appended[0]!.data).toMatchObject({ process: 'bot-7', at: w.now().toISOString() });
    expect([...(await w.tracker.state()).positions]).toEqual(positions);
  });

  it('restore with a heartbeat older than maxStateAgeSeconds runs sync instead', async () => {
    const w = await crashedWorld(7200);
    const outcome = await recover(w, w.exchange, { mode: 'restore', maxStateAgeSeconds: 3600 });
    expect(outcome).toMatchObject({ requested: 'restore', mode: 'sync', stateAgeSeconds: 7200 });
    expect(outcome.report?.orphans).toMatchObject([{ positionId: 'HAND-1', outcome: 'adopted' }]);
    expect(await w.tracker.get('BOT-2')).toMatchObject({ status: 'EXITED', closedBy: 'phantom' });
  });

  it('restore of a book that never wrote a heartbeat runs sync; an empty book restores as it is', async () => {
    const w = await crashedWorld(null);
    const outcome = await recover(w, w.exchange, { mode: 'restore' });
    expect(outcome).toMatchObject({ requested: 'restore', mode: 'sync', stateAgeSeconds: null });
    expect(outcome.report).toBeDefined();

    const fresh = await openWorld();
    const { system, calls } = counting(fresh.exchange);
    const empty = await recover(fresh, system, { mode: 'restore' });
    expect(empty).toMatchObject({ mode: 'restore', stateAgeSeconds: null });
    expect(calls.list).toBe(0);
  });

  it('close_all: closes everything outside once and flattens the book', async () => {
    const w = await crashedWorld(600);
    const dust = w.exchange.dustReward();
    const before = (await w.store.head()).position;
    const outcome = await recover(w, w.exchange, { mode: 'close_all' });
    expect(outcome).toMatchObject({ requested: 'close_all', mode: 'close_all', errors: [] });
    expect([...outcome.closed].sort()).toEqual(['BOT-1', 'HAND-1', dust].sort());
    expect(w.exchange.truth()).toEqual([]);
    expect(w.exchange.closeLog()).toEqual({ closes: { 'BOT-1': 1, 'HAND-1': 1, [dust]: 1 }, badCloses: [] });
    const state = await w.tracker.state();
    expect(state.open).toBe(0);
    expect([...state.positions.values()].map((p) => [p.id, p.status])).toEqual([
      ['BOT-1', 'EXITED'],
      ['BOT-2', 'EXITED'],
    ]);
    expect(state.orphans.size).toBe(0);
    const appended = await eventsAfter(w.store, before);
    expect(typesAndSources(appended).sort()).toEqual(
      [
        ['PositionExited', 'recovery'],
        ['OrphanClosed', 'recovery'],
        ['OrphanClosed', 'recovery'],
        ['PhantomCleared', 'recovery'],
        ['Heartbeat', 'recovery'],
      ].sort(),
    );
    expect(appended.at(-1)?.type).toBe('Heartbeat');
    expect(appended.find((e) => e.type === 'PositionExited')?.data).toMatchObject({
      positionId: 'BOT-1',
      reason: 'recovery: close_all',
      full: true,
    });
  });

  it('close_all: a close refused outside keeps that position IN here, and says why', async () => {
    const w = await crashedWorld(600);
    const external: ExternalSystem = {
      listPositions: () => w.exchange.listPositions(),
      closePosition: async (id) => {
        if (id === 'BOT-1') throw new ExternalError('closePosition(BOT-1): market closed', 'rejected');
        return w.exchange.closePosition(id);
      },
    };
    const before = (await w.store.head()).position;
    const outcome = await recover(w, external, { mode: 'close_all' });
    expect(outcome.closed).toEqual(['HAND-1']);
    expect(outcome.errors).toEqual(['closePosition(BOT-1): market closed']);
    expect(await w.tracker.get('BOT-1')).toMatchObject({ status: 'IN' });
    expect(await w.tracker.get('BOT-2')).toMatchObject({ status: 'EXITED', closedBy: 'phantom' });
    // What was done is in the log; no heartbeat claims the book is current.
    expect(typesAndSources(await eventsAfter(w.store, before)).map(([type]) => type)).not.toContain('Heartbeat');
  });

  it('manual: the gate stays locked until a RecoveryAcknowledged is appended after the start', async () => {
    const w = await crashedWorld(600);
    // An acknowledgement from an earlier incident must not open this gate.
    w.advance(-60);
    await w.tracker.handler.handle({ type: 'RequireRecovery', reason: 'an earlier incident' });
    await w.tracker.acknowledgeRecovery();
    w.advance(60);
    const before = await allEvents(w.store);
    const { system, calls } = counting(w.exchange);
    const outcome = await recover(w, system, { mode: 'manual' });
    expect(outcome).toMatchObject({ requested: 'manual', mode: 'manual', closed: [], errors: [] });
    expect(outcome.report).toBeUndefined();
    expect(calls).toEqual({ list: 0, get: 0, close: [] });
    expect(typesAndSources((await allEvents(w.store)).slice(before.length))).toEqual([
      ['RecoveryRequired', 'recovery'],
      ['Heartbeat', 'recovery'],
    ]);

    expect(outcome.gate.locked).toBe(true);
    expect(await outcome.gate.check()).toBe(false);
    w.advance(5);
    // Neither a heartbeat nor one from a process called 'operator' opens it: only the acknowledgement.
    await w.tracker.handler.handle({ type: 'RecordHeartbeat', process: 'operator' });
    expect(await outcome.gate.check()).toBe(false);
    expect(outcome.gate.locked).toBe(true);

    w.advance(5);
    await w.tracker.acknowledgeRecovery({ reason: 'checked the broker' });
    expect(await outcome.gate.check()).toBe(true);
    expect(outcome.gate.locked).toBe(false);
  });
});
